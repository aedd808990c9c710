package rules_test

import (
	"fmt"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// BenchmarkMatchNone: what 50 rules cost a flow none of them matches, in
// both phases (every kind of matcher; a tenth act on responses).
func BenchmarkMatchNone(b *testing.B) {
	var rs []rules.Rule
	for i := range 50 {
		r := rules.Rule{Name: fmt.Sprintf("r%d", i)}
		set := rules.Action{SetHeader: &rules.SetHeader{Name: "X-Rule", Value: "1"}}
		switch i % 5 {
		case 0:
			r.Match.Filter = fmt.Sprintf("~d api-%d.example.com", i)
		case 1:
			r.Match.Path, r.Match.Method = fmt.Sprintf("/v1/service-%d/*", i), "POST"
		case 2:
			r.Match.Filter = fmt.Sprintf("~u /static/%d/ & ~m GET", i)
		case 3:
			r.Match.RequestHeaders = []rules.HeaderMatch{{Name: fmt.Sprintf("X-Debug-%d", i), Operator: rules.Exists}}
		case 4:
			r.Match.Filter = fmt.Sprintf("~d cdn-%d.example & ~c 500", i)
			set.SetHeader.In = rules.Response
		}
		r.Actions = []rules.Action{set}
		rs = append(rs, r)
	}
	s, err := rules.Compile(rs, nil)
	if err != nil {
		b.Fatal(err)
	}
	f := flowtest.New(flowtest.URL("https://127.0.0.1:44321/bench"))
	b.ReportAllocs()
	for b.Loop() {
		if s.MatchRequest(f) != nil || s.MatchResponse(f) != nil {
			b.Fatal("matched")
		}
	}
}
