package mitm_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// These tests hold the engine to what a debugging proxy promises: a
// request reaches the origin its client sent it to, and both sides get
// the bytes the other sent, unless a hook or a person changed them.

// rawServer accepts connections on 127.0.0.1 (TLS with a certificate for
// names from origin, when origin is set) and hands each to serve.
func rawServer(t *testing.T, origin *mitmtest.Origin, serve func(c net.Conn), names ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var cfg *tls.Config
	if origin != nil {
		srv := origin.TLSServer(t, http.NotFoundHandler(), false, names...)
		cfg = srv.TLS.Clone()
		cfg.NextProtos = []string{"http/1.1"}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if cfg != nil {
				c = tls.Server(c, cfg)
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// recordingOrigin keeps the raw bytes of every request head and body it
// reads (framed by Content-Length or chunks, which it reads whole) and
// answers each with answer.
type recordingOrigin struct {
	mu   sync.Mutex
	got  [][]byte
	seen chan []byte
}

func newRecordingOrigin() *recordingOrigin { return &recordingOrigin{seen: make(chan []byte, 16)} }

func (o *recordingOrigin) serve(answer string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			raw, err := readRawRequest(br)
			if err != nil {
				return
			}
			o.mu.Lock()
			o.got = append(o.got, raw)
			o.mu.Unlock()
			o.seen <- raw
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
		}
	}
}

func (o *recordingOrigin) next(t *testing.T) string {
	t.Helper()
	select {
	case raw := <-o.seen:
		return string(raw)
	case <-time.After(10 * time.Second):
		t.Fatal("the origin received nothing")
		return ""
	}
}

// readRawRequest reads one request as bytes: its head, and a body framed
// by Content-Length or chunks.
func readRawRequest(br *bufio.Reader) ([]byte, error) {
	var raw bytes.Buffer
	cl, chunked := 0, false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		raw.WriteString(line)
		l := strings.ToLower(strings.TrimSpace(line))
		if v, ok := strings.CutPrefix(l, "content-length:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &cl)
		}
		if strings.HasPrefix(l, "transfer-encoding:") && strings.Contains(l, "chunked") {
			chunked = true
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	if chunked {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return nil, err
			}
			raw.WriteString(line)
			var n int
			fmt.Sscanf(line, "%x", &n)
			if n == 0 {
				for {
					tl, err := br.ReadString('\n')
					if err != nil {
						return nil, err
					}
					raw.WriteString(tl)
					if tl == "\r\n" {
						return raw.Bytes(), nil
					}
				}
			}
			if _, err := io.CopyN(&raw, br, int64(n)+2); err != nil {
				return nil, err
			}
		}
	}
	if _, err := io.CopyN(&raw, br, int64(cl)); err != nil {
		return nil, err
	}
	return raw.Bytes(), nil
}

// readAll reads what comes until the peer closes or goes quiet.
func readAll(c net.Conn, quiet time.Duration) string {
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			return out.String()
		}
	}
}

const oddResponse = "HTTP/1.1 200 Fine\x1b]0;owned\x07\r\nx-lower: a\r\nZeta: z\r\nAlpha: a\r\nAlpha: again\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello"

// Headers pass in wire order, case and repeats, with nothing added and
// nothing taken out (hop-by-hop ones included, as mitmproxy passes them),
// both ways, on the plain listener and in a TLS tunnel, with and without a
// hook that looks at them. The reason phrase passes as sent.
func TestMessagesPassUnchanged(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	for _, kind := range []string{"plain", "tunnel"} {
		for _, hook := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/hook=%v", kind, hook), func(t *testing.T) {
				rec := newRecordingOrigin()
				var addr string
				if kind == "plain" {
					addr = rawServer(t, nil, rec.serve(oddResponse))
				} else {
					addr = rawServer(t, originCA, rec.serve(oddResponse), "127.0.0.1")
				}
				env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
				// A hook of every phase that looks and changes nothing: with
				// it, what passes must be the same bytes as without.
				looker := &mitmtest.Recorder{}
				if hook {
					if err := env.Proxy.AddHook(looker); err != nil {
						t.Fatal(err)
					}
				}
				headers := "host: " + addr + "\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive, X-Foo\r\nX-Foo: bar\r\nKeep-Alive: 300\r\nTE: trailers\r\nzeta: 1\r\nAlpha: 2\r\nalpha: 3\r\nContent-Length: 4\r\n\r\nbody"
				var c net.Conn
				var sent, want string
				if kind == "plain" {
					var err error
					if c, err = net.Dial("tcp", env.URL.Host); err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					sent = "POST http://" + addr + "/p?q=%7e1 HTTP/1.1\r\n" + headers
					want = "POST /p?q=%7e1 HTTP/1.1\r\n" + headers // origin form, as mitmproxy sends it
				} else {
					c = tlsClient(connected(t, env, addr), env)
					sent = "POST /p?q=%7e1 HTTP/1.1\r\n" + headers
					want = sent
				}
				io.WriteString(c, sent)
				if got := rec.next(t); got != want {
					t.Errorf("the origin got\n%q\nwant\n%q", got, want)
				}
				if got := readAll(c, 300*time.Millisecond); got != oddResponse {
					t.Errorf("the client got\n%q\nwant\n%q", got, oddResponse)
				}
				f := env.WaitFlows(1)[0]
				if got := looker.Phases(f.ID); hook && len(got) != 5 {
					t.Errorf("the hook saw phases %v, want all five", got)
				}
				wantHs := flowstore.Headers{{Name: "x-lower", Value: "a"}, {Name: "Zeta", Value: "z"}, {Name: "Alpha", Value: "a"},
					{Name: "Alpha", Value: "again"}, {Name: "Connection", Value: "keep-alive"}, {Name: "Content-Length", Value: "5"}}
				if !slices.Equal(f.Response.Headers, wantHs) || f.Response.Reason != "Fine\x1b]0;owned\x07" {
					t.Errorf("the flow records the response as %q %q", f.Response.Reason, f.Response.Headers)
				}
			})
		}
	}
}

// What a hook changes is exactly what changes: one header set, nothing
// else reordered or re-cased; a body replaced gets its new length.
func TestHookChangesOnlyWhatItChanges(t *testing.T) {
	rec := newRecordingOrigin()
	addr := rawServer(t, nil, rec.serve(oddResponse))
	env := mitmtest.Start(t)
	if err := env.Proxy.AddHook(mitm.RequestFunc(func(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
		f.Request.Headers.Set("zeta", "changed")
		f.Request.Body = flowstore.NewBody([]byte("a longer body"))
		return flowstore.Continue, nil
	})); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST http://%s/h HTTP/1.1\r\nhost: %s\r\nzeta: 1\r\nAlpha: 2\r\nContent-Length: 4\r\n\r\nbody", addr, addr)
	want := fmt.Sprintf("POST /h HTTP/1.1\r\nhost: %s\r\nzeta: changed\r\nAlpha: 2\r\nContent-Length: 13\r\n\r\na longer body", addr)
	if got := rec.next(t); got != want {
		t.Errorf("the origin got\n%q\nwant\n%q", got, want)
	}
	f := env.WaitFlows(1)[0]
	if got := f.Request.Headers.Get("Content-Length"); got != "13" {
		t.Errorf("the flow shows Content-Length %q, want the 13 that was sent", got)
	}
}

// Two clients tunnel to two origins that answer to the same name: each
// request reaches its own tunnel's origin, over HTTP/1.1 and HTTP/2, for
// GET and POST, with upstream certificates verified. A shared connection
// pool keyed by Host would hand one client's POST /login to the other's
// origin.
func TestTunnelsToOneNameStayApart(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	name := "bank.test"
	serve := func(who string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Origin", who)
			fmt.Fprintf(w, "%s saw %s %s cookie=%s", who, r.Method, r.URL.Path, r.Header.Get("Cookie"))
		})
	}
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			a := originCA.TLSServer(t, serve("A"), h2, name)
			b := originCA.TLSServer(t, serve("B"), h2, name)
			env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
			// Each client's tunnel goes to its own origin's address, whatever
			// the URL's name says.
			client := func(addr string) *http.Client {
				tr := env.Transport()
				tr.ForceAttemptHTTP2 = h2
				tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, env.URL.Host)
				}
				tr.Proxy = nil
				tr.DialTLSContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
					raw, err := (&net.Dialer{}).DialContext(ctx, network, env.URL.Host)
					if err != nil {
						return nil, err
					}
					fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr)
					br := bufio.NewReader(raw)
					resp, err := http.ReadResponse(br, nil)
					if err != nil || resp.StatusCode != 200 {
						raw.Close()
						return nil, fmt.Errorf("CONNECT: %v %v", resp, err)
					}
					protos := []string{"http/1.1"}
					if h2 {
						protos = []string{"h2", "http/1.1"}
					}
					tc := tls.Client(raw, &tls.Config{RootCAs: env.CAPool(), ServerName: name, NextProtos: protos})
					return tc, tc.HandshakeContext(ctx)
				}
				c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
				t.Cleanup(c.CloseIdleConnections)
				return c
			}
			ca, cb := client(a.Listener.Addr().String()), client(b.Listener.Addr().String())
			for i := 0; i < 3; i++ {
				for _, tc := range []struct {
					c   *http.Client
					who string
				}{{ca, "A"}, {cb, "B"}} {
					for _, method := range []string{"GET", "POST"} {
						req, _ := http.NewRequest(method, "https://"+name+"/login", strings.NewReader("user=me"))
						req.Header.Set("Cookie", "session="+tc.who)
						resp, err := tc.c.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						want := fmt.Sprintf("%s saw %s /login cookie=session=%s", tc.who, method, tc.who)
						if string(body) != want {
							t.Fatalf("client of origin %s: %s got %q, want %q", tc.who, method, body, want)
						}
					}
				}
			}
			for _, f := range env.WaitFlows(12) {
				if got, want := f.Response.Headers.Get("X-Origin"), strings.TrimPrefix(f.Request.Headers.Get("Cookie"), "session="); got != want {
					t.Fatalf("flow %s answered by %s for the client of %s", f.ID, got, want)
				}
			}
		})
	}
}

// An interim 103 Early Hints reaches the client before the final answer.
func TestEarlyHintsPassedOn(t *testing.T) {
	addr := rawServer(t, nil, func(c net.Conn) {
		if _, err := readRawRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
		time.Sleep(20 * time.Millisecond)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	env := mitmtest.Start(t)
	c, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr)
	want := "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	if got := readAll(c, 300*time.Millisecond); got != want {
		t.Fatalf("the client got\n%q\nwant\n%q", got, want)
	}
}

// An origin that answers a request expecting 100-continue at once (a 401)
// is heard at once, on the plain listener and in a tunnel; the client
// never has to send its body.
func TestExpectContinueEarlyAnswer(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	answer := func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
	}
	for _, kind := range []string{"plain", "tunnel"} {
		t.Run(kind, func(t *testing.T) {
			env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
			var c net.Conn
			var target string
			if kind == "plain" {
				addr := rawServer(t, nil, answer)
				var err error
				if c, err = net.Dial("tcp", env.URL.Host); err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				target = "http://" + addr + "/upload"
			} else {
				addr := rawServer(t, originCA, answer, "127.0.0.1")
				c = tlsClient(connected(t, env, addr), env)
				target = "/upload"
			}
			start := time.Now()
			fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n", target)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want the origin's 401", resp.StatusCode)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("the answer took %v: the client was left waiting", d)
			}
		})
	}
}

// A framing error ends the client's connection with an answer: nothing
// after it is read as another request, on the plain listener and in a
// tunnel alike.
func TestFramingErrorsEndTheConnection(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	cases := []struct {
		name, req string
		status    int
	}{
		{"content-length and chunked", "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"bad chunk size", "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
		{"chunk size overflow", "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n", 400},
		{"chunked then identity", "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400},
		{"gzip then chunked", "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"two chunked lines", "POST %s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
		{"two hosts", "GET %s HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"two lengths", "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"space before colon", "GET %s HTTP/1.1\r\nHost: h\r\nX-A : 1\r\n\r\n", 400},
		{"folded line", "GET %s HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  more\r\n\r\n", 400},
	}
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
	for _, kind := range []string{"plain", "tunnel"} {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				rec := newRecordingOrigin()
				env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
				var c net.Conn
				target := "/x"
				if kind == "plain" {
					addr := rawServer(t, nil, rec.serve("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
					var err error
					if c, err = net.Dial("tcp", env.URL.Host); err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					target = "http://" + addr + "/x"
					smuggled = "GET http://" + addr + "/smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
				} else {
					addr := rawServer(t, originCA, rec.serve("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), "127.0.0.1")
					c = tlsClient(connected(t, env, addr), env)
					smuggled = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
				}
				fmt.Fprintf(c, tc.req+smuggled, target)
				got := readAll(c, 2*time.Second)
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
				if err != nil {
					t.Fatalf("the client got %q: %v", got, err)
				}
				if resp.StatusCode != tc.status || !resp.Close {
					t.Fatalf("the client got %d (close %v), want %d and Connection: close\n%s", resp.StatusCode, resp.Close, tc.status, got)
				}
				if n := strings.Count(got, "HTTP/1.1 "); n != 1 {
					t.Fatalf("the client got %d answers, want 1:\n%s", n, got)
				}
				rec.mu.Lock()
				defer rec.mu.Unlock()
				for _, r := range rec.got {
					if strings.Contains(string(r), "smuggled") {
						t.Fatalf("the request after the framing error reached the origin:\n%s", r)
					}
				}
			})
		}
	}
}

// Tunnels have the plain listener's limits: a head too large or with too
// many lines gets 431, a head that never ends and a tunnel that never asks
// anything are closed after the header timeout.
func TestTunnelLimits(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	rec := newRecordingOrigin()
	addr := rawServer(t, originCA, rec.serve("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), "127.0.0.1")
	env := mitmtest.Start(t, func(o *mitm.Options) {
		o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert}
		o.MaxHeadBytes = 8 << 10
		o.MaxHeaderLines = 50
		o.HeaderTimeout = 300 * time.Millisecond
	})
	expect := func(t *testing.T, c net.Conn, status int) {
		t.Helper()
		got := readAll(c, 3*time.Second)
		if status == 0 {
			if got != "" && !strings.Contains(got, " 408 ") {
				t.Fatalf("got %q, want the connection closed", got)
			}
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
		if err != nil || resp.StatusCode != status {
			t.Fatalf("got %q (%v), want %d", got, err, status)
		}
	}
	t.Run("head too large", func(t *testing.T) {
		c := tlsClient(connected(t, env, addr), env)
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 10<<10))
		expect(t, c, 431)
	})
	t.Run("too many lines", func(t *testing.T) {
		c := tlsClient(connected(t, env, addr), env)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n"+strings.Repeat("X-A: 1\r\n", 60)+"\r\n")
		expect(t, c, 431)
	})
	t.Run("head never ends", func(t *testing.T) {
		c := tlsClient(connected(t, env, addr), env)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n")
		start := time.Now()
		expect(t, c, 0)
		if time.Since(start) > 2500*time.Millisecond {
			t.Fatal("a half-sent head held the tunnel open")
		}
	})
	t.Run("tunnel asks nothing", func(t *testing.T) {
		c := tlsClient(connected(t, env, addr), env)
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		expect(t, c, 0)
		if time.Since(start) > 2500*time.Millisecond {
			t.Fatal("an idle tunnel stayed open")
		}
	})
	if n := len(rec.got); n != 0 {
		t.Fatalf("the origin got %d requests, want none", n)
	}
}

// A client that offers only http/1.0 in ALPN (curl -0) is served.
func TestALPNWithoutHTTP11(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	addr := rawServer(t, originCA, newRecordingOrigin().serve("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"), "127.0.0.1")
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
	for _, protos := range [][]string{{"http/1.0"}, {"spdy/3"}} {
		tc := tls.Client(connected(t, env, addr), &tls.Config{RootCAs: env.CAPool(), ServerName: "127.0.0.1", NextProtos: protos})
		if err := tc.Handshake(); err != nil {
			t.Fatalf("ALPN %v: %v", protos, err)
		}
		io.WriteString(tc, "GET / HTTP/1.0\r\nHost: h\r\n\r\n")
		if got := readAll(tc, time.Second); !strings.HasSuffix(got, "ok") {
			t.Fatalf("ALPN %v: got %q", protos, got)
		}
	}
}

// An HTTP/2 client's request reaches an HTTP/2 origin with nothing added
// (no user-agent, no accept-encoding of the proxy's), and the answer
// reaches the client with nothing added (no date, no guessed
// content-type); to an HTTP/1.1-only origin it goes with a Host line from
// :authority and nothing else added.
func TestHTTP2AddsNothing(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	for _, h2origin := range []bool{true, false} {
		t.Run(fmt.Sprintf("h2 origin=%v", h2origin), func(t *testing.T) {
			seen := make(chan http.Header, 1)
			srv := originCA.TLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := r.Header.Clone()
				h.Set(":proto", r.Proto)
				seen <- h
				w.Header()["Date"] = nil         // the origin sends none
				w.Header()["Content-Type"] = nil // nor a type
				io.WriteString(w, "<html>no type</html>")
			}), h2origin)
			env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
			tr := env.Transport()
			tr.ForceAttemptHTTP2 = true
			tr.DisableCompression = true
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest("GET", srv.URL+"/h2", nil)
			req.Header["User-Agent"] = nil // the client sends none
			req.Header.Set("X-Mine", "1")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 {
				t.Fatalf("the client spoke %s to the proxy, want HTTP/2", resp.Proto)
			}
			for _, name := range []string{"Date", "Content-Type"} {
				if v, ok := resp.Header[name]; ok {
					t.Errorf("the client got %s: %q, which the origin never sent", name, v)
				}
			}
			got := <-seen
			wantProto := "HTTP/1.1"
			if h2origin {
				wantProto = "HTTP/2.0"
			}
			if p := got.Get(":proto"); p != wantProto {
				t.Errorf("the origin was spoken to in %s, want %s", p, wantProto)
			}
			got.Del(":proto")
			if got.Get("X-Mine") != "1" || len(got) != 1 {
				t.Errorf("the origin got headers %v, want only X-Mine", got)
			}
		})
	}
}

// A replay sends the recorded request's lines as they were recorded.
func TestReplaySendsTheRecordedLines(t *testing.T) {
	rec := newRecordingOrigin()
	addr := rawServer(t, nil, rec.serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	env := mitmtest.Start(t)
	c, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST http://%s/r HTTP/1.1\r\nhost: %s\r\nzeta: 1\r\nAlpha: 2\r\nalpha: 3\r\nContent-Length: 3\r\n\r\nabc", addr, addr)
	first := rec.next(t)
	readAll(c, 200*time.Millisecond)
	f := env.WaitFlows(1)[0]
	id, err := env.Proxy.Replay(f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again := rec.next(t); again != first {
		t.Fatalf("the replay sent\n%q\nthe original\n%q", again, first)
	}
	waitReplayed(t, env, id, f.ID)
}

// A recorded answer that cannot be sent is not quietly replaced by a visit
// to the real upstream.
func TestServerReplayNeverFallsThroughSilently(t *testing.T) {
	rec := newRecordingOrigin()
	addr := rawServer(t, nil, rec.serve("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal"))
	u := "http://" + addr + "/bad"
	for _, status := range []int{0, -5, 101} {
		recorded := []*flowstore.Flow{{ID: "x", Request: &flowstore.Request{Method: "GET", Scheme: "http", Host: "127.0.0.1", Port: mustPort(t, addr), Path: "/bad"},
			Response: &flowstore.Response{Status: status, Body: flowstore.NewBody([]byte("recorded"))}}}
		env := mitmtest.Start(t)
		if err := env.Proxy.AddHook(mitm.NewServerReplay(recorded, mitm.ServerReplayOptions{})); err != nil {
			t.Fatal(err)
		}
		r := within(t, goGet(env.Client(), "GET", u, ""))
		if r.status != http.StatusBadGateway || !strings.Contains(r.body, fmt.Sprintf("status %d", status)) {
			t.Fatalf("recorded status %d: the client got %+v, want a 502 that says why", status, r)
		}
		f := env.WaitFlow(u)
		if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "upstream was not contacted") }) {
			t.Fatalf("recorded status %d: the flow's notes %q do not say so", status, f.Notes)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 0 {
		t.Fatalf("the upstream was contacted %d times", len(rec.got))
	}
}

func mustPort(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// Trailers pass both ways with a chunked body, in their order.
func TestTrailersPass(t *testing.T) {
	rec := newRecordingOrigin()
	answer := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\nx-later: 1\r\n\r\n"
	addr := rawServer(t, nil, rec.serve(answer))
	env := mitmtest.Start(t)
	c, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST http://%s/t HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nTrailer: X-Req\r\n\r\n3\r\nabc\r\n0\r\nX-Req: r1\r\n\r\n", addr, addr)
	want := fmt.Sprintf("POST /t HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nTrailer: X-Req\r\n\r\n3\r\nabc\r\n0\r\nX-Req: r1\r\n\r\n", addr)
	if got := rec.next(t); got != want {
		t.Errorf("the origin got\n%q\nwant\n%q", got, want)
	}
	if got := readAll(c, 300*time.Millisecond); got != answer {
		t.Errorf("the client got\n%q\nwant\n%q", got, answer)
	}
	f := env.WaitFlows(1)[0]
	if f.Request.Trailers.Get("X-Req") != "r1" || f.Response.Trailers.String() != "X-Sum: abc\nx-later: 1" {
		t.Errorf("the flow's trailers: %q %q", f.Request.Trailers, f.Response.Trailers)
	}
}

// An HTTP/1 origin's connection headers do not reach an HTTP/2 client
// (HTTP/2 has none), and its Connection: close ends only its own
// connection: the client's goes on carrying requests.
func TestHTTP1OriginToHTTP2Client(t *testing.T) {
	originCA := mitmtest.NewOriginCA(t)
	srv := originCA.TLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close, X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		io.WriteString(w, "ok")
	}), false)
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })
	var conns atomic.Int32
	tr := env.Transport()
	tr.ForceAttemptHTTP2 = true
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 3 {
		resp, err := client.Get(fmt.Sprintf("%s/c%d", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("the client spoke %s", resp.Proto)
		}
		for _, h := range []string{"Connection", "Keep-Alive", "X-Hop"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("the HTTP/2 client got %s: %s", h, v)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("the client needed %d connections to the proxy, want 1: the origin's close ended the client's", n)
	}
	if f := env.WaitFlows(3)[0]; f.Response.Headers.Get("Connection") == "" {
		t.Errorf("the flow lost the origin's Connection header: %q", f.Response.Headers)
	}
}
