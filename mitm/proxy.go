package mitm

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/elazarl/goproxy"
	"golang.org/x/net/http/httpproxy"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// Options configure a Proxy. Zero values mean the documented defaults.
type Options struct {
	Store *flowstore.Store
	Log   *flowstore.EventLog
	CA    *certs.CA

	// BodyLimit is how much of each body a flow keeps (default 8 MiB).
	// Bodies stream through whatever their size.
	BodyLimit int64
	// IgnoreHosts are regular expressions matched against the CONNECT
	// host:port; matching tunnels pass through untouched.
	IgnoreHosts []string
	// AllowHosts, when given, are the only hosts intercepted (the same
	// match); every other tunnel passes through untouched.
	AllowHosts []string
	// UpstreamAuth, "user:pass", is sent as Basic Proxy-Authorization to
	// the upstream proxy in upstream mode.
	UpstreamAuth string
	// KeepHostHeader keeps a reverse listener's clients' Host header
	// instead of naming the origin in it.
	KeepHostHeader bool
	// ClientCerts is a PEM file (certificate and key) to present to origins
	// that ask for a client certificate, or a directory of HOST.pem files.
	ClientCerts string
	// UpstreamRoots are trusted for origins besides the system roots.
	UpstreamRoots []*x509.Certificate
	// SSLInsecure turns off verification of origin certificates.
	SSLInsecure bool
	// DisableHTTP2 keeps both sides on HTTP/1.1.
	DisableHTTP2 bool

	DialTimeout         time.Duration // default 30s
	TLSHandshakeTimeout time.Duration // default 15s, with clients and origins
	ResponseTimeout     time.Duration // wait for response headers; default none (long polls)
	// LocalPages answers requests made through the proxy to the host
	// LocalHost ("interceptor.tui") itself: they never go upstream and are
	// not recorded as flows. Nil answers 404.
	LocalPages http.Handler

	// ProxyAuth, "user:pass", makes clients authenticate with Basic proxy
	// authentication (407 otherwise). Needed when listening beyond loopback.
	ProxyAuth string
	// HeaderTimeout bounds how long a client may take to send a request
	// head once it has begun one (slow-loris), and to begin the first on a
	// new connection or tunnel; default 30s.
	HeaderTimeout time.Duration
	// IdleTimeout bounds how long a kept-alive client connection, or a
	// new tunnel, may wait before its next request; default 2m.
	IdleTimeout time.Duration
	// MaxHeadBytes and MaxHeaderLines bound a request head, on the plain
	// listener and inside tunnels alike (431 past them); default 64 KiB
	// and 500 lines.
	MaxHeadBytes   int
	MaxHeaderLines int

	// Dial, when set, opens upstream connections instead of a net.Dialer
	// (tests keep every connection on loopback with it).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// PeekTimeout is how long a new CONNECT tunnel waits for the client's
	// first byte before it also listens to the server: if the server then
	// speaks first (SMTP, MySQL), the tunnel is passed through untouched.
	PeekTimeout time.Duration // default 500ms
}

// LocalHost is the name the proxy answers for itself, for example to
// serve the CA certificate to a device that does not trust it yet.
const LocalHost = "interceptor.tui"

// Proxy is the capture engine: an HTTP(S) proxy that records every exchange
// as a flow in the store.
type Proxy struct {
	opts   Options
	store  *flowstore.Store
	log    *flowstore.EventLog
	leaves *certs.Leaves
	ignore []*regexp.Regexp

	// HTTP/1 is the engine's own on both sides (client1.go, origin1.go);
	// goproxy serves HTTP/2 clients, in tunnels handed to it (reenter).
	h2          *goproxy.ProxyHttpServer
	pool1       *pool1 // HTTP/1 connections to origins
	pool2       *pool2 // HTTP/2 connections to origins
	upstreamTLS *tls.Config

	allow        []*regexp.Regexp
	upstreamAuth string // the Proxy-Authorization value for upstream proxies
	envProxy     func(*url.URL) (*url.URL, error)
	clientCerts  *clientCerts

	hooks        hookSet
	ctl          atomic.Pointer[controls]
	rulesMu      sync.Mutex    // serialises changes of ctl
	stores       *rules.Stores // captured values, kept across rule sets
	gates        sync.Map      // flow ID → gate, for paused flows
	pauseTimeout atomic.Int64
	unshown      atomic.Int64 // flows in flight the store has not been given yet

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	lns    []net.Listener            // one per mode
	modes  []*Mode                   // the modes served, for replays
	conns  map[*trackedConn]struct{} // client connections, closed on shutdown
}

// New builds a proxy; call Serve to run it.
func New(opts Options) (*Proxy, error) {
	if opts.Store == nil || opts.CA == nil {
		return nil, errors.New("mitm: Store and CA are required")
	}
	if opts.Log == nil {
		opts.Log = flowstore.NewEventLog(1000)
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = 8 << 20
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 30 * time.Second
	}
	if opts.TLSHandshakeTimeout <= 0 {
		opts.TLSHandshakeTimeout = 15 * time.Second
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = 30 * time.Second
	}
	if opts.PeekTimeout <= 0 {
		opts.PeekTimeout = 500 * time.Millisecond
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	if opts.MaxHeadBytes <= 0 {
		opts.MaxHeadBytes = 64 << 10
	}
	if opts.MaxHeaderLines <= 0 {
		opts.MaxHeaderLines = 500
	}
	p := &Proxy{
		opts:   opts,
		store:  opts.Store,
		log:    opts.Log,
		leaves: certs.NewLeaves(opts.CA, 4096),
		conns:  make(map[*trackedConn]struct{}),
	}
	for _, expr := range opts.IgnoreHosts {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("--ignore-hosts %q: %w", expr, err)
		}
		p.ignore = append(p.ignore, re)
	}
	for _, expr := range opts.AllowHosts {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("--allow-hosts %q: %w", expr, err)
		}
		p.allow = append(p.allow, re)
	}
	if opts.UpstreamAuth != "" {
		p.upstreamAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.UpstreamAuth))
	}
	p.envProxy = httpproxy.FromEnvironment().ProxyFunc()
	if opts.ClientCerts != "" {
		cc, err := loadClientCerts(opts.ClientCerts)
		if err != nil {
			return nil, err
		}
		p.clientCerts = cc
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range opts.UpstreamRoots {
		roots.AddCert(c)
	}
	p.upstreamTLS = &tls.Config{RootCAs: roots, InsecureSkipVerify: opts.SSLInsecure} //nolint:gosec // the user asked for it
	p.pool1 = newPool1(p)
	p.pool2 = newPool2(p)
	p.ctl.Store(&controls{on: true})
	p.stores = rules.NewStores()
	p.h2 = p.newGoproxy()
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

func (p *Proxy) newGoproxy() *goproxy.ProxyHttpServer {
	gp := goproxy.NewProxyHttpServer()
	gp.Logger = goproxyLogger{p.log}
	gp.AllowHTTP2 = true
	gp.KeepAcceptEncoding = true
	gp.KeepHeader = true // nothing is taken out of a request on its way
	// Never dial through an environment proxy that probably points back at
	// us (goproxy dials nothing itself here: every round trip is ours).
	gp.Tr = &http.Transport{Proxy: nil}
	gp.ConnectDial = func(network, addr string) (net.Conn, error) {
		return p.dial(p.ctx, network, addr)
	}
	gp.OnRequest().HandleConnectFunc(p.handleConnect)
	gp.OnRequest().DoFunc(p.onRequest)
	return gp
}

// Addr is the address the proxy listens on, once Serve has been called.
func (p *Proxy) Addr() net.Addr {
	if lns := p.listeners(); len(lns) > 0 {
		return lns[0].Addr()
	}
	return nil
}

// listeners are the proxy's listeners, the first Bind's or Serve's first.
func (p *Proxy) listeners() []net.Listener {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.lns)
}

// Bind records a listener Serve or ServeMode will use, so that Addr and
// ListenAddr answer before serving has started (a UI showing the address
// at once).
func (p *Proxy) Bind(ln net.Listener) {
	p.mu.Lock()
	if !containsListener(p.lns, ln) {
		p.lns = append(p.lns, ln)
	}
	p.mu.Unlock()
}

// ListenAddr is Addr as a string ("" before Bind or Serve).
func (p *Proxy) ListenAddr() string {
	if a := p.Addr(); a != nil {
		return a.String()
	}
	return ""
}

// Serve accepts clients of a regular proxy on ln until ctx is cancelled or
// Close is called. It returns nil on a clean stop.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	return p.ServeMode(ctx, ln, Mode{Kind: ModeRegular})
}

// acceptDelay is how long to wait after a failed Accept that may pass (out
// of descriptors, for now), as net/http waits; 0 for a failure that ends
// serving.
func acceptDelay(err error, last time.Duration) time.Duration {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return min(max(2*last, 5*time.Millisecond), time.Second)
	}
	return 0
}

// Unshown is how many flows in flight the store has not seen yet (see
// showWait). After Close they end within moments, and enter the store as
// they do: a caller that wants every flow (a saver at shutdown) waits for 0.
func (p *Proxy) Unshown() int { return int(p.unshown.Load()) }

// Close stops accepting, closes every client connection and cancels
// everything in flight.
func (p *Proxy) Close() {
	p.cancel()
	p.mu.Lock()
	lns := p.lns
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, ln := range lns {
		_ = ln.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
	p.pool1.close()
	p.pool2.close()
}

// track registers a client connection so that Close can end it; closing
// the returned conn forgets it again. After Close it returns nil.
func (p *Proxy) track(c net.Conn) *trackedConn {
	tc := &trackedConn{Conn: c, p: p}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return nil
	}
	p.conns[tc] = struct{}{}
	return tc
}

type trackedConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.p.mu.Lock()
		if c.p.conns != nil {
			delete(c.p.conns, c)
		}
		c.p.mu.Unlock()
	})
	return err
}

// authorized checks Basic proxy credentials in constant time.
func (p *Proxy) authorized(v string) bool {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, []byte(p.opts.ProxyAuth)) == 1
}

// goproxyLogger sends goproxy's log lines to the event log; it must never
// write to the terminal, which the TUI owns.
type goproxyLogger struct{ log *flowstore.EventLog }

func (l goproxyLogger) Printf(format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	level := flowstore.LevelDebug
	if strings.Contains(msg, "WARN:") && !isConnNoise(msg) {
		level = flowstore.LevelWarn
	}
	l.log.Add(level, "goproxy", "", msg)
}

// isConnNoise recognises the ordinary ends of connections that goproxy
// reports as warnings: clients and servers hang up all the time.
func isConnNoise(msg string) bool {
	for _, s := range []string{"connection reset", "broken pipe", "use of closed", "EOF", "i/o timeout", "canceled"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// logWriter adapts the event log to a log.Logger.
type logWriter struct {
	log    *flowstore.EventLog
	source string
}

func (w logWriter) Write(b []byte) (int, error) {
	msg := strings.TrimSpace(string(b))
	level := flowstore.LevelWarn
	if isConnNoise(msg) || strings.Contains(msg, "TLS handshake error") {
		level = flowstore.LevelDebug
	}
	w.log.Add(level, w.source, "", msg)
	return len(b), nil
}
