package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/editor"
	"github.com/interceptor-tui/interceptor-tui/tui/flowedit"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

// Editing paused flows and drafts, in $EDITOR or with quick prompts, and
// answering them (package flowedit makes the text and the changes). Edits
// go to the store; the engine takes them from there when the flow is
// resumed (or, for a draft, sent).

// edit opens the paused message, or a draft's request, in $EDITOR; text
// that did not parse last time is reopened as it was left.
func (m *Model) edit(f *flowstore.Flow) tea.Cmd {
	k := flowedit.Key(f)
	what, _, _ := strings.Cut(k, ":")
	text, ok := m.kept[k]
	if !ok {
		text = flowedit.Text(f, what)
	}
	return editor.Edit(tagEdit+k, what+"-*.http", text)
}

// respond opens a response to answer a paused flow with.
func (m *Model) respond(f *flowstore.Flow) tea.Cmd {
	k := flowedit.Answer + ":" + f.ID
	text, ok := m.kept[k]
	if !ok {
		text = flowedit.Text(f, flowedit.Answer)
	}
	return editor.Edit(tagEdit+k, "response-*.http", text)
}

// edited takes back what the editor left: parsed and applied, or, when it
// does not parse, kept for the next e with the error and its line shown;
// the flow stays paused either way.
func (m *Model) edited(msg editor.DoneMsg) tea.Cmd {
	k := strings.TrimPrefix(msg.Tag, tagEdit)
	what, id, _ := strings.Cut(k, ":")
	_, reopened := m.kept[k]
	if msg.Err != nil {
		if msg.Changed {
			m.kept[k] = msg.Text
		}
		return m.status.Flash(msg.Err.Error()+"; nothing was applied", true)
	}
	if !msg.Changed && !reopened && what != flowedit.Answer {
		return m.status.Flash("no change", false)
	}
	f, ok := m.store.Get(id)
	want := flowstore.PhaseRequest
	if what == flowedit.Response {
		want = flowstore.PhaseResponse
	}
	switch {
	case !ok:
		delete(m.kept, k)
		return m.status.Flash("the flow is gone; the edit was not applied", true)
	case what == flowedit.Request && f.State == flowstore.StateDraft:
	case f.State != flowstore.StatePaused || (what != flowedit.Answer && f.Paused != want):
		delete(m.kept, k)
		return m.status.Flash(fmt.Sprintf("the flow was released while you edited (it is %s now); the edit was not applied", f.State), true)
	}
	req, resp, err := flowedit.Parse(f, what, msg.Text)
	if err != nil {
		m.kept[k] = msg.Text
		again := keys.Label(m.keys.FlowList.Flow.Edit.Keys())
		if what == flowedit.Answer {
			again = keys.Label(m.keys.FlowList.Flow.Respond.Keys())
		}
		stays := "the flow stays paused"
		if f.State == flowstore.StateDraft {
			stays = "the draft is unchanged"
		}
		text := fmt.Sprintf("%s not applied: %v; %s, %s reopens your text", what, err, stays, again)
		m.log.Add(flowstore.LevelWarn, "edit", id, text)
		return m.status.Flash(text, true)
	}
	delete(m.kept, k)
	switch what {
	case flowedit.Request:
		cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.KeepOriginal(); f.Request = req })
		next := "a sends it on"
		if f.State == flowstore.StateDraft {
			next = "r sends it"
		}
		return tea.Batch(cmd, m.status.Flash("request edited: "+next, false))
	case flowedit.Response:
		cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.KeepOriginal(); f.Response = resp })
		return tea.Batch(cmd, m.status.Flash("response edited: a sends it to the client, K keeps it as a standing mock", false))
	}
	if err := m.engine.Respond(id, resp); err != nil {
		m.kept[k] = msg.Text
		return m.status.Flash("answer: "+err.Error(), true)
	}
	m.answered[id] = true
	m.forget(id)
	return m.status.Flash(fmt.Sprintf("answered with %d %s; the upstream was not contacted", resp.Status, resp.Reason), false)
}

// quickEdit asks which part to change without leaving the TUI.
func (m *Model) quickEdit(f *flowstore.Flow) tea.Cmd {
	label, parts := flowedit.QuickMenu(f)
	m.prompt.Open(prompt.Spec{Tag: tagQuick + f.ID, Label: label, Choices: parts})
	return nil
}

func (m *Model) askQuickValue(id, part string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	spec := flowedit.QuickPrompt(f, part)
	spec.Tag = tagQuickValue + part + ":" + id
	m.prompt.Open(spec)
	return nil
}

// applyQuick makes a quick edit; the values were validated as typed. An
// empty value changes nothing (e empties a body).
func (m *Model) applyQuick(id, part, v string) tea.Cmd {
	if part != "b" { // a body's spaces are its own
		v = strings.TrimSpace(v)
	}
	if v == "" {
		return nil
	}
	f, ok := m.store.Get(id)
	if !ok || (f.State != flowstore.StatePaused && f.State != flowstore.StateDraft) {
		return m.status.Flash("the flow is no longer paused; nothing changed", true)
	}
	var done string
	cmd := m.updateFlow(id, func(f *flowstore.Flow) {
		f.KeepOriginal()
		done = flowedit.Quick(f, part, v)
	})
	return tea.Batch(cmd, m.status.Flash(done, false))
}
