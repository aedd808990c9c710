package rules

import (
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A standing mock (K on an edited flow) is a respond rule: the flow's
// request selects (its method and URL, or the mock's filter) and its
// response answers, byte for byte. The flow keeps carrying the mock
// (Flow.Mock), so saved files of every version load as they did.

// MockName is the rule name of a standing mock.
func MockName(m flowstore.Mock) string { return "mock: " + m.Describe() }

// FromMock makes the respond rule of a standing mock.
func FromMock(m flowstore.Mock) Rule {
	r := Rule{Name: MockName(m), Disabled: m.Disabled, Source: SourceMock, MockOf: m.FlowID}
	if m.Filter != "" {
		r.Match.Filter = m.Filter
	} else {
		r.Match.Method, r.Match.URL = m.Method, escapeGlob(m.URL)
	}
	if rsp := m.Response; rsp != nil {
		r.Actions = []Action{{Respond: &Respond{
			Status: rsp.Status, Reason: rsp.Reason, Headers: rsp.Headers.Clone(),
			Body: string(rsp.Body.Data), Verbatim: true,
		}}}
	}
	return r
}

// ToMock turns a standing mock's rule back into the mock (ok is false for
// any other rule).
func ToMock(s Status) (flowstore.Mock, bool) {
	r := s.Rule
	if r.Source != SourceMock || len(r.Actions) != 1 || r.Actions[0].Respond == nil {
		return flowstore.Mock{}, false
	}
	rp := r.Actions[0].Respond
	m := flowstore.Mock{
		Method: r.Match.Method, URL: unescapeGlob(r.Match.URL), Filter: r.Match.Filter,
		Disabled: r.Disabled, FlowID: r.MockOf, Hits: s.Hits,
		Response: &flowstore.Response{Status: rp.Status, Reason: rp.Reason, Headers: rp.Headers.Clone(), Body: flowstore.NewBody([]byte(rp.Body))},
	}
	return m, true
}

// FromMocks makes the rules of standing mocks, naming apart two that
// would share a name.
func FromMocks(ms []flowstore.Mock) []Rule {
	out := make([]Rule, 0, len(ms))
	seen := map[string]int{}
	for _, m := range ms {
		r := FromMock(m)
		if n := seen[r.Name]; n > 0 {
			seen[r.Name] = n + 1
			r.Name = fmt.Sprintf("%s (%d)", r.Name, n+1)
		} else {
			seen[r.Name] = 1
		}
		out = append(out, r)
	}
	return out
}

// FromFlows collects the rules saved flows carry: each rule's latest
// definition among the flows' hits (Spec), in the order the rules first
// acted, and the standing mocks of the flows that carry one. A definition
// that no longer parses is skipped and reported. Every rule's Source is
// SourceLoaded (a mock's SourceMock).
func FromFlows(flows []*flowstore.Flow) ([]Rule, []error) {
	var out []Rule
	var errs []error
	at := map[string]int{}
	for _, f := range flows {
		for _, h := range f.Rules {
			if h.Spec == "" || strings.HasPrefix(h.Rule, "mock: ") {
				continue
			}
			r, err := ParseRule([]byte(h.Spec), "")
			if err != nil {
				errs = append(errs, fmt.Errorf("flow %s: rule %q: %w", f.ID, h.Rule, err))
				continue
			}
			r.Name, r.Source = h.Rule, SourceLoaded
			if i, ok := at[r.Name]; ok {
				out[i] = r
				continue
			}
			at[r.Name] = len(out)
			out = append(out, r)
		}
	}
	out = append(out, FromMocks(flowstore.MocksFrom(flows))...)
	return out, errs
}

// Restore gives the engine the rules the store's flows carry (loaded with
// --load: FromFlows), standing mocks among them, through restore (the
// engine's RestoreRules), and says in the log what it did. It replaces
// flowstore.LoadMocks, whose mocks it includes.
func Restore(store *flowstore.Store, restore func([]Rule) (int, error), log *flowstore.EventLog) {
	var flows []*flowstore.Flow
	store.Each(func(f *flowstore.Flow) bool {
		if len(f.Rules) > 0 || f.Mock != nil {
			flows = append(flows, f)
		}
		return true
	})
	rs, errs := FromFlows(flows)
	for _, err := range errs {
		log.Add(flowstore.LevelWarn, "load", "", "rules: "+err.Error())
	}
	if len(rs) == 0 {
		return
	}
	n, err := restore(rs)
	if err != nil {
		log.Add(flowstore.LevelWarn, "load", "", "rules carried by the loaded flows: "+err.Error())
		return
	}
	log.Add(flowstore.LevelInfo, "load", "", fmt.Sprintf("%d rule(s) carried by the loaded flows restored (%d already given by name)", n, len(rs)-n))
}
