// Package tui is interceptor-tui's terminal interface: a live flow list, a
// flow view, the filter prompt, the event log and help, the breakpoint list,
// and the actions on flows — resume, kill, answer, edit in $EDITOR, revert,
// keep as a standing mock, replay, duplicate, copy, export and save — on
// Bubble Tea.
//
// The root model (app.go, with the flow actions in actions.go, breakpoints
// and editing in intercept.go, and what leaves the program in share.go)
// owns focus, layout and routing: global keys first, then the focused
// component; sizes and data go to all. Components live in sub-packages
// (flowlist, flowview, prompt, eventlog, help, statusbar, rules, editor),
// never import each other, and emit intent messages that the root turns
// into store reads and writes and engine calls. Keys are data (keys),
// colours a Theme (theme), the clipboard a small interface (clip).
//
// The TUI reads flows from a flowstore.Store through a coalesced
// subscription (events.go): one wake-up per frame at most, however fast
// flows arrive, and the proxy never waits on the UI. What the list shows
// is a flowstore/view.View: the filtered, ordered, counted window onto the
// store, which knows the spool (a Summary per flow; only the flow opened
// or acted on is read back whole), runs a deep filter's pass over spooled
// flows, which the root runs off the UI goroutine, and keeps the paused
// and marked counters. The root asks the View and routes; the list draws
// it. It drives the proxy
// through the small Engine interface declared here; it never imports the
// proxy engine, goproxy or gopher-lua. Edits to a paused flow are written
// to the store, where the engine takes them when the flow is resumed.
package tui
