package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
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
		i.Breakpoints = rules.Active(m.engine.Breakpoints())
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
	g := &m.keys.Global
	switch m.focus {
	case focusList:
		k, f := m.list.KeyMap(), m.selected()
		return k.Hints(m.flowKeys(k.Flow, f), g, hintState(f))
	case focusView:
		k, f := m.view.KeyMap(), m.view.Flow()
		return k.Hints(m.flowKeys(k.Flow, f), g, hintState(f))
	case focusRules:
		k := m.rules.KeyMap()
		return k.Hints(g)
	case focusLog:
		k := m.elog.KeyMap()
		return k.Hints(g)
	}
	k := m.help.KeyMap()
	return k.Hints()
}

func hintState(f *flowstore.Flow) keys.FlowState {
	switch {
	case f == nil:
	case f.State == flowstore.StatePaused:
		return keys.FlowPaused
	case f.State == flowstore.StateDraft:
		return keys.FlowDraft
	}
	return keys.FlowOther
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
