package mitm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Modes are how a listener takes its clients, spelled as mitmproxy's --mode
// is: every listener feeds the same exchange, store, hooks and rules, and a
// flow records which one it came through.

// ModeKind is what a listener expects of its clients.
type ModeKind uint8

const (
	// ModeRegular: an explicit HTTP proxy (absolute-form requests, CONNECT).
	ModeRegular ModeKind = iota
	// ModeUpstream: as regular, and every request and tunnel goes on
	// through another HTTP proxy.
	ModeUpstream
	// ModeReverse: every request goes to one origin; clients talk to the
	// listener as if it were that origin (plain or TLS).
	ModeReverse
	// ModeSOCKS5: a SOCKS5 server (RFC 1928); each connection is a tunnel,
	// served as a CONNECT tunnel is.
	ModeSOCKS5
	// ModeTransparent: connections redirected to the listener by the
	// firewall (Linux: iptables REDIRECT); the original destination is the
	// tunnel's target.
	ModeTransparent
)

var modeNames = [...]string{ModeRegular: "regular", ModeUpstream: "upstream", ModeReverse: "reverse", ModeSOCKS5: "socks5", ModeTransparent: "transparent"}

// Mode is one listener's mode.
type Mode struct {
	Kind ModeKind
	// URL is the upstream proxy (upstream) or the origin (reverse).
	URL *url.URL
	// Env (upstream:env) takes the upstream proxy from HTTPS_PROXY,
	// HTTP_PROXY and NO_PROXY, request by request.
	Env bool
	// Listen is the address after "@" ("8081", ":8081", "127.0.0.1:8081"),
	// or "" for the proxy's default listen address.
	Listen string
	spec   string
}

// String is the mode as given (the flow's Client.Mode).
func (m *Mode) String() string {
	if m == nil {
		return "regular"
	}
	if m.spec != "" {
		return m.spec
	}
	return modeNames[m.Kind]
}

// ParseMode reads a --mode value: regular, upstream:URL, upstream:env,
// reverse:URL, socks5 or transparent, each with an optional @ADDR to listen
// on. A URL's credentials belong in --upstream-auth: the last "@" followed
// by a port or host:port is the listen address.
func ParseMode(spec string) (Mode, error) {
	m := Mode{spec: spec}
	body := spec
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		if addr := spec[i+1:]; isListenAddr(addr) {
			body, m.Listen = spec[:i], addr
		}
	}
	name, arg, hasArg := strings.Cut(body, ":")
	switch name {
	case "regular", "socks5", "transparent":
		if hasArg {
			return m, fmt.Errorf("--mode %s takes no argument (got %q)", name, arg)
		}
		m.Kind = map[string]ModeKind{"regular": ModeRegular, "socks5": ModeSOCKS5, "transparent": ModeTransparent}[name]
		return m, nil
	case "upstream", "reverse":
		if !hasArg || arg == "" {
			return m, fmt.Errorf("--mode %s needs a URL: %s:http://host:port", name, name)
		}
		m.Kind = ModeUpstream
		if name == "reverse" {
			m.Kind = ModeReverse
		}
		if m.Kind == ModeUpstream && arg == "env" {
			m.Env = true
			return m, nil
		}
		u, err := url.Parse(arg)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			if m.Listen != "" && strings.Contains(arg, "://") {
				// "http://user:pass@proxy:3128": as in mitmproxy, what follows
				// the last @ is where to listen.
				return m, fmt.Errorf("--mode %s: %q is not an http:// or https:// URL (credentials go in --upstream-auth user:pass; what follows the last @ is the address to listen on)", name, arg)
			}
			return m, fmt.Errorf("--mode %s: %q is not an http:// or https:// URL", name, arg)
		}
		if u.User != nil {
			return m, fmt.Errorf("--mode %s: put credentials in --upstream-auth user:pass, not in the URL", name)
		}
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(flowstore.DefaultPort(u.Scheme)))
		}
		m.URL = u
		return m, nil
	}
	return m, fmt.Errorf("unknown --mode %q (want regular, upstream:URL, upstream:env, reverse:URL, socks5 or transparent)", spec)
}

func isListenAddr(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = "", s
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535 && !strings.ContainsAny(host, "/@")
}

// ListenAddress is where a mode listens: its own @ADDR (a bare port on
// defaultHost), else def.
func (m *Mode) ListenAddress(def string) string {
	if m.Listen == "" {
		return def
	}
	if _, _, err := net.SplitHostPort(m.Listen); err == nil {
		if strings.HasPrefix(m.Listen, ":") {
			host, _, _ := net.SplitHostPort(def)
			return net.JoinHostPort(host, strings.TrimPrefix(m.Listen, ":"))
		}
		return m.Listen
	}
	host, _, _ := net.SplitHostPort(def)
	return net.JoinHostPort(host, m.Listen)
}

// ServeMode accepts clients on ln in mode m until ctx is cancelled or Close
// is called. It returns nil on a clean stop.
func (p *Proxy) ServeMode(ctx context.Context, ln net.Listener, m Mode) error {
	mode := &m
	if m.Kind == ModeReverse && m.URL == nil {
		return errors.New("mitm: reverse mode needs a URL")
	}
	p.mu.Lock()
	if p.conns == nil {
		p.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	if !containsListener(p.lns, ln) {
		p.lns = append(p.lns, ln)
	}
	p.modes = append(p.modes, mode)
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, p.Close)
	defer stop()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if delay = acceptDelay(err, delay); delay > 0 {
				p.log.Add(flowstore.LevelWarn, "proxy", "", fmt.Sprintf("accept: %v; retrying in %v", err, delay))
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		tc := p.track(c)
		if tc == nil {
			_ = c.Close()
			return nil
		}
		go p.serveConn(tc, c.RemoteAddr().String(), mode)
	}
}

func containsListener(lns []net.Listener, ln net.Listener) bool {
	for _, l := range lns {
		if l == ln {
			return true
		}
	}
	return false
}

// modeNamed is the served mode spelled name, if any.
func (p *Proxy) modeNamed(name string) *Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.modes {
		if m.String() == name {
			return m
		}
	}
	return nil
}

// serveConn serves one accepted client connection as its listener's mode says.
func (p *Proxy) serveConn(c *trackedConn, remote string, m *Mode) {
	switch m.Kind {
	case ModeSOCKS5:
		p.serveSOCKS5(c, remote, m)
	case ModeTransparent:
		p.serveTransparent(c, remote, m)
	case ModeReverse:
		p.serveReverse(c, remote, m)
	default:
		cc := newConn1(p, c, nil, remote)
		cc.mode = m
		cc.serve()
	}
}

// serveReverse serves a client of a reverse listener: TLS when its first
// byte says so (with a leaf for the name it asks for), plain HTTP
// otherwise; every request goes to the mode's origin.
func (p *Proxy) serveReverse(c *trackedConn, remote string, m *Mode) {
	defer c.Close()
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(p.opts.HeaderTimeout))
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		return
	}
	origin := m.URL
	tun := &tunnel{target: origin.Host, clientAddr: remote, mode: m, scheme: origin.Scheme, sni: origin.Hostname(), authority: origin.Host}
	if origin.Port() == strconv.Itoa(flowstore.DefaultPort(origin.Scheme)) {
		tun.authority = origin.Hostname()
	}
	conn := &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 {
		p.terminateTLS(conn, &head{a: "CONNECT", b: origin.Host, c: "HTTP/1.1"}, tun)
		return
	}
	if isH2Preface(br) {
		p.reenter(conn, &head{a: "CONNECT", b: origin.Host, c: "HTTP/1.1"}, tun)
		return
	}
	newConn1(p, conn, tun, remote).serve()
}
