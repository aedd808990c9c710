package flowview_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	os.Exit(m.Run())
}

var st = theme.Default().Styles()

// run executes cmd and feeds what it produces back into m until nothing is
// left, as the Bubble Tea loop would; intent messages are returned.
func run(t *testing.T, m flowview.Model, cmd tea.Cmd) (flowview.Model, []tea.Msg) {
	t.Helper()
	var out []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case nil:
			continue
		case flowview.BackMsg, flowview.SearchPromptMsg, flowview.FlowActionMsg:
			out = append(out, msg)
			continue
		}
		var next tea.Cmd
		m, next = m.Update(msg)
		queue = append(queue, next)
	}
	return m, out
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "G":
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(t *testing.T, m flowview.Model, ks ...string) (flowview.Model, []tea.Msg) {
	t.Helper()
	var all []tea.Msg
	for _, k := range ks {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		var out []tea.Msg
		m, out = run(t, m, cmd)
		all = append(all, out...)
	}
	return m, all
}

func open(t *testing.T, f *flowstore.Flow, w, h int) flowview.Model {
	t.Helper()
	m := flowview.New(keys.Default().FlowView, st)
	m.SetSize(w, h)
	m, _ = run(t, m, m.Open(f))
	return m
}

func pngBytes(w, h int) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)))
	return buf.Bytes()
}

func apiFlow() *flowstore.Flow {
	f := flowtest.New(
		flowtest.Method("POST"), flowtest.URL("https://api.example.com/v1/users?active=1"),
		flowtest.ReqBody("application/x-www-form-urlencoded", []byte("name=Ada+Lovelace&lang=en")),
		flowtest.Status(201),
		flowtest.RespBody("application/json", []byte(`{"id":42,"name":"Ada Lovelace","roles":["admin","dev"],"active":true,"manager":null}`)),
		flowtest.RespHeader("Set-Cookie", "session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef; Path=/; HttpOnly"),
	)
	f.Client.TLS = &flowstore.TLSInfo{Version: "TLS 1.3", SNI: "api.example.com", ALPN: "h2"}
	f.Server = flowstore.Server{Addr: "api.example.com:443", IP: "93.184.216.34:443",
		TLS: &flowstore.TLSInfo{Version: "TLS 1.3", ALPN: "h2", CertSubject: "CN=api.example.com"}}
	b := flowtest.Base
	f.Timings = flowstore.Timings{Start: b, DNSStart: b, DNSDone: b.Add(2 * time.Millisecond),
		ConnectStart: b.Add(2 * time.Millisecond), ConnectDone: b.Add(12 * time.Millisecond),
		TLSStart: b.Add(12 * time.Millisecond), TLSDone: b.Add(30 * time.Millisecond),
		RequestSent: b.Add(31 * time.Millisecond), FirstByte: b.Add(80 * time.Millisecond), End: b.Add(100 * time.Millisecond)}
	f.ID = "0123456789abcdef"
	f.BytesIn, f.BytesOut = 420, 1337
	f.Comment = "the signup call"
	return f
}

func TestTabs(t *testing.T) {
	m := open(t, apiFlow(), 80, 24)
	if m.Tab() != flowview.TabRequest {
		t.Fatalf("opens on %v", m.Tab())
	}
	t.Run("request", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	m, _ = press(t, m, "tab")
	t.Run("response json", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	m, _ = press(t, m, "l")
	t.Run("details", func(t *testing.T) {
		m := m
		m.SetSize(80, 40)
		golden.RequireEqual(t, []byte(m.View()))
	})
	m, _ = press(t, m, "h", "h")
	if m.Tab() != flowview.TabRequest {
		t.Fatalf("h twice from details = %v", m.Tab())
	}
	_, out := press(t, m, "q")
	if !reflect.DeepEqual(out, []tea.Msg{flowview.BackMsg{}}) {
		t.Fatalf("q = %v", out)
	}
}

func TestBodyModes(t *testing.T) {
	img := flowtest.New(flowtest.RespBody("image/png", pngBytes(320, 200)))
	bin := flowtest.New(flowtest.RespBody("application/octet-stream", append([]byte("\x00\x01binary\xff"), []byte("tail of the data")...)))
	for _, tc := range []struct {
		name string
		f    *flowstore.Flow
		keys []string
	}{
		{"image", img, []string{"tab"}},
		{"binary as hex", bin, []string{"tab"}},
		{"json by hand then hex", apiFlow(), []string{"tab", "m", "m", "m", "m", "m", "m", "m", "m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := open(t, tc.f, 80, 16)
			m, _ = press(t, m, tc.keys...)
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
}

func TestSearchWholeBody(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString("line ")
		if i == 10 || i == 4000 || i == 4999 {
			b.WriteString("NEEDLE ")
		}
		b.WriteString("filler\n")
	}
	f := flowtest.New(flowtest.RespBody("text/plain", []byte(b.String())))
	m := open(t, f, 60, 12)
	m, out := press(t, m, "tab", "/")
	if !reflect.DeepEqual(out, []tea.Msg{flowview.SearchPromptMsg{}}) {
		t.Fatalf("/ = %v", out)
	}
	m, _ = run(t, m, m.Search("needle"))
	if q, n := m.Query(); q != "needle" || n != 3 {
		t.Fatalf("search found %d", n)
	}
	m, _ = press(t, m, "n")
	golden.RequireEqual(t, []byte(m.View()))
	m, _ = press(t, m, "n", "n") // wraps to the first
	if !strings.Contains(m.View(), "1 of 3") {
		t.Fatalf("wrap around:\n%s", m.View())
	}
	m, _ = press(t, m, "N")
	if !strings.Contains(m.View(), "3 of 3") || !strings.Contains(m.View(), "NEEDLE") {
		t.Fatalf("N:\n%s", m.View())
	}
}

// A body of 100 MiB opens at once as a preview with its size; the real
// rendering comes back later as a message.
func TestHugeBodyOpensAtOnce(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 100<<20/64)
	f := flowtest.New(flowtest.RespBody("text/plain", data))
	m := flowview.New(keys.Default().FlowView, st)
	m.SetSize(80, 10)
	start := time.Now()
	cmd := m.Open(f)
	m, _ = m.Update(keyMsg("tab"))
	v := m.View()
	if d := time.Since(start); d > time.Second { // decoding 100 MiB on the spot takes several
		t.Errorf("opening took %v", d)
	}
	if !strings.Contains(v, "100M") || !strings.Contains(v, "0123456789abcdef") {
		t.Fatalf("preview:\n%s", v)
	}
	m, _ = run(t, m, cmd)
	if d := m.Doc(1); d == nil || d.Lines() != 100<<20/64 {
		t.Fatalf("rendered doc has %d lines", m.Doc(1).Lines())
	}
	m, _ = press(t, m, "G")
	if !strings.Contains(m.View(), "· end") {
		t.Fatalf("bottom:\n%s", m.View())
	}
}

func TestStaleResultsDropped(t *testing.T) {
	a := flowtest.New(flowtest.RespBody("application/json", []byte(`{"a":1}`)))
	b := flowtest.New(flowtest.RespBody("text/plain", []byte("bee")))
	m := flowview.New(keys.Default().FlowView, st)
	m.SetSize(60, 10)
	cmdA := m.Open(a)
	m.Close()
	cmdB := m.Open(b)
	m, _ = run(t, m, cmdB)
	m, _ = run(t, m, cmdA) // arrives late: must not replace b's body
	if d := m.Doc(1); d == nil || d.Mode != body.Text {
		t.Fatalf("stale render applied: %+v", d)
	}
}

func TestBodyUpdatedWhileOpen(t *testing.T) {
	f := flowtest.New(flowtest.NoResponse())
	m := open(t, f, 60, 10)
	m, _ = press(t, m, "tab")
	if !strings.Contains(m.View(), "waiting for the response") {
		t.Fatalf("pending:\n%s", m.View())
	}
	g := f.Clone()
	g.Response = &flowstore.Response{Status: 200, Proto: "HTTP/1.1", Headers: flowstore.Headers{{Name: "Content-Type", Value: "application/json"}}, Body: flowstore.NewBody([]byte(`{"late":true}`))}
	g.State = flowstore.StateDone
	m, _ = run(t, m, m.SetFlow(g))
	if !strings.Contains(m.View(), `"late": true`) {
		t.Fatalf("late body:\n%s", m.View())
	}
}

func TestResizeRewraps(t *testing.T) {
	f := flowtest.New(flowtest.RespBody("text/plain", []byte(strings.Repeat("x", 100))))
	m := open(t, f, 80, 10)
	before := m.Doc(1).Lines()
	m, _ = run(t, m, m.SetSize(40, 10))
	if after := m.Doc(1).Lines(); after <= before {
		t.Fatalf("lines %d → %d after narrowing", before, after)
	}
}

func BenchmarkScrollBigJSON(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for buf.Len() < 5<<20 {
		buf.WriteString(`{"id":12345,"name":"somebody","tags":["a","b"],"ok":true},`)
	}
	buf.WriteString("{}]")
	f := flowtest.New(flowtest.RespBody("application/json", buf.Bytes()))
	m := flowview.New(keys.Default().FlowView, st)
	m.SetSize(160, 50)
	cmd := m.Open(f)
	m, _ = m.Update(keyMsg("tab"))
	for msg := cmd(); msg != nil; {
		if bm, ok := msg.(tea.BatchMsg); ok {
			for _, c := range bm {
				if c != nil {
					m, _ = m.Update(c())
				}
			}
			break
		}
		m, _ = m.Update(msg)
		break
	}
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	pg := tea.KeyMsg{Type: tea.KeyPgDown}
	b.ResetTimer()
	for b.Loop() {
		m, _ = m.Update(pg)
		_ = m.View()
	}
}

func TestOriginalAndEdited(t *testing.T) {
	f := apiFlow()
	f.KeepOriginal()
	f.Request = f.Request.Clone()
	f.Request.Headers.Add("X-Debug", "1")
	f.Request.Body = flowstore.NewBody([]byte("name=Grace+Hopper&lang=en"))
	m := open(t, f, 100, 24)
	if v := m.View(); !strings.Contains(v, "[edited]") || !strings.Contains(v, "X-Debug") || !strings.Contains(v, "Grace") {
		t.Fatalf("edited message not shown:\n%s", v)
	}
	if !m.KeyMap().Original.Enabled() {
		t.Fatal("o disabled on an edited flow")
	}
	m, _ = press(t, m, "o")
	v := m.View()
	if !m.ShowingOriginal() || !strings.Contains(v, "[ORIGINAL]") || strings.Contains(v, "X-Debug") || !strings.Contains(v, "Ada") {
		t.Fatalf("original not shown:\n%s", v)
	}
	m, _ = press(t, m, "o")
	if v := m.View(); m.ShowingOriginal() || !strings.Contains(v, "Grace") {
		t.Fatalf("edited not shown again:\n%s", v)
	}
	if open(t, apiFlow(), 100, 24).KeyMap().Original.Enabled() {
		t.Error("o enabled on a flow that was never edited")
	}
}

func TestFlowActionsAndPausedBanner(t *testing.T) {
	f := apiFlow()
	f.Response = nil
	f.State, f.Paused, f.Since = flowstore.StatePaused, flowstore.PhaseRequest, flowtest.Base
	m := open(t, f, 100, 24)
	m.SetNow(flowtest.Base.Add(75 * time.Second))
	if v := m.View(); !strings.Contains(v, "‖ paused at the request for 1m15s") {
		t.Fatalf("no paused banner:\n%s", v)
	}
	_, msgs := press(t, m, "a")
	if len(msgs) != 1 || msgs[0] != (flowview.FlowActionMsg{Action: keys.ActResume, ID: f.ID}) {
		t.Fatalf("a = %#v", msgs)
	}
}

// TestControlBytesInBodyWrap: a text body full of control bytes is shown
// escaped (\x1b), and its lines are cut where the escapes make them full:
// no line is wider than the screen, none is cut short, nothing is lost.
func TestControlBytesInBodyWrap(t *testing.T) {
	line := strings.Repeat("ab\x1b[2J\x07\u009b\xff", 6)
	f := flowtest.New(flowtest.RespBody("text/plain", []byte(line+"\n")))
	m := open(t, f, 40, 30)
	m, _ = press(t, m, "tab")
	var body []string
	for _, l := range strings.Split(m.View(), "\n") {
		if w := lipgloss.Width(l); w > 40 {
			t.Errorf("line %q is %d cells wide, the screen 40", l, w)
		}
		for _, c := range []byte(l) {
			if c < 0x20 || c == 0x7f {
				t.Errorf("raw control byte %#x in %q", c, l)
			}
		}
		if strings.HasPrefix(l, " ab") || strings.HasPrefix(l, " [2J") || strings.HasPrefix(l, ` \`) {
			body = append(body, strings.TrimPrefix(l, " "))
		}
	}
	got := strings.Join(body, "")
	want := strings.Repeat(`ab\x1b[2J\x07\u009b\xff`, 6)
	if strings.TrimRight(got, " ") != want {
		t.Errorf("body shown as\n%q\nwant\n%q", got, want)
	}
}

// TestBodyTitleAndPosition: the body's title names what the body is, apart
// from the view chosen (JSON shown as a form is still JSON, and the form
// view says the body is no form); the footer says top, a share, or end.
func TestBodyTitleAndPosition(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range 60 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"n":%d}`, i)
	}
	b.WriteString(`]}`)
	f := flowtest.New(flowtest.RespBody("application/json", []byte(b.String())))
	m := open(t, f, 80, 20)
	m, _ = press(t, m, "tab")
	v := m.View()
	if !strings.Contains(v, "body: json, ") || !strings.Contains(v, "view auto: json") || !strings.Contains(v, "· top") {
		t.Fatalf("opened:\n%s", v)
	}
	m, _ = press(t, m, "j", "j", "j", "j", "j", "j", "j", "j", "j", "j")
	if v := m.View(); !regexp.MustCompile(`· \d+%`).MatchString(v) || strings.Contains(v, "· top") {
		t.Errorf("scrolled a little:\n%s", v)
	}
	m, _ = press(t, m, "G")
	if v := m.View(); !strings.Contains(v, "· end") {
		t.Errorf("at the bottom:\n%s", v)
	}
	m, _ = press(t, m, "g", "m", "m", "m", "m") // auto → json → xml → html → form
	v = m.View()
	if !strings.Contains(v, "body: json, ") || !strings.Contains(v, "view form") || !strings.Contains(v, "not form: not an urlencoded form") {
		t.Errorf("JSON asked to show as a form:\n%s", v)
	}
}
