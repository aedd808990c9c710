package mitm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A CONNECT tunnel is taken over from goproxy (ConnectHijack) so that we
// decide what it carries before anything is parsed: TLS is terminated here
// with a certificate minted for the client's SNI (goproxy would use the
// CONNECT host, which breaks a CONNECT to an IP address); plain HTTP and
// the decrypted stream go back into goproxy's MITM loop; anything else
// (SSH, a database, a server that speaks first) is tunnelled untouched.

// tunnel is what the requests inside one CONNECT share.
// A reverse listener's connection is a tunnel too: to its origin, with the
// origin's scheme and name.
type tunnel struct {
	target     string             // host:port every request in the tunnel goes to
	clientAddr string             // the client's ip:port
	clientTLS  *flowstore.TLSInfo // nil when the tunnel carries plain HTTP
	conn       net.Conn           // what goproxy reads an HTTP/2 tunnel's requests from
	mode       *Mode              // the listener's
	sni        string             // the name for the origin's TLS handshake
	scheme     string             // reverse: the origin's scheme, whatever the client spoke
	authority  string             // reverse: the origin's host[:port], for the URL and Host
}

type reentryKey struct{}

// handleConnect takes the tunnels handed back to goproxy to serve HTTP/2.
func (p *Proxy) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	tun, _ := ctx.Req.Context().Value(reentryKey{}).(*tunnel)
	if tun == nil {
		return goproxy.RejectConnect, host // only our own hand-overs come here
	}
	ctx.UserData = tun
	return &goproxy.ConnectAction{Action: goproxy.ConnectMitm}, host
}

// intercepts reports whether a tunnel to target is to be read:
// --ignore-hosts names tunnels passed through untouched; --allow-hosts,
// when given, the only ones read.
func (p *Proxy) intercepts(target string) bool {
	for _, re := range p.ignore {
		if re.MatchString(target) {
			p.log.Add(flowstore.LevelDebug, "proxy", "", "tunnelling ignored host "+target)
			return false
		}
	}
	if len(p.allow) == 0 {
		return true
	}
	for _, re := range p.allow {
		if re.MatchString(target) {
			return true
		}
	}
	p.log.Add(flowstore.LevelDebug, "proxy", "", "tunnelling host not in --allow-hosts "+target)
	return false
}

// connect serves a CONNECT request: the connection carries a tunnel from
// now on. What the client sent right after the CONNECT head (a TLS hello,
// without waiting for the reply) is already in the reader.
func (cc *conn1) connect(h *head) {
	p := cc.p
	target := h.b
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(strings.Trim(target, "[]"), "443")
	}
	if host, port := splitAuthority(target, 0); host == "" || port <= 0 || port > 65535 {
		cc.refuse(badRequest("bad CONNECT target %q", h.b))
		return
	}
	cc.bw.WriteString(h.c + " 200 Connection established\r\n\r\n")
	if err := cc.bw.Flush(); err != nil {
		return
	}
	p.tunnelTo(&peekedConn{Conn: cc.nc, r: cc.br}, target, cc.remote, cc.mode, h.c)
}

// tunnelTo serves a tunnel to target that a client has opened (CONNECT,
// SOCKS5, a transparent redirect): TLS is intercepted, plain HTTP read,
// anything else (or a host not to intercept) passed through untouched.
// conn reads what the client sent after opening it, first.
func (p *Proxy) tunnelTo(conn *peekedConn, target, remote string, m *Mode, proto string) {
	hd := &head{a: "CONNECT", b: target, c: proto}
	if !p.intercepts(target) {
		p.blindTunnel(conn, target, nil, nil, m)
		return
	}
	up, banner, err := p.firstMove(conn.Conn, conn.r, target, m)
	if up != nil {
		// The server spoke first (SMTP, MySQL...): not ours to read.
		p.blindTunnel(conn, target, up, banner, m)
		return
	}
	if err != nil {
		return
	}
	first, _ := conn.r.Peek(1)
	tun := &tunnel{target: target, clientAddr: remote, mode: m}
	switch {
	case first[0] == 0x16: // a TLS handshake record
		p.terminateTLS(conn, hd, tun)
	case looksLikeHTTP(conn.r):
		tun.sni, _ = splitAuthority(target, 0)
		if isH2Preface(conn.r) {
			p.reenter(conn, hd, tun)
			return
		}
		newConn1(p, conn, tun, remote).serve()
	default:
		p.blindTunnel(conn, target, nil, nil, m)
	}
}

// firstMove waits for whoever speaks first on a new tunnel. A client that
// is merely slow (a loaded machine starting TLS) must not be taken for a
// protocol where the server speaks first, or it would slip past
// interception: after PeekTimeout of client silence the upstream is dialled
// and listened to as well, and only a server that really speaks first
// makes the tunnel blind. It returns that server's connection and what it
// said; otherwise err tells whether the client failed.
func (p *Proxy) firstMove(client net.Conn, br *bufio.Reader, target string, m *Mode) (up net.Conn, banner []byte, err error) {
	_ = client.SetReadDeadline(time.Now().Add(p.opts.PeekTimeout))
	_, err = br.Peek(1)
	_ = client.SetReadDeadline(time.Time{})
	var ne net.Error
	if err == nil || !(errors.As(err, &ne) && ne.Timeout()) {
		return nil, nil, err
	}
	clientMoved := make(chan error, 1)
	go func() { _, err := br.Peek(1); clientMoved <- err }()
	stopClient := func() error {
		_ = client.SetReadDeadline(time.Now())
		err := <-clientMoved
		_ = client.SetReadDeadline(time.Time{})
		return err
	}
	serverSpoke := make(chan []byte, 1)
	dialed, derr := p.dialTunnel(p.ctx, target, m)
	if derr == nil {
		go func() {
			buf := make([]byte, 4096)
			n, _ := dialed.Read(buf)
			serverSpoke <- buf[:n]
		}()
	}
	timeout := time.NewTimer(p.opts.IdleTimeout)
	defer timeout.Stop()
	for {
		select {
		case err := <-clientMoved:
			if dialed != nil {
				_ = dialed.Close()
			}
			return nil, nil, err
		case b := <-serverSpoke:
			if len(b) == 0 { // the server hung up or failed: the client decides
				_ = dialed.Close()
				dialed, serverSpoke = nil, nil
				continue
			}
			if err := stopClient(); err == nil {
				// The client spoke at the same moment: it goes first.
				_ = dialed.Close()
				return nil, nil, nil
			}
			return dialed, b, nil
		case <-timeout.C:
			err := stopClient()
			if dialed != nil {
				_ = dialed.Close()
			}
			if err == nil {
				return nil, nil, nil
			}
			return nil, nil, errors.New("the client sent nothing")
		case <-p.ctx.Done():
			stopClient()
			if dialed != nil {
				_ = dialed.Close()
			}
			return nil, nil, p.ctx.Err()
		}
	}
}

// looksLikeHTTP checks what the client sent first for "TOKEN " (a method
// and a space), which rules out SSH's "SSH-2.0-" and binary protocols.
func looksLikeHTTP(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	if len(b) > 16 {
		b = b[:16]
	}
	for i, c := range b {
		switch {
		case c == ' ':
			return i > 0
		case c < 'A' || c > 'Z':
			return false
		}
	}
	return len(b) > 0 // a method still arriving
}

func isH2Preface(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	return bytes.HasPrefix(b, []byte("PRI * HTTP/2.0"))
}

func (p *Proxy) terminateTLS(conn net.Conn, h *head, tun *tunnel) {
	host, _, _ := net.SplitHostPort(tun.target)
	cfg := &tls.Config{
		GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hi.ServerName
			if name == "" {
				name = host
			}
			return p.leaves.Get(name)
		},
		NextProtos: []string{"http/1.1"},
	}
	if !p.opts.DisableHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	// A client that offers neither (curl -0 offers http/1.0 alone) is served
	// too: Go's TLS would refuse the handshake for want of a protocol in common.
	cfg.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		if len(hi.SupportedProtos) == 0 || slices.ContainsFunc(hi.SupportedProtos, func(s string) bool { return slices.Contains(cfg.NextProtos, s) }) {
			return nil, nil
		}
		c := cfg.Clone()
		c.GetConfigForClient = nil
		c.NextProtos = nil
		if slices.Contains(hi.SupportedProtos, "http/1.0") {
			c.NextProtos = []string{"http/1.0"}
		}
		return c, nil
	}
	tc := tls.Server(conn, cfg)
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.TLSHandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		p.log.Add(flowstore.LevelWarn, "proxy", "", clientHandshakeMessage(tun.target, tun.clientAddr, err))
		_ = tc.Close()
		return
	}
	cs := tc.ConnectionState()
	tun.clientTLS = &flowstore.TLSInfo{
		Version: tls.VersionName(cs.Version),
		SNI:     cs.ServerName,
		ALPN:    cs.NegotiatedProtocol,
		Cipher:  cipherName(cs.CipherSuite),
	}
	if tun.sni == "" {
		// The name the client gave its handshake, or else the tunnel's own
		// host: never a Host header, which anyone can write.
		tun.sni = cs.ServerName
		if tun.sni == "" {
			tun.sni = host
		}
	}
	if cs.NegotiatedProtocol == "h2" {
		p.reenter(tc, h, tun)
		return
	}
	newConn1(p, tc, tun, tun.clientAddr).serve()
}

func clientHandshakeMessage(target, client string, err error) string {
	msg := fmt.Sprintf("TLS handshake with client %s for %s failed: %v", client, target, err)
	s := err.Error()
	if strings.Contains(s, "unknown certificate authority") || strings.Contains(s, "bad certificate") || strings.Contains(s, "certificate unknown") {
		msg += " — the client does not trust interceptor-tui's CA; see `interceptor-tui ca` or http://interceptor.tui/"
	}
	return msg
}

// reenter hands an HTTP/2 tunnel to goproxy as if it were a fresh
// CONNECT to intercept. goproxy writes its own "200 OK" to the client,
// which has already had ours, so that write is swallowed.
func (p *Proxy) reenter(conn net.Conn, h *head, tun *tunnel) {
	tun.conn = conn
	_, minor, _ := parseVersion(h.c)
	r := (&http.Request{
		Method: http.MethodConnect, URL: &url.URL{Host: tun.target}, Host: tun.target, RequestURI: h.b,
		Proto: h.c, ProtoMajor: 1, ProtoMinor: minor, Header: http.Header{}, RemoteAddr: tun.clientAddr,
	}).WithContext(context.WithValue(context.Background(), reentryKey{}, tun))
	eater := &replyEater{Conn: conn, closed: make(chan struct{})}
	w := &hijackWriter{conn: eater, header: make(http.Header)}
	p.h2.ServeHTTP(w, r)
	// goproxy serves the tunnel on a goroutine of its own, and closes the
	// connection when it is done: the tunnel is the caller's until then.
	select {
	case <-eater.closed:
	case <-p.ctx.Done():
	}
}

// blindTunnel copies bytes both ways without looking at them. up, when
// not nil, is an upstream connection already open, and banner what it
// has said so far.
func (p *Proxy) blindTunnel(client *peekedConn, target string, up net.Conn, banner []byte, m *Mode) {
	if up == nil {
		var err error
		up, err = p.dialTunnel(p.ctx, target, m)
		if err != nil {
			p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("tunnel to %s: %v", target, err))
			_ = client.Close()
			return
		}
	}
	if len(banner) > 0 {
		if _, err := client.Conn.Write(banner); err != nil {
			_ = up.Close()
			_ = client.Close()
			return
		}
	}
	p.log.Add(flowstore.LevelInfo, "proxy", "", "tunnelling non-HTTP traffic to "+target)
	var wg sync.WaitGroup
	wg.Add(2)
	// A clean end of one direction is passed on as a half-close; a failed
	// one (a reset, the proxy stopping) ends both, or the other direction
	// could wait for ever on a peer that does not hang up.
	go func() {
		defer wg.Done()
		if _, err := io.Copy(up, client); err != nil {
			_ = up.Close()
			_ = client.Close()
			return
		}
		closeWrite(up)
	}()
	go func() {
		defer wg.Done()
		if _, err := io.Copy(client.Conn, up); err != nil {
			_ = up.Close()
			_ = client.Close()
			return
		}
		closeWrite(client.Conn)
	}()
	wg.Wait()
	_ = up.Close()
	_ = client.Close()
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*trackedConn); ok {
		c = t.Conn
	}
	if t, ok := c.(*clientConn); ok {
		c = t.Conn
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// peekedConn reads through the buffered reader that peeked at the stream.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// replyEater drops goproxy's CONNECT reply: the client already has ours.
type replyEater struct {
	net.Conn
	mu     sync.Mutex
	ate    bool
	once   sync.Once
	closed chan struct{}
}

func (c *replyEater) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (c *replyEater) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.ate {
		c.ate = true
		c.mu.Unlock()
		if bytes.HasPrefix(b, []byte("HTTP/")) && bytes.HasSuffix(b, []byte("\r\n\r\n")) {
			return len(b), nil
		}
		return c.Conn.Write(b)
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// hijackWriter is the http.ResponseWriter goproxy gets for a re-entered
// tunnel: all it does is hand over the connection.
type hijackWriter struct {
	conn   net.Conn
	header http.Header
}

func (w *hijackWriter) Header() http.Header         { return w.header }
func (w *hijackWriter) Write(b []byte) (int, error) { return w.conn.Write(b) }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	// goproxy ignores the buffers; 8 KiB per tunnel saved.
	return w.conn, nil, nil
}
