package mitm

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// Breakpoint and Mock are the store's plain types.
type (
	Breakpoint = flowstore.Breakpoint
	Mock       = flowstore.Mock
)

type compiledBP struct {
	Breakpoint
	match *filter.Filter
}

type compiledMock struct {
	Mock
	match *filter.Filter
	hits  *atomic.Int64
}

// rules are replaced whole, so the hot path reads them without a lock.
type rules struct {
	on    bool
	bps   []compiledBP
	mocks []compiledMock
}

func (r *rules) anyRequest() bool {
	if r.on {
		for _, b := range r.bps {
			if !b.Disabled && b.Request {
				return true
			}
		}
	}
	for _, m := range r.mocks {
		if !m.Disabled {
			return true
		}
	}
	return false
}

func (r *rules) anyResponse() bool {
	if !r.on {
		return false
	}
	for _, b := range r.bps {
		if !b.Disabled && b.Response {
			return true
		}
	}
	return false
}

func (r *rules) pauses(phase flowstore.Phase, f *flowstore.Flow) bool {
	if !r.on {
		return false
	}
	for _, b := range r.bps {
		if b.Disabled || (phase == flowstore.PhaseRequest && !b.Request) || (phase == flowstore.PhaseResponse && !b.Response) {
			continue
		}
		if b.match.Match(f) {
			return true
		}
	}
	return false
}

func (r *rules) mockFor(f *flowstore.Flow) *compiledMock {
	for i := range r.mocks {
		m := &r.mocks[i]
		if m.Disabled {
			continue
		}
		if m.match != nil {
			if m.match.Match(f) {
				return m
			}
		} else if strings.EqualFold(m.Method, f.Request.Method) && m.URL == f.Request.URL() {
			return m
		}
	}
	return nil
}

// SetBreakpoints replaces the breakpoint rules. A filter that does not
// parse is an error naming it, and nothing changes.
func (p *Proxy) SetBreakpoints(bps []Breakpoint) error {
	compiled := make([]compiledBP, 0, len(bps))
	for _, b := range bps {
		m, err := filter.Parse(b.Filter)
		if err != nil {
			return fmt.Errorf("breakpoint %q: %w", b.Filter, err)
		}
		if strings.TrimSpace(b.Filter) == "" {
			return errors.New("breakpoint: empty filter (use ~all to pause everything)")
		}
		if !b.Request && !b.Response {
			b.Request, b.Response = true, true
		}
		compiled = append(compiled, compiledBP{Breakpoint: b, match: m})
	}
	p.updateRules(func(r *rules) { r.bps = compiled })
	return nil
}

// Breakpoints returns the current rules.
func (p *Proxy) Breakpoints() []Breakpoint {
	r := p.rules.Load()
	out := make([]Breakpoint, len(r.bps))
	for i, b := range r.bps {
		out[i] = b.Breakpoint
	}
	return out
}

// SetIntercepting turns every breakpoint on or off at once (mitmproxy's I).
func (p *Proxy) SetIntercepting(on bool) { p.updateRules(func(r *rules) { r.on = on }) }

// Intercepting reports whether breakpoints are active.
func (p *Proxy) Intercepting() bool { return p.rules.Load().on }

// SetMocks replaces the standing mocks.
func (p *Proxy) SetMocks(ms []Mock) error {
	old := p.rules.Load().mocks
	compiled := make([]compiledMock, 0, len(ms))
	for _, m := range ms {
		if m.Response == nil {
			return errors.New("mock without a response")
		}
		c := compiledMock{Mock: m, hits: new(atomic.Int64)}
		if m.Filter != "" {
			f, err := filter.Parse(m.Filter)
			if err != nil {
				return fmt.Errorf("mock %q: %w", m.Filter, err)
			}
			c.match = f
		} else if m.Method == "" || m.URL == "" {
			return errors.New("mock needs a filter, or a method and a URL")
		}
		for _, o := range old { // keep hit counts across edits of the list
			if o.Describe() == m.Describe() {
				c.hits = o.hits
			}
		}
		compiled = append(compiled, c)
	}
	p.updateRules(func(r *rules) { r.mocks = compiled })
	return nil
}

// Mocks returns the standing mocks with their hit counts.
func (p *Proxy) Mocks() []Mock {
	r := p.rules.Load()
	out := make([]Mock, len(r.mocks))
	for i, m := range r.mocks {
		out[i] = m.Mock
		out[i].Hits = m.hits.Load()
	}
	return out
}

func (p *Proxy) updateRules(change func(*rules)) {
	p.rulesMu.Lock()
	defer p.rulesMu.Unlock()
	r := *p.rules.Load()
	change(&r)
	p.rules.Store(&r)
}

// resolution is how a person (or a timeout) ends a pause.
type resolution struct {
	verdict  flowstore.Verdict // Continue, Respond or Kill
	response *flowstore.Response
	reason   string
	gone     bool // the client went away
}

// ErrNotPaused is returned when a flow is not held at a breakpoint.
var ErrNotPaused = errors.New("flow is not paused")

type gate chan resolution

func (p *Proxy) resolve(id string, r resolution) error {
	v, ok := p.gates.Load(id)
	if !ok {
		return ErrNotPaused
	}
	select {
	case v.(gate) <- r:
		return nil
	default:
		return ErrNotPaused // already being resolved
	}
}

// Resume lets a paused flow go on, with whatever edits were made to it in
// the store meanwhile.
func (p *Proxy) Resume(id string) error {
	return p.resolve(id, resolution{verdict: flowstore.Continue})
}

// Kill ends a paused flow and closes its client's connection.
func (p *Proxy) Kill(id string) error {
	return p.resolve(id, resolution{verdict: flowstore.Kill, reason: "killed by the user"})
}

// Respond answers a paused flow with resp; the upstream is not contacted
// (or, at the response phase, its response is replaced).
func (p *Proxy) Respond(id string, resp *flowstore.Response) error {
	if resp == nil {
		return errors.New("respond: no response")
	}
	if !answerStatus(resp.Status) {
		return fmt.Errorf("respond: status %d cannot answer a request (want 200 to 999)", resp.Status)
	}
	return p.resolve(id, resolution{verdict: flowstore.Respond, response: resp})
}

// ResumeAll resumes every paused flow and says how many there were.
func (p *Proxy) ResumeAll() int {
	n := 0
	p.gates.Range(func(k, _ any) bool {
		if p.Resume(k.(string)) == nil {
			n++
		}
		return true
	})
	return n
}

// KillAll kills every paused flow.
func (p *Proxy) KillAll() int {
	n := 0
	p.gates.Range(func(k, _ any) bool {
		if p.Kill(k.(string)) == nil {
			n++
		}
		return true
	})
	return n
}

// Paused counts flows held at a breakpoint.
func (p *Proxy) Paused() int {
	n := 0
	p.gates.Range(func(any, any) bool { n++; return true })
	return n
}

// SetInterceptTimeout makes paused flows resume unchanged after d (0: never).
func (p *Proxy) SetInterceptTimeout(d time.Duration) { p.pauseTimeout.Store(int64(d)) }

// BreakpointFilters describes the active breakpoints for a status line:
// each filter, with its phase when it is not both.
func (p *Proxy) BreakpointFilters() []string {
	r := p.rules.Load()
	if !r.on {
		return nil
	}
	var out []string
	for _, b := range r.bps {
		if b.Disabled {
			continue
		}
		s := b.Filter
		if ph := b.Phases(); ph != "both" {
			s += " (" + ph + ")"
		}
		out = append(out, s)
	}
	return out
}
