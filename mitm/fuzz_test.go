package mitm_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// FuzzProxyRequest writes arbitrary bytes to the proxy as a client would.
// The proxy must not panic (that would end the test binary) and must answer
// or close within its header timeout, never hang. Every upstream dial is
// kept on loopback: only the test origin can be reached.
func FuzzProxyRequest(f *testing.F) {
	origin := httptest.NewServer(echo())
	defer origin.Close()
	o := origin.Listener.Addr().String()
	for _, s := range []string{
		"GET " + origin.URL + "/ HTTP/1.1\r\nHost: " + o + "\r\n\r\n",
		"POST " + origin.URL + "/p HTTP/1.1\r\nHost: " + o + "\r\nContent-Length: 3\r\n\r\nabc",
		"POST " + origin.URL + "/c HTTP/1.1\r\nHost: " + o + "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"CONNECT " + o + " HTTP/1.1\r\nHost: " + o + "\r\n\r\nGET / HTTP/1.1\r\nHost: " + o + "\r\n\r\n",
		"CONNECT " + o + " HTTP/1.0\r\n\r\n\x16\x03\x01\x00\x10garbage",
		"GET / HTTP/1.1\r\n\r\n",
		"GET http://interceptor.tui/ HTTP/1.1\r\n\r\n",
		"\x00\xff\r\n\r\n",
		"GET " + origin.URL + "/ HTTP/1.1\r\nHost: " + o + "\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	env := mitmtest.Start(f, func(opt *mitm.Options) {
		opt.HeaderTimeout = 200 * time.Millisecond
		opt.PeekTimeout = 100 * time.Millisecond
		opt.ResponseTimeout = time.Second
		opt.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != o && !strings.HasSuffix(addr, ":"+strings.Split(o, ":")[1]) {
				return nil, errors.New("fuzz: dial refused: " + addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, o)
		}
	})
	f.Fuzz(func(t *testing.T, in []byte) {
		conn, err := net.Dial("tcp", env.URL.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(in)
		conn.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, conn); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the proxy neither answered nor closed within 5s for %q", in)
			}
		}
	})
}
