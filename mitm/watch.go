package mitm

// Watching an HTTP/1 client while nothing reads its connection (a flow held
// at a breakpoint, a slow answer): a client that hangs up ends its flow.

import (
	"net"
	"sync"
	"time"
)

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
