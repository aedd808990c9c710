package mitm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
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

// controls are what acts on traffic: breakpoints and the rule set. They
// are replaced whole, so the hot path reads them without a lock.
type controls struct {
	on  bool
	bps []compiledBP
	set *rules.Set // standing mocks are respond rules in it
}

func (r *controls) anyRequest() bool {
	if r.on {
		for _, b := range r.bps {
			if !b.Disabled && b.Request {
				return true
			}
		}
	}
	return false
}

func (r *controls) anyResponse() bool {
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

func (r *controls) pauses(phase flowstore.Phase, f *flowstore.Flow) bool {
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
	p.updateControls(func(r *controls) { r.bps = compiled })
	return nil
}

// Breakpoints returns the current rules.
func (p *Proxy) Breakpoints() []Breakpoint {
	r := p.ctl.Load()
	out := make([]Breakpoint, len(r.bps))
	for i, b := range r.bps {
		out[i] = b.Breakpoint
	}
	return out
}

// SetIntercepting turns every breakpoint on or off at once (mitmproxy's I).
func (p *Proxy) SetIntercepting(on bool) { p.updateControls(func(r *controls) { r.on = on }) }

// Intercepting reports whether breakpoints are active.
func (p *Proxy) Intercepting() bool { return p.ctl.Load().on }

// SetMocks replaces the standing mocks. They are respond rules (source
// rules.SourceMock) in the rule set, where they were in its order, at its
// end the first time; hit counts follow a mock across edits of the list.
func (p *Proxy) SetMocks(ms []Mock) error {
	for _, m := range ms {
		if m.Response == nil {
			return errors.New("mock without a response")
		}
		if m.Filter != "" {
			if _, err := filter.Parse(m.Filter); err != nil {
				return fmt.Errorf("mock %q: %w", m.Filter, err)
			}
		} else if m.Method == "" || m.URL == "" {
			return errors.New("mock needs a filter, or a method and a URL")
		}
	}
	return p.ReplaceRules(rules.SourceMock, rules.FromMocks(ms))
}

// Mocks returns the standing mocks with their hit counts.
func (p *Proxy) Mocks() []Mock {
	var out []Mock
	for _, s := range p.Rules() {
		if m, ok := rules.ToMock(s); ok {
			out = append(out, m)
		}
	}
	return out
}

// updateControls changes the controls under the lock and swaps them in.
func (p *Proxy) updateControls(change func(*controls)) {
	p.rulesMu.Lock()
	defer p.rulesMu.Unlock()
	r := *p.ctl.Load()
	change(&r)
	p.ctl.Store(&r)
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
	r := p.ctl.Load()
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
