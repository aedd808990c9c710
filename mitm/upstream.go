package mitm

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"syscall"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// originKey names the upstream connections requests may share. A
// connection is reused only for the address it was dialled to and the name
// its TLS handshake presented (the proxy's TLS settings are the same for
// all): two tunnels to different addresses that carry the same Host or SNI
// never share one, nor do two names on one address.
type originKey struct {
	scheme string // "http" or "https"
	addr   string // host:port dialled
	sni    string // name sent in the TLS handshake ("" for plain HTTP)
}

// upConn is one connection to an origin, speaking HTTP/1.
type upConn struct {
	nc        net.Conn // what is read and written (TLS or TCP)
	raw       net.Conn // the TCP connection under it, for quiet
	info      *flowstore.TLSInfo
	ip        string
	br        *bufio.Reader
	bw        *bufio.Writer
	lim       limitedConn // under br: bounds a response head
	idleSince time.Time
	scratch   flowstore.Headers // lines of a head as it is read
}

func newUpConn(nc, raw net.Conn, info *flowstore.TLSInfo) *upConn {
	c := &upConn{nc: nc, raw: raw, info: info, ip: remoteIP(raw)}
	c.lim = limitedConn{r: nc, n: math.MaxInt64}
	c.br = bufio.NewReaderSize(&c.lim, 4096)
	c.bw = bufio.NewWriterSize(nc, 4096)
	return c
}

// dial opens every upstream connection the proxy makes.
func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.opts.Dial != nil {
		return p.opts.Dial(ctx, network, addr)
	}
	d := net.Dialer{Timeout: p.opts.DialTimeout, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// dialOrigin connects to k for ex (whose timings the dial fills in),
// offering HTTP/2 in the TLS handshake only when h2 is set. A connection
// on which the origin chose HTTP/2 comes back as tc, with no upConn.
func (p *Proxy) dialOrigin(ctx context.Context, k originKey, ex *exchange, h2 bool) (c *upConn, tc *tls.Conn, err error) {
	if ex != nil {
		ctx = httptrace.WithClientTrace(ctx, ex.dialTrace())
	}
	raw, err := p.dial(ctx, "tcp", k.addr)
	if err != nil {
		return nil, nil, err
	}
	if k.scheme != "https" {
		return newUpConn(raw, raw, nil), nil, nil
	}
	cfg := p.upstreamTLS.Clone()
	cfg.ServerName = k.sni
	cfg.NextProtos = []string{"http/1.1"}
	if h2 && !p.opts.DisableHTTP2 {
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
	t := tls.Client(raw, cfg)
	err = t.HandshakeContext(hctx)
	cs := t.ConnectionState()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(cs, err)
	}
	if err != nil {
		_ = raw.Close()
		return nil, nil, &tlsError{host: k.sni, err: err}
	}
	if cs.NegotiatedProtocol == "h2" {
		return nil, t, nil
	}
	return newUpConn(t, raw, tlsInfo(&cs)), nil, nil
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
