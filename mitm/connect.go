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
type tunnel struct {
	target     string             // CONNECT host:port; every request in the tunnel goes there
	clientAddr string             // the client's ip:port
	clientTLS  *flowstore.TLSInfo // nil when the tunnel carries plain HTTP
	tap        *headTap           // nil for HTTP/2
	conn       net.Conn           // what goproxy reads the tunnel's requests from
}

type reentryKey struct{}

func (p *Proxy) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	if tun, ok := ctx.Req.Context().Value(reentryKey{}).(*tunnel); ok {
		ctx.UserData = tun
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm}, host
	}
	ignored := false
	for _, re := range p.ignore {
		if re.MatchString(host) {
			p.log.Add(flowstore.LevelDebug, "proxy", "", "tunnelling ignored host "+host)
			ignored = true
		}
	}
	return &goproxy.ConnectAction{Action: goproxy.ConnectHijack, Hijack: func(req *http.Request, raw net.Conn, _ *goproxy.ProxyCtx) {
		p.hijack(req, raw, ignored)
	}}, host
}

func (p *Proxy) hijack(req *http.Request, raw net.Conn, ignored bool) {
	// The client connection carries a tunnel from now on. What the client
	// sent right after the CONNECT head (a TLS hello, without waiting for
	// our reply) sits in the HTTP server's buffer, which goproxy drops when
	// it hijacks the connection; the tap saw those bytes, so take them back.
	// Only now, with the connection hijacked, has the server stopped
	// reading: its background read may have taken a byte while the CONNECT
	// handler ran.
	var early []byte
	if t, ok := raw.(*headTap); ok {
		early = t.rest("CONNECT " + req.RequestURI + " " + req.Proto)
		t.disarm()
		raw = t.Conn
	}
	client := p.track(raw)
	target := req.URL.Host
	if target == "" {
		target = req.Host
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(strings.Trim(target, "[]"), "443")
	}
	reply := fmt.Sprintf("HTTP/%d.%d 200 Connection established\r\n\r\n", req.ProtoMajor, req.ProtoMinor)
	if _, err := io.WriteString(client, reply); err != nil {
		_ = client.Close()
		return
	}
	var src io.Reader = client
	if len(early) > 0 {
		src = io.MultiReader(bytes.NewReader(early), client)
	}
	br := bufio.NewReader(src)
	if ignored {
		p.blindTunnel(&peekedConn{Conn: client, r: br}, target, nil, nil)
		return
	}
	conn := &peekedConn{Conn: client, r: br}
	up, banner, err := p.firstMove(client, br, target)
	if up != nil {
		// The server spoke first (SMTP, MySQL...): not ours to read.
		p.blindTunnel(conn, target, up, banner)
		return
	}
	first, _ := br.Peek(1)
	tun := &tunnel{target: target, clientAddr: req.RemoteAddr}
	switch {
	case err != nil:
		_ = client.Close()
	case first[0] == 0x16: // a TLS handshake record
		p.terminateTLS(conn, req, tun)
	case looksLikeHTTP(br):
		h2 := isH2Preface(br)
		var inner net.Conn = conn
		if !h2 {
			// As for decrypted HTTP/1: headers in wire order, and a way to
			// notice the client leaving while a flow is paused.
			tun.tap = newHeadTap(conn)
			inner = tun.tap
		}
		p.reenter(inner, req, tun, h2)
	default:
		p.blindTunnel(conn, target, nil, nil)
	}
}

// firstMoveWait bounds how long a silent new tunnel is kept.
const firstMoveWait = 2 * time.Minute

// firstMove waits for whoever speaks first on a new tunnel. A client that
// is merely slow (a loaded machine starting TLS) must not be taken for a
// protocol where the server speaks first, or it would slip past
// interception: after PeekTimeout of client silence the upstream is dialled
// and listened to as well, and only a server that really speaks first
// makes the tunnel blind. It returns that server's connection and what it
// said; otherwise err tells whether the client failed.
func (p *Proxy) firstMove(client net.Conn, br *bufio.Reader, target string) (up net.Conn, banner []byte, err error) {
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
	dialed, derr := p.dial(p.ctx, "tcp", target)
	if derr == nil {
		go func() {
			buf := make([]byte, 4096)
			n, _ := dialed.Read(buf)
			serverSpoke <- buf[:n]
		}()
	}
	timeout := time.NewTimer(firstMoveWait)
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

func (p *Proxy) terminateTLS(conn net.Conn, req *http.Request, tun *tunnel) {
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
	h2 := cs.NegotiatedProtocol == "h2"
	var inner net.Conn = tc
	if !h2 {
		tun.tap = newHeadTap(tc)
		inner = tun.tap
	}
	p.reenter(inner, req, tun, h2)
}

func clientHandshakeMessage(target, client string, err error) string {
	msg := fmt.Sprintf("TLS handshake with client %s for %s failed: %v", client, target, err)
	s := err.Error()
	if strings.Contains(s, "unknown certificate authority") || strings.Contains(s, "bad certificate") || strings.Contains(s, "certificate unknown") {
		msg += " — the client does not trust interceptor-tui's CA; see `interceptor-tui ca` or http://interceptor.tui/"
	}
	return msg
}

// reenter hands a connection back to goproxy as if it were a fresh CONNECT
// to intercept. goproxy writes its own "200 OK" to the client, which has
// already had ours, so that write is swallowed.
func (p *Proxy) reenter(conn net.Conn, req *http.Request, tun *tunnel, h2 bool) {
	tun.conn = conn
	r := req.Clone(context.WithValue(context.Background(), reentryKey{}, tun))
	w := &hijackWriter{conn: &replyEater{Conn: conn}, header: make(http.Header)}
	if h2 {
		p.h2.ServeHTTP(w, r)
	} else {
		p.h1.ServeHTTP(w, r)
	}
}

// blindTunnel copies bytes both ways without looking at them. up, when
// not nil, is an upstream connection already open, and banner what it
// has said so far.
func (p *Proxy) blindTunnel(client *peekedConn, target string, up net.Conn, banner []byte) {
	if up == nil {
		var err error
		up, err = p.dial(p.ctx, "tcp", target)
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
	go func() {
		wg.Wait()
		_ = up.Close()
		_ = client.Close()
	}()
}

func closeWrite(c net.Conn) {
	if t, ok := c.(*trackedConn); ok {
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
	mu  sync.Mutex
	ate bool
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
