package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui/eventlog"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
)

// Prompt tags: what an open prompt's answer is for.
const (
	tagFilter  = "filter"
	tagSearch  = "search"
	tagComment = "comment:" // + flow ID
	tagClear   = "clear"
	tagQuit    = "quit"
)

// intent handles the components' intent messages; ok is false for any
// other message.
func (m *Model) intent(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case flowlist.OpenMsg:
		f, found := m.store.Get(msg.ID)
		if !found {
			return m.status.Flash("that flow is gone", true), true
		}
		m.focus = focusView
		return m.view.Open(f), true
	case flowlist.MarkMsg:
		m.updateFlow(msg.ID, func(f *flowstore.Flow) { f.Marked = msg.Marked })
	case flowlist.ClearMarksMsg:
		n := len(m.marked)
		for id := range m.marked {
			m.updateFlow(id, func(f *flowstore.Flow) { f.Marked = false })
		}
		return m.status.Flash(fmt.Sprintf("cleared %d mark(s)", n), false), true
	case flowlist.MarkedOnlyMsg:
		m.list.SetMarkedOnly(msg.On, m.store.List())
		m.list.SetEmptyText(m.emptyText())
	case flowlist.CommentMsg:
		m.prompt.Open(prompt.Spec{Tag: tagComment + msg.ID, Label: "comment: ", Value: msg.Comment})
	case flowlist.DeleteMsg:
		m.store.Delete(msg.ID)
		m.list.Remove(msg.ID)
		m.count(msg.ID, nil)
	case flowlist.ClearAllMsg:
		m.prompt.Open(prompt.Spec{Tag: tagClear, Confirm: true,
			Label: fmt.Sprintf("Clear all %d flows? Paused and unfinished ones stay.", m.store.Len())})
	case flowlist.FilterMsg:
		v := ""
		if m.filter != nil {
			v = m.filter.String()
		}
		m.prompt.Open(prompt.Spec{Tag: tagFilter, Label: "filter: ", Value: v, History: true,
			Validate: validateFilter, Placeholder: "~d example.com & ~m POST   (empty: all flows)"})
	case flowlist.QuitMsg:
		return m.requestQuit(), true
	case flowview.BackMsg:
		m.view.Close()
		m.focus = focusList
	case flowview.SearchPromptMsg:
		m.prompt.Open(prompt.Spec{Tag: tagSearch, Label: "search: ", Value: msg.Query, History: true})
	case eventlog.ClearMsg:
		m.log.Clear()
		m.elog.SetEntries(nil)
	case eventlog.BackMsg, help.BackMsg:
		m.focus = m.back
		if _, ok := msg.(eventlog.BackMsg); ok {
			m.focus = m.viewFocus()
		}
	case prompt.SubmitMsg:
		return m.submit(msg), true
	case prompt.CancelMsg:
	default:
		return nil, false
	}
	return nil, true
}

func (m *Model) viewFocus() focus {
	if m.view.Flow() != nil {
		return focusView
	}
	return focusList
}

// updateFlow changes a flow in the store and shows the result at once,
// before the store's event comes round.
func (m *Model) updateFlow(id string, fn func(*flowstore.Flow)) {
	if f, ok := m.store.Update(id, fn); ok {
		m.list.Upsert(f)
		m.count(id, f)
	}
}

func (m *Model) submit(msg prompt.SubmitMsg) tea.Cmd {
	switch {
	case msg.Tag == tagFilter:
		f, err := filter.Parse(msg.Value)
		if err != nil { // validated already; keep the last good filter
			return m.status.Flash(err.Error(), true)
		}
		m.filter = f
		m.list.SetEmptyText(m.emptyText())
		m.list.SetFilter(m.matcher(), m.store.List())
		if f.String() == "" {
			return m.status.Flash("filter cleared", false)
		}
		return m.status.Flash(fmt.Sprintf("filter: %s (%d of %d flows)", f, m.list.Len(), m.store.Len()), false)
	case msg.Tag == tagSearch:
		return m.view.Search(msg.Value)
	case strings.HasPrefix(msg.Tag, tagComment):
		m.updateFlow(strings.TrimPrefix(msg.Tag, tagComment), func(f *flowstore.Flow) { f.Comment = msg.Value })
	case msg.Tag == tagClear:
		kept := m.store.Clear()
		m.view.Close()
		m.list.Reset(m.recount())
		if kept > 0 {
			return m.status.Flash(fmt.Sprintf("cleared; %d paused or unfinished flow(s) kept", kept), false)
		}
		return m.status.Flash("cleared", false)
	case msg.Tag == tagQuit:
		return m.quit()
	}
	return nil
}

func validateFilter(s string) *prompt.Problem {
	_, err := filter.Parse(s)
	if err == nil {
		return nil
	}
	var pe *filter.ParseError
	if errors.As(err, &pe) {
		return &prompt.Problem{Pos: pe.Pos, Msg: pe.Msg}
	}
	return &prompt.Problem{Pos: -1, Msg: err.Error()}
}

func (m *Model) matcher() func(*flowstore.Flow) bool {
	if m.filter == nil || strings.TrimSpace(m.filter.String()) == "" {
		return nil
	}
	return m.filter.Match
}

// requestQuit quits at once unless something would be lost, and asks then.
func (m *Model) requestQuit() tea.Cmd {
	var lost []string
	if n := len(m.paused); n > 0 {
		lost = append(lost, fmt.Sprintf("%d paused flow(s) will be killed", n))
	}
	if n := len(m.marked); n > 0 {
		lost = append(lost, fmt.Sprintf("%d marked flow(s) will be lost", n))
	}
	if len(lost) == 0 {
		return m.quit()
	}
	m.prompt.Open(prompt.Spec{Tag: tagQuit, Confirm: true, Label: "Quit? " + strings.Join(lost, ", ") + "."})
	return nil
}

func (m *Model) openHelp() {
	m.back = m.focus
	var c keys.Context
	var sections []help.Section
	switch m.focus {
	case focusList:
		k := m.list.KeyMap()
		c = keys.Context{Name: keys.CtxFlowList, Title: "Flow list", Actions: k.Actions()}
		sections = append(sections, filterHelp())
	case focusView:
		k := m.view.KeyMap()
		c = keys.Context{Name: keys.CtxFlowView, Title: "Flow view", Actions: k.Actions()}
	case focusLog:
		k := m.elog.KeyMap()
		c = keys.Context{Name: keys.CtxEventLog, Title: "Event log", Actions: k.Actions()}
	}
	hk := m.help.KeyMap()
	ctxs := []keys.Context{c,
		{Name: keys.CtxGlobal, Title: "Everywhere", Actions: m.keys.Global.Actions()},
		{Name: keys.CtxPrompt, Title: "In a prompt", Actions: m.keys.Prompt.Actions()},
		{Name: keys.CtxHelp, Title: "In this help", Actions: hk.Actions()},
	}
	m.help.Show(c.Title, ctxs, sections...)
	m.focus = focusHelp
}

func filterHelp() help.Section {
	s := help.Section{Title: "Filter expressions (f)"}
	for _, o := range filter.Help() {
		op := o.Op
		if o.Arg != "" {
			op += " " + o.Arg
		}
		s.Rows = append(s.Rows, [2]string{op, o.Help})
	}
	return s
}

func (m *Model) info() statusbar.Info {
	i := statusbar.Info{Shown: m.list.Len(), Total: m.store.Len(), MarkedOnly: m.list.MarkedOnly(),
		Paused: len(m.paused), Marked: len(m.marked), Follow: m.list.Following()}
	if m.engine != nil {
		i.ListenAddr = m.engine.ListenAddr()
		if b, ok := m.engine.(BreakpointLister); ok {
			i.Breakpoints = b.BreakpointFilters()
		}
	}
	if m.filter != nil {
		i.Filter = m.filter.String()
	}
	o, rev := m.list.Order()
	i.Order, i.Reverse = o.String(), rev
	return i
}

// hints are the keys the hint line shows for the focused view.
func (m *Model) hints() []key.Binding {
	g := m.keys.Global
	switch m.focus {
	case focusList:
		k := m.list.KeyMap()
		return []key.Binding{k.Open, k.Filter, k.Mark, k.Follow, k.Order, k.Comment, g.EventLog, g.Help, k.Quit}
	case focusView:
		k := m.view.KeyMap()
		return []key.Binding{k.NextTab, k.Mode, k.Search, k.NextMatch, k.Back, g.Help}
	case focusLog:
		k := m.elog.KeyMap()
		return []key.Binding{k.Clear, k.Back, g.Help}
	}
	k := m.help.KeyMap()
	return []key.Binding{k.Down, k.Up, k.Back}
}

func (m *Model) emptyText() string {
	switch {
	case m.list.MarkedOnly():
		return "No marked flows. M shows all again."
	case m.matcher() != nil:
		return "No flow matches the filter. f changes it."
	case m.engine != nil && m.engine.ListenAddr() != "":
		return "No flows yet. Point a client at the proxy: " + m.engine.ListenAddr()
	}
	return "No flows."
}
