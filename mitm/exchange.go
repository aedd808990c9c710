package mitm

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
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
// happens (timings, the request body as it streams) and writes it to the
// store at a few points, not on every event.
type exchange struct {
	p   *Proxy
	id  string
	tun *tunnel
	cc  *conn1 // the client's HTTP/1 connection (nil for HTTP/2 and replays)

	mu        sync.Mutex
	timings   flowstore.Timings
	server    flowstore.Server
	reqBody   flowstore.Body // valid once reqRead
	reqRead   bool           // the request body has been read
	sentBody  bool           // the body sent is an edit: the flow keeps it, not reqBody
	reqTrail  flowstore.Headers
	headBytes int64 // size of the request head
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

	// What goes on the wire, in order: the request as the client sent it
	// or as a hook or a person left it, and the answer's head likewise.
	out     *flowstore.Request
	frame   framing                  // the client's request body framing (HTTP/1 clients)
	respOut *head                    // written for respFor (any other answer is the proxy's own)
	respFor *http.Response           //
	ready   func() bool              // whether respFor's whole body is at hand (nil: it is)
	trail   func() flowstore.Headers // the origin's trailers, once its body has ended

	clientBodyErr error // reading the client's request body failed

	ct httptrace.ClientTrace
}

type roundTripper struct{ p *Proxy }

// onRequest runs for every request of an HTTP/2 client, which goproxy
// serves: it records the flow and routes the round trip through us.
func (p *Proxy) onRequest(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	tun, _ := ctx.UserData.(*tunnel)
	if tun != nil {
		// goproxy sees a decrypted stream as plain HTTP; the tunnel knows better.
		r.URL.Scheme = "http"
		if tun.clientTLS != nil {
			r.URL.Scheme = "https"
		}
		if r.URL.Host == "" {
			r.URL.Host = tun.target
		}
	}
	req := requestFromHTTP(r)
	if strings.EqualFold(req.Host, LocalHost) {
		return r, p.serveLocal(r)
	}
	req.Headers = flowstore.FromHTTP(r.Header)
	headSize := estimateHeadSize(len(r.Method)+len(r.RequestURI)+len(r.Proto)+2, req.Headers)
	ex := p.begin(r, tun, req, headSize, nil)
	ctx.UserData = ex
	ctx.RoundTripper = roundTripper{p}
	return r, nil
}

// begin records a new flow for the request r (req is the flow's view of
// it: its header lines in wire order) and returns its exchange.
func (p *Proxy) begin(r *http.Request, tun *tunnel, req *flowstore.Request, headSize int, cc *conn1) *exchange {
	now := time.Now()
	f := &flowstore.Flow{
		ID:      flowstore.NewID(),
		Seq:     p.store.Reserve(),
		State:   flowstore.StateActive,
		Client:  flowstore.Client{Addr: r.RemoteAddr},
		Request: req,
		Timings: flowstore.Timings{Start: now},
		BytesIn: int64(headSize),
	}
	ex := &exchange{p: p, id: f.ID, tun: tun, cc: cc, headBytes: int64(headSize), urlHost: r.URL.Host, out: req}
	ex.timings.Start = now
	if cc != nil {
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

	if orig := r.Body; orig != nil && orig != http.NoBody {
		r.Body = newBodyCapture(orig, p.opts.BodyLimit, r.ContentLength, func(b flowstore.Body, err error) {
			var trailers flowstore.Headers
			if t, ok := orig.(interface{ trailerLines() flowstore.Headers }); ok && err == nil {
				trailers = t.trailerLines()
			} else if err == nil {
				trailers = flowstore.FromHTTP(r.Trailer)
			}
			ex.requestBodyDone(b, trailers, err)
		})
	} else {
		ex.reqRead = true
	}
	p.unshown.Add(1)
	ex.showMu.Lock() // the timer's show waits for showTimer to be set
	ex.unshown = f
	ex.showTimer = time.AfterFunc(showWait, ex.show)
	ex.showMu.Unlock()
	return ex
}

// requestFromHTTP leaves out the headers: the caller has them in wire
// order, or takes them from the map.
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
		return nil, errors.New("interceptor-tui: a request without its flow")
	}
	resp, err := ex.roundTrip(req)
	if resp != nil {
		// Go's HTTP/2 server adds a Date, and a Content-Type it guesses from
		// the body, to an answer without them; a name present without a
		// value stops it and is not sent. (The flow has the headers already.)
		if resp.Header == nil {
			resp.Header = make(http.Header)
		}
		for _, name := range []string{"Date", "Content-Type"} {
			if _, ok := resp.Header[name]; !ok {
				resp.Header[name] = []string{}
			}
		}
	}
	return resp, err
}

// trace hooks what an HTTP/2 round trip does for every request: when the
// request was written, when the answer began. What happens only on a new
// connection (DNS, connect, TLS) is hooked by the dial (dialTrace).
func (ex *exchange) trace() *httptrace.ClientTrace {
	t := &ex.timings
	ex.ct = httptrace.ClientTrace{
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

func (ex *exchange) gotConn(c net.Conn, ip string, info *flowstore.TLSInfo) {
	ex.mu.Lock()
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
	k := ex.origin(req)
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
		host, _ = splitAuthority(ex.tun.target, 0)
		if ex.tun.clientTLS != nil && ex.tun.clientTLS.SNI != "" {
			host = ex.tun.clientTLS.SNI
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
	return k
}

// send1 sends the request over HTTP/1 (on c when given: a new connection
// on which the origin declined HTTP/2) and reads the answer's head.
func (ex *exchange) send1(req *http.Request, k originKey, c *upConn) (*http.Response, error) {
	o := ex.out1(req)
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
	if t, ok := req.Body.(interface{ trailerLines() flowstore.Headers }); ok {
		o.trailers = t.trailerLines
	}
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
	if f := ex.unshown; f != nil {
		ex.applyRequest(f)
		ex.storeLocked(f)
	}
	ex.showMu.Unlock()
	if ex.cc != nil {
		ex.cc.watchLate()
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
		if wants(h, flowstore.HookResponseChunk, snap) {
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

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// isEventStream reports a Server-Sent Events response. It runs for every
// response, so the media type is parsed only when it can match.
func isEventStream(hs flowstore.Headers) bool {
	ct := hs.Get("Content-Type")
	return strings.Contains(ct, "event-stream") && content.MediaType(ct) == "text/event-stream"
}
