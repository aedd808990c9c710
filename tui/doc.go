// Package tui is interceptor-tui's terminal interface: a live flow list, a
// flow view, the filter prompt, the event log and help, on Bubble Tea.
//
// The root model (app.go) owns focus, layout and routing: global keys
// first, then the focused component; sizes and data go to all. Components
// live in sub-packages (flowlist, flowview, prompt, eventlog, help,
// statusbar), never import each other, and emit intent messages that the
// root turns into store reads and writes. Keys are data (keys), colours a
// Theme (theme).
//
// The TUI reads flows from a flowstore.Store through a coalesced
// subscription (events.go): one wake-up per frame at most, however fast
// flows arrive, and the proxy never waits on the UI. It drives the proxy
// through the small Engine interface declared here; it never imports the
// proxy engine, goproxy or gopher-lua.
package tui
