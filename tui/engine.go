package tui

import (
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Engine is what the TUI needs from the proxy. It is declared here, kept
// small, and satisfied by the proxy engine (cmd passes one in); tests use
// a fake. Later: resume, kill, respond, replay, set breakpoints.
type Engine interface {
	// ListenAddr is the address the proxy listens on, for the status bar.
	ListenAddr() string
}

// BreakpointLister is optionally implemented by an Engine that has
// breakpoints: the status bar shows the active ones, each as its filter
// expression (with its phase when it is not the request's, e.g.
// "~d pay (response)").
type BreakpointLister interface {
	BreakpointFilters() []string
}

// Options configure the TUI.
type Options struct {
	// Store holds the flows to show. Required.
	Store *flowstore.Store
	// Log is the event log to show and flash errors from; nil makes a
	// private one.
	Log *flowstore.EventLog
	// Engine is the running proxy; nil when only viewing loaded flows.
	Engine Engine
	// ConfDir is the configuration directory; keys.conf there rebinds keys.
	ConfDir string
	// Filter is the initial view filter expression.
	Filter string
	// Theme overrides the default colours.
	Theme *theme.Theme
}
