package mitm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

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

// requestPhase runs request hooks, standing mocks and request breakpoints.
// It returns the request to send (maybe edited), and a response when the
// verdict is Respond.
func (ex *exchange) requestPhase(req *http.Request) (*http.Request, *flowstore.Flow, flowstore.Verdict) {
	p := ex.p
	r := p.rules.Load()
	hs := &p.hooks
	if len(hs.reqHeaders) == 0 && len(hs.request) == 0 && !r.anyRequest() {
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
	v = runHooks(ex, hs.reqHeaders, flowstore.HookRequestHeaders, w, v, func(h RequestHeadersHook) (flowstore.Verdict, error) { return h.RequestHeaders(ctx, w) })
	needBody := v == flowstore.Intercept || (v == flowstore.Continue && r.anyRequest())
	for _, h := range hs.request {
		needBody = needBody || (v == flowstore.Continue && wants(h, flowstore.HookRequest, w))
	}
	// Without reading the body, the flow holds none of it: only a bodyless
	// request is known whole.
	complete := req.Body == nil || req.Body == http.NoBody
	answered := false
	if needBody {
		body, whole, err := ex.bufferRequest(req)
		if err != nil {
			ex.clientGoneAt(flowstore.PhaseRequest, "the client stopped sending the request body: "+err.Error())
			return req, nil, flowstore.Kill
		}
		complete = whole
		w.Request.Body, before.Body = body, body
	}
	v = runHooks(ex, hs.request, flowstore.HookRequest, w, v, func(h RequestHook) (flowstore.Verdict, error) { return h.Request(ctx, w) })
	if v == flowstore.Continue {
		if m := r.mockFor(w); m != nil {
			m.hits.Add(1)
			w.Response = m.Response.Clone()
			w.Notes = append(w.Notes, "answered by the standing mock for "+m.Describe())
			v = flowstore.Respond
		}
	}
	if v == flowstore.Continue && r.pauses(flowstore.PhaseRequest, w) {
		v = flowstore.Intercept
	}
	if v == flowstore.Intercept {
		res := ex.pause(ctx, w, flowstore.PhaseRequest, before, nil)
		v = res.verdict
		if v == flowstore.Respond {
			w.Response = res.response
			answered = true
			w.Notes = append(w.Notes, "answered by hand at the breakpoint; the upstream was not contacted")
		}
		if v == flowstore.Kill {
			ex.killReason = res.reason
			ex.clientGone = res.gone
		}
		ex.fresh = true
	}
	if v == flowstore.Respond && w.Response == nil {
		ex.hookFailed(flowstore.HookRequest, w, errors.New("asked to respond without setting a response; continuing"))
		v = flowstore.Continue
	}
	if v == flowstore.Respond && !answerStatus(w.Response.Status) {
		// A mock loaded from a file or a Go hook can carry any number.
		ex.hookFailed(flowstore.HookRequest, w, fmt.Errorf("asked to respond with status %d, which cannot be sent; continuing", w.Response.Status))
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
			ex.hookFailed("edit", w, fmt.Errorf("request edit not applied: %w", err))
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
		f.Notes, f.Marked, f.Comment = w.Notes, w.Marked, w.Comment
	})
	return req, w, v
}

// runHooks calls the hooks of one phase in order while the verdict is
// Continue, each only for flows it wants.
func runHooks[H any](ex *exchange, hooks []H, phase string, w *flowstore.Flow, v flowstore.Verdict, call func(H) (flowstore.Verdict, error)) flowstore.Verdict {
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

// responsePhase runs response hooks and response breakpoints on a response
// that has just arrived (its head is already in the store). Kill means the
// flow is to be killed; Respond that it has ended already (the upstream
// failed) and the response returned is to go to the client as it is.
// watchesResponses reports whether a response hook or a breakpoint (in r)
// looks at a response as it arrives.
func (p *Proxy) watchesResponses(r *rules) bool {
	hs := &p.hooks
	return len(hs.respHeaders) > 0 || len(hs.response) > 0 || r.anyResponse()
}

func (ex *exchange) responsePhase(req *http.Request, resp *http.Response) (*http.Response, flowstore.Verdict) {
	p := ex.p
	r := p.rules.Load()
	hs := &p.hooks
	if !p.watchesResponses(r) {
		return resp, flowstore.Continue
	}
	snap, ok := ex.snapshot()
	if !ok || snap.Response == nil {
		return resp, flowstore.Continue
	}
	w := snap.Clone()
	before := w.Response.Clone()
	ctx := req.Context()
	v := flowstore.Continue
	v = runHooks(ex, hs.respHeaders, flowstore.HookResponseHeaders, w, v, func(h ResponseHeadersHook) (flowstore.Verdict, error) { return h.ResponseHeaders(ctx, w) })
	if v == flowstore.Continue && r.pauses(flowstore.PhaseResponse, w) && !wantsBodyLater(hs, r, w) {
		v = flowstore.Intercept // the headers are enough to decide
	}
	needBody := v == flowstore.Intercept || (v == flowstore.Continue && wantsBodyLater(hs, r, w))
	complete := false // the flow holds none of the body until it is read
	// An event stream or a WebSocket never ends: buffering it would hold the
	// client forever, so hooks and people see it without its body.
	streaming := isEventStream(ex.respHeaders(resp)) || resp.StatusCode == http.StatusSwitchingProtocols
	if needBody && !streaming {
		body, whole, err := ex.bufferResponse(resp)
		if err != nil {
			resp.Body.Close()
			// The flow ends here, as an error; the client gets a 502 instead.
			msg := "upstream failed while sending the body: " + err.Error()
			now := time.Now()
			ex.markFinished()
			f, _ := ex.update(func(f *flowstore.Flow) {
				ex.applyRequest(f)
				f.Fail(flowstore.PhaseResponse, msg, now)
			})
			p.log.Add(flowstore.LevelWarn, "proxy", ex.id, msg)
			ex.runEndHooks(f)
			return textResponse(req, http.StatusBadGateway, "interceptor-tui: "+msg+"\n"), flowstore.Respond
		}
		complete = whole
		w.Response.Body, before.Body = body, body
		if whole {
			ex.ready = nil // the body is in memory now
		}
	}
	v = runHooks(ex, hs.response, flowstore.HookResponse, w, v, func(h ResponseHook) (flowstore.Verdict, error) { return h.Response(ctx, w) })
	if v == flowstore.Continue && r.pauses(flowstore.PhaseResponse, w) {
		v = flowstore.Intercept
	}
	if v == flowstore.Intercept {
		res := ex.pause(ctx, w, flowstore.PhaseResponse, nil, before)
		v = res.verdict
		if v == flowstore.Respond {
			// An answer written by hand is whole in itself: it replaces the
			// origin's response however much of that was read.
			w.Response = res.response
			complete = true
		}
		if v == flowstore.Kill {
			ex.killReason = res.reason
			ex.clientGone = res.gone
		}
	}
	if v == flowstore.Kill {
		resp.Body.Close()
		return resp, v
	}
	changed := !sameResponse(before, w.Response)
	if changed {
		nr, err := buildResponse(req, w.Response, complete, before, resp)
		if err != nil {
			ex.hookFailed("edit", w, fmt.Errorf("response edit not applied: %w", err))
			w.Response = before
			changed = false
		} else {
			if nr.Body != resp.Body {
				resp.Body.Close()
				w.Response.Headers = withLength(w.Response.Headers, nr.ContentLength, bodyAllowed(req.Method, w.Response.Status))
				ex.trail, ex.ready = nil, nil
			}
			resp = nr
			ex.respOut, ex.respFor = responseHead(resp.Proto, w.Response, w.Response.Status == before.Status), resp
		}
	}
	ex.update(func(f *flowstore.Flow) {
		if changed {
			f.KeepOriginal()
		}
		f.Response = w.Response
		f.Notes, f.Marked, f.Comment = w.Notes, w.Marked, w.Comment
	})
	return resp, flowstore.Continue
}

func wantsBodyLater(hs *hookSet, r *rules, w *flowstore.Flow) bool {
	if r.anyResponse() && r.pauses(flowstore.PhaseResponse, w) {
		return true
	}
	for _, h := range hs.response {
		if wants(h, flowstore.HookResponse, w) {
			return true
		}
	}
	return false
}

func (ex *exchange) bufferResponse(resp *http.Response) (flowstore.Body, bool, error) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return flowstore.Body{}, true, nil
	}
	limit := ex.p.opts.BodyLimit
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return flowstore.Body{}, false, err
	}
	if int64(len(data)) > limit {
		resp.Body = multiReadCloser{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
		return flowstore.Body{Data: data[:limit], Size: int64(len(data)), Truncated: true}, false, nil
	}
	orig := resp.Body
	resp.Body = multiReadCloser{bytes.NewReader(data), orig}
	return flowstore.NewBody(data), true, nil
}

// pause holds the flow until a person resolves it, the client goes away, the
// intercept timeout passes, or the proxy stops. The flow's state in the
// store shows the pause; edits a person makes there are picked up on
// resume.
func (ex *exchange) pause(ctx context.Context, w *flowstore.Flow, phase flowstore.Phase, beforeReq *flowstore.Request, beforeResp *flowstore.Response) resolution {
	p := ex.p
	g := make(gate, 1)
	p.gates.Store(ex.id, g)
	defer p.gates.Delete(ex.id)
	now := time.Now()
	ex.update(func(f *flowstore.Flow) {
		if (beforeReq != nil && !sameRequest(beforeReq, w.Request)) || (beforeResp != nil && !sameResponse(beforeResp, w.Response)) {
			f.KeepOriginal()
		}
		f.Request, f.Response, f.Notes = w.Request, w.Response, w.Notes
		f.State, f.Paused, f.Since = flowstore.StatePaused, phase, now
	})
	var timeout <-chan time.Time
	if d := time.Duration(p.pauseTimeout.Load()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	gone, stopWatch := ex.watchClient(ctx, phase)
	var res resolution
	select {
	case res = <-g:
	case <-gone:
		res = resolution{verdict: flowstore.Kill, reason: "the client disconnected while the flow was paused", gone: true}
	case <-timeout:
		res = resolution{verdict: flowstore.Continue}
		w.Notes = append(w.Notes, "resumed unchanged after the intercept timeout")
	case <-p.ctx.Done():
		res = resolution{verdict: flowstore.Kill, reason: "the proxy stopped while the flow was paused"}
	}
	stopWatch()
	if snap, ok := ex.snapshot(); ok {
		notes := w.Notes
		w.Request, w.Response = snap.Request.Clone(), snap.Response.Clone()
		w.Marked, w.Comment, w.Original = snap.Marked, snap.Comment, snap.Original
		w.Notes = slices.Concat(snap.Notes, notes[min(len(notes), len(snap.Notes)):])
	}
	if res.verdict != flowstore.Kill {
		ex.update(func(f *flowstore.Flow) {
			f.State, f.Paused, f.Since = flowstore.StateActive, flowstore.PhaseNone, time.Time{}
		})
	}
	p.log.Add(flowstore.LevelInfo, "intercept", ex.id, fmt.Sprintf("%s released (%s) after %s", phase, res.verdict, time.Since(now).Round(time.Millisecond)))
	return res
}

// watchClient reports a client that hangs up while its flow is paused.
// Nothing reads an HTTP/1 client's connection while its flow waits, so
// the connection is watched; HTTP/2 streams end with their context.
func (ex *exchange) watchClient(ctx context.Context, phase flowstore.Phase) (<-chan struct{}, func()) {
	if cc := ex.cc; cc != nil {
		gone := cc.watch()
		return gone, func() {
			if !cc.body.finished() {
				cc.unwatch() // the body is still to be read, by its reader alone
			}
		}
	}
	return ctx.Done(), func() {}
}

// clientGoneAt ends the flow because its client went away.
func (ex *exchange) clientGoneAt(phase flowstore.Phase, reason string) {
	ex.killReason, ex.clientGone, ex.killPhase = reason, true, phase
}

// killed ends a flow that a person, a hook or the client's departure
// killed, and closes the client's connection.
func (ex *exchange) killed(phase flowstore.Phase) (*http.Response, error) {
	now := time.Now()
	reason := ex.killReason
	if reason == "" {
		reason = "killed by a hook"
	}
	if ex.killPhase != "" {
		phase = ex.killPhase
	}
	f, _ := ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		if ex.clientGone {
			f.Fail(phase, reason, now)
			return
		}
		f.State, f.Paused = flowstore.StateKilled, flowstore.PhaseNone
		f.Error = &flowstore.Error{Phase: phase, Message: reason}
		f.Timings.End = now
	})
	ex.markFinished()
	ex.runEndHooks(f)
	if ex.killMode == killByPanic {
		panic(http.ErrAbortHandler) // the HTTP/2 server resets the stream
	}
	if ex.cc != nil {
		_ = ex.cc.nc.Close()
	}
	return nil, errKilled
}

// respondWith answers the client with a response a hook, a mock or a person
// wrote, without contacting the upstream.
func (ex *exchange) respondWith(req *http.Request, rsp *flowstore.Response) *http.Response {
	now := time.Now()
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.Response = rsp
		f.Timings.FirstByte = now
	})
	resp, _ := buildResponse(req, rsp, true, nil, nil)
	if !rsp.Headers.Has("Content-Length") && !hasToken(rsp.Headers, "Transfer-Encoding", "chunked") && bodyAllowed(req.Method, rsp.Status) {
		// An answer written by a hook or a person says how long it is.
		rsp = rsp.Clone()
		rsp.Headers = withLength(rsp.Headers, resp.ContentLength, true)
		ex.update(func(f *flowstore.Flow) { f.Response = rsp })
	}
	ex.respOut, ex.respFor = responseHead("HTTP/1.1", rsp, false), resp
	ex.trail, ex.ready = nil, nil
	return ex.deliver(req, resp, 0)
}

// buildResponse turns a flow response into one to send. When the body is
// unchanged and was not read whole, the original stream is kept.
func buildResponse(req *http.Request, r *flowstore.Response, complete bool, before *flowstore.Response, orig *http.Response) (*http.Response, error) {
	if r.Status < 100 || r.Status > 999 {
		return nil, fmt.Errorf("bad status code %d", r.Status)
	}
	h := r.Headers.HTTP()
	h.Del("Transfer-Encoding")
	resp := &http.Response{
		StatusCode: r.Status,
		Status:     strconv.Itoa(r.Status) + " " + reasonOr(r),
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  h,
		Request: req,
	}
	sameBody := before != nil && bytes.Equal(before.Body.Data, r.Body.Data) && before.Body.Size == r.Body.Size
	if !complete && !sameBody {
		return nil, errBodyNotWhole
	}
	if sameBody && orig != nil {
		// The body stays as it came: its stream (which for a 101 is the
		// upgraded connection) and its length (which a HEAD answer states
		// without a body).
		resp.Body, resp.ContentLength = orig.Body, orig.ContentLength
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(r.Body.Data))
	resp.ContentLength = int64(len(r.Body.Data))
	if bodyAllowed(req.Method, r.Status) {
		h.Set("Content-Length", strconv.Itoa(len(r.Body.Data)))
	}
	return resp, nil
}

// withLength makes a head announce a body of n bytes: its Content-Length
// says n, or, for a chunked body, nothing needs to change. A head that
// announced no length gets one when add is set.
func withLength(hs flowstore.Headers, n int64, add bool) flowstore.Headers {
	if hasToken(hs, "Transfer-Encoding", "chunked") {
		return hs
	}
	v := strconv.FormatInt(n, 10)
	if hs.Has("Content-Length") {
		if len(hs.Values("Content-Length")) == 1 && hs.Get("Content-Length") == v {
			return hs
		}
		hs = hs.Clone()
		hs.Set("Content-Length", v)
		return hs
	}
	if !add {
		return hs
	}
	hs = hs.Clone()
	hs.Add("Content-Length", v)
	return hs
}

// responseHead is the head to write for a response the flow holds; its
// reason phrase stays as it is (even empty) when keepReason is set.
func responseHead(proto string, r *flowstore.Response, keepReason bool) *head {
	if proto == "" || proto == "HTTP/2.0" {
		proto = "HTTP/1.1"
	}
	reason := r.Reason
	if !keepReason {
		reason = reasonOr(r)
	}
	return &head{a: proto, b: strconv.Itoa(r.Status), c: reason, hs: r.Headers}
}

func sameBody(a, b flowstore.Body) bool {
	return a.Size == b.Size && bytes.Equal(a.Data, b.Data)
}

// answerStatus reports whether status can end an exchange: a final status
// of three digits (a 1xx would leave the client waiting for the real one).
func answerStatus(status int) bool { return status >= 200 && status <= 999 }

func reasonOr(r *flowstore.Response) string {
	if r.Reason != "" {
		return r.Reason
	}
	return http.StatusText(r.Status)
}

func bodyAllowed(method string, status int) bool {
	return method != http.MethodHead && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
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

func sameResponse(a, b *flowstore.Response) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.Reason == b.Reason && slices.Equal(a.Headers, b.Headers) &&
		a.Body.Size == b.Body.Size && bytes.Equal(a.Body.Data, b.Body.Data)
}

// chunkReader passes a streaming body through the response-chunk hooks.
type chunkReader struct {
	src   io.ReadCloser
	ex    *exchange
	f     *flowstore.Flow
	hooks []ResponseChunkHook
	ctx   context.Context
	buf   []byte
	out   []byte
	err   error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.buf == nil {
			c.buf = make([]byte, 32<<10)
		}
		n, err := c.src.Read(c.buf)
		last := err != nil
		if n > 0 || last {
			c.out = c.transform(c.buf[:n], errors.Is(err, io.EOF))
		}
		if err != nil {
			c.err = err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *chunkReader) transform(chunk []byte, last bool) []byte {
	for _, h := range c.hooks {
		in := chunk
		c.ex.safely(flowstore.HookResponseChunk, nil, func() (flowstore.Verdict, error) {
			out, err := h.ResponseChunk(c.ctx, c.f, in, last)
			if err != nil {
				return flowstore.Continue, err
			}
			chunk = out
			return flowstore.Continue, nil
		})
	}
	return chunk
}

func (c *chunkReader) Close() error { return c.src.Close() }

// Replay sends a flow's request again as a new flow linked to the original.
// It goes the way live traffic goes (hooks and breakpoints apply) and needs
// no client. It returns the new flow's ID.
func (p *Proxy) Replay(id string) (string, error) {
	src, ok := p.store.Get(id)
	if !ok {
		return "", fmt.Errorf("replay: no flow %s", id)
	}
	if src.Request == nil {
		return "", errors.New("replay: the flow has no request")
	}
	if src.Request.Body.Truncated {
		return "", fmt.Errorf("replay: the request body was cut at the body limit (%s of %s kept)",
			flowstore.FormatSize(int64(len(src.Request.Body.Data))), flowstore.FormatSize(src.Request.Body.Size))
	}
	fr := src.Request.Clone()
	req, err := http.NewRequestWithContext(p.ctx, fr.Method, fr.URL(), nil)
	if err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	if err := applyRequest(req, fr, true, fr); err != nil {
		return "", fmt.Errorf("replay: %w", err)
	}
	if fr.Proto == "" || fr.Proto == "HTTP/2.0" {
		fr.Proto = "HTTP/1.1"
	}
	now := time.Now()
	f := &flowstore.Flow{
		ID:       flowstore.NewID(),
		State:    flowstore.StateActive,
		Client:   flowstore.Client{Addr: "replay"},
		Request:  fr,
		ReplayOf: src.ID,
		Timings:  flowstore.Timings{Start: now},
	}
	ex := &exchange{p: p, id: f.ID, killMode: killByError, headBytes: 0, out: fr, urlHost: req.URL.Host}
	ex.timings.Start = now
	ex.reqBody, ex.reqRead = fr.Body, true
	ex.server.Addr = hostPort(fr)
	f.Server = ex.server
	p.store.Add(f)
	go func() {
		resp, err := ex.roundTrip(req)
		if err != nil || resp == nil {
			return
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			// An upgraded connection has no client to carry anything for:
			// the replay ends with the handshake.
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		_ = resp.Body.Close()
	}()
	return f.ID, nil
}
