// Package keys owns every key binding of the TUI, one KeyMap per context,
// as data (bubbles key.Binding). Components read their context's map, the
// help screen and the hint line are generated from the same bindings, and
// a small file in the config directory can rebind them (see Load).
//
// The defaults are mitmproxy's console keys, so its users feel at home.
// This package knows no component; components import it.
package keys

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Context names, as written in keys.conf.
const (
	CtxGlobal   = "global"
	CtxFlowList = "flowlist"
	CtxFlowView = "flowview"
	CtxEventLog = "eventlog"
	CtxHelp     = "help"
	CtxPrompt   = "prompt"
	CtxRules    = "breakpoints"
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
	Quit, QuitNow, Help, EventLog       key.Binding
	Intercept, Breakpoints, CA, Browser key.Binding
}

// Actions lists the context's bindings.
func (k *Global) Actions() []Action {
	return []Action{{"quit", &k.Quit}, {"quit_now", &k.QuitNow}, {"help", &k.Help}, {"eventlog", &k.EventLog},
		{"intercept", &k.Intercept}, {"breakpoints", &k.Breakpoints}, {"ca", &k.CA}, {"browser", &k.Browser}}
}

// Moves are the cursor keys shared by the scrolling views.
type Moves struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

// Scroll turns a move key or a mouse wheel turn into a new scroll offset
// for a view at off showing page rows of which end is the last; ok is
// false when msg is not a move.
func (k *Moves) Scroll(msg tea.Msg, off, page, end int) (int, bool) {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			return off - 3, true
		case tea.MouseButtonWheelDown:
			return off + 3, true
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Up):
			return off - 1, true
		case key.Matches(msg, k.Down):
			return off + 1, true
		case key.Matches(msg, k.PageUp):
			return off - page, true
		case key.Matches(msg, k.PageDown):
			return off + page, true
		case key.Matches(msg, k.Top):
			return 0, true
		case key.Matches(msg, k.Bottom):
			return end, true
		}
	}
	return off, false
}

func (k *Moves) actions() []Action {
	return []Action{{"up", &k.Up}, {"down", &k.Down}, {"page_up", &k.PageUp}, {"page_down", &k.PageDown}, {"top", &k.Top}, {"bottom", &k.Bottom}}
}

// Names of the flow actions, as FlowActions.Which reports them and
// keys.conf names them (flowlist.resume, flowview.resume, ...).
const (
	ActResume    = "resume"
	ActResumeAll = "resume_all"
	ActKill      = "kill"
	ActRespond   = "respond"
	ActEdit      = "edit"
	ActQuickEdit = "quick_edit"
	ActRevert    = "revert"
	ActKeep      = "keep"
	ActReplay    = "replay"
	ActDuplicate = "duplicate"
	ActCopy      = "copy"
	ActExport    = "export"
	ActSaveBody  = "save_body"
	ActSave      = "save"
)

// FlowActions are the keys that act on a flow (the one under the cursor in
// the list, the one open in the view): the same in both contexts, each
// rebindable in each.
type FlowActions struct {
	Resume, ResumeAll, Kill, Respond, Edit, QuickEdit, Revert, Keep key.Binding
	Replay, Duplicate, Copy, Export, SaveBody, Save                 key.Binding
}

// Actions lists the flow actions, named by the Act constants.
func (k *FlowActions) Actions() []Action {
	return []Action{{ActResume, &k.Resume}, {ActResumeAll, &k.ResumeAll}, {ActKill, &k.Kill},
		{ActRespond, &k.Respond}, {ActEdit, &k.Edit}, {ActQuickEdit, &k.QuickEdit}, {ActRevert, &k.Revert},
		{ActKeep, &k.Keep}, {ActReplay, &k.Replay}, {ActDuplicate, &k.Duplicate}, {ActCopy, &k.Copy},
		{ActExport, &k.Export}, {ActSaveBody, &k.SaveBody}, {ActSave, &k.Save}}
}

// Which names the flow action msg asks for, or "".
func (k *FlowActions) Which(msg fmt.Stringer) string {
	for _, a := range k.Actions() {
		if key.Matches(msg, *a.B) {
			return a.Name
		}
	}
	return ""
}

// Binding is the binding of a flow action by name.
func (k *FlowActions) Binding(name string) *key.Binding {
	for _, a := range k.Actions() {
		if a.Name == name {
			return a.B
		}
	}
	return nil
}

// FlowList is the flow list's key map.
type FlowList struct {
	Moves
	Open, Filter, Follow, Order, Reverse  key.Binding
	Mark, MarkedOnly, ClearMarks, Comment key.Binding
	Delete, ClearAll, Quit                key.Binding
	Flow                                  FlowActions
}

// Actions lists the context's bindings.
func (k *FlowList) Actions() []Action {
	return append(append(k.Moves.actions(),
		Action{"open", &k.Open}, Action{"filter", &k.Filter}, Action{"follow", &k.Follow},
		Action{"order", &k.Order}, Action{"reverse", &k.Reverse}, Action{"mark", &k.Mark},
		Action{"marked_only", &k.MarkedOnly}, Action{"clear_marks", &k.ClearMarks},
		Action{"comment", &k.Comment}, Action{"delete", &k.Delete}, Action{"clear_all", &k.ClearAll},
		Action{"quit", &k.Quit}), k.Flow.Actions()...)
}

// FlowView is the flow view's key map.
type FlowView struct {
	Moves
	NextTab, PrevTab, Mode, Search, NextMatch, PrevMatch, Original, Back key.Binding
	// OpenMessage opens the WebSocket message or event under the cursor in
	// the Messages tab; Back returns from it to the list of messages.
	OpenMessage key.Binding
	Flow        FlowActions
}

// Actions lists the context's bindings.
func (k *FlowView) Actions() []Action {
	return append(append([]Action{{"next_tab", &k.NextTab}, {"prev_tab", &k.PrevTab}}, append(k.Moves.actions(),
		Action{"open_message", &k.OpenMessage}, Action{"mode", &k.Mode}, Action{"search", &k.Search}, Action{"next_match", &k.NextMatch},
		Action{"prev_match", &k.PrevMatch}, Action{"original", &k.Original}, Action{"back", &k.Back})...),
		k.Flow.Actions()...)
}

// Rules is the key map of the breakpoint list (I): breakpoints, standing
// mocks and the switch that turns all interception off and on.
type Rules struct {
	Moves
	Add, Edit, Phase, Toggle, Delete, Switch, Back key.Binding
}

// Actions lists the context's bindings.
func (k *Rules) Actions() []Action {
	return append(k.Moves.actions(), Action{"add", &k.Add}, Action{"edit", &k.Edit}, Action{"phase", &k.Phase},
		Action{"toggle", &k.Toggle}, Action{"delete", &k.Delete}, Action{"switch", &k.Switch}, Action{"back", &k.Back})
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
	Rules    Rules
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
		{CtxRules, "Breakpoints", m.Rules.Actions()},
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
			// mitmproxy's i; its I (the switch) lives in the breakpoint list.
			Intercept:   bind("set intercept filter", "i"),
			Breakpoints: bind("breakpoints & mocks", "I"),
			CA:          bind("CA certificate", "C"),
			Browser:     bind("browser that trusts us", "B"),
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
			Quit:       bind("quit (asks first)", "q"),
			Flow:       flowActions(),
		},
		FlowView: FlowView{
			Moves:     moves(),
			NextTab:   bind("next tab", "tab", "right", "l"),
			PrevTab:   bind("previous tab", "shift+tab", "left", "h"),
			Mode:      bind("cycle content view", "m"),
			Search:    bind("search body", "/"),
			NextMatch: bind("next match", "n"),
			PrevMatch: bind("previous match", "N"),
			Original:  bind("original / edited", "o"),
			Back:      bind("back to list", "q", "esc"),
			// In the Messages tab; Back then returns to the messages.
			OpenMessage: bind("open message", "enter"),
			Flow:        flowActions(),
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
		Rules: Rules{
			Moves:  moves(),
			Add:    bind("add breakpoint", "a"),
			Edit:   bind("edit filter", "e"),
			Phase:  bind("phase: both/req/resp", "p"),
			Toggle: bind("on/off", "t"),
			Delete: bind("delete", "d"),
			Switch: bind("interception on/off", "s"),
			Back:   bind("back", "q", "esc"),
		},
	}
}

// flowActions are mitmproxy's flow keys where it has one.
func flowActions() FlowActions {
	return FlowActions{
		Resume:    bind("resume", "a"),
		ResumeAll: bind("resume all", "A"),
		Kill:      bind("kill", "X"),
		Respond:   bind("answer ($EDITOR)", "R"),
		Edit:      bind("edit ($EDITOR)", "e"),
		QuickEdit: bind("quick edit", "c"),
		Revert:    bind("revert edits", "V"),
		Keep:      bind("keep as mock", "K"),
		Replay:    bind("replay (marked: all)", "r"),
		Duplicate: bind("duplicate to edit & send", "D"),
		Copy:      bind("copy…", "y"),
		Export:    bind("export to file…", "x"),
		SaveBody:  bind("save body", "b"),
		Save:      bind("save flows…", "w"),
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
