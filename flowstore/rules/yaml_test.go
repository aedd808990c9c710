package rules_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// writeFiles makes a directory with the given files and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Every field of every action survives YAML and back, and each rule is
// its own YAML document (the TUI edits one at a time).
func TestYAMLRoundTrip(t *testing.T) {
	dir := writeFiles(t, map[string]string{"site/index.html": "<p>", "answer.json": "{}", "value.txt": "v"})
	src := `rules:
  - name: everything
    match: ~d api.example.com & !~m OPTIONS
    method: GET
    path: /v1/*
    url: https://api.example.com/v1/*
    requestHeaders:
      User-Agent: {value: curl/8, operator: NotEqualTo}
      X-Token: {operator: Exists}
      X-Plain: yes
      X-Re: {value: "a.*", operator: Matches}
    passthrough: true
    disabled: true
    actions:
      - set-header: {name: X-Env, value: "staging ${request.header.X-Id:-none}", in: both}
      - set-header: {name: X-File, file: value.txt}
      - remove-header: Cookie
      - remove-header: {name: Server, in: response}
      - replace: {in: response, pattern: "a(b)", with: "x$1"}
      - replace: {in: request, header: Referer, pattern: "http:", with: "https:", literal: true}
      - map-remote: {from: "^https://api\\.example\\.com", to: "http://127.0.0.1:8080"}
      - delay: 250ms
      - delay: {request: 100ms, response: 2s}
      - throttle: 3G
      - throttle: {down: 1Mbit, up: 256kbit, latency: 80ms}
      - capture:
          userAgent: {store: request, requestHeader: User-Agent}
          page: {queryParam: page}
          id: {pathSegment: "1"}
          name: {jsonPath: "$.user.name"}
          both: {value: "${request.method} ${request.path}"}
      - block: 403
      - block: close
      - block: reset
      - map-local: site
      - map-local: {path: site, url: "/static/(.*)"}
      - respond: {status: 201, reason: Made, headers: {Content-Type: application/json, Set-Cookie: [a=1, b=2]}, body: "{\"ok\":true}"}
      - respond: {file: answer.json, template: true}
      - respond: {bodyBase64: "AAH/"}
`
	rs, err := rules.ParseFile(filepath.Join(dir, "rules.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || len(rs[0].Actions) != 20 {
		t.Fatalf("parsed %d rules, %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Source != filepath.Join(dir, "rules.yaml") || r.Line != 2 || r.Name != "everything" {
		t.Errorf("source %q line %d name %q", r.Source, r.Line, r.Name)
	}
	if got := r.Actions[15].MapLocal.Path; got != filepath.Join(dir, "site") {
		t.Errorf("a relative map-local path is the file's directory's: %q", got)
	}
	if tr := r.Actions[10].Throttle; tr.Down != 1_000_000 || tr.Up != 256_000 || tr.Latency != 80*time.Millisecond {
		t.Errorf("throttle %+v", tr)
	}
	if rp := r.Actions[19].Respond; rp.Body != "\x00\x01\xff" || !rp.Verbatim {
		t.Errorf("bodyBase64 %+v", rp)
	}
	back, err := rules.ParseRule(r.YAML(), "")
	if err != nil {
		t.Fatalf("%v\n%s", err, r.YAML())
	}
	back.Source, back.Line = r.Source, r.Line
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip changed the rule:\n%s\n%+v\n%+v", r.YAML(), back, r)
	}
	again, err := rules.ParseFile(filepath.Join(dir, "again.yaml"), rules.Marshal(rs))
	if err != nil || len(again) != 1 || !reflect.DeepEqual(again[0].Actions, r.Actions) {
		t.Fatalf("Marshal then ParseFile: %v\n%s", err, rules.Marshal(rs))
	}
}

// Imposter's spellings (response, statusCode, content, continue) read as
// ours; actions written as keys keep the order written.
func TestImposterSpellings(t *testing.T) {
	rs, err := rules.ParseFile("imposter.yaml", []byte(`
- path: /*
  requestHeaders:
    User-Agent: {value: good-agent, operator: NotEqualTo}
  response: {statusCode: 400, content: Invalid user agent}
- path: /*
  capture:
    userAgent: {store: request, requestHeader: User-Agent}
  continue: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if rp := rs[0].Actions[0].Respond; rp == nil || rp.Status != 400 || rp.Body != "Invalid user agent" {
		t.Errorf("response: %+v", rs[0].Actions)
	}
	if !rs[1].Passthrough || rs[1].Name != "imposter.yaml#2" {
		t.Errorf("second rule %+v", rs[1])
	}
}

// A broken file says where it broke, as file:line, for every rule that is
// wrong.
func TestParseErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ok.txt": "x"})
	file := filepath.Join(dir, "rules.yaml")
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"bad regex", "rules:\n  - name: x\n    replace: {in: response, pattern: 'a(', with: b}\n",
			[]string{file + ":3: rule \"x\": replace: pattern \"a(\": error parsing regexp: missing closing )"}},
		{"missing map-local", "- map-local: nothere/\n", []string{file + ":1: ", "map-local: stat " + filepath.Join(dir, "nothere")}},
		{"missing respond file", "- respond: {file: gone.json}\n", []string{file + ":1: ", "gone.json: no such file"}},
		{"bad filter", "- name: f\n  match: '~zz'\n  block: 403\n", []string{file + ":2: rule \"f\": match \"~zz\": col 1: unknown operator ~zz"}},
		{"unknown key", "- name: k\n  respnd: 200\n", []string{file + ":2: ", `unknown key "respnd"`}},
		{"unknown operator", "- requestHeaders:\n    X-A: {value: a, operator: Like}\n  block: 403\n", []string{file + ":2: ", `unknown operator "Like"`}},
		{"bad duration", "- delay: soon\n", []string{file + ":1: ", `"soon" is not a duration`}},
		{"bad rate", "- throttle: {down: fast}\n", []string{file + ":1: ", `bad bandwidth "fast"`}},
		{"bad preset", "- throttle: 5G\n", []string{file + ":1: ", `unknown preset "5G"`}},
		{"bad template", "- respond: {body: 'hi ${request.nope}'}\n", []string{file + ":1: ", `unknown request part "nope"`}},
		{"duplicate name", "- name: a\n  block: 403\n- name: a\n  block: 404\n", []string{file + ":3: rule \"a\": the name is taken by the rule at line 1"}},
		{"duplicate key", "- name: a\n  block: 403\n  block: 404\n", []string{file + ":3: ", `"block" appears twice (first at line 2)`}},
		{"framing header", "- set-header: {name: Content-Length, value: '1'}\n", []string{file + ":1: ", "written by the proxy"}},
		{"two block kinds", "- actions:\n  - block: teapot\n", []string{file + ":2: ", "want a status (403), close or reset"}},
		{"replace without in", "- replace: {pattern: a, with: b}\n", []string{file + ":1: ", "needs in: request, response or both"}},
		{"missing group", "- map-remote: {from: 'a', to: '$1'}\n", []string{file + ":1: ", "no group 1"}},
		{"syntax", "rules:\n  - name: x\n    a: 'unclosed\n    b: 2\n", []string{file + ":3: found unexpected end of stream"}},
		{"two errors", "- match: '~zz'\n- delay: soon\n", []string{file + ":1: ", file + ":2: "}},
		{"not a list", "rules: 3\n", []string{file + ":1: want a list of rules"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.ParseFile(file, []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not say %q", err, w)
				}
			}
			var e *rules.Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("not a *rules.Error with a line: %#v", err)
			}
		})
	}
}

// An empty file, or one with no rules, is no rules and no error.
func TestEmptyFiles(t *testing.T) {
	for _, src := range []string{"", "\n# nothing yet\n", "rules:\n", "rules: []\n", "[]\n"} {
		rs, err := rules.ParseFile("r.yaml", []byte(src))
		if err != nil || len(rs) != 0 {
			t.Errorf("%q: %v %v", src, rs, err)
		}
	}
}

// A standing mock is a respond rule that gives the mock back, its hits
// with it, whatever bytes its body holds.
func TestMockAsRule(t *testing.T) {
	body := []byte("gz\x1f\x8b\x00 ${not a template}")
	m := flowstore.Mock{Method: "GET", URL: "https://x.test/a*b?q=1", FlowID: "f1", Disabled: true,
		Response: &flowstore.Response{Status: 203, Reason: "Kept", Headers: flowstore.Headers{{Name: "Content-Encoding", Value: "gzip"}}, Body: flowstore.NewBody(body)}}
	r := rules.FromMock(m)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	back, ok := rules.ToMock(rules.Status{Rule: r, Hits: 4})
	if !ok || back.URL != m.URL || back.Method != "GET" || back.FlowID != "f1" || !back.Disabled || back.Hits != 4 ||
		string(back.Response.Body.Data) != string(body) || back.Response.Reason != "Kept" {
		t.Fatalf("%+v", back)
	}
	// Its YAML keeps the bytes (base64 when they are not text).
	again, err := rules.ParseRule(r.YAML(), "")
	if err != nil || again.Actions[0].Respond.Body != string(body) {
		t.Fatalf("%v\n%s", err, r.YAML())
	}
	// Two mocks with one description get two names.
	rs := rules.FromMocks([]flowstore.Mock{m, m})
	if rs[0].Name == rs[1].Name {
		t.Errorf("names %q %q", rs[0].Name, rs[1].Name)
	}
}

// Saved flows carry the rules that acted on them; loading them gives the
// rules back, the latest definition of each.
func TestFromFlows(t *testing.T) {
	v1 := rules.Rule{Name: "env", Match: rules.Match{Filter: "~d api"}, Actions: []rules.Action{{SetHeader: &rules.SetHeader{Name: "X-Env", Value: "one"}}}}
	v2 := v1
	v2.Actions = []rules.Action{{SetHeader: &rules.SetHeader{Name: "X-Env", Value: "two"}}}
	flows := []*flowstore.Flow{
		{ID: "a", Request: &flowstore.Request{}, Rules: []flowstore.RuleHit{{Rule: "env", Spec: string(v1.YAML())}}},
		{ID: "b", Request: &flowstore.Request{}, Rules: []flowstore.RuleHit{{Rule: "env", Spec: string(v2.YAML())}, {Rule: "broken", Spec: "respond: {status: x}"}}},
		{ID: "c", Request: &flowstore.Request{Method: "GET", Scheme: "https", Host: "m.test", Port: 443, Path: "/"}, Response: &flowstore.Response{Status: 200}, Mock: &flowstore.MockRule{}},
	}
	rs, errs := rules.FromFlows(flows)
	if len(rs) != 2 || rs[0].Actions[0].SetHeader.Value != "two" || rs[0].Source != rules.SourceLoaded || rs[1].Source != rules.SourceMock {
		t.Fatalf("%+v", rs)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "broken") {
		t.Errorf("errors %v", errs)
	}
}

func TestRates(t *testing.T) {
	for in, want := range map[string]int64{"56kbit": 56_000, "1.5Mbit": 1_500_000, "256kbps": 256_000, "100KB/s": 800_000,
		"1MiB/s": 8 << 20, "2Mbps": 2_000_000, "8 bit/s": 8, "1B": 8} {
		got, err := rules.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, err := rules.ParseRate(rules.FormatRate(got)); err != nil || back != got {
			t.Errorf("FormatRate(%d) = %q reads back as %d, %v", got, rules.FormatRate(got), back, err)
		}
	}
	for _, bad := range []string{"", "fast", "-1Mbit", "1Mbit/h", "0kbit"} {
		if _, err := rules.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if p, ok := rules.LookupPreset("Slow Wi-Fi"); !ok || p.Name != "slow-wifi" {
		t.Errorf("LookupPreset: %+v %v", p, ok)
	}
}

// The README's example is a rules file that loads.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Rules\n")
	if !ok {
		t.Fatal("README has no Rules section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("the Rules section has no YAML example")
	}
	dir := writeFiles(t, map[string]string{"site/index.html": "<p>"})
	rs, err := rules.ParseFile(filepath.Join(dir, "rules.yaml"), []byte(example))
	if err != nil {
		t.Fatalf("%v\n%s", err, example)
	}
	if _, err := rules.Compile(rs, nil); err != nil || len(rs) != 7 {
		t.Fatalf("%d rules, %v", len(rs), err)
	}
}

// Restore hands the rules a loaded store's flows carry to the engine, and
// says so in the log.
func TestRestore(t *testing.T) {
	r := rules.Rule{Name: "env", Actions: []rules.Action{{SetHeader: &rules.SetHeader{Name: "X-Env", Value: "one"}}}}
	store := flowstore.NewStore(0)
	store.AddAll([]*flowstore.Flow{
		{ID: "a", Request: &flowstore.Request{Method: "GET", Scheme: "http", Host: "a.test", Port: 80, Path: "/"}, Rules: []flowstore.RuleHit{{Rule: "env", Spec: string(r.YAML())}}},
		{ID: "b", Request: &flowstore.Request{Method: "GET", Scheme: "http", Host: "b.test", Port: 80, Path: "/"}},
	})
	log := flowstore.NewEventLog(10)
	var got []rules.Rule
	rules.Restore(store, func(rs []rules.Rule) (int, error) { got = rs; return len(rs), nil }, log)
	if len(got) != 1 || got[0].Name != "env" {
		t.Fatalf("%+v", got)
	}
	if e, _ := log.Last(); !strings.Contains(e.Msg, "1 rule(s) carried by the loaded flows restored") {
		t.Errorf("log %q", e.Msg)
	}
}

// Editing a rule as YAML keeps where it came from, and takes relative
// paths from its file's directory.
func TestEdit(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.json": "{}", "b.json": "[]"})
	rs := mustParse(t, dir, "- {name: m, path: /a, map-local: a.json}\n")
	edited, err := rs[0].Edit([]byte(strings.Replace(string(rs[0].YAML()), filepath.Join(dir, "a.json"), "b.json", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if edited.Source != rs[0].Source || edited.Line != 1 || edited.Actions[0].MapLocal.Path != filepath.Join(dir, "b.json") {
		t.Errorf("%+v %+v", edited, edited.Actions[0].MapLocal)
	}
	if _, err := rs[0].Edit([]byte("name: m\nmap-local: nothere.json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad edit: %v", err)
	}
}
