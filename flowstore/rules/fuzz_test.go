package rules_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// FuzzParseFile: any bytes give rules or an error, never a panic; rules
// that parse write YAML that parses to rules again, and act on a flow
// without a panic.
func FuzzParseFile(f *testing.F) {
	for _, s := range []string{
		"- {name: a, block: 403}\n",
		"rules:\n  - path: /x/*\n    requestHeaders: {X-A: {value: a, operator: Matches}}\n    respond: {status: 200, body: '${request.header.X-A:-none}'}\n",
		"- {passthrough: true, capture: {k: {requestHeader: X}}, set-header: {name: Y, value: '${stores.default.k}', in: both}}\n",
		"- {replace: {in: both, pattern: 'a(b)', with: '$1'}, delay: {request: 1ms}, throttle: {down: 1Mbit}}\n",
		"- {map-remote: {from: '^http://a', to: 'http://b'}, remove-header: {name: X, in: response}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := rules.ParseFile("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if _, err := rules.ParseRule(r.YAML(), ""); err != nil {
				t.Fatalf("a parsed rule's YAML does not parse: %v\n%s", err, r.YAML())
			}
		}
		s, err := rules.Compile(rs, nil)
		if err != nil {
			return
		}
		fl := flowtest.New(flowtest.URL("http://a.test/x/1?q=2"), flowtest.ReqHeader("X-A", "a"))
		st := rules.NewStores()
		s.ApplyRequest(fl, s.MatchRequest(fl), rules.Env{Stores: st, Whole: true, BodyLimit: 1 << 16})
		if fl.Response != nil {
			s.ApplyResponse(fl, s.MatchResponse(fl), rules.Env{Stores: st, Whole: true})
		}
	})
}

// FuzzMitmproxySpec: any option value parses or is refused, never a panic.
func FuzzMitmproxySpec(f *testing.F) {
	for _, s := range []string{"|~d a|//a|//b|", "/foo/bar", `/~q/X/a\x41\n`, `:a(b):\g<1>\2`, "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		for _, parse := range []func(string) (rules.Rule, error){rules.ParseMapRemote, rules.ParseModifyHeaders, rules.ParseModifyBody} {
			r, err := parse(spec)
			if err != nil {
				continue
			}
			r.Name = "r"
			if err := r.Check(); err != nil {
				t.Fatalf("%q parsed but does not compile: %v", spec, err)
			}
		}
	})
}
