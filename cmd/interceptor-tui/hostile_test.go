package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// terminalControl returns the first byte in s a terminal would act on.
func terminalControl(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			return c, true
		}
	}
	if strings.ContainsAny(s, "\u009b\u009d") {
		return 0x9b, true
	}
	return 0, false
}

// An origin whose reason phrase retitles and clears the terminal: the
// headless line shows the bytes escaped and writes none of them.
func TestHeadlessEscapesAnOriginsReasonPhrase(t *testing.T) {
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
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\x1b]0;owned\x07\x1b[2J\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
			}()
		}
	}()
	p := startHeadless(t, t.TempDir())
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}}
	resp, err := client.Get("http://" + ln.Addr().String() + "/title")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	line := p.waitLines(1)[0]
	p.stop()
	if c, ok := terminalControl(line); ok {
		t.Fatalf("raw %#x on stdout: %q", c, line)
	}
	if !strings.Contains(line, `/title 200 OK\x1b]0;owned\x07\x1b[2J 2B`) {
		t.Fatalf("line %q", line)
	}
	if c, ok := terminalControl(p.errText()); ok {
		t.Fatalf("raw %#x on stderr:\n%s", c, p.errText())
	}
}
