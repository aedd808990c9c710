package mitm_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// TestBadClientInput sends each kind of bad input over a raw connection.
// Each must get a 4xx or a closed connection (never a hang), leave an error
// flow where there was a request to record, and leave the proxy serving
// others with no goroutine left behind.
func TestBadClientInput(t *testing.T) {
	origin := httptest.NewServer(echo())
	defer origin.Close()
	host := origin.Listener.Addr().String()
	u := origin.URL

	cases := []struct {
		name       string
		send       string
		halfClose  bool
		wantStatus int    // 0: a closed connection is fine too
		wantFlow   string // substring of the flow error; "" when no flow is expected
		path       string
	}{
		{name: "malformed request line", send: "GARBAGE\r\n\r\n", wantStatus: 400},
		{name: "bad header syntax", send: "GET " + u + "/h HTTP/1.1\r\nHost " + host + "\r\n\r\n", wantStatus: 400},
		{name: "non-HTTP bytes", send: "\x00\x01\x02\xff\xfe binary junk\r\n\r\n", wantStatus: 400},
		{name: "oversized headers", send: "GET " + u + "/big HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", wantStatus: 431},
		{name: "both Content-Length and Transfer-Encoding", send: "POST " + u + "/smuggle HTTP/1.1\r\nHost: " + host +
			"\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n", wantStatus: 400},
		{name: "invalid chunk size", send: "POST " + u + "/chunk HTTP/1.1\r\nHost: " + host +
			"\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n", wantStatus: 400, wantFlow: "request body", path: "/chunk"},
		{name: "Content-Length longer than the body", send: "POST " + u + "/short HTTP/1.1\r\nHost: " + host +
			"\r\nContent-Length: 100\r\n\r\nonly this", halfClose: true, wantFlow: "request body", path: "/short"},
		{name: "half-closed after a whole request", send: "GET " + u + "/half HTTP/1.1\r\nHost: " + host + "\r\n\r\n", halfClose: true},
		{name: "TLS garbage after CONNECT", send: "CONNECT " + host + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n\x16\x03\x01\x00\x05hello garbage"},
		{name: "slow client never finishes its headers", send: "GET " + u + "/slow HTTP/1.1\r\nHost: " + host + "\r\nX-Partial:"},
	}
	env := mitmtest.Start(t, func(o *mitm.Options) { o.HeaderTimeout = 300 * time.Millisecond })
	client := env.Client()
	ok := func() {
		t.Helper()
		resp, err := client.Get(u + "/still-serving")
		if err != nil {
			t.Fatalf("the proxy stopped serving: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("a normal request got %d", resp.StatusCode)
		}
	}
	ok()
	client.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond)
	base := runtime.NumGoroutine()

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", env.URL.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tc.send); err != nil {
				t.Fatal(err)
			}
			if tc.halfClose {
				conn.(*net.TCPConn).CloseWrite()
			}
			reply, err := io.ReadAll(conn) // the proxy must answer and/or close
			if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
				t.Fatalf("the proxy neither answered nor closed within 5s; got %q", reply)
			}
			if tc.wantStatus != 0 {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(reply)), nil)
				if err != nil || resp.StatusCode != tc.wantStatus {
					t.Fatalf("reply %.200q: want status %d", reply, tc.wantStatus)
				}
			} else if len(reply) > 0 && !bytes.HasPrefix(reply, []byte("HTTP/1.")) {
				t.Fatalf("reply %.200q is not HTTP", reply)
			}
			if tc.wantFlow != "" {
				f := env.WaitFlow(u + tc.path)
				if f.State != flowstore.StateError || f.Error == nil || !strings.Contains(f.Error.Message, tc.wantFlow) {
					t.Fatalf("flow state %v error %+v", f.State, f.Error)
				}
			}
			ok()
		})
	}
	client.CloseIdleConnections()
	if !mitmtest.Within(5*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
		n := runtime.NumGoroutine()
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before the bad input:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestUpstreamFaults: an origin that resets mid-body, stalls, or does not
// speak HTTP gives the client a clear answer (or a cut body) and the flow
// an error.
func TestUpstreamFaults(t *testing.T) {
	raw := func(handle func(net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					bufio.NewReader(c).ReadString('\n')
					handle(c)
				}()
			}
		}()
		return "http://" + ln.Addr().String()
	}
	reset := raw(func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst part")
		time.Sleep(50 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0) // RST, not FIN
	})
	stall := raw(func(c net.Conn) { time.Sleep(3 * time.Second) })
	notHTTP := raw(func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2\r\n") })

	env := mitmtest.Start(t, func(o *mitm.Options) { o.ResponseTimeout = 300 * time.Millisecond })
	client := env.Client()

	t.Run("reset mid-body", func(t *testing.T) {
		resp, err := client.Get(reset + "/r")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && len(body) == 1000 {
			t.Fatal("the client got a whole body from an origin that reset")
		}
		f := env.WaitFlow(reset + "/r")
		if f.State != flowstore.StateError || !strings.Contains(f.Error.Message, "upstream") || string(f.Response.Body.Data) != "first part" {
			t.Fatalf("flow %v %+v body %q", f.State, f.Error, f.Response.Body.Data)
		}
	})
	for _, tc := range []struct {
		name, url string
		status    int
		msg       string
	}{
		{"stall", stall + "/s", 504, "timed out"},
		{"not HTTP", notHTTP + "/n", 502, "HTTP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.msg) {
				t.Fatalf("got %d %q, want %d mentioning %q", resp.StatusCode, body, tc.status, tc.msg)
			}
			f := env.WaitFlow(tc.url)
			if f.Error == nil || !strings.Contains(f.Error.Message, tc.msg) {
				t.Fatalf("flow error %+v", f.Error)
			}
		})
	}
	_ = fmt.Sprint
}
