package mitm_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// rulesEnv is a proxy whose rules come from a rules file, as --rules
// loads them, with curl pointed at it and HTTPS origins it trusts.
type rulesEnv struct {
	*mitmtest.Env
	t      *testing.T
	dir    string // the rules file's directory, for its local files
	file   string
	loader *rules.Loader
	ca     string
	origin *mitmtest.Origin
}

func startRules(t *testing.T, files map[string]string, yaml string) *rulesEnv {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	oca := mitmtest.NewOriginCA(t)
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{oca.CA.Cert} })
	e := &rulesEnv{Env: env, t: t, dir: t.TempDir(), ca: caFile(t, env), origin: oca}
	for name, data := range files {
		p := filepath.Join(e.dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.file = filepath.Join(e.dir, "rules.yaml")
	e.write(yaml)
	e.loader = rules.NewLoader(env.Proxy.ReplaceRules, env.Log)
	if err := e.loader.Add(e.file); err != nil {
		t.Fatal(err)
	}
	return e
}

// write replaces the rules file as an editor that saves by renaming does,
// and moves its time on so a poll sees the change.
func (e *rulesEnv) write(yaml string) {
	e.t.Helper()
	tmp := e.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(yaml), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, e.file); err != nil {
		e.t.Fatal(err)
	}
	if fi, err := os.Stat(e.file); err == nil {
		later := fi.ModTime().Add(time.Second)
		os.Chtimes(e.file, later, later)
	}
}

// serve starts an HTTPS origin named name.test and returns its base URL.
func (e *rulesEnv) serve(name string, h http.Handler) string {
	srv := e.origin.TLSServer(e.t, h, false, name)
	return "https://" + name + ":" + port(srv.URL)
}

func port(u string) string { return u[strings.LastIndex(u, ":")+1:] }

// curlResult is what curl printed and how it ended.
type curlResult struct {
	status  int
	headers http.Header
	body    string
	code    int    // curl's exit code
	stderr  string // its message when it failed
	took    time.Duration
	w       string // what -w asked for
}

// curl runs curl through the proxy, trusting its CA, and reads the answer
// it printed with -i.
func (e *rulesEnv) curl(args ...string) curlResult {
	e.t.Helper()
	full := append([]string{"-sS", "--max-time", "20", "--proxy", e.URL.String(), "--cacert", e.ca, "-i",
		"-w", `%{stderr}{"speed_download":%{speed_download},"speed_upload":%{speed_upload}}`}, args...)
	cmd := exec.Command("curl", full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := curlResult{took: time.Since(start), headers: http.Header{}}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	// stderr holds curl's message (if any), then the -w numbers.
	s := errb.String()
	if i := strings.LastIndex(s, `{"speed`); i >= 0 {
		r.stderr, r.w = s[:i], s[i:]
	} else {
		r.stderr = s
	}
	// -i prints every head (the proxy's CONNECT answer, 1xx) before the
	// final one and its body; HTTP/2 heads say "HTTP/2 200".
	rest := out.String()
	for {
		head, body, ok := strings.Cut(rest, "\r\n\r\n")
		if !ok {
			break
		}
		lines := strings.Split(head, "\r\n")
		f := strings.Fields(lines[0])
		if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
			break
		}
		code, _ := strconv.Atoi(f[1])
		rest = body
		if code < 200 || strings.Contains(lines[0], "Connection established") || (code == 200 && strings.HasPrefix(body, "HTTP/")) {
			continue
		}
		r.status = code
		for _, l := range lines[1:] {
			if k, v, ok := strings.Cut(l, ":"); ok {
				r.headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		r.body = body
		break
	}
	return r
}

// wvar is one number from curl's -w %{json}.
func (r curlResult) wvar(name string) float64 {
	i := strings.Index(r.w, `"`+name+`":`)
	if i < 0 {
		return -1
	}
	rest := r.w[i+len(name)+3:]
	end := strings.IndexAny(rest, ",}")
	v, _ := strconv.ParseFloat(strings.TrimSpace(rest[:end]), 64)
	return v
}

// counting is an origin that counts requests and echoes what it got.
type counting struct {
	hits atomic.Int32
	mu   sync.Mutex
	last *http.Request
	body string
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.hits.Add(1)
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.last, c.body = r, string(b)
	c.mu.Unlock()
	w.Header().Set("Server", "origin")
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "origin: %s %s", r.Method, r.URL.RequestURI())
}

func (c *counting) lastRequest() (*http.Request, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.body
}

// flowFor waits for the finished flow whose request path is path.
func (e *rulesEnv) flowFor(path string) *flowstore.Flow {
	e.t.Helper()
	var found *flowstore.Flow
	mitmtest.Within(10*time.Second, func() bool {
		for _, f := range e.Store.List() {
			if (f.Request.Path == path || f.Original != nil && f.Original.Request != nil && f.Original.Request.Path == path) && f.State.Final() {
				found = f
			}
		}
		return found != nil
	})
	if found == nil {
		e.t.Fatalf("no finished flow for %s", path)
	}
	return found
}

func hitNames(f *flowstore.Flow) []string {
	var out []string
	for _, h := range f.Rules {
		out = append(out, h.Rule)
	}
	return out
}

// map-local answers with a file, or a file in a directory, typed by its
// extension; a path out of the directory is refused; the origin sees none
// of it.
func TestRulesMapLocalWithCurl(t *testing.T) {
	e := startRules(t, map[string]string{
		"one.json": `{"one":1}`, "site/css/a.css": "a{}", "site/index.html": "<p>home</p>", "secret.txt": "secret",
	}, `
- name: config
  path: /config.json
  map-local: one.json
- name: static
  match: "~u /static/"
  map-local: {path: site, url: "/static/"}
`)
	var org counting
	base := e.serve("origin.test", &org)
	for _, tc := range []struct {
		path, body, ctype string
		status            int
	}{
		{"/config.json", `{"one":1}`, "application/json", 200},
		{"/static/css/a.css", "a{}", "text/css; charset=utf-8", 200},
		{"/static/", "<p>home</p>", "text/html; charset=utf-8", 200},
		{"/static/none.js", "", "", 404},
		{"/static/../secret.txt", "", "", 403},
		{"/static/%2e%2e/secret.txt", "", "", 403},
		{"/static/css/..%2f..%2f..%2fsecret.txt", "", "", 403},
	} {
		r := e.curl("--path-as-is", base+tc.path)
		if r.code != 0 || r.status != tc.status {
			t.Errorf("%s: status %d (curl %d %s) %q", tc.path, r.status, r.code, r.stderr, r.body)
			continue
		}
		if tc.status == 200 && (r.body != tc.body || r.headers.Get("Content-Type") != tc.ctype || r.headers.Get("Content-Length") != strconv.Itoa(len(tc.body))) {
			t.Errorf("%s: %q %v", tc.path, r.body, r.headers)
		}
		if strings.Contains(r.body, "secret\n") || r.body == "secret" {
			t.Errorf("%s: the file outside the directory was served", tc.path)
		}
	}
	if n := org.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests", n)
	}
	if f := e.flowFor("/static/css/a.css"); strings.Join(hitNames(f), ",") != "static" || !strings.Contains(f.Rules[0].Did[0], "a.css") {
		t.Errorf("the flow says %+v", f.Rules)
	}
}

// map-remote sends requests to a second origin; the first sees nothing and
// the flow shows both URLs.
func TestRulesMapRemoteWithCurl(t *testing.T) {
	var first, second counting
	e := startRules(t, nil, "")
	base1 := e.serve("first.test", &first)
	base2 := e.serve("second.test", &second)
	e.write(fmt.Sprintf(`
- name: to-second
  map-remote: {from: '^%s/v1/', to: '%s/v2/'}
`, strings.ReplaceAll(base1, ".", `\.`), base2))
	e.loader.Poll()
	r := e.curl(base1 + "/v1/items?a=1")
	if r.status != 200 || r.body != "origin: GET /v2/items?a=1" {
		t.Fatalf("%+v", r)
	}
	if first.hits.Load() != 0 || second.hits.Load() != 1 {
		t.Fatalf("first %d, second %d", first.hits.Load(), second.hits.Load())
	}
	if req, _ := second.lastRequest(); req.Host != "second.test:"+port(base2) {
		t.Errorf("the second origin was told it is %q", req.Host)
	}
	f := e.flowFor("/v2/items?a=1")
	if f.Request.URL() != base2+"/v2/items?a=1" || f.Original == nil || f.Original.Request.URL() != base1+"/v1/items?a=1" {
		t.Errorf("the flow shows %s, original %+v", f.Request.URL(), f.Original)
	}
	if f.Server.Addr != "second.test:"+port(base2) {
		t.Errorf("server %+v", f.Server)
	}
}

// Headers set and removed on the request (the origin sees it) and on the
// response (the client sees it); ~rule finds the flow.
func TestRulesHeadersWithCurl(t *testing.T) {
	e := startRules(t, nil, `
- name: headers
  match: "~d origin.test"
  actions:
    - set-header: {name: X-Env, value: staging}
    - remove-header: Cookie
    - set-header: {name: X-Served-By, value: "rule for ${request.path}", in: response}
    - remove-header: {name: Server, in: response}
`)
	var org counting
	base := e.serve("origin.test", &org)
	r := e.curl("-H", "Cookie: a=1", "-H", "X-Env: production", base+"/h")
	if r.status != 200 {
		t.Fatalf("%+v", r)
	}
	req, _ := org.lastRequest()
	if req.Header.Get("X-Env") != "staging" || len(req.Header.Values("X-Env")) != 1 || req.Header.Get("Cookie") != "" {
		t.Errorf("the origin got %v", req.Header)
	}
	if r.headers.Get("X-Served-By") != "rule for /h" || r.headers.Get("Server") != "" || r.body != "origin: GET /h" {
		t.Errorf("the client got %v %q", r.headers, r.body)
	}
	f := e.flowFor("/h")
	if !filter.MustParse("~rule ^headers$").Match(f) || filter.MustParse("~rule other").Match(f) {
		t.Errorf("~rule on %+v", f.Rules)
	}
	if len(f.Rules) != 1 || len(f.Rules[0].Did) != 4 {
		t.Errorf("the flow says %+v", f.Rules)
	}
	if st := e.Proxy.Rules(); st[0].Hits != 1 {
		t.Errorf("hits %+v", st)
	}
}

// A regex replace in a gzip body: decoded for the match, encoded again,
// its length said anew.
func TestRulesReplaceGzipWithCurl(t *testing.T) {
	e := startRules(t, nil, `
- name: env
  replace: {in: response, pattern: '"env":"produc(tion)"', with: '"env":"staging-$1"'}
`)
	base := e.serve("origin.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(`{"env":"production","pad":"` + strings.Repeat("x", 5000) + `"}`))
		zw.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.Write(b.Bytes())
	}))
	r := e.curl("--compressed", base+"/config")
	if r.code != 0 || !strings.HasPrefix(r.body, `{"env":"staging-tion","pad":"xxx`) {
		t.Fatalf("curl %d %s: %.80q", r.code, r.stderr, r.body)
	}
	f := e.flowFor("/config")
	if got := f.Response.Headers.Get("Content-Length"); got != strconv.Itoa(len(f.Response.Body.Data)) || f.Response.Headers.Get("Content-Encoding") != "gzip" {
		t.Errorf("head %v for a body of %d", f.Response.Headers, len(f.Response.Body.Data))
	}
	if f.Original == nil || !strings.Contains(strings.Join(f.Rules[0].Did, " "), "response body") {
		t.Errorf("%+v", f.Rules)
	}
}

// Block answers a status, or closes, or resets the client's connection;
// the origin never sees the request.
func TestRulesBlockWithCurl(t *testing.T) {
	e := startRules(t, nil, `
- {name: forbid, path: /403, block: 403}
- {name: close, path: /close, block: close}
- {name: reset, path: /reset, block: reset}
`)
	var org counting
	base := e.serve("origin.test", &org)
	plain := "http://" + e.serve2(&org)
	if r := e.curl(base + "/403"); r.status != 403 || !strings.Contains(r.body, `blocked by rule "forbid"`) {
		t.Errorf("403: %+v", r)
	}
	for _, b := range []string{base, plain} {
		if r := e.curl("--http1.1", b+"/close"); r.code != 52 {
			t.Errorf("close over %s: curl %d %q, want 52 (empty reply)", b[:5], r.code, r.stderr)
		}
		if r := e.curl("--http1.1", b+"/reset"); r.code != 56 || !strings.Contains(strings.ToLower(r.stderr), "reset") {
			t.Errorf("reset over %s: curl %d %q, want 56 (connection reset)", b[:5], r.code, r.stderr)
		}
	}
	// An HTTP/2 client's stream is reset either way: the connection may
	// carry other streams.
	for _, p := range []string{"/close", "/reset"} {
		if r := e.curl(base + p); r.code != 92 {
			t.Errorf("%s over HTTP/2: curl %d %q, want 92 (stream reset)", p, r.code, r.stderr)
		}
	}
	if n := org.hits.Load(); n != 0 {
		t.Errorf("the origin saw %d requests", n)
	}
	f := e.flowFor("/reset")
	if f.State != flowstore.StateKilled || !strings.Contains(f.Error.Message, `blocked by rule "reset": reset the connection`) {
		t.Errorf("flow %v %+v", f.State, f.Error)
	}
	// An HTTP/2 client's stream is reset; the connection serves on.
	client := e.ClientH2()
	if _, err := client.Get(base + "/reset"); err == nil {
		t.Error("an HTTP/2 request was not reset")
	}
	resp, err := client.Get(base + "/ok")
	if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("%v %+v", err, resp)
	}
	resp.Body.Close()
}

// serve2 starts a plain HTTP origin and returns its host:port.
func (e *rulesEnv) serve2(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	e.t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// delay adds latency before the request goes and before the response
// starts: measured with curl, against the same request without the rule.
func TestRulesDelayWithCurl(t *testing.T) {
	e := startRules(t, nil, `
- name: slow
  path: /slow
  delay: {request: 400ms, response: 300ms}
`)
	var org counting
	base := e.serve("origin.test", &org)
	e.curl(base + "/fast") // a first request pays for the connections
	fast := e.curl(base + "/fast")
	slow := e.curl(base + "/slow")
	added := slow.took - fast.took
	if slow.status != 200 || added < 650*time.Millisecond || added > 3*time.Second {
		t.Fatalf("the rule added %s (fast %s, slow %s), want about 700ms", added, fast.took, slow.took)
	}
	f := e.flowFor("/slow")
	if d := f.Timings.RequestSent.Sub(f.Timings.Start); d < 400*time.Millisecond {
		t.Errorf("the request went %s after it came", d)
	}
}

// throttle paces a 1 MiB body each way: the speed curl measures is within
// 20% of the setting.
func TestRulesThrottleWithCurl(t *testing.T) {
	e := startRules(t, map[string]string{"up.bin": strings.Repeat("u", 1<<20)}, `
- name: down
  path: /big
  throttle: {down: 8Mbit}
- name: up
  path: /up
  throttle: {up: 8Mbit}
`)
	big := bytes.Repeat([]byte("d"), 1<<20)
	base := e.serve("origin.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/big" {
			w.Write(big)
		}
	}))
	const want = 8e6 / 8 // bytes per second
	r := e.curl(base + "/big")
	if speed := r.wvar("speed_download"); r.status != 200 || len(r.body) != 1<<20 || speed < want*0.8 || speed > want*1.2 {
		t.Errorf("download at %.0f B/s, want %.0f ±20%% (status %d, %d bytes)", speed, want, r.status, len(r.body))
	}
	r = e.curl("--data-binary", "@"+filepath.Join(e.dir, "up.bin"), base+"/up")
	if speed := r.wvar("speed_upload"); r.status != 200 || speed < want*0.8 || speed > want*1.2 {
		t.Errorf("upload at %.0f B/s, want %.0f ±20%% (status %d)", speed, want, r.status)
	}
}

// The Imposter example, as a rules file: a User-Agent check answers 400,
// a passthrough rule captures the header, a resource answers with it.
func TestRulesImposterExampleWithCurl(t *testing.T) {
	e := startRules(t, nil, `rules:
  - name: user-agent-check
    path: /*
    requestHeaders:
      User-Agent:
        value: good-agent/1.0
        operator: NotEqualTo
    respond:
      status: 400
      body: Invalid user agent

  - name: capture-agent
    path: /*
    passthrough: true
    capture:
      userAgent:
        store: request
        requestHeader: User-Agent

  - name: example
    path: /example
    method: GET
    respond:
      status: 200
      headers:
        Content-Type: text/plain
      body: "User agent: ${stores.request.userAgent}"
`)
	var org counting
	base := e.serve("origin.test", &org)
	if r := e.curl("-A", "curl/8", base+"/example"); r.status != 400 || r.body != "Invalid user agent" {
		t.Errorf("a bad agent: %+v", r)
	}
	if r := e.curl("-A", "good-agent/1.0", base+"/example"); r.status != 200 || r.body != "User agent: good-agent/1.0" || r.headers.Get("Content-Type") != "text/plain" {
		t.Errorf("a good agent: %+v", r)
	}
	// Past the capture, a path no resource answers goes to the origin.
	if r := e.curl("-A", "good-agent/1.0", base+"/other"); r.status != 200 || r.body != "origin: GET /other" || org.hits.Load() != 1 {
		t.Errorf("passthrough: %+v (origin hits %d)", r, org.hits.Load())
	}
	if v, _ := e.Proxy.RuleStores().Get("request", "userAgent"); v != "good-agent/1.0" {
		t.Errorf("store %q", v)
	}
	if f := e.flowFor("/example"); strings.Join(hitNames(f), ",") != "capture-agent,example" {
		t.Errorf("the flow says %v", hitNames(f))
	}
}

// Live reload while traffic flows: each request sees one whole version of
// the rules (two rules set two headers; they always agree), and none fails.
func TestRulesLiveReload(t *testing.T) {
	version := func(v int) string {
		return fmt.Sprintf(`
- {name: a, passthrough: true, set-header: {name: X-A, value: "%d"}}
- {name: b, set-header: {name: X-B, value: "%d"}}
`, v, v)
	}
	e := startRules(t, nil, version(1))
	var mismatched, failed atomic.Int32
	seen := sync.Map{}
	base := e.serve("origin.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, b := r.Header.Get("X-A"), r.Header.Get("X-B")
		if a != b || a == "" {
			mismatched.Add(1)
		}
		seen.Store(a, true)
	}))
	e.loader.Interval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.loader.Watch(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	n := atomic.Int32{}
	for range 4 {
		wg.Go(func() {
			client := e.Client()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(base + "/r")
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
			}
		})
	}
	for v := 2; v < 40; v++ {
		e.write(version(v))
		time.Sleep(25 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	versions := 0
	seen.Range(func(any, any) bool { versions++; return true })
	if mismatched.Load() != 0 || failed.Load() != 0 || versions < 10 {
		t.Fatalf("%d requests: %d saw a half-loaded set, %d failed, %d versions seen", n.Load(), mismatched.Load(), failed.Load(), versions)
	}
}

// A bad file (bad YAML, a bad regex, a missing map-local file) says where
// it broke, as file:line, in the event log; the rules before it stay and
// traffic flows; the fix is taken.
func TestRulesBadEditKeepsTraffic(t *testing.T) {
	e := startRules(t, nil, `
- name: tag
  set-header: {name: X-Tag, value: one, in: response}
`)
	var org counting
	base := e.serve("origin.test", &org)
	for _, bad := range []struct{ yaml, want string }{
		{"- name: tag\n  set-header: {name: X-Tag, value: two, in: response}\n  replace: {in: response, pattern: 'a(', with: b}\n", ":3: rule \"tag\": replace: pattern \"a(\""},
		{"- name: tag\n  map-local: missing/dir\n", ":2: rule \"tag\": map-local: stat " + filepath.Join(e.dir, "missing/dir") + ": no such file"},
		{"- name: tag\n  set-header: {name: X-Tag\n", ":1: did not find expected ',' or '}'"}, // the YAML parser's line
	} {
		e.Log.Clear()
		e.write(bad.yaml)
		e.loader.Poll()
		var msg string
		for _, l := range e.Log.Entries() {
			if l.Level == flowstore.LevelError {
				msg = l.Msg
			}
		}
		if !strings.Contains(msg, e.file+bad.want) || !strings.Contains(msg, "stay in effect") {
			t.Errorf("the log says %q, want %q", msg, e.file+bad.want)
		}
		if r := e.curl(base + "/x"); r.status != 200 || r.headers.Get("X-Tag") != "one" {
			t.Errorf("traffic after a bad edit: %+v", r)
		}
	}
	e.write("- name: tag\n  set-header: {name: X-Tag, value: two, in: response}\n")
	e.loader.Poll()
	if r := e.curl(base + "/x"); r.headers.Get("X-Tag") != "two" {
		t.Errorf("the fix was not taken: %v", r.headers)
	}
}

// Rules run before the hooks' request phases and after their response
// phases: a hook sees the request as the rules left it, and the client
// gets the response as the rules leave it.
func TestRulesAroundHooks(t *testing.T) {
	var org counting
	srv := mitmtest.NewOriginCA(t)
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{srv.CA.Cert} })
	ts := srv.TLSServer(t, &org, false, "origin.test")
	var sawReq atomic.Value
	env.Proxy.AddHook(mitm.RequestFunc(func(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
		sawReq.Store(f.Request.Headers.Get("X-Rule"))
		return flowstore.Continue, nil
	}))
	env.Proxy.AddHook(mitm.ResponseFunc(func(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
		f.Response.Headers.Set("X-Order", "hook")
		return flowstore.Continue, nil
	}))
	err := env.Proxy.SetRules([]rules.Rule{{Name: "r", Actions: []rules.Action{
		{SetHeader: &rules.SetHeader{Name: "X-Rule", Value: "set"}},
		{SetHeader: &rules.SetHeader{Name: "X-Order", Value: "rule", In: rules.Response}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := env.Client().Get("https://origin.test:" + port(ts.URL) + "/o")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sawReq.Load() != "set" || resp.Header.Get("X-Order") != "rule" {
		t.Errorf("the hook saw %v; the client got X-Order %q", sawReq.Load(), resp.Header.Get("X-Order"))
	}
}

// A rule's answer is an answer like a mock's: response rules apply to it,
// and an HTTP/2 client gets it too.
func TestRulesRespondOverHTTP2(t *testing.T) {
	var org counting
	srv := mitmtest.NewOriginCA(t)
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{srv.CA.Cert} })
	ts := srv.TLSServer(t, &org, true, "origin.test")
	rs, err := rules.ParseFile(filepath.Join(t.TempDir(), "r.yaml"), []byte(`
- {name: mock, path: /m, respond: {status: 201, headers: {Content-Type: application/json}, body: '{"m":"${request.query.q}"}'}}
- {name: cors, set-header: {name: Access-Control-Allow-Origin, value: "*", in: response}}
`))
	if err != nil {
		t.Fatal(err)
	}
	env.Proxy.SetRules(rs)
	resp, err := env.ClientH2().Get("https://origin.test:" + port(ts.URL) + "/m?q=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(b) != `{"m":"1"}` || resp.ProtoMajor != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%d %s %q %v", resp.StatusCode, resp.Proto, b, resp.Header)
	}
	if org.hits.Load() != 0 {
		t.Error("the origin was asked")
	}
}

// What the TUI needs from the engine: the rules in order with their hit
// counts; switching one off, moving, editing (as YAML) and deleting,
// without losing hit counts or a file's reload; a bad edit changes nothing.
func TestRulesAPIForAList(t *testing.T) {
	var org counting
	oca := mitmtest.NewOriginCA(t)
	env := mitmtest.Start(t, mitmtest.ResolveTest, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{oca.CA.Cert} })
	base := "https://origin.test:" + port(oca.TLSServer(t, &org, false, "origin.test").URL)
	mk := func(name, value string) rules.Rule {
		return rules.Rule{Name: name, Passthrough: true, Source: rules.SourceTUI,
			Actions: []rules.Action{{SetHeader: &rules.SetHeader{Name: "X-" + name, Value: value}}}}
	}
	if err := env.Proxy.SetRules([]rules.Rule{mk("a", "1"), mk("b", "1"), mk("c", "1")}); err != nil {
		t.Fatal(err)
	}
	client := env.Client()
	get := func() http.Header {
		resp, err := client.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		req, _ := org.lastRequest()
		return req.Header
	}
	get()
	// Off, moved to the top, and edited through its YAML.
	err := env.Proxy.UpdateRules(func(rs []rules.Rule) []rules.Rule {
		rs[0].Disabled = true
		rs[1], rs[2] = rs[2], rs[1]
		edited, err := rules.ParseRule([]byte(strings.Replace(string(rs[2].YAML()), "value: \"1\"", "value: \"2\"", 1)), "")
		if err != nil {
			t.Fatal(err)
		}
		edited.Source = rs[2].Source
		rs[2] = edited
		return rs
	})
	if err != nil {
		t.Fatal(err)
	}
	h := get()
	if h.Get("X-a") != "" || h.Get("X-b") != "2" || h.Get("X-c") != "1" {
		t.Errorf("after the changes the origin got %v", h)
	}
	st := env.Proxy.Rules()
	var got []string
	for _, s := range st {
		got = append(got, fmt.Sprintf("%s:%d:%v", s.Name, s.Hits, s.Disabled))
	}
	if strings.Join(got, " ") != "a:1:true c:2:false b:2:false" {
		t.Errorf("the list is %v", got)
	}
	// A bad edit is refused whole.
	if err := env.Proxy.UpdateRules(func(rs []rules.Rule) []rules.Rule {
		rs[0].Disabled = false
		rs[1].Match.Filter = "~zz"
		return rs
	}); err == nil || !strings.Contains(err.Error(), "unknown operator") {
		t.Errorf("a bad edit: %v", err)
	}
	if st := env.Proxy.Rules(); !st[0].Disabled || st[1].Match.Filter != "" {
		t.Errorf("a refused edit changed the rules: %+v", st)
	}
	// A file's rules go in, and are replaced where they stand.
	if err := env.Proxy.ReplaceRules("/f.yaml", []rules.Rule{mk("f1", "1")}); err != nil {
		t.Fatal(err)
	}
	env.Proxy.UpdateRules(func(rs []rules.Rule) []rules.Rule { return append(rs[len(rs)-1:], rs[:len(rs)-1]...) })
	env.Proxy.ReplaceRules("/f.yaml", []rules.Rule{mk("f2", "1"), mk("f3", "1")})
	if st := env.Proxy.Rules(); st[0].Name != "f2" || st[1].Name != "f3" || len(st) != 5 {
		t.Errorf("%+v", st)
	}
	// Deleting is leaving out.
	env.Proxy.UpdateRules(func(rs []rules.Rule) []rules.Rule { return rs[:1] })
	if len(env.Proxy.Rules()) != 1 {
		t.Error("not deleted")
	}
}

// Saved flows carry the rules that acted on them: a session saved as JSON
// lines and loaded into another proxy has its rules back; a flow saved
// before rules existed, carrying a standing mock, still gives its mock.
func TestRulesSavedWithFlows(t *testing.T) {
	var org counting
	oca := mitmtest.NewOriginCA(t)
	opts := func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{oca.CA.Cert}; mitmtest.ResolveTest(o) }
	base := "https://origin.test:" + port(oca.TLSServer(t, &org, false, "origin.test").URL)
	first := mitmtest.Start(t, opts)
	first.Proxy.SetRules([]rules.Rule{{Name: "tag", Source: rules.SourceTUI, Match: rules.Match{Path: "/t"},
		Actions: []rules.Action{{SetHeader: &rules.SetHeader{Name: "X-Tag", Value: "kept", In: rules.Response}}}}})
	resp, err := first.Client().Get(base + "/t")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var saved bytes.Buffer
	s := flowstore.NewSaver(&saved)
	for _, f := range first.WaitFlows(1) {
		s.Save(f)
	}
	// A line as a version before rules wrote it: a standing mock.
	saved.WriteString(`{"id":"old1","state":"done","client":{"addr":"127.0.0.1:1"},"request":{"method":"GET","scheme":"https","host":"origin.test","port":` +
		port(base) + `,"path":"/mocked","proto":"HTTP/1.1","headers":[],"body":{"size":0}},"response":{"status":200,"reason":"OK","proto":"HTTP/1.1","headers":[["Content-Type","text/plain"]],"body":{"data":"bW9ja2Vk","size":6}},"timings":{},"mock":{}}` + "\n")
	flows, warns, err := flowstore.ReadLines(&saved)
	if err != nil || len(warns) != 0 || len(flows) != 2 {
		t.Fatalf("%d flows, %v, %v", len(flows), warns, err)
	}
	second := mitmtest.Start(t, opts)
	rs, errs := rules.FromFlows(flows)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if n, err := second.Proxy.RestoreRules(rs); n != 2 || err != nil {
		t.Fatalf("restored %d: %v", n, err)
	}
	client := second.Client()
	resp, err = client.Get(base + "/t")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Tag") != "kept" {
		t.Errorf("the restored rule did not act: %v", resp.Header)
	}
	resp, err = client.Get(base + "/mocked")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "mocked" || len(second.Proxy.Mocks()) != 1 {
		t.Errorf("the old file's mock: %q, %+v", b, second.Proxy.Mocks())
	}
	// Restoring again adds nothing: the names are taken.
	if n, _ := second.Proxy.RestoreRules(rs); n != 0 {
		t.Errorf("restored %d twice", n)
	}
}

// A local file larger than a flow keeps streams from the disk, whole; the
// flow keeps its first part, as for any body.
func TestRulesLargeLocalFile(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB
	os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644)
	os.WriteFile(filepath.Join(dir, "greet.txt"), []byte("hello ${request.query.name}\n"), 0o644)
	env := mitmtest.Start(t, func(o *mitm.Options) { o.BodyLimit = 64 << 10 })
	rs, err := rules.ParseFile(filepath.Join(dir, "r.yaml"), []byte(`
- {path: /big.bin, map-local: big.bin}
- {path: /greet, respond: {file: greet.txt, template: true}}
`))
	if err != nil {
		t.Fatal(err)
	}
	env.Proxy.SetRules(rs)
	e := &rulesEnv{Env: env, t: t, ca: caFile(t, env)}
	r := e.curl("http://origin.test/big.bin")
	if r.status != 200 || r.body != string(big) || r.headers.Get("Content-Length") != strconv.Itoa(len(big)) {
		t.Errorf("status %d, %d bytes, %v", r.status, len(r.body), r.headers)
	}
	f := e.flowFor("/big.bin")
	if f.Response.Body.Size != int64(len(big)) || !f.Response.Body.Truncated || len(f.Response.Body.Data) != 64<<10 || f.State != flowstore.StateDone {
		t.Errorf("the flow keeps %d of %d (truncated %v), %v", len(f.Response.Body.Data), f.Response.Body.Size, f.Response.Body.Truncated, f.State)
	}
	if r := e.curl("http://origin.test/greet?name=ann"); r.body != "hello ann\n" || r.headers.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("%q %v", r.body, r.headers)
	}
}
