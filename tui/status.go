package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
)

// What the bottom lines say: the status line (info), the keys the hint
// line shows for the focused view (hints), and what an empty list says.

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
