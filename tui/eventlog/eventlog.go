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
	lines   []string // the entries' screen lines: a long entry wraps
	cache   *lineCache
	off     int  // first line shown
	tail    bool // stick to the newest entry
}

// lineCache keeps each entry's lines at one width: entries never change,
// and SetEntries hands the whole log over at every new entry.
type lineCache struct {
	width int
	lines map[uint64][]string
}

// New returns an empty event log view.
func New(km keys.EventLog, st *theme.Styles) Model {
	return Model{keys: km, st: st, tail: true, cache: &lineCache{}}
}

// SetSize sets the view's size; the first line is the title.
func (m *Model) SetSize(w, h int) {
	changed := w != m.width
	m.width, m.height = w, h
	if changed {
		m.rebuild()
	}
	m.clamp()
}

// SetEntries replaces the entries shown, oldest first.
func (m *Model) SetEntries(es []flowstore.LogEntry) {
	m.entries = es
	m.rebuild()
	m.clamp()
}

func (m *Model) rebuild() {
	c := m.cache
	if c.width != m.width {
		c.width, c.lines = m.width, nil
	}
	next := make(map[uint64][]string, len(m.entries))
	lines := make([]string, 0, len(m.entries)) // not m.lines[:0]: copies of the model share it
	for _, e := range m.entries {
		ls, ok := c.lines[e.Seq]
		if !ok {
			ls = Lines(e, m.width, m.st)
		}
		next[e.Seq] = ls
		lines = append(lines, ls...)
	}
	m.lines, c.lines = lines, next
}

// KeyMap is the view's key map.
func (m Model) KeyMap() keys.EventLog { return m.keys }

func (m Model) rows() int { return max(m.height-1, 1) }

func (m *Model) clamp() {
	maxOff := max(len(m.lines)-m.rows(), 0)
	if m.tail {
		m.off = maxOff
	}
	m.off = min(max(m.off, 0), maxOff)
}

func (m *Model) scrollTo(off int) {
	m.off = off
	m.tail = false
	m.clamp()
	m.tail = m.off == max(len(m.lines)-m.rows(), 0)
}

// Update handles keys and the mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k := m.keys
	if off, ok := k.Scroll(msg, m.off, m.rows(), len(m.lines)); ok {
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

// Lines renders one entry in lines of at most width cells: the time,
// level and source, then the message, wrapped under its first column when
// it is long (a browser's advice, a script's traceback).
func Lines(e flowstore.LogEntry, width int, st *theme.Styles) []string {
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
		msg += " (flow " + e.FlowID + ")"
	}
	head := " " + st.Muted.Render(e.Time.Local().Format("15:04:05.000")) + " " + lvl + " " + st.Accent.Render("["+flowstore.EscapeControl(e.Source)+"]") + " "
	indent := ansi.StringWidth(head)
	if width-indent < 20 { // too narrow to wrap under the message: one line
		return []string{ansi.Truncate(head+msg, width, "…")}
	}
	parts := wrap(msg, width-indent)
	out := make([]string, len(parts))
	for i, p := range parts {
		if i == 0 {
			out[i] = head + p
		} else {
			out[i] = strings.Repeat(" ", indent) + p
		}
	}
	return out
}

// wrap breaks plain text at spaces into lines of at most w cells, cutting
// only a word longer than a line (at hyphens too, ansi.Wrap would break a
// command line's flags apart, and they are there to be copied).
func wrap(s string, w int) []string {
	var out []string
	line, lw := "", 0
	for _, word := range strings.Split(s, " ") {
		ww := ansi.StringWidth(word)
		if lw > 0 && lw+1+ww > w {
			out, line, lw = append(out, line), "", 0
		}
		if lw > 0 {
			line, lw = line+" ", lw+1
		}
		for ww > w-lw { // longer than what is left of an empty line
			head := ansi.Truncate(word, w-lw, "")
			out, line, lw = append(out, line+head), "", 0
			word = word[len(head):]
			ww = ansi.StringWidth(word)
		}
		line, lw = line+word, lw+ww
	}
	return append(out, line)
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
		if j := m.off + i; j < len(m.lines) {
			b.WriteString(m.lines[j])
		}
	}
	return b.String()
}
