package scripting

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
	"github.com/interceptor-tui/interceptor-tui/scripting/js"
)

// Options configure an Engine. Zero values mean the documented defaults.
type Options struct {
	// Paths are the -s/--script files, run in this order.
	Paths []string
	// Set holds --set name=value pairs; scripts read them as options.name.
	Set map[string]string
	// Log receives script output (print, log.*), load and reload messages
	// and errors of the done and error phases. Default: a private log.
	Log *flowstore.EventLog
	// Timeout bounds each hook call (default 200ms); on(..., {timeout_ms})
	// overrides it per hook.
	Timeout time.Duration
	// LoadTimeout bounds a script's top level (default 2s).
	LoadTimeout time.Duration
	// BodyLimit is the engine's body limit (default 8 MiB).
	BodyLimit int64
	// StringLimit caps every string a script builds: in Lua by ..,
	// table.concat, the string functions, json.encode, base64 and body
	// decoding; in JavaScript by +, +=, template literals, the string
	// methods that multiply a size, and body decoding (characters there)
	// (default 2×BodyLimit, at least 16 MiB).
	StringLimit int64
	// AllocLimit caps the bytes of strings one hook call may build in
	// all: by .., table.concat and the string, json and base64 functions,
	// and by reading and setting bodies (default 4×StringLimit).
	AllocLimit int64
	// PoolSize is how many Lua states or JavaScript runtimes each script
	// may have at once (default 4×GOMAXPROCS, at least 8). Hook calls
	// beyond it wait.
	PoolSize int
	// MaxFailures consecutive errors or timeouts disable a script until
	// its file changes (default 10).
	MaxFailures int
	// PollInterval is how often Watch looks at the script files (default 1s).
	PollInterval time.Duration
	// Getenv is env()'s source (default os.LookupEnv).
	Getenv func(string) (string, bool)
}

// Engine runs hook scripts, Lua and JavaScript alike, as one chain: it
// implements the engine's phase hook interfaces and PhaseFilter; register
// it with (*mitm.Proxy).AddHook. All methods are safe for concurrent use.
type Engine struct {
	opts    Options
	log     *flowstore.EventLog
	scripts []hook.Script // in the order given, whatever their language
	ctxs    *hook.CtxStore
	shared  *hook.SharedStore
	// flowLocks serialise the WebSocket message chains of one flow.
	flowLocks flowLocks
	closed    atomic.Bool
	mu        sync.Mutex // orders Close against a reload's swap
}

// New compiles and loads every script: a .js file, or a .yaml/.yml list
// of interceptor modules, in JavaScript (package js); anything else in
// Lua. A script that fails to compile or to run its top level makes New
// fail with a *ScriptError, whose text is "file:line: message".
func New(opts Options) (*Engine, error) {
	if opts.Log == nil {
		opts.Log = flowstore.NewEventLog(1000)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 200 * time.Millisecond
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = 2 * time.Second
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 8 << 20
	}
	if opts.StringLimit <= 0 {
		opts.StringLimit = max(16<<20, 2*opts.BodyLimit)
	}
	if opts.AllocLimit <= 0 {
		opts.AllocLimit = 4 * opts.StringLimit
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 10
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Getenv == nil {
		opts.Getenv = os.LookupEnv
	}
	e := &Engine{opts: opts, log: opts.Log, ctxs: hook.NewCtxStore(), shared: hook.NewSharedStore()}
	cfg := &hook.Config{
		Set: opts.Set, Log: opts.Log, Timeout: opts.Timeout, LoadTimeout: opts.LoadTimeout,
		BodyLimit: opts.BodyLimit, StringLimit: opts.StringLimit, AllocLimit: opts.AllocLimit,
		PoolSize: opts.PoolSize, MaxFailures: opts.MaxFailures, Getenv: opts.Getenv,
		Ctxs: e.ctxs, Shared: e.shared,
	}
	names := displayNames(opts.Paths)
	for i, p := range opts.Paths {
		source := "script:" + names[i]
		var s hook.Script
		if js.Handles(p) {
			jss, err := js.Load(p, source, cfg)
			if err != nil {
				e.Close()
				return nil, err
			}
			s = jss
		} else {
			lua := &script{eng: e, path: p, source: source}
			if err := lua.loadInitial(); err != nil {
				e.Close()
				return nil, err
			}
			s = lua
		}
		e.scripts = append(e.scripts, s)
	}
	return e, nil
}

// Close stops every script; later hook calls do nothing.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Swap(true) {
		return
	}
	for _, s := range e.scripts {
		s.Close()
	}
}

// Wants reports whether any script has a hook for phase that matches f.
// The engine buffers a body only for hooks that want a body phase, so a
// script with header or chunk hooks alone never makes it buffer.
//
// For websocket_message the engine asks twice: at the handshake, before
// there is a response, to decide whether to keep permessage-deflate out of
// it, and once the server has answered, to decide whether messages go
// through hooks. A filter that looks at the response (~websocket, ~c 101)
// cannot match the first time, and a compressed connection whose messages
// are rewritten would break; so before the response a filter is also
// tried against the handshake as accepted (101 Switching Protocols).
func (e *Engine) Wants(phase flowstore.Phase, f *flowstore.Flow) bool {
	ph := phaseIndex(string(phase))
	if ph < 0 || e.closed.Load() {
		return false
	}
	if ph == phDone && e.ctxs.Has(f.ID) {
		return true // to drop the flow's ctx
	}
	var accepted *flowstore.Flow // f with the 101 it is waiting for
	for _, s := range e.scripts {
		for _, h := range s.Hooks(ph) {
			flt := h.Filter()
			if flt == nil || flt.Match(f) {
				return true
			}
			if ph == phWebSocketMessage && f.Response == nil && f.Request != nil {
				if accepted == nil {
					accepted = acceptedHandshake(f)
				}
				if flt.Match(accepted) {
					return true
				}
			}
		}
	}
	return false
}

// acceptedHandshake is a shallow copy of a WebSocket handshake flow with
// the response that accepts it.
func acceptedHandshake(f *flowstore.Flow) *flowstore.Flow {
	g := *f
	g.Response = &flowstore.Response{
		Status: http.StatusSwitchingProtocols, Reason: http.StatusText(http.StatusSwitchingProtocols),
		Proto: f.Request.Proto,
		Headers: flowstore.Headers{
			{Name: "Upgrade", Value: "websocket"},
			{Name: "Connection", Value: "Upgrade"},
		},
	}
	return &g
}

// RequestHeaders runs requestheaders hooks.
func (e *Engine) RequestHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return e.runPhase(ctx, phRequestHeaders, f)
}

// Request runs request hooks (the body is available).
func (e *Engine) Request(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return e.runPhase(ctx, phRequest, f)
}

// ResponseHeaders runs responseheaders hooks.
func (e *Engine) ResponseHeaders(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return e.runPhase(ctx, phResponseHeaders, f)
}

// Response runs response hooks (the body is available).
func (e *Engine) Response(ctx context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	return e.runPhase(ctx, phResponse, f)
}

// runPhase runs the hooks of one phase in order: scripts in the order
// given, and in each script the global function first, then on() hooks in
// registration order. Each hook works on a scratch copy of the flow that
// replaces f only if the hook succeeds. The first verdict other than
// Continue ends the phase. Errors do not stop the chain; they come back
// joined, for the engine to note on the flow and log.
func (e *Engine) runPhase(ctx context.Context, ph int, f *flowstore.Flow) (flowstore.Verdict, error) {
	if e.closed.Load() {
		return flowstore.Continue, nil
	}
	var errs []error
	for r := range e.matching(ph, f) {
		c := &hook.Call{Flow: f.Clone(), Phase: ph}
		if err := r.h.Run(ctx, c); err != nil {
			errs = append(errs, err)
			continue
		}
		*f = *c.Flow
		if c.Verdict != flowstore.Continue {
			// The engine drops the verdict of a hook call that returns
			// an error, so earlier errors are recorded here instead.
			for _, err := range errs {
				msg := phaseNames[ph] + " hook: " + err.Error()
				f.Notes = append(f.Notes, msg)
				e.log.Add(flowstore.LevelError, "hook", f.ID, msg)
			}
			return c.Verdict, nil
		}
	}
	return flowstore.Continue, errors.Join(errs...)
}

// ResponseChunk passes a piece of a streaming response body through the
// responsechunk hooks, each getting what the one before returned. A hook
// that fails passes its input on unchanged; its error is logged here
// (returning it would make the engine drop the other hooks' output).
func (e *Engine) ResponseChunk(ctx context.Context, f *flowstore.Flow, chunk []byte, last bool) ([]byte, error) {
	if e.closed.Load() {
		return chunk, nil
	}
	for r := range e.matching(phResponseChunk, f) {
		c := &hook.Call{Flow: f, Phase: phResponseChunk, ReadOnly: true, Chunk: chunk, Last: last}
		if err := r.h.Run(ctx, c); err != nil {
			e.log.Add(flowstore.LevelError, r.s.Source(), f.ID, "responsechunk hook: "+err.Error())
			continue
		}
		if c.ChunkSet {
			chunk = c.ChunkOut
		}
	}
	return chunk, nil
}

// WebSocketMessage passes one WebSocket data message through the
// websocket_message hooks, each seeing the message as the one before left
// it. f is a read-only snapshot of the flow. A hook that calls
// message:drop() drops the message and ends the chain. A hook that fails
// leaves the message as it was; the later hooks still run.
//
// The engine discards everything a call changed when it returns an error,
// so errors come back only when no hook changed or dropped the message
// (the engine then notes them on the flow and logs them, as for the other
// phases); otherwise they are logged here and the changes kept.
func (e *Engine) WebSocketMessage(ctx context.Context, f *flowstore.Flow, m *flowstore.Message) (drop bool, err error) {
	if e.closed.Load() {
		return false, nil
	}
	if f == nil { // the flow left the store (cleared) while its connection is open
		f = &flowstore.Flow{}
	}
	// The two directions of a connection call in at once; one message's
	// chain at a time keeps flow.ctx, which each call copies in and back,
	// from losing one direction's update to the other.
	defer e.flowLocks.lock(f.ID)()
	type failure struct {
		s   hook.Script
		err error
	}
	var fails []failure
	changed := false
	for r := range e.matching(phWebSocketMessage, f) {
		c := &hook.Call{Flow: f, Phase: phWebSocketMessage, ReadOnly: true, Msg: m}
		if err := r.h.Run(ctx, c); err != nil {
			fails = append(fails, failure{r.s, err})
			continue
		}
		if c.MsgSet {
			m.Data = c.MsgOut
			changed = true
		}
		if c.Drop {
			drop = true
			break
		}
	}
	if !drop && !changed {
		errs := make([]error, len(fails))
		for i, fl := range fails {
			errs[i] = fl.err
		}
		return false, errors.Join(errs...)
	}
	for _, fl := range fails {
		e.log.Add(flowstore.LevelError, fl.s.Source(), f.ID, phaseNames[phWebSocketMessage]+" hook: "+fl.err.Error())
	}
	return drop, nil
}

// Error runs error hooks (the flow failed); they see it read-only.
func (e *Engine) Error(ctx context.Context, f *flowstore.Flow) {
	e.runEnd(ctx, phError, f)
}

// Done runs done hooks with the finished flow, read-only, then forgets the
// flow's ctx.
func (e *Engine) Done(ctx context.Context, f *flowstore.Flow) {
	e.runEnd(ctx, phDone, f)
	e.ctxs.Drop(f.ID)
}

func (e *Engine) runEnd(ctx context.Context, ph int, f *flowstore.Flow) {
	if e.closed.Load() {
		return
	}
	for r := range e.matching(ph, f) {
		c := &hook.Call{Flow: f, Phase: ph, ReadOnly: true}
		if err := r.h.Run(ctx, c); err != nil {
			e.log.Add(flowstore.LevelError, r.s.Source(), f.ID, phaseNames[ph]+" hook: "+err.Error())
		}
	}
}

// hookRun is one hook that applies to a flow, with its script.
type hookRun struct {
	s hook.Script
	h hook.Hook
}

// matching yields, in order, the hooks of phase ph of every active script
// whose filter matches f.
func (e *Engine) matching(ph int, f *flowstore.Flow) iter.Seq[hookRun] {
	return func(yield func(hookRun) bool) {
		for _, s := range e.scripts {
			for _, h := range s.Hooks(ph) {
				if flt := h.Filter(); flt != nil && !flt.Match(f) {
					continue
				}
				if !yield(hookRun{s, h}) {
					return
				}
			}
		}
	}
}

// Phases, in the order a flow meets them (hook's, named for this package).
const (
	phRequestHeaders   = hook.RequestHeaders
	phRequest          = hook.Request
	phResponseHeaders  = hook.ResponseHeaders
	phResponse         = hook.Response
	phResponseChunk    = hook.ResponseChunk
	phWebSocketMessage = hook.WebSocketMessage
	phError            = hook.Error
	phDone             = hook.Done
	numPhases          = hook.NumPhases
)

var phaseNames = hook.PhaseNames

func phaseIndex(name string) int { return hook.PhaseIndex(name) }

// flowLocks are mutexes by flow ID, there while someone holds or waits
// for them.
type flowLocks struct {
	mu sync.Mutex
	m  map[string]*flowLock
}

type flowLock struct {
	sync.Mutex
	users int
}

// lock locks the flow's mutex and returns its unlock.
func (l *flowLocks) lock(id string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[string]*flowLock)
	}
	fl := l.m[id]
	if fl == nil {
		fl = &flowLock{}
		l.m[id] = fl
	}
	fl.users++
	l.mu.Unlock()
	fl.Lock()
	return func() {
		fl.Unlock()
		l.mu.Lock()
		if fl.users--; fl.users == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}
