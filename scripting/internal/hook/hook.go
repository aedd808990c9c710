package hook

import (
	"context"
	"strconv"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// Phases, in the order a flow meets them.
const (
	RequestHeaders = iota
	Request
	ResponseHeaders
	Response
	ResponseChunk
	WebSocketMessage
	Error
	Done
	NumPhases
)

// PhaseNames are the phases as scripts name them.
var PhaseNames = [NumPhases]string{
	string(flowstore.PhaseRequestHeaders), string(flowstore.PhaseRequest), string(flowstore.PhaseResponseHeaders),
	string(flowstore.PhaseResponse), string(flowstore.PhaseResponseChunk), string(flowstore.PhaseWebSocketMessage),
	string(flowstore.PhaseError), string(flowstore.PhaseDone),
}

// PhaseIndex is the phase named name, or -1.
func PhaseIndex(name string) int {
	for i, n := range PhaseNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Call is one hook call as the coordinator makes it, whatever the
// script's language. The coordinator fills the input; the engine fills
// the output only when the call succeeds.
type Call struct {
	Flow     *flowstore.Flow // a scratch copy in the phases that may change it
	Phase    int
	ReadOnly bool               // the flow must not change (chunk, message, error, done)
	Chunk    []byte             // responsechunk: the chunk in
	Last     bool               // responsechunk: the final call
	Msg      *flowstore.Message // websocket_message: the message as it came (read-only)

	Verdict  flowstore.Verdict
	ChunkOut []byte // responsechunk: what to send instead, when ChunkSet
	ChunkSet bool
	MsgOut   []byte // websocket_message: the new payload, when MsgSet
	MsgSet   bool
	Drop     bool // websocket_message: the message is dropped
}

// Hook is one hook of one running version of a script.
type Hook interface {
	// Filter is the hook's filter; nil matches every flow.
	Filter() *filter.Filter
	// Run runs the hook. An error says "file:line: message"; the call's
	// changes (flow.ctx included) are then dropped.
	Run(ctx context.Context, c *Call) error
}

// Script is one -s file as the coordinator sees it.
type Script interface {
	// Source is the event log's source for the script: "script:name".
	Source() string
	// Hooks are the running version's hooks of a phase in order: the
	// global function first, then on() registrations. None while the
	// script is disabled or closed.
	Hooks(phase int) []Hook
	// Poll reloads the script if its file changed; a version that fails
	// to load leaves the old one running.
	Poll()
	// Close stops the script; calls in progress finish.
	Close()
}

// Config is what every engine is given: the options with their defaults
// filled in, and the stores all scripts share.
type Config struct {
	Set         map[string]string
	Log         *flowstore.EventLog
	Timeout     time.Duration
	LoadTimeout time.Duration
	BodyLimit   int64
	StringLimit int64
	AllocLimit  int64
	PoolSize    int
	MaxFailures int
	Getenv      func(string) (string, bool)
	Ctxs        *CtxStore
	Shared      *SharedStore
}

// ScriptError is a script that cannot be loaded: a syntax error, an
// error in its top level, or a bad on(...) call. Its text is
// "file:line: message" (or "file: message" without a line).
type ScriptError struct {
	File string
	Line int
	Msg  string
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// MaxLogMessage bounds what one print or console.log call keeps: the
// event log holds thousands of entries for the whole run, so a script
// printing bodies must not make it hold gigabytes.
const MaxLogMessage = 64 << 10
