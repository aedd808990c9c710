package mitm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// dialInfo travels in a request's context to the transport's dialers: where
// to connect when it is not the URL's host (a CONNECT to an IP address
// with a name in SNI), which name to present in SNI, and whether the
// connection must speak HTTP/1.1 (a WebSocket handshake).
type dialInfo struct {
	target string
	sni    string
	h1only bool
	ex     *exchange // the flow whose timings a new connection fills in
	fast   bool      // dialed by the fast path (h1Pool), not the Transport
}

type dialInfoKey struct{}

func dialInfoFrom(ctx context.Context) *dialInfo {
	di, _ := ctx.Value(dialInfoKey{}).(*dialInfo)
	return di
}

// withDialTrace hooks the DNS, connect and TLS events of a new connection
// into the flow that asked for it.
func withDialTrace(ctx context.Context, di *dialInfo) context.Context {
	if di == nil || di.ex == nil {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, di.ex.dialTrace())
}

// upstreamConn is an HTTP/1 connection to an origin: a head tap (to read
// response headers in wire order) that remembers its TLS state, since the
// transport cannot see it through the wrapper.
type upstreamConn struct {
	*headTap
	info *flowstore.TLSInfo
	ip   string   // the remote address, for every flow on this connection
	raw  net.Conn // the connection under TLS (or the same), for quiet
}

func (p *Proxy) newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // never loop through HTTP(S)_PROXY, which usually points at us
		DialContext:           p.dialPlain,
		DialTLSContext:        p.dialTLS,
		ForceAttemptHTTP2:     !p.opts.DisableHTTP2,
		DisableCompression:    true, // bodies stay as the origin encoded them
		MaxIdleConns:          2048,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: p.opts.ResponseTimeout,
		TLSHandshakeTimeout:   p.opts.TLSHandshakeTimeout,
	}
}

// dial opens every upstream connection the proxy makes.
func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.opts.Dial != nil {
		return p.opts.Dial(ctx, network, addr)
	}
	d := net.Dialer{Timeout: p.opts.DialTimeout, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

func (p *Proxy) dialPlain(ctx context.Context, network, addr string) (net.Conn, error) {
	di := dialInfoFrom(ctx)
	if di != nil && di.target != "" {
		addr = di.target
	}
	c, err := p.dial(withDialTrace(ctx, di), network, addr)
	if err != nil {
		return nil, err
	}
	return &upstreamConn{headTap: newHeadTap(c), ip: remoteIP(c), raw: c}, nil
}

func (p *Proxy) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	target := addr
	host, _, _ := net.SplitHostPort(addr)
	sni := host
	h1only := p.opts.DisableHTTP2
	di := dialInfoFrom(ctx)
	if di != nil {
		if di.target != "" {
			target = di.target
		}
		if di.sni != "" {
			sni = di.sni
		}
		h1only = h1only || di.h1only
	}
	if !h1only && (di == nil || !di.fast) {
		// The fast path may have made this connection already.
		if c := p.fast.takeHandoff(h1Key{scheme: "https", addr: target, sni: sni}); c != nil {
			return c, nil
		}
	}
	ctx = withDialTrace(ctx, di)
	raw, err := p.dial(ctx, network, target)
	if err != nil {
		return nil, err
	}
	cfg := p.upstreamTLS.Clone()
	cfg.ServerName = sni
	if h1only {
		cfg.NextProtos = []string{"http/1.1"}
	} else {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	hctx := ctx
	if p.opts.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, p.opts.TLSHandshakeTimeout)
		defer cancel()
	}
	tc := tls.Client(raw, cfg)
	err = tc.HandshakeContext(hctx)
	cs := tc.ConnectionState()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(cs, err)
	}
	if err != nil {
		_ = raw.Close()
		return nil, &tlsError{host: sni, err: err}
	}
	if cs.NegotiatedProtocol == "h2" {
		return tc, nil // the transport's HTTP/2 code needs the *tls.Conn itself
	}
	return &upstreamConn{headTap: newHeadTap(tc), info: tlsInfo(&cs), ip: remoteIP(raw), raw: raw}, nil
}

// tlsError marks a failed handshake with the origin, so the message can say
// so and suggest the way out.
type tlsError struct {
	host string
	err  error
}

func (e *tlsError) Error() string { return "TLS handshake with " + e.host + ": " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// describeUpstreamError turns a round-trip failure into the status and the
// sentence the client and the flow get.
func describeUpstreamError(err error, addr string) (int, string) {
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		tErr     *tlsError
		netErr   net.Error
		recordHd tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s: certificate rejected: %v (pass --ssl-insecure to skip verification, or --upstream-ca FILE to trust its CA)", addr, err)
	case errors.As(err, &recordHd):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s does not speak TLS: %v", addr, err)
	case errors.As(err, &tErr):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s: %v", addr, err)
	case errors.As(err, &dnsErr):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s: DNS lookup failed: %v", addr, dnsErr)
	case errors.Is(err, syscall.ECONNREFUSED):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s: connection refused", addr)
	case errors.Is(err, syscall.ECONNRESET):
		return http.StatusBadGateway, fmt.Sprintf("upstream %s: connection reset", addr)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusGatewayTimeout, fmt.Sprintf("upstream %s: timed out: %v", addr, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "malformed HTTP") || strings.Contains(msg, "malformed MIME") {
		return http.StatusBadGateway, fmt.Sprintf("upstream %s did not answer with HTTP: %s", addr, msg)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return http.StatusBadGateway, fmt.Sprintf("upstream %s closed the connection without a response", addr)
	}
	return http.StatusBadGateway, fmt.Sprintf("upstream %s: %s", addr, msg)
}
