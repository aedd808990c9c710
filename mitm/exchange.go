package mitm

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// exchange is the engine's private state for one flow while it is in
// flight. The flow itself lives in the store; the exchange gathers what
// happens (timings from the transport's trace, the request body as it
// streams) and writes it to the store at a few points, not on every event.
type exchange struct {
	p   *Proxy
	id  string
	tun *tunnel
	tap *headTap // the client's connection, for HTTP/1 (nil for a replay)

	mu        sync.Mutex
	timings   flowstore.Timings
	server    flowstore.Server
	reqBody   flowstore.Body // valid once reqRead
	reqRead   bool           // the request body has been read
	sentBody  bool           // the body sent is an edit: the flow keeps it, not reqBody
	reqTrail  flowstore.Headers
	headBytes int64 // size of the request head
	conn      net.Conn
	finished  bool

	// The flow, until it enters the store (see show): a flow that ends
	// within showWait is stored once, whole, instead of once when it
	// starts and again, copied, when it ends.
	showMu    sync.Mutex
	unshown   *flowstore.Flow
	showTimer *time.Timer

	// Set before the round trip, read only by its goroutine.
	killMode   killMode
	urlHost    string // the request's host:port as the client sent it
	fresh      bool   // use a new upstream connection (after a pause)
	killReason string
	killPhase  flowstore.Phase
	clientGone bool

	clientBodyErr error // reading the client's request body failed

	cont *expectContinue // answers "Expect: 100-continue" in an HTTP/1 tunnel

	// Held here rather than allocated apart for every round trip.
	dial dialInfo
	ct   httptrace.ClientTrace
}

// expectContinue sends a client that asked for it a 100 Continue when its
// body is first read, as net/http's server does; goproxy's tunnel loop does
// not, which leaves the client waiting for its own timeout before it sends
// the body.
type expectContinue struct {
	io.ReadCloser
	conn net.Conn
	mu   sync.Mutex
	done bool // sent, or too late: the final response is on its way
}

func (e *expectContinue) Read(p []byte) (int, error) {
	e.mu.Lock()
	if !e.done {
		e.done = true
		if _, err := io.WriteString(e.conn, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			e.mu.Unlock()
			return 0, err
		}
	}
	e.mu.Unlock()
	return e.ReadCloser.Read(p)
}

// answered keeps a 100 Continue from following the final response.
func (e *expectContinue) answered() {
	e.mu.Lock()
	e.done = true
	e.mu.Unlock()
}

type roundTripper struct{ p *Proxy }

// onRequest runs for every request goproxy reads, plain or inside a
// tunnel, HTTP/1 or HTTP/2: it records the flow and routes the round trip
// through us.
func (p *Proxy) onRequest(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	now := time.Now()
	tun, _ := ctx.UserData.(*tunnel)
	var tap *headTap
	if tun != nil {
		// goproxy sees a decrypted stream as plain HTTP; the tunnel knows better.
		r.URL.Scheme = "http"
		if tun.clientTLS != nil {
			r.URL.Scheme = "https"
		}
		if r.URL.Host == "" {
			r.URL.Host = tun.target
		}
		tap = tun.tap
	} else {
		tap, _ = r.Context().Value(clientTapKey{}).(*headTap)
	}

	req := requestFromHTTP(r)
	if strings.EqualFold(req.Host, LocalHost) {
		return r, p.serveLocal(r)
	}
	var headSize int
	if tap != nil && r.ProtoMajor == 1 {
		if hs, n, ok := tap.take(r.Header, requestOutOfMap, r.Method, r.RequestURI, r.Proto); ok {
			req.Headers, headSize = hs, n
		}
	}
	if headSize == 0 {
		// The tap could not say: Go's map it is, in sorted order.
		req.Headers = headersFromHTTP(r)
		headSize = estimateHeadSize(len(r.Method)+len(r.RequestURI)+len(r.Proto)+2, req.Headers)
	}

	// Both framings at once is the shape of a request-smuggling attempt
	// (RFC 9112 §6.3): refuse it rather than guess.
	smuggle := req.Headers.Has("Content-Length") && req.Headers.Has("Transfer-Encoding")

	f := &flowstore.Flow{
		ID:      flowstore.NewID(),
		Seq:     p.store.Reserve(),
		State:   flowstore.StateActive,
		Client:  flowstore.Client{Addr: r.RemoteAddr},
		Request: req,
		Timings: flowstore.Timings{Start: now},
		BytesIn: int64(headSize),
	}
	ex := &exchange{p: p, id: f.ID, tun: tun, headBytes: int64(headSize), urlHost: r.URL.Host}
	if r.ProtoMajor == 1 {
		ex.tap = tap
	}
	ex.timings.Start = now
	if tun != nil && r.ProtoMajor == 1 {
		ex.killMode = killByError
	}
	if tun != nil {
		f.Client.TLS = tun.clientTLS
		f.Client.Addr = tun.clientAddr
		ex.server.Addr = tun.target
	} else {
		ex.server.Addr = hostPort(req)
	}
	f.Server = ex.server

	if r.Body != nil && r.Body != http.NoBody {
		if tun != nil && tun.conn != nil && r.ProtoAtLeast(1, 1) && r.ProtoMajor == 1 && headerHasToken(r.Header, "Expect", "100-continue") {
			ex.cont = &expectContinue{ReadCloser: r.Body, conn: tun.conn}
			r.Body = ex.cont
		}
		r.Body = newBodyCapture(r.Body, p.opts.BodyLimit, r.ContentLength, func(b flowstore.Body, err error) {
			ex.requestBodyDone(b, flowstore.FromHTTP(r.Trailer), err)
			if tap != nil {
				tap.arm()
			}
		})
	} else {
		ex.reqRead = true
		if tap != nil {
			tap.arm()
		}
	}

	if smuggle {
		msg := "the request has both Content-Length and Transfer-Encoding (a request-smuggling shape); refused"
		f.Fail(flowstore.PhaseRequest, msg, now)
		p.store.AddLate(f)
		p.log.Add(flowstore.LevelWarn, "proxy", f.ID, msg+" from "+f.Client.Addr)
		resp := textResponse(r, http.StatusBadRequest, "interceptor-tui: "+msg+"\n")
		resp.Header.Set("Connection", "close")
		resp.Close = true
		if tun != nil && tun.conn != nil && r.ProtoMajor == 1 {
			// goproxy's tunnel loop does not close on resp.Close: what
			// follows the body must not be served as another request.
			resp.Body = &closingBody{ReadCloser: resp.Body, conn: tun.conn}
		}
		return r, resp
	}
	p.unshown.Add(1)
	ex.showMu.Lock() // the timer's show waits for showTimer to be set
	ex.unshown = f
	ex.showTimer = time.AfterFunc(showWait, ex.show)
	ex.showMu.Unlock()
	ctx.UserData = ex
	ctx.RoundTripper = roundTripper{p}
	return r, nil
}

// requestFromHTTP leaves out the headers: the tap usually has them in
// wire order, and headersFromHTTP is the fallback.
func requestFromHTTP(r *http.Request) *flowstore.Request {
	host, port := splitAuthority(r.URL.Host, flowstore.DefaultPort(r.URL.Scheme))
	return &flowstore.Request{
		Method: r.Method,
		Scheme: r.URL.Scheme,
		Host:   host,
		Port:   port,
		Path:   r.URL.RequestURI(),
		Proto:  r.Proto,
	}
}

// splitAuthority is flowstore.SplitHostPort without the error value that
// net.SplitHostPort allocates for the usual authority, one without a port.
func splitAuthority(a string, def int) (string, int) {
	if i := strings.LastIndexByte(a, ':'); i < 0 || strings.IndexByte(a[i:], ']') >= 0 {
		return strings.Trim(a, "[]"), def
	}
	return flowstore.SplitHostPort(a, def)
}

func headersFromHTTP(r *http.Request) flowstore.Headers {
	hs := flowstore.FromHTTP(r.Header)
	if r.ProtoMajor < 2 && r.Host != "" {
		hs = append(flowstore.Headers{{Name: "Host", Value: r.Host}}, hs...)
	}
	return hs
}

// Go's parsers take these out of the header map (or may).
var (
	requestOutOfMap  = []string{"Host", "Transfer-Encoding", "Content-Length", "Trailer"}
	responseOutOfMap = []string{"Transfer-Encoding", "Content-Length", "Trailer"}
)

func estimateHeadSize(firstLineLen int, hs flowstore.Headers) int {
	n := firstLineLen + 4
	for _, h := range hs {
		n += len(h.Name) + len(h.Value) + 4
	}
	return n
}

func (ex *exchange) requestBodyDone(b flowstore.Body, trailers flowstore.Headers, err error) {
	ex.mu.Lock()
	ex.reqBody, ex.reqRead = b, true
	ex.reqTrail = trailers
	finished := ex.finished
	if err != nil && !errors.Is(err, errClosedEarly) {
		ex.clientBodyErr = err
	}
	ex.mu.Unlock()
	if b.Size == 0 && !finished {
		return // nothing to show yet; the next update carries it
	}
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		if err != nil && !errors.Is(err, errClosedEarly) {
			f.Notes = append(f.Notes, "request body: "+err.Error())
		}
	})
}

// applyRequest copies what the exchange learnt about the request into f.
func (ex *exchange) applyRequest(f *flowstore.Flow) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.reqRead {
		if !ex.sentBody {
			f.Request.Body = ex.reqBody
		}
		f.Request.Trailers = ex.reqTrail
		f.BytesIn = ex.headBytes + ex.reqBody.Size
	}
	f.Server = ex.server
	mergeTimings(&f.Timings, ex.timings)
}

func mergeTimings(dst *flowstore.Timings, src flowstore.Timings) {
	set := func(d *time.Time, s time.Time) {
		if !s.IsZero() {
			*d = s
		}
	}
	set(&dst.DNSStart, src.DNSStart)
	set(&dst.DNSDone, src.DNSDone)
	set(&dst.ConnectStart, src.ConnectStart)
	set(&dst.ConnectDone, src.ConnectDone)
	set(&dst.TLSStart, src.TLSStart)
	set(&dst.TLSDone, src.TLSDone)
	set(&dst.RequestSent, src.RequestSent)
	set(&dst.FirstByte, src.FirstByte)
}

func (rt roundTripper) RoundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	ex, ok := ctx.UserData.(*exchange)
	if !ok {
		return rt.p.tr.RoundTrip(req)
	}
	if ex.cont != nil {
		defer ex.cont.answered() // goproxy writes the response once this returns
	}
	return ex.roundTrip(req)
}

// trace hooks what the transport does for every request: the connection it
// got, when the request was written, when the answer began. What happens
// only on a new connection (DNS, connect, TLS) is hooked by the dialers
// (dialTrace): a keep-alive request does not pay for hooks that never fire.
func (ex *exchange) trace() *httptrace.ClientTrace {
	t := &ex.timings
	ex.ct = httptrace.ClientTrace{
		GotConn:              func(info httptrace.GotConnInfo) { ex.gotConn(info.Conn) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { ex.stamp(&t.RequestSent) },
		GotFirstResponseByte: func() { ex.stamp(&t.FirstByte) },
	}
	return &ex.ct
}

// dialTrace hooks the making of a new upstream connection for this flow.
func (ex *exchange) dialTrace() *httptrace.ClientTrace {
	t := &ex.timings
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { ex.stamp(&t.DNSStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { ex.stamp(&t.DNSDone) },
		ConnectStart:      func(string, string) { ex.stamp(&t.ConnectStart) },
		ConnectDone:       func(string, string, error) { ex.stamp(&t.ConnectDone) },
		TLSHandshakeStart: func() { ex.stamp(&t.TLSStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { ex.stamp(&t.TLSDone) },
	}
}

// stamp sets one of the exchange's timings to now.
func (ex *exchange) stamp(field *time.Time) {
	now := time.Now()
	ex.mu.Lock()
	*field = now
	ex.mu.Unlock()
}

func (ex *exchange) gotConn(c net.Conn) {
	var ip string
	var info *flowstore.TLSInfo
	switch c := c.(type) {
	case *upstreamConn:
		ip, info = c.ip, c.info // worked out once, when the connection was made
	case *tls.Conn:
		cs := c.ConnectionState()
		ip, info = remoteIP(c), tlsInfo(&cs)
	default:
		ip = remoteIP(c)
	}
	ex.mu.Lock()
	ex.conn = c
	ex.server.IP, ex.server.TLS = ip, info
	ex.mu.Unlock()
}

func remoteIP(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

func tlsInfo(cs *tls.ConnectionState) *flowstore.TLSInfo {
	if cs == nil {
		return nil
	}
	info := &flowstore.TLSInfo{
		Version: tls.VersionName(cs.Version),
		SNI:     cs.ServerName,
		ALPN:    cs.NegotiatedProtocol,
		Cipher:  cipherName(cs.CipherSuite),
	}
	if len(cs.PeerCertificates) > 0 {
		subj := cs.PeerCertificates[0].Subject
		info.CertSubject = subj.CommonName
		if info.CertSubject == "" {
			info.CertSubject = subj.String()
		}
	}
	return info
}

// cipherNames is built once: tls.CipherSuiteName rebuilds the list on
// every call, and it runs for every flow.
var cipherNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[c.ID] = c.Name
	}
	return m
}()

func cipherName(id uint16) string {
	if n, ok := cipherNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

func (ex *exchange) roundTrip(req *http.Request) (*http.Response, error) {
	req, w, v := ex.requestPhase(req)
	switch v {
	case flowstore.Kill:
		return ex.killed(flowstore.PhaseRequest)
	case flowstore.Respond:
		return ex.respondWith(req, w.Response), nil
	}

	ws := isWebSocket(req.Header)
	di := &ex.dial
	*di = dialInfo{h1only: ws, ex: ex}
	if ex.tun != nil && req.URL.Host == ex.urlHost {
		// Every request in a tunnel goes where the CONNECT said, whatever its
		// Host header says, unless a person or a hook changed the URL.
		di.target = ex.tun.target
		if ex.tun.clientTLS != nil {
			di.sni = ex.tun.clientTLS.SNI
		}
	}
	var h2key h1Key
	var h2conn net.Conn
	if key, ok := ex.p.fast.key(req, di); ok && !ws && !ex.fresh && ex.p.fast.serves(key) {
		req.Close = false
		resp, handedOff, err := ex.p.fast.roundTrip(ex, key, req)
		if err != nil {
			return ex.upstreamFailed(req, err), nil
		}
		if resp != nil {
			return ex.gotResponse(req, resp)
		}
		// The origin chose HTTP/2: the Transport takes the connection.
		h2key, h2conn = key, handedOff
	}
	ctx := context.WithValue(req.Context(), dialInfoKey{}, di)
	req = req.WithContext(httptrace.WithClientTrace(ctx, ex.trace()))
	if ws && len(ex.wsHooks()) > 0 {
		// Hooks may rewrite messages; compressed ones with context takeover
		// cannot be rewritten without breaking the peers' shared window, so
		// such a connection is negotiated without compression.
		req.Header.Del("Sec-WebSocket-Extensions")
	}
	// The client's "Connection: close" is about its own connection; the
	// upstream one stays pooled (upgrades keep their headers as they are).
	if !ws {
		req.Close = false
	}
	tr := ex.p.tr
	if ex.fresh {
		// A pooled connection may have gone stale while the flow was paused.
		tr = ex.p.trFresh
	}
	resp, err := tr.RoundTrip(req)
	if h2conn != nil {
		ex.p.fast.reclaim(h2key, h2conn) // if the Transport had one already
	}
	if err != nil {
		return ex.upstreamFailed(req, err), nil
	}
	return ex.gotResponse(req, resp)
}

func hostPort(r *flowstore.Request) string {
	return net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
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
	ex.mu.Lock()
	conn := ex.conn
	ex.mu.Unlock()

	rsp := &flowstore.Response{
		Status: resp.StatusCode,
		Reason: reasonPhrase(resp.Status, resp.StatusCode),
		Proto:  resp.Proto,
	}
	upTap, _ := conn.(*upstreamConn)
	var headSize int
	if upTap != nil {
		if hs, n, ok := upTap.take(resp.Header, responseOutOfMap, resp.Proto, resp.Status); ok {
			rsp.Headers, headSize = hs, n
		}
	}
	if rsp.Headers == nil {
		rsp.Headers = flowstore.FromHTTP(resp.Header)
		headSize = estimateHeadSize(len(resp.Proto)+1+len(resp.Status), rsp.Headers)
	}
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		f.Response = rsp
		f.BytesOut = int64(headSize)
	})
	if _, own := resp.Body.(*h1Body); upTap != nil && !own && resp.StatusCode != http.StatusSwitchingProtocols {
		// Re-arm the tap when this body is over, before the connection can
		// carry the next response.
		resp.Body = &armAtEnd{ReadCloser: resp.Body, tap: upTap.headTap}
	}

	resp, v := ex.responsePhase(req, resp)
	switch v {
	case flowstore.Kill:
		return ex.killed(flowstore.PhaseResponse)
	case flowstore.Respond:
		return resp, nil // the flow has ended already
	}
	return ex.deliver(req, resp, int64(headSize)), nil
}

// showWait is how long a flow in flight stays out of the store. Most
// flows end sooner and enter it once, finished; a slow one is shown as it
// stands after this, and so is one that a hook, a breakpoint or a person
// needs to see earlier (snapshot).
const showWait = 50 * time.Millisecond

// show puts a flow still in flight into the store, as it stands.
func (ex *exchange) show() {
	ex.showMu.Lock()
	defer ex.showMu.Unlock()
	if f := ex.unshown; f != nil {
		ex.applyRequest(f)
		ex.storeLocked(f)
	}
}

// storeLocked hands the unshown flow f to the store; showMu is held.
func (ex *exchange) storeLocked(f *flowstore.Flow) {
	ex.unshown = nil
	ex.showTimer.Stop()
	ex.p.store.AddLate(f)
	ex.p.unshown.Add(-1)
}

// update applies fn to the flow. Before the flow is shown no one else
// holds it, so fn changes it in place; a flow that reaches its end that
// way enters the store finished. After, the store applies fn to a copy.
func (ex *exchange) update(fn func(*flowstore.Flow)) (*flowstore.Flow, bool) {
	ex.showMu.Lock()
	if f := ex.unshown; f != nil {
		id, seq := f.ID, f.Seq
		fn(f)
		f.ID, f.Seq = id, seq
		if f.State.Final() {
			ex.storeLocked(f)
		}
		ex.showMu.Unlock()
		return f, true
	}
	ex.showMu.Unlock()
	return ex.p.store.Update(ex.id, fn)
}

// snapshot shows the flow if it is not yet, and returns it from the store.
func (ex *exchange) snapshot() (*flowstore.Flow, bool) {
	ex.show()
	return ex.p.store.Get(ex.id)
}

// deliver wraps the response body so that the flow records it as it
// streams to the client and finishes when it ends.
func (ex *exchange) deliver(req *http.Request, resp *http.Response, headSize int64) *http.Response {
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		if rwc, ok := resp.Body.(interface {
			Read([]byte) (int, error)
			Write([]byte) (int, error)
			Close() error
		}); ok {
			var client net.Conn
			if ex.tun == nil && ex.tap != nil && headerHasToken(resp.Header, "Connection", "upgrade") && headerHasToken(resp.Header, "Upgrade", "websocket") {
				// goproxy relays a plain client's WebSocket on the connection
				// it takes from the HTTP server, and never closes it: it ends
				// with the upgraded connection, or when the proxy stops.
				client = ex.p.track(ex.tap)
			}
			u := &upgradedBody{rwc: rwc, onClosed: func(in, out int64) {
				if client != nil {
					_ = client.Close()
				}
				ex.finish(flowstore.Body{}, nil, headSize+in, out)
			}}
			resp.Body = u
			if isWebSocket(req.Header) {
				resp.Body = ex.newWSRelay(u, resp.Header)
			}
		} else {
			ex.finish(flowstore.Body{}, nil, headSize, 0)
		}
		return resp
	case resp.Body == nil || resp.Body == http.NoBody || !bodyAllowed(req.Method, resp.StatusCode):
		// Nothing follows the head of an answer to HEAD, or of a 204 or 304,
		// whatever its headers say. goproxy's HTTP/1 tunnel closes such a
		// body unread, which is no sign of a client leaving early.
		if resp.Body != nil {
			_ = resp.Body.Close()
		}
		resp.Body = http.NoBody
		ex.finish(flowstore.Body{}, nil, headSize, 0)
		return resp
	}
	if hooks := ex.chunkHooks(); len(hooks) > 0 {
		snap, _ := ex.snapshot()
		resp.Body = &chunkReader{src: resp.Body, ex: ex, f: snap, hooks: hooks, ctx: req.Context()}
		// The hooks may change the length; let the body be framed anew.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	if ex.tun == nil && resp.ContentLength < 0 && req.ProtoMajor == 1 {
		// goproxy flushes each write to a plain-HTTP client only when it
		// sees this header; without it a slow chunked body or an event
		// stream would sit in a buffer. The server code that writes the
		// response frames it properly for the client's HTTP version.
		resp.Header.Set("Transfer-Encoding", "chunked")
	}
	var closeAfter net.Conn
	if ex.tun != nil && ex.tun.conn != nil && !req.ProtoAtLeast(1, 1) && resp.ContentLength < 0 {
		// goproxy's HTTP/1 tunnel sends a body of unknown length in chunks,
		// which an HTTP/1.0 client cannot read, unless the header map has a
		// Content-Length (which the response writer itself never sends).
		// The body then runs until the connection closes, as HTTP/1.0 has it.
		resp.TransferEncoding = nil
		resp.Header.Set("Content-Length", "-1")
		closeAfter = ex.tun.conn
	}
	if isEventStream(resp.Header) {
		resp.Body = &sseTap{ReadCloser: resp.Body, ex: ex}
	}
	trailer := resp
	resp.Body = newBodyCapture(resp.Body, ex.p.opts.BodyLimit, resp.ContentLength, func(b flowstore.Body, err error) {
		var trailers flowstore.Headers
		if err == nil {
			trailers = flowstore.FromHTTP(trailer.Trailer)
		}
		ex.finishWith(b, trailers, err, headSize+b.Size)
	})
	if closeAfter != nil {
		resp.Body = &closingBody{ReadCloser: resp.Body, conn: closeAfter}
	} else if ex.tun != nil && ex.tun.tap != nil && resp.ContentLength > 0 {
		// A body follows the head goproxy writes next: send them together.
		ex.tun.tap.holdNext()
	}
	return resp
}

// closingBody closes the client's connection once the body has been
// written out and closed.
type closingBody struct {
	io.ReadCloser
	conn net.Conn
}

func (c *closingBody) Close() error {
	err := c.ReadCloser.Close()
	_ = c.conn.Close()
	return err
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
		if wants(h, flowstore.HookResponseChunk, snap) {
			out = append(out, h)
		}
	}
	return out
}

// armAtEnd re-arms tap once, when the body is read to its end or closed.
type armAtEnd struct {
	io.ReadCloser
	tap  *headTap
	once sync.Once
}

func (a *armAtEnd) Read(p []byte) (int, error) {
	n, err := a.ReadCloser.Read(p)
	if err != nil {
		a.once.Do(a.tap.arm)
	}
	return n, err
}

func (a *armAtEnd) Close() error {
	err := a.ReadCloser.Close()
	a.once.Do(a.tap.arm)
	return err
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

func (ex *exchange) markFinished() {
	ex.mu.Lock()
	ex.finished = true
	ex.mu.Unlock()
}

// runEndHooks gives error and done hooks the final flow.
func (ex *exchange) runEndHooks(f *flowstore.Flow) {
	if f == nil {
		return
	}
	ctx := ex.p.ctx
	if f.Error != nil {
		for _, h := range ex.p.hooks.errs {
			if wants(h, flowstore.HookError, f) {
				ex.safely(flowstore.HookError, nil, func() (flowstore.Verdict, error) { h.Error(ctx, f); return flowstore.Continue, nil })
			}
		}
	}
	for _, h := range ex.p.hooks.done {
		if wants(h, flowstore.HookDone, f) {
			ex.safely(flowstore.HookDone, nil, func() (flowstore.Verdict, error) { h.Done(ctx, f); return flowstore.Continue, nil })
		}
	}
}

func isWebSocket(h http.Header) bool {
	return headerHasToken(h, "Connection", "upgrade") && strings.EqualFold(h.Get("Upgrade"), "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[name] {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// serveLocal answers a request for LocalHost with the LocalPages handler.
func (p *Proxy) serveLocal(r *http.Request) *http.Response {
	if p.opts.LocalPages == nil {
		return textResponse(r, http.StatusNotFound, "interceptor-tui: nothing here\n")
	}
	rec := httptest.NewRecorder()
	p.opts.LocalPages.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	resp.ContentLength = int64(rec.Body.Len())
	resp.Header.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	return resp
}

// isEventStream reports a Server-Sent Events response. It runs for every
// response, so the media type is parsed only when it can match.
func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return strings.Contains(ct, "event-stream") && content.MediaType(ct) == "text/event-stream"
}
