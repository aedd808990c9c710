package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// proxyProc is one proxy under test, running as a child process.
type proxyProc struct {
	name     string
	addr     string // 127.0.0.1:port it listens on
	pool     *x509.CertPool
	settings string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, once done is closed
	lines  atomic.Int64  // newlines it wrote on stdout
	stderr tail
	drain  sync.WaitGroup
}

// launch describes how to start one proxy kind.
type launch struct {
	argv     []string
	env      []string
	caFile   string // the CA the proxy generates, which the client must trust
	settings string // for the report
}

// benchEnv is what every proxy start needs.
type benchEnv struct {
	tmp       string
	self      string // this executable, for bare-goproxy
	binary    string // interceptor-tui
	baseline  string // another build of it, or ""
	originCA  string
	pin       bool
	sequence  int
	maxFlows  int // --max-flows for ours, 0 to leave the default
	bareClose bool
	relayTo   string // the origin address the relay forwards to
	profiles  string // directory for CPU profiles, "" for none
	tag       string // scenario and origin kind of the next start, for profile names
	mitmdump  string
	procsLive sync.Map // *proxyProc → struct{}, for the signal handler
}

func (e *benchEnv) launchFor(name, addr string) (launch, error) {
	e.sequence++
	dir := filepath.Join(e.tmp, fmt.Sprintf("%s-%d", name, e.sequence))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return launch{}, err
	}
	host, port, _ := net.SplitHostPort(addr)
	switch name {
	case proxyRelay:
		return launch{argv: []string{e.self, "relay", "--listen", addr, "--to", e.relayTo}, settings: "a TCP relay to " + e.relayTo}, nil
	case proxyGoproxy:
		argv := []string{e.self, "bare-goproxy", "--listen", addr, "--ca-dir", dir, "--upstream-ca", e.originCA}
		settings := "AllowHTTP2 (h2 to clients that offer it), HTTP/1.1 upstream, upstream connections kept when the client closes"
		if e.bareClose {
			argv = append(argv, "--forward-close")
			settings = "AllowHTTP2, HTTP/1.1 upstream, --forward-close: a client's Connection: close closes upstream too"
		}
		argv = append(argv, e.profileArgs(name)...)
		return launch{argv: argv, caFile: filepath.Join(dir, "ca.pem"), settings: settings}, nil
	case proxyOurs, proxyBaseline:
		bin := e.binary
		if name == proxyBaseline {
			bin = e.baseline
		}
		argv := []string{bin, "--headless", "--listen", addr, "--upstream-ca", e.originCA}
		settings := "--headless, defaults"
		if e.maxFlows > 0 {
			argv = append(argv, "--max-flows", strconv.Itoa(e.maxFlows))
			settings = "--headless --max-flows " + strconv.Itoa(e.maxFlows)
		}
		argv = append(argv, e.profileArgs(name)...)
		return launch{
			argv:     argv,
			env:      []string{"INTERCEPTOR_TUI_HOME=" + dir},
			caFile:   filepath.Join(dir, "ca.pem"),
			settings: settings,
		}, nil
	case proxyMitmdump:
		return launch{
			argv: []string{e.mitmdump, "-q", "--listen-host", host, "--listen-port", port,
				"--set", "confdir=" + dir, "--ssl-insecure", "--set", "stream_large_bodies=1m"},
			caFile:   filepath.Join(dir, "mitmproxy-ca-cert.pem"),
			settings: "-q --ssl-insecure --set stream_large_bodies=1m",
		}, nil
	}
	return launch{}, fmt.Errorf("unknown proxy %q", name)
}

// profileArgs asks a proxy of ours (bare goproxy or interceptor-tui) for a
// CPU profile named after the proxy, the scenario and origin kind, and this
// start (NAME-SCENARIO-ORIGIN-N.prof).
func (e *benchEnv) profileArgs(name string) []string {
	if e.profiles == "" {
		return nil
	}
	base := name
	if e.tag != "" {
		base += "-" + e.tag
	}
	return []string{"--cpuprofile", filepath.Join(e.profiles, fmt.Sprintf("%s-%d.prof", base, e.sequence))}
}

// startProxy starts a fresh instance of the named proxy and waits until it
// accepts connections and its CA file exists.
func (e *benchEnv) startProxy(ctx context.Context, name string) (*proxyProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	l, err := e.launchFor(name, addr)
	if err != nil {
		return nil, err
	}
	argv := l.argv
	if e.pin {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnv(), l.env...)
	cmd.Stdin = nil
	setProcAttr(cmd)
	p := &proxyProc{name: name, addr: addr, cmd: cmd, done: make(chan struct{}), settings: l.settings}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	e.procsLive.Store(p, struct{}{})
	// interceptor-tui prints one line per flow: read everything, always,
	// so the proxy never blocks on a full pipe.
	p.drain.Add(2)
	go func() {
		defer p.drain.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := stdout.Read(buf)
			p.lines.Add(int64(bytes.Count(buf[:n], []byte{'\n'})))
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.drain.Done()
		_, _ = io.Copy(&p.stderr, stderr)
	}()
	go func() {
		p.drain.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			if l.caFile == "" {
				return p, nil // the relay: the client trusts the origin itself
			}
			if pem, err := os.ReadFile(l.caFile); err == nil {
				pool := x509.NewCertPool()
				if pool.AppendCertsFromPEM(pem) {
					p.pool = pool
					return p, nil
				}
			}
		}
		select {
		case <-p.done:
			e.procsLive.Delete(p)
			return nil, fmt.Errorf("%s exited before it was ready (%v): %s", name, p.err, p.stderr.String())
		case <-ctx.Done():
			e.stop(p)
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop(p)
			return nil, fmt.Errorf("%s not listening on %s after 30s: %s", name, addr, p.stderr.String())
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL if it lingers.
func (e *benchEnv) stop(p *proxyProc) {
	defer e.procsLive.Delete(p)
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// killAll is for the way out on a signal: no grace.
func (e *benchEnv) killAll() {
	e.procsLive.Range(func(k, _ any) bool {
		_ = k.(*proxyProc).cmd.Process.Kill()
		return true
	})
}

// alive reports an error if the proxy has died.
func (p *proxyProc) alive() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v): %s", p.name, p.err, p.stderr.String())
	default:
		return nil
	}
}

// memory reads VmRSS and VmHWM (KiB) of the process.
func (p *proxyProc) memory() (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseStatusMemory(f)
}

// parseStatusMemory reads VmRSS and VmHWM, in KiB, from /proc/PID/status.
func parseStatusMemory(r io.Reader) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("no VmRSS/VmHWM in status")
	}
	return rss, hwm, nil
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// cleanEnv is our environment without proxy settings, which would send a
// proxy's upstream traffic somewhere else.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "INTERCEPTOR_TUI_HOME":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// tail keeps the last few KiB written to it: a dying proxy's last words.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
