package mitm_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// tunnel opens a CONNECT tunnel to host through the proxy and returns the
// TLS connection inside it and a reader on it.
func tunnel(t *testing.T, env *mitmtest.Env, host string) (net.Conn, *bufio.Reader) {
	t.Helper()
	tc := tlsClient(connected(t, env, host), env)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	return tc, bufio.NewReader(tc)
}

// connected opens a connection to the proxy and has it CONNECT to host; it
// returns the connection, which then carries what the client says to host.
func connected(t *testing.T, env *mitmtest.Env, host string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	if br.Buffered() > 0 { // the caller reads conn itself: nothing may be left here
		t.Fatal("bytes after the CONNECT reply")
	}
	return conn
}

// headersOnlyHook changes a header of every request and response and wants
// no body phase.
type headersOnlyHook struct{}

func (headersOnlyHook) RequestHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	f.Request.Headers.Set("X-Added", "by hook")
	return flowstore.Continue, nil
}

func (headersOnlyHook) ResponseHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	f.Response.Headers.Set("X-Seen", "by hook")
	return flowstore.Continue, nil
}

// A hook that only edits headers must leave the bodies alone.
func TestHeaderHooksKeepBodies(t *testing.T) {
	origins(t, echo(), func(t *testing.T, env *mitmtest.Env, client *http.Client, base string) {
		if err := env.Proxy.AddHook(headersOnlyHook{}); err != nil {
			t.Fatal(err)
		}
		resp, err := client.Post(base+"/hdr", "text/plain", strings.NewReader("the request body"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "the request body" || resp.Header.Get("X-Seen") != "by hook" {
			t.Fatalf("client got %q (X-Seen %q); want the echoed request body", body, resp.Header.Get("X-Seen"))
		}
		f := env.WaitFlow(base + "/hdr")
		if f.State != flowstore.StateDone || string(f.Response.Body.Data) != "the request body" {
			t.Fatalf("flow %v response body %q", f.State, f.Response.Body.Data)
		}
	})
}

// A response-headers hook that edits every response must not break a
// WebSocket upgrade.
func TestHeaderHookKeepsWebSocket(t *testing.T) {
	srv := httptest.NewTLSServer(wsEcho(websocket.CompressionDisabled))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	if err := env.Proxy.AddHook(headersOnlyHook{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/ws", &websocket.DialOptions{HTTPClient: env.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != "echo:hi" {
		t.Fatalf("read %q %v", got, err)
	}
}

// An answer whose status cannot be sent (a mock loaded from a file, a Go
// hook) must not bring the proxy down; the person's Respond refuses it.
func TestAnswerWithBadStatus(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	err := env.Proxy.SetMocks([]mitm.Mock{{Method: "GET", URL: srv.URL + "/mocked", Response: &flowstore.Response{
		Status: 0, Body: flowstore.NewBody([]byte("no status")),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := within(t, goGet(env.Client(), "GET", srv.URL+"/mocked", ""))
	if r.err != nil || r.status != 200 {
		t.Fatalf("client got %+v; want the origin's answer", r)
	}
	f := env.WaitFlow(srv.URL + "/mocked")
	if f.State != flowstore.StateDone || !strings.Contains(strings.Join(f.Notes, "\n"), "status") {
		t.Fatalf("flow %v notes %q", f.State, f.Notes)
	}

	env.Proxy.SetMocks(nil)
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /bp", Request: true}})
	paused := goGet(env.Client(), "GET", srv.URL+"/bp", "")
	p := waitPaused(t, env, flowstore.PhaseRequest)
	for _, status := range []int{0, 100, 1000} {
		if err := env.Proxy.Respond(p.ID, &flowstore.Response{Status: status}); err == nil {
			t.Fatalf("Respond accepted status %d", status)
		}
	}
	if err := env.Proxy.Resume(p.ID); err != nil {
		t.Fatal(err)
	}
	if r := within(t, paused); r.status != 200 {
		t.Fatalf("client got %+v", r)
	}
}

// A browser asks for a tunnel, gets a 407, and asks again with credentials
// on the same connection: the tunnel must carry the client's bytes, not the
// refused head.
func TestConnectRetriedAfter407(t *testing.T) {
	srv := httptest.NewTLSServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.ProxyAuth = "alice:s3cret" })
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	host := srv.Listener.Addr().String()
	br := bufio.NewReader(conn)
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("first CONNECT: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	cred := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", host, host, cred)
	if resp, err = http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second CONNECT: %v %v", resp, err)
	}
	tc := tlsClient(conn, env)
	fmt.Fprintf(tc, "GET /after-407 HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	got, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil || got.StatusCode != 200 {
		t.Fatalf("request in the tunnel: %v %v", got, err)
	}
}

// The same for plain HTTP: the retried request is recorded with its own
// headers in wire order, less the credentials that were the proxy's (as
// mitmproxy's proxyauth takes them out): the origin never sees them.
func TestRequestRetriedAfter407KeepsWireHeaders(t *testing.T) {
	srv := httptest.NewServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, func(o *mitm.Options) { o.ProxyAuth = "alice:s3cret" })
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	u := srv.URL + "/retried"
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nx-b: 1\r\nX-A: 2\r\n\r\n", u, srv.Listener.Addr())
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("first request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	cred := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nx-b: 1\r\nX-A: 2\r\nProxy-Authorization: Basic %s\r\n\r\n", u, srv.Listener.Addr(), cred)
	if resp, err = http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	f := env.WaitFlow(u)
	want := fmt.Sprint(flowstore.Headers{{Name: "Host", Value: srv.Listener.Addr().String()}, {Name: "x-b", Value: "1"},
		{Name: "X-A", Value: "2"}})
	if got := fmt.Sprint(f.Request.Headers); got != want {
		t.Fatalf("headers\n got %s\nwant %s", got, want)
	}
}

// An origin that fails mid-body while a response breakpoint waits for the
// whole body: the client gets a 502 and the flow an error, not "done".
func TestUpstreamFailsWhileBodyIsBuffered(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part")
				time.Sleep(50 * time.Millisecond)
				c.(*net.TCPConn).SetLinger(0)
			}()
		}
	}()
	u := "http://" + ln.Addr().String() + "/cut"
	env := mitmtest.Start(t)
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /cut", Response: true}})
	r := within(t, goGet(env.Client(), "GET", u, ""))
	if r.status != http.StatusBadGateway {
		t.Fatalf("client got %+v, want a 502", r)
	}
	f := env.WaitFlow(u)
	if f.State != flowstore.StateError || f.Error == nil || !strings.Contains(f.Error.Message, "upstream") {
		t.Fatalf("flow %v error %+v", f.State, f.Error)
	}
}

// Bodiless answers (HEAD, 204, 304) inside a TLS tunnel end their flows as
// done, and the connection goes on to the next request.
func TestBodilessResponsesInTunnel(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "abcde")
		}
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	host := srv.Listener.Addr().String()
	for _, tc := range []struct{ method, path string }{{"HEAD", "/head"}, {"GET", "/204"}, {"GET", "/304"}} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			c, br := tunnel(t, env, host)
			fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", tc.method, tc.path, host)
			resp, err := http.ReadResponse(br, &http.Request{Method: tc.method})
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			if tc.method == "HEAD" && resp.ContentLength != 5 {
				t.Errorf("HEAD answered with Content-Length %d, want the origin's 5", resp.ContentLength)
			}
			fmt.Fprintf(c, "GET /next HTTP/1.1\r\nHost: %s\r\n\r\n", host)
			next, err := http.ReadResponse(br, nil)
			if err != nil || next.StatusCode != 200 {
				t.Fatalf("next request on the connection: %v %v", next, err)
			}
			body, _ := io.ReadAll(next.Body)
			if string(body) != "abcde" {
				t.Fatalf("next body %q", body)
			}
			f := env.WaitFlow(srv.URL + tc.path)
			if f.State != flowstore.StateDone || f.Error != nil {
				t.Fatalf("flow %v error %+v", f.State, f.Error)
			}
		})
	}
}

// An HTTP/1.0 client in a TLS tunnel cannot read chunked framing: a body of
// unknown length reaches it as is, ended by closing the connection.
func TestHTTP10ClientInTunnelGetsNoChunks(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello ")
		w.(http.Flusher).Flush()
		io.WriteString(w, "world")
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	host := srv.Listener.Addr().String()
	c, br := tunnel(t, env, host)
	fmt.Fprintf(c, "GET /ten HTTP/1.0\r\nHost: %s\r\n\r\n", host)
	all, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("reading until the proxy closes: %v (got %q)", err, all)
	}
	head, body, _ := strings.Cut(string(all), "\r\n\r\n")
	if strings.Contains(strings.ToLower(head), "chunked") || body != "hello world" {
		t.Fatalf("an HTTP/1.0 client got %q", all)
	}
	f := env.WaitFlow(srv.URL + "/ten")
	if f.State != flowstore.StateDone || string(f.Response.Body.Data) != "hello world" {
		t.Fatalf("flow %v body %q", f.State, f.Response.Body.Data)
	}
}

// A client that hangs up while its request, larger than the body limit, is
// held at a breakpoint releases the pause.
func TestClientLeavesWhileLargeBodyPaused(t *testing.T) {
	rec := newRecorder()
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			var srv *httptest.Server
			if tlsOn {
				srv = httptest.NewTLSServer(rec.handler)
			} else {
				srv = httptest.NewServer(rec.handler)
			}
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.BodyLimit = 1024 })
			env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /big", Request: true}})
			host := srv.Listener.Addr().String()
			var c net.Conn
			target := srv.URL + "/big"
			if tlsOn {
				c, _ = tunnel(t, env, host)
				target = "/big"
			} else {
				var err error
				if c, err = net.Dial("tcp", env.URL.Host); err != nil {
					t.Fatal(err)
				}
			}
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\n%s", target, host, strings.Repeat("x", 4096))
			f := waitPaused(t, env, flowstore.PhaseRequest)
			c.Close()
			g := env.WaitState(f.ID, "released after the client left", func(g *flowstore.Flow) bool { return g.State.Final() })
			if g.State != flowstore.StateError || !strings.Contains(g.Error.Message, "disconnected") {
				t.Fatalf("state %v error %+v", g.State, g.Error)
			}
			if env.Proxy.Paused() != 0 {
				t.Fatal("a gate is still open")
			}
		})
	}
}

// A request larger than the body limit, held at a breakpoint while the
// client sends the rest, reaches the origin whole once resumed.
func TestLargeBodyPausedThenResumed(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			var srv *httptest.Server
			if tlsOn {
				srv = httptest.NewTLSServer(echo())
			} else {
				srv = httptest.NewServer(echo())
			}
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.BodyLimit = 1024 })
			env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /big", Request: true}})
			host := srv.Listener.Addr().String()
			var c net.Conn
			var br *bufio.Reader
			target := srv.URL + "/big"
			if tlsOn {
				c, br = tunnel(t, env, host)
				target = "/big"
			} else {
				var err error
				if c, err = net.Dial("tcp", env.URL.Host); err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				br = bufio.NewReader(c)
			}
			body := strings.Repeat("0123456789abcdef", 512) // 8 KiB
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", target, host, len(body), body[:4096])
			f := waitPaused(t, env, flowstore.PhaseRequest)
			io.WriteString(c, body[4096:])
			time.Sleep(50 * time.Millisecond)
			if err := env.Proxy.Resume(f.ID); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if string(got) != body {
				t.Fatalf("origin echoed %d bytes, want the %d sent", len(got), len(body))
			}
			done := env.WaitFlow(srv.URL + "/big")
			if done.State != flowstore.StateDone || done.Request.Body.Size != int64(len(body)) {
				t.Fatalf("flow %v request body size %d", done.State, done.Request.Body.Size)
			}
		})
	}
}

// Answering a paused response by hand replaces it, even when the origin's
// body is past the body limit.
func TestRespondAtResponsePhaseReplacesLargeBody(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 4096))
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.BodyLimit = 1024 })
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /large", Response: true}})
	paused := goGet(env.Client(), "GET", srv.URL+"/large", "")
	f := waitPaused(t, env, flowstore.PhaseResponse)
	if err := env.Proxy.Respond(f.ID, &flowstore.Response{Status: 201, Body: flowstore.NewBody([]byte("written by hand"))}); err != nil {
		t.Fatal(err)
	}
	r := within(t, paused)
	if r.status != 201 || r.body != "written by hand" {
		t.Fatalf("client got %d %.40q", r.status, r.body)
	}
	if g := env.WaitFlow(srv.URL + "/large"); g.State != flowstore.StateDone || g.Response.Status != 201 {
		t.Fatalf("flow %v response %+v", g.State, g.Response.Status)
	}
}

// rawUpgrade is a plain-HTTP origin that switches protocols, sends one
// frame, then waits for done before hanging up.
func rawUpgrade(done <-chan struct{}) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, bw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
		bw.Write([]byte{0x81, 2, 'h', 'i'})
		bw.Flush()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}))
}

// A plain-HTTP WebSocket through the proxy ends for the client when the
// origin hangs up, and when the proxy stops.
func TestPlainWebSocketEndsForTheClient(t *testing.T) {
	for _, how := range []string{"origin hangs up", "proxy stops"} {
		t.Run(how, func(t *testing.T) {
			done := make(chan struct{})
			srv := rawUpgrade(done)
			defer srv.Close()
			env := mitmtest.Start(t)
			conn, err := net.Dial("tcp", env.URL.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET %s/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", srv.URL, srv.Listener.Addr())
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 101 {
				t.Fatalf("upgrade: %v %v", resp, err)
			}
			frame := make([]byte, 4)
			if _, err := io.ReadFull(br, frame); err != nil {
				t.Fatal(err)
			}
			if how == "origin hangs up" {
				close(done)
			} else {
				defer close(done)
				env.Proxy.Close()
			}
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("the client's connection stayed open: %v", err)
			}
		})
	}
}

// Many bodiless answers on pooled upstream connections: each flow keeps
// its own response headers (a head taken for the wrong flow shows the
// wrong values; run with -race to widen the window).
func TestPooledBodilessResponsesKeepTheirHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	env := mitmtest.Start(t)
	const clients, each = 60, 100
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Transport: env.Transport()}
			defer client.CloseIdleConnections()
			for i := 0; i < each; i++ {
				resp, err := client.Get(fmt.Sprintf("%s/%d-%d", srv.URL, c, i))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(c)
	}
	wg.Wait()
	for _, f := range env.WaitFlows(clients * each) {
		if got, want := f.Response.Headers.Get("Etag"), strings.TrimPrefix(f.Request.Path, "/"); got != want {
			t.Fatalf("the flow for /%s shows ETag %s", want, got)
		}
	}
}

// Clients that send into the tunnel without waiting for the proxy's 200
// (what follows the CONNECT head is recovered from the tap): the bytes must
// reach the tunnel whole, whether the CONNECT head ends lines with LF alone
// or the rest arrives a moment later.
func TestConnectEarlyBytes(t *testing.T) {
	srv := httptest.NewServer(echo())
	defer srv.Close()
	host := srv.Listener.Addr().String()
	get := "GET /early HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
	for _, tc := range []struct {
		name, head string
		pause      time.Duration
		opt        func(*mitm.Options)
	}{
		{"LF-only head", "CONNECT " + host + " HTTP/1.1\nHost: " + host + "\n\n", 0, nil},
		{"arriving late", "CONNECT " + host + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 5 * time.Millisecond, func(o *mitm.Options) {
			// A long list of hosts to leave alone (none of which matches)
			// keeps the CONNECT handler busy for a while after it has read
			// the head: the request arrives meanwhile.
			for i := 0; i < 20000; i++ {
				o.IgnoreHosts = append(o.IgnoreHosts, fmt.Sprintf(`^([0-9]+\.)+[0-9]+:x%d$`, i))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []func(*mitm.Options){}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			env := mitmtest.Start(t, opts...)
			conn, err := net.Dial("tcp", env.URL.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if tc.pause == 0 {
				io.WriteString(conn, tc.head+get)
			} else {
				io.WriteString(conn, tc.head)
				time.Sleep(tc.pause)
				io.WriteString(conn, get)
			}
			br := bufio.NewReader(conn)
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
				t.Fatalf("CONNECT: %v %v", resp, err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Method") != "GET" {
				t.Fatalf("request sent early: %v %v", resp, err)
			}
			if f := env.WaitFlow(srv.URL + "/early"); f.Request.Method != "GET" {
				t.Fatalf("flow method %q", f.Request.Method)
			}
		})
	}
}

// A replayed WebSocket handshake has no client to carry messages for: the
// flow ends with the handshake instead of holding the origin's connection
// for ever.
func TestReplayedWebSocketHandshakeEnds(t *testing.T) {
	srv := httptest.NewTLSServer(wsEcho(websocket.CompressionDisabled))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/ws", &websocket.DialOptions{HTTPClient: env.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c.Close(websocket.StatusNormalClosure, "")
	orig := env.WaitFlow(srv.URL + "/ws")
	id, err := env.Proxy.Replay(orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	f := env.WaitFinal(id)
	if f.State != flowstore.StateDone || f.Response == nil || f.Response.Status != 101 {
		t.Fatalf("replay %v response %+v error %+v", f.State, f.Response, f.Error)
	}
}

// A request with both framings is refused with "Connection: close" inside a
// TLS tunnel too, and the connection really closes: what follows it is not
// served as another request.
func TestSmugglingShapeClosesTunnel(t *testing.T) {
	srv := httptest.NewTLSServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	host := srv.Listener.Addr().String()
	c, br := tunnel(t, env, host)
	fmt.Fprintf(c, "POST /smuggle HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("got %v %v, want a 400", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
		t.Fatalf("after the refusal: %q %v; want the connection closed", rest, err)
	}
}

// Killing a flow whose body is still arriving closes the client's
// connection at once, rather than after reading the rest of the upload.
func TestKillLargeUploadClosesAtOnce(t *testing.T) {
	srv := httptest.NewTLSServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.BodyLimit = 1024 })
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /upload", Request: true}})
	host := srv.Listener.Addr().String()
	c, br := tunnel(t, env, host)
	fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000000\r\n\r\n%s", host, strings.Repeat("x", 4096))
	f := waitPaused(t, env, flowstore.PhaseRequest)
	if err := env.Proxy.Kill(f.ID); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("the killed flow's connection stayed open: %v", err)
	}
	if g := env.WaitFlow(srv.URL + "/upload"); g.State != flowstore.StateKilled {
		t.Fatalf("state %v", g.State)
	}
}

// A client that sends "Expect: 100-continue" inside a TLS tunnel gets its
// 100 when the body is wanted, instead of waiting out its own timeout.
func TestExpectContinueInTunnel(t *testing.T) {
	srv := httptest.NewTLSServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	tr := env.Transport()
	tr.ExpectContinueTimeout = 5 * time.Second
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/expect", "/again"} { // the second on the same connection
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader("the body"))
		req.Header.Set("Expect", "100-continue")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "the body" {
			t.Fatalf("echo %q", body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s took %v: the client waited for a 100 Continue that did not come", path, d)
		}
	}
}

// A request body edited at a breakpoint is what the finished flow shows
// (the client's own stays in Original), not the one the client sent.
func TestEditedRequestBodyStaysOnTheFlow(t *testing.T) {
	rec := newRecorder()
	origins(t, rec.handler, func(t *testing.T, env *mitmtest.Env, client *http.Client, base string) {
		env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /pause", Request: true}})
		paused := goGet(client, "POST", base+"/pause", "original body")
		f := waitPaused(t, env, flowstore.PhaseRequest)
		env.Store.Update(f.ID, func(f *flowstore.Flow) {
			f.KeepOriginal()
			f.Request.Body = flowstore.NewBody([]byte("edited"))
		})
		env.Proxy.Resume(f.ID)
		if r := within(t, paused); r.status != 200 || rec.lastSeen() != "POST /pause x-added= body=edited" {
			t.Fatalf("client %+v, origin saw %q", r, rec.lastSeen())
		}
		done := env.WaitFlow(base + "/pause")
		if string(done.Request.Body.Data) != "edited" || string(done.Original.Request.Body.Data) != "original body" {
			t.Fatalf("flow shows %q (original %q); want what was sent", done.Request.Body.Data, done.Original.Request.Body.Data)
		}
	})
}

// A blind tunnel whose client vanishes (a reset, or the proxy stopping)
// is released at once, even when the server neither speaks nor hangs up.
func TestBlindTunnelReleasedWhenClientVanishes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hold := make(chan struct{})
	defer close(hold)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "220 hello\r\n")
				io.Copy(io.Discard, c)
				<-hold // a server that does not hang up when its client does
			}()
		}
	}()
	env := mitmtest.Start(t, func(o *mitm.Options) { o.IgnoreHosts = []string{`^127\.0\.0\.1:`} })
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ln.Addr(), ln.Addr())
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT %v %v", resp, err)
	}
	if l, err := br.ReadString('\n'); err != nil || l != "220 hello\r\n" {
		t.Fatalf("greeting %q %v", l, err)
	}
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()                                                                                  // a reset, as from a client that crashed
	if !mitmtest.Within(5*time.Second, func() bool { return runtime.NumGoroutine() <= base+1 }) { // +1: the origin's handler
		n := runtime.NumGoroutine()
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before the tunnel:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// Plain HTTP inside a CONNECT tunnel: a client that leaves while its flow
// is paused releases the pause, as it does elsewhere.
func TestClientLeavesPlainTunnelWhilePaused(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t)
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /leave", Request: true}})
	host := srv.Listener.Addr().String()
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT %v %v", resp, err)
	}
	fmt.Fprintf(conn, "GET /leave HTTP/1.1\r\nHost: %s\r\nX-B: 1\r\nx-a: 2\r\n\r\n", host)
	f := waitPaused(t, env, flowstore.PhaseRequest)
	if want := fmt.Sprint(flowstore.Headers{{Name: "Host", Value: host}, {Name: "X-B", Value: "1"}, {Name: "x-a", Value: "2"}}); fmt.Sprint(f.Request.Headers) != want {
		t.Errorf("headers\n got %v\nwant %v", f.Request.Headers, want)
	}
	conn.Close()
	env.WaitState(f.ID, "released after the client left", func(g *flowstore.Flow) bool { return g.State.Final() })
}
