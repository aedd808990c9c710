// Package rules is the breakpoint list (I): every breakpoint with its phase
// (request, response, both) and whether it is on, the standing mocks with
// their hit counts, and the switch that turns all interception off and on.
//
// It shows what the root hands it (SetRules) and emits intents (AddMsg,
// ToggleMsg, ...) that the root turns into engine calls; it never calls the
// engine and imports no other component. The changes its intents ask for
// are Edits (NextPhase, Toggle, SetMain, ...): pure functions of a list of
// breakpoints, which the root applies to a copy of the engine's.
package rules

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Kind tells a breakpoint from a mock.
type Kind int

const (
	KindBreakpoint Kind = iota
	KindMock
)

func (k Kind) String() string {
	if k == KindMock {
		return "mock"
	}
	return "breakpoint"
}

// Intent messages, for the root to act on. Index is into the slice of its
// kind as last given to SetRules.
type (
	// AddMsg asks for a new breakpoint.
	AddMsg struct{}
	// EditMsg asks to change a breakpoint's filter.
	EditMsg struct {
		Index  int
		Filter string
	}
	// PhaseMsg asks to move a breakpoint to its next phase.
	PhaseMsg struct{ Index int }
	// ToggleMsg asks to enable or disable a rule.
	ToggleMsg struct {
		Kind  Kind
		Index int
	}
	// DeleteMsg asks to delete a rule.
	DeleteMsg struct {
		Kind  Kind
		Index int
	}
	// SwitchMsg asks to turn interception on or off.
	SwitchMsg struct{ On bool }
	// BackMsg asks to leave the list.
	BackMsg struct{}
)

// Model is the breakpoint list.
type Model struct {
	keys   keys.Rules
	st     *theme.Styles
	width  int
	height int

	on    bool
	bps   []flowstore.Breakpoint
	mocks []flowstore.Mock
	cur   int // index over breakpoints then mocks
	off   int // first line shown
}

// New returns an empty list.
func New(km keys.Rules, st *theme.Styles) Model { return Model{keys: km, st: st} }

// SetSize sets the view's size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h; m.scroll() }

// SetRules replaces what is shown; the cursor stays where it was.
func (m *Model) SetRules(on bool, bps []flowstore.Breakpoint, mocks []flowstore.Mock) {
	m.on, m.bps, m.mocks = on, bps, mocks
	m.cur = min(m.cur, max(m.items()-1, 0))
	m.scroll()
}

// Selected is the kind and index of the rule under the cursor; ok is false
// when there is none.
func (m Model) Selected() (k Kind, i int, ok bool) {
	switch {
	case m.cur < len(m.bps):
		return KindBreakpoint, m.cur, true
	case m.cur < m.items():
		return KindMock, m.cur - len(m.bps), true
	}
	return 0, 0, false
}

// Select puts the cursor on a rule.
func (m *Model) Select(k Kind, i int) {
	if k == KindMock {
		i += len(m.bps)
	}
	m.cur = min(max(i, 0), max(m.items()-1, 0))
	m.scroll()
}

func (m Model) items() int { return len(m.bps) + len(m.mocks) }

// KeyMap is the key map as it stands: what needs a rule is disabled when
// there is none, what needs a breakpoint when a mock is selected.
func (m Model) KeyMap() keys.Rules {
	k := m.keys
	kind, _, ok := m.Selected()
	set := func(b *key.Binding, on bool) {
		if len(b.Keys()) > 0 {
			b.SetEnabled(on)
		}
	}
	set(&k.Toggle, ok)
	set(&k.Delete, ok)
	set(&k.Edit, ok && kind == KindBreakpoint)
	set(&k.Phase, ok && kind == KindBreakpoint)
	return k
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// Update handles keys and the mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			m.moveTo(m.cur - 1)
		case tea.MouseButtonWheelDown:
			m.moveTo(m.cur + 1)
		}
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) moveTo(i int) {
	m.cur = min(max(i, 0), max(m.items()-1, 0))
	m.scroll()
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.KeyMap()
	page := max(m.height-6, 1)
	switch {
	case key.Matches(msg, k.Up):
		m.moveTo(m.cur - 1)
	case key.Matches(msg, k.Down):
		m.moveTo(m.cur + 1)
	case key.Matches(msg, k.PageUp):
		m.moveTo(m.cur - page)
	case key.Matches(msg, k.PageDown):
		m.moveTo(m.cur + page)
	case key.Matches(msg, k.Top):
		m.moveTo(0)
	case key.Matches(msg, k.Bottom):
		m.moveTo(m.items() - 1)
	case key.Matches(msg, k.Back):
		return m, emit(BackMsg{})
	case key.Matches(msg, k.Add):
		return m, emit(AddMsg{})
	case key.Matches(msg, k.Switch):
		return m, emit(SwitchMsg{On: !m.on})
	}
	kind, i, ok := m.Selected()
	if !ok {
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Toggle):
		return m, emit(ToggleMsg{Kind: kind, Index: i})
	case key.Matches(msg, k.Delete):
		return m, emit(DeleteMsg{Kind: kind, Index: i})
	case key.Matches(msg, k.Edit):
		return m, emit(EditMsg{Index: i, Filter: m.bps[i].Filter})
	case key.Matches(msg, k.Phase):
		return m, emit(PhaseMsg{Index: i})
	}
	return m, nil
}

// lines renders every line and says which line each rule is on.
func (m Model) lines() (out []string, at []int) {
	st := m.st
	sw := st.OK.Render("ON")
	hint := "s switches every breakpoint off"
	if !m.on {
		sw = st.Warn.Render("OFF")
		hint = "no flow is paused; s switches interception back on"
	}
	out = append(out, " Interception "+sw+st.Muted.Render(" · "+hint), "")
	out = append(out, " "+st.Title.Render(fmt.Sprintf("Breakpoints (%d)", len(m.bps))))
	if len(m.bps) == 0 {
		out = append(out, st.Muted.Render("   none: a adds one; i sets the intercept filter"))
	} else {
		out = append(out, st.Header.Render(fmt.Sprintf("     %-3s  %-8s  %s", "ON", "PHASE", "FILTER")))
	}
	for i, b := range m.bps {
		at = append(at, len(out))
		out = append(out, m.row(i, fmt.Sprintf("%-3s  %-8s  %s", onMark(!b.Disabled), b.Phases(), clean(b.Filter)), !b.Disabled && m.on))
	}
	out = append(out, "", " "+st.Title.Render(fmt.Sprintf("Standing mocks (%d)", len(m.mocks)))+
		st.Muted.Render(" · answered without contacting the upstream"))
	if len(m.mocks) == 0 {
		out = append(out, st.Muted.Render("   none: K on an edited response keeps it as one"))
	} else {
		out = append(out, st.Header.Render(fmt.Sprintf("     %-3s  %5s  %-12s  %s", "ON", "HITS", "ANSWER", "MATCHES")))
	}
	for i, mk := range m.mocks {
		at = append(at, len(out))
		answer := ""
		if r := mk.Response; r != nil {
			answer = fmt.Sprintf("%d %s", r.Status, flowstore.FormatSize(r.Body.Size))
		}
		match := mk.Describe()
		if mk.Filter != "" {
			match = "filter " + match
		}
		out = append(out, m.row(len(m.bps)+i, fmt.Sprintf("%-3s  %5d  %-12s  %s", onMark(!mk.Disabled), mk.Hits, answer, clean(match)), !mk.Disabled))
	}
	return out, at
}

func (m Model) row(i int, text string, active bool) string {
	cursor := "   "
	if i == m.cur {
		cursor = " > "
	}
	line := fit(cursor+"  "+text, m.width)
	switch {
	case i == m.cur:
		return m.st.Selected.Render(line)
	case !active:
		return m.st.Muted.Render(line)
	}
	return line
}

func onMark(on bool) string {
	if on {
		return "✓"
	}
	return "·"
}

func fit(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// clean escapes control bytes (\x1b) so a filter or a mock's URL cannot
// drive the terminal.
func clean(s string) string { return flowstore.EscapeControl(s) }

func (m Model) rows() int { return max(m.height-1, 1) }

func (m *Model) scroll() {
	_, at := m.lines()
	if len(at) == 0 {
		m.off = 0
		return
	}
	line := at[min(m.cur, len(at)-1)]
	if line < m.off {
		m.off = line
	}
	if line >= m.off+m.rows() {
		m.off = line - m.rows() + 1
	}
	m.off = max(m.off, 0)
}

// View renders the title and the visible lines, exactly height lines.
func (m Model) View() string {
	if m.height <= 0 {
		return ""
	}
	lines, _ := m.lines()
	var b strings.Builder
	b.WriteString(m.st.Header.Render(fit(" Breakpoints and standing mocks", m.width)))
	for i := 0; i < m.height-1; i++ {
		b.WriteByte('\n')
		if j := m.off + i; j < len(lines) {
			b.WriteString(ansi.Truncate(lines[j], m.width, "…"))
		}
	}
	return b.String()
}
