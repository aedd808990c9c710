package flowlist_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	os.Exit(m.Run())
}

var st = theme.Default().Styles()

func TestRow(t *testing.T) {
	edited := flowtest.New(flowtest.URL("https://api.example.com/v1/users/42/orders/history?page=2"), flowtest.Method("PUT"))
	edited.KeepOriginal()
	tests := []struct {
		name  string
		flow  *flowstore.Flow
		width int
		sel   bool
		want  string
	}{
		{"done", flowtest.New(), 100, false,
			"    15:04:05 GET    http://example.test          /path                    200 text          5B   7ms"},
		{"selected", flowtest.New(), 80, true,
			">   15:04:05 GET    http://example.test     /path                200    5B   7ms"},
		{"pending", flowtest.New(flowtest.NoResponse(), flowtest.Method("POST")), 80, false,
			"    15:04:05 POST   http://example.test     /path                  …            "},
		{"failed", flowtest.New(flowtest.Failed("dial tcp: connection refused")), 80, false,
			"    15:04:05 GET    http://example.test     /path                ERR         7ms"},
		{"marked replay", func() *flowstore.Flow {
			f := flowtest.New(flowtest.Marked(), flowtest.Status(404))
			f.ReplayOf = "abc"
			return f
		}(), 80, false,
			" ●↻ 15:04:05 GET    http://example.test     /path                404    5B   7ms"},
		{"edited, long path cut in the middle", edited, 80, false,
			"  ✎ 15:04:05 PUT    https://api.example.com /v1/users…ry?page=2  200    5B   7ms"},
		{"paused", func() *flowstore.Flow {
			f := flowtest.New(flowtest.NoResponse())
			f.State, f.Paused, f.Since = flowstore.StatePaused, flowstore.PhaseRequest, flowtest.Base.Add(48*time.Second)
			return f
		}(), 80, false,
			"    15:04:05 GET    http://example.test     /path               ‖req       12.0s"},
		{"standing mock", func() *flowstore.Flow {
			f := flowtest.New()
			f.KeepOriginal()
			f.Mock = &flowstore.MockRule{}
			return f
		}(), 80, false,
			"  ◆ 15:04:05 GET    http://example.test     /path                200    5B   7ms"},
		{"narrow", flowtest.New(flowtest.RespBody("application/json", []byte(`{}`))), 50, false,
			"    GET    example.test   /path          200    2B"},
		{"hostile path bytes", func() *flowstore.Flow {
			f := flowtest.New()
			f.Request.Path = "/a\x1b[2J\u009bb"
			return f
		}(), 80, false,
			`    15:04:05 GET    http://example.test     /a\x1b[2J\u009bb     200    5B   7ms`},
		{"hostile method and host", func() *flowstore.Flow {
			f := flowtest.New()
			f.Request.Method = "G\x1b]0;x\x07"
			f.Request.Host = "ev\x1bil"
			return f
		}(), 80, false,
			`    15:04:05 G\x1b… http://ev\x1bil         /path                200    5B   7ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := flowstore.Summarize(tt.flow)
			got := flowlist.Row(sum, flowlist.NewLayout(tt.width), st, tt.sel, flowtest.Base.Add(time.Minute))
			if got != tt.want {
				t.Errorf("Row:\n got %q\nwant %q", got, tt.want)
			}
			if tt.flow.State != flowstore.StatePaused { // a paused flow is never spooled
				spooled := *sum
				spooled.Flow = nil
				if g := flowlist.Row(&spooled, flowlist.NewLayout(tt.width), st, tt.sel, flowtest.Base.Add(time.Minute)); g != got {
					t.Errorf("Row of the spooled flow:\n got %q\nwant %q", g, got)
				}
			}
			if w := ansi.StringWidth(got); w != tt.width {
				t.Errorf("width %d, want %d", w, tt.width)
			}
		})
	}
}

func TestLayoutFitsEveryWidth(t *testing.T) {
	f := flowtest.New(flowtest.URL("https://a-very-long-host-name.example.com/some/really/long/path/that/goes/on?and=on"))
	for w := 30; w <= 250; w++ {
		got := flowlist.Row(flowstore.Summarize(f), flowlist.NewLayout(w), st, false, time.Time{})
		if n := ansi.StringWidth(got); n != w {
			t.Fatalf("width %d: row is %d cells: %q", w, n, got)
		}
		if h := flowlist.Header(flowlist.NewLayout(w), view.OrderTime, false, st); ansi.StringWidth(h) > w {
			t.Fatalf("width %d: header is %d cells: %q", w, ansi.StringWidth(h), h)
		}
	}
}

func TestMiddle(t *testing.T) {
	tests := []struct {
		in   string
		w    int
		want string
	}{
		{"/short", 10, "/short"},
		{"/api/v1/users/42/orders?page=2", 15, "/api/v1…?page=2"},
		{"/api/v1/users/42/orders?page=2", 1, "…"},
		{"/päth/ünïcode/strasse", 9, "/pät…asse"},
		{"", 5, ""},
	}
	for _, tt := range tests {
		if got := flowlist.Middle(tt.in, tt.w); got != tt.want {
			t.Errorf("Middle(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
		if got := flowlist.Middle(tt.in, tt.w); ansi.StringWidth(got) > tt.w {
			t.Errorf("Middle(%q, %d) is too wide: %q", tt.in, tt.w, got)
		}
	}
}

func TestSizeAndDuration(t *testing.T) {
	sizes := map[int64]string{0: "0B", 512: "512B", 1536: "1.5k", 120 << 10: "120k", 3 << 20: "3.0M", 100 << 20: "100M", 3 << 30: "3.0G"}
	for n, want := range sizes {
		if got := flowstore.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q (the list's size column)", n, got, want)
		}
	}
	durs := map[time.Duration]string{
		500 * time.Microsecond: "<1ms", 7 * time.Millisecond: "7ms", 1234 * time.Millisecond: "1.23s",
		12300 * time.Millisecond: "12.3s", 123 * time.Second: "123s", 2000 * time.Second: "33m",
	}
	for d, want := range durs {
		if got := flowlist.Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTypeCell(t *testing.T) {
	for ct, want := range map[string]string{
		"application/json; charset=utf-8": "json", "application/vnd.api+json": "json",
		"text/html": "html", "application/javascript": "js", "image/png": "img/png",
		"application/x-www-form-urlencoded": "form", "": "",
	} {
		f := flowtest.New(flowtest.RespBody(ct, []byte("x")))
		if ct == "" {
			f.Response.Headers.Del("Content-Type")
		}
		if got := flowlist.TypeCell(flowstore.Summarize(f), 10); got != want {
			t.Errorf("TypeCell(%q) = %q, want %q", ct, got, want)
		}
	}
}

func TestStatusCell(t *testing.T) {
	f := flowtest.New(flowtest.Status(503))
	if s, _ := flowlist.StatusCell(flowstore.Summarize(f), st); s != "503" {
		t.Errorf("status = %q", s)
	}
	f.State = flowstore.StateKilled
	if s, _ := flowlist.StatusCell(flowstore.Summarize(f), st); !strings.HasPrefix(s, "KILL") {
		t.Errorf("killed = %q", s)
	}
}

// TestHeaderArrowKeepsLabels: the order arrow never cuts a column's label
// (METHO▲, COD▲): it goes after a label that leaves room, else in the
// space before it.
func TestHeaderArrowKeepsLabels(t *testing.T) {
	for _, w := range []int{50, 80, 120} {
		l := flowlist.NewLayout(w)
		for _, tc := range []struct {
			o     view.Order
			label string
		}{{view.OrderTime, "TIME"}, {view.OrderMethod, "METHOD"}, {view.OrderURL, "HOST"},
			{view.OrderStatus, "CODE"}, {view.OrderSize, "SIZE"}, {view.OrderDuration, "DUR"}} {
			for _, rev := range []bool{false, true} {
				h := flowlist.Header(l, tc.o, rev, st)
				arrow := "▲"
				if rev {
					arrow = "▼"
				}
				if hidden := (w < 72 && tc.o == view.OrderTime) || (w < 60 && tc.o == view.OrderDuration); hidden {
					continue // a column narrow screens leave out; the status line names the order
				}
				if strings.Count(h, arrow) != 1 {
					t.Errorf("width %d, %s: %d arrows in %q", w, tc.label, strings.Count(h, arrow), h)
				}
				if !strings.Contains(h, tc.label+arrow) && !strings.Contains(h, arrow+tc.label) {
					t.Errorf("width %d: the label %s is cut or not beside the arrow: %q", w, tc.label, h)
				}
				if n := ansi.StringWidth(h); n > w {
					t.Errorf("width %d: header %d wide", w, n)
				}
			}
		}
	}
}
