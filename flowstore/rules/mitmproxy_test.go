package rules_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// The separator is the first character, whatever it is; the rest splits
// on it at most twice (mitmproxy's parse_spec and its tests).
func TestSpecSplitting(t *testing.T) {
	dir := writeFiles(t, map[string]string{"r.txt": "from file"})
	for _, tc := range []struct {
		spec           string
		filter, header string
		value          string
	}{
		{"/foo/bar/voing", "foo", "bar", "voing"},
		{"/bar/voing", "", "bar", "voing"},
		{"/foo/bar/vo/ing/", "foo", "bar", "vo/ing/"},
		{"|~d a|X-A|b|", "~d a", "X-A", "b|"}, // the trailing separator is the value's
		{":~q:one:two", "~q", "one", "two"},
		{"·~q·one·two", "~q", "one", "two"}, // a separator of two bytes
		{`/~q/X-Esc/a\tb\x41`, "~q", "X-Esc", "a\tbA"},
		{"/one/", "", "one", ""},
	} {
		r, err := rules.ParseModifyHeaders(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		sh := r.Actions[0].SetHeader
		if r.Match.Filter != tc.filter || sh.Name != tc.header || sh.Value != tc.value || sh.In != rules.Both || !r.Passthrough {
			t.Errorf("%q: filter %q name %q value %q", tc.spec, r.Match.Filter, sh.Name, sh.Value)
		}
	}
	r, err := rules.ParseModifyHeaders("/~q/X-F/@" + filepath.Join(dir, "r.txt"))
	if err != nil || r.Actions[0].SetHeader.File != filepath.Join(dir, "r.txt") {
		t.Errorf("@file: %+v %v", r, err)
	}
	for spec, want := range map[string]string{
		"/":                "invalid number of parameters",
		"":                 "empty",
		"/~b/one/two":      "invalid filter expression", // ~b needs an argument
		"/~b x/one/two":    "",
		"/~zz/one/two":     "invalid filter expression",
		"/~q/one/@nothere": "invalid file path",
		"/~q/bad name/x":   "header name",
		`/~q/X/a\r\nb`:     "line break",
		`/~q/X/a\x4`:       `invalid \x escape`,
	} {
		_, err := rules.ParseModifyHeaders(spec)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", spec, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
}

func TestSpecRegexErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		parse func(string) (rules.Rule, error)
		spec  string
		want  string
	}{
		{rules.ParseMapRemote, "/foo/+/three", "invalid regular expression"},
		{rules.ParseMapRemote, `|a|\q`, `bad escape \q`},
		{rules.ParseMapLocal, "/foo/+/" + dir, "invalid regular expression"},
		{rules.ParseMapLocal, "/foo/.+/three", "invalid file path"},
		{rules.ParseModifyBody, "/[/two", "invalid regular expression"},
		{rules.ParseModifyBody, "/~q/foo/@nonexistent", "invalid file path"},
	} {
		if _, err := tc.parse(tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.spec, err, tc.want)
		}
	}
}

// Python's replacement syntax becomes Go's; the meaning stays.
func TestMapRemoteReplacement(t *testing.T) {
	for _, tc := range []struct{ spec, url, want string }{
		{":example.org/images/:mitmproxy.org/img/", "https://example.org/images/test.jpg", "https://mitmproxy.org/img/test.jpg"},
		{`|http://([^/]+)/(\w+)|http://\2.\1/x`, "http://a.test/b/c", "http://b.a.test/x/c"},
		{`|http://(?P<h>[^/]+)/|http://\g<h>:8080/`, "http://a.test/p", "http://a.test:8080/p"},
		{`|~d x|/a$|/b$$`, "http://x.test/a", "http://x.test/b$$"},
	} {
		r, err := rules.ParseMapRemote(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		r.Name = "r"
		s := mustCompile(t, []rules.Rule{r})
		f := flowtest.New(flowtest.URL(tc.url))
		apply(t, s, f, nil)
		if got := f.Request.URL(); got != tc.want {
			t.Errorf("%q on %s: %s, want %s", tc.spec, tc.url, got, tc.want)
		}
	}
}

// The spelling, with a trailing separator: mitmproxy keeps it in
// the replacement.
func TestTrailingSeparator(t *testing.T) {
	r, err := rules.ParseMapRemote("|~d old|//old|//new|")
	if err != nil {
		t.Fatal(err)
	}
	if mr := r.Actions[0].MapRemote; r.Match.Filter != "~d old" || mr.From != "//old" || mr.To != "//new|" {
		t.Errorf("%+v %+v", r.Match, mr)
	}
}

// FromMitmproxy keeps mitmproxy's order and names each rule after its
// option.
func TestFromMitmproxy(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.txt": "a"})
	rs, err := rules.FromMitmproxy(rules.MitmproxyOptions{
		MapRemote:     []string{"|//old.test|//new.test"},
		MapLocal:      []string{"|/a.txt|" + filepath.Join(dir, "a.txt")},
		ModifyHeaders: []string{"/~q/X-A/1", "/~s/X-B/2"},
		ModifyBody:    []string{"/foo/bar"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Name)
		if r.Source != rules.SourceFlags || !r.Passthrough {
			t.Errorf("%+v", r)
		}
	}
	want := []string{"--modify-headers 1", "--modify-headers 2", "--map-remote 1", "--map-local 1", "--modify-body 1"}
	if !slices.Equal(got, want) {
		t.Errorf("%v", got)
	}
	if _, err := rules.Compile(rs, nil); err != nil {
		t.Fatal(err)
	}
	_, err = rules.FromMitmproxy(rules.MitmproxyOptions{MapRemote: []string{"/"}, ModifyBody: []string{"/(/x"}})
	if err == nil || !strings.Contains(err.Error(), `--map-remote "/"`) || !strings.Contains(err.Error(), `--modify-body "/(/x"`) {
		t.Errorf("%v", err)
	}
}

// --modify-body on both messages (the filter decides), literal
// replacement, across lines.
func TestModifyBody(t *testing.T) {
	r1, _ := rules.ParseModifyBody("/~q/foo/bar")
	r2, _ := rules.ParseModifyBody(`/~s/a.b/$1\n`)
	r1.Name, r2.Name = "q", "s"
	s := mustCompile(t, []rules.Rule{r1, r2})
	f := flowtest.New(flowtest.ReqBody("text/plain", []byte("foo")), flowtest.NoResponse())
	apply(t, s, f, nil)
	if string(f.Request.Body.Data) != "bar" {
		t.Errorf("request body %q", f.Request.Body.Data)
	}
	f.Response = &flowstore.Response{Status: 200, Body: flowstore.NewBody([]byte("xa\nby"))}
	s.ApplyResponse(f, s.MatchResponse(f), rules.Env{Whole: true})
	if string(f.Response.Body.Data) != "x$1\ny" {
		t.Errorf("response body %q", f.Response.Body.Data)
	}
}

// A later --map-remote sees what an earlier one did, as mitmproxy applies
// its specs in turn. (Not compared with mitmdump 8.1.1: its map-remote
// drops the port from Host, and the next spec then reads a URL without
// it; current mitmproxy keeps host:port.)
func TestMapRemoteChains(t *testing.T) {
	rs, err := rules.FromMitmproxy(rules.MitmproxyOptions{MapRemote: []string{
		"#~u /chain/#127.0.0.1:1111/chain/#127.0.0.1:2222/chain2/", "#~u /chain2/#/chain2/#/chained/"}})
	if err != nil {
		t.Fatal(err)
	}
	s := mustCompile(t, rs)
	f := flowtest.New(flowtest.URL("http://127.0.0.1:1111/chain/x"))
	apply(t, s, f, nil)
	if got := f.Request.URL(); got != "http://127.0.0.1:2222/chained/x" || len(f.Rules) != 2 {
		t.Errorf("%s %+v", got, f.Rules)
	}
}
