// Package eventlog shows the event log: what the proxy, scripts and the UI
// had to say, newest at the bottom, with time, level and source. It reads
// entries the root hands it and asks the root to clear the log (ClearMsg);
// it imports no other component.
package eventlog

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

type (
	// ClearMsg asks the root to clear the event log.
	ClearMsg struct{}
	// BackMsg asks to leave the event log.
	BackMsg struct{}
)

// Model is the event log view.
type Model struct {
	keys    keys.EventLog
	st      *theme.Styles
	width   int
	height  int
	entries []flowstore.LogEntry
	off     int  // first line shown
	tail    bool // stick to the newest entry
}

// New returns an empty event log view.
func New(km keys.EventLog, st *theme.Styles) Model {
	return Model{keys: km, st: st, tail: true}
}

// SetSize sets the view's size; the first line is the title.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

// SetEntries replaces the entries shown, oldest first.
func (m *Model) SetEntries(es []flowstore.LogEntry) {
	m.entries = es
	m.clamp()
}

// KeyMap is the view's key map.
func (m Model) KeyMap() keys.EventLog { return m.keys }

func (m Model) rows() int { return max(m.height-1, 1) }

func (m *Model) clamp() {
	maxOff := max(len(m.entries)-m.rows(), 0)
	if m.tail {
		m.off = maxOff
	}
	m.off = min(max(m.off, 0), maxOff)
}

func (m *Model) scrollTo(off int) {
	m.off = off
	m.tail = false
	m.clamp()
	m.tail = m.off == max(len(m.entries)-m.rows(), 0)
}

// Update handles keys and the mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k := m.keys
	if off, ok := k.Scroll(msg, m.off, m.rows(), len(m.entries)); ok {
		m.scrollTo(off)
		return m, nil
	}
	if msg, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(msg, k.Clear):
			return m, func() tea.Msg { return ClearMsg{} }
		case key.Matches(msg, k.Back):
			return m, func() tea.Msg { return BackMsg{} }
		}
	}
	return m, nil
}

// Line renders one entry, at most width cells.
func Line(e flowstore.LogEntry, width int, st *theme.Styles) string {
	lvl := strings.ToUpper(e.Level.String())
	for len(lvl) < 5 {
		lvl += " "
	}
	switch e.Level {
	case flowstore.LevelError:
		lvl = st.Error.Render(lvl)
	case flowstore.LevelWarn:
		lvl = st.Warn.Render(lvl)
	case flowstore.LevelDebug:
		lvl = st.Muted.Render(lvl)
	}
	// Messages quote what came from the network and from scripts:
	// escaped (\x1b), never obeyed.
	msg := flowstore.EscapeControl(e.Msg)
	if e.FlowID != "" {
		msg += st.Muted.Render(" (flow " + e.FlowID + ")")
	}
	s := " " + st.Muted.Render(e.Time.Local().Format("15:04:05.000")) + " " + lvl + " " + st.Accent.Render("["+flowstore.EscapeControl(e.Source)+"]") + " " + msg
	return ansi.Truncate(s, width, "…")
}

// View renders the title and the visible entries, exactly height lines.
func (m Model) View() string {
	if m.height <= 0 {
		return ""
	}
	var b strings.Builder
	title := "Event log"
	if n := len(m.entries); n > 0 {
		title += " (" + strconv.Itoa(n) + ")"
	}
	b.WriteString(m.st.Header.Render(ansi.Truncate(" "+title, m.width, "…")))
	rows := m.height - 1
	if len(m.entries) == 0 && rows > 0 {
		b.WriteString("\n" + m.st.Muted.Render(" Nothing logged yet."))
		rows--
	}
	for i := 0; i < rows; i++ {
		b.WriteByte('\n')
		if j := m.off + i; j < len(m.entries) {
			b.WriteString(Line(m.entries[j], m.width, m.st))
		}
	}
	return b.String()
}
