package flowview

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

// msgState is the Messages tab: the list's cursor and window, and the
// message open, if one is.
//
// Positions are absolute message numbers (MessagesDropped + index), so
// they keep pointing at the same message while new ones append and old
// ones are dropped past the cap.
type msgState struct {
	cur, top int
	follow   bool // the cursor is on the newest message and stays there

	open bool
	msg  flowstore.Message // a copy: it stays open when dropped from the flow
	n    int               // its absolute number

	flagW   int // width of the flags column
	scanned int // messages below this absolute number are counted in flagW
}

func newMsgState() msgState { return msgState{follow: true} }

// onList reports whether the list of messages is on screen.
func (m Model) onList() bool { return m.flow != nil && m.tab == TabMessages && !m.msgs.open }

// listRows is how many message rows fit under the list's header lines.
func (m Model) listRows() int {
	h := m.rows() - 1
	if m.flow != nil && m.flow.MessagesDropped > 0 {
		h--
	}
	return max(h, 1)
}

// syncMessages takes in the messages of a newer snapshot: only those not
// seen yet are looked at, so a flow of many messages costs what is new.
func (m *Model) syncMessages() {
	f := m.flow
	first := f.MessagesDropped
	for i := max(m.msgs.scanned-first, 0); i < len(f.Messages); i++ {
		m.msgs.flagW = max(m.msgs.flagW, len(MessageFlags(&f.Messages[i])))
	}
	m.msgs.scanned = first + len(f.Messages)
	m.clampList()
}

// clampList keeps the cursor on a message and inside the window: at the
// newest one while following, else where it was; the window moves only
// as far as it must.
func (m *Model) clampList() {
	if m.flow == nil {
		return
	}
	ms := &m.msgs
	first, n := m.flow.MessagesDropped, len(m.flow.Messages)
	if n == 0 {
		ms.cur, ms.top = first, first
		return
	}
	last := first + n - 1
	if ms.follow {
		ms.cur = last
	}
	ms.cur = min(max(ms.cur, first), last)
	h := m.listRows()
	ms.top = max(ms.top, first)
	if ms.cur < ms.top {
		ms.top = ms.cur
	}
	if ms.cur >= ms.top+h {
		ms.top = ms.cur - h + 1
	}
	ms.top = max(min(ms.top, last-h+1), first)
}

// moveCursor puts the cursor on message a; on the newest, it follows.
func (m *Model) moveCursor(a int) {
	first, n := m.flow.MessagesDropped, len(m.flow.Messages)
	if n == 0 {
		return
	}
	m.msgs.cur = min(max(a, first), first+n-1)
	m.msgs.follow = m.msgs.cur == first+n-1
	m.clampList()
}

// listKey handles the keys of the list of messages; ok is false for keys
// it leaves to the view (tabs, back, flow actions).
func (m *Model) listKey(msg tea.KeyMsg, k keys.FlowView) (tea.Cmd, bool) {
	first, n := m.flow.MessagesDropped, len(m.flow.Messages)
	h := m.listRows()
	switch {
	case key.Matches(msg, k.OpenMessage):
		return m.openMessage(), true
	case key.Matches(msg, k.Up):
		m.moveCursor(m.msgs.cur - 1)
	case key.Matches(msg, k.Down):
		m.moveCursor(m.msgs.cur + 1)
	case key.Matches(msg, k.PageUp):
		m.msgs.top -= h
		m.moveCursor(m.msgs.cur - h)
	case key.Matches(msg, k.PageDown):
		m.msgs.top += h
		m.moveCursor(m.msgs.cur + h)
	case key.Matches(msg, k.Top):
		m.moveCursor(first)
	case key.Matches(msg, k.Bottom):
		m.moveCursor(first + n - 1)
	default:
		return nil, false
	}
	return nil, true
}

// openMessage shows the message under the cursor in the body viewers.
func (m *Model) openMessage() tea.Cmd {
	f := m.flow
	i := m.msgs.cur - f.MessagesDropped
	if i < 0 || i >= len(f.Messages) {
		return nil
	}
	s := int(TabMessages)
	m.msgs.open, m.msgs.msg, m.msgs.n = true, f.Messages[i], m.msgs.cur
	m.off[TabMessages] = 0
	m.doc[s] = nil
	m.clearMatches()
	m.head[TabMessages] = MessageHead(&m.msgs.msg, m.msgs.n+1, m.width, m.st)
	return m.render(s) // searched, if a search is on, when it arrives
}

// closeMessage goes back from a message to the list, where it was.
func (m *Model) closeMessage() {
	s := int(TabMessages)
	if m.cancel[s] != nil {
		m.cancel[s]()
	}
	m.gen[s] = m.next() // a rendering that finished meanwhile is stale
	m.msgs.open = false
	m.doc[s], m.busy[s], m.head[TabMessages] = nil, false, nil
	m.clearMatches()
	m.clampList()
}

// switchTab moves to the next (or previous) tab the flow has.
func (m *Model) switchTab(prev bool) tea.Cmd {
	ts := m.tabs()
	i := 0
	for j, t := range ts {
		if t == m.tab {
			i = j
		}
	}
	before := m.slot()
	if prev {
		i = (i + len(ts) - 1) % len(ts)
	} else {
		i = (i + 1) % len(ts)
	}
	m.tab = ts[i]
	if s := m.slot(); m.query != "" && s >= 0 && (s != before || m.mdoc == nil) {
		m.clearMatches()
		return m.search()
	}
	return nil
}

// listLines writes the list of messages: the column header, the dropped
// count, then only the rows in the window. Exactly rows lines.
func (m Model) listLines(b *strings.Builder, rows int) {
	f := m.flow
	cols := MessageCols{Width: m.width, Flags: m.msgs.flagW}
	lines := 0
	emit := func(s string) {
		if lines < rows {
			b.WriteByte('\n')
			b.WriteString(s)
			lines++
		}
	}
	emit(MessageHeader(cols, m.st))
	if d := f.MessagesDropped; d > 0 {
		emit(ansi.Truncate(m.st.Warn.Render(fmt.Sprintf(" ⋯ %s older message%s dropped: over the per-flow cap", thousands(d), plural(d))), m.width, "…"))
	}
	first, n := f.MessagesDropped, len(f.Messages)
	if n == 0 {
		t := " no messages yet"
		if f.State.Final() {
			t = " no messages"
		}
		emit(m.st.Muted.Render(t))
	}
	for a := m.msgs.top; a < m.msgs.top+m.listRows() && a-first < n && lines < rows; a++ {
		emit(MessageRow(&f.Messages[a-first], cols, a == m.msgs.cur, m.st))
	}
	for lines < rows {
		emit("")
	}
}

func (m Model) listFooter() string {
	f := m.flow
	total := f.MessagesDropped + len(f.Messages)
	s := "no messages"
	if len(f.Messages) > 0 {
		s = fmt.Sprintf("message %s of %s", thousands(m.msgs.cur+1), thousands(total))
		if m.msgs.follow {
			s += " · following the newest"
		}
	}
	return ansi.Truncate(" "+m.st.Muted.Render(s), m.width, "…")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// thousands formats n with commas: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
