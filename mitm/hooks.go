package mitm

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// The hook interfaces, one method per phase. A hook implements only the
// phases it needs; AddHook finds out which, once. Every method gets a
// working copy of the flow that it may change (request and response
// phases) and says what happens next. Types come from flowstore so that an
// implementation (package scripting) need not import the engine.

// RequestHeadersHook runs when the request head has been read, before its
// body.
type RequestHeadersHook interface {
	RequestHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)
}

// RequestHook runs with the whole request body (up to the body limit; past
// it Request.Body.Truncated is set and body changes are refused).
type RequestHook interface {
	Request(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)
}

// ResponseHeadersHook runs when the response head has arrived.
type ResponseHeadersHook interface {
	ResponseHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)
}

// ResponseHook runs with the whole response body (capped as for requests).
type ResponseHook interface {
	Response(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error)
}

// ResponseChunkHook sees each piece of a response body as it streams and
// returns what to send instead; last is set for the final call (chunk may
// then be empty). The flow must not be changed.
type ResponseChunkHook interface {
	ResponseChunk(ctx context.Context, f *flowstore.Flow, chunk []byte, last bool) ([]byte, error)
}

// ErrorHook runs when a flow fails.
type ErrorHook interface {
	Error(ctx context.Context, f *flowstore.Flow)
}

// DoneHook runs when a flow is over, with its final state; it must not
// change the flow.
type DoneHook interface {
	Done(ctx context.Context, f *flowstore.Flow)
}

// PhaseFilter is optional: a hook that implements it is called for a phase
// only when Wants says so, and the engine buffers a body only for hooks
// that want a body phase. Without it a hook is called for every flow.
type PhaseFilter interface {
	Wants(phase flowstore.Phase, f *flowstore.Flow) bool
}

type hookSet struct {
	reqHeaders  []RequestHeadersHook
	request     []RequestHook
	respHeaders []ResponseHeadersHook
	response    []ResponseHook
	chunks      []ResponseChunkHook
	errs        []ErrorHook
	done        []DoneHook
	wsMsgs      []WebSocketMessageHook
}

// AddHook registers a hook; call it before Serve. It returns an error if h
// implements none of the phase interfaces.
func (p *Proxy) AddHook(h any) error {
	hs := &p.hooks
	n := register(h, &hs.reqHeaders) + register(h, &hs.request) + register(h, &hs.respHeaders) +
		register(h, &hs.response) + register(h, &hs.chunks) + register(h, &hs.errs) + register(h, &hs.done) +
		register(h, &hs.wsMsgs)
	if n == 0 {
		return fmt.Errorf("mitm: %T implements no hook phase", h)
	}
	return nil
}

// register adds h to list if it implements the list's phase.
func register[H any](h any, list *[]H) int {
	x, ok := h.(H)
	if !ok {
		return 0
	}
	*list = append(*list, x)
	return 1
}

func wants(h any, phase flowstore.Phase, f *flowstore.Flow) bool {
	if pf, ok := h.(PhaseFilter); ok {
		return pf.Wants(phase, f)
	}
	return true
}

// safely runs one hook call, turning a panic or an error into a note on
// the flow and an event-log line, so one bad hook never breaks the chain.
func (ex *exchange) safely(phase flowstore.Phase, f *flowstore.Flow, call func() (flowstore.Verdict, error)) (v flowstore.Verdict) {
	defer func() {
		if r := recover(); r != nil {
			ex.hookFailed(phase, f, fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
			v = flowstore.Continue
		}
	}()
	v, err := call()
	if err != nil {
		ex.hookFailed(phase, f, err)
		return flowstore.Continue
	}
	return v
}

func (ex *exchange) hookFailed(phase flowstore.Phase, f *flowstore.Flow, err error) {
	ex.failed(f, string(phase)+" hook", err)
}

// editFailed notes an edit (a hook's or a person's) that could not be applied.
func (ex *exchange) editFailed(f *flowstore.Flow, err error) { ex.failed(f, "edit", err) }

// failed notes on the flow, and in the event log, that what went wrong.
func (ex *exchange) failed(f *flowstore.Flow, what string, err error) {
	msg := what + ": " + err.Error()
	if f != nil {
		f.Notes = append(f.Notes, msg)
	} else {
		// Phases that see a read-only flow (chunks, error, done): note it
		// on the stored flow.
		ex.update(func(f *flowstore.Flow) { f.Notes = append(f.Notes, msg) })
	}
	ex.p.log.Add(flowstore.LevelError, "hook", ex.id, msg)
}
