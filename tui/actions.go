package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/flowedit"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

// The flow actions (keys.FlowActions): the list and the view emit them for
// their flow; the root checks that they make sense now, says why when they
// do not, and turns them into store writes and engine calls.

const noEngine = "no proxy is running here: only viewing loaded flows"

// flowAction acts on a flow by ID ("" when there is none).
func (m *Model) flowAction(act, id string) tea.Cmd {
	var f *flowstore.Flow
	if id != "" {
		f, _ = m.store.Get(id)
	}
	if why := m.why(act, f); why != "" {
		return m.status.Flash(why, true)
	}
	switch act {
	case keys.ActResume:
		return m.resume(f)
	case keys.ActResumeAll:
		m.flows.Watch(m.flows.PausedAt(flowstore.PhaseRequest)...)
		return m.status.Flash(fmt.Sprintf("resumed %d paused flow(s)", m.engine.ResumeAll()), false)
	case keys.ActKill:
		if err := m.engine.Kill(f.ID); err != nil {
			return m.status.Flash("kill: "+err.Error(), true)
		}
		m.forget(f.ID)
		return m.status.Flash("killed: the client's connection is closed", false)
	case keys.ActRespond:
		return m.respond(f)
	case keys.ActEdit:
		return m.edit(f)
	case keys.ActQuickEdit:
		return m.quickEdit(f)
	case keys.ActRevert:
		return m.revert(f)
	case keys.ActKeep:
		return m.askKeep(f)
	case keys.ActReplay:
		return m.replay(f)
	case keys.ActDuplicate:
		return m.duplicate(f)
	case keys.ActCopy:
		return m.askExport(f, false)
	case keys.ActExport:
		return m.askExport(f, true)
	case keys.ActSaveBody:
		return m.askBody(f)
	case keys.ActSave:
		return m.askSave(f)
	}
	return nil
}

// why says why an action does nothing for f now, or "" when it does
// something. The help screen and the hint line show the same verdicts.
func (m *Model) why(act string, f *flowstore.Flow) string {
	switch act {
	case keys.ActResumeAll:
		if m.engine == nil {
			return noEngine
		}
		if m.flows.Counts().Paused == 0 {
			return "no flow is paused"
		}
		return ""
	case keys.ActSave:
		if m.store.Len() == 0 {
			return "no flows to save"
		}
		return ""
	case keys.ActReplay:
		if m.engine == nil {
			return noEngine
		}
		if m.flows.Counts().Marked > 0 {
			return ""
		}
	}
	if f == nil {
		if m.list.Selected() != nil {
			// The row outlived its flow by a frame: the store let it go.
			return "this flow is no longer held: the oldest flows go past --max-flows"
		}
		return "no flow selected"
	}
	if f.Request == nil {
		return "this flow has no request"
	}
	paused := f.State == flowstore.StatePaused
	draft := f.State == flowstore.StateDraft
	switch act {
	case keys.ActResume, keys.ActKill, keys.ActRespond:
		switch {
		case m.engine == nil:
			return noEngine
		case draft:
			return "a draft is not sent yet: r sends it"
		case !paused:
			return "this flow is not paused (i sets a breakpoint)"
		}
	case keys.ActEdit, keys.ActQuickEdit:
		if !paused && !draft {
			return "only a paused flow or a draft can be edited: D duplicates this one as a draft"
		}
	case keys.ActRevert:
		switch {
		case f.Original == nil:
			return "nothing to revert: this flow was not edited"
		case !paused && !draft && !f.State.Final():
			return "this flow is in flight: revert it when it is paused or done"
		}
	case keys.ActKeep:
		switch {
		case m.engine == nil:
			return noEngine
		case f.Response == nil:
			return "no response to keep"
		case f.Mock != nil:
			return "already a standing mock: I lists it"
		case !f.Edited() && !m.answered[f.ID]:
			return "K keeps an edited response: edit it at a response breakpoint (e), or answer with R first"
		}
	case keys.ActReplay:
		if f.Request.Body.Truncated {
			return "the request body was cut at the body limit: it cannot be sent again"
		}
	case keys.ActSaveBody:
		if len(f.Request.Body.Data) == 0 && (f.Response == nil || len(f.Response.Body.Data) == 0) {
			return "this flow has no body"
		}
	}
	return ""
}

// flowKeys is k with every action that does nothing for f disabled, for
// the help screen and the hint line.
func (m *Model) flowKeys(k keys.FlowActions, f *flowstore.Flow) keys.FlowActions {
	for _, a := range k.Actions() {
		if len(a.B.Keys()) > 0 {
			a.B.SetEnabled(m.why(a.Name, f) == "")
		}
	}
	return k
}

// forget drops what the TUI keeps about a flow that is no longer paused.
func (m *Model) forget(id string) {
	for _, what := range []string{flowedit.Request, flowedit.Response, flowedit.Answer} {
		delete(m.kept, what+":"+id)
	}
}

func (m *Model) resume(f *flowstore.Flow) tea.Cmd {
	_, hadText := m.kept[flowedit.Key(f)]
	if err := m.engine.Resume(f.ID); err != nil {
		return m.status.Flash("resume: "+err.Error(), true)
	}
	m.forget(f.ID)
	if f.Paused == flowstore.PhaseRequest {
		m.flows.Watch(f.ID)
	}
	msg := "resumed"
	if f.Edited() {
		msg += " with your edits"
	}
	if hadText {
		msg += "; the text that did not parse was dropped"
	}
	return m.status.Flash(msg, false)
}

// noteRepaused says when flows resumed at their request have paused
// again at their response (a breakpoint for both phases): the status bar
// would go on counting them paused after "resumed" with no word why.
func (m *Model) noteRepaused() tea.Cmd {
	n := m.flows.Repaused()
	if n == 0 {
		return nil
	}
	return m.status.Flash(fmt.Sprintf("%d resumed flow(s) paused again, at the response (a breakpoint for both phases): a resumes, I lists breakpoints", n), false)
}

// revert puts the original messages back.
func (m *Model) revert(f *flowstore.Flow) tea.Cmd {
	m.forget(f.ID)
	cmd := m.updateFlow(f.ID, flowedit.Revert)
	return tea.Batch(cmd, m.status.Flash("reverted to the original", false))
}

// replay sends the marked flows again, in the order they came, or else f.
func (m *Model) replay(f *flowstore.Flow) tea.Cmd {
	marked := m.flows.Counts().Marked > 0
	ids := []string{f.ID}
	if marked {
		ids = idsOf(m.store.Summaries(), (*flowstore.Summary).Marked)
	}
	var errs []string
	sent := 0
	for _, id := range ids {
		if _, err := m.engine.Replay(id); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		sent++
	}
	switch {
	case len(errs) > 0 && sent == 0:
		return m.status.Flash(strings.Join(errs, "; "), true)
	case len(errs) > 0:
		return m.status.Flash(fmt.Sprintf("replayed %d of %d flows; %s", sent, len(ids), strings.Join(errs, "; ")), true)
	case marked:
		return m.status.Flash(fmt.Sprintf("replaying %d marked flow(s) in order (↻ in the list)", sent), false)
	}
	return m.status.Flash("replaying "+f.Request.Method+" "+f.Request.URL()+" as a new flow (↻ in the list)", false)
}

// duplicate makes an unsent copy of f's request, selected, to edit and send.
func (m *Model) duplicate(f *flowstore.Flow) tea.Cmd {
	d := m.store.Add(&flowstore.Flow{
		ID:      flowstore.NewID(),
		State:   flowstore.StateDraft,
		Request: f.Request.Clone(),
		Timings: flowstore.Timings{Start: m.clock()},
	})
	m.flows.Upsert(d)
	m.list.Applied(nil)
	m.list.SetFollow(false)
	m.list.Select(d.ID)
	var cmd tea.Cmd
	if m.focus == focusView {
		cmd = m.view.Open(d)
	}
	// A draft is made to be changed: straight into $EDITOR with it.
	return tea.Batch(cmd, m.status.Flash("duplicated as a draft: r sends it (again and again), e edits it again", false), m.edit(d))
}
