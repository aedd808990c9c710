package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "itui-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "interceptor-tui")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is the real binary running headless.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	home   string
	mu     sync.Mutex
	stdout []string
	stderr bytes.Buffer
	done   chan struct{}
}

func startHeadless(t *testing.T, home string, args ...string) *proc {
	t.Helper()
	return startHeadlessAt(t, home, "127.0.0.1:0", args...)
}

func startHeadlessAt(t *testing.T, home, listen string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, home: home, done: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"--headless", "--listen", listen}, args...)...)
	p.cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+home, "HTTPS_PROXY=http://127.0.0.1:1", "HTTP_PROXY=http://127.0.0.1:1")
	p.cmd.Stdin = nil // /dev/null: headless needs no terminal
	stdout, _ := p.cmd.StdoutPipe()
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`listening on (\S+)`)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]: // the first listener's; the others are in stderr
				default:
				}
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout = append(p.stdout, sc.Text())
			p.mu.Unlock()
		}
		close(p.done)
	}()
	select {
	case p.addr = <-addrc:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("proxy did not start; stderr:\n%s", p.errText())
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) errText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stdout...)
}

// waitLines waits for n lines on stdout.
func (p *proc) waitLines(n int) []string {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ls := p.lines()
		if len(ls) >= n {
			return ls
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("waited for %d output lines, have %d: %q\nstderr:\n%s", n, len(ls), ls, p.errText())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("no exit within 10s of SIGTERM")
	}
	p.cmd.Wait()
	return p.cmd.ProcessState.ExitCode()
}

func needCurl(t *testing.T) string {
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install Debian package curl")
	}
	return path
}

// tlsOrigin is an HTTPS origin on 127.0.0.1 with a certificate from its own
// CA, written to a PEM file for --upstream-ca.
func tlsOrigin(t *testing.T, h http.Handler, h2 bool) (*httptest.Server, string) {
	t.Helper()
	ca, _, err := certs.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.NewLeaves(ca, 4).Get("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, ca.CertPath()
}

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s body=%s", r.Method, r.URL.Path, r.Proto, body)
	})
}

func TestCurlThroughHeadless(t *testing.T) {
	curl := needCurl(t)
	home := t.TempDir()
	srv, originCA := tlsOrigin(t, hello(), true)
	plain := httptest.NewServer(hello())
	defer plain.Close()
	save := filepath.Join(t.TempDir(), "flows.jsonl")
	p := startHeadless(t, home, "--upstream-ca", originCA, "--save", save)
	caPEM := filepath.Join(home, "ca.pem")

	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--proxy", "http://" + p.addr, "--cacert", caPEM}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s\nproxy stderr:\n%s", args, err, out, p.errText())
		}
		return string(out)
	}
	if got := run(plain.URL + "/plain"); got != "GET /plain HTTP/1.1 body=" {
		t.Errorf("plain: %q", got)
	}
	if got := run("--http1.1", "-d", "x=1", srv.URL+"/tls"); got != "POST /tls HTTP/1.1 body=x=1" {
		// an HTTP/1.1 client's request goes on in HTTP/1.1, as the client spoke it
		t.Errorf("https: %q", got)
	}
	if got := run("--http2", srv.URL+"/h2"); !strings.HasPrefix(got, "GET /h2 HTTP/2.0") {
		t.Errorf("h2: %q", got)
	}
	lines := p.waitLines(3)
	for i, want := range []string{"GET " + plain.URL + "/plain 200", "POST " + srv.URL + "/tls 200", "GET " + srv.URL + "/h2 200"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q does not contain %q", i, lines[i], want)
		}
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	flows, warns, err := readSaved(t, save)
	if err != nil || len(warns) > 0 || len(flows) != 3 {
		t.Fatalf("saved %d flows, warnings %v, err %v", len(flows), warns, err)
	}
	h2 := flows[2]
	if h2.Request.Proto != "HTTP/2.0" || h2.Response.Proto != "HTTP/2.0" {
		t.Errorf("curl --http2 flow: client side %s, origin side %s", h2.Request.Proto, h2.Response.Proto)
	}
	if flows[1].Request.Proto != "HTTP/1.1" || string(flows[1].Request.Body.Data) != "x=1" {
		t.Errorf("curl --http1.1 flow: %s body %q", flows[1].Request.Proto, flows[1].Request.Body.Data)
	}
}

func TestCurlGetsFirstChunkBeforeTheLast(t *testing.T) {
	curl := needCurl(t)
	release := make(chan struct{})
	srv, originCA := tlsOrigin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		fmt.Fprint(w, "last\n")
	}), false)
	home := t.TempDir()
	p := startHeadless(t, home, "--upstream-ca", originCA)
	cmd := exec.Command(curl, "-sS", "-N", "--proxy", "http://"+p.addr, "--cacert", filepath.Join(home, "ca.pem"), srv.URL+"/chunks")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	got := make(chan string, 1)
	go func() { l, _ := br.ReadString('\n'); got <- l }()
	select {
	case l := <-got:
		if l != "first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("curl did not see the first chunk while the origin held back the last")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	cmd.Wait()
	if string(rest) != "last\n" {
		t.Fatalf("rest %q", rest)
	}
}

func TestSaveThenLoad(t *testing.T) {
	home := t.TempDir()
	plain := httptest.NewServer(hello())
	defer plain.Close()
	save := filepath.Join(t.TempDir(), "flows.jsonl")
	p := startHeadless(t, home, "--save", save)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}}
	for i := 0; i < 3; i++ {
		resp, err := client.Post(fmt.Sprintf("%s/n%d", plain.URL, i), "text/plain", strings.NewReader(fmt.Sprint("body", i)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.waitLines(3)
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	t.Run("load", func(t *testing.T) {
		q := startHeadless(t, home, "--load", save)
		lines := q.waitLines(3)
		for i, l := range lines {
			if !strings.Contains(l, fmt.Sprintf("POST %s/n%d 200", plain.URL, i)) {
				t.Errorf("loaded line %d: %q", i, l)
			}
		}
		q.stop()
	})
	t.Run("filter", func(t *testing.T) {
		q := startHeadless(t, home, "--load", save, "--filter", "~u /n1")
		time.Sleep(300 * time.Millisecond)
		lines := q.waitLines(1)
		q.stop()
		if len(q.lines()) != 1 || !strings.Contains(lines[0], "/n1") {
			t.Errorf("filtered output %q", q.lines())
		}
	})
	t.Run("cut file", func(t *testing.T) {
		data, _ := os.ReadFile(save)
		cut := filepath.Join(t.TempDir(), "cut.jsonl")
		os.WriteFile(cut, data[:len(data)-20], 0o600)
		q := startHeadless(t, home, "--load", cut)
		q.waitLines(2)
		time.Sleep(200 * time.Millisecond)
		q.stop()
		if n := len(q.lines()); n != 2 {
			t.Errorf("loaded %d flows from a file cut in its last line, want 2", n)
		}
		if !strings.Contains(q.errText(), "line 3: last line is cut short") {
			t.Errorf("no warning about the cut line; stderr:\n%s", q.errText())
		}
	})
}

func TestCAIsReusedAndCorruptKeyRefused(t *testing.T) {
	home := filepath.Join(t.TempDir(), "conf")
	p := startHeadless(t, home)
	p.stop()
	first, _ := os.ReadFile(filepath.Join(home, "ca.pem"))
	if fi, _ := os.Stat(filepath.Join(home, "ca-key.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(home); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode().Perm())
	}
	p = startHeadless(t, home)
	p.stop()
	second, _ := os.ReadFile(filepath.Join(home, "ca.pem"))
	if !bytes.Equal(first, second) {
		t.Fatal("a second start replaced the CA")
	}
	os.WriteFile(filepath.Join(home, "ca-key.pem"), []byte("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"), 0o600)
	cmd := exec.Command(binary, "--headless", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("started with a corrupt key")
	}
	if !strings.Contains(string(out), "ca-key.pem") {
		t.Fatalf("error does not name the key file: %s", out)
	}
	third, _ := os.ReadFile(filepath.Join(home, "ca.pem"))
	if !bytes.Equal(first, third) {
		t.Fatal("the CA certificate was replaced after a bad key")
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestScriptFlagRunsHooks(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hooks.lua")
	os.WriteFile(script, []byte(`
function request(flow)
  local h = flow.request.headers
  print(h["host"])
  h["X-Trace"] = "abc123"
  flow.request.body.text = flow.request.body.text .. " appended from Lua"
end
function response(flow)
  local h = flow.response.headers
  h["Server"] = "LuaProxy"
  flow.response.body.text = "overwritten response"
end
`), 0o600)
	var seen atomic.Value
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.Store(r.Header.Get("X-Trace") + "|" + string(body))
		fmt.Fprint(w, "original")
	}))
	defer origin.Close()
	p := startHeadless(t, t.TempDir(), "-s", script)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}}
	resp, err := client.Post(origin.URL+"/lua", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "overwritten response" || resp.Header.Get("Server") != "LuaProxy" {
		t.Errorf("client got %q, Server %q", got, resp.Header.Get("Server"))
	}
	if s, _ := seen.Load().(string); s != "abc123|body appended from Lua" {
		t.Errorf("origin saw %q", s)
	}
	p.waitLines(1)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.errText(), origin.Listener.Addr().String()) {
		if time.Now().After(deadline) {
			t.Fatalf("print(host) did not reach the event log (stderr):\n%s", p.errText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()

	bad := filepath.Join(dir, "bad.lua")
	os.WriteFile(bad, []byte("function request(flow)\n  x = = 1\nend\n"), 0o600)
	out, err := exec.Command(binary, "--headless", "--listen", "127.0.0.1:0", "-s", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.lua:2:") {
		t.Fatalf("a broken script: err %v, output %s", err, out)
	}
}

func TestRemoteListenNeedsAuth(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(binary, "--headless", "--listen", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--proxyauth") {
		t.Fatalf("listening on all interfaces without auth: err %v, output %s", err, out)
	}
	for _, args := range [][]string{{"--proxyauth", "u:p"}, {"--allow-remote"}} {
		p := startHeadlessAt(t, home, "0.0.0.0:0", args...)
		if code := p.stop(); code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		if args[0] == "--allow-remote" && !strings.Contains(p.errText(), "warning") {
			t.Errorf("no warning with --allow-remote:\n%s", p.errText())
		}
	}
}

func TestSaveSurvivesKill9(t *testing.T) {
	home := t.TempDir()
	plain := httptest.NewServer(hello())
	defer plain.Close()
	save := filepath.Join(t.TempDir(), "flows.jsonl")
	p := startHeadless(t, home, "--save", save)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}}
	const n = 30
	for i := 0; i < n; i++ {
		resp, err := client.Post(fmt.Sprintf("%s/k%d", plain.URL, i), "text/plain", strings.NewReader(strings.Repeat("b", i*100)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.waitLines(n)
	// Keep traffic flowing while the process is killed, so the kill can
	// land in the middle of a write.
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := client.Get(fmt.Sprintf("%s/during%d", plain.URL, i))
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	p.cmd.Process.Kill() // SIGKILL: no chance to flush anything
	p.cmd.Wait()
	close(stop)

	flows, warns, err := readSaved(t, save)
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) > 1 || (len(warns) == 1 && !strings.Contains(warns[0].Msg, "cut short")) {
		t.Fatalf("warnings %v: at most the last partial line may be lost", warns)
	}
	got := map[string]bool{}
	for _, fl := range flows {
		got[fl.Request.Path] = true
	}
	for i := 0; i < n; i++ {
		if !got[fmt.Sprintf("/k%d", i)] {
			t.Fatalf("flow /k%d finished before the kill but is not in the file (%d flows loaded)", i, len(flows))
		}
	}
}

func TestSaveToFullDiskKeepsCapturing(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	plain := httptest.NewServer(hello())
	defer plain.Close()
	p := startHeadless(t, t.TempDir(), "--save", "/dev/full")
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(mustURL("http://" + p.addr))}}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(fmt.Sprintf("%s/full%d", plain.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.waitLines(3) // capture and output go on
	p.stop()
	if !strings.Contains(p.errText(), "no space left on device") {
		t.Fatalf("the full disk was not reported:\n%s", p.errText())
	}
	if n := strings.Count(p.errText(), "cannot write"); n != 1 {
		t.Fatalf("reported %d times, want once until it works again", n)
	}

	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o500)
	if os.Geteuid() == 0 {
		return // root writes anywhere; the full-disk case above covers the error path
	}
	q := startHeadless(t, t.TempDir(), "--save", filepath.Join(ro, "x.jsonl"))
	q.stop()
	if !strings.Contains(q.errText(), "kept in memory only") {
		t.Fatalf("an unwritable --save path was not reported:\n%s", q.errText())
	}
}

// A flow the shutdown cuts off is printed and saved too: the printer and
// the saver outlive the proxy until its flows have ended.
func TestFlowCutOffByShutdownIsPrintedAndSaved(t *testing.T) {
	arrived := make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // answers only when the proxy goes away
	}))
	defer origin.Close()
	save := filepath.Join(t.TempDir(), "flows.jsonl")
	p := startHeadless(t, t.TempDir(), "--save", save)
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	go func() {
		if resp, err := client.Get(origin.URL + "/hangs"); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the origin")
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if ls := p.lines(); len(ls) != 1 || !strings.Contains(ls[0], "/hangs") || !strings.Contains(ls[0], "!!") {
		t.Fatalf("printed %q, want the cut-off flow with its error", ls)
	}
	flows, warns, err := readSaved(t, save)
	if err != nil || len(warns) > 0 || len(flows) != 1 || flows[0].Error == nil {
		t.Fatalf("saved %d flows (warnings %v, err %v), want the cut-off flow with its error", len(flows), warns, err)
	}
}

// readSaved reads a --save file back.
func readSaved(t *testing.T, path string) ([]*flowstore.Flow, []flowstore.LoadWarning, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return flowstore.ReadLines(f)
}

// Several --modes at once: the listeners say where they are and which mode
// they serve, curl goes through each, and the headless lines come from both.
func TestModesFromTheCommandLine(t *testing.T) {
	curlBin, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	origin := httptest.NewServer(hello())
	defer origin.Close()
	p := startHeadless(t, t.TempDir(), "--mode", "regular", "--mode", "socks5@127.0.0.1:0", "--mode", "reverse:"+origin.URL+"@127.0.0.1:0")
	addrOf := func(mode string) string {
		re := regexp.MustCompile(`listening on (\S+) \(` + regexp.QuoteMeta(mode) + `\)`)
		var addr string
		deadline := time.Now().Add(10 * time.Second)
		for addr == "" && time.Now().Before(deadline) {
			if m := re.FindStringSubmatch(p.errText()); m != nil {
				addr = m[1]
			}
			time.Sleep(10 * time.Millisecond)
		}
		if addr == "" {
			t.Fatalf("no listener for %s in:\n%s", mode, p.errText())
		}
		return addr
	}
	socks, rev := addrOf("socks5@127.0.0.1:0"), addrOf("reverse:"+origin.URL+"@127.0.0.1:0")
	for _, args := range [][]string{
		{"--proxy", "http://" + p.addr, origin.URL + "/regular"},
		{"--socks5", socks, origin.URL + "/socks"},
		{"http://" + rev + "/reverse"},
	} {
		if out, err := exec.Command(curlBin, append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
	}
	lines := p.waitLines(3)
	for _, path := range []string{"/regular", "/socks", "/reverse"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, origin.URL+path+" 200") }) {
			t.Errorf("no line for %s in %q", path, lines)
		}
	}
}

func TestModeFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "socks4"}, "unknown --mode"},
		{[]string{"--mode", "regular", "--mode", "socks5"}, "both listen on"},
		{[]string{"--mode", "upstream:http://u:p@proxy:3128"}, "--upstream-auth"},
		{[]string{"--upstream-auth", "nocolon"}, "user:pass"},
	} {
		if _, err := parseRunFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// Rules from the command line: a --rules file answers with its mock, and
// mitmproxy's --modify-headers spelling sets a header the origin sees.
func TestRulesFromTheCommandLine(t *testing.T) {
	curlBin, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	seen := make(chan string, 4)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("X-Added")
		io.WriteString(w, "origin")
	}))
	defer origin.Close()
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte("rules:\n  - name: mocked\n    path: /mock\n    respond: {status: 203, body: from the rule}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startHeadless(t, t.TempDir(), "--rules", file, "--modify-headers", "|~u added|X-Added|yes")
	get := func(path string) string {
		out, err := exec.Command(curlBin, "-sS", "--max-time", "10", "-w", " %{http_code}", "--proxy", "http://"+p.addr, origin.URL+path).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v %s", path, err, out)
		}
		return string(out)
	}
	if got := get("/mock"); got != "from the rule 203" {
		t.Fatalf("the --rules mock: %q", got)
	}
	if got := get("/added"); got != "origin 200" {
		t.Fatalf("through --modify-headers: %q", got)
	}
	if h := <-seen; h != "yes" {
		t.Fatalf("the origin saw X-Added %q", h)
	}
	// A broken rules file stops the start and says where.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - name: x\n    match: \"~q (\"\n"), 0o600)
	out, _ := exec.Command(binary, "--headless", "--listen", "127.0.0.1:0", "--rules", bad).CombinedOutput()
	if !strings.Contains(string(out), "bad.yaml:") {
		t.Fatalf("a broken rules file: %s", out)
	}
}
