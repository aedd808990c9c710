package mitm

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// errClosedEarly means the reader of a body closed it before its end: the
// client went away, or the transport stopped sending a request body because
// the server had already answered.
var errClosedEarly = errors.New("closed before the end of the body")

// bodyCapture passes a body through while keeping a copy of its first limit
// bytes. done is called exactly once: with nil at the end of the body, with
// the read error, or with errClosedEarly.
type bodyCapture struct {
	rc    io.ReadCloser
	limit int64
	kept  []byte
	n     int64
	done  func(flowstore.Body, error)
	once  sync.Once
	mu    sync.Mutex // Read and Close may race when a client hangs up
}

// newBodyCapture keeps up to limit bytes; sizeHint is the body's length
// when known (Content-Length), -1 otherwise.
func newBodyCapture(rc io.ReadCloser, limit, sizeHint int64, done func(flowstore.Body, error)) *bodyCapture {
	c := &bodyCapture{rc: rc, limit: limit, done: done}
	if sizeHint > 0 {
		c.kept = make([]byte, 0, min(sizeHint, limit))
	}
	return c
}

func (c *bodyCapture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.n += int64(n)
		if room := c.limit - int64(len(c.kept)); room > 0 {
			c.kept = appendCapped(c.kept, p[:min(int64(n), room)], c.limit)
		}
		c.mu.Unlock()
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			c.finish(nil)
		} else {
			c.finish(err)
		}
	}
	return n, err
}

func (c *bodyCapture) Close() error {
	err := c.rc.Close()
	c.finish(errClosedEarly)
	return err
}

func (c *bodyCapture) finish(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		kept := c.kept
		if cap(kept)-len(kept) > len(kept)/8+64 {
			// The flow keeps this for as long as it lives: no slack.
			kept = bytes.Clone(kept)
		}
		b := flowstore.Body{Data: kept, Size: c.n, Truncated: c.n > int64(len(kept))}
		c.kept = nil
		c.mu.Unlock()
		c.done(b, err)
	})
}

// appendCapped appends, growing the slice geometrically but never past max.
func appendCapped(dst, src []byte, max int64) []byte {
	need := len(dst) + len(src)
	if need > cap(dst) {
		newCap := 2 * cap(dst)
		if newCap < 512 {
			newCap = 512
		}
		if newCap < need {
			newCap = need
		}
		if int64(newCap) > max {
			newCap = int(max)
		}
		grown := make([]byte, len(dst), newCap)
		copy(grown, dst)
		dst = grown
	}
	return append(dst, src...)
}

// upgradedBody stands in for the body of a 101 Switching Protocols
// response, which goproxy uses as the raw upstream connection: it must stay
// an io.ReadWriter. It counts bytes each way and reports once when closed.
type upgradedBody struct {
	rwc      io.ReadWriteCloser
	in, out  atomic.Int64 // from upstream, to upstream
	once     sync.Once
	onClosed func(fromUpstream, toUpstream int64)
}

func (u *upgradedBody) Read(p []byte) (int, error) {
	n, err := u.rwc.Read(p)
	u.in.Add(int64(n))
	return n, err
}

func (u *upgradedBody) Write(p []byte) (int, error) {
	n, err := u.rwc.Write(p)
	u.out.Add(int64(n))
	return n, err
}

func (u *upgradedBody) Close() error {
	err := u.rwc.Close()
	u.once.Do(func() { u.onClosed(u.in.Load(), u.out.Load()) })
	return err
}
