package tui

import (
	"context"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Engine is what the TUI needs from the proxy. It is declared here, in the
// store's types only, and satisfied by the proxy engine (cmd passes one
// in); tests use a fake. Edits to a paused flow are not engine calls: the
// TUI writes them to the store (Update, after KeepOriginal) and the engine
// takes the flow from there when it is resumed.
type Engine interface {
	// ListenAddr is the address the proxy listens on, for the status bar.
	ListenAddr() string

	// Resume lets a paused flow go on, with the edits made to it in the store.
	Resume(id string) error
	// ResumeAll resumes every paused flow and says how many there were.
	ResumeAll() int
	// Kill ends a paused flow and closes its client's connection.
	Kill(id string) error
	// KillAll kills every paused flow and says how many there were.
	KillAll() int
	// Respond answers a paused flow with resp, without the upstream.
	Respond(id string, resp *flowstore.Response) error

	// Breakpoints are the intercept rules; SetBreakpoints replaces them
	// (a filter that does not parse is an error and nothing changes).
	Breakpoints() []flowstore.Breakpoint
	SetBreakpoints([]flowstore.Breakpoint) error
	// Intercepting is the switch that turns every breakpoint off and on.
	Intercepting() bool
	SetIntercepting(on bool)
	// Mocks are the standing mocks, with hit counts; SetMocks replaces them.
	Mocks() []flowstore.Mock
	SetMocks([]flowstore.Mock) error

	// Replay sends a flow's request again (a draft's too) as a new flow
	// linked to it, the way live traffic goes, and returns its ID.
	Replay(id string) (string, error)
}

// Clipboard puts text where the user can paste it, and says where it went
// (clip.System: the terminal's OSC 52 and the desktop clipboard).
type Clipboard interface {
	Copy(text []byte) clip.Result
}

// CAInfo describes the proxy's certificate authority for the C key.
type CAInfo struct {
	CertPath    string // the certificate (PEM)
	SHA256      string // its fingerprint, colon-separated hex
	InstallPage string // the page the proxy serves with downloads and steps
	Hint        string // how to trust it on this machine
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

	// Clipboard copies for y. Run makes the real one when nil; a model
	// made with New and no clipboard offers to write a file instead.
	Clipboard Clipboard
	// CA is shown by C; nil when there is none.
	CA *CAInfo
	// Browser starts a browser that goes through the proxy and trusts its
	// CA (B) and says what it started; nil when there is none. It should
	// return quickly; the browser lives on in the background.
	Browser func(context.Context) (string, error)
	// Now is the clock paused flows count with; nil is time.Now.
	Now func() time.Time
	// Dir is where files are written by default; "" is the current
	// directory.
	Dir string
	// Version names this build in the HAR files it writes.
	Version string
	// ResumeWait bounds how long "resume them and quit" waits for the
	// resumed flows to finish; 0 is DefaultResumeWait.
	ResumeWait time.Duration
}
