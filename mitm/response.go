package mitm

// The response phase: response hooks and breakpoints on an answer that has
// just arrived, the edits they leave, and answers written by a hook, a
// mock or a person.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// watchesResponses reports whether a response hook or a breakpoint (in r)
// looks at a response as it arrives.
func (p *Proxy) watchesResponses(r *controls) bool {
	hs := &p.hooks
	return len(hs.respHeaders) > 0 || len(hs.response) > 0 || r.anyResponse()
}

// responsePhase runs the response hooks, then the rules, then the
// response breakpoints on a response that has just arrived (its head, rsp,
// is already in the store). Kill means the flow is to be killed; Respond
// that it has ended already (the upstream failed) and the response
// returned is to go to the client as it is.
func (ex *exchange) responsePhase(req *http.Request, resp *http.Response, rsp *flowstore.Response) (*http.Response, flowstore.Verdict) {
	p := ex.p
	r := p.ctl.Load()
	hs := &p.hooks
	set := ex.set
	var m []int
	// A matcher that reads the response body needs it read first: such a
	// set cannot decide on the head alone.
	ruleBody := set.MatchReadsResponseBody()
	if set.ActsOnResponses() && !ruleBody {
		m = set.MatchResponse(ex.probe(ex.out, rsp))
	}
	if !p.watchesResponses(r) && m == nil && !ruleBody {
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
	v = runHooks(ex, hs.respHeaders, flowstore.PhaseResponseHeaders, w, v, func(h ResponseHeadersHook) (flowstore.Verdict, error) { return h.ResponseHeaders(ctx, w) })
	rulesBody := ruleBody || set.NeedsResponseBody(m)
	if v == flowstore.Continue && r.pauses(flowstore.PhaseResponse, w) && !wantsBodyLater(hs, r, w) && !rulesBody {
		v = flowstore.Intercept // the headers are enough to decide
	}
	needBody := v == flowstore.Intercept || (v == flowstore.Continue && wantsBodyLater(hs, r, w)) || (v != flowstore.Kill && rulesBody)
	complete := false // the flow holds none of the body until it is read
	// An event stream or a WebSocket never ends: buffering it would hold the
	// client forever, so hooks, rules and people see it without its body.
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
	v = runHooks(ex, hs.response, flowstore.PhaseResponse, w, v, func(h ResponseHook) (flowstore.Verdict, error) { return h.Response(ctx, w) })
	if v != flowstore.Kill && set.ActsOnResponses() {
		if len(hs.respHeaders) > 0 || len(hs.response) > 0 || ruleBody {
			// Rules match the response as the hooks left it, body and all.
			m = set.MatchResponse(w)
		}
		if m != nil {
			out := set.ApplyResponse(w, m, p.ruleEnv(complete))
			ex.respDelay += out.Delay
			ex.downRate = out.Rate
		}
	}
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
			ex.editFailed(w, fmt.Errorf("response edit not applied: %w", err))
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
		f.Notes, f.Marked, f.Comment, f.Rules = w.Notes, w.Marked, w.Comment, w.Rules
	})
	return resp, flowstore.Continue
}

func wantsBodyLater(hs *hookSet, r *controls, w *flowstore.Flow) bool {
	if r.anyResponse() && r.pauses(flowstore.PhaseResponse, w) {
		return true
	}
	for _, h := range hs.response {
		if wants(h, flowstore.PhaseResponse, w) {
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

// respondWith answers the client with a response a hook, a mock or a person
// wrote, without contacting the upstream.
func (ex *exchange) respondWith(req *http.Request, rsp *flowstore.Response) *http.Response {
	rsp = ex.answerRules(rsp)
	ex.wait(req.Context(), ex.respDelay)
	now := time.Now()
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.Response = rsp
		f.Timings.FirstByte = now
	})
	resp, _ := buildResponse(req, rsp, true, nil, nil)
	if ex.answerFile != "" && rsp.Body.Truncated {
		// A local file past what the flow keeps streams from the disk.
		if body, size, err := fileBody(ex.answerFile); err == nil {
			resp.Body, resp.ContentLength = body, size
			if bodyAllowed(req.Method, rsp.Status) {
				resp.Header.Set("Content-Length", strconv.FormatInt(size, 10))
			}
		}
	}
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

func sameResponse(a, b *flowstore.Response) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.Reason == b.Reason && slices.Equal(a.Headers, b.Headers) &&
		a.Body.Size == b.Body.Size && bytes.Equal(a.Body.Data, b.Body.Data)
}
