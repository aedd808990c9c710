package wire_test

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

func TestSplitURL(t *testing.T) {
	tests := []struct {
		in                 string
		scheme, host, path string
		port               int
		err                string
	}{
		{in: "http://example.com", scheme: "http", host: "example.com", port: 80, path: "/"},
		{in: "HTTPS://Example.com:8443/a%2Fb/../c?x=1&y=%zz#frag", scheme: "https", host: "Example.com", port: 8443, path: "/a%2Fb/../c?x=1&y=%zz"},
		{in: "https://h?q", scheme: "https", host: "h", port: 443, path: "/?q"},
		{in: "http://[::1]:9/p", scheme: "http", host: "::1", port: 9, path: "/p"},
		{in: "http://[fe80::1%25eth0]/", scheme: "http", host: "fe80::1%25eth0", port: 80, path: "/"},
		{in: "wss://ws.example/s", scheme: "wss", host: "ws.example", port: 443, path: "/s"},
		{in: "http://bücher.example/ä b", scheme: "http", host: "bücher.example", port: 80, path: "/ä b"},
		{in: "/relative", err: "not an absolute URL"},
		{in: "ftp://x/", err: `unsupported scheme "ftp"`},
		{in: "http:///p", err: "no host"},
		{in: "http://:80/", err: "no host"},
		{in: "http://a:b/", err: `bad port "b"`},
		{in: "http://a:0/", err: `bad port "0"`},
		{in: "http://a:+80/", err: `bad port "+80"`},
		{in: "http://a b/", err: `bad host "a b"`},
		{in: "http://[::1/", err: "missing ]"},
		{in: "http://[zz]/", err: "bad IPv6 address"},
		{in: "http://u:p@h/", err: "Authorization header"},
		{in: "http://h/a\nb", err: "control character"},
	}
	for _, tt := range tests {
		scheme, host, port, path, err := wire.SplitURL(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitURL(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || scheme != tt.scheme || host != tt.host || port != tt.port || path != tt.path {
			t.Errorf("SplitURL(%q) = %q %q %d %q %v, want %q %q %d %q", tt.in, scheme, host, port, path, err, tt.scheme, tt.host, tt.port, tt.path)
		}
		// What Request.URL builds from the parts splits back to them.
		r := flowstore.Request{Scheme: scheme, Host: host, Port: port, Path: path}
		if s2, h2, p2, path2, err := wire.SplitURL(r.URL()); err != nil || s2 != scheme || h2 != host || p2 != port || path2 != path {
			t.Errorf("SplitURL(%q) does not round-trip: %q %q %d %q %v", r.URL(), s2, h2, p2, path2, err)
		}
	}
}

func TestHeads(t *testing.T) {
	req := &flowstore.Request{Method: "GET", Scheme: "https", Host: "h", Port: 443, Path: "/x?y", Proto: "HTTP/2.0",
		Headers: flowstore.Headers{{Name: "accept", Value: "*/*"}}}
	if got := string(wire.AppendRequestHead(nil, req)); got != "GET /x?y HTTP/1.1\r\nHost: h\r\naccept: */*\r\n\r\n" {
		t.Errorf("HTTP/2 request head %q", got)
	}
	resp := &flowstore.Response{Status: 204, Proto: "HTTP/1.0", Headers: flowstore.Headers{{Name: "X", Value: "1"}}}
	if got := string(wire.AppendResponseHead(nil, resp)); got != "HTTP/1.0 204 \r\nX: 1\r\n\r\n" {
		t.Errorf("response head %q", got)
	}
	for h, want := range map[string]bool{"chunked": true, "gzip, chunked": true, "chunked, gzip": false, "": false} {
		hs := flowstore.Headers{}
		if h != "" {
			hs.Add("Transfer-Encoding", h)
		}
		if wire.Chunked(hs) != want {
			t.Errorf("Chunked(%q) = %v", h, !want)
		}
	}
	if _, ok := wire.ContentEncoding(flowstore.Headers{{Name: "Content-Encoding", Value: "gzip, br"}, {Name: "Content-Encoding", Value: "zstd"}}); !ok {
		t.Error("three codings refused")
	}
	if _, ok := wire.ContentEncoding(flowstore.Headers{{Name: "Content-Encoding", Value: strings.Repeat("gzip,", 5) + "gzip"}}); ok {
		t.Error("six codings accepted")
	}
}
