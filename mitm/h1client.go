package mitm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// net/http's Transport runs every round trip through two goroutines per
// connection (one writes, one reads), a connection request with its own
// context and channels, and the hand-offs between them. For the commonest
// request, a GET or HEAD without a body to an origin that speaks only
// HTTP/1.1 on a connection kept alive, that machinery costs more than
// capturing the flow. h1Pool is a plain client for exactly that case: it
// writes the request and reads the response on the caller's goroutine,
// over connections it dials and keeps itself. The Transport still does
// everything else (HTTP/2 origins, request bodies, upgrades). A new TLS
// connection offers both protocols; an origin that picks HTTP/2 gets the
// connection handed to the Transport, and its later requests go there.

// h1Key names the connections one origin's requests can share.
type h1Key struct {
	scheme string // "http" or "https"
	addr   string // host:port dialed
	sni    string // name sent in the TLS handshake
}

type h1Pool struct {
	p  *Proxy
	mu sync.Mutex
	// h2 holds origins that chose HTTP/2: the Transport serves them.
	h2      map[h1Key]bool
	handoff map[h1Key][]net.Conn // HTTP/2 connections for the Transport's dialer
	idle    map[h1Key][]*h1Conn
	closed  bool
	sweep   *time.Timer
}

// h1Conn is one kept connection and its buffers.
type h1Conn struct {
	up        *upstreamConn
	lim       limitedConn // under br
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

const (
	h1IdleTimeout = 90 * time.Second // as the Transport's IdleConnTimeout
	h1MaxIdle     = 256              // per origin, as MaxIdleConnsPerHost
)

func newH1Pool(p *Proxy) *h1Pool {
	return &h1Pool{p: p, h2: map[h1Key]bool{}, handoff: map[h1Key][]net.Conn{}, idle: map[h1Key][]*h1Conn{}}
}

// key is the pool key for a request and whether the fast path may take it.
func (h *h1Pool) key(req *http.Request, di *dialInfo) (h1Key, bool) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) ||
		(req.Body != nil && req.Body != http.NoBody) || req.ContentLength > 0 ||
		len(req.TransferEncoding) > 0 || req.Header.Get("Expect") != "" || req.Header.Get("Upgrade") != "" {
		return h1Key{}, false
	}
	k := h1Key{scheme: req.URL.Scheme}
	if k.scheme != "https" && k.scheme != "http" {
		return h1Key{}, false
	}
	host := req.URL.Hostname()
	if di != nil && di.target != "" {
		k.addr = di.target // a tunnel's: no address to build per request
	} else {
		port := req.URL.Port()
		if port == "" {
			port = strconv.Itoa(flowstore.DefaultPort(k.scheme))
		}
		k.addr = net.JoinHostPort(host, port)
	}
	if k.scheme == "https" {
		k.sni = host
		if di != nil && di.sni != "" {
			k.sni = di.sni
		}
	}
	return k, true
}

// serves reports whether requests for k may take the fast path: not once
// the origin has chosen HTTP/2.
func (h *h1Pool) serves(k h1Key) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.h2[k] && !h.closed
}

// takeHandoff gives the Transport's dialer a connection the fast path made
// to an origin that chose HTTP/2, if one is waiting.
func (h *h1Pool) takeHandoff(k h1Key) net.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := h.handoff[k]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	if len(cs) == 1 {
		delete(h.handoff, k)
	} else {
		h.handoff[k] = cs[:len(cs)-1]
	}
	return c
}

// reclaim closes a handed-off connection the Transport did not take (it
// had another one to the origin already).
func (h *h1Pool) reclaim(k h1Key, c net.Conn) {
	h.mu.Lock()
	cs := h.handoff[k]
	i := slices.Index(cs, c)
	if i >= 0 {
		h.handoff[k] = slices.Delete(cs, i, i+1)
		if len(h.handoff[k]) == 0 {
			delete(h.handoff, k)
		}
	}
	h.mu.Unlock()
	if i >= 0 {
		_ = c.Close()
	}
}

// get takes the most recently used idle connection for k, if any.
func (h *h1Pool) get(k h1Key) *h1Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := h.idle[k]
	for len(cs) > 0 {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		cs = cs[:len(cs)-1]
		// A kept connection nothing reads could hold the origin's goodbye,
		// or bytes it sent unasked that would pass for the next answer.
		if time.Since(c.idleSince) < h1IdleTimeout && c.alive() {
			h.idle[k] = cs
			return c
		}
		_ = c.up.Close()
	}
	delete(h.idle, k)
	return nil
}

// put keeps a connection whose last response was read whole.
func (h *h1Pool) put(k h1Key, c *h1Conn) {
	c.idleSince = time.Now()
	h.mu.Lock()
	if h.closed || len(h.idle[k]) >= h1MaxIdle || c.br.Buffered() > 0 {
		h.mu.Unlock()
		_ = c.up.Close()
		return
	}
	h.idle[k] = append(h.idle[k], c)
	if h.sweep == nil {
		h.sweep = time.AfterFunc(h1Sweep, h.sweepIdle)
	}
	h.mu.Unlock()
}

// sweepIdle closes kept connections the origin has closed, and those idle
// for longer than h1IdleTimeout. Nothing reads a kept connection while it
// waits, so this looks: once a second while any are kept.
func (h *h1Pool) sweepIdle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep = nil
	for k, cs := range h.idle {
		kept := cs[:0]
		for _, c := range cs {
			if time.Since(c.idleSince) < h1IdleTimeout && c.alive() {
				kept = append(kept, c)
			} else {
				_ = c.up.Close()
			}
		}
		clear(cs[len(kept):])
		if len(kept) == 0 {
			delete(h.idle, k)
		} else {
			h.idle[k] = kept
		}
	}
	if len(h.idle) > 0 && !h.closed {
		h.sweep = time.AfterFunc(h1Sweep, h.sweepIdle)
	}
}

// h1Sweep is how often kept connections are looked at.
const h1Sweep = time.Second

// alive reports whether an idle connection is still open and quiet. The
// origin hanging up (end of stream, a reset) or sending what was not asked
// for makes it unusable.
func (c *h1Conn) alive() bool {
	return c.br.Buffered() == 0 && quiet(c.up.raw)
}

// close closes every idle connection and takes no more.
func (h *h1Pool) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, cs := range h.idle {
		for _, c := range cs {
			_ = c.up.Close()
		}
	}
	clear(h.idle)
	if h.sweep != nil {
		h.sweep.Stop()
	}
}

// dial opens a connection for k. One that negotiated HTTP/2 is left for
// the Transport's dialer and returned as handedOff, with no h1Conn.
func (h *h1Pool) dial(ctx context.Context, k h1Key, ex *exchange) (c *h1Conn, handedOff net.Conn, err error) {
	di := &dialInfo{target: k.addr, sni: k.sni, ex: ex, fast: true}
	ctx = context.WithValue(ctx, dialInfoKey{}, di)
	var nc net.Conn
	if k.scheme == "https" {
		nc, err = h.p.dialTLS(ctx, "tcp", k.addr)
	} else {
		nc, err = h.p.dialPlain(ctx, "tcp", k.addr)
	}
	if err != nil {
		return nil, nil, err
	}
	up, ok := nc.(*upstreamConn)
	if !ok { // HTTP/2 was chosen
		h.mu.Lock()
		h.h2[k] = true
		h.handoff[k] = append(h.handoff[k], nc)
		h.mu.Unlock()
		return nil, nc, nil
	}
	c = &h1Conn{up: up, lim: limitedConn{r: up, n: math.MaxInt64}, bw: bufio.NewWriterSize(up, 4096)}
	c.br = bufio.NewReaderSize(&c.lim, 4096)
	return c, nil, nil
}

// staleError is a kept connection that failed before any byte of a
// response came back: the origin closed it while it was idle, and the
// request (a GET or HEAD, with no body) can go again on a new one.
type staleError struct{ err error }

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// roundTrip sends req to the origin k on a kept connection or a new one.
// When the new one turned out to speak HTTP/2, it returns no response and
// the connection, waiting for the Transport (see takeHandoff, reclaim).
func (h *h1Pool) roundTrip(ex *exchange, k h1Key, req *http.Request) (*http.Response, net.Conn, error) {
	if err := validHeaders(req.Header); err != nil {
		return nil, nil, err // before a kept connection is taken, and kept
	}
	var stale *staleError
	if c := h.get(k); c != nil {
		resp, err := h.send(ex, k, c, req)
		if !errors.As(err, &stale) {
			return resp, nil, err
		}
	}
	c, handedOff, err := h.dial(req.Context(), k, ex)
	if err != nil || handedOff != nil {
		return nil, handedOff, err
	}
	resp, err := h.send(ex, k, c, req)
	if errors.As(err, &stale) {
		err = stale.err // on a new connection: the origin hung up
	}
	return resp, nil, err
}

func (h *h1Pool) send(ex *exchange, k h1Key, c *h1Conn, req *http.Request) (*http.Response, error) {
	ex.gotConn(c.up)
	// The Transport ends a request whose context ends; so does this, with
	// a deadline in the past that any read or write on the connection meets.
	ctx := req.Context()
	stop := context.AfterFunc(ctx, func() { _ = c.up.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = c.up.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	// setReadDeadline must not undo the cancellation's deadline.
	setReadDeadline := func(t time.Time) error {
		_ = c.up.SetReadDeadline(t)
		return ctx.Err()
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(&staleError{err})
	}
	ex.stamp(&ex.timings.RequestSent)
	timeout := h.p.opts.ResponseTimeout
	if timeout > 0 {
		if err := setReadDeadline(time.Now().Add(timeout)); err != nil {
			return fail(err)
		}
	}
	c.lim.n = maxResponseHead
	if _, err := c.br.Peek(1); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fail(errHeadTimeout)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fail(&staleError{err})
	}
	ex.stamp(&ex.timings.FirstByte)
	var resp *http.Response
	for interim := 0; ; interim++ {
		var err error
		resp, err = http.ReadResponse(c.br, req)
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			return fail(errHeadTimeout)
		case err != nil && c.lim.n <= 0:
			return fail(fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxResponseHead))
		case err != nil:
			return fail(err)
		}
		// Interim answers (103 Early Hints, a stray 100) precede the real
		// one; as many as the Transport accepts.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			if interim >= 5 {
				return fail(errors.New("net/http: too many 1xx informational responses"))
			}
			continue
		}
		break
	}
	c.lim.n = math.MaxInt64
	if timeout > 0 {
		if err := setReadDeadline(time.Time{}); err != nil {
			return fail(err)
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// Never asked for (no Upgrade header): the connection is not HTTP now.
		return fail(errors.New("upstream switched protocols without being asked to"))
	}
	resp.Body = &h1Body{rc: resp.Body, h: h, k: k, c: c, keep: !resp.Close, stop: stop, ctx: ctx}
	return resp, nil
}

// maxResponseHead bounds a response's head, as the Transport's
// MaxResponseHeaderBytes does by default: a hostile origin cannot grow the
// proxy's memory with an endless head.
const maxResponseHead = 10 << 20

// errHeadTimeout is --upstream-timeout passing before the response head.
var errHeadTimeout error = headTimeoutError{}

type headTimeoutError struct{}

func (headTimeoutError) Error() string   { return "net/http: timeout awaiting response headers" }
func (headTimeoutError) Timeout() bool   { return true }
func (headTimeoutError) Temporary() bool { return true }

// limitedConn counts what the buffered reader takes from the connection
// while a head is read (n), and fails past the bound.
type limitedConn struct {
	r io.Reader
	n int64
}

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("response head too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// h1Body is a response body on a kept connection. Read to its end, it
// re-arms the connection's head tap and gives the connection back; closed
// early, it closes the connection, whose rest is unread.
type h1Body struct {
	rc   io.ReadCloser
	h    *h1Pool
	k    h1Key
	c    *h1Conn
	keep bool
	stop func() bool
	ctx  context.Context
	mu   sync.Mutex
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
		if err != io.EOF && b.ctx.Err() != nil {
			err = b.ctx.Err() // the deadline that ended the read says less
		}
	}
	return n, err
}

func (b *h1Body) Close() error {
	// Connection first: net/http's body reads a kept-alive body to its end
	// on Close, which for a stream the client has left would be forever.
	b.finish(false)
	return b.rc.Close()
}

// finish gives the connection back once, when the body ended cleanly.
func (b *h1Body) finish(eof bool) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	if !eof && b.rc != http.NoBody {
		// Closed before its end: what is left of it cannot be told from the
		// next response.
		b.done = true
		b.mu.Unlock()
		b.stop()
		_ = b.c.up.Close()
		return
	}
	b.done = true
	b.mu.Unlock()
	if !b.stop() || !b.keep {
		_ = b.c.up.Close() // the request's context ended: the deadline is set
		return
	}
	b.c.up.arm() // before another response can arrive on it
	b.h.put(b.k, b.c)
}

// validHeaders refuses what the Transport refuses: a name or value that is
// not a header's (a hook could set one), which would otherwise reach the
// origin as written.
func validHeaders(h http.Header) error {
	for name, vs := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("net/http: invalid header field name %q", name)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("net/http: invalid header field value for %q", name)
			}
		}
	}
	return nil
}
