// Package keys owns every key binding of the TUI, one KeyMap per context,
// as data (bubbles key.Binding). Components read their context's map, the
// help screen and the hint line are generated from the same bindings, and
// a small file in the config directory can rebind them (see Load).
//
// The defaults are mitmproxy's console keys, so its users feel at home.
// This package knows no component; components import it.
package keys

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// Context names, as written in keys.conf.
const (
	CtxGlobal   = "global"
	CtxFlowList = "flowlist"
	CtxFlowView = "flowview"
	CtxEventLog = "eventlog"
	CtxHelp     = "help"
	CtxPrompt   = "prompt"
)

// Action is one named binding of a context. B points into the KeyMap.
type Action struct {
	Name string
	B    *key.Binding
}

// Context is a named group of actions, in the order help shows them.
type Context struct {
	Name    string
	Title   string
	Actions []Action
}

// Global keys work in every view except while a prompt takes the input.
type Global struct {
	Quit, QuitNow, Help, EventLog key.Binding
}

// Actions lists the context's bindings.
func (k *Global) Actions() []Action {
	return []Action{{"quit", &k.Quit}, {"quit_now", &k.QuitNow}, {"help", &k.Help}, {"eventlog", &k.EventLog}}
}

// Moves are the cursor keys shared by the scrolling views.
type Moves struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

func (k *Moves) actions() []Action {
	return []Action{{"up", &k.Up}, {"down", &k.Down}, {"page_up", &k.PageUp}, {"page_down", &k.PageDown}, {"top", &k.Top}, {"bottom", &k.Bottom}}
}

// FlowList is the flow list's key map.
type FlowList struct {
	Moves
	Open, Filter, Follow, Order, Reverse  key.Binding
	Mark, MarkedOnly, ClearMarks, Comment key.Binding
	Delete, ClearAll, Quit                key.Binding
}

// Actions lists the context's bindings.
func (k *FlowList) Actions() []Action {
	return append(k.Moves.actions(),
		Action{"open", &k.Open}, Action{"filter", &k.Filter}, Action{"follow", &k.Follow},
		Action{"order", &k.Order}, Action{"reverse", &k.Reverse}, Action{"mark", &k.Mark},
		Action{"marked_only", &k.MarkedOnly}, Action{"clear_marks", &k.ClearMarks},
		Action{"comment", &k.Comment}, Action{"delete", &k.Delete}, Action{"clear_all", &k.ClearAll},
		Action{"quit", &k.Quit})
}

// FlowView is the flow view's key map.
type FlowView struct {
	Moves
	NextTab, PrevTab, Mode, Search, NextMatch, PrevMatch, Back key.Binding
}

// Actions lists the context's bindings.
func (k *FlowView) Actions() []Action {
	return append([]Action{{"next_tab", &k.NextTab}, {"prev_tab", &k.PrevTab}}, append(k.Moves.actions(),
		Action{"mode", &k.Mode}, Action{"search", &k.Search}, Action{"next_match", &k.NextMatch},
		Action{"prev_match", &k.PrevMatch}, Action{"back", &k.Back})...)
}

// EventLog is the event log's key map.
type EventLog struct {
	Moves
	Clear, Back key.Binding
}

// Actions lists the context's bindings.
func (k *EventLog) Actions() []Action {
	return append(k.Moves.actions(), Action{"clear", &k.Clear}, Action{"back", &k.Back})
}

// Help is the help screen's key map.
type Help struct {
	Moves
	Back key.Binding
}

// Actions lists the context's bindings.
func (k *Help) Actions() []Action { return append(k.Moves.actions(), Action{"back", &k.Back}) }

// Prompt is the key map of a prompt (filter, comment, confirmation). The
// prompt is modal: global keys other than ctrl+c do not apply while it is
// open, so typing "E" or "?" into a filter types them.
type Prompt struct {
	Submit, Cancel, HistoryPrev, HistoryNext key.Binding
}

// Actions lists the context's bindings.
func (k *Prompt) Actions() []Action {
	return []Action{{"submit", &k.Submit}, {"cancel", &k.Cancel}, {"history_prev", &k.HistoryPrev}, {"history_next", &k.HistoryNext}}
}

// Map holds every context's key map.
type Map struct {
	Global   Global
	FlowList FlowList
	FlowView FlowView
	EventLog EventLog
	Help     Help
	Prompt   Prompt
}

// Contexts lists every context of m, global first.
func (m *Map) Contexts() []Context {
	return []Context{
		{CtxGlobal, "Global", m.Global.Actions()},
		{CtxFlowList, "Flow list", m.FlowList.Actions()},
		{CtxFlowView, "Flow view", m.FlowView.Actions()},
		{CtxEventLog, "Event log", m.EventLog.Actions()},
		{CtxHelp, "Help", m.Help.Actions()},
		{CtxPrompt, "Prompt", m.Prompt.Actions()},
	}
}

// Modal reports whether a context takes all input while it is open, so
// global keys do not apply to it.
func Modal(ctx string) bool { return ctx == CtxPrompt }

func bind(desc string, ks ...string) key.Binding {
	return key.NewBinding(key.WithKeys(ks...), key.WithHelp(Label(ks), desc))
}

func moves() Moves {
	return Moves{
		Up:       bind("up", "k", "up"),
		Down:     bind("down", "j", "down"),
		PageUp:   bind("page up", "pgup", "ctrl+b"),
		PageDown: bind("page down", "pgdown", " ", "ctrl+f"),
		Top:      bind("go to top", "g", "home"),
		Bottom:   bind("go to bottom", "G", "end"),
	}
}

// Default returns mitmproxy's keys.
func Default() *Map {
	return &Map{
		Global: Global{
			Quit:     bind("quit (asks if flows would be lost)", "ctrl+c"),
			QuitNow:  bind("quit now", "Q"),
			Help:     bind("help for this view", "?"),
			EventLog: bind("event log", "E"),
		},
		FlowList: FlowList{
			Moves:      moves(),
			Open:       bind("open flow", "enter"),
			Filter:     bind("set view filter", "f"),
			Follow:     bind("follow newest", "F"),
			Order:      bind("cycle order", "o"),
			Reverse:    bind("reverse order", "v"),
			Mark:       bind("toggle mark", "m"),
			MarkedOnly: bind("show only marked", "M"),
			ClearMarks: bind("clear all marks", "U"),
			Comment:    bind("comment flow", ";"),
			Delete:     bind("delete flow from list", "d"),
			ClearAll:   bind("clear all flows", "z"),
			Quit:       bind("quit", "q"),
		},
		FlowView: FlowView{
			Moves:     moves(),
			NextTab:   bind("next tab", "tab", "right", "l"),
			PrevTab:   bind("previous tab", "shift+tab", "left", "h"),
			Mode:      bind("cycle content view", "m"),
			Search:    bind("search body", "/"),
			NextMatch: bind("next match", "n"),
			PrevMatch: bind("previous match", "N"),
			Back:      bind("back to list", "q", "esc"),
		},
		EventLog: EventLog{
			Moves: moves(),
			Clear: bind("clear log", "z"),
			Back:  bind("back", "q", "esc"),
		},
		Help: Help{
			Moves: moves(),
			Back:  bind("close help", "q", "esc"),
		},
		Prompt: Prompt{
			Submit:      bind("apply", "enter"),
			Cancel:      bind("cancel", "esc"),
			HistoryPrev: bind("previous in history", "up"),
			HistoryNext: bind("next in history", "down"),
		},
	}
}

var keyLabels = map[string]string{
	"up": "↑", "down": "↓", "left": "←", "right": "→", " ": "space",
	"pgup": "pgup", "pgdown": "pgdn",
}

// Label is the help text for a set of keys: "j/↓", "space".
func Label(ks []string) string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		if l, ok := keyLabels[k]; ok {
			k = l
		}
		out = append(out, k)
	}
	return strings.Join(out, "/")
}
