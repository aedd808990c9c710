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
	tun    *tunnel // nil on a proxy listener (regular, upstream)
	mode   *Mode   // the listener's (a tunnel's, when tun is set)
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
	if tun != nil {
		cc.mode = tun.mode
	}
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
	case cc.tun != nil && cc.tun.scheme != "":
		// A reverse listener's: the origin's, whatever the client asked.
		scheme, authority = cc.tun.scheme, cc.tun.authority
		if hosts == 1 && !cc.p.opts.KeepHostHeader {
			// The origin is told its own name, as mitmproxy's reverse mode
			// does (--keep-host-header keeps the client's).
			h.hs.Set("Host", authority)
			hostHeader = authority
		}
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
	f.Client.Mode = cc.mode.String()
	if cc.tun != nil {
		f.Client.Addr, f.Client.TLS = cc.tun.clientAddr, cc.tun.clientTLS
		f.Server.Addr = cc.tun.target
	} else {
		f.Server.Addr = hostPort(fr)
	}
	f.Fail(flowstore.PhaseRequest, err.Error(), now)
	cc.p.store.AddLate(f)
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
