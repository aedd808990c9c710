package mitm_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		spec, kind, url, listen, err string
		env                          bool
	}{
		{spec: "regular", kind: "regular"},
		{spec: "regular@8080", kind: "regular", listen: "8080"},
		{spec: "socks5@127.0.0.1:1080", kind: "socks5", listen: "127.0.0.1:1080"},
		{spec: "transparent", kind: "transparent"},
		{spec: "upstream:http://proxy.corp:3128", kind: "upstream", url: "http://proxy.corp:3128"},
		{spec: "upstream:https://proxy.corp", kind: "upstream", url: "https://proxy.corp:443"},
		{spec: "upstream:env", kind: "upstream", env: true},
		{spec: "reverse:https://api.example.com@8081", kind: "reverse", url: "https://api.example.com:443", listen: "8081"},
		{spec: "reverse:http://127.0.0.1:9000/@:8082", kind: "reverse", url: "http://127.0.0.1:9000/", listen: ":8082"},
		{spec: "reverse", err: "needs a URL"},
		{spec: "reverse:ftp://x", err: "not an http"},
		{spec: "upstream:http://user:pass@proxy:3128", err: "--upstream-auth"},
		{spec: "socks5:x", err: "takes no argument"},
		{spec: "socks4", err: "unknown --mode"},
	}
	names := map[mitm.ModeKind]string{mitm.ModeRegular: "regular", mitm.ModeUpstream: "upstream", mitm.ModeReverse: "reverse", mitm.ModeSOCKS5: "socks5", mitm.ModeTransparent: "transparent"}
	for _, tt := range tests {
		m, err := mitm.ParseMode(tt.spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		u := ""
		if m.URL != nil {
			u = m.URL.String()
		}
		if err != nil || names[m.Kind] != tt.kind || u != tt.url || m.Listen != tt.listen || m.Env != tt.env || m.String() != tt.spec {
			t.Errorf("%q: %+v (url %q) %v", tt.spec, m, u, err)
		}
	}
}

// curl runs curl with args and returns what it printed; it skips the test
// when curl is missing.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	out, err := exec.Command(bin, append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// caFile writes the proxy's CA certificate for curl.
func caFile(t *testing.T, env *mitmtest.Env) string {
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.CA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func hello(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s: %s %s host=%s", name, r.Method, r.URL.RequestURI(), r.Host)
	})
}

// Upstream mode: interceptor-tui in front of a second proxy that wants
// credentials; curl through the first reaches the origin, over HTTPS and
// plain HTTP, and both proxies record the flow.
func TestUpstreamMode(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	secure := originCA.TLSServer(t, hello("secure"), false, "origin.test")
	plain := httptest.NewServer(hello("plain"))
	defer plain.Close()
	// The second proxy: it wants alice's credentials, trusts the origin's CA.
	second := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) {
		o.ProxyAuth = "alice:s3cret"
		o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert}
	})
	// The first forwards everything to the second (whose CA it trusts: the
	// second intercepts TLS too).
	first := mitmtest.Start(t, func(o *mitm.Options) {
		o.UpstreamAuth = "alice:s3cret"
		o.UpstreamRoots = []*x509.Certificate{second.CA.Cert}
	})
	addr := first.Listen(mitmtest.MustMode(t, "upstream:"+second.URL.String()))
	ca := caFile(t, first)
	got := curl(t, "--proxy", "http://"+addr, "--cacert", ca, "--resolve", "origin.test:"+secure.URL[strings.LastIndex(secure.URL, ":")+1:]+":127.0.0.1",
		"https://origin.test:"+secure.URL[strings.LastIndex(secure.URL, ":")+1:]+"/via")
	if !strings.HasPrefix(got, "secure: GET /via") {
		t.Fatalf("HTTPS through both proxies: %q", got)
	}
	if got := curl(t, "--proxy", "http://"+addr, plain.URL+"/plain"); !strings.HasPrefix(got, "plain: GET /plain") {
		t.Fatalf("plain HTTP through both proxies: %q", got)
	}
	for _, env := range []*mitmtest.Env{first, second} {
		flows := env.WaitFlows(2)
		if len(flows) != 2 {
			t.Fatalf("a proxy recorded %d flows, want 2", len(flows))
		}
	}
	for _, f := range first.WaitFlows(2) {
		if f.Client.Mode != "upstream:"+second.URL.String() || f.Response == nil || f.Response.Status != 200 {
			t.Fatalf("first proxy's flow: mode %q response %+v error %+v", f.Client.Mode, f.Response, f.Error)
		}
	}
	// Without the credentials the second proxy says no, and the first says why.
	bare := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{second.CA.Cert} })
	noauth := bare.Listen(mitmtest.MustMode(t, "upstream:"+second.URL.String()))
	out, _ := exec.Command("curl", "-sS", "--proxy", "http://"+noauth, "--cacert", caFile(t, bare), secure.URL+"/refused").CombinedOutput()
	if !strings.Contains(string(out), "407") {
		t.Fatalf("without credentials: %q, want the upstream proxy's 407 said", out)
	}
}

// Reverse mode: plain and TLS clients reach the one origin, its Host is
// the origin's, and a WebSocket works through it.
func TestReverseMode(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	var origin *httptest.Server
	origin = originCA.TLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			typ, msg, err := c.Read(r.Context())
			if err == nil {
				c.Write(r.Context(), typ, append([]byte("echo:"), msg...))
			}
			return
		}
		hello("origin").ServeHTTP(w, r)
	}), false, "127.0.0.1")
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
	addr := env.Listen(mitmtest.MustMode(t, "reverse:"+origin.URL))
	originHost := strings.TrimPrefix(origin.URL, "https://")
	if got := curl(t, "http://"+addr+"/json?x=1"); got != "origin: GET /json?x=1 host="+originHost {
		t.Fatalf("plain client: %q", got)
	}
	if got := curl(t, "--cacert", caFile(t, env), "https://"+addr+"/tls"); got != "origin: GET /tls host="+originHost {
		t.Fatalf("TLS client: %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "echo:hi" {
		t.Fatalf("WebSocket through the reverse listener: %q %v", msg, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	f := env.WaitFlow(origin.URL + "/json?x=1")
	if f.Client.Mode != "reverse:"+origin.URL {
		t.Fatalf("flow mode %q", f.Client.Mode)
	}
}

// SOCKS5: curl reaches an HTTPS origin (intercepted) and a plain one, a
// non-HTTP service is tunnelled untouched, credentials are checked, and a
// bad greeting is refused while the listener keeps serving.
func TestSOCKS5Mode(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	secure := originCA.TLSServer(t, hello("secure"), false, "origin.test")
	plain := httptest.NewServer(hello("plain"))
	defer plain.Close()
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
	addr := env.Listen(mitmtest.MustMode(t, "socks5"))
	port := secure.URL[strings.LastIndex(secure.URL, ":")+1:]
	got := curl(t, "--socks5-hostname", addr, "--cacert", caFile(t, env), "--resolve", "origin.test:"+port+":127.0.0.1", "https://origin.test:"+port+"/s")
	if !strings.HasPrefix(got, "secure: GET /s") {
		t.Fatalf("HTTPS over SOCKS5: %q", got)
	}
	if got := curl(t, "--socks5", addr, plain.URL+"/p"); !strings.HasPrefix(got, "plain: GET /p") {
		t.Fatalf("plain HTTP over SOCKS5: %q", got)
	}
	flows := env.WaitFlows(2)
	for _, f := range flows {
		if f.Client.Mode != "socks5" {
			t.Fatalf("flow mode %q", f.Client.Mode)
		}
	}
	if !strings.HasPrefix(flows[0].Request.URL(), "https://origin.test:") {
		t.Fatalf("the HTTPS flow is %s, want the name curl asked for", flows[0].Request.URL())
	}

	// A server that speaks first, as SMTP does: tunnelled untouched.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "220 smtp.test ready\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "250 got "+line)
	}()
	c := socksConnect(t, addr, ln.Addr().(*net.TCPAddr), "", "")
	br := bufio.NewReader(c)
	if l, _ := br.ReadString('\n'); l != "220 smtp.test ready\r\n" {
		t.Fatalf("banner %q", l)
	}
	io.WriteString(c, "EHLO me\r\n")
	if l, _ := br.ReadString('\n'); l != "250 got EHLO me\r\n" {
		t.Fatalf("reply %q", l)
	}

	// A bad greeting: refused, and the listener goes on.
	bad, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(bad, "GET / HTTP/1.1\r\n\r\n")
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := bad.Read(make([]byte, 10)); n != 0 {
		t.Fatal("a bad greeting got an answer")
	}
	bad.Close()
	if !mitmtest.Within(5*time.Second, func() bool { return strings.Contains(logText(env), "not a SOCKS5 greeting") }) {
		t.Fatalf("the event log does not say why: %s", logText(env))
	}
	if got := curl(t, "--socks5", addr, plain.URL+"/again"); !strings.HasPrefix(got, "plain: GET /again") {
		t.Fatalf("after a bad greeting: %q", got)
	}

	// Credentials, when --proxyauth is set.
	authEnv := mitmtest.Start(t, func(o *mitm.Options) { o.ProxyAuth = "alice:s3cret" })
	authAddr := authEnv.Listen(mitmtest.MustMode(t, "socks5"))
	if got := curl(t, "--socks5", authAddr, "--proxy-user", "alice:s3cret", plain.URL+"/auth"); !strings.HasPrefix(got, "plain: GET /auth") {
		t.Fatalf("with credentials: %q", got)
	}
	if out, err := exec.Command("curl", "-sS", "--max-time", "5", "--socks5", authAddr, "--proxy-user", "alice:wrong", plain.URL+"/no").CombinedOutput(); err == nil {
		t.Fatalf("wrong credentials were let in: %s", out)
	}
}

func logText(env *mitmtest.Env) string {
	var b strings.Builder
	for _, e := range env.Log.Entries() {
		b.WriteString(e.Msg + "\n")
	}
	return b.String()
}

// socksConnect opens a SOCKS5 tunnel to target with no authentication.
func socksConnect(t *testing.T, proxy string, target *net.TCPAddr, user, pass string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte{5, 1, 0})
	var rep [2]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil || rep != [2]byte{5, 0} {
		t.Fatalf("method reply %v %v", rep, err)
	}
	req := []byte{5, 1, 0, 1}
	req = append(req, target.IP.To4()...)
	req = append(req, byte(target.Port>>8), byte(target.Port))
	c.Write(req)
	var resp [10]byte
	if _, err := io.ReadFull(c, resp[:]); err != nil || resp[1] != 0 {
		t.Fatalf("connect reply %v %v", resp, err)
	}
	return c
}

// Several modes at once share one store; each flow says which it came
// through, and ~mode tells them apart.
func TestModesTogether(t *testing.T) {
	plain := httptest.NewServer(hello("plain"))
	defer plain.Close()
	env := mitmtest.Start(t)
	socks := env.Listen(mitmtest.MustMode(t, "socks5"))
	rev := env.Listen(mitmtest.MustMode(t, "reverse:"+plain.URL))
	curl(t, "--proxy", env.URL.String(), plain.URL+"/regular")
	curl(t, "--socks5", socks, plain.URL+"/socks")
	curl(t, "http://"+rev+"/reverse")
	want := map[string]string{"/regular": "regular", "/socks": "socks5", "/reverse": "reverse:" + plain.URL}
	for _, f := range env.WaitFlows(3) {
		if got := f.Client.Mode; got != want[f.Request.Path] && !(got == "" && want[f.Request.Path] == "regular") {
			t.Errorf("%s came through %q, want %q", f.Request.Path, got, want[f.Request.Path])
		}
	}
}

// --allow-hosts: only the hosts it names are intercepted; the rest pass
// through untouched (the client sees the origin's own certificate).
func TestAllowHosts(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	srv := originCA.TLSServer(t, hello("origin"), false, "allowed.test", "other.test")
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) {
		o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert}
		o.AllowHosts = []string{`^allowed\.test:`}
	})
	issuer := func(name string) string {
		conn := connected(t, env, name+":"+port)
		tc := tls.Client(conn, &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		return tc.ConnectionState().PeerCertificates[0].Issuer.CommonName
	}
	if got, ours := issuer("allowed.test"), env.CA.Cert.Subject.CommonName; got != ours {
		t.Fatalf("allowed.test was not intercepted: issuer %q, want ours %q", got, ours)
	}
	if got, theirs := issuer("other.test"), originCA.CA.Cert.Subject.CommonName; got != theirs {
		t.Fatalf("other.test was intercepted: issuer %q, want the origin's %q", got, theirs)
	}
}

// --client-certs: an origin that asks for a client certificate gets the
// one from the directory for its name.
func TestClientCertificates(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	clientCA := mitmtest.NewOriginCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "client %s", r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.CA.Cert)
	base := originCA.TLSServer(t, http.NotFoundHandler(), false, "mtls.test")
	srv.TLS = base.TLS.Clone()
	srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	srv.TLS.ClientCAs = pool
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	leaf := clientCA.ClientCert(t, "mtls-client")
	if err := os.WriteFile(filepath.Join(dir, "mtls.test.pem"), leaf, 0o600); err != nil {
		t.Fatal(err)
	}
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) {
		o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert}
		o.ClientCerts = dir
	})
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	got := curl(t, "--proxy", env.URL.String(), "--cacert", caFile(t, env), "--resolve", "mtls.test:"+port+":127.0.0.1", "https://mtls.test:"+port+"/")
	if got != "client mtls-client" {
		t.Fatalf("got %q", got)
	}
}

// Transparent mode on Linux: in a network namespace of its own, with an
// iptables REDIRECT rule, a curl with no proxy settings to an HTTPS origin
// is intercepted and recorded. The rule matches the client's source ports
// only, so that the proxy's own connection to the origin goes straight.
func TestTransparentMode(t *testing.T) {
	if os.Getenv("MITM_TRANSPARENT_INSIDE") == "" {
		for _, tool := range []struct{ bin, pkg string }{{"unshare", "util-linux"}, {"iptables", "iptables"}, {"ip", "iproute2"}, {"curl", "curl"}} {
			if _, err := exec.LookPath(tool.bin); err != nil {
				t.Skipf("%s not found: install the Debian package %s", tool.bin, tool.pkg)
			}
		}
		if os.Geteuid() != 0 {
			t.Skip("transparent mode is tested in a network namespace with iptables, which needs root")
		}
		cmd := exec.Command("unshare", "-n", os.Args[0], "-test.run", "^TestTransparentMode$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "MITM_TRANSPARENT_INSIDE=1")
		out, err := cmd.CombinedOutput()
		if err != nil && strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("cannot make a network namespace here: %s", out)
		}
		if err != nil || !strings.Contains(string(out), "--- PASS: TestTransparentMode") {
			t.Fatalf("inside the namespace: %v\n%s", err, out)
		}
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v %s", err, out)
	}
	originCA := mitmtest.NewOriginCA(t)
	srv := originCA.TLSServer(t, hello("origin"), false, "transparent.test")
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
	addr := env.Listen(mitmtest.MustMode(t, "transparent"))
	proxyPort := addr[strings.LastIndex(addr, ":")+1:]
	rule := []string{"-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport", port,
		"-m", "tcp", "--sport", "20000:20010", "-j", "REDIRECT", "--to-ports", proxyPort}
	if out, err := exec.Command("iptables", rule...).CombinedOutput(); err != nil {
		t.Skipf("iptables here cannot redirect (%v): %s", err, out)
	}
	got := curl(t, "--noproxy", "*", "--local-port", "20000-20010", "--cacert", caFile(t, env),
		"--resolve", "transparent.test:"+port+":127.0.0.1", "https://transparent.test:"+port+"/t")
	if got != "origin: GET /t host=transparent.test:"+port {
		t.Fatalf("curl got %q", got)
	}
	f := env.WaitFlow("https://transparent.test:" + port + "/t")
	if f.Client.Mode != "transparent" || f.Server.Addr != "127.0.0.1:"+port {
		t.Fatalf("flow mode %q server %q", f.Client.Mode, f.Server.Addr)
	}
}

// A flow that came through an upstream proxy is replayed through it again.
func TestReplayInUpstreamMode(t *testing.T) {
	plain := httptest.NewServer(hello("plain"))
	defer plain.Close()
	second := mitmtest.Start(t)
	first := mitmtest.Start(t)
	addr := first.Listen(mitmtest.MustMode(t, "upstream:"+second.URL.String()))
	curl(t, "--proxy", "http://"+addr, plain.URL+"/again")
	orig := first.WaitFlow(plain.URL + "/again")
	id, err := first.Proxy.Replay(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f := first.WaitFinal(id); f.State != flowstore.StateDone || f.Client.Mode != orig.Client.Mode {
		t.Fatalf("replay: %v %+v mode %q", f.State, f.Error, f.Client.Mode)
	}
	if n := len(second.WaitFlows(2)); n != 2 {
		t.Fatalf("the upstream proxy saw %d requests, want the original and the replay", n)
	}
}
