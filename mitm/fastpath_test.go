package mitm_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// rawOrigin serves each connection with answer (given the connection's
// number and the request) until answer returns false, then closes it.
func rawOrigin(t *testing.T, answer func(n int, w io.Writer, r *http.Request) bool) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(conns.Add(1))
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if !answer(n, c, r) {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, b)
	}
	return string(b)
}

// An origin that closes a kept connection after each answer (without
// saying so) costs nothing but a new connection: every request through
// the proxy still gets its own answer.
func TestOriginClosingKeptConnections(t *testing.T) {
	addr, conns := rawOrigin(t, func(n int, w io.Writer, r *http.Request) bool {
		body := fmt.Sprintf("conn %d %s", n, r.URL.Path)
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return false
	})
	env := mitmtest.Start(t)
	client := env.Client()
	for i := 1; i <= 4; i++ {
		u := fmt.Sprintf("http://%s/r%d", addr, i)
		if got, want := get(t, client, u), fmt.Sprintf("conn %d /r%d", i, i); got != want {
			t.Fatalf("request %d got %q, want %q", i, got, want)
		}
	}
	if n := conns.Load(); n != 4 {
		t.Fatalf("origin saw %d connections, want 4 (one per answer)", n)
	}
	for _, f := range env.WaitFlows(4) {
		if f.Error != nil {
			t.Fatalf("flow %s failed: %v", f.Request.URL(), f.Error.Message)
		}
	}
}

// Bytes an origin sends after a response, unasked, must never pass for
// the answer to the next request: the connection they came on is dropped.
func TestUnaskedBytesAfterAResponseAreNotTheNextAnswer(t *testing.T) {
	addr, _ := rawOrigin(t, func(n int, w io.Writer, r *http.Request) bool {
		body := fmt.Sprintf("real %s", r.URL.Path)
		fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		if n == 1 {
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!")
		}
		return true
	})
	env := mitmtest.Start(t)
	client := env.Client()
	for i := 1; i <= 3; i++ {
		u := fmt.Sprintf("http://%s/r%d", addr, i)
		if got, want := get(t, client, u), fmt.Sprintf("real /r%d", i); got != want {
			t.Fatalf("request %d got %q, want %q", i, got, want)
		}
	}
}

// The first request of an HTTP/2 client to an HTTPS origin that speaks
// HTTP/2 opens one connection, which then carries that request and the
// next ones over HTTP/2: the flow says so, and the origin sees one
// handshake. An HTTP/1.1 client's requests to the same origin go over
// HTTP/1.1, as the client spoke (and as mitmproxy does).
func TestHTTP2OriginKeepsOneConnection(t *testing.T) {
	secure, conns := countedTLSOrigin(t, true)
	env := mitmtest.Start(t, trustOrigin(secure))
	client := env.ClientH2()
	for i := 0; i < 3; i++ {
		get(t, client, fmt.Sprintf("%s/h2/%d", secure.URL, i))
	}
	for _, f := range env.WaitFlows(3) {
		if f.Response == nil || f.Response.Proto != "HTTP/2.0" {
			t.Fatalf("flow %s: response %+v, want HTTP/2.0 from the origin", f.Request.URL(), f.Response)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("origin saw %d connections, want 1", n)
	}
	h1 := env.Client()
	for i := 0; i < 3; i++ {
		get(t, h1, fmt.Sprintf("%s/h1/%d", secure.URL, i))
	}
	for _, f := range env.WaitFlows(6) {
		if strings.Contains(f.Request.Path, "/h1/") && (f.Response == nil || f.Response.Proto != "HTTP/1.1" || f.Server.TLS.ALPN == "h2") {
			t.Fatalf("flow %s: response %s, TLS %+v, want HTTP/1.1 for an HTTP/1.1 client", f.Request.URL(), f.Response.Proto, f.Server.TLS)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("origin saw %d connections, want 2 (one kept for each protocol)", n)
	}
}

// A client that leaves a stream it fetched over a kept connection ends the
// upstream side too: the origin stops sending and the flow ends, instead of
// the proxy reading the rest of an endless body.
func TestClientLeavesAStreamOnAKeptConnection(t *testing.T) {
	originGone, stop := make(chan struct{}), make(chan struct{})
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(originGone)
		for {
			if _, err := w.Write(make([]byte, 1024)); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}))
	defer origin.Close()
	defer close(stop)
	env := mitmtest.Start(t, trustOrigin(origin))
	client := env.Client()
	resp, err := client.Get(origin.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	select {
	case <-originGone:
	case <-time.After(5 * time.Second):
		t.Fatal("the origin was still streaming 5 s after the client left")
	}
	f := env.WaitFlow(origin.URL + "/stream")
	if f.Error == nil {
		t.Fatalf("flow ended %v without an error, want the client leaving recorded", f.State)
	}
}

// An origin whose response head never ends is cut off at the Transport's
// bound (10 MiB) with a 502 that says so, not read into memory for ever.
func TestEndlessResponseHeadIsRefused(t *testing.T) {
	addr, _ := rawOrigin(t, func(n int, w io.Writer, r *http.Request) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\n")
		line := []byte("X-Filler: " + strings.Repeat("y", 1000) + "\r\n")
		for sent := 0; sent < 12<<20; sent += len(line) {
			if _, err := w.Write(line); err != nil {
				return false
			}
		}
		time.Sleep(5 * time.Second) // the head stays unfinished
		return false
	})
	env := mitmtest.Start(t)
	resp, err := env.Client().Get("http://" + addr + "/big-head")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "exceeded") {
		t.Fatalf("got %d %q, want a 502 saying the head was too large", resp.StatusCode, body)
	}
}
