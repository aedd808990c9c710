package mitm

// Declarative rules (package flowstore/rules) on the engine's side: the
// set in effect, swapped whole under a lock, and what the wire needs from
// them: waiting, pacing bodies, closing or resetting a connection. The
// request phase (request.go) and the response phase (response.go) call in
// here; rules run before the hooks' request phases and after their
// response phases.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// Rules returns every rule, standing mocks included, in the order they
// are tried, each with how many flows it acted on.
func (p *Proxy) Rules() []rules.Status { return p.ctl.Load().set.Rules() }

// SetRules replaces every rule. A rule that does not compile is an error
// naming it, and nothing changes. Flows already on their way keep the set
// they started with.
func (p *Proxy) SetRules(rs []rules.Rule) error {
	return p.UpdateRules(func([]rules.Rule) []rules.Rule { return rs })
}

// UpdateRules changes the rules under the engine's lock: change gets the
// current list (a copy) and returns the new one, so a UI can reorder,
// switch, edit or delete without losing a file's reload that lands
// meanwhile. Hit counts follow rules by name.
func (p *Proxy) UpdateRules(change func([]rules.Rule) []rules.Rule) error {
	p.rulesMu.Lock()
	defer p.rulesMu.Unlock()
	cur := p.ctl.Load()
	var defs []rules.Rule
	for _, s := range cur.set.Rules() {
		defs = append(defs, s.Rule)
	}
	set, err := rules.Compile(change(defs), cur.set)
	if err != nil {
		return err
	}
	next := *cur
	next.set = set
	p.ctl.Store(&next)
	return nil
}

// ReplaceRules replaces the rules of one source (a rules file's path,
// rules.SourceFlags, rules.SourceTUI...) where they stand in the order; a
// new source's rules go at the end. rules.Loader calls it on each reload.
func (p *Proxy) ReplaceRules(source string, rs []rules.Rule) error {
	return p.UpdateRules(func(cur []rules.Rule) []rules.Rule { return rules.ReplaceSource(cur, source, rs) })
}

// RestoreRules adds the rules saved flows carry (rules.FromFlows), those
// whose names no rule has: a rules file or a flag says what it says, and
// a loaded session fills in the rest. It returns how many it added.
func (p *Proxy) RestoreRules(rs []rules.Rule) (int, error) {
	added := 0
	err := p.UpdateRules(func(cur []rules.Rule) []rules.Rule {
		added = 0
		for _, r := range rs {
			if slices.ContainsFunc(cur, func(c rules.Rule) bool { return c.Name == r.Name }) {
				continue
			}
			cur = append(cur, r)
			added++
		}
		return cur
	})
	if err != nil {
		added = 0
	}
	return added, err
}

// RuleStores are the values capture rules stored, for templates (and a
// view).
func (p *Proxy) RuleStores() *rules.Stores { return p.stores }

// ruleEnv is what applying rules needs; whole says the message's body is
// all in the flow.
func (p *Proxy) ruleEnv(whole bool) rules.Env {
	return rules.Env{Stores: p.stores, Whole: whole, BodyLimit: p.opts.BodyLimit}
}

// probe is the flow as it stands, for matching without showing the flow:
// a flow no rule matches is never stored early or copied. It is filled in
// place (its fixed parts once), as it is built for every request.
func (ex *exchange) probe(req *flowstore.Request, rsp *flowstore.Response) *flowstore.Flow {
	pf := &ex.probeFlow
	if pf.ID == "" {
		pf.ID, pf.State, pf.Client = ex.id, flowstore.StateActive, ex.client
	}
	ex.mu.Lock()
	pf.Server = ex.server
	ex.mu.Unlock()
	pf.Request, pf.Response = req, rsp
	return pf
}

// ruleOutcome keeps what the request phase's rules ask of the wire.
func (ex *exchange) requestRules(out rules.Outcome, w *flowstore.Flow) flowstore.Verdict {
	ex.reqDelay += out.Delay
	ex.upRate = out.Rate
	ex.answerFile = out.AnswerFile
	switch {
	case out.Close || out.Reset:
		how := "closed the connection"
		if out.Reset {
			how = "reset the connection"
		}
		ex.killReason = fmt.Sprintf("blocked by rule %q: %s", out.By, how)
		ex.resetConn = out.Reset
		return flowstore.Kill
	case out.Answer:
		if w.Response != nil && !answerStatus(w.Response.Status) {
			// A mock loaded from a file can carry any number.
			ex.failed(w, "rule "+out.By, fmt.Errorf("asked to respond with status %d, which cannot be sent; continuing", w.Response.Status))
			w.Response, ex.answerFile = nil, ""
			return flowstore.Continue
		}
		if len(out.By) > 6 && out.By[:6] == "mock: " {
			w.Notes = append(w.Notes, "answered by the standing "+out.By)
		}
		return flowstore.Respond
	}
	return flowstore.Continue
}

// answerRules runs the response phase's rules on an answer written by a
// rule, a hook or a person (the origin's go through responsePhase).
func (ex *exchange) answerRules(rsp *flowstore.Response) *flowstore.Response {
	set := ex.set
	if !set.ActsOnResponses() {
		return rsp
	}
	m := set.MatchResponse(ex.probe(ex.out, rsp))
	if m == nil {
		return rsp
	}
	snap, ok := ex.snapshot()
	if !ok {
		return rsp
	}
	w := snap.Clone()
	w.Response = rsp.Clone()
	whole := !rsp.Body.Truncated && ex.answerFile == ""
	out := set.ApplyResponse(w, m, ex.p.ruleEnv(whole))
	ex.respDelay += out.Delay
	ex.downRate = out.Rate
	ex.update(func(f *flowstore.Flow) { f.Rules = w.Rules })
	return w.Response
}

// wait sleeps for a rule's delay; it ends early when ctx or the proxy
// ends.
func (ex *exchange) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-ex.p.ctx.Done():
	}
}

// paced lets a body through at a rate (bits per second), so a throttled
// download or upload takes the time it would on that network. It reads
// at most a twentieth of a second's worth at a time and waits until the
// bytes so far are due.
type paced struct {
	r     io.ReadCloser
	ctx   context.Context
	bps   float64 // bytes per second
	chunk int
	start time.Time
	n     int64
}

func newPaced(r io.ReadCloser, bits int64, ctx context.Context) *paced {
	bps := float64(bits) / 8
	return &paced{r: r, ctx: ctx, bps: bps, chunk: int(min(max(bps/20, 512), 64<<10))}
}

func (p *paced) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	due := p.start.Add(time.Duration(float64(p.n) / p.bps * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
			return 0, p.ctx.Err()
		}
	}
	if len(b) > p.chunk {
		b = b[:p.chunk]
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

func (p *paced) Close() error { return p.r.Close() }

// trailerLines passes on a chunked request body's trailers.
func (p *paced) trailerLines() flowstore.Headers {
	if t, ok := p.r.(interface{ trailerLines() flowstore.Headers }); ok {
		return t.trailerLines()
	}
	return nil
}

// fileBody streams a local file as an answer's body (map-local or
// respond with a file larger than the flow keeps).
func fileBody(path string) (io.ReadCloser, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// resetTCP ends the TCP connection under c with a reset (RST) instead of
// a FIN, whatever c wraps (TLS, a peeked stream): closing the TLS layer
// would first say close_notify, which a client reads as an orderly end.
func resetTCP(c net.Conn) {
	for c != nil {
		switch x := c.(type) {
		case *net.TCPConn:
			_ = x.SetLinger(0)
			_ = x.Close()
			return
		case *trackedConn:
			c = x.Conn
		case *peekedConn:
			c = x.Conn
		case *replyEater:
			c = x.Conn
		case interface{ NetConn() net.Conn }: // *tls.Conn
			c = x.NetConn()
		default:
			return
		}
	}
}
