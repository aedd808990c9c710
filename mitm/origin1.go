package mitm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A request from an HTTP/1 client goes to its origin over HTTP/1, written
// by the engine from the flow's own header lines (pool1.send), over a
// connection kept for that origin alone (originKey). The request is
// written and its answer read on the client's own goroutine; only a body
// goes out from a second one, so that an origin that answers before it has
// read the whole body (a 413, a 401) is heard at once.

// out1 is a request as it goes to an origin over HTTP/1.
type out1 struct {
	method, target, proto string
	hs                    flowstore.Headers
	body                  io.Reader // nil: no body
	frame                 framing   // frameNone, frameLength or frameChunked
	length                int64
	trailers              func() flowstore.Headers // a chunked body's, once it is read
	expect                bool                     // Expect: 100-continue
	upgrade               bool                     // asks to switch protocols
	close                 bool                     // asks the origin to close after answering
}

// in1 is a response read from an origin.
type in1 struct {
	head     *head
	status   int
	frame    framing
	length   int64
	body     io.ReadCloser // framed; for a 101, the connection itself
	trailers func() flowstore.Headers
	ready    func() bool // whether the whole body has arrived already
}

type pool1 struct {
	p      *Proxy
	mu     sync.Mutex
	idle   map[originKey][]*upConn
	closed bool
	sweep  *time.Timer
}

const (
	idleUpstream    = 90 * time.Second // a kept connection's life unused
	maxIdlePerHost  = 256
	sweepEvery      = time.Second
	maxResponseHead = 10 << 20 // as the Transport's MaxResponseHeaderBytes
	maxInterim      = 5        // 1xx answers before the final one, as the Transport
	expectWait      = time.Second
	smallBody       = 16 << 10 // written with its head in one go
)

func newPool1(p *Proxy) *pool1 { return &pool1{p: p, idle: map[originKey][]*upConn{}} }

// roundTrip sends o to the origin k on a kept connection or a new one
// (always a new one when fresh: a flow held at a breakpoint may have
// outlived its origin's patience for an idle connection).
func (h *pool1) roundTrip(ctx context.Context, ex *exchange, k originKey, o *out1, fresh bool) (*in1, error) {
	if err := checkHeaders(o.hs); err != nil {
		return nil, err
	}
	var stale *staleError
	if !fresh {
		if c := h.get(k); c != nil {
			in, err := h.send(ctx, ex, k, c, o)
			if !errors.As(err, &stale) {
				return in, err
			}
			if o.frame != frameNone {
				return nil, stale.err // its body is gone: it cannot go again
			}
		}
	}
	c, _, err := h.p.dialOrigin(ctx, k, ex, false)
	if err != nil {
		return nil, err
	}
	in, err := h.send(ctx, ex, k, c, o)
	if errors.As(err, &stale) {
		err = stale.err // on a new connection: the origin hung up
	}
	return in, err
}

// staleError is a connection that failed before any byte of a response
// came back: the origin closed it while it was idle.
type staleError struct{ err error }

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// send writes o on c and reads the answer's head.
func (h *pool1) send(ctx context.Context, ex *exchange, k originKey, c *upConn, o *out1) (*in1, error) {
	ex.gotConn(c.nc, c.ip, c.info)
	// A request whose context ends (the client left, the proxy stops) ends
	// with a deadline in the past that every read and write meets.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	var bodyDone chan error
	fail := func(err error) (*in1, error) {
		stop()
		_ = c.nc.Close()
		// A body's writer still running ends with the connection, or with
		// the client's, which is closed when its body was not read whole.
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	writeHead(c.bw, o.method, o.target, o.proto, o.hs)
	switch {
	case o.frame == frameNone:
	case !o.expect && o.frame == frameLength && o.length <= smallBody:
		// A small body leaves with its head, in one write.
		if err := writeBody(c.bw, o); err != nil {
			return fail(err)
		}
	default:
		if err := c.bw.Flush(); err != nil {
			return fail(&staleError{err})
		}
		if o.expect {
			in, err := h.awaitContinue(ex, c, o)
			if in != nil || err != nil {
				if err != nil {
					return fail(err)
				}
				// Answered before the body was asked for: the body is not
				// sent, so the connection cannot carry another request.
				stop()
				in.body = &upBody{rc: in.body, h: h, k: k, c: c, keep: false}
				return in, nil
			}
		}
		bodyDone = make(chan error, 1)
		go func() {
			err := writeBody(c.bw, o)
			if err == nil {
				err = c.bw.Flush()
			}
			if err != nil {
				// The origin would wait for the rest for ever; the reader
				// below learns of it from the closed connection.
				_ = c.nc.Close()
			}
			bodyDone <- err
		}()
	}
	if bodyDone == nil {
		if err := c.bw.Flush(); err != nil {
			return fail(&staleError{err})
		}
	}
	ex.stamp(&ex.timings.RequestSent)
	if t := h.p.opts.ResponseTimeout; t > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(t))
	}
	c.lim.n = maxResponseHead
	if _, err := c.br.Peek(1); err != nil {
		if isTimeout(err) && ctx.Err() == nil {
			return fail(errHeadTimeout)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fail(&staleError{err})
	}
	ex.stamp(&ex.timings.FirstByte)
	in, err := h.readFinal(ex, c, o, 0)
	if err != nil {
		if isTimeout(err) && ctx.Err() == nil {
			err = errHeadTimeout
		}
		return fail(err)
	}
	c.lim.n = math.MaxInt64
	if h.p.opts.ResponseTimeout > 0 {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	if in.status == 101 {
		if !o.upgrade {
			return fail(errors.New("upstream switched protocols without being asked to"))
		}
		stop()
		in.body = &upgradedConn{upConn: c}
		return in, nil
	}
	keep := !o.close && !hasToken(in.head.hs, "Connection", "close") && in.frame != frameClose &&
		(in.head.a == "HTTP/1.1" || hasToken(in.head.hs, "Connection", "keep-alive"))
	ub := &upBody{rc: in.body, h: h, k: k, c: c, keep: keep, stop: stop, bodyDone: bodyDone, ctx: ctx}
	in.body = ub
	if in.frame == frameNone {
		ub.finish(true) // the answer is whole: its connection can go back now
	}
	return in, nil
}

// awaitContinue waits a moment for the origin's word on a request that
// expects 100-continue before its body. It returns a final answer when
// the origin gave one; nothing when it said 100 or kept silent (then the
// body goes).
func (h *pool1) awaitContinue(ex *exchange, c *upConn, o *out1) (*in1, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(expectWait))
	_, err := c.br.Peek(1)
	_ = c.nc.SetReadDeadline(time.Time{})
	if err != nil {
		if isTimeout(err) {
			return nil, nil
		}
		return nil, &staleError{err}
	}
	c.lim.n = maxResponseHead
	hd, status, err := readResponseHead(c)
	if err != nil {
		return nil, err
	}
	if status == 100 {
		ex.interim(hd)
		return nil, nil
	}
	return h.finish(ex, c, o, hd, status, 0)
}

// readFinal reads heads until the final one, passing interim ones on.
func (h *pool1) readFinal(ex *exchange, c *upConn, o *out1, seen int) (*in1, error) {
	hd, status, err := readResponseHead(c)
	if err != nil {
		return nil, err
	}
	return h.finish(ex, c, o, hd, status, seen)
}

func (h *pool1) finish(ex *exchange, c *upConn, o *out1, hd *head, status, seen int) (*in1, error) {
	for status >= 100 && status < 200 && status != 101 {
		if seen >= maxInterim {
			return nil, errors.New("too many 1xx informational responses")
		}
		seen++
		ex.interim(hd)
		var err error
		if hd, status, err = readResponseHead(c); err != nil {
			return nil, err
		}
	}
	in := &in1{head: hd, status: status}
	if status == 101 {
		return in, nil
	}
	frame, n, err := responseFraming(hd.hs, o.method, status)
	if err != nil {
		return nil, err
	}
	in.frame, in.length = frame, n
	switch frame {
	case frameNone:
		in.body = noBody{}
	case frameLength:
		in.body = &lengthReader{r: c.br, left: n}
		in.ready = func() bool { return int64(c.br.Buffered()) >= n }
	case frameChunked:
		cr := newChunkedReader(c.br, headLimits{bytes: 64 << 10, lines: 1000})
		in.body, in.trailers = io.NopCloser(cr), func() flowstore.Headers { return cr.trailers }
	case frameClose:
		in.body = io.NopCloser(c.br)
	}
	return in, nil
}

func readResponseHead(c *upConn) (*head, int, error) {
	hd, err := readHead(c.br, headLimits{bytes: maxResponseHead, lines: 100000}, false, &c.scratch)
	if err != nil {
		if c.lim.n <= 0 {
			return nil, 0, fmt.Errorf("upstream response headers exceeded %d bytes; aborted", maxResponseHead)
		}
		var we *wireError
		if errors.As(err, &we) {
			err = errors.New("malformed HTTP response: " + we.msg)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	status, _ := strconv.Atoi(hd.b)
	return hd, status, nil
}

// writeBody writes o's body framed as o says. A client body that fails to
// read is reported as it is (the flow says the client's body was bad).
func writeBody(bw *bufio.Writer, o *out1) error {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	switch o.frame {
	case frameLength:
		n, err := io.CopyBuffer(bw, io.LimitReader(o.body, o.length), *buf)
		if err != nil {
			return err
		}
		if n < o.length {
			return fmt.Errorf("the request body ended after %d of %d bytes", n, o.length)
		}
		return nil
	case frameChunked:
		cw := chunkedWriter{bw: bw}
		if _, err := io.CopyBuffer(cw, o.body, *buf); err != nil {
			return err
		}
		var trailers flowstore.Headers
		if o.trailers != nil {
			trailers = o.trailers()
		}
		return cw.close(trailers)
	}
	return nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errHeadTimeout is --upstream-timeout passing before the response head.
var errHeadTimeout error = headTimeoutError{}

type headTimeoutError struct{}

func (headTimeoutError) Error() string   { return "timeout awaiting response headers" }
func (headTimeoutError) Timeout() bool   { return true }
func (headTimeoutError) Temporary() bool { return true }

// limitedConn counts what the buffered reader takes while a head is read,
// and fails past the bound: an endless head cannot grow the proxy's memory.
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

type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }

// upBody is a response body on an upstream connection. Read to its end, it
// gives the connection back (when it may carry another request); closed
// early, it closes the connection, whose rest is unread.
type upBody struct {
	rc       io.ReadCloser
	h        *pool1
	k        originKey
	c        *upConn
	keep     bool
	stop     func() bool
	bodyDone chan error // the request body's writer, if one runs
	ctx      context.Context
	mu       sync.Mutex
	done     bool
}

func (b *upBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
		if err != io.EOF && b.ctx != nil && b.ctx.Err() != nil {
			err = b.ctx.Err() // the deadline that ended the read says less
		}
	}
	return n, err
}

func (b *upBody) Close() error {
	b.finish(false)
	return nil
}

func (b *upBody) finish(eof bool) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	b.mu.Unlock()
	keep := eof && b.keep
	if b.stop != nil && !b.stop() {
		keep = false // the request's context ended: the deadline is set
	}
	if b.bodyDone != nil {
		select {
		case err := <-b.bodyDone:
			keep = keep && err == nil
		default:
			// The origin answered before it took the whole body: the rest
			// cannot be told apart from the next request.
			keep = false
		}
	}
	if !keep {
		_ = b.c.nc.Close()
		return
	}
	b.h.put(b.k, b.c)
}

// upgradedConn is the connection after a 101: bytes both ways, starting
// with what the reader already holds.
type upgradedConn struct{ *upConn }

func (u *upgradedConn) Read(p []byte) (int, error)  { return u.br.Read(p) }
func (u *upgradedConn) Write(p []byte) (int, error) { return u.nc.Write(p) }
func (u *upgradedConn) Close() error                { return u.nc.Close() }

// get takes the most recently used idle connection for k, if any.
func (h *pool1) get(k originKey) *upConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := h.idle[k]
	for len(cs) > 0 {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		cs = cs[:len(cs)-1]
		// A kept connection nothing reads could hold the origin's goodbye,
		// or bytes it sent unasked that would pass for the next answer.
		if time.Since(c.idleSince) < idleUpstream && c.alive() {
			h.idle[k] = cs
			return c
		}
		_ = c.nc.Close()
	}
	delete(h.idle, k)
	return nil
}

// put keeps a connection whose last response was read whole.
func (h *pool1) put(k originKey, c *upConn) {
	c.idleSince = time.Now()
	h.mu.Lock()
	if h.closed || len(h.idle[k]) >= maxIdlePerHost || c.br.Buffered() > 0 {
		h.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	h.idle[k] = append(h.idle[k], c)
	if h.sweep == nil {
		h.sweep = time.AfterFunc(sweepEvery, h.sweepIdle)
	}
	h.mu.Unlock()
}

// sweepIdle closes kept connections the origin has closed and those idle
// too long. Nothing reads a kept connection while it waits, so this looks.
func (h *pool1) sweepIdle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep = nil
	for k, cs := range h.idle {
		kept := cs[:0]
		for _, c := range cs {
			if time.Since(c.idleSince) < idleUpstream && c.alive() {
				kept = append(kept, c)
			} else {
				_ = c.nc.Close()
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
		h.sweep = time.AfterFunc(sweepEvery, h.sweepIdle)
	}
}

// alive reports whether an idle connection is still open and quiet.
func (c *upConn) alive() bool { return c.br.Buffered() == 0 && quiet(c.raw) }

// close closes every idle connection and keeps no more.
func (h *pool1) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, cs := range h.idle {
		for _, c := range cs {
			_ = c.nc.Close()
		}
	}
	clear(h.idle)
	if h.sweep != nil {
		h.sweep.Stop()
	}
}
