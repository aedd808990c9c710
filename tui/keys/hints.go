package keys

import "github.com/charmbracelet/bubbles/key"

// The hint line's keys: a few per context, from the same bindings help
// shows (bubbles' KeyMap.ShortHelp). In the flow list and the flow view
// they depend on the flow at hand: a is its flow actions as they stand for
// it (disabled where they do nothing now), s what it is.

// FlowState is what the hint line tells flows apart by.
type FlowState int

const (
	FlowOther FlowState = iota // done, in flight, or none
	FlowPaused
	FlowDraft
)

// Hints are the flow list's hint keys.
func (k *FlowList) Hints(a FlowActions, g *Global, s FlowState) []key.Binding {
	switch s {
	case FlowPaused:
		return []key.Binding{a.Resume, a.Edit, a.QuickEdit, a.Kill, a.Respond, a.ResumeAll, k.Open, g.Breakpoints, g.Help}
	case FlowDraft:
		return []key.Binding{a.Edit, a.QuickEdit, a.Replay, a.Copy, k.Open, k.Delete, g.Help}
	}
	return []key.Binding{k.Open, k.Filter, k.Mark, g.Intercept, a.Replay, a.Copy, a.Duplicate, g.Breakpoints, g.Help, k.Quit}
}

// Hints are the flow view's hint keys.
func (k *FlowView) Hints(a FlowActions, g *Global, s FlowState) []key.Binding {
	switch s {
	case FlowPaused:
		return []key.Binding{a.Resume, a.Edit, a.QuickEdit, a.Kill, a.Respond, k.Original, k.NextTab, k.Back, g.Help}
	case FlowDraft:
		return []key.Binding{a.Edit, a.QuickEdit, a.Replay, a.Copy, k.NextTab, k.Back, g.Help}
	}
	return []key.Binding{k.NextTab, k.OpenMessage, k.Mode, k.Search, k.Back, k.Original, a.Replay, a.Copy, a.Duplicate, g.Help}
}

// Hints are the breakpoint list's hint keys.
func (k *Rules) Hints(g *Global) []key.Binding {
	return []key.Binding{k.Add, k.Toggle, k.Phase, k.Edit, k.Delete, k.Switch, k.Back, g.Help}
}

// Hints are the event log's hint keys.
func (k *EventLog) Hints(g *Global) []key.Binding { return []key.Binding{k.Clear, k.Back, g.Help} }

// Hints are the help screen's hint keys.
func (k *Help) Hints() []key.Binding { return []key.Binding{k.Down, k.Up, k.Back} }
