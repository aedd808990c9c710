package mitm

// The request phase: rules (standing mocks among them), request hooks,
// request breakpoints and the edits they leave, applied to the request
// before it goes.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// How a flow is killed depends on how its client is served: goproxy's
// HTTP/1 tunnel loop closes the connection when the round trip fails; the
// net/http and HTTP/2 servers close it (or reset the stream) on
// http.ErrAbortHandler; a replay has no client at all.
type killMode uint8

const (
	killByPanic killMode = iota
	killByError
)

var errKilled = errors.New("flow killed by interceptor-tui")

// errBodyNotWhole refuses a body edit when the flow does not hold the whole
// body: it is past --body-limit, or it was not read because no hook or
// breakpoint asked for it (a headers phase, a stream).
var errBodyNotWhole = errors.New("the body was not read whole (past --body-limit, streaming, or not asked for), so it cannot be replaced")

// requestPhase runs the rules, the request hooks and the request
// breakpoints, in that order. It returns the request to send (maybe
// edited), and a response when the verdict is Respond.
func (ex *exchange) requestPhase(req *http.Request) (*http.Request, *flowstore.Flow, flowstore.Verdict) {
	p := ex.p
	r := p.ctl.Load()
	hs := &p.hooks
	set := r.set
	ex.set = set // the flow keeps this set to its end: no half-loaded rules
	var m []int
	var early *readBody // a body read so that rules can match on it
	if set.ActsOnRequests() {
		probe := ex.out
		if set.MatchReadsRequestBody() {
			rb, err := ex.readRequestBody(req)
			if err != nil {
				return req, nil, flowstore.Kill
			}
			early = &rb
			probe = ex.out.Clone()
			probe.Body = rb.body
		}
		m = set.MatchRequest(ex.probe(probe, nil))
	}
	if m == nil && len(hs.reqHeaders) == 0 && len(hs.request) == 0 && !r.anyRequest() {
		return req, nil, flowstore.Continue
	}
	snap, ok := ex.snapshot()
	if !ok {
		return req, nil, flowstore.Continue
	}
	w := snap.Clone()
	before := w.Request.Clone()
	ctx := req.Context()
	v := flowstore.Continue
	// Without reading the body, the flow holds none of it: only a bodyless
	// request is known whole.
	complete := req.Body == nil || req.Body == http.NoBody
	read := false
	takeBody := func(rb readBody) {
		complete, read = rb.whole, true
		w.Request.Body, before.Body = rb.body, rb.body
	}
	if early != nil {
		takeBody(*early)
	}
	if m != nil {
		if set.NeedsRequestBody(m) && !read {
			rb, err := ex.readRequestBody(req)
			if err != nil {
				return req, nil, flowstore.Kill
			}
			takeBody(rb)
		}
		v = ex.requestRules(set.ApplyRequest(w, m, p.ruleEnv(complete)), w)
	}
	answered := false
	v = runHooks(ex, hs.reqHeaders, flowstore.PhaseRequestHeaders, w, v, func(h RequestHeadersHook) (flowstore.Verdict, error) { return h.RequestHeaders(ctx, w) })
	needBody := v == flowstore.Intercept || (v == flowstore.Continue && r.anyRequest())
	for _, h := range hs.request {
		needBody = needBody || (v == flowstore.Continue && wants(h, flowstore.PhaseRequest, w))
	}
	if needBody && !read {
		rb, err := ex.readRequestBody(req)
		if err != nil {
			return req, nil, flowstore.Kill
		}
		takeBody(rb)
	}
	v = runHooks(ex, hs.request, flowstore.PhaseRequest, w, v, func(h RequestHook) (flowstore.Verdict, error) { return h.Request(ctx, w) })
	if v == flowstore.Continue && r.pauses(flowstore.PhaseRequest, w) {
		v = flowstore.Intercept
	}
	if v == flowstore.Intercept {
		res := ex.pause(ctx, w, flowstore.PhaseRequest, before, nil)
		v = res.verdict
		if v == flowstore.Respond {
			w.Response = res.response
			answered = true
			ex.answerFile = ""
			w.Notes = append(w.Notes, "answered by hand at the breakpoint; the upstream was not contacted")
		}
		if v == flowstore.Kill {
			ex.killReason = res.reason
			ex.clientGone = res.gone
		}
		ex.fresh = true
	}
	if v == flowstore.Respond && w.Response == nil {
		ex.hookFailed(flowstore.PhaseRequest, w, errors.New("asked to respond without setting a response; continuing"))
		v = flowstore.Continue
	}
	if v == flowstore.Respond && !answerStatus(w.Response.Status) {
		// A Go hook can set any number.
		ex.hookFailed(flowstore.PhaseRequest, w, fmt.Errorf("asked to respond with status %d, which cannot be sent; continuing", w.Response.Status))
		w.Response = nil
		v = flowstore.Continue
	}
	changed := !sameRequest(before, w.Request)
	if changed {
		if complete && !sameBody(before.Body, w.Request.Body) {
			// The new body's length goes in the head that announces it, and
			// the flow shows the head that was sent.
			n := int64(len(w.Request.Body.Data))
			w.Request.Headers = withLength(w.Request.Headers, n, n > 0)
		}
		if err := applyRequest(req, w.Request, complete, before); err != nil {
			ex.editFailed(w, fmt.Errorf("request edit not applied: %w", err))
			w.Request = before
			changed = false
		} else {
			ex.out = w.Request
		}
	}
	if changed && !(bytes.Equal(before.Body.Data, w.Request.Body.Data) && before.Body.Size == w.Request.Body.Size) {
		// The flow shows the body that went upstream; the client's is in
		// the original.
		ex.mu.Lock()
		ex.sentBody = true
		ex.mu.Unlock()
	}
	ex.update(func(f *flowstore.Flow) {
		if changed || answered {
			f.KeepOriginal() // an answer written by hand counts as an edit (for K and the ✎ mark)
		}
		f.Request = w.Request
		f.Notes, f.Marked, f.Comment, f.Rules = w.Notes, w.Marked, w.Comment, w.Rules
	})
	return req, w, v
}

// readBody is a request body read for rules, hooks or a person.
type readBody struct {
	body  flowstore.Body
	whole bool
}

// readRequestBody reads the body (up to the body limit); a client that
// stops sending it ends the flow.
func (ex *exchange) readRequestBody(req *http.Request) (readBody, error) {
	body, whole, err := ex.bufferRequest(req)
	if err != nil {
		ex.clientGoneAt(flowstore.PhaseRequest, "the client stopped sending the request body: "+err.Error())
		return readBody{}, err
	}
	return readBody{body: body, whole: whole}, nil
}

// runHooks calls the hooks of one phase in order while the verdict is
// Continue, each only for flows it wants.
func runHooks[H any](ex *exchange, hooks []H, phase flowstore.Phase, w *flowstore.Flow, v flowstore.Verdict, call func(H) (flowstore.Verdict, error)) flowstore.Verdict {
	for _, h := range hooks {
		if v != flowstore.Continue {
			break
		}
		if wants(h, phase, w) {
			v = ex.safely(phase, w, func() (flowstore.Verdict, error) { return call(h) })
		}
	}
	return v
}

// bufferRequest reads the request body (up to the body limit) so hooks and
// people can see and change it, and puts a replay of it in its place.
func (ex *exchange) bufferRequest(req *http.Request) (flowstore.Body, bool, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return flowstore.Body{}, true, nil
	}
	limit := ex.p.opts.BodyLimit
	data, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return flowstore.Body{}, false, err
	}
	if int64(len(data)) > limit {
		req.Body = multiReadCloser{io.MultiReader(bytes.NewReader(data), req.Body), req.Body}
		return flowstore.Body{Data: data[:limit], Size: int64(len(data)), Truncated: true}, false, nil
	}
	_ = req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = int64(len(data))
	return flowstore.NewBody(data), true, nil
}

type multiReadCloser struct {
	io.Reader
	c io.Closer
}

func (m multiReadCloser) Close() error { return m.c.Close() }

func sameBody(a, b flowstore.Body) bool {
	return a.Size == b.Size && bytes.Equal(a.Data, b.Data)
}

// applyRequest rewrites the outgoing request from an edited flow request.
func applyRequest(req *http.Request, fr *flowstore.Request, complete bool, before *flowstore.Request) error {
	u, err := url.Parse(fr.URL())
	if err != nil {
		return fmt.Errorf("URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL scheme %q: want http or https", u.Scheme)
	}
	if fr.Method == "" {
		return errors.New("empty method")
	}
	sameBody := bytes.Equal(before.Body.Data, fr.Body.Data) && before.Body.Size == fr.Body.Size
	if !complete && !sameBody {
		return errBodyNotWhole
	}
	req.Method = fr.Method
	req.URL = u
	req.Host = fr.Headers.Get("Host")
	if req.Host == "" || !sameAuthority(before, fr) {
		req.Host = fr.Authority()
	}
	h := fr.Headers.HTTP()
	for _, k := range []string{"Host", "Content-Length", "Transfer-Encoding"} {
		h.Del(k)
	}
	req.Header = h
	if complete {
		data := fr.Body.Data
		req.TransferEncoding = nil
		req.ContentLength = int64(len(data))
		req.Body = http.NoBody
		if len(data) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(data))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		}
	}
	return nil
}

func sameAuthority(a, b *flowstore.Request) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Port == b.Port
}

func sameRequest(a, b *flowstore.Request) bool {
	return a.Method == b.Method && sameAuthority(a, b) && a.Path == b.Path &&
		slices.Equal(a.Headers, b.Headers) && a.Body.Size == b.Body.Size && bytes.Equal(a.Body.Data, b.Body.Data)
}
