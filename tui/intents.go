package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui/editor"
	"github.com/interceptor-tui/interceptor-tui/tui/eventlog"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
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

// submit acts on a prompt's answer, by the prompt's tag (and the argument
// after its colon).
func (m *Model) submit(msg prompt.SubmitMsg) tea.Cmd {
	tag, arg := msg.Tag, ""
	if i := strings.IndexByte(tag, ':'); i >= 0 {
		tag, arg = tag[:i+1], tag[i+1:]
	}
	switch tag {
	case tagFilter:
		f, err := filter.Parse(msg.Value)
		if err != nil { // validated already; keep the last good filter
			return m.status.Flash(err.Error(), true)
		}
		return m.applyFilter(f)
	case tagSearch:
		return m.view.Search(msg.Value)
	case tagComment:
		m.updateFlow(arg, func(f *flowstore.Flow) { f.Comment = msg.Value })
	case tagClear:
		kept := m.store.Clear()
		m.view.Close()
		m.flows.Rebuild()
		m.list.Rebuilt()
		if kept > 0 {
			return m.status.Flash(fmt.Sprintf("cleared; %d paused or unfinished flow(s) kept", kept), false)
		}
		return m.status.Flash("cleared", false)
	case tagQuit:
		return m.quit()
	case tagQuitPaused:
		if m.engine != nil {
			if msg.Value == "r" {
				return m.resumeAndQuit()
			}
			m.engine.KillAll()
		}
		return m.quit()
	case tagIntercept:
		return m.setIntercept(msg.Value)
	case tagBPAdd:
		m.prompt.Open(prompt.Spec{Tag: tagBPPhase + msg.Value, Label: "pause " + msg.Value + " at:", Choices: []prompt.Choice{
			{Key: "b", Label: "both"}, {Key: "q", Label: "request"}, {Key: "s", Label: "response"}}})
	case tagBPPhase:
		b := flowstore.Breakpoint{Filter: arg, Request: msg.Value != "s", Response: msg.Value != "q"}
		return m.changeBreakpoints(rules.Add(b), "breakpoint added: "+arg+" ("+b.Phases()+")")
	case tagBPEdit:
		i, _ := strconv.Atoi(arg)
		return m.changeBreakpoints(rules.Refilter(i, msg.Value), "breakpoint changed")
	case tagQuick:
		return m.askQuickValue(arg, msg.Value)
	case tagQuickValue:
		part, id, _ := strings.Cut(arg, ":")
		return m.applyQuick(id, part, msg.Value)
	case tagKeep:
		if msg.Value == "f" {
			return m.askKeepFilter(arg)
		}
		return m.keep(arg, "")
	case tagKeepFilter:
		return m.keep(arg, msg.Value)
	case tagCopy, tagExport:
		return m.export(arg, msg.Value, tag == tagExport)
	case tagBody:
		return m.saveBody(arg, msg.Value == "q")
	case tagSave:
		return m.saveFlows(arg, msg.Value)
	case tagPath:
		return m.pathChosen(msg.Value)
	case tagFormat:
		return m.formatChosen(msg.Value)
	case tagOverwrite:
		return m.write()
	}
	return nil
}
