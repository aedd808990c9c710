package mitm

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// An HTTP/2 client's request goes to its origin over HTTP/2 when the origin
// offers it in the TLS handshake, on connections kept per originKey, like
// HTTP/1 ones: two tunnels to different addresses never share one, whatever
// their requests' :authority says. An origin that answers the handshake
// with HTTP/1.1 gets the request over HTTP/1.1 on that same connection.
type pool2 struct {
	p  *Proxy
	tr *http2.Transport

	mu      sync.Mutex
	conns   map[originKey][]*h2conn
	dialing map[originKey]chan struct{}
	h1      map[originKey]time.Time // origins that declined HTTP/2, and when
	closed  bool
}

// h2conn is a kept HTTP/2 connection and what every flow on it records.
type h2conn struct {
	cc   *http2.ClientConn
	ip   string
	info *flowstore.TLSInfo
}

// h1Memory is how long an origin that declined HTTP/2 is not offered it again.
const h1Memory = 10 * time.Minute

func newPool2(p *Proxy) *pool2 {
	return &pool2{
		p: p,
		tr: &http2.Transport{
			DisableCompression: true, // bodies stay as the origin encoded them
			IdleConnTimeout:    idleUpstream,
			ReadIdleTimeout:    30 * time.Second, // ping a quiet connection
		},
		conns:   map[originKey][]*h2conn{},
		dialing: map[originKey]chan struct{}{},
		h1:      map[originKey]time.Time{},
	}
}

func (h *pool2) roundTrip(ex *exchange, k originKey, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	cc, c, err := h.conn(ctx, ex, k)
	if err != nil {
		return nil, err
	}
	if cc == nil {
		return ex.send1(req, k, c)
	}
	out := req.Clone(httptrace.WithClientTrace(ctx, ex.trace()))
	out.Host = req.Host
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = nil // Go's client would add its own
	}
	return cc.RoundTrip(out)
}

// conn finds a connection that can take another stream, or makes one. It
// returns an HTTP/1 connection instead when k declines HTTP/2 (c is then a
// new connection, or nil to take a kept one).
func (h *pool2) conn(ctx context.Context, ex *exchange, k originKey) (*http2.ClientConn, *upConn, error) {
	for {
		h.mu.Lock()
		if t, ok := h.h1[k]; ok && time.Since(t) < h1Memory {
			h.mu.Unlock()
			c := h.p.pool1.get(k)
			if c == nil {
				var err error
				if c, _, err = h.p.dialOrigin(ctx, k, ex, false); err != nil {
					return nil, nil, err
				}
			}
			return nil, c, nil
		}
		live := h.conns[k][:0]
		var found *h2conn
		for _, c := range h.conns[k] {
			if c.cc.State().Closed {
				continue
			}
			live = append(live, c)
			if found == nil && c.cc.CanTakeNewRequest() {
				found = c
			}
		}
		clear(h.conns[k][len(live):])
		h.conns[k] = live
		if found != nil {
			h.mu.Unlock()
			ex.gotConn(nil, found.ip, found.info)
			return found.cc, nil, nil
		}
		if wait := h.dialing[k]; wait != nil {
			// Another stream is making the connection: share it.
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.dialing[k] = done
		h.mu.Unlock()
		c, tc, err := h.p.dialOrigin(ctx, k, ex, true)
		h.mu.Lock()
		delete(h.dialing, k)
		close(done)
		if err != nil {
			h.mu.Unlock()
			return nil, nil, err
		}
		if tc == nil {
			h.h1[k] = time.Now()
			h.mu.Unlock()
			return nil, c, nil
		}
		cc, err := h.tr.NewClientConn(tc)
		if err != nil {
			h.mu.Unlock()
			_ = tc.Close()
			return nil, nil, err
		}
		if h.closed {
			h.mu.Unlock()
			_ = cc.Close()
			return nil, nil, context.Canceled
		}
		cs := tc.ConnectionState()
		hc := &h2conn{cc: cc, ip: remoteIP(tc), info: tlsInfo(&cs)}
		h.conns[k] = append(h.conns[k], hc)
		h.mu.Unlock()
		ex.gotConn(tc, hc.ip, hc.info)
		return cc, nil, nil
	}
}

func (h *pool2) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, cs := range h.conns {
		for _, c := range cs {
			_ = c.cc.Close()
		}
	}
	clear(h.conns)
}
