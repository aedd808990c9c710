package mitm

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

var testLimits = headLimits{bytes: 64 << 10, lines: 100}

func TestRequestFraming(t *testing.T) {
	tests := []struct {
		head   string
		http10 bool
		frame  framing
		n      int64
		status int // of the refusal; 0: accepted
	}{
		{head: "Content-Length: 5", frame: frameLength, n: 5},
		{head: "Content-Length: 0", frame: frameNone},
		{head: "Content-Length: 5, 5", frame: frameLength, n: 5},
		{head: "Content-Length: 5\nContent-Length: 5", frame: frameLength, n: 5},
		{head: "Content-Length: 5\nContent-Length: 6", status: 400},
		{head: "Content-Length: +5", status: 400},
		{head: "Content-Length: -1", status: 400},
		{head: "Content-Length: 99999999999999999999", status: 400},
		{head: "Content-Length: ", status: 400},
		{head: "Transfer-Encoding: chunked", frame: frameChunked, n: -1},
		{head: "Transfer-Encoding: CHUNKED", frame: frameChunked, n: -1},
		{head: "Transfer-Encoding: chunked\nContent-Length: 3", status: 400},
		{head: "Transfer-Encoding: chunked, identity", status: 400},
		{head: "Transfer-Encoding: gzip, chunked", status: 501},
		{head: "Transfer-Encoding: chunked\nTransfer-Encoding: chunked", status: 501},
		{head: "Transfer-Encoding: chunked", http10: true, status: 400},
		{head: "Transfer-Encoding: ", status: 400},
		{head: "X-Other: 1", frame: frameNone},
	}
	for _, tt := range tests {
		var hs flowstore.Headers
		for _, line := range strings.Split(tt.head, "\n") {
			name, value, _ := strings.Cut(line, ":")
			hs = append(hs, flowstore.Header{Name: name, Value: strings.TrimSpace(value)})
		}
		frame, n, err := requestFraming(hs, tt.http10)
		if tt.status != 0 {
			we, ok := err.(*wireError)
			if !ok || we.status != tt.status {
				t.Errorf("%q: error %v, want a %d", tt.head, err, tt.status)
			}
			continue
		}
		if err != nil || frame != tt.frame || n != tt.n {
			t.Errorf("%q: %v %d %v, want %v %d", tt.head, frame, n, err, tt.frame, tt.n)
		}
	}
}

func TestChunkedReader(t *testing.T) {
	tests := []struct {
		in, body, trailers string
		bad                bool
	}{
		{in: "3\r\nabc\r\n0\r\n\r\n", body: "abc"},
		{in: "3;ext=1\r\nabc\r\n0\r\n\r\n", body: "abc"},
		{in: "A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", body: "0123456789", trailers: "X-T: 1"},
		{in: "3\nabc\r\n0\r\n\r\n", bad: true},    // a line ended by LF alone
		{in: "3\r\nabcd\r\n0\r\n\r\n", bad: true}, // data longer than its size
		{in: "zz\r\nabc\r\n0\r\n\r\n", bad: true},
		{in: "fffffffffffffffff\r\n", bad: true},
		{in: "-3\r\nabc\r\n0\r\n\r\n", bad: true},
		{in: "\r\n", bad: true},
		{in: "3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n", bad: true},
	}
	for _, tt := range tests {
		cr := newChunkedReader(bufio.NewReader(strings.NewReader(tt.in)), testLimits)
		body, err := io.ReadAll(cr)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: read %q without an error", tt.in, body)
			}
			continue
		}
		if err != nil || string(body) != tt.body || cr.trailers.String() != tt.trailers {
			t.Errorf("%q: %q %q %v, want %q %q", tt.in, body, cr.trailers.String(), err, tt.body, tt.trailers)
		}
	}
}

// FuzzHead reads arbitrary bytes as a request head: it must not panic, and
// a head it accepts is written back as a head that reads the same.
func FuzzHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\nx-B: 1\r\nx-b: 2\r\n\r\n",
		"POST http://a/p?q HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
		"\r\nGET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nX: \x01\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A : 1\r\n\r\n",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(strings.Replace(s, "GET / HTTP/1.1", "HTTP/1.1 200 OK", 1)), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, request bool) {
		h, err := readHead(bufio.NewReader(bytes.NewReader(in)), testLimits, request, nil)
		if err != nil {
			return
		}
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		writeHead(bw, h.a, h.b, h.c, h.hs)
		bw.Flush()
		again, err := readHead(bufio.NewReader(&out), testLimits, request, nil)
		if err != nil {
			t.Fatalf("%q read, written as %q, does not read again: %v", in, out.String(), err)
		}
		if again.a != h.a || again.b != h.b || again.c != h.c || !slices.Equal(again.hs, h.hs) {
			t.Fatalf("%q: read %+v, written and read again %+v", in, h, again)
		}
		if request {
			requestFraming(h.hs, h.c == "HTTP/1.0")
		}
	})
}
