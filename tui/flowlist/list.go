// Package flowlist is the live list of flows: a virtual table that renders
// only the rows on screen, over its own ordered and filtered view of flow
// summaries, updated incrementally from the store's drained events.
//
// It holds a *flowstore.Summary per flow, never a whole flow of its own: a
// summary of a flow in memory points at the store's snapshot, and once the
// store spools the flow the list swaps in the store's compact summary, so
// the flow's bodies can be collected.
//
// It owns ordering, following, the cursor and scrolling. It does not read
// or write the store: it emits intent messages (OpenMsg, MarkMsg, ...) and
// the root turns them into store reads and writes. It imports no other
// component.
package flowlist

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
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

	flows []*flowstore.Summary // sorted by compare(order, …)
	in    seqIndex             // the summary of each flow in flows, by sequence number
	match func(*flowstore.Summary) bool
	only  bool // marked only

	order   Order
	reverse bool
	follow  bool

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

// New returns an empty list.
func New(km keys.FlowList, st *theme.Styles) Model {
	m := Model{keys: km, st: st, empty: "No flows.", cache: &rowCache{}}
	m.updateKeys()
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

// SetEmptyText sets what an empty list says.
func (m *Model) SetEmptyText(s string) { m.empty = s }

// Len is the number of flows shown.
func (m Model) Len() int { return len(m.flows) }

// Selected is the summary of the flow under the cursor, or nil. Its Flow
// is nil when the flow is spooled: the root reads it from the store.
func (m Model) Selected() *flowstore.Summary { return m.sel }

// Order reports the current order and direction.
func (m Model) Order() (Order, bool) { return m.order, m.reverse }

// Following reports whether follow mode is on.
func (m Model) Following() bool { return m.follow }

// MarkedOnly reports whether only marked flows are shown.
func (m Model) MarkedOnly() bool { return m.only }

// KeyMap is the list's key map as it stands (disabled bindings included).
func (m Model) KeyMap() keys.FlowList { return m.keys }

// Flows returns the summaries of the shown flows in display order (a copy).
func (m Model) Flows() []*flowstore.Summary {
	out := make([]*flowstore.Summary, len(m.flows))
	for i := range out {
		out[i] = m.at(i)
	}
	return out
}

func (m Model) visible(s *flowstore.Summary) bool {
	if m.only && !s.Marked() {
		return false
	}
	return m.match == nil || m.match(s)
}

// at is the flow at display position i.
func (m Model) at(i int) *flowstore.Summary {
	if m.reverse {
		return m.flows[len(m.flows)-1-i]
	}
	return m.flows[i]
}

func (m Model) disp(i int) int {
	if m.reverse {
		return len(m.flows) - 1 - i
	}
	return i
}

// find is the index in flows of summary f, or -1.
func (m Model) find(f *flowstore.Summary) int {
	o := m.order
	i := sort.Search(len(m.flows), func(i int) bool { return compare(o, m.flows[i], f) >= 0 })
	if i < len(m.flows) && m.flows[i] == f {
		return i
	}
	return -1
}

// SetFilter replaces the filter (nil shows all) and rebuilds the view from
// all, the summaries of the store's flows in arrival order.
func (m *Model) SetFilter(match func(*flowstore.Summary) bool, all []*flowstore.Summary) {
	m.match = match
	m.Reset(all)
}

// SetMarkedOnly shows only marked flows, or all again, rebuilding from all.
func (m *Model) SetMarkedOnly(on bool, all []*flowstore.Summary) {
	m.only = on
	m.Reset(all)
}

// Reset rebuilds the view from all, the summaries of the store's flows in
// arrival order.
func (m *Model) Reset(all []*flowstore.Summary) {
	flows := make([]*flowstore.Summary, 0, len(all))
	for _, f := range all {
		if m.visible(f) {
			flows = append(flows, f)
		}
	}
	if m.order != OrderTime {
		o := m.order
		slices.SortFunc(flows, func(a, b *flowstore.Summary) int { return compare(o, a, b) })
	}
	m.flows = flows
	m.in.rebuild(flows)
	if m.sel != nil {
		m.sel = m.lookup(m.sel.Seq, m.sel.ID)
	}
	if m.follow {
		m.sel = m.newest()
	}
	m.resync()
}

// Apply folds drained store events into the view: an added flow is
// inserted if it matches, an updated one re-matched and moved if its sort
// key changed, a removed one dropped, and a spooled one's summary swapped
// in for the one that pointed at its snapshot.
func (m *Model) Apply(evs []flowstore.Event) {
	var rm map[*flowstore.Summary]bool
	var ins []*flowstore.Summary
	var newest *flowstore.Summary
	drop := func(old *flowstore.Summary) {
		if rm == nil {
			rm = map[*flowstore.Summary]bool{}
		}
		rm[old] = true
		m.in.del(old.Seq)
	}
	for _, ev := range evs {
		old := m.lookup(eventSeq(ev), ev.ID)
		had := old != nil
		s := summaryOf(ev, old)
		if s == nil {
			if had {
				drop(old)
			}
			continue
		}
		// A flow that only moved to the spool shows and matches as before;
		// asking the filter again could read it back from disk.
		want := had
		if ev.Kind != flowstore.EventSpilled || ev.Summary == nil {
			want = m.visible(s)
		}
		switch {
		case had && old == s:
		case had && want && compare(m.order, old, s) == 0:
			if i := m.find(old); i >= 0 {
				m.flows[i] = s
				m.in.set(s)
				if m.sel == old {
					m.sel = s
				}
			}
		case had:
			drop(old)
			if want {
				ins = append(ins, s)
			}
		case want:
			ins = append(ins, s)
		}
		if want && ev.Kind&flowstore.EventAdded != 0 && (newest == nil || s.Seq > newest.Seq) {
			newest = s
		}
	}
	m.remove(rm)
	m.insert(ins)
	if m.sel != nil {
		m.sel = m.lookup(m.sel.Seq, m.sel.ID)
	}
	if m.follow && newest != nil {
		m.sel = newest
	}
	m.resync()
}

// lookup finds the shown summary of a flow by sequence number, or by ID
// when seq is 0 (or the flow is not from a store), scanning.
func (m *Model) lookup(seq uint64, id string) *flowstore.Summary {
	if seq != 0 {
		if f := m.in.get(seq); f != nil && f.ID == id {
			return f
		}
		return nil
	}
	for _, f := range m.flows {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// summaryOf is what the list should hold for ev's flow, nil when it is
// gone. old is the summary held now: it stays while it summarises the same
// snapshot, so its cached row does too.
func summaryOf(ev flowstore.Event, old *flowstore.Summary) *flowstore.Summary {
	switch {
	case ev.Kind&flowstore.EventRemoved != 0:
		return nil
	case ev.Summary != nil:
		return ev.Summary
	case ev.Flow == nil:
		return nil
	case old != nil && old.Flow == ev.Flow:
		return old
	}
	return flowstore.Summarize(ev.Flow)
}

// Upsert applies one fresh snapshot at once, as an update event would.
func (m *Model) Upsert(f *flowstore.Flow) {
	m.Apply([]flowstore.Event{{ID: f.ID, Kind: flowstore.EventUpdated, Flow: f}})
}

// Remove drops flows by ID at once, as removal events would.
func (m *Model) Remove(ids ...string) {
	evs := make([]flowstore.Event, len(ids))
	for i, id := range ids {
		evs[i] = flowstore.Event{ID: id, Kind: flowstore.EventRemoved}
	}
	m.Apply(evs)
}

func (m *Model) remove(rm map[*flowstore.Summary]bool) {
	if len(rm) == 0 {
		return
	}
	if len(rm) <= 16 {
		for f := range rm {
			if i := m.find(f); i >= 0 {
				m.flows = slices.Delete(m.flows, i, i+1)
			}
		}
		return
	}
	m.flows = slices.DeleteFunc(m.flows, func(f *flowstore.Summary) bool { return rm[f] })
}

func (m *Model) insert(ins []*flowstore.Summary) {
	if len(ins) == 0 {
		return
	}
	o := m.order
	cmpf := func(a, b *flowstore.Summary) int { return compare(o, a, b) }
	for _, f := range ins {
		m.in.set(f)
	}
	slices.SortFunc(ins, cmpf)
	n := len(m.flows)
	switch {
	case n == 0 || cmpf(m.flows[n-1], ins[0]) < 0:
		// The common case: new flows arrive after the ones shown.
		m.flows = append(m.flows, ins...)
	case len(ins) <= 32:
		for _, f := range ins {
			i := sort.Search(len(m.flows), func(i int) bool { return cmpf(m.flows[i], f) >= 0 })
			m.flows = slices.Insert(m.flows, i, f)
		}
	default:
		merged := make([]*flowstore.Summary, 0, n+len(ins))
		a, b := m.flows, ins
		for len(a) > 0 && len(b) > 0 {
			if cmpf(a[0], b[0]) <= 0 {
				merged, a = append(merged, a[0]), a[1:]
			} else {
				merged, b = append(merged, b[0]), b[1:]
			}
		}
		m.flows = append(append(merged, a...), b...)
	}
}

// newest is the shown flow that arrived last.
func (m Model) newest() *flowstore.Summary {
	if len(m.flows) == 0 {
		return nil
	}
	if m.order == OrderTime {
		return m.flows[len(m.flows)-1]
	}
	best := m.flows[0]
	for _, f := range m.flows[1:] {
		if f.Seq > best.Seq {
			best = f
		}
	}
	return best
}

// resync puts the cursor on the selected flow, or keeps its position and
// selects what is there now, and scrolls it into view.
func (m *Model) resync() {
	n := len(m.flows)
	if m.sel != nil {
		if i := m.find(m.sel); i >= 0 {
			m.cur = m.disp(i)
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
		m.sel = m.at(m.cur)
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
	rows, n := m.rows(), len(m.flows)
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
	if len(m.flows) == 0 {
		return
	}
	m.cur = min(max(i, 0), len(m.flows)-1)
	m.sel = m.at(m.cur)
	m.scroll()
}

// Select puts the cursor on a flow by ID, if it is shown.
func (m *Model) Select(id string) {
	if f := m.lookup(0, id); f != nil {
		m.sel = f
		m.resync()
	}
}

func (m *Model) setOrder(o Order, reverse bool) {
	if o != m.order {
		m.order = o
		slices.SortFunc(m.flows, func(a, b *flowstore.Summary) int { return compare(o, a, b) })
	}
	m.reverse = reverse
	if m.follow {
		m.sel = m.newest()
	}
	m.resync()
}

// SetOrder sets the order and direction.
func (m *Model) SetOrder(o Order, reverse bool) { m.setOrder(o, reverse) }

// SetFollow turns follow mode on or off.
func (m *Model) SetFollow(on bool) {
	m.follow = on
	if on {
		m.sel = m.newest()
		m.resync()
	}
}

func (m *Model) updateKeys() {
	has := len(m.flows) > 0
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
		m.off = min(m.off+rows, max(len(m.flows)-rows, 0))
		m.moveTo(m.cur + rows)
	case key.Matches(msg, k.Top):
		away()
		m.moveTo(0)
	case key.Matches(msg, k.Bottom):
		m.moveTo(len(m.flows) - 1)
	case key.Matches(msg, k.Follow):
		m.SetFollow(!m.follow)
	case key.Matches(msg, k.Order):
		m.setOrder(m.order.Next(), m.reverse)
	case key.Matches(msg, k.Reverse):
		m.setOrder(m.order, !m.reverse)
	case key.Matches(msg, k.Filter):
		return m, emit(FilterMsg{})
	case key.Matches(msg, k.MarkedOnly):
		return m, emit(MarkedOnlyMsg{On: !m.only})
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
		if i >= len(m.flows) {
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
	b.WriteString(Header(m.layout, m.order, m.reverse, m.st))
	rows := m.rows()
	if len(m.flows) == 0 && rows > 0 {
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
		if d >= len(m.flows) {
			continue
		}
		f := m.at(d)
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
