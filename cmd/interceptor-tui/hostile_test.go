package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
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

// A flow file with escapes in its text and impossible numbers: --load
// prints the text escaped, warns once per bad value with the line, flow,
// field and what was done, keeps every other flow, and goes on serving.
func TestHeadlessLoadOfAHostileFile(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(t.TempDir(), "hostile.jsonl")
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	good := flowtest.New(flowtest.URL("http://good.test/ok"))
	good.ID = "good"
	s.Save(good)
	escapes := flowtest.New(flowtest.Method("GE\x1b[2JT"), flowtest.RespHeader("X-Evil", "\x1b]0;owned\x07"))
	escapes.ID = "escapes\x07"
	escapes.Request.Host = "evil\x1b(0host\x07.test"
	escapes.Request.Path = "/p\x07ath"
	escapes.Response.Reason = "OK\x1b]0;owned\x07\x1b[2J"
	s.Save(escapes)
	numbers := func(id string, mod func(map[string]any)) {
		f := flowtest.New(flowtest.URL("http://" + id + ".test/"))
		f.ID = id
		line, _ := flowstore.MarshalLine(f)
		var m map[string]any
		json.Unmarshal(line, &m)
		mod(m)
		b, _ := json.Marshal(m)
		buf.Write(append(b, '\n'))
	}
	numbers("status", func(m map[string]any) { m["response"].(map[string]any)["status"] = json.Number("99999999999") })
	numbers("port", func(m map[string]any) { m["request"].(map[string]any)["port"] = json.Number("99999999999") })
	numbers("size", func(m map[string]any) {
		m["response"].(map[string]any)["body"].(map[string]any)["size"] = json.Number("1000000000000000000")
	})
	buf.WriteString("{\"id\": \"cut\", \"request\": {\"meth")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startHeadless(t, home, "--load", path)
	lines := p.waitLines(4)
	time.Sleep(200 * time.Millisecond) // nothing more comes
	lines = p.lines()
	// It still serves.
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}, Timeout: 5 * time.Second}
	if resp, err := client.Get("http://interceptor.tui/"); err != nil {
		t.Fatalf("the proxy stopped serving after the load: %v", err)
	} else {
		resp.Body.Close()
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out, errText := strings.Join(lines, "\n"), p.errText()
	for name, text := range map[string]string{"stdout": out, "stderr": errText} {
		if c, ok := terminalControl(text); ok {
			t.Errorf("raw %#x on %s:\n%s", c, name, text)
		}
	}
	for _, want := range []string{
		"GET http://good.test/ok 200 OK 5B",
		`GE\x1b[2JT http://evil\x1b(0host\x07.test/p\x07ath 200 OK\x1b]0;owned\x07\x1b[2J 5B`,
		"GET http://status.test/ 7ms !! the loaded file's response had status 99999999999, which is not an HTTP status",
		"GET http://size.test/ 200 OK 5B",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "port.test") {
		t.Errorf("the flow with port 99999999999 was loaded:\n%s", out)
	}
	for _, want := range []string{
		path + ": line 3: flow status: response status 99999999999 is not an HTTP status (100-999); the response is dropped",
		path + ": line 4: flow port: request port 99999999999 is out of range (1-65535); flow dropped",
		path + ": line 5: flow size: response body size 1000000000000000000 is more than 1 TiB; set to the 5 bytes kept",
		path + ": line 6: last line is cut short (the writer was probably killed); skipped",
		path + ": 4 flows read, with 4 problems (above)",
	} {
		if !strings.Contains(errText, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errText)
		}
	}
}

// A file that is no flow file at all stops the start with a clear error.
func TestHeadlessLoadOfANonFlowFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(path, []byte("GET / HTTP/1.1\x1b[2J\n"), 0o600)
	cmd := exec.Command(binary, "--headless", "--listen", "127.0.0.1:0", "--load", path)
	cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("started with a non-flow file:\n%s", out)
	}
	if !strings.Contains(string(out), "--load: "+path+": not a flow file: neither JSON lines nor HAR") {
		t.Fatalf("output:\n%s", out)
	}
}
