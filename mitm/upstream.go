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
	"net/url"
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
	addr   string // host:port dialled (through via, when set)
	sni    string // name sent in the TLS handshake ("" for plain HTTP)
	via    string // the upstream proxy's URL, in upstream mode
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
	var raw net.Conn
	switch {
	case k.via != "" && k.scheme == "http":
		// The upstream proxy takes plain requests itself.
		raw, err = p.dialProxy(ctx, k.via)
	case k.via != "":
		raw, err = p.connectVia(ctx, k.via, k.addr)
	default:
		raw, err = p.dial(ctx, "tcp", k.addr)
	}
	if err != nil {
		return nil, nil, err
	}
	if k.scheme != "https" {
		return newUpConn(raw, raw, nil), nil, nil
	}
	cfg := p.upstreamTLS.Clone()
	cfg.ServerName = k.sni
	cfg.NextProtos = []string{"http/1.1"}
	if cc := p.clientCerts; cc != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cc.forHost(k.sni) }
	}
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

// upstreamFor is the proxy a request to k goes through: the mode's
// upstream proxy, or (upstream:env) the one the environment names for it;
// nil to go direct.
func (p *Proxy) upstreamFor(m *Mode, k originKey) *url.URL {
	if m == nil || m.Kind != ModeUpstream {
		return nil
	}
	if !m.Env {
		return m.URL
	}
	u, err := p.envProxy(&url.URL{Scheme: k.scheme, Host: k.addr})
	if err != nil || u == nil {
		return nil
	}
	return u
}

// dialTunnel opens a raw tunnel to target: through the mode's upstream
// proxy (CONNECT) in upstream mode, else directly.
func (p *Proxy) dialTunnel(ctx context.Context, target string, m *Mode) (net.Conn, error) {
	if via := p.upstreamFor(m, originKey{scheme: "https", addr: target}); via != nil {
		return p.connectVia(ctx, via.String(), target)
	}
	return p.dial(ctx, "tcp", target)
}

// dialProxy connects to an upstream proxy (over TLS for https://).
func (p *Proxy) dialProxy(ctx context.Context, proxy string) (net.Conn, error) {
	u, err := url.Parse(proxy)
	if err != nil {
		return nil, err
	}
	for _, ln := range p.listeners() {
		if ln.Addr().String() == u.Host {
			return nil, fmt.Errorf("the upstream proxy %s is this proxy itself", u.Host)
		}
	}
	c, err := p.dial(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("upstream proxy %s: %w", u.Host, err)
	}
	if u.Scheme != "https" {
		return c, nil
	}
	cfg := p.upstreamTLS.Clone()
	cfg.ServerName = u.Hostname()
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, &tlsError{host: "upstream proxy " + u.Hostname(), err: err}
	}
	return tc, nil
}

// connectVia opens a tunnel to target through an upstream proxy.
func (p *Proxy) connectVia(ctx context.Context, proxy, target string) (net.Conn, error) {
	c, err := p.dialProxy(ctx, proxy)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	} else {
		_ = c.SetDeadline(time.Now().Add(p.opts.DialTimeout))
	}
	bw := bufio.NewWriter(c)
	bw.WriteString("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n")
	if p.upstreamAuth != "" {
		bw.WriteString("Proxy-Authorization: " + p.upstreamAuth + "\r\n")
	}
	bw.WriteString("\r\n")
	br := bufio.NewReader(c)
	var hd *head
	if err = bw.Flush(); err == nil {
		hd, err = readHead(br, headLimits{bytes: 64 << 10, lines: 1000}, false, nil)
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("upstream proxy %s: CONNECT %s: %w", proxyHost(proxy), target, err)
	}
	if hd.b[0] != '2' {
		_ = c.Close()
		return nil, fmt.Errorf("upstream proxy %s refused CONNECT %s: %s %s", proxyHost(proxy), target, hd.b, hd.c)
	}
	_ = c.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &peekedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

func proxyHost(proxy string) string {
	if u, err := url.Parse(proxy); err == nil {
		return u.Host
	}
	return proxy
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
