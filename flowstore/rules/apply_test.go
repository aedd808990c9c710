package rules_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

func mustParse(t *testing.T, dir, src string) []rules.Rule {
	t.Helper()
	rs, err := rules.ParseFile(filepath.Join(dir, "rules.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func mustCompile(t *testing.T, rs []rules.Rule) *rules.Set {
	t.Helper()
	s, err := rules.Compile(rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func names(s *rules.Set, m []int) []string {
	st := s.Rules()
	var out []string
	for _, i := range m {
		out = append(out, st[i].Name)
	}
	return out
}

// Matching: every matching rule up to the first that is not passthrough;
// a disabled rule is skipped; a flow no rule matches costs no allocation.
func TestMatchOrder(t *testing.T) {
	s := mustCompile(t, mustParse(t, t.TempDir(), `
- {name: a, match: "~d api", passthrough: true, set-header: {name: X-A, value: "1"}}
- {name: off, match: "~d api", disabled: true, block: 403}
- {name: b, path: /v1/*, method: get, set-header: {name: X-B, value: "1"}}
- {name: c, match: "~all", set-header: {name: X-C, value: "1"}}
- {name: resp, match: "~c 404", set-header: {name: X-R, value: "1", in: response}}
`))
	f := flowtest.New(flowtest.URL("https://api.test/v1/items?x=1"), flowtest.NoResponse())
	if got := names(s, s.MatchRequest(f)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("request matches %v", got)
	}
	other := flowtest.New(flowtest.URL("https://other.test/"), flowtest.NoResponse())
	if got := names(s, s.MatchRequest(other)); !slices.Equal(got, []string{"c"}) {
		t.Errorf("request matches %v", got)
	}
	// Only rules that act on responses are tried there.
	if got := names(s, s.MatchResponse(flowtest.New(flowtest.URL("https://other.test/"), flowtest.Status(404)))); !slices.Equal(got, []string{"resp"}) {
		t.Errorf("response matches %v", got)
	}
	none := flowtest.New(flowtest.URL("https://other.test/"), flowtest.Status(200))
	if n := testing.AllocsPerRun(100, func() { s.MatchResponse(none) }); n != 0 {
		t.Errorf("a flow no rule matches allocated %v times", n)
	}
}

// Imposter's operators on request headers.
func TestHeaderOperators(t *testing.T) {
	f := flowtest.New(userAgent("curl/8.5.0"), flowtest.ReqHeader("X-Two", "a"), flowtest.ReqHeader("X-Two", "b"))
	for _, tc := range []struct {
		name, value string
		op          rules.Operator
		want        bool
	}{
		{"User-Agent", "curl/8.5.0", rules.EqualTo, true},
		{"user-agent", "curl/8.5.0", "", true},
		{"User-Agent", "curl", rules.EqualTo, false},
		{"User-Agent", "curl", rules.NotEqualTo, true},
		{"User-Agent", "curl/8.5.0", rules.NotEqualTo, false},
		{"X-Missing", "x", rules.NotEqualTo, true},
		{"User-Agent", "", rules.Exists, true},
		{"X-Missing", "", rules.Exists, false},
		{"X-Missing", "", rules.NotExists, true},
		{"User-Agent", "", rules.NotExists, false},
		{"User-Agent", "curl/", rules.Contains, true},
		{"User-Agent", "wget", rules.NotContains, true},
		{"User-Agent", `curl/\d+.*`, rules.Matches, true},
		{"User-Agent", `url`, rules.Matches, false}, // the whole value
		{"User-Agent", `Mozilla.*`, rules.NotMatches, true},
		{"X-Two", "b", rules.EqualTo, true},     // one of the values
		{"X-Two", "b", rules.NotEqualTo, false}, // none of them
	} {
		r := rules.Rule{Name: "r", Match: rules.Match{RequestHeaders: []rules.HeaderMatch{{Name: tc.name, Value: tc.value, Operator: tc.op}}}}
		s := mustCompile(t, []rules.Rule{r})
		if got := s.MatchRequest(f) != nil; got != tc.want {
			t.Errorf("%s %s %q = %v, want %v", tc.name, tc.op, tc.value, got, tc.want)
		}
	}
}

func userAgent(ua string) flowtest.Option {
	return func(f *flowstore.Flow) { f.Request.Headers.Set("User-Agent", ua) }
}

func TestPathAndURLGlobs(t *testing.T) {
	for _, tc := range []struct {
		path, url string
		want      bool
	}{
		{"/pets/*", "https://x.test/pets/1?q=2", true},
		{"/pets/*", "https://x.test/pets", false},
		{"/pets/*/toys", "https://x.test/pets/1/2/toys", true},
		{"/example", "https://x.test/example?x", true},
		{"/example", "https://x.test/example/", false},
		{"*", "https://x.test/", true},
	} {
		s := mustCompile(t, []rules.Rule{{Name: "r", Match: rules.Match{Path: tc.path}}})
		if got := s.MatchRequest(flowtest.New(flowtest.URL(tc.url))) != nil; got != tc.want {
			t.Errorf("path %q on %s = %v", tc.path, tc.url, got)
		}
	}
	s := mustCompile(t, []rules.Rule{{Name: "r", Match: rules.Match{URL: `https://x.test/a\*b*`}}})
	if s.MatchRequest(flowtest.New(flowtest.URL("https://x.test/a*b?q"))) == nil || s.MatchRequest(flowtest.New(flowtest.URL("https://x.test/axb"))) != nil {
		t.Error(`\* is a literal star`)
	}
}

func apply(t *testing.T, s *rules.Set, f *flowstore.Flow, st *rules.Stores) rules.Outcome {
	t.Helper()
	m := s.MatchRequest(f)
	return s.ApplyRequest(f, m, rules.Env{Stores: st, Whole: true, BodyLimit: 1 << 20})
}

// Repeated set-headers add up as repeated --modify-headers do; the first
// of a name in a phase replaces what the message came with.
func TestSetHeaderAddsUp(t *testing.T) {
	s := mustCompile(t, mustParse(t, t.TempDir(), `
- {passthrough: true, set-header: {name: one, value: two}}
- {passthrough: true, set-header: {name: one, value: three}}
- {passthrough: true, set-header: {name: gone, value: ""}}
- {passthrough: true, remove-header: Cookie}
`))
	f := flowtest.New(flowtest.ReqHeader("one", "xxx"), flowtest.ReqHeader("gone", "x"), flowtest.ReqHeader("Cookie", "a=1"))
	apply(t, s, f, nil)
	h := f.Request.Headers
	if got := h.Values("one"); !slices.Equal(got, []string{"two", "three"}) || h.Has("gone") || h.Has("Cookie") {
		t.Errorf("headers %v", h)
	}
	if len(f.Rules) != 4 || f.Rules[0].Did[0] != "request header one: two" || f.Rules[0].Spec == "" {
		t.Errorf("hits %+v", f.Rules)
	}
	if st := s.Rules(); st[0].Hits != 1 {
		t.Errorf("hits counted %d", st[0].Hits)
	}
}

// A body is decoded for the replace and encoded again as it came.
func TestReplaceGzipBody(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"env":"production","n":1}`))
	zw.Close()
	s := mustCompile(t, mustParse(t, t.TempDir(), `- {replace: {in: response, pattern: 'produc(tion)', with: 'staging-$1'}}`))
	f := flowtest.New(flowtest.RespHeader("Content-Encoding", "gzip"))
	f.Response.Body = flowstore.NewBody(gz.Bytes())
	m := s.MatchResponse(f)
	s.ApplyResponse(f, m, rules.Env{Whole: true})
	zr, err := gzip.NewReader(bytes.NewReader(f.Response.Body.Data))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != `{"env":"staging-tion","n":1}` {
		t.Errorf("body %q", got)
	}
	// A body the flow does not hold whole is left, and the flow says why.
	f = flowtest.New()
	f.Response.Body = flowstore.Body{Data: []byte("production"), Size: 100, Truncated: true}
	s.ApplyResponse(f, s.MatchResponse(f), rules.Env{Whole: false})
	if string(f.Response.Body.Data) != "production" || !strings.Contains(f.Rules[0].Did[0], "not read whole") {
		t.Errorf("%q %+v", f.Response.Body.Data, f.Rules)
	}
}

// map-remote rewrites the URL and tells the origin its own name.
func TestMapRemote(t *testing.T) {
	s := mustCompile(t, mustParse(t, t.TempDir(), `- {map-remote: {from: '^https://old\.test(:\d+)?/v1/', to: 'http://127.0.0.1:9/v2/'}}`))
	f := flowtest.New(flowtest.URL("https://old.test/v1/items?a=1"), flowtest.ReqHeader("Host", "old.test"))
	apply(t, s, f, nil)
	if u := f.Request.URL(); u != "http://127.0.0.1:9/v2/items?a=1" || f.Request.Headers.Get("Host") != "127.0.0.1:9" {
		t.Errorf("url %s host %q", u, f.Request.Headers.Get("Host"))
	}
	// The rule matches only URLs its pattern is in.
	if s.MatchRequest(flowtest.New(flowtest.URL("https://new.test/v1/"))) != nil {
		t.Error("matched a URL without the pattern")
	}
}

// Capture, then answer with what was captured (the Imposter example).
func TestCaptureAndTemplates(t *testing.T) {
	s := mustCompile(t, mustParse(t, t.TempDir(), `
- path: /*
  requestHeaders:
    User-Agent: {value: good-agent, operator: NotEqualTo}
  respond: {status: 400, body: Invalid user agent}
- path: /*
  passthrough: true
  capture:
    userAgent: {store: request, requestHeader: User-Agent}
    page: {queryParam: page}
    id: {pathSegment: "1"}
    name: {jsonPath: "$.user.names[1]"}
    both: {value: "${request.method} ${request.path}"}
- path: /example/*
  respond:
    headers: {X-Page: "${stores.default.page}", X-Missing: "${request.header.X-None:-none}"}
    body: "${stores.request.userAgent} ${stores.default.id} ${stores.default.name} ${stores.default.both} $${literal}"
`))
	st := rules.NewStores()
	bad := flowtest.New(flowtest.URL("https://x.test/example/7"), userAgent("curl"))
	if out := apply(t, s, bad, st); !out.Answer || bad.Response.Status != 400 || string(bad.Response.Body.Data) != "Invalid user agent" {
		t.Fatalf("%+v %+v", out, bad.Response)
	}
	good := flowtest.New(flowtest.URL("https://x.test/example/7?page=3"), flowtest.Method("POST"), userAgent("good-agent"),
		flowtest.ReqBody("application/json", []byte(`{"user":{"names":["a","bob"]}}`)))
	out := apply(t, s, good, st)
	if !out.Answer || good.Response.Status != 200 {
		t.Fatalf("%+v %+v", out, good.Response)
	}
	if got := string(good.Response.Body.Data); got != "good-agent 7 bob POST /example/7 ${literal}" {
		t.Errorf("body %q", got)
	}
	if h := good.Response.Headers; h.Get("X-Page") != "3" || h.Get("X-Missing") != "none" {
		t.Errorf("headers %v", h)
	}
	if v, _ := st.Get("request", "userAgent"); v != "good-agent" {
		t.Errorf("store %q", v)
	}
}

// map-local serves a file, or a file under a directory found from the
// URL, with its type; it never leaves the directory.
func TestMapLocal(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site/index.html": "<p>home</p>", "site/css/a.css": "a{}", "site/doc/index.html": "doc", "site/foo bar.json": "{}",
		"secret.txt": "secret", "one.json": `{"one":1}`,
	})
	s := mustCompile(t, mustParse(t, dir, `
- {name: file, path: /one, map-local: one.json}
- {name: dir, match: "~d site.test", map-local: {path: site, url: "site.test/static"}}
- {name: whole, match: "~d whole.test", map-local: site}
`))
	for _, tc := range []struct {
		url, body, ctype string
		status           int
	}{
		{"https://x.test/one", `{"one":1}`, "application/json", 200},
		{"https://site.test/static/css/a.css", "a{}", "text/css; charset=utf-8", 200},
		{"https://site.test/static/", "<p>home</p>", "text/html; charset=utf-8", 200},
		{"https://site.test/static/doc/", "doc", "text/html; charset=utf-8", 200},
		{"https://site.test/static/foo%20bar.json?x=1", "{}", "application/json", 200},
		{"https://whole.test/css/a.css", "a{}", "text/css; charset=utf-8", 200},
		{"https://site.test/static/nothere.js", "", "", 404},
		{"https://site.test/static/../secret.txt", "", "", 403},
		{"https://site.test/static/%2e%2e/secret.txt", "", "", 403},
		{"https://whole.test/css/..%2F..%2Fsecret.txt", "", "", 403},
	} {
		f := flowtest.New(flowtest.URL(tc.url), flowtest.NoResponse())
		f.Request.Path = strings.TrimPrefix(tc.url, "https://"+f.Request.Host) // as sent, unnormalised
		out := apply(t, s, f, nil)
		if !out.Answer || f.Response.Status != tc.status {
			t.Errorf("%s: %+v %+v", tc.url, out, f.Response)
			continue
		}
		if tc.status == 200 && (string(f.Response.Body.Data) != tc.body || f.Response.Headers.Get("Content-Type") != tc.ctype) {
			t.Errorf("%s: %q %v", tc.url, f.Response.Body.Data, f.Response.Headers)
		}
		if tc.status != 200 && string(f.Response.Body.Data) == "secret" {
			t.Errorf("%s leaked: %q", tc.url, f.Response.Body.Data)
		}
	}
}

// Candidate files follow mitmproxy's file_candidates (its test table,
// test/mitmproxy/addons/test_maplocal.py), except that a path with ..
// is refused rather than sent on.
func TestMapLocalCandidates(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bar.jpg": "bar", "bar/baz.jpg": "baz", "foo bar.jpg": "space", "f_ob_r.jpg": "escaped",
		"foo.jpg": "foo", "results_id=1_foo=2": "results",
	})
	for _, tc := range []struct{ url, spec, body string }{
		{"http://example.com/foo/bar.jpg", ":example.com/foo:", "bar"},
		{"https://example.com/foo/bar.jpg?query", ":example.com/foo:", "bar"},
		{"https://example.com/foo/bar/baz.jpg", ":example.com/foo:", "baz"},
		{"http://example.com/foo%20bar.jpg", ":example.com:", "space"},
		{"http://example.com/fóobår.jpg", ":example.com:", "escaped"},
		{"https://example/view.php?f=foo.jpg", `:example/view.php\?f=(.+):`, "foo"},
		{"https://example/results?id=1&foo=2", `:example/(results\?id=.+):`, "results"},
	} {
		r, err := rules.ParseMapLocal(tc.spec + dir)
		if err != nil {
			t.Fatal(err)
		}
		r.Name = "r"
		s := mustCompile(t, []rules.Rule{r})
		f := flowtest.New(flowtest.URL(tc.url), flowtest.NoResponse())
		f.Request.Path = tc.url[strings.Index(tc.url[8:], "/")+8:]
		apply(t, s, f, nil)
		if f.Response == nil || string(f.Response.Body.Data) != tc.body {
			t.Errorf("%s with %s: %+v", tc.url, tc.spec, f.Response)
		}
	}
}

// Block answers a status, or asks the engine to close or reset.
func TestBlockAndWireEffects(t *testing.T) {
	s := mustCompile(t, mustParse(t, t.TempDir(), `
- {match: "~u /403", block: 403}
- {match: "~u /close", block: close}
- {match: "~u /reset", block: reset}
- {match: "~u /slow", passthrough: true, delay: {request: 1s, response: 2s}, throttle: 3g}
- {match: "~u /slow", throttle: {down: 1Mbit}}
`))
	f := flowtest.New(flowtest.URL("https://x.test/403"))
	if out := apply(t, s, f, nil); !out.Answer || f.Response.Status != 403 || !strings.Contains(string(f.Response.Body.Data), "blocked") {
		t.Errorf("%+v %+v", out, f.Response)
	}
	if out := apply(t, s, flowtest.New(flowtest.URL("https://x.test/close")), nil); !out.Close || out.Answer || out.By != "rules.yaml#2" {
		t.Errorf("%+v", out)
	}
	if out := apply(t, s, flowtest.New(flowtest.URL("https://x.test/reset")), nil); !out.Reset {
		t.Errorf("%+v", out)
	}
	slow := flowtest.New(flowtest.URL("https://x.test/slow"))
	if out := apply(t, s, slow, nil); out.Delay != time.Second || out.Rate != 1_000_000 {
		t.Errorf("request %+v", out)
	}
	out := s.ApplyResponse(slow, s.MatchResponse(slow), rules.Env{})
	if out.Delay != 2*time.Second+100*time.Millisecond || out.Rate != 1_000_000 {
		t.Errorf("response %+v (3g's latency and the lower rate of the two)", out)
	}
}

// Hit counts follow a rule's name into the next set.
func TestHitsCarryOver(t *testing.T) {
	rs := []rules.Rule{{Name: "a", Actions: []rules.Action{{SetHeader: &rules.SetHeader{Name: "X", Value: "1"}}}}}
	s1 := mustCompile(t, rs)
	apply(t, s1, flowtest.New(), nil)
	rs = append(rs, rules.Rule{Name: "b"})
	s2, err := rules.Compile(rs, s1)
	if err != nil {
		t.Fatal(err)
	}
	if st := s2.Rules(); st[0].Hits != 1 || st[1].Hits != 0 {
		t.Errorf("%+v", st)
	}
}

func TestReplaceSource(t *testing.T) {
	cur := []rules.Rule{{Name: "a", Source: "x"}, {Name: "b", Source: "f"}, {Name: "c", Source: "f"}, {Name: "d", Source: "y"}}
	got := rules.ReplaceSource(cur, "f", []rules.Rule{{Name: "e"}})
	var ns []string
	for _, r := range got {
		ns = append(ns, r.Name+"@"+r.Source)
	}
	if !slices.Equal(ns, []string{"a@x", "e@f", "d@y"}) {
		t.Errorf("%v", ns)
	}
	if got := rules.ReplaceSource(cur, "new", []rules.Rule{{Name: "z"}}); got[len(got)-1].Name != "z" || len(got) != 5 {
		t.Errorf("%+v", got)
	}
}
