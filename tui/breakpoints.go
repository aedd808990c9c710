package tui

import (
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
)

// Breakpoints and standing mocks: the intercept filter (i), the breakpoint
// list (I), and keeping an edited response as a standing mock (K). The
// engine holds them; the root reads and replaces them.

// askKeep confirms a standing mock, showing what it will match.
func (m *Model) askKeep(f *flowstore.Flow) tea.Cmd {
	m.prompt.Open(prompt.Spec{Tag: tagKeep + f.ID,
		Label:   fmt.Sprintf("Answer every %s %s with this %d response from now on?", f.Request.Method, f.Request.URL(), f.Response.Status),
		Choices: []prompt.Choice{{Key: "y", Label: "yes"}, {Key: "f", Label: "match a filter instead"}}})
	return nil
}

func (m *Model) askKeepFilter(id string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	r := f.Request
	m.prompt.Open(prompt.Spec{Tag: tagKeepFilter + id, Label: "mock filter: ", History: true,
		Value:    fmt.Sprintf("~m %s & ~d %s & ~u %s", r.Method, r.Host, r.PathOnly()),
		Validate: validateRule})
	return nil
}

// keep makes f a standing mock: the flow carries the rule (so it is saved
// and loaded with the flows) and the engine gets the new list. Mocks whose
// flows were deleted from the list stay in the engine until removed in I.
func (m *Model) keep(id, flt string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok || f.Response == nil {
		return m.status.Flash("that flow is gone", true)
	}
	g := f.Clone()
	g.Mock = &flowstore.MockRule{Filter: strings.TrimSpace(flt)}
	ms := m.mocksWithout(id)
	mk := flowstore.MocksFrom([]*flowstore.Flow{g})
	if err := m.engine.SetMocks(append(ms, mk...)); err != nil {
		return m.status.Flash("standing mock: "+err.Error(), true)
	}
	cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.Mock = g.Mock })
	return tea.Batch(cmd, m.status.Flash(fmt.Sprintf("standing mock: %s answered with %d from now on (I lists it)", mk[0].Describe(), f.Response.Status), false))
}

func (m *Model) mocksWithout(flowID string) []flowstore.Mock {
	var out []flowstore.Mock
	for _, mk := range m.engine.Mocks() {
		if mk.FlowID != flowID {
			out = append(out, mk)
		}
	}
	return out
}

// openRules shows the breakpoint list.
func (m *Model) openRules() tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	m.refreshRules()
	m.focus = focusRules
	return nil
}

func (m *Model) refreshRules() {
	if m.engine != nil {
		m.rules.SetRules(m.engine.Intercepting(), m.engine.Breakpoints(), m.engine.Mocks())
	}
}

func (m *Model) ruleIntent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rules.AddMsg:
		m.prompt.Open(prompt.Spec{Tag: tagBPAdd, Label: "new breakpoint: ", History: true, Validate: validateRule,
			Placeholder: "~u /api & ~m POST"})
	case rules.EditMsg:
		m.prompt.Open(prompt.Spec{Tag: tagBPEdit + strconv.Itoa(msg.Index), Label: "breakpoint: ", Value: msg.Filter,
			History: true, Validate: validateRule})
	case rules.PhaseMsg:
		return m.changeBreakpoints(rules.NextPhase(msg.Index), "")
	case rules.ToggleMsg:
		if msg.Kind == rules.KindMock {
			return m.changeMock(msg.Index, false)
		}
		return m.changeBreakpoints(rules.Toggle(msg.Index), "")
	case rules.DeleteMsg:
		if msg.Kind == rules.KindMock {
			return m.changeMock(msg.Index, true)
		}
		return m.changeBreakpoints(rules.Delete(msg.Index), "breakpoint deleted")
	case rules.SwitchMsg:
		m.engine.SetIntercepting(msg.On)
		m.refreshRules()
		if msg.On {
			return m.status.Flash("interception on: breakpoints pause flows again", false)
		}
		return m.status.Flash("interception off: no flow will pause (s turns it back on)", false)
	}
	return nil
}

// changeBreakpoints applies change to a copy of the rules and gives them
// to the engine; say is flashed when it took.
func (m *Model) changeBreakpoints(change rules.Edit, say string) tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	bps := change(append([]flowstore.Breakpoint(nil), m.engine.Breakpoints()...))
	if err := m.engine.SetBreakpoints(bps); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	m.refreshRules()
	if say == "" {
		return nil
	}
	return m.status.Flash(say, false)
}

// changeMock disables/enables or removes a standing mock, in the engine and
// on the flow that carries it.
func (m *Model) changeMock(i int, remove bool) tea.Cmd {
	ms := m.engine.Mocks()
	if i >= len(ms) {
		return nil
	}
	mk := ms[i]
	say := "standing mock removed: " + mk.Describe()
	if remove {
		ms = append(ms[:i:i], ms[i+1:]...)
	} else {
		ms[i].Disabled = !ms[i].Disabled
		say = "standing mock on: " + mk.Describe()
		if ms[i].Disabled {
			say = "standing mock off: " + mk.Describe()
		}
	}
	if err := m.engine.SetMocks(ms); err != nil {
		return m.status.Flash("standing mock: "+err.Error(), true)
	}
	cmd := m.updateFlow(mk.FlowID, func(f *flowstore.Flow) {
		switch {
		case remove:
			f.Mock = nil
		case f.Mock != nil:
			f.Mock.Disabled = ms[i].Disabled
		}
	})
	m.refreshRules()
	return tea.Batch(cmd, m.status.Flash(say, false))
}

// validateRule accepts a filter that parses and is not empty.
func validateRule(s string) *prompt.Problem {
	if strings.TrimSpace(s) == "" {
		return &prompt.Problem{Pos: -1, Msg: "write a filter (~all pauses everything)"}
	}
	return validateFilter(s)
}

// openIntercept asks for the intercept filter, mitmproxy's i.
func (m *Model) openIntercept() tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	v := ""
	if bps := m.engine.Breakpoints(); rules.Main(bps) >= 0 {
		v = bps[rules.Main(bps)].Filter
	}
	m.prompt.Open(prompt.Spec{Tag: tagIntercept, Label: "intercept: ", Value: v, History: true, Validate: validateFilter,
		Placeholder: "~u /api & ~m POST   (pauses requests and responses; empty: none)"})
	return nil
}

// setIntercept sets, replaces or (given nothing) removes the intercept
// filter, and turns interception on for a new one.
func (m *Model) setIntercept(v string) tea.Cmd {
	v = strings.TrimSpace(v)
	if _, err := filter.Parse(v); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	bps := append([]flowstore.Breakpoint(nil), m.engine.Breakpoints()...)
	if v == "" && rules.Main(bps) < 0 {
		return nil
	}
	bps = rules.SetMain(v)(bps)
	if err := m.engine.SetBreakpoints(bps); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	m.refreshRules()
	if v == "" {
		msg := "intercept filter cleared"
		if len(bps) > 0 {
			msg += fmt.Sprintf("; %d other breakpoint(s) remain (I)", len(bps))
		}
		return m.status.Flash(msg, false)
	}
	m.engine.SetIntercepting(true)
	return m.status.Flash("intercepting "+v+" (requests and responses); a resumes, I lists breakpoints", false)
}
