package mitm

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
)

func TestSOCKSHandshake(t *testing.T) {
	p := &Proxy{}
	tests := []struct {
		name, in, target, reply, err string
		auth                         string
	}{
		{name: "ipv4", in: "\x05\x01\x00" + "\x05\x01\x00\x01\x7f\x00\x00\x01\x01\xbb", target: "127.0.0.1:443", reply: "\x05\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"},
		{name: "name", in: "\x05\x02\x02\x00" + "\x05\x01\x00\x03\x0bexample.com\x00\x50", target: "example.com:80", reply: "\x05\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"},
		{name: "ipv6", in: "\x05\x01\x00" + "\x05\x01\x00\x04" + strings.Repeat("\x00", 15) + "\x01\x00\x16", target: "[::1]:22"},
		{name: "auth", auth: "alice:pw", in: "\x05\x01\x02" + "\x01\x05alice\x02pw" + "\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50", target: "127.0.0.1:80", reply: "\x05\x02" + "\x01\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"},
		{name: "wrong password", auth: "alice:pw", in: "\x05\x01\x02" + "\x01\x05alice\x02no", reply: "\x05\x02\x01\x01", err: "wrong username or password"},
		{name: "auth required", auth: "alice:pw", in: "\x05\x01\x00", reply: "\x05\xff", err: "requires"},
		{name: "http", in: "GET / HTTP/1.1\r\n", err: "not a SOCKS5 greeting"},
		{name: "bind", in: "\x05\x01\x00" + "\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", err: "not CONNECT", reply: "\x05\x00" + "\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00"},
		{name: "bad address type", in: "\x05\x01\x00" + "\x05\x01\x00\x09", err: "address type", reply: "\x05\x00" + "\x05\x08\x00\x01\x00\x00\x00\x00\x00\x00"},
		{name: "cut short", in: "\x05\x01\x00" + "\x05\x01\x00\x01\x7f", err: "reading the address"},
		{name: "empty name", in: "\x05\x01\x00" + "\x05\x01\x00\x03\x00\x00\x50", err: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.opts.ProxyAuth = tt.auth
			var out bytes.Buffer
			target, err := p.socksHandshake(bufio.NewReader(strings.NewReader(tt.in)), &out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
			} else if err != nil || target != tt.target {
				t.Fatalf("target %q error %v, want %q", target, err, tt.target)
			}
			if tt.reply != "" && out.String() != tt.reply {
				t.Fatalf("replied %q, want %q", out.String(), tt.reply)
			}
		})
	}
}

// FuzzSOCKSHandshake: whatever a client sends, the handshake ends with a
// target that can be dialled or an error, never a panic.
func FuzzSOCKSHandshake(f *testing.F) {
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x01\xbb"), false)
	f.Add([]byte("\x05\x01\x02\x01\x05alice\x02pw\x05\x01\x00\x03\x0bexample.com\x00\x50"), true)
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x16"), false)
	f.Fuzz(func(t *testing.T, in []byte, auth bool) {
		p := &Proxy{}
		if auth {
			p.opts.ProxyAuth = "alice:pw"
		}
		target, err := p.socksHandshake(bufio.NewReader(bytes.NewReader(in)), &bytes.Buffer{})
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(target); err != nil {
			t.Fatalf("%q gave the target %q: %v", in, target, err)
		}
	})
}
