// Package help is the help screen: every key of the view it was opened
// from and the global keys, generated from the same key maps the
// components use, so help cannot drift from the keys. A binding that does
// nothing right now is listed, muted. It imports no other component.
package help

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// BackMsg asks to close help.
type BackMsg struct{}

// Model is the help screen.
type Model struct {
	keys   keys.Help
	st     *theme.Styles
	width  int
	height int
	lines  []string
	off    int
	title  string
}

// New returns an empty help screen.
func New(km keys.Help, st *theme.Styles) Model { return Model{keys: km, st: st} }

// SetSize sets the screen's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.off = min(m.off, max(len(m.lines)-m.rows(), 0))
}

// KeyMap is the help screen's own key map.
func (m Model) KeyMap() keys.Help { return m.keys }

// Section is extra reference shown after the keys, such as the filter
// language's operators: rows of (term, meaning).
type Section struct {
	Title string
	Rows  [][2]string
}

// Show fills the screen with the bindings of ctxs, in order, then extra.
func (m *Model) Show(title string, ctxs []keys.Context, extra ...Section) {
	m.title, m.off = title, 0
	m.lines = Lines(m.st, ctxs...)
	for _, s := range extra {
		m.lines = append(m.lines, "", " "+m.st.Title.Render(s.Title))
		w := 0
		for _, r := range s.Rows {
			w = max(w, ansi.StringWidth(r[0]))
		}
		w = min(w, 24)
		for _, r := range s.Rows {
			pad := strings.Repeat(" ", max(w-ansi.StringWidth(r[0]), 0))
			// Rows may show paths and the like: escaped, never obeyed.
			m.lines = append(m.lines, "   "+m.st.HelpKey.Render(r[0])+pad+"  "+flowstore.EscapeControl(r[1]))
		}
	}
}

// Lines renders the bindings of ctxs, a heading per context.
func Lines(st *theme.Styles, ctxs ...keys.Context) []string {
	keyW := 0
	for _, c := range ctxs {
		for _, a := range c.Actions {
			keyW = max(keyW, ansi.StringWidth(a.B.Help().Key))
		}
	}
	var out []string
	for i, c := range ctxs {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, " "+st.Title.Render(c.Title))
		for _, a := range c.Actions {
			out = append(out, line(st, *a.B, keyW))
		}
	}
	return out
}

func line(st *theme.Styles, b key.Binding, keyW int) string {
	h := b.Help()
	k := h.Key
	if k == "" {
		k = "(unbound)"
	}
	pad := strings.Repeat(" ", max(keyW-ansi.StringWidth(k), 0))
	if !b.Enabled() {
		return "   " + st.HelpDisabled.Render(k+pad+"  "+h.Desc+" (not now)")
	}
	return "   " + st.HelpKey.Render(k) + pad + "  " + st.HelpDesc.Render(h.Desc)
}

func (m Model) rows() int { return max(m.height-1, 1) }

func (m *Model) scrollTo(off int) {
	m.off = min(max(off, 0), max(len(m.lines)-m.rows(), 0))
}

// Update handles keys and the mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k := m.keys
	if off, ok := k.Scroll(msg, m.off, m.rows(), len(m.lines)); ok {
		m.scrollTo(off)
		return m, nil
	}
	if msg, ok := msg.(tea.KeyMsg); ok && key.Matches(msg, k.Back) {
		return m, func() tea.Msg { return BackMsg{} }
	}
	return m, nil
}

// View renders the title and the visible lines, exactly height lines.
func (m Model) View() string {
	if m.height <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.st.Header.Render(ansi.Truncate(" Help: "+m.title, m.width, "…")))
	for i := 0; i < m.height-1; i++ {
		b.WriteByte('\n')
		if j := m.off + i; j < len(m.lines) {
			b.WriteString(ansi.Truncate(m.lines[j], m.width, "…"))
		}
	}
	return b.String()
}
