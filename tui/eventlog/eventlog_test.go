package eventlog_test

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/eventlog"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	os.Exit(m.Run())
}

func entries(n int) []flowstore.LogEntry {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	levels := []flowstore.Level{flowstore.LevelInfo, flowstore.LevelWarn, flowstore.LevelError, flowstore.LevelDebug}
	var es []flowstore.LogEntry
	for i := range n {
		e := flowstore.LogEntry{Seq: uint64(i + 1), Time: at.Add(time.Duration(i) * time.Second), Level: levels[i%4], Source: "proxy", Msg: "entry " + strings.Repeat("x", i%3) + "\x1b[2J"}
		if i%4 == 2 {
			e.FlowID = "abc123"
		}
		es = append(es, e)
	}
	return es
}

func TestView(t *testing.T) {
	m := eventlog.New(keys.Default().EventLog, theme.Default().Styles())
	m.SetSize(70, 6)
	m.SetEntries(entries(12))
	t.Run("tail", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	t.Run("top", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	// Not at the bottom: new entries do not move the view.
	m.SetEntries(entries(20))
	if !strings.Contains(m.View(), "15:04:05.000") {
		t.Errorf("view moved while scrolled up:\n%s", m.View())
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	m.SetEntries(entries(30))
	if !strings.Contains(m.View(), "15:04:34.000") {
		t.Errorf("view does not follow the newest at the bottom:\n%s", m.View())
	}
}

func TestIntents(t *testing.T) {
	m := eventlog.New(keys.Default().EventLog, theme.Default().Styles())
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("z")})
	if cmd == nil || cmd() != (eventlog.ClearMsg{}) {
		t.Error("z does not ask to clear")
	}
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if cmd == nil || cmd() != (eventlog.BackMsg{}) {
		t.Error("esc does not go back")
	}
}

// TestLongEntriesWrap: a long message is read whole, wrapped under its
// first column, every line within the width; scrolling goes by lines.
func TestLongEntriesWrap(t *testing.T) {
	m := eventlog.New(keys.Default().EventLog, theme.Default().Styles())
	m.SetSize(60, 8)
	long := "Chromium exited at once: Missing X server or $DISPLAY. It needs a display; start it in a desktop session, or run it headless yourself, or open http://interceptor.tui/ through the proxy"
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	m.SetEntries([]flowstore.LogEntry{{Seq: 1, Time: at, Level: flowstore.LevelWarn, Source: "browser", Msg: long}})
	v := m.View()
	var text []string
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
		if i > 0 && strings.TrimSpace(l) != "" {
			if i > 1 && !strings.HasPrefix(l, strings.Repeat(" ", 20)) {
				t.Errorf("continuation %q is not under the message", l)
			}
			text = append(text, strings.TrimSpace(l))
		}
	}
	got := strings.Join(text, " ")
	if !strings.Contains(got, long) {
		t.Fatalf("the message is not all there:\n%s", v)
	}
	if n := len(text); n < 3 {
		t.Fatalf("%d lines for a long message", n)
	}
	m.SetSize(60, 3) // two rows: scroll by line
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
	if first := strings.Split(m.View(), "\n")[1]; strings.Contains(first, "15:04:05") {
		t.Errorf("j did not scroll by one line: %q", first)
	}
}
