package js

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// state is one goja runtime running one version of one script. Runtimes
// are not goroutine-safe; a pool hands each to one hook call at a time.
// The script's top level runs once per runtime, so top-level variables
// are per runtime: what must survive across flows goes in `shared`.
type state struct {
	rt *goja.Runtime
	v  *version

	fns     []goja.Callable // fns[i] is the function of v.specs[i]
	exports []*goja.Object  // what each of v.units exports
	opts    []goja.Value    // its options object, or nil

	loading bool           // the top level is running: on() is allowed
	quiet   bool           // not the version's first runtime: top-level output is dropped
	regs    []registration // what on() recorded while loading
	cur     *call          // the hook call in progress

	built int64 // what the current call built (see grow); worker only

	errCtor   goja.Constructor // Error and TypeError as the runtime began
	typeCtor  goja.Constructor
	slowAdd   goja.Callable // + for what the fast paths leave (objects, symbols, bigints)
	jsonParse goja.Callable
	jsonStr   goja.Callable
	u8Ctor    goja.Constructor

	protos protos

	abandoned atomic.Bool
	started   atomic.Int64 // when the worker began the current call (UnixNano)
	jobs      chan job     // to the worker goroutine, created with it
	done      chan error   // from the worker
}

type job struct{ body func() error }

// maxQueueWait bounds the wait for a free runtime when all of a script's
// runtimes are busy, and for a worker to start a call.
const maxQueueWait = 10 * time.Second

// maxStretch is how many more deadlines a hook gets on an overloaded
// machine.
const maxStretch = 4

// abandonGrace is how long a hook gets after its deadline to notice the
// interrupt: JavaScript stops at once, a long Go builtin may not.
const abandonGrace = 100 * time.Millisecond

// errTimeout is what the runtime is interrupted with at a deadline.
var errTimeout = fmt.Errorf("timed out")

// exec runs body on the state's worker goroutine and interrupts it once
// timeout has passed since the worker began it. A builtin (a regular
// expression, a big sort) cannot be interrupted; if body has not returned
// a grace period later the runtime is abandoned: the caller goes on, and
// the runtime is never used again. A worker per runtime, rather than a
// goroutine per call, keeps its grown stack between calls.
func (st *state) exec(timeout time.Duration, body func() error) (err error, timedOut, abandoned bool) {
	if st.jobs == nil {
		st.jobs = make(chan job)
		st.done = make(chan error, 1)
		go st.work()
	}
	st.started.Store(0)
	st.jobs <- job{body: body}
	t := timerPool.Get().(*time.Timer)
	t.Reset(timeout)
	defer func() {
		t.Stop()
		timerPool.Put(t)
	}()
	// The hook's time counts from when its worker starts it: on a
	// saturated machine a goroutine can wait long for a CPU, and that
	// wait is not the script's doing. For the same reason a worker found
	// waiting for a CPU at the deadline gets more time, up to maxStretch
	// deadlines. goja counts no instructions that would tell a starved
	// hook from a busy one, as gopher-lua's context does for Lua, so the
	// scheduler's run queue is asked instead.
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
		if stretched < maxStretch && starved() {
			stretched++
			t.Reset(timeout)
			continue
		}
		break
	}
	st.rt.Interrupt(errTimeout)
	// A worker that has not had a CPU since stops as soon as it gets
	// one; one still running after the grace period is in a builtin.
	for waited := time.Duration(0); ; waited += abandonGrace {
		t.Reset(abandonGrace)
		select {
		case err = <-st.done:
			// A hook that finished as its time ran out is not a timeout.
			return err, err != nil, false
		case <-t.C:
		}
		if waited < maxStretch*max(timeout, abandonGrace) && starved() {
			continue
		}
		st.abandoned.Store(true)
		close(st.jobs) // the worker ends after the stuck call
		return nil, true, true
	}
}

// starved reports whether the worker may be waiting for a CPU rather
// than running: goroutines stayed queued for a CPU over a short window.
// Whenever the queue is empty, every goroutine that wants a CPU has one,
// the worker among them. Asked only when a hook is past its deadline, so
// on an overloaded machine a busy loop runs up to maxStretch deadlines
// longer, as a starved hook must.
func starved() bool {
	s := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	for i := 0; i < 5; i++ {
		if i > 0 {
			time.Sleep(2 * time.Millisecond)
		}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 || s[0].Value.Uint64() == 0 {
			return false
		}
	}
	return true
}

// work runs the state's calls one at a time until jobs is closed.
func (st *state) work() {
	for j := range st.jobs {
		st.done <- st.runJob(j)
	}
}

func (st *state) runJob(j job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a hook: %v", r)
		}
	}()
	// An Interrupt that came as the previous call returned must not stop
	// this one; exec never interrupts while no call runs.
	st.rt.ClearInterrupt()
	st.built = 0
	st.started.Store(time.Now().UnixNano())
	return j.body()
}

// close ends the state (and its worker) once it is idle.
func (st *state) close() {
	if st.jobs != nil {
		close(st.jobs)
	}
}

var timerPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// pool hands out the runtimes of one version, at most size at a time.
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

// errBusy: every runtime of the script stayed in use for maxQueueWait.
type errBusy struct{ size int }

func (e errBusy) Error() string {
	return fmt.Sprintf("all %d JavaScript runtimes of the script stayed busy for %s", e.size, maxQueueWait)
}

func (p *pool) get(ctx context.Context) (*state, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		t := time.NewTimer(maxQueueWait)
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

// abandon gives up a state stuck in a builtin; its slot is free again.
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
