// Package tui is interceptor-tui's terminal interface: a live flow list, a
// flow view, the filter prompt, the event log and help, the breakpoint list,
// and the actions on flows — resume, kill, answer, edit in $EDITOR, revert,
// keep as a standing mock, replay, duplicate, copy, export and save — on
// Bubble Tea.
//
// # The root routes
//
// The root model owns focus, layout and routing: global keys first, then
// the focused component; sizes and data go to all. Components emit intent
// messages; the root turns them into store reads and writes, engine calls,
// prompts and status messages. Its files, by what they hold:
//
//	app.go         the model, New, Update's routing, layout, View
//	events.go      the store's and the event log's wake-ups, the tick
//	intents.go     the components' intents and the prompts' answers (tags)
//	filter.go      the list's filter, and a deep filter's pass off the UI goroutine
//	actions.go     the flow actions: why each does nothing now, and what each does
//	edit.go        editing and answering paused flows and drafts
//	breakpoints.go the intercept filter, the breakpoint list, standing mocks
//	share.go       copy, export, save a body or flows: the prompts
//	ca.go          the CA's details, a browser that trusts it
//	help.go        the help screen
//	status.go      what the status line, the hint line and an empty list say
//	quit.go        quitting: what would be lost, paused flows resumed first
//	engine.go      Engine, Options and the small interfaces the TUI declares
//	run.go         Run: the program on a terminal
//
// # What the root asks
//
// What the list shows is a flowstore/view.View, the filtered, ordered,
// counted window onto the store (mitmproxy's view.py): it knows the spool
// (a Summary per flow; only the flow opened or acted on is read back
// whole), makes a deep filter's pass over spooled flows, which the root
// runs off the UI goroutine, and keeps the counters (shown, total, paused,
// marked). The root asks it; flowlist draws it.
//
// Components live in sub-packages (flowlist, flowview, prompt, eventlog,
// help, statusbar, rules, editor) and never import each other. Beside them,
// with no Update of their own: keys (the key maps, as data, and the hint
// line's keys), theme (colours), clip (the clipboard and the terminal it
// shares with Bubble Tea), flowedit (what an edit of a flow changes) and
// share (what leaves the program, and files written whole).
//
// The TUI reads flows through a coalesced subscription: one wake-up per
// frame at most, however fast flows arrive, and the proxy never waits on
// the UI. It drives the proxy through the small Engine interface declared
// here; it never imports the proxy engine, goproxy or gopher-lua. Edits to
// a paused flow are written to the store, where the engine takes them when
// the flow is resumed.
package tui
