package mitmtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Within polls cond every few milliseconds until it holds or d passes, and
// reports whether it held.
func Within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitState waits up to 10s for the flow id to satisfy pred and returns it.
func (e *Env) WaitState(id string, what string, pred func(*flowstore.Flow) bool) *flowstore.Flow {
	e.T.Helper()
	var f *flowstore.Flow
	if !Within(10*time.Second, func() bool {
		f, _ = e.Store.Get(id)
		return f != nil && pred(f)
	}) {
		e.T.Fatalf("waited 10s for flow %s to be %s; last seen: %+v", id, what, f)
	}
	return f
}

// WaitFinal waits for the flow id to end.
func (e *Env) WaitFinal(id string) *flowstore.Flow {
	e.T.Helper()
	return e.WaitState(id, "over", func(f *flowstore.Flow) bool { return f.State.Final() })
}

// WaitAny waits up to 10s for some flow to satisfy pred and returns it.
func (e *Env) WaitAny(what string, pred func(*flowstore.Flow) bool) *flowstore.Flow {
	e.T.Helper()
	var found *flowstore.Flow
	if !Within(10*time.Second, func() bool {
		for _, f := range e.Store.List() {
			if pred(f) {
				found = f
				return true
			}
		}
		return false
	}) {
		e.T.Fatalf("waited 10s for a flow %s", what)
	}
	return found
}

// Recorder is a hook of every phase that records which phases ran, in
// order, with a copy of the flow as each saw it, and changes nothing.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Call is one phase a Recorder saw.
type Call struct {
	Phase flowstore.Phase
	Flow  *flowstore.Flow
}

func (r *Recorder) add(phase flowstore.Phase, f *flowstore.Flow) {
	r.mu.Lock()
	r.calls = append(r.calls, Call{phase, f.Clone()})
	r.mu.Unlock()
}

// Calls returns what the recorder saw so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Phases returns the phases seen for the flow id, in order.
func (r *Recorder) Phases(id string) []flowstore.Phase {
	var out []flowstore.Phase
	for _, c := range r.Calls() {
		if c.Flow.ID == id {
			out = append(out, c.Phase)
		}
	}
	return out
}

func (r *Recorder) RequestHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	r.add(flowstore.PhaseRequestHeaders, f)
	return flowstore.Continue, nil
}

func (r *Recorder) Request(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	r.add(flowstore.PhaseRequest, f)
	return flowstore.Continue, nil
}

func (r *Recorder) ResponseHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	r.add(flowstore.PhaseResponseHeaders, f)
	return flowstore.Continue, nil
}

func (r *Recorder) Response(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	r.add(flowstore.PhaseResponse, f)
	return flowstore.Continue, nil
}

func (r *Recorder) Error(_ context.Context, f *flowstore.Flow) { r.add(flowstore.PhaseError, f) }

func (r *Recorder) Done(_ context.Context, f *flowstore.Flow) { r.add(flowstore.PhaseDone, f) }
