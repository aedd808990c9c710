package tui

import (
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

// The help screen (?): the focused view's keys, with the actions that do
// nothing now shown disabled, then the keys that work everywhere.

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
