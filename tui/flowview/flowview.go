// Package flowview shows one flow: tabs Request, Response, Messages (for
// WebSockets and event streams) and Details; headers as a table and the
// body under them, decoded and shown by content type (or by a view chosen
// by hand), searchable as a whole. The Messages tab lists a flow's
// messages as they arrive; one opens in the same viewers as a body.
//
// Bodies are rendered and searched off the UI goroutine: the work runs in
// a tea.Cmd and comes back as a message carrying the flow ID and a
// generation number; anything stale is dropped. Only the lines on screen
// are ever styled, so a body of many MiB scrolls as fast as a small one.
// It imports no other component; it asks the root for a search prompt
// (SearchPromptMsg) and to go back (BackMsg).
package flowview

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Tab is a tab of the flow view.
type Tab int

const (
	TabRequest Tab = iota
	TabResponse
	TabMessages // only for flows with messages (HasMessages)
	TabDetails
	numTabs
)

var tabNames = [...]string{"Request", "Response", "Messages", "Details"}

// Slots are the documents a view renders, numbered as the tab that shows
// them: the request body, the response body and the message open in the
// Messages tab.
const numSlots = int(TabMessages) + 1

func (t Tab) String() string { return tabNames[t] }

type (
	// BackMsg asks to leave the flow view.
	BackMsg struct{}
	// SearchPromptMsg asks for the search prompt (which opens empty, the
	// last query one step back in its history).
	SearchPromptMsg struct{}
	// FlowActionMsg asks for a flow action (keys.ActResume, ...) on the
	// flow shown.
	FlowActionMsg struct{ Action, ID string }

	renderedMsg struct {
		id  string
		s   int
		gen uint64
		doc *body.Doc
		err error
	}
	searchedMsg struct {
		id    string
		gen   uint64
		doc   *body.Doc
		ms    []body.Match
		total int
		err   error
	}
)

// bodyKey identifies what a rendered document was made from.
type bodyKey struct {
	data      *byte
	n         int
	size      int64
	ct, ce    string
	truncated bool
}

// Model is the flow view.
type Model struct {
	keys   keys.FlowView
	st     *theme.Styles
	width  int
	height int

	flow  *flowstore.Flow
	shown *flowstore.Flow // flow, or its original messages while orig is on
	orig  bool
	now   time.Time // the clock, for how long the flow has been paused
	tab   Tab
	off   [numTabs]int
	head  [numTabs][]string // head lines of each tab (details: all lines)

	mode   [numSlots]body.Mode
	doc    [numSlots]*body.Doc
	from   [numSlots]bodyKey
	busy   [numSlots]bool
	gen    [numSlots]uint64
	cancel [numSlots]context.CancelFunc
	seq    *uint64 // generation source, shared by copies of the model

	msgs msgState

	query   string
	last    string // the last query searched, in any flow: n searches it in the next
	sgen    uint64
	scancel context.CancelFunc
	seeking bool // a search is running
	ms      []body.Match
	total   int
	mcur    int
	mdoc    *body.Doc // the document ms belong to
}

// New returns an empty flow view.
func New(km keys.FlowView, st *theme.Styles) Model {
	return Model{keys: km, st: st, seq: new(uint64)}
}

func (m *Model) next() uint64 { *m.seq++; return *m.seq }

// Flow is the flow shown, or nil.
func (m Model) Flow() *flowstore.Flow { return m.flow }

// ShowingOriginal reports whether the original messages of an edited flow
// are shown instead of the edited ones.
func (m Model) ShowingOriginal() bool { return m.orig && m.flow != nil && m.flow.Original != nil }

// SetNow sets the time a paused flow counts from; the root ticks it.
func (m *Model) SetNow(t time.Time) { m.now = t }

// Tab is the tab shown.
func (m Model) Tab() Tab { return m.tab }

// Query is the current search, and how many matches it has.
func (m Model) Query() (string, int) { return m.query, m.total }

// Busy reports whether a body is being rendered or searched.
func (m Model) Busy() bool {
	for _, b := range m.busy {
		if b {
			return true
		}
	}
	return m.seeking
}

// Mode is the view mode asked for a slot: 0 the request body, 1 the
// response body, 2 the open message.
func (m Model) Mode(slot int) body.Mode { return m.mode[slot] }

// Doc is the rendered document of a slot, or nil.
func (m Model) Doc(slot int) *body.Doc { return m.doc[slot] }

// KeyMap is the view's key map as it stands.
func (m Model) KeyMap() keys.FlowView {
	k := m.keys
	s := m.slot()
	k.Mode.SetEnabled(s >= 0 && len(k.Mode.Keys()) > 0)
	k.Search.SetEnabled(s >= 0 && len(k.Search.Keys()) > 0)
	has := s >= 0 && m.total > 0 && m.mdoc != nil && m.mdoc == m.doc[s]
	again := s >= 0 && m.query == "" && m.last != "" // the last search, in this flow
	k.NextMatch.SetEnabled((has || again) && len(k.NextMatch.Keys()) > 0)
	k.PrevMatch.SetEnabled(has && len(k.PrevMatch.Keys()) > 0)
	k.Original.SetEnabled(m.flow != nil && m.flow.Original != nil && len(k.Original.Keys()) > 0)
	k.OpenMessage.SetEnabled(m.onList() && len(m.flow.Messages) > 0 && len(k.OpenMessage.Keys()) > 0)
	if m.tab == TabMessages && m.msgs.open {
		k.Back.SetHelp(k.Back.Help().Key, "back to messages")
	}
	return k
}

// slot is the document the current tab shows, or -1: the details, the
// list of messages.
func (m Model) slot() int {
	switch {
	case m.tab == TabRequest || m.tab == TabResponse:
		return int(m.tab)
	case m.tab == TabMessages && m.msgs.open:
		return int(TabMessages)
	}
	return -1
}

// tabs are the tabs the flow shown has, in order.
func (m Model) tabs() []Tab {
	if HasMessages(m.flow) {
		return []Tab{TabRequest, TabResponse, TabMessages, TabDetails}
	}
	return []Tab{TabRequest, TabResponse, TabDetails}
}

func (m Model) bodyWidth() int { return max(m.width-1, 8) }
func (m Model) rows() int      { return max(m.height-2, 1) }

// SetSize sets the view's size; documents are re-cut for a new width off
// the UI goroutine.
func (m *Model) SetSize(w, h int) tea.Cmd {
	changed := w != m.width
	m.width, m.height = w, h
	if m.flow == nil {
		return nil
	}
	if !changed {
		m.clampList() // a new height
		return nil
	}
	m.buildHeads()
	m.clampList()
	var cmds []tea.Cmd
	for s := range numSlots {
		if d := m.doc[s]; d != nil && !d.IsHex() && d.Width != m.bodyWidth() && !m.busy[s] {
			cmds = append(cmds, m.rewrap(s))
		}
	}
	return tea.Batch(cmds...)
}

// Open shows a flow, starting on the tab last used.
func (m *Model) Open(f *flowstore.Flow) tea.Cmd {
	if m.flow == nil || m.flow.ID != f.ID {
		m.orig = false
		m.off = [numTabs]int{}
		m.mode = [numSlots]body.Mode{}
		m.doc = [numSlots]*body.Doc{}
		m.from = [numSlots]bodyKey{}
		m.msgs = newMsgState()
		m.query = "" // a search stays with its flow; n takes it to this one
		m.clearMatches()
		if m.tab == TabMessages && !HasMessages(f) {
			m.tab = TabRequest
		}
	}
	return m.SetFlow(f)
}

// SetFlow takes a newer snapshot of the flow shown; a body that changed is
// rendered again.
func (m *Model) SetFlow(f *flowstore.Flow) tea.Cmd {
	if m.flow != nil && m.flow.ID != f.ID {
		return nil
	}
	m.flow = f
	m.shown = f
	if m.orig && f.Original != nil {
		o := *f
		if f.Original.Request != nil {
			o.Request = f.Original.Request
		}
		if f.Original.Response != nil {
			o.Response = f.Original.Response
		}
		m.shown = &o
	}
	m.syncMessages()
	m.buildHeads()
	var cmds []tea.Cmd
	for s := range 2 { // the open message is a copy: it does not change
		src, _ := m.source(s)
		if k := keyOf(src); k != m.from[s] || m.doc[s] == nil && !m.busy[s] {
			m.from[s] = k
			cmds = append(cmds, m.render(s))
		}
	}
	return tea.Batch(cmds...)
}

// Close forgets the flow and stops work in flight.
func (m *Model) Close() {
	m.Stop()
	m.flow, m.shown, m.orig = nil, nil, false
	m.doc = [numSlots]*body.Doc{}
	m.msgs = newMsgState()
	m.clearMatches()
}

// Stop ends work in flight (rendering, searching) and keeps what is shown.
func (m *Model) Stop() {
	for s := range numSlots {
		if m.cancel[s] != nil {
			m.cancel[s]()
		}
		m.busy[s] = false
	}
	if m.scancel != nil {
		m.scancel()
	}
	m.seeking = false
}

func keyOf(src body.Source) bodyKey {
	k := bodyKey{n: len(src.Data), size: src.Size, ct: src.ContentType, ce: src.ContentEncoding, truncated: src.Truncated}
	if len(src.Data) > 0 {
		k.data = &src.Data[0]
	}
	return k
}

func (m Model) source(s int) (body.Source, bool) {
	if s == int(TabMessages) {
		if !m.msgs.open {
			return body.Source{}, false
		}
		return messageSource(&m.msgs.msg), true
	}
	var b flowstore.Body
	var h flowstore.Headers
	f := m.shown
	switch {
	case s == 0 && f.Request != nil:
		b, h = f.Request.Body, f.Request.Headers
	case s == 1 && f.Response != nil:
		b, h = f.Response.Body, f.Response.Headers
	default:
		return body.Source{}, false
	}
	return body.Source{Data: b.Data, Size: b.Size, Truncated: b.Truncated,
		ContentType: h.Get("Content-Type"), ContentEncoding: h.Get("Content-Encoding")}, true
}

// previewOver is the body size past which a cheap preview is shown at once
// while the real rendering runs.
const previewOver = 256 << 10

func (m *Model) render(s int) tea.Cmd {
	if m.cancel[s] != nil {
		m.cancel[s]()
	}
	gen := m.next()
	m.gen[s] = gen
	src, ok := m.source(s)
	if !ok {
		m.doc[s], m.busy[s] = nil, false
		return nil
	}
	if len(src.Data) > previewOver && (m.doc[s] == nil || m.doc[s].Mode == body.Hex) {
		m.doc[s] = body.Preview(src, m.bodyWidth())
	}
	m.busy[s] = true
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel[s] = cancel
	id, mode, width := m.flow.ID, m.mode[s], m.bodyWidth()
	return func() tea.Msg {
		d, err := body.Render(ctx, src, mode, width)
		return renderedMsg{id: id, s: s, gen: gen, doc: d, err: err}
	}
}

func (m *Model) rewrap(s int) tea.Cmd {
	if m.cancel[s] != nil {
		m.cancel[s]()
	}
	gen := m.next()
	m.gen[s] = gen
	m.busy[s] = true
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel[s] = cancel
	id, d, width := m.flow.ID, m.doc[s], m.bodyWidth()
	return func() tea.Msg {
		nd, err := d.Rewrap(ctx, width)
		return renderedMsg{id: id, s: s, gen: gen, doc: nd, err: err}
	}
}

func (m *Model) buildHeads() {
	if m.flow == nil {
		return
	}
	w := m.width
	m.head[TabRequest] = RequestHead(m.shown, w, m.st)
	m.head[TabResponse] = ResponseHead(m.shown, w, m.st)
	m.head[TabDetails] = Details(m.flow, w, m.st)
	m.head[TabMessages] = nil
	if m.msgs.open {
		m.head[TabMessages] = MessageHead(&m.msgs.msg, m.msgs.n+1, w, m.st)
	}
}

// Search looks for q in the whole body of the current tab.
func (m *Model) Search(q string) tea.Cmd {
	m.query = q
	if q != "" {
		m.last = q
	}
	m.clearMatches()
	return m.search()
}

func (m *Model) clearMatches() {
	if m.scancel != nil {
		m.scancel()
	}
	m.sgen = m.next()
	m.ms, m.total, m.mcur, m.mdoc, m.seeking = nil, 0, 0, nil, false
}

func (m *Model) search() tea.Cmd {
	s := m.slot()
	if m.flow == nil || m.query == "" || s < 0 {
		return nil
	}
	d := m.doc[s]
	if d == nil || m.busy[s] {
		return nil // searched when the rendering arrives
	}
	if m.scancel != nil {
		m.scancel()
	}
	gen := m.next()
	m.sgen = gen
	m.seeking = true
	ctx, cancel := context.WithCancel(context.Background())
	m.scancel = cancel
	id, q := m.flow.ID, m.query
	return func() tea.Msg {
		ms, total, err := body.Search(ctx, d, q)
		return searchedMsg{id: id, gen: gen, doc: d, ms: ms, total: total, err: err}
	}
}

// bodyTop is the content line where the body's first line is.
func (m Model) bodyTop(s int) int {
	n := len(m.head[s]) + 1 // the body title line
	if d := m.doc[s]; d != nil {
		n += len(d.Notes)
	}
	return n
}

func (m Model) contentLines() int {
	if m.tab == TabDetails {
		return len(m.head[TabDetails])
	}
	s := m.slot()
	if m.flow == nil || s < 0 {
		return 0
	}
	if _, ok := m.source(s); !ok {
		return len(m.head[s])
	}
	n := m.bodyTop(s)
	if d := m.doc[s]; d != nil {
		n += d.Lines()
	} else {
		n++
	}
	return n
}

func (m *Model) scrollTo(off int) {
	m.off[m.tab] = min(max(off, 0), max(m.contentLines()-m.rows(), 0))
}

func (m *Model) showMatch() {
	if m.total == 0 || len(m.ms) == 0 || m.mdoc == nil {
		return
	}
	s := m.slot()
	if s < 0 || m.mdoc != m.doc[s] {
		return
	}
	line := m.bodyTop(s) + m.mdoc.LineOf(m.ms[m.mcur].Start)
	if off := m.off[m.tab]; line < off || line >= off+m.rows() {
		m.scrollTo(line - m.rows()/3)
	}
}

// Update handles keys, the mouse wheel and the results of work done off
// the UI goroutine.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case renderedMsg:
		if m.flow == nil || msg.id != m.flow.ID || msg.gen != m.gen[msg.s] || msg.err != nil {
			return m, nil // stale, or stopped because it went stale
		}
		m.doc[msg.s], m.busy[msg.s] = msg.doc, false
		m.scrollTo(m.off[m.tab])
		if m.query != "" && msg.s == m.slot() {
			m.ms, m.total, m.mdoc = nil, 0, nil
			return m, m.search()
		}
		return m, nil
	case searchedMsg:
		if m.flow == nil || msg.id != m.flow.ID || msg.gen != m.sgen || msg.err != nil {
			return m, nil
		}
		m.seeking = false
		m.ms, m.total, m.mdoc, m.mcur = msg.ms, msg.total, msg.doc, 0
		s := m.slot()
		if s < 0 {
			return m, nil
		}
		// Start at the first match at or below the top of the screen.
		top := m.off[m.tab] - m.bodyTop(s)
		for i, x := range m.ms {
			if msg.doc.LineOf(x.Start) >= top {
				m.mcur = i
				break
			}
		}
		m.showMatch()
		return m, nil
	case tea.MouseMsg:
		d := 0
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			d = -3
		case tea.MouseButtonWheelDown:
			d = 3
		}
		if m.onList() {
			m.moveCursor(m.msgs.cur + d)
		} else if d != 0 {
			m.scrollTo(m.off[m.tab] + d)
		}
		return m, nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.KeyMap()
	off := m.off[m.tab]
	if act := k.Flow.Which(msg); act != "" && m.flow != nil {
		id := m.flow.ID
		return m, func() tea.Msg { return FlowActionMsg{Action: act, ID: id} }
	}
	if m.onList() {
		if cmd, ok := m.listKey(msg, k); ok {
			return m, cmd
		}
	}
	switch {
	case key.Matches(msg, k.Back):
		if m.tab == TabMessages && m.msgs.open {
			m.closeMessage()
			return m, nil
		}
		return m, func() tea.Msg { return BackMsg{} }
	case key.Matches(msg, k.NextTab), key.Matches(msg, k.PrevTab):
		return m, m.switchTab(key.Matches(msg, k.PrevTab))
	case key.Matches(msg, k.Up):
		m.scrollTo(off - 1)
	case key.Matches(msg, k.Down):
		m.scrollTo(off + 1)
	case key.Matches(msg, k.PageUp):
		m.scrollTo(off - m.rows())
	case key.Matches(msg, k.PageDown):
		m.scrollTo(off + m.rows())
	case key.Matches(msg, k.Top):
		m.scrollTo(0)
	case key.Matches(msg, k.Bottom):
		m.scrollTo(m.contentLines())
	case key.Matches(msg, k.Mode):
		s := m.slot()
		if s < 0 {
			return m, nil
		}
		if _, ok := m.source(s); !ok {
			return m, nil
		}
		m.mode[s] = m.mode[s].Next()
		m.clearMatches()
		return m, m.render(s)
	case key.Matches(msg, k.Search):
		return m, func() tea.Msg { return SearchPromptMsg{} }
	case key.Matches(msg, k.Original):
		m.orig = !m.orig
		m.clearMatches()
		return m, m.SetFlow(m.flow)
	case key.Matches(msg, k.NextMatch) && m.query == "":
		return m, m.Search(m.last) // asked: the last search, here
	case key.Matches(msg, k.NextMatch):
		if len(m.ms) == 0 {
			return m, nil
		}
		m.mcur = (m.mcur + 1) % len(m.ms)
		m.showMatch()
	case key.Matches(msg, k.PrevMatch):
		if len(m.ms) == 0 {
			return m, nil
		}
		m.mcur = (m.mcur + len(m.ms) - 1) % len(m.ms)
		m.showMatch()
	}
	return m, nil
}

// View renders the tab bar, the visible content lines and the footer:
// exactly height lines.
func (m Model) View() string {
	if m.height <= 0 || m.flow == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(m.tabBar())
	rows := m.rows()
	if m.onList() {
		m.listLines(&b, rows)
	} else {
		off := m.off[m.tab]
		for i := 0; i < rows; i++ {
			b.WriteByte('\n')
			b.WriteString(m.contentLine(off + i))
		}
	}
	if m.height > 1 {
		b.WriteByte('\n')
		b.WriteString(m.footer())
	}
	return b.String()
}

func (m Model) tabBar() string {
	var parts []string
	for _, t := range m.tabs() {
		name := t.String()
		if t == TabMessages {
			name += " (" + thousands(m.flow.MessagesDropped+len(m.flow.Messages)) + ")"
		}
		if t == m.tab {
			parts = append(parts, m.st.TabActive.Render("["+name+"]"))
		} else {
			parts = append(parts, m.st.TabInactive.Render(" "+name+" "))
		}
	}
	s := " " + strings.Join(parts, " ")
	f := m.flow
	switch {
	case f.State == flowstore.StatePaused:
		p := "‖ paused at the " + string(f.Paused)
		if !f.Since.IsZero() && !m.now.IsZero() && m.now.After(f.Since) {
			p += " for " + flowstore.FormatDuration(m.now.Sub(f.Since).Truncate(time.Second))
		}
		s += "  " + m.st.Paused.Render(p)
	case f.State == flowstore.StateDraft:
		s += "  " + m.st.Paused.Render("draft: not sent")
	}
	if f.Original != nil {
		if m.orig {
			s += "  " + m.st.Warn.Render("[ORIGINAL]")
		} else {
			s += "  " + m.st.Flag.Render("[edited]")
		}
	}
	if r := m.shown.Request; r != nil {
		s += "  " + m.st.Muted.Render(clean(r.Method+" "+r.URL()))
	}
	return ansi.Truncate(s, m.width, "…")
}

func (m Model) contentLine(i int) string {
	if m.tab == TabDetails {
		if i < len(m.head[TabDetails]) {
			return ansi.Truncate(m.head[TabDetails][i], m.width, "…")
		}
		return ""
	}
	s := m.slot()
	if s < 0 {
		return ""
	}
	head := m.head[s]
	if i < len(head) {
		return ansi.Truncate(head[i], m.width, "…")
	}
	src, ok := m.source(s)
	if !ok {
		return ""
	}
	i -= len(head)
	d := m.doc[s]
	if i == 0 {
		return m.bodyTitle(s, src, d)
	}
	i--
	if d == nil {
		if i == 0 {
			return m.st.Muted.Render(" rendering…")
		}
		return ""
	}
	if i < len(d.Notes) {
		return ansi.Truncate(m.st.Warn.Render(" ! "+clean(d.Notes[i])), m.width, "…")
	}
	i -= len(d.Notes)
	if i >= d.Lines() {
		return ""
	}
	margin := " "
	if m.mdoc == d && len(m.ms) > 0 && d.LineOf(m.ms[m.mcur].Start) == i {
		margin = m.st.Notice.Render(">") // the current match, visible without colour too
	}
	return margin + m.bodyLine(d, i)
}

func (m Model) bodyTitle(s int, src body.Source, d *body.Doc) string {
	info := flowstore.FormatSize(src.Size)
	if d != nil {
		info = d.Info
	}
	view := m.mode[s].String()
	if d != nil && m.mode[s] == body.Auto && !m.busy[s] {
		view = "auto: " + d.Mode.String()
	}
	if m.busy[s] && (d == nil || !strings.HasSuffix(d.Info, "rendering…")) {
		info += ", rendering…"
	}
	what := "body"
	if s == int(TabMessages) {
		what = "data"
	}
	t := fmt.Sprintf("── %s: %s · view %s ", what, info, view)
	if w := ansi.StringWidth(t); w < m.width-1 {
		t += strings.Repeat("─", m.width-1-w)
	}
	return " " + m.st.Muted.Render(ansi.Truncate(t, m.width-1, "…"))
}

func (m Model) footer() string {
	if m.onList() {
		return m.listFooter()
	}
	var parts []string
	if s := m.slot(); m.query != "" && s >= 0 {
		q := "/" + clean(m.query)
		switch {
		case m.seeking || m.busy[s]:
			parts = append(parts, q+" searching…")
		case m.mdoc == nil:
		case m.total == 0:
			parts = append(parts, m.st.Warn.Render(q+" no match"))
		default:
			more := ""
			if m.total > len(m.ms) {
				more = fmt.Sprintf(" (%d kept)", len(m.ms))
			}
			parts = append(parts, m.st.Notice.Render(fmt.Sprintf("%s %d of %d%s", q, m.mcur+1, m.total, more)))
		}
	}
	n := m.contentLines()
	rows := m.rows()
	// Where the screen is, as less and vim say it: the share scrolled.
	pos := "all"
	switch off := m.off[m.tab]; {
	case n <= rows:
	case off == 0:
		pos = "top"
	case off >= n-rows:
		pos = "end"
	default:
		pos = fmt.Sprintf("%d%%", off*100/(n-rows))
	}
	parts = append(parts, m.st.Muted.Render(fmt.Sprintf("line %d of %d · %s", min(m.off[m.tab]+1, n), n, pos)))
	return ansi.Truncate(" "+strings.Join(parts, "  "), m.width, "…")
}
