package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui/editor"
	"github.com/interceptor-tui/interceptor-tui/tui/eventlog"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
)

// Prompt tags: what an open prompt's answer is for. Those ending in ":"
// carry an argument (a flow ID, mostly) after it.
const (
	tagFilter     = "filter"
	tagSearch     = "search"
	tagComment    = "comment:" // + flow ID
	tagClear      = "clear"
	tagQuit       = "quit"
	tagQuitPaused = "quit-paused"
	tagIntercept  = "intercept"
	tagBPAdd      = "bp-add"
	tagBPPhase    = "bp-phase:"    // + filter
	tagBPEdit     = "bp-edit:"     // + index
	tagQuick      = "quick:"       // + flow ID
	tagQuickValue = "quick-value:" // + part ":" + flow ID
	tagKeep       = "keep:"        // + flow ID
	tagKeepFilter = "keep-filter:" // + flow ID
	tagCopy       = "copy:"        // + flow ID
	tagExport     = "export:"      // + flow ID
	tagBody       = "body:"        // + flow ID
	tagSave       = "save:"        // + flow ID, or nothing
	tagPath       = "path"
	tagFormat     = "format"
	tagOverwrite  = "overwrite"
	tagEdit       = "edit:" // editor tags: + what ":" + flow ID
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
		ids := m.flows.Marked()
		for _, id := range ids {
			m.updateFlow(id, func(f *flowstore.Flow) { f.Marked = false })
		}
		return m.status.Flash(fmt.Sprintf("cleared %d mark(s)", len(ids)), false), true
	case flowlist.MarkedOnlyMsg:
		m.flows.SetMarkedOnly(msg.On)
		m.list.Rebuilt()
		m.list.SetEmptyText(m.emptyText())
	case flowlist.CommentMsg:
		f, found := m.store.Get(msg.ID)
		if !found {
			return m.status.Flash("that flow is gone", true), true
		}
		m.prompt.Open(prompt.Spec{Tag: tagComment + msg.ID, Label: "comment: ", Value: f.Comment})
	case flowlist.DeleteMsg:
		return m.deleteFlow(msg.ID), true
	case flowlist.ClearAllMsg:
		m.prompt.Open(prompt.Spec{Tag: tagClear, Confirm: true,
			Label: fmt.Sprintf("Clear all %d flows? Paused and unfinished ones stay.", m.store.Len())})
	case flowlist.FilterMsg:
		m.prompt.Open(prompt.Spec{Tag: tagFilter, Label: "filter: ", Value: m.flows.Filter().String(), History: true,
			Validate: validateFilter, Placeholder: "~d example.com & ~m POST   (empty: all flows)"})
	case flowlist.QuitMsg:
		// q is "back" everywhere else: one too many must not end the
		// session, so the list's q always asks (mitmproxy's does too).
		return m.requestQuit(true), true
	case flowlist.FlowActionMsg:
		return m.flowAction(msg.Action, msg.ID), true
	case flowview.FlowActionMsg:
		return m.flowAction(msg.Action, msg.ID), true
	case editor.DoneMsg:
		cmd := m.edited(msg)
		if m.mouse {
			// Bubble Tea turns the mouse off for the editor and not back on.
			cmd = tea.Batch(tea.EnableMouseCellMotion, cmd)
		}
		return cmd, true
	case resumedDoneMsg:
		if msg.left > 0 {
			m.log.Add(flowstore.LevelWarn, "quit", "", fmt.Sprintf("%d resumed flow(s) had not finished after %s; quitting cuts them off", msg.left, flowstore.FormatDuration(m.resumeWait)))
		}
		return m.quit(), true
	case copiedMsg:
		return m.copied(msg), true
	case writtenMsg:
		return m.written(msg), true
	case browserMsg:
		if msg.err != nil {
			return m.status.Flash("browser: "+msg.err.Error(), true), true
		}
		return m.status.Flash(msg.text, false), true
	case rules.BackMsg:
		m.focus = m.viewFocus()
	case rules.AddMsg, rules.EditMsg, rules.PhaseMsg, rules.ToggleMsg, rules.DeleteMsg, rules.SwitchMsg:
		return m.ruleIntent(msg), true
	case flowview.BackMsg:
		m.view.Close()
		m.focus = focusList
	case flowview.SearchPromptMsg:
		// Empty, as a shell's prompt: the last query is one up away.
		m.prompt.Open(prompt.Spec{Tag: tagSearch, Label: "search: ", History: true, Placeholder: "text to find (↑ the last search)"})
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

// deleteFlow deletes a flow from the list and the store, and says which;
// a flow someone is waiting on (paused, in flight) is not deleted under
// the engine: it is resolved first.
func (m *Model) deleteFlow(id string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	switch {
	case f.State == flowstore.StatePaused:
		return m.status.Flash("this flow is paused and its client waits: a resumes it, X kills it; then d deletes it", true)
	case !f.State.Final() && f.State != flowstore.StateDraft:
		return m.status.Flash("this flow is still in flight: d deletes it once it is done", true)
	}
	m.store.Delete(id)
	m.flows.Remove(id)
	m.list.Applied(nil)
	what := "flow"
	if f.State == flowstore.StateDraft {
		what = "draft"
	}
	if r := f.Request; r != nil {
		what += " " + r.Method + " " + r.URL()
	}
	return m.status.Flash("deleted "+what+" (it is gone from the list and the store)", false)
}

func (m *Model) viewFocus() focus {
	if m.view.Flow() != nil {
		return focusView
	}
	return focusList
}

// updateFlow changes a flow in the store and shows the result at once,
// before the store's event comes round.
func (m *Model) updateFlow(id string, fn func(*flowstore.Flow)) tea.Cmd {
	f, ok := m.store.Update(id, fn)
	if !ok {
		return nil
	}
	m.flows.Upsert(f)
	m.list.Applied(nil)
	if v := m.view.Flow(); v != nil && v.ID == id {
		return m.view.SetFlow(f)
	}
	return nil
}

func (m *Model) submit(msg prompt.SubmitMsg) tea.Cmd {
	if cmd, ok := m.submitAction(msg); ok {
		return cmd
	}
	switch {
	case msg.Tag == tagFilter:
		f, err := filter.Parse(msg.Value)
		if err != nil { // validated already; keep the last good filter
			return m.status.Flash(err.Error(), true)
		}
		return m.applyFilter(f)
	case msg.Tag == tagSearch:
		return m.view.Search(msg.Value)
	case strings.HasPrefix(msg.Tag, tagComment):
		m.updateFlow(strings.TrimPrefix(msg.Tag, tagComment), func(f *flowstore.Flow) { f.Comment = msg.Value })
	case msg.Tag == tagClear:
		kept := m.store.Clear()
		m.view.Close()
		m.flows.Rebuild()
		m.list.Rebuilt()
		if kept > 0 {
			return m.status.Flash(fmt.Sprintf("cleared; %d paused or unfinished flow(s) kept", kept), false)
		}
		return m.status.Flash("cleared", false)
	case msg.Tag == tagQuit:
		return m.quit()
	case msg.Tag == tagQuitPaused:
		if m.engine != nil {
			if msg.Value == "r" {
				return m.resumeAndQuit()
			}
			m.engine.KillAll()
		}
		return m.quit()
	}
	return nil
}

// selected is the whole flow under the list's cursor, nil when there is
// none.
func (m *Model) selected() *flowstore.Flow { return m.flows.Flow(m.list.Selected()) }

// requestQuit quits at once unless something would be lost or always is
// set, and asks then: with flows paused, whether to resume them all or kill
// them all.
func (m *Model) requestQuit(always bool) tea.Cmd {
	paused := len(m.flows.Paused()) // the last wake-up may be a frame old
	var lost []string
	if n := m.flows.Counts().Marked; n > 0 {
		lost = append(lost, fmt.Sprintf("%d marked flow(s) will be lost", n))
	}
	if n := paused; n > 0 && m.engine != nil {
		label := fmt.Sprintf("Quit? %d paused flow(s) wait", n)
		if len(lost) > 0 {
			label += "; " + strings.Join(lost, ", ")
		}
		m.prompt.Open(prompt.Spec{Tag: tagQuitPaused, Label: label + ":", Choices: []prompt.Choice{
			{Key: "r", Label: "resume them and quit"}, {Key: "k", Label: "kill them and quit"}}})
		return nil
	}
	if len(lost) == 0 && !always {
		return m.quit()
	}
	label := "Quit interceptor-tui?"
	if len(lost) > 0 {
		label = "Quit? " + strings.Join(lost, ", ") + "."
	}
	m.prompt.Open(prompt.Spec{Tag: tagQuit, Confirm: true, Label: label})
	return nil
}

func (m *Model) openHelp() {
	m.back = m.focus
	var c keys.Context
	var sections []help.Section
	switch m.focus {
	case focusList:
		k := m.list.KeyMap()
		k.Flow = m.flowKeys(k.Flow, m.selected())
		c = keys.Context{Name: keys.CtxFlowList, Title: "Flow list", Actions: k.Actions()}
		sections = append(sections, filterHelp())
	case focusView:
		k := m.view.KeyMap()
		k.Flow = m.flowKeys(k.Flow, m.view.Flow())
		c = keys.Context{Name: keys.CtxFlowView, Title: "Flow view", Actions: k.Actions()}
	case focusRules:
		k := m.rules.KeyMap()
		c = keys.Context{Name: keys.CtxRules, Title: "Breakpoints", Actions: k.Actions()}
		sections = append(sections, filterHelp())
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
	c := m.flows.Counts()
	i := statusbar.Info{Shown: c.Shown, Total: c.Total, MarkedOnly: m.flows.MarkedOnly(),
		Paused: c.Paused, Marked: c.Marked, Follow: m.list.Following()}
	if m.engine != nil {
		i.ListenAddr = m.engine.ListenAddr()
		for _, b := range m.engine.Breakpoints() {
			if b.Disabled {
				continue
			}
			d := b.Filter
			if ph := b.Phases(); ph != "both" {
				d += " (" + ph + ")"
			}
			i.Breakpoints = append(i.Breakpoints, d)
		}
		if len(i.Breakpoints) > 0 && !m.engine.Intercepting() {
			i.InterceptOff = true
		}
		for _, mk := range m.engine.Mocks() {
			if !mk.Disabled {
				i.Mocks++
			}
		}
	}
	if !m.nowT.IsZero() {
		i.PausedFor = m.flows.LongestPause(m.nowT)
	}
	i.Filter = m.flows.Filter().String()
	o, rev := m.flows.Order()
	i.Order, i.Reverse = o.String(), rev
	i.Memory = m.mem
	return i
}

// hints are the keys the hint line shows for the focused view.
func (m *Model) hints() []key.Binding {
	g := m.keys.Global
	switch m.focus {
	case focusList:
		k := m.list.KeyMap()
		f := m.selected()
		a := m.flowKeys(k.Flow, f)
		switch {
		case f != nil && f.State == flowstore.StatePaused:
			return []key.Binding{a.Resume, a.Edit, a.QuickEdit, a.Kill, a.Respond, a.ResumeAll, k.Open, g.Breakpoints, g.Help}
		case f != nil && f.State == flowstore.StateDraft:
			return []key.Binding{a.Edit, a.QuickEdit, a.Replay, a.Copy, k.Open, k.Delete, g.Help}
		}
		return []key.Binding{k.Open, k.Filter, k.Mark, g.Intercept, a.Replay, a.Copy, a.Duplicate, g.Breakpoints, g.Help, k.Quit}
	case focusView:
		k := m.view.KeyMap()
		f := m.view.Flow()
		a := m.flowKeys(k.Flow, f)
		switch {
		case f != nil && f.State == flowstore.StatePaused:
			return []key.Binding{a.Resume, a.Edit, a.QuickEdit, a.Kill, a.Respond, k.Original, k.NextTab, k.Back, g.Help}
		case f != nil && f.State == flowstore.StateDraft:
			return []key.Binding{a.Edit, a.QuickEdit, a.Replay, a.Copy, k.NextTab, k.Back, g.Help}
		}
		return []key.Binding{k.NextTab, k.OpenMessage, k.Mode, k.Search, k.Back, k.Original, a.Replay, a.Copy, a.Duplicate, g.Help}
	case focusRules:
		k := m.rules.KeyMap()
		return []key.Binding{k.Add, k.Toggle, k.Phase, k.Edit, k.Delete, k.Switch, k.Back, g.Help}
	case focusLog:
		k := m.elog.KeyMap()
		return []key.Binding{k.Clear, k.Back, g.Help}
	}
	k := m.help.KeyMap()
	return []key.Binding{k.Down, k.Up, k.Back}
}

func (m *Model) emptyText() string {
	switch {
	case m.flows.MarkedOnly():
		return "No marked flows. M shows all again."
	case !m.flows.Filter().Empty():
		return "No flow matches the filter. f changes it."
	case m.engine != nil && m.engine.ListenAddr() != "":
		return "No flows yet. Point a client at the proxy: " + m.engine.ListenAddr()
	}
	return "No flows."
}
