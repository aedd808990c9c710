// Package flowlist is the live list of flows: a virtual table over a
// flowstore/view.View that renders only the rows on screen.
//
// The View chooses, orders and counts the flows; the list owns the window
// onto it: the cursor, following new flows, scrolling, the rows and their
// cache. The order keys re-sort the View it was given; after the root
// changes the View (events applied, a filter, marked-only) it tells the
// list (Applied, Rebuilt), and the cursor stays on its flow. It does not
// read or write the store: it emits intent messages (OpenMsg, MarkMsg, ...)
// and the root turns them into store reads and writes. It imports no other
// component.
package flowlist

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Intent messages, for the root to act on.
type (
	// OpenMsg asks to open a flow in the flow view.
	OpenMsg struct{ ID string }
	// MarkMsg asks to set a flow's mark.
	MarkMsg struct {
		ID     string
		Marked bool
	}
	// ClearMarksMsg asks to unmark every flow.
	ClearMarksMsg struct{}
	// MarkedOnlyMsg asks to show only marked flows (or all again).
	MarkedOnlyMsg struct{ On bool }
	// CommentMsg asks for a prompt to comment a flow; the root reads the
	// current comment from the store (a summary does not keep it).
	CommentMsg struct{ ID string }
	// DeleteMsg asks to delete a flow.
	DeleteMsg struct{ ID string }
	// ClearAllMsg asks to clear every flow (the root confirms first).
	ClearAllMsg struct{}
	// FilterMsg asks for the filter prompt.
	FilterMsg struct{}
	// QuitMsg asks to quit (the root confirms when something would be lost).
	QuitMsg struct{}
	// FlowActionMsg asks for a flow action (keys.ActResume, ...) on the
	// selected flow; ID is empty when the list is.
	FlowActionMsg struct{ Action, ID string }
)

// Model is the flow list.
type Model struct {
	keys   keys.FlowList
	st     *theme.Styles
	width  int
	height int
	layout Layout

	v      *view.View // the flows, shared with the root
	follow bool

	sel      *flowstore.Summary // the selected flow, nil when empty
	cur, off int                // display positions of the cursor and the first row
	empty    string
	note     string    // about the selected flow (its comment, its error), under the rows
	now      time.Time // the clock, for how long flows have been paused

	cache *rowCache // shared by copies of the model; only the UI goroutine uses it
}

// rowCache keeps the rendered rows of the last frame. Summaries are
// immutable, and the list keeps a flow's summary until the flow changes, so
// a row rendered for a summary at a width stays right until then: a frame
// re-renders only the rows that changed or scrolled in (mitmproxy caches
// rows for the same reason, its #3427).
type rowCache struct {
	width int
	rows  map[*flowstore.Summary]string
}

// New returns a list of the flows v shows.
func New(km keys.FlowList, st *theme.Styles, v *view.View) Model {
	m := Model{keys: km, st: st, v: v, empty: "No flows.", cache: &rowCache{}}
	m.resync()
	return m
}

// SetSize sets the list's width and height in cells (the header included).
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.layout = NewLayout(w)
	m.scroll()
}

// SetNow sets the time paused flows count from; the root ticks it while
// flows are paused.
func (m *Model) SetNow(t time.Time) { m.now = t }

// SetNote sets the line shown under the rows about the selected flow: its
// comment and its error, which a row has no room for ("" for none).
func (m *Model) SetNote(s string) {
	if s != m.note {
		m.note = s
		m.scroll()
	}
}

// Note is what the list says under its rows of the selected flow f (nil
// for none): its comment (the row shows only ¶) and its whole error (the
// row only its end).
func Note(f *flowstore.Flow) string {
	if f == nil {
		return ""
	}
	var parts []string
	if f.Comment != "" {
		parts = append(parts, "¶ "+f.Comment)
	}
	if f.Error != nil {
		parts = append(parts, "✗ "+f.Error.Error())
	}
	return strings.Join(parts, "  ")
}

// SetEmptyText sets what an empty list says.
func (m *Model) SetEmptyText(s string) { m.empty = s }

// Selected is the summary of the flow under the cursor, or nil. Its Flow
// is nil when the flow is spooled: the View reads it back (View.Flow).
func (m Model) Selected() *flowstore.Summary { return m.sel }

// Following reports whether follow mode is on.
func (m Model) Following() bool { return m.follow }

// KeyMap is the list's key map as it stands (disabled bindings included).
func (m Model) KeyMap() keys.FlowList { return m.keys }

// Applied keeps the cursor on its flow after events were applied to the
// View; added is the newest flow they added, which a following list moves
// to (nil for none).
func (m *Model) Applied(added *flowstore.Summary) {
	if m.sel != nil {
		m.sel = m.v.Lookup(m.sel.Seq, m.sel.ID)
	}
	if m.follow && added != nil {
		m.sel = added
	}
	m.resync()
}

// Rebuilt keeps the cursor on its flow after the View chose its flows
// anew (a filter, marked-only, a reset); a following list moves to the
// newest.
func (m *Model) Rebuilt() { m.Applied(m.v.Newest()) }

// resync puts the cursor on the selected flow, or keeps its position and
// selects what is there now, and scrolls it into view.
func (m *Model) resync() {
	n := m.v.Len()
	if m.sel != nil {
		if i := m.v.Index(m.sel); i >= 0 {
			m.cur = i
		} else {
			m.sel = nil
		}
	}
	if n == 0 {
		m.cur, m.off, m.sel = 0, 0, nil
		m.updateKeys()
		return
	}
	m.cur = min(max(m.cur, 0), n-1)
	if m.sel == nil {
		m.sel = m.v.At(m.cur)
	}
	m.scroll()
	m.updateKeys()
}

func (m Model) rows() int {
	if m.note != "" && m.height > 3 {
		return m.height - 2 // the header, the note
	}
	return max(m.height-1, 0)
}

func (m *Model) scroll() {
	rows, n := m.rows(), m.v.Len()
	if rows <= 0 {
		return
	}
	if m.cur < m.off {
		m.off = m.cur
	}
	if m.cur >= m.off+rows {
		m.off = m.cur - rows + 1
	}
	m.off = max(min(m.off, n-rows), 0)
}

// moveTo puts the cursor on display position i.
func (m *Model) moveTo(i int) {
	if m.v.Len() == 0 {
		return
	}
	m.cur = min(max(i, 0), m.v.Len()-1)
	m.sel = m.v.At(m.cur)
	m.scroll()
}

// Select puts the cursor on a flow by ID, if it is shown.
func (m *Model) Select(id string) {
	if f := m.v.Lookup(0, id); f != nil {
		m.sel = f
		m.resync()
	}
}

// SetOrder sorts the View by o, reversed or not.
func (m *Model) SetOrder(o view.Order, reverse bool) {
	m.v.SetOrder(o, reverse)
	if m.follow {
		m.sel = m.v.Newest()
	}
	m.resync()
}

// SetFollow turns follow mode on or off.
func (m *Model) SetFollow(on bool) {
	m.follow = on
	if on {
		m.sel = m.v.Newest()
		m.resync()
	}
}

func (m *Model) updateKeys() {
	has := m.v.Len() > 0
	for _, b := range []*key.Binding{&m.keys.Open, &m.keys.Mark, &m.keys.Comment, &m.keys.Delete} {
		if len(b.Keys()) > 0 {
			b.SetEnabled(has)
		}
	}
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// Update handles keys and mouse events meant for the list. Mouse
// coordinates are relative to the list's top-left corner.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tea.MouseMsg:
		return m.handleMouse(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := &m.keys
	rows := max(m.rows(), 1)
	away := func() { m.follow = false }
	switch {
	case key.Matches(msg, k.Up):
		away()
		m.moveTo(m.cur - 1)
	case key.Matches(msg, k.Down):
		m.moveTo(m.cur + 1)
	case key.Matches(msg, k.PageUp):
		away()
		m.off = max(m.off-rows, 0)
		m.moveTo(m.cur - rows)
	case key.Matches(msg, k.PageDown):
		m.off = min(m.off+rows, max(m.v.Len()-rows, 0))
		m.moveTo(m.cur + rows)
	case key.Matches(msg, k.Top):
		away()
		m.moveTo(0)
	case key.Matches(msg, k.Bottom):
		m.moveTo(m.v.Len() - 1)
	case key.Matches(msg, k.Follow):
		m.SetFollow(!m.follow)
	case key.Matches(msg, k.Order):
		o, rev := m.v.Order()
		m.SetOrder(o.Next(), rev)
	case key.Matches(msg, k.Reverse):
		o, rev := m.v.Order()
		m.SetOrder(o, !rev)
	case key.Matches(msg, k.Filter):
		return m, emit(FilterMsg{})
	case key.Matches(msg, k.MarkedOnly):
		return m, emit(MarkedOnlyMsg{On: !m.v.MarkedOnly()})
	case key.Matches(msg, k.ClearMarks):
		return m, emit(ClearMarksMsg{})
	case key.Matches(msg, k.ClearAll):
		return m, emit(ClearAllMsg{})
	case key.Matches(msg, k.Quit):
		return m, emit(QuitMsg{})
	}
	if act := k.Flow.Which(msg); act != "" {
		id := ""
		if m.sel != nil {
			id = m.sel.ID
		}
		return m, emit(FlowActionMsg{Action: act, ID: id})
	}
	if m.sel == nil {
		return m, nil
	}
	id := m.sel.ID
	switch {
	case key.Matches(msg, k.Open):
		return m, emit(OpenMsg{ID: id})
	case key.Matches(msg, k.Mark):
		return m, emit(MarkMsg{ID: id, Marked: !m.sel.Marked()})
	case key.Matches(msg, k.Comment):
		return m, emit(CommentMsg{ID: id})
	case key.Matches(msg, k.Delete):
		return m, emit(DeleteMsg{ID: id})
	}
	return m, nil
}

func (m Model) handleMouse(msg tea.MouseMsg) (Model, tea.Cmd) {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.follow = false
		m.moveTo(m.cur - 3)
	case tea.MouseButtonWheelDown:
		m.moveTo(m.cur + 3)
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress || msg.Y < 1 || msg.Y > m.rows() { // the header, the note
			return m, nil
		}
		i := m.off + msg.Y - 1
		if i >= m.v.Len() {
			return m, nil
		}
		if i == m.cur && m.sel != nil {
			return m, emit(OpenMsg{ID: m.sel.ID})
		}
		m.follow = false
		m.moveTo(i)
	}
	return m, nil
}

// View renders the header and the visible rows, exactly height lines.
func (m Model) View() string {
	if m.height <= 0 || m.width <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow((m.width + 32) * m.height)
	o, rev := m.v.Order()
	b.WriteString(Header(m.layout, o, rev, m.st))
	rows := m.rows()
	n := m.v.Len()
	if n == 0 && rows > 0 {
		b.WriteByte('\n')
		b.WriteString(m.st.Muted.Render(fit("   "+m.empty, m.width, false)))
		rows--
	}
	cache := m.cache
	if cache.width != m.width {
		cache.width, cache.rows = m.width, nil
	}
	next := make(map[*flowstore.Summary]string, rows)
	for i := 0; i < rows; i++ {
		b.WriteByte('\n')
		d := m.off + i
		if d >= n {
			continue
		}
		f := m.v.At(d)
		if d == m.cur {
			b.WriteString(Row(f, m.layout, m.st, true, m.now))
			continue
		}
		if f.State == flowstore.StatePaused { // its pause time ticks: never cached
			b.WriteString(Row(f, m.layout, m.st, false, m.now))
			continue
		}
		r, ok := cache.rows[f]
		if !ok {
			r = Row(f, m.layout, m.st, false, m.now)
		}
		next[f] = r
		b.WriteString(r)
	}
	cache.rows = next
	if m.rows() < m.height-1 {
		b.WriteByte('\n')
		b.WriteString(m.st.Notice.Render(fit(" "+m.note, m.width, false)))
	}
	return b.String()
}
