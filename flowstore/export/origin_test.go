package export_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// received is a request as an origin read it off the wire.
type received struct {
	Method, Target, Proto string
	Headers               flowstore.Headers // order and case as sent
	Body                  []byte            // de-chunked
}

// rawOrigin is an origin on 127.0.0.1 that records each request exactly as
// it arrived. net/http would canonicalise header names and lose their order,
// which is what these tests check.
type rawOrigin struct {
	ln   net.Listener
	reqs chan received
	errs chan error
}

func newRawOrigin(t *testing.T) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawOrigin{ln: ln, reqs: make(chan received, 16), errs: make(chan error, 16)}
	go o.serve()
	t.Cleanup(func() { ln.Close() })
	return o
}

func (o *rawOrigin) URL() string { return "http://" + o.ln.Addr().String() }

func (o *rawOrigin) serve() {
	for {
		conn, err := o.ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			r, err := readRequest(bufio.NewReader(conn), conn)
			if err != nil {
				o.errs <- err
				return
			}
			o.reqs <- r
			body := "ok"
			if r.Method == "HEAD" {
				body = ""
			}
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n%s", body)
		}()
	}
}

func readRequest(br *bufio.Reader, w io.Writer) (received, error) {
	var r received
	line, err := br.ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("request line: %w", err)
	}
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	if len(parts) != 3 {
		return r, fmt.Errorf("bad request line %q", line)
	}
	r.Method, r.Target, r.Proto = parts[0], parts[1], parts[2]
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return r, fmt.Errorf("headers: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return r, fmt.Errorf("bad header line %q", line)
		}
		r.Headers = append(r.Headers, flowstore.Header{Name: name, Value: strings.Trim(value, " \t")})
	}
	if strings.EqualFold(r.Headers.Get("Expect"), "100-continue") {
		io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
	}
	switch {
	case strings.EqualFold(r.Headers.Get("Transfer-Encoding"), "chunked"):
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return r, fmt.Errorf("chunk size: %w", err)
			}
			n, err := strconv.ParseInt(strings.TrimRight(line, "\r\n"), 16, 64)
			if err != nil {
				return r, fmt.Errorf("chunk size %q: %w", line, err)
			}
			if n == 0 {
				for { // trailers up to the blank line
					l, err := br.ReadString('\n')
					if err != nil || strings.TrimRight(l, "\r\n") == "" {
						return r, err
					}
				}
			}
			chunk := make([]byte, n+2)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return r, fmt.Errorf("chunk: %w", err)
			}
			r.Body = append(r.Body, chunk[:n]...)
		}
	case r.Headers.Has("Content-Length"):
		n, err := strconv.Atoi(r.Headers.Get("Content-Length"))
		if err != nil {
			return r, fmt.Errorf("Content-Length: %w", err)
		}
		r.Body = make([]byte, n)
		if _, err := io.ReadFull(br, r.Body); err != nil {
			return r, fmt.Errorf("body: %w", err)
		}
	}
	return r, nil
}

func (o *rawOrigin) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-o.reqs:
		return r
	case err := <-o.errs:
		t.Fatalf("origin: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("origin received nothing")
	}
	return received{}
}

// runShell runs a command line with `shell -c` in dir, failing the test on
// a non-zero exit. A command too long to be one argument (Linux caps each at
// 128 KiB; a person pasting into a shell meets no such limit) is run from a
// script file instead.
func runShell(t *testing.T, shell, dir, cmdline string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"-c", cmdline}
	if len(cmdline) > 100<<10 {
		script := filepath.Join(dir, "cmd.sh")
		if err := os.WriteFile(script, []byte(cmdline), 0o600); err != nil {
			t.Fatal(err)
		}
		args = []string{script}
	}
	cmd := exec.CommandContext(ctx, shell, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s failed: %v\n%s\ncommand:\n%s", shell, err, stderr.Bytes(), clip(cmdline))
	}
}

// shells are the POSIX shells present: /bin/sh (dash on Debian) and bash.
func shells(t *testing.T) []string {
	var out []string
	for _, s := range []string{"/bin/sh", "bash"} {
		if p, err := exec.LookPath(s); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skip("no POSIX shell found")
	}
	return out
}

func writeBodyFile(t *testing.T, dir, name string, body []byte) {
	t.Helper()
	if body != nil {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// clip shortens a long command for a failure message.
func clip(s string) string {
	if len(s) > 600 {
		return s[:300] + "\n[…]\n" + s[len(s)-300:]
	}
	return s
}
