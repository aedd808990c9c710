package statusbar_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func TestView(t *testing.T) {
	k := keys.Default()
	for _, tc := range []struct {
		name  string
		width int
		info  statusbar.Info
	}{
		{"plain", 80, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 12, Total: 12, Order: "time"}},
		{"busy", 120, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 3, Total: 100000, Filter: "~d api & ~m POST",
			MarkedOnly: true, Breakpoints: []string{"~q & ~d pay"}, Paused: 2, PausedFor: 75 * time.Second, Mocks: 1, Marked: 5, Follow: true, Order: "status", Reverse: true}},
		{"narrow", 40, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 3, Total: 100000, Filter: "~d a-very-long-filter-expression"}},
		{"spool", 100, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 1_000_000, Total: 1_000_000, Order: "time",
			Memory: &statusbar.Memory{Used: 212 << 20, Budget: 512 << 20, Spool: 1288 << 20, Spooled: 840_000}}},
		{"spool, narrow", 60, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 1_000_000, Total: 1_000_000, Order: "time",
			Memory: &statusbar.Memory{Used: 212 << 20, Budget: 512 << 20, Spool: 1288 << 20, Spooled: 840_000}}},
		{"spool, nothing spooled yet", 100, statusbar.Info{ListenAddr: "127.0.0.1:8080", Shown: 12, Total: 12, Order: "time",
			Memory: &statusbar.Memory{Used: 30 << 20, Budget: 512 << 20}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := statusbar.New(theme.Default().Styles())
			m.SetWidth(tc.width)
			m.SetInfo(tc.info)
			m.SetHints([]key.Binding{k.FlowList.Open, k.FlowList.Filter, k.FlowList.Mark, k.Global.Help, k.FlowList.Quit})
			v := m.View()
			for _, l := range strings.Split(v, "\n") {
				if w := lipgloss.Width(l); w > tc.width {
					t.Errorf("line is %d wide: %q", w, l)
				}
			}
			golden.RequireEqual(t, []byte(v))
		})
	}
}

func TestFlashClears(t *testing.T) {
	m := statusbar.New(theme.Default().Styles())
	m.SetWidth(60)
	m.NoticeFor, m.ErrorFor = time.Millisecond, time.Millisecond
	cmd := m.Flash("copied", false)
	if m.Flashing() != "copied" || !strings.Contains(m.HintLine(), "copied") {
		t.Fatalf("flash not shown: %q", m.HintLine())
	}
	first := cmd // its timer fires later
	m.Flash("second", true)
	m, _ = m.Update(first()) // the first flash's timer must not clear the second
	if m.Flashing() != "second" {
		t.Fatalf("an old timer cleared a newer flash")
	}
	second := m.Flash("third", false)
	m, _ = m.Update(second())
	if m.Flashing() != "" {
		t.Fatalf("flash not cleared: %q", m.Flashing())
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := statusbar.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1.0k", 8400: "8.4k", 840_000: "840k", 1_234_567: "1.2M"} {
		if got := statusbar.Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
