package mitm

// Delivering an answer: its body is captured as it streams to the client
// (through response-chunk hooks, when there are some) and the flow ends
// when it does.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// deliver wraps the response body so that the flow records it as it
// streams to the client and finishes when it ends.
func (ex *exchange) deliver(req *http.Request, resp *http.Response, headSize int64) *http.Response {
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		rwc, ok := resp.Body.(io.ReadWriteCloser)
		if !ok {
			ex.finish(flowstore.Body{}, nil, headSize, 0)
			return resp
		}
		u := &upgradedBody{rwc: rwc, onClosed: func(in, out int64) {
			ex.finish(flowstore.Body{}, nil, headSize+in, out)
		}}
		resp.Body = u
		if isWebSocket(ex.out.Headers) {
			resp.Body = ex.newWSRelay(u, ex.respHeaders(resp))
		}
		return resp
	case resp.Body == nil || resp.Body == http.NoBody || !bodyAllowed(req.Method, resp.StatusCode):
		// Nothing follows the head of an answer to HEAD, or of a 204 or 304,
		// whatever its headers say.
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		resp.Body = http.NoBody
		ex.finish(flowstore.Body{}, nil, headSize, 0)
		return resp
	}
	if hooks := ex.chunkHooks(); len(hooks) > 0 {
		ex.ready = notReady
		snap, _ := ex.snapshot()
		resp.Body = &chunkReader{src: resp.Body, ex: ex, f: snap, hooks: hooks, ctx: req.Context()}
		// The hooks may change the length: the body goes chunked (or to the
		// connection's end), and the flow's head says so.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		ex.reframe(func(hs *flowstore.Headers) {
			hs.Del("Content-Length")
			if !hasToken(*hs, "Transfer-Encoding", "chunked") {
				hs.Add("Transfer-Encoding", "chunked")
			}
		})
	}
	if isEventStream(ex.respHeaders(resp)) {
		resp.Body = &sseTap{ReadCloser: resp.Body, ex: ex}
	}
	if ex.downRate > 0 {
		// A throttled body is slow to follow: its head goes ahead of it.
		resp.Body = newPaced(resp.Body, ex.downRate, req.Context())
		ex.ready = notReady
	}
	trailer := resp
	resp.Body = newBodyCapture(resp.Body, ex.p.opts.BodyLimit, resp.ContentLength, func(b flowstore.Body, err error) {
		var trailers flowstore.Headers
		if err == nil {
			if ex.trail != nil {
				trailers = ex.trail()
			} else {
				trailers = flowstore.FromHTTP(trailer.Trailer)
			}
		}
		ex.finishWith(b, trailers, err, headSize+b.Size)
	})
	return resp
}

func notReady() bool { return false }

// reframe changes the head of the answer on its way out, and the flow's
// record of it, for a body whose length a hook is about to change.
func (ex *exchange) reframe(change func(*flowstore.Headers)) {
	if ex.respOut != nil {
		out := *ex.respOut
		out.hs = out.hs.Clone()
		change(&out.hs)
		ex.respOut = &out
	}
	ex.update(func(f *flowstore.Flow) {
		if f.Response != nil {
			hs := f.Response.Headers.Clone()
			change(&hs)
			f.Response.Headers = hs
		}
	})
}

func (ex *exchange) chunkHooks() []ResponseChunkHook {
	if len(ex.p.hooks.chunks) == 0 {
		return nil
	}
	snap, ok := ex.snapshot()
	if !ok {
		return nil
	}
	var out []ResponseChunkHook
	for _, h := range ex.p.hooks.chunks {
		if wants(h, flowstore.PhaseResponseChunk, snap) {
			out = append(out, h)
		}
	}
	return out
}

func (ex *exchange) finish(b flowstore.Body, err error, bytesOut, extraIn int64) {
	ex.mu.Lock()
	ex.headBytes += extraIn
	ex.mu.Unlock()
	ex.finishWith(b, nil, err, bytesOut)
}

// finishWith records the end of the response: its body, and whether it
// reached the client whole.
func (ex *exchange) finishWith(b flowstore.Body, trailers flowstore.Headers, err error, bytesOut int64) {
	now := time.Now()
	ex.markFinished()
	f, _ := ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.BytesOut = bytesOut
		if f.Response != nil {
			f.Response.Body = b
			f.Response.Trailers = trailers
		}
		f.Timings.End = now
		switch {
		case err == nil:
			f.State = flowstore.StateDone
		case errors.Is(err, errClosedEarly), errors.Is(err, context.Canceled):
			// The transport cancels the upstream read when the client's
			// request context ends, which is the client going away.
			f.Fail(flowstore.PhaseResponse, "the client closed the connection before the response was complete", now)
		default:
			f.Fail(flowstore.PhaseResponse, "upstream failed while sending the body: "+err.Error(), now)
		}
	})
	ex.runEndHooks(f)
}

// runEndHooks gives error and done hooks the final flow.
func (ex *exchange) runEndHooks(f *flowstore.Flow) {
	if f == nil {
		return
	}
	ctx := ex.p.ctx
	if f.Error != nil {
		for _, h := range ex.p.hooks.errs {
			if wants(h, flowstore.PhaseError, f) {
				ex.safely(flowstore.PhaseError, nil, func() (flowstore.Verdict, error) { h.Error(ctx, f); return flowstore.Continue, nil })
			}
		}
	}
	for _, h := range ex.p.hooks.done {
		if wants(h, flowstore.PhaseDone, f) {
			ex.safely(flowstore.PhaseDone, nil, func() (flowstore.Verdict, error) { h.Done(ctx, f); return flowstore.Continue, nil })
		}
	}
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
		c.ex.safely(flowstore.PhaseResponseChunk, nil, func() (flowstore.Verdict, error) {
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
