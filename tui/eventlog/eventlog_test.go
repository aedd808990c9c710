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
