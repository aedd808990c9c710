package scripting

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// state is one sandboxed Lua state running one version of one script.
// States are not goroutine-safe; a pool hands each to one hook call at a
// time. The script's main chunk runs once per state, so top-level locals
// are per state: state that must survive across flows goes in `shared`.
type state struct {
	L *lua.LState
	v *version

	// hooks[i] is the function of v.specs[i]; opts[i] its options table.
	hooks []*lua.LFunction
	opts  []lua.LValue

	loading bool           // the main chunk is running: on() is allowed
	quiet   bool           // not the version's first state: top-level output is dropped
	regs    []registration // what on() recorded while loading
	cur     *call          // the hook call in progress

	null    *lua.LUserData // json.null
	arrayMT *lua.LTable    // marks a table json.encode writes as an array

	built int64 // bytes of strings the current call built (see grow); worker only

	abandoned atomic.Bool
	started   atomic.Int64 // when the worker began the current call (UnixNano)
	pctx      progressCtx  // the current call's context
	jobs      chan job     // to the worker goroutine, created with it
	done      chan error   // from the worker

	mt      metatables
	methods methods
}

// registration is one on(...) call seen while the main chunk ran.
type registration struct {
	phase   string
	filter  string
	fn      *lua.LFunction
	opts    lua.LValue
	timeout time.Duration
	line    int
}

// newState builds a sandboxed state and runs the script's main chunk in
// it. The first state of a version decides the version's hooks; later
// ones must register the same hooks in the same order.
func (v *version) newState(first bool) (*state, error) {
	e := v.s.eng
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   256,
		RegistrySize:    4096,
		RegistryMaxSize: 256 * 1024,
	})
	st := &state{L: L, v: v, quiet: !first}
	st.openLibs()
	st.installAPI()

	fn := L.NewFunctionFromProto(v.proto)
	// The chunk's first statement takes the checked .. into a local.
	L.SetGlobal(concatName, L.NewFunction(st.concat))
	st.loading = true
	timeout := max(e.opts.Timeout, e.opts.LoadTimeout)
	err, timedOut, abandoned := st.exec(context.Background(), timeout, func() error {
		L.Push(fn)
		return L.PCall(0, 0, nil)
	})
	st.loading = false
	L.SetGlobal(concatName, lua.LNil)
	switch {
	case abandoned:
		return nil, &ScriptError{File: v.s.path, Msg: fmt.Sprintf("the script's top level did not finish within %s", timeout)}
	case timedOut:
		st.close()
		return nil, v.s.scriptError(err, fmt.Sprintf("the script's top level did not finish within %s", timeout))
	case err != nil:
		st.close()
		return nil, v.s.scriptError(err, "")
	}
	if first {
		if err := v.buildSpecs(st); err != nil {
			st.close()
			return nil, err
		}
	}
	if err := st.bindHooks(); err != nil {
		st.close()
		return nil, err
	}
	st.regs = nil
	return st, nil
}

// globalHook returns the script's global function for a phase, if any.
// A global named error shadows Lua's error(); only a Lua function counts.
func (st *state) globalHook(name string) *lua.LFunction {
	if fn, ok := st.L.GetGlobal(name).(*lua.LFunction); ok && !fn.IsG {
		return fn
	}
	return nil
}

// bindHooks lines the state's functions up with the version's specs.
func (st *state) bindHooks() error {
	specs := st.v.specs
	if len(st.regs) != st.v.nregs {
		return &ScriptError{File: st.v.s.path, Msg: fmt.Sprintf("a new Lua state registered %d hooks with on(), the first %d: on() must not depend on chance or time", len(st.regs), st.v.nregs)}
	}
	st.hooks = make([]*lua.LFunction, len(specs))
	st.opts = make([]lua.LValue, len(specs))
	for i, h := range specs {
		if h.reg < 0 {
			fn := st.globalHook(phaseNames[h.phase])
			if fn == nil {
				return &ScriptError{File: st.v.s.path, Msg: "a new Lua state lacks the global function " + phaseNames[h.phase]}
			}
			st.hooks[i] = fn
			continue
		}
		r := st.regs[h.reg]
		if r.phase != phaseNames[h.phase] {
			return &ScriptError{File: st.v.s.path, Line: r.line, Msg: "on() registered a different phase in a new Lua state"}
		}
		st.hooks[i], st.opts[i] = r.fn, r.opts
	}
	return nil
}

// openLibs opens what a hook may use: base (less loading, files and
// collectgarbage), table, string (with capped functions), math, and a few
// harmless os functions.
func (st *state) openLibs() {
	L := st.L
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, g := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module",
		"collectgarbage", "getfenv", "setfenv", "newproxy", "_printregs", "_GOPHER_LUA_VERSION"} {
		L.SetGlobal(g, lua.LNil)
	}
	osFull := L.GetGlobal("os").(*lua.LTable)
	osSafe := L.NewTable()
	for _, name := range []string{"time", "clock", "date", "difftime"} {
		osSafe.RawSetString(name, osFull.RawGetString(name))
	}
	if date, ok := osFull.RawGetString("date").(*lua.LFunction); ok {
		osSafe.RawSetString("date", L.NewFunction(func(L *lua.LState) int { return st.osDate(L, date) }))
	}
	L.SetGlobal("os", osSafe)
	if tabTable, ok := L.GetGlobal("table").(*lua.LTable); ok {
		tabTable.RawSetString("concat", L.NewFunction(st.tableConcat))
	}
	if strTable, ok := L.GetGlobal("string").(*lua.LTable); ok {
		strTable.RawSetString("dump", lua.LNil)
		st.installStringLib(strTable)
	}
}

// exec runs body on the state's worker goroutine with the state's context
// set to expire after timeout. A Lua loop stops at the deadline; a Go
// builtin cannot be interrupted (gopher-lua issue #521), so if body has
// not returned a grace period later the state is abandoned: the caller
// goes on, and the state is never used again (its worker closes it when
// the builtin finally returns). A worker per state, rather than a
// goroutine per call, keeps its grown stack between calls.
func (st *state) exec(parent context.Context, timeout time.Duration, body func() error) (err error, timedOut, abandoned bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	if st.jobs == nil {
		st.jobs = make(chan job)
		st.done = make(chan error, 1)
		go st.work()
	}
	st.started.Store(0)
	st.pctx.Context, st.pctx.n = ctx, 0
	st.pctx.seen.Store(0)
	st.jobs <- job{ctx: &st.pctx, body: body}
	t := timerPool.Get().(*time.Timer)
	t.Reset(timeout)
	defer func() {
		t.Stop()
		timerPool.Put(t)
	}()
	// The hook's time counts from when its worker starts running it: on a
	// saturated machine a goroutine can wait long for a CPU, and that wait
	// is not the script's doing. For the same reason a hook that reaches
	// its deadline having run only a few Lua instructions (starved, or
	// inside a Go builtin) gets more time, up to maxStretch deadlines; a
	// loop runs millions of instructions and is stopped on time.
	stretched := 0
	for waited := time.Duration(0); ; {
		select {
		case err = <-st.done:
			return err, false, false
		case <-t.C:
		}
		select { // a result that is ready wins over a timer that is too
		case err = <-st.done:
			return err, false, false
		default:
		}
		started := st.started.Load()
		if started == 0 && waited < maxQueueWait {
			waited += timeout
			t.Reset(timeout)
			continue
		}
		if left := time.Until(time.Unix(0, started).Add(timeout)); started != 0 && left > 0 {
			t.Reset(left)
			continue
		}
		if st.pctx.seen.Load() < busyInstructions && stretched < maxStretch {
			stretched++
			t.Reset(timeout)
			continue
		}
		break
	}
	cancel()
	t.Reset(abandonGrace)
	select {
	case err = <-st.done:
		// A hook that finished as its time ran out is not a timeout.
		return err, err != nil, false
	case <-t.C:
		st.abandoned.Store(true)
		close(st.jobs) // the worker ends after the stuck call
		return nil, true, true
	}
}

// progressCtx is the context a hook's state runs with. gopher-lua calls
// Done once per VM instruction, so counting the calls tells a hook busy in
// Lua from one that barely ran. Only the worker touches n; seen publishes
// it now and then.
type progressCtx struct {
	context.Context
	n    int64
	seen atomic.Int64
}

func (c *progressCtx) Done() <-chan struct{} {
	c.n++
	if c.n&1023 == 0 {
		c.seen.Store(c.n)
	}
	return c.Context.Done()
}

// busyInstructions: a hook that ran this many Lua instructions by its
// deadline was busy, not starved. maxStretch: how many more deadlines a
// hook that was not busy gets before it is stopped.
const (
	busyInstructions = 100_000
	maxStretch       = 4
)

type job struct {
	ctx  context.Context
	body func() error
}

// work runs the state's calls one at a time until jobs is closed.
func (st *state) work() {
	defer st.L.Close()
	for j := range st.jobs {
		st.done <- st.runJob(j)
	}
}

func (st *state) runJob(j job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a hook: %v", r)
		}
		st.L.RemoveContext()
	}()
	st.L.SetContext(j.ctx)
	st.built = 0
	st.started.Store(time.Now().UnixNano())
	return j.body()
}

// close ends the state (and its worker) once it is idle.
func (st *state) close() {
	if st.jobs != nil {
		close(st.jobs)
	} else {
		st.L.Close()
	}
}

// abandonGrace is how long a hook gets after its deadline to notice it:
// a Lua loop stops at once, a long Go builtin may not.
const abandonGrace = 100 * time.Millisecond

var timerPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// pool hands out the states of one version, at most size at a time.
type pool struct {
	v     *version
	idle  chan *state
	slots chan struct{}

	mu      sync.Mutex
	retired bool
	dropped atomic.Int64 // abandoned after a timeout
}

func newPool(v *version, size int) *pool {
	return &pool{v: v, idle: make(chan *state, size), slots: make(chan struct{}, size)}
}

// errBusy: every state of the script stayed in use for maxQueueWait.
type errBusy struct{ size int }

func (e errBusy) Error() string {
	return fmt.Sprintf("all %d Lua states of the script stayed busy for %s", e.size, maxQueueWait)
}

func (p *pool) get(ctx context.Context, deadline time.Time) (*state, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case p.slots <- struct{}{}:
		case <-t.C:
			return nil, errBusy{cap(p.slots)}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	select {
	case st := <-p.idle:
		return st, nil
	default:
	}
	st, err := p.v.newState(false)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return st, nil
}

// addIdle adds a state that holds no slot (a version's first state).
func (p *pool) addIdle(st *state) {
	select {
	case p.idle <- st:
	default:
		st.close()
	}
}

func (p *pool) put(st *state) {
	p.mu.Lock()
	if p.retired {
		st.close()
	} else {
		select {
		case p.idle <- st:
		default:
			st.close()
		}
	}
	p.mu.Unlock()
	<-p.slots
}

// abandon gives up a state that is stuck in a builtin; its slot is free
// again at once.
func (p *pool) abandon() {
	p.dropped.Add(1)
	<-p.slots
}

// retire closes idle states; states in use are closed when they return.
func (p *pool) retire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retired = true
	for {
		select {
		case st := <-p.idle:
			st.close()
		default:
			return
		}
	}
}
