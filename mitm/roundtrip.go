package mitm

// The round trip: where a request goes (origin), over which protocol, and
// the answer's head as it comes back (gotResponse), or a 502 that says why.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

func (ex *exchange) roundTrip(req *http.Request) (*http.Response, error) {
	req, w, v := ex.requestPhase(req)
	if v == flowstore.Kill {
		return ex.killed(flowstore.PhaseRequest)
	}
	// A rule's latency comes before the request goes (or is answered).
	ex.wait(req.Context(), ex.reqDelay)
	if v == flowstore.Respond {
		return ex.respondWith(req, w.Response), nil
	}
	if ex.upRate > 0 && req.Body != nil && req.Body != http.NoBody {
		req.Body = newPaced(req.Body, ex.upRate, req.Context())
	}
	k := ex.origin(req)
	if req.URL.Host != ex.urlHost {
		// A rule, a hook or a person sent the request elsewhere: the flow
		// names the origin it went to.
		ex.mu.Lock()
		ex.server.Addr = hostPort(ex.out)
		ex.mu.Unlock()
	}
	if ws := isWebSocket(ex.out.Headers); ws && len(ex.wsHooks()) > 0 {
		// Hooks may rewrite messages; compressed ones with context takeover
		// cannot be rewritten without breaking the peers' shared window, so
		// such a connection is negotiated without compression.
		req.Header.Del("Sec-WebSocket-Extensions")
		out := *ex.out
		out.Headers = out.Headers.Clone()
		out.Headers.Del("Sec-WebSocket-Extensions")
		ex.out = &out
	}
	var resp *http.Response
	var err error
	if req.ProtoMajor == 2 && k.scheme == "https" && !ex.p.opts.DisableHTTP2 {
		// An HTTP/2 client's request goes over HTTP/2 where the origin
		// speaks it, and over HTTP/1.1 where it does not.
		resp, err = ex.p.pool2.roundTrip(ex, k, req)
	} else {
		resp, err = ex.send1(req, k, nil)
	}
	if err != nil {
		return ex.upstreamFailed(req, err), nil
	}
	return ex.gotResponse(req, resp)
}

// origin is where the request goes: a tunnel's target, whatever the
// request's Host says, unless a hook or a person changed its URL.
func (ex *exchange) origin(req *http.Request) originKey {
	k := originKey{scheme: req.URL.Scheme}
	host := req.URL.Hostname()
	if ex.tun != nil && req.URL.Host == ex.urlHost {
		// The name the client gave its TLS handshake, or else the tunnel's
		// own host: never the Host header, which anyone can write.
		k.addr = ex.tun.target
		if host = ex.tun.sni; host == "" {
			host, _ = splitAuthority(ex.tun.target, 0)
		}
	} else {
		port := req.URL.Port()
		if port == "" {
			port = strconv.Itoa(flowstore.DefaultPort(k.scheme))
		}
		k.addr = net.JoinHostPort(host, port)
	}
	if k.scheme == "https" {
		k.sni = host
	}
	if via := ex.p.upstreamFor(ex.mode(), k); via != nil {
		k.via = via.String()
		if k.scheme == "http" {
			// Plain requests go to the upstream proxy itself, in absolute
			// form, on connections any origin's requests may share.
			k.addr = via.Host
		}
	}
	return k
}

// mode is the listener the flow's client came through (nil for a replay).
func (ex *exchange) mode() *Mode {
	switch {
	case ex.cc != nil:
		return ex.cc.mode
	case ex.tun != nil:
		return ex.tun.mode
	}
	return ex.replayMode
}

// send1 sends the request over HTTP/1 (on c when given: a new connection
// on which the origin declined HTTP/2) and reads the answer's head.
func (ex *exchange) send1(req *http.Request, k originKey, c *upConn) (*http.Response, error) {
	o := ex.out1(req)
	if k.via != "" && k.scheme == "http" {
		// To an upstream proxy: the absolute URL, and its credentials,
		// which are the proxy's business and not the flow's.
		o.target = "http://" + req.URL.Host + o.target
		if auth := ex.p.upstreamAuth; auth != "" {
			o.hs = append(o.hs[:len(o.hs):len(o.hs)], flowstore.Header{Name: "Proxy-Authorization", Value: auth})
		}
	}
	ctx := req.Context()
	var in *in1
	var err error
	if c != nil {
		in, err = ex.p.pool1.send(ctx, ex, k, c, o)
		var stale *staleError
		if errors.As(err, &stale) {
			err = stale.err
		}
	} else {
		in, err = ex.p.pool1.roundTrip(ctx, ex, k, o, ex.fresh)
	}
	if err != nil {
		return nil, err
	}
	major, minor, _ := parseVersion(in.head.a)
	resp := &http.Response{
		StatusCode: in.status, Status: in.head.b + " " + in.head.c,
		Proto: in.head.a, ProtoMajor: major, ProtoMinor: minor,
		Body: in.body, ContentLength: in.length, Request: req,
	}
	if ex.cc == nil {
		// goproxy writes the answer to an HTTP/2 client from the map; an
		// HTTP/1 client's is written from the lines (respOut).
		resp.Header = in.head.hs.HTTP()
	}
	if in.frame == frameChunked {
		resp.TransferEncoding = []string{"chunked"}
	}
	ex.respOut, ex.respFor, ex.trail = in.head, resp, in.trailers
	ex.ready = in.ready
	if ex.ready == nil && in.frame != frameNone {
		ex.ready = notReady
	}
	return resp, nil
}

// out1 is the request as it goes over HTTP/1: the flow's lines, as the
// client sent them or as edited. An HTTP/2 client's request has no Host
// line and no framing of its own; they are written as HTTP/1 needs them.
func (ex *exchange) out1(req *http.Request) *out1 {
	fr := ex.out
	o := &out1{method: fr.Method, target: fr.Path, proto: fr.Proto, hs: fr.Headers, body: req.Body}
	if req.ProtoMajor != 1 || (o.proto != "HTTP/1.1" && o.proto != "HTTP/1.0") {
		o.proto = "HTTP/1.1"
		if !o.hs.Has("Host") {
			o.hs = append(flowstore.Headers{{Name: "Host", Value: req.Host}}, o.hs...)
		}
	}
	switch {
	case hasToken(o.hs, "Transfer-Encoding", "chunked"):
		o.frame, o.length = frameChunked, -1
	case req.ContentLength > 0:
		o.frame, o.length = frameLength, req.ContentLength
		if !o.hs.Has("Content-Length") {
			o.hs = append(o.hs[:len(o.hs):len(o.hs)], flowstore.Header{Name: "Content-Length", Value: strconv.FormatInt(req.ContentLength, 10)})
		}
	case req.ContentLength < 0 && req.Body != nil && req.Body != http.NoBody:
		o.frame, o.length = frameChunked, -1
		o.hs = append(o.hs[:len(o.hs):len(o.hs)], flowstore.Header{Name: "Transfer-Encoding", Value: "chunked"})
	}
	if o.frame == frameNone {
		o.body = nil
	}
	o.trailers = ex.clientTrailers
	o.expect = hasToken(o.hs, "Expect", "100-continue") && o.frame != frameNone
	o.upgrade = o.hs.Has("Upgrade")
	o.close = wantsClose(o.hs, o.proto == "HTTP/1.0")
	return o
}

// interim passes on a 1xx answer to an HTTP/1 client.
func (ex *exchange) interim(hd *head) {
	if ex.cc != nil {
		ex.cc.interim(hd)
	}
}

// upstreamFailed records the failure on the flow (no response: none came)
// and answers the client with a 502 or 504 that says what went wrong.
func (ex *exchange) upstreamFailed(req *http.Request, err error) *http.Response {
	ex.mu.Lock()
	addr := ex.server.Addr
	bodyErr := ex.clientBodyErr
	ex.mu.Unlock()
	ex.markFinished()
	status, msg := describeUpstreamError(err, addr)
	if errors.Is(err, context.Canceled) && ex.p.ctx.Err() == nil {
		msg = "the client closed the connection before the response arrived"
	}
	if bodyErr != nil {
		// The round trip failed because the client's body was bad, not the
		// origin: say so, with a 400.
		status, msg = http.StatusBadRequest, "the client's request body is malformed or cut short: "+bodyErr.Error()
	}
	f, _ := ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.Fail(flowstore.PhaseRequest, msg, time.Now())
	})
	ex.p.log.Add(flowstore.LevelWarn, "proxy", ex.id, msg)
	ex.runEndHooks(f)
	return textResponse(req, status, "interceptor-tui: "+msg+"\n")
}

// reasonPhrase is what follows the code in a status line ("200 OK").
func reasonPhrase(status string, code int) string {
	var b [20]byte
	if num := strconv.AppendInt(b[:0], int64(code), 10); strings.HasPrefix(status, string(num)) { // no allocation
		status = status[len(num):]
	}
	return strings.TrimSpace(status)
}

func textResponse(req *http.Request, status int, body string) *http.Response {
	h := make(http.Header)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		StatusCode:    status,
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          nopCloser{strings.NewReader(body)},
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func (ex *exchange) gotResponse(req *http.Request, resp *http.Response) (*http.Response, error) {
	rsp := &flowstore.Response{Status: resp.StatusCode, Proto: resp.Proto}
	var headSize int
	if hd := ex.respOut; hd != nil {
		rsp.Reason, rsp.Headers, headSize = hd.c, hd.hs, hd.size
	} else {
		// HTTP/2 hands the head over as a map.
		rsp.Reason = reasonPhrase(resp.Status, resp.StatusCode)
		rsp.Headers = flowstore.FromHTTP(resp.Header)
		headSize = estimateHeadSize(len(resp.Proto)+1+len(resp.Status), rsp.Headers)
	}
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.Response = rsp
		f.BytesOut = int64(headSize)
	})
	resp, v := ex.responsePhase(req, resp, rsp)
	switch v {
	case flowstore.Kill:
		return ex.killed(flowstore.PhaseResponse)
	case flowstore.Respond:
		return resp, nil // the flow has ended already
	}
	// A rule's latency comes before the response starts.
	ex.wait(req.Context(), ex.respDelay)
	return ex.deliver(req, resp, int64(headSize)), nil
}

func isWebSocket(hs flowstore.Headers) bool {
	return hasToken(hs, "Connection", "upgrade") && strings.EqualFold(hs.Get("Upgrade"), "websocket")
}

// respHeaders are the lines of the answer resp as they go out.
func (ex *exchange) respHeaders(resp *http.Response) flowstore.Headers {
	if ex.respFor == resp && ex.respOut != nil {
		return ex.respOut.hs
	}
	return flowstore.FromHTTP(resp.Header)
}

// isEventStream reports a Server-Sent Events response. It runs for every
// response, so the media type is parsed only when it can match.
func isEventStream(hs flowstore.Headers) bool {
	ct := hs.Get("Content-Type")
	return strings.Contains(ct, "event-stream") && content.MediaType(ct) == "text/event-stream"
}
