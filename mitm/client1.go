package mitm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// conn1 serves one HTTP/1 client connection: one accepted on the plain
// listener, or the stream inside a CONNECT tunnel (decrypted, or plain).
// It reads a request, runs its exchange and writes the answer, in turn,
// on one goroutine; the same limits and the same refusals hold on the
// plain listener and in tunnels.
type conn1 struct {
	p      *Proxy
	nc     net.Conn    // written to and closed
	cw     *clientConn // under br: watches for a hang-up while a flow waits
	br     *bufio.Reader
	bw     *bufio.Writer
	tun    *tunnel // nil on the plain listener
	remote string
	served int

	wmu     sync.Mutex // 1xx answers may be written from a body's reader
	final   bool       // the final answer's head is going out: no 1xx after it
	sent100 bool
	http10  bool // the current request's version
	scratch flowstore.Headers

	// Watching for the client hanging up while a request is served (see
	// watch): the connection's context then ends, and with it the flow's
	// upstream exchange.
	ctx       context.Context
	cancel    context.CancelFunc
	watchMu   sync.Mutex
	inFlight  bool
	body      *clientBody
	gone      chan struct{}
	stopWatch func()
}

func newConn1(p *Proxy, nc net.Conn, tun *tunnel, remote string) *conn1 {
	cw := &clientConn{Conn: nc}
	cc := &conn1{p: p, nc: nc, cw: cw, br: bufio.NewReaderSize(cw, 4096), bw: bufio.NewWriterSize(nc, 4096), tun: tun, remote: remote}
	cc.ctx, cc.cancel = context.WithCancel(p.ctx)
	return cc
}

func (p *Proxy) limits() headLimits {
	return headLimits{bytes: p.opts.MaxHeadBytes, lines: p.opts.MaxHeaderLines}
}

// serve reads and answers requests until the client leaves, a limit is
// passed, or an answer ends the connection.
func (cc *conn1) serve() {
	defer cc.cancel()
	defer cc.nc.Close()
	p := cc.p
	for p.ctx.Err() == nil {
		// A new connection has HeaderTimeout to start its first request; a
		// kept one IdleTimeout to start the next. A head, once begun, has
		// HeaderTimeout to end.
		wait := p.opts.IdleTimeout
		if cc.served == 0 {
			wait = p.opts.HeaderTimeout
		}
		_ = cc.nc.SetReadDeadline(time.Now().Add(wait))
		if _, err := cc.br.Peek(1); err != nil {
			if isTimeout(err) && cc.served == 0 {
				p.log.Add(flowstore.LevelDebug, "proxy", "", "closed a connection from "+cc.remote+" that sent no request within "+wait.String())
			}
			return
		}
		_ = cc.nc.SetReadDeadline(time.Now().Add(p.opts.HeaderTimeout))
		h, err := readHead(cc.br, p.limits(), true, &cc.scratch)
		_ = cc.nc.SetReadDeadline(time.Time{})
		if err != nil {
			cc.refuse(err)
			return
		}
		cc.served++
		if !cc.handle(h) {
			return
		}
	}
}

// refuse answers a request the proxy will not read on, and ends the
// connection: nothing after a broken head is taken for another request.
func (cc *conn1) refuse(err error) {
	var we *wireError
	switch {
	case errors.As(err, &we) && we.status != 0:
		cc.p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("refused a request from %s: %s (%d)", cc.remote, we.msg, we.status))
		cc.writeError(we.status, we.msg)
	case isTimeout(err):
		cc.p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("closed the connection from %s: its request head did not arrive within %s", cc.remote, cc.p.opts.HeaderTimeout))
		cc.writeError(http.StatusRequestTimeout, "the request head did not arrive within "+cc.p.opts.HeaderTimeout.String())
	}
}

// writeError sends a short answer of the proxy's own and closes after it.
func (cc *conn1) writeError(status int, msg string) {
	body := "interceptor-tui: " + msg + "\n"
	_ = cc.nc.SetWriteDeadline(time.Now().Add(closeWait))
	fmt.Fprintf(cc.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	_ = cc.bw.Flush()
}

// closeWait bounds how long a last answer waits on a client that does not read.
const closeWait = time.Second

// handle serves one request whose head has been read. It reports whether
// the connection may carry another.
func (cc *conn1) handle(h *head) bool {
	p := cc.p
	_, minor, _ := parseVersion(h.c)
	cc.http10 = minor == 0
	cc.final, cc.sent100 = false, false
	if cc.tun == nil {
		if p.opts.ProxyAuth != "" {
			if !p.authorized(h.hs.Get("Proxy-Authorization")) {
				return cc.askCredentials(h)
			}
			// The credentials were for this proxy; the origin never sees them.
			h.hs.Del("Proxy-Authorization")
		}
		if h.a == http.MethodConnect {
			cc.connect(h)
			return false
		}
	}
	r, fr, err := cc.request(h)
	if err != nil {
		cc.refuse(err)
		return false
	}
	if r == nil { // not for the proxy to pass on: answered here
		return false
	}
	frame, n, err := requestFraming(h.hs, cc.http10)
	if err != nil {
		// Refused, as the shape of a request-smuggling attempt or a body
		// no one can read: the flow says so, and the connection ends.
		cc.failedFlow(r, fr, h, err)
		cc.refuse(err)
		return false
	}
	body := &clientBody{}
	switch frame {
	case frameLength:
		body.r = &lengthReader{r: cc.br, left: n}
		r.ContentLength = n
	case frameChunked:
		cr := newChunkedReader(cc.br, p.limits())
		body.r, body.trailers = cr, cr
		r.ContentLength = -1
		r.TransferEncoding = []string{"chunked"}
	default:
		body.done = true
	}
	if !body.done {
		r.Body = body
		if !cc.http10 && hasToken(h.hs, "Expect", "100-continue") {
			// The origin's 100 is passed on when it comes; if the body is
			// asked for first (a hook, a breakpoint, an origin that keeps
			// silent), the proxy says 100 itself.
			r.Body = &expectContinue{clientBody: body, cc: cc}
		}
	}
	cc.watchMu.Lock()
	cc.inFlight, cc.body = true, body
	cc.watchMu.Unlock()
	defer cc.endRequest()
	if strings.EqualFold(fr.Host, LocalHost) {
		r.Header = h.hs.HTTP() // the pages are a handler, which reads a map
		return cc.writeResponse(nil, r, p.serveLocal(r)) && body.finished()
	}
	ex := p.begin(r, cc.tun, fr, h.size, cc)
	ex.frame = frame
	resp, err := ex.roundTrip(r)
	if err != nil || resp == nil {
		return false // killed: the connection ends with the flow
	}
	keep := cc.writeResponse(ex, r, resp)
	return keep && !r.Close && body.finished()
}

// closing reports a request whose connection ends with its answer: the
// client asked so, or its body was not read to the end (what follows
// could not be told from a next request).
func (cc *conn1) closing(req *http.Request) bool {
	if req.Close {
		return true
	}
	cc.watchMu.Lock()
	b := cc.body
	cc.watchMu.Unlock()
	return b != nil && !b.finished()
}

// watch watches the client's connection for a hang-up until the request
// is over (or unwatch): the request's context ends then, and the returned
// channel closes. Nothing else may read the connection meanwhile.
func (cc *conn1) watch() <-chan struct{} {
	cc.watchMu.Lock()
	defer cc.watchMu.Unlock()
	if cc.stopWatch == nil {
		g, cancel := make(chan struct{}), cc.cancel
		cc.gone = g
		cc.stopWatch = cc.cw.watchFunc(func() {
			close(g)
			cancel() // the client is gone: so is whatever it waits for
		})
	}
	return cc.gone
}

// watchLate watches the client of a flow still in flight after showWait
// whose request body is over: a client that leaves then ends the flow
// instead of leaving it active. A quick flow never pays for a watch.
func (cc *conn1) watchLate() {
	cc.watchMu.Lock()
	ok := cc.inFlight && cc.body != nil && cc.body.finished()
	cc.watchMu.Unlock()
	if ok {
		cc.watch()
	}
}

// unwatch stops watching; what arrived meanwhile is kept for the reader.
func (cc *conn1) unwatch() {
	cc.watchMu.Lock()
	stop := cc.stopWatch
	cc.stopWatch = nil
	cc.watchMu.Unlock()
	if stop != nil {
		stop()
	}
}

// endRequest stops any watch for good: the connection is its reader's.
func (cc *conn1) endRequest() {
	cc.watchMu.Lock()
	cc.inFlight = false // first: no late watch may start after the unwatch
	cc.watchMu.Unlock()
	cc.unwatch()
	cc.watchMu.Lock()
	cc.body = nil
	cc.watchMu.Unlock()
}

// request builds the *http.Request the exchange works on, and the flow's
// request as the client sent it. It answers requests that are not for the
// proxy to pass on (the proxy's own pages) and returns nil for them.
func (cc *conn1) request(h *head) (*http.Request, *flowstore.Request, error) {
	hosts, hostHeader := 0, ""
	for _, hd := range h.hs {
		if strings.EqualFold(hd.Name, "Host") {
			hosts, hostHeader = hosts+1, hd.Value
		}
	}
	if hosts > 1 {
		return nil, nil, badRequest("more than one Host header")
	}
	if hosts == 0 && !cc.http10 {
		return nil, nil, badRequest("missing required Host header")
	}
	target := h.b
	scheme, authority, path := "", "", target
	if i := strings.Index(target, "://"); i > 0 && target[0] != '/' {
		// Absolute form: the plain listener's, and allowed in a tunnel.
		scheme = strings.ToLower(target[:i])
		rest := target[i+3:]
		end := strings.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		authority, path = rest[:end], rest[end:]
		if path == "" || path[0] == '?' {
			path = "/" + path
		}
		if scheme != "http" && scheme != "https" {
			return nil, nil, badRequest("unsupported URL scheme %q", scheme)
		}
		if authority == "" {
			return nil, nil, badRequest("no host in the request target")
		}
	}
	switch {
	case cc.tun != nil:
		scheme = "http"
		if cc.tun.clientTLS != nil {
			scheme = "https"
		}
		if authority == "" {
			authority = hostHeader
		}
		if authority == "" {
			authority = cc.tun.target
		}
	case scheme == "":
		// A request to the proxy itself, not through it.
		if strings.EqualFold(stripPort(hostHeader), LocalHost) {
			scheme, authority = "http", hostHeader
			break
		}
		cc.p.serveNonProxy(cc, h)
		return nil, nil, nil
	}
	host, port := splitAuthority(authority, flowstore.DefaultPort(scheme))
	if host == "" || port <= 0 || port > 65535 {
		return nil, nil, badRequest("bad host %q in the request", authority)
	}
	u := &url.URL{Scheme: scheme, Host: authority}
	rawPath, query, _ := strings.Cut(path, "?")
	u.RawQuery = query
	if p, err := url.PathUnescape(rawPath); err == nil {
		u.Path = p
		if p != rawPath {
			u.RawPath = rawPath
		}
	} else {
		u.Path = rawPath
	}
	major, minor, _ := parseVersion(h.c)
	// No header map: the exchange reads the lines (fr), and a map per
	// request costs as much as the rest of the request's bookkeeping.
	r := &http.Request{
		Method: h.a, URL: u, Proto: h.c, ProtoMajor: major, ProtoMinor: minor,
		Host: hostHeader, RemoteAddr: cc.remote, RequestURI: target,
		Body: http.NoBody, Close: wantsClose(h.hs, cc.http10),
	}
	if r.Host == "" {
		r.Host = authority
	}
	fr := &flowstore.Request{Method: h.a, Scheme: scheme, Host: host, Port: port, Path: path, Proto: h.c, Headers: h.hs}
	return r.WithContext(cc.ctx), fr, nil
}

func stripPort(hostport string) string {
	host, _ := splitAuthority(hostport, 0)
	return host
}

// wantsClose reports a request (or response) that ends its connection.
func wantsClose(hs flowstore.Headers, http10 bool) bool {
	if http10 {
		return !hasToken(hs, "Connection", "keep-alive")
	}
	return hasToken(hs, "Connection", "close")
}

// askCredentials answers 407; a client then asks again on the same
// connection, unless a body it sent would have to be skipped first.
func (cc *conn1) askCredentials(h *head) bool {
	body := "interceptor-tui: proxy authentication required\n"
	fmt.Fprintf(cc.bw, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"interceptor-tui\"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_ = cc.bw.Flush()
	cc.p.log.Add(flowstore.LevelWarn, "proxy", "", "refused a client without valid proxy credentials: "+cc.remote)
	frame, _, err := requestFraming(h.hs, cc.http10)
	return err == nil && frame == frameNone && !wantsClose(h.hs, cc.http10)
}

// failedFlow records a request the proxy refused before it went anywhere.
func (cc *conn1) failedFlow(r *http.Request, fr *flowstore.Request, h *head, err error) {
	now := time.Now()
	f := &flowstore.Flow{
		ID: flowstore.NewID(), Seq: cc.p.store.Reserve(), State: flowstore.StateActive,
		Client: flowstore.Client{Addr: cc.remote}, Request: fr,
		Timings: flowstore.Timings{Start: now}, BytesIn: int64(h.size),
	}
	if cc.tun != nil {
		f.Client.Addr, f.Client.TLS = cc.tun.clientAddr, cc.tun.clientTLS
		f.Server.Addr = cc.tun.target
	} else {
		f.Server.Addr = hostPort(fr)
	}
	f.Fail(flowstore.PhaseRequest, err.Error(), now)
	cc.p.store.AddLate(f)
}

// interim passes a 1xx answer from the origin to the client, which an
// HTTP/1.0 client must not be sent (RFC 9110 §15.2).
func (cc *conn1) interim(hd *head) {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if cc.final || cc.http10 {
		return
	}
	if hd.b == "100" {
		if cc.sent100 {
			return
		}
		cc.sent100 = true
	}
	writeHead(cc.bw, hd.a, hd.b, hd.c, hd.hs)
	_ = cc.bw.Flush()
}

// send100 says 100 Continue when a body that expects it is first read.
func (cc *conn1) send100() error {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	if cc.final || cc.sent100 {
		return nil
	}
	cc.sent100 = true
	cc.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	return cc.bw.Flush()
}

// writeResponse writes the answer to the client, its head as the exchange
// says it goes (the origin's lines, or those a hook or a person left) and
// its body framed as that head says. It reports whether the connection may
// carry another request.
func (cc *conn1) writeResponse(ex *exchange, req *http.Request, resp *http.Response) bool {
	defer resp.Body.Close()
	var out *head
	ready := true // the whole body is at hand: its head need not go ahead of it
	if ex != nil && ex.respFor == resp {
		out = ex.respOut
		ready = ex.ready == nil || ex.ready()
	}
	if out == nil {
		// An answer of the proxy's own (an error, a page): its headers are ours.
		out = &head{a: "HTTP/1.1", b: strconv.Itoa(resp.StatusCode), c: reasonPhrase(resp.Status, resp.StatusCode), hs: flowstore.FromHTTP(resp.Header)}
		if resp.Close || cc.closing(req) {
			out.hs = append(out.hs, flowstore.Header{Name: "Connection", Value: "close"})
		}
	}
	status := resp.StatusCode
	frame, n, err := responseFraming(out.hs, req.Method, status)
	if err != nil {
		frame = frameClose
	}
	hs := out.hs
	if frame == frameChunked && cc.http10 {
		// An HTTP/1.0 client cannot read chunks: the body runs to the
		// connection's end instead, as HTTP/1.0 has it.
		hs = hs.Clone()
		hs.Del("Transfer-Encoding")
		frame = frameClose
	}
	cc.wmu.Lock()
	cc.final = true
	cc.wmu.Unlock()
	writeHead(cc.bw, out.a, out.b, out.c, hs)
	if status == http.StatusSwitchingProtocols {
		if err := cc.bw.Flush(); err != nil {
			return false
		}
		cc.endRequest() // the relay reads the connection from now on
		cc.relayUpgraded(resp.Body)
		return false
	}
	if !ready && frame != frameNone {
		// A body slow to follow must not hold its head up.
		if err := cc.bw.Flush(); err != nil {
			return false
		}
	}
	keep := !wantsClose(hs, out.a == "HTTP/1.0") && frame != frameClose
	if err := cc.writeBody(resp, frame, n); err != nil {
		return false
	}
	return keep
}

// writeBody copies the body as it comes, flushing each piece: a stream
// reaches the client as the origin sends it.
func (cc *conn1) writeBody(resp *http.Response, frame framing, n int64) error {
	if frame == frameNone {
		// An empty body still ends, for the flow and for the connection it
		// came on; one that is not empty has no place in this answer.
		var one [1]byte
		if _, err := resp.Body.Read(one[:]); err != nil && err != io.EOF {
			return err
		}
		return cc.bw.Flush()
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	var w io.Writer = cc.bw
	cw := chunkedWriter{bw: cc.bw}
	if frame == frameChunked {
		w = cw
	}
	var total int64
	for {
		k, rerr := resp.Body.Read(*buf)
		if k > 0 {
			if frame == frameLength && total+int64(k) > n {
				k = int(n - total) // more than the head announced: never sent
				rerr = errors.New("the body is longer than its Content-Length")
			}
			total += int64(k)
			if _, err := w.Write((*buf)[:k]); err != nil {
				return err
			}
			if err := cc.bw.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			_ = cc.bw.Flush()
			return rerr
		}
	}
	if frame == frameLength && total != n {
		_ = cc.bw.Flush()
		return fmt.Errorf("the body ended after %d of %d bytes", total, n)
	}
	if frame == frameChunked {
		var trailers flowstore.Headers
		if t, ok := resp.Body.(interface{ trailerLines() flowstore.Headers }); ok {
			trailers = t.trailerLines()
		}
		if err := cw.close(trailers); err != nil {
			return err
		}
	}
	return cc.bw.Flush()
}

// relayUpgraded carries bytes both ways after a 101 until either side ends.
func (cc *conn1) relayUpgraded(up io.ReadCloser) {
	rw, ok := up.(io.ReadWriter)
	if !ok {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(rw, cc.br) // what the client sends, after anything buffered
		_ = up.Close()
	}()
	_, _ = io.Copy(cc.nc, rw)
	_ = cc.nc.Close()
	_ = up.Close()
	<-done
}

// clientBody is a request body read from the client's connection. The
// connection carries another request only once the body has been read to
// its end.
type clientBody struct {
	r        io.Reader
	trailers *chunkedReader
	mu       sync.Mutex
	done     bool
	err      error
}

func (b *clientBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.done = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

func (b *clientBody) Close() error { return nil }

// finished reports a body read to its end: the next bytes are the next
// request's.
func (b *clientBody) finished() bool {
	if !b.mu.TryLock() {
		return false // a reader is still at it
	}
	defer b.mu.Unlock()
	return b.done
}

// trailerLines are a chunked body's trailers, once it has ended.
func (b *clientBody) trailerLines() flowstore.Headers {
	if b.trailers == nil {
		return nil
	}
	return b.trailers.trailers
}

// expectContinue says 100 Continue to a client that waits for it, when its
// body is first read.
type expectContinue struct {
	*clientBody
	cc   *conn1
	once sync.Once
}

func (e *expectContinue) Read(p []byte) (int, error) {
	var err error
	e.once.Do(func() { err = e.cc.send100() })
	if err != nil {
		return 0, err
	}
	return e.clientBody.Read(p)
}

// clientConn is a client's connection under its reader. While a flow waits
// at a breakpoint nothing reads it, so a client that hangs up would go
// unnoticed: watch reads meanwhile and keeps what arrives for the reader.
type clientConn struct {
	net.Conn
	mu       sync.Mutex
	pushback []byte
}

// maxPushback bounds what watch reads ahead for the real reader.
const maxPushback = 1 << 20

func (c *clientConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pushback) > 0 {
		n := copy(p, c.pushback)
		c.pushback = c.pushback[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// watchFunc reads the connection while its real reader is idle, to notice
// the peer hanging up, and calls gone if it does. stop ends the watch and
// returns once the connection is the real reader's again.
func (c *clientConn) watchFunc(gone func()) (stop func()) {
	done := make(chan struct{})
	var stopping sync.Once
	var smu sync.Mutex
	stopped := false
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := c.Conn.Read(buf)
			if n > 0 {
				c.mu.Lock()
				c.pushback = append(c.pushback, buf[:n]...)
				full := len(c.pushback) >= maxPushback
				c.mu.Unlock()
				if full {
					return
				}
			}
			if err != nil {
				smu.Lock()
				s := stopped
				smu.Unlock()
				if !s {
					gone()
				}
				return
			}
		}
	}()
	return func() {
		stopping.Do(func() {
			smu.Lock()
			stopped = true
			smu.Unlock()
			_ = c.Conn.SetReadDeadline(time.Now())
			<-done
			_ = c.Conn.SetReadDeadline(time.Time{})
		})
	}
}

// localRecorder collects what a LocalPages handler writes.
type localRecorder struct {
	h      http.Header
	status int
	body   strings.Builder
}

func (r *localRecorder) Header() http.Header { return r.h }
func (r *localRecorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *localRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// serveLocal answers a request for LocalHost with the LocalPages handler.
func (p *Proxy) serveLocal(r *http.Request) *http.Response {
	if p.opts.LocalPages == nil {
		return textResponse(r, http.StatusNotFound, "interceptor-tui: nothing here\n")
	}
	rec := &localRecorder{h: make(http.Header)}
	p.opts.LocalPages.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.String()
	rec.h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		StatusCode: rec.status, Status: strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rec.h,
		Body: nopCloser{strings.NewReader(body)}, ContentLength: int64(len(body)), Request: r,
	}
}

// serveNonProxy answers a request made to the proxy as if it were a site.
func (p *Proxy) serveNonProxy(cc *conn1, h *head) {
	body := fmt.Sprintf("This is interceptor-tui, an HTTP(S) proxy. Configure it as your proxy (%s) instead of visiting it;\n"+
		"then http://interceptor.tui/ has the CA certificate.\n", p.ListenAddr())
	fmt.Fprintf(cc.bw, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = cc.bw.Flush()
}
