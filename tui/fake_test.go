package tui_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/tui"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
)

// clock is the fixed "now" of the TUI in tests.
var clock = time.Date(2026, 1, 2, 16, 0, 0, 0, time.UTC)

// fakeEngine stands in for the proxy: it records every call and plays the
// engine's part in the store (a resumed flow finishes, a killed one is
// killed, a replay is a new finished flow).
type fakeEngine struct {
	store *flowstore.Store

	mu        sync.Mutex
	calls     []string
	bps       []flowstore.Breakpoint
	on        bool
	mocks     []flowstore.Mock
	responded map[string]*flowstore.Response
	replays   []*flowstore.Flow // the new flows, in order

	// pauseResponses makes a flow resumed at its request pause again at
	// its response while a response breakpoint is on, as the engine does;
	// late makes that many resumed flows pause again whatever the switch
	// says (they were past the check when it went off).
	pauseResponses bool
	late           int
	// stall leaves resumed flows in flight for ever (an origin that never
	// answers).
	stall bool
}

var _ tui.Engine = (*fakeEngine)(nil)

var errNotPaused = errors.New("flow is not paused")

func newEngine(s *flowstore.Store) *fakeEngine {
	return &fakeEngine{store: s, on: true, responded: map[string]*flowstore.Response{}}
}

func (e *fakeEngine) record(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, fmt.Sprintf(format, args...))
}

// Calls is every call so far, one string each.
func (e *fakeEngine) Calls() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.calls, "\n")
}

func (e *fakeEngine) ListenAddr() string { return "127.0.0.1:8080" }

func (e *fakeEngine) release(id string, fn func(*flowstore.Flow)) error {
	f, ok := e.store.Get(id)
	if !ok || f.State != flowstore.StatePaused {
		return errNotPaused
	}
	e.store.Update(id, func(f *flowstore.Flow) {
		f.State, f.Paused, f.Since = flowstore.StateDone, flowstore.PhaseNone, time.Time{}
		if f.Response == nil {
			f.Response = &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1", Body: flowstore.NewBody([]byte("from the origin"))}
		}
		fn(f)
	})
	return nil
}

func (e *fakeEngine) Resume(id string) error {
	e.record("resume %s", id)
	if f, ok := e.store.Get(id); ok && f.State == flowstore.StatePaused && f.Paused == flowstore.PhaseRequest && e.againAtResponse() {
		e.store.Update(id, func(f *flowstore.Flow) {
			f.Paused, f.Since = flowstore.PhaseResponse, clock
			f.Response = &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1", Body: flowstore.NewBody([]byte("from the origin"))}
		})
		return nil
	}
	if e.stall {
		return e.release(id, func(f *flowstore.Flow) { f.State, f.Response = flowstore.StateActive, nil })
	}
	return e.release(id, func(*flowstore.Flow) {})
}

func (e *fakeEngine) againAtResponse() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.late > 0 {
		e.late--
		return true
	}
	if !e.pauseResponses || !e.on {
		return false
	}
	for _, b := range e.bps {
		if b.Response && !b.Disabled {
			return true
		}
	}
	return false
}

func (e *fakeEngine) Kill(id string) error {
	e.record("kill %s", id)
	return e.release(id, func(f *flowstore.Flow) {
		f.Response = nil
		f.Fail(flowstore.PhaseRequest, "killed by the user", clock)
		f.State = flowstore.StateKilled
	})
}

func (e *fakeEngine) Respond(id string, resp *flowstore.Response) error {
	e.record("respond %s %d", id, resp.Status)
	e.mu.Lock()
	e.responded[id] = resp
	e.mu.Unlock()
	return e.release(id, func(f *flowstore.Flow) { f.Response = resp })
}

func (e *fakeEngine) all(fn func(string) error) int {
	n := 0
	for _, f := range e.store.List() {
		if f.State == flowstore.StatePaused && fn(f.ID) == nil {
			n++
		}
	}
	return n
}

func (e *fakeEngine) ResumeAll() int { e.record("resume_all"); return e.all(e.Resume) }
func (e *fakeEngine) KillAll() int   { e.record("kill_all"); return e.all(e.Kill) }

func (e *fakeEngine) Breakpoints() []flowstore.Breakpoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]flowstore.Breakpoint(nil), e.bps...)
}

func (e *fakeEngine) SetBreakpoints(bps []flowstore.Breakpoint) error {
	for _, b := range bps {
		if _, err := filter.Parse(b.Filter); err != nil || strings.TrimSpace(b.Filter) == "" {
			return fmt.Errorf("breakpoint %q: bad filter", b.Filter)
		}
	}
	e.record("set_breakpoints %d", len(bps))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bps = append([]flowstore.Breakpoint(nil), bps...)
	return nil
}

func (e *fakeEngine) Intercepting() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.on
}

func (e *fakeEngine) SetIntercepting(on bool) {
	e.record("set_intercepting %v", on)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.on = on
}

func (e *fakeEngine) Mocks() []flowstore.Mock {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]flowstore.Mock(nil), e.mocks...)
}

func (e *fakeEngine) SetMocks(ms []flowstore.Mock) error {
	e.record("set_mocks %d", len(ms))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mocks = append([]flowstore.Mock(nil), ms...)
	return nil
}

func (e *fakeEngine) Replay(id string) (string, error) {
	e.record("replay %s", id)
	src, ok := e.store.Get(id)
	if !ok || src.Request == nil {
		return "", errors.New("replay: no such flow")
	}
	f := &flowstore.Flow{ID: flowstore.NewID(), State: flowstore.StateDone, ReplayOf: id, Request: src.Request.Clone(),
		Client:   flowstore.Client{Addr: "replay"},
		Response: &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1", Body: flowstore.NewBody([]byte("again"))},
		Timings:  flowstore.Timings{Start: clock, End: clock.Add(time.Millisecond)}}
	e.mu.Lock()
	e.replays = append(e.replays, f)
	e.mu.Unlock()
	e.store.Add(f)
	return f.ID, nil
}

func (e *fakeEngine) Replays() []*flowstore.Flow {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*flowstore.Flow(nil), e.replays...)
}

// fakeClip records what was copied and answers as told.
type fakeClip struct {
	mu     sync.Mutex
	copied []string
	res    clip.Result
}

func (c *fakeClip) Copy(text []byte) clip.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.copied = append(c.copied, string(text))
	return c.res
}

func (c *fakeClip) Copied() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.copied...)
}
