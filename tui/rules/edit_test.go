package rules_test

import (
	"fmt"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
)

func TestEdits(t *testing.T) {
	bps := func() []flowstore.Breakpoint {
		return []flowstore.Breakpoint{{Filter: "~u /a", Request: true}, {Filter: "~u /b", Request: true, Response: true}}
	}
	show := func(bps []flowstore.Breakpoint) string {
		s := ""
		for _, b := range bps {
			s += fmt.Sprintf("[%s %s %v]", b.Filter, b.Phases(), b.Disabled)
		}
		return s
	}
	for _, tt := range []struct {
		name string
		edit rules.Edit
		want string
	}{
		{"next phase", rules.NextPhase(1), "[~u /a request false][~u /b request false]"},
		{"next phase past request", rules.NextPhase(0), "[~u /a response false][~u /b both false]"},
		{"toggle", rules.Toggle(0), "[~u /a request true][~u /b both false]"},
		{"delete", rules.Delete(0), "[~u /b both false]"},
		{"past the end", rules.Delete(5), "[~u /a request false][~u /b both false]"},
		{"add", rules.Add(flowstore.Breakpoint{Filter: "~m POST", Response: true}), "[~u /a request false][~u /b both false][~m POST response false]"},
		{"refilter", rules.Refilter(1, " ~d x "), "[~u /a request false][~d x both false]"},
		{"main replaced", rules.SetMain("~d y"), "[~u /a request false][~d y both false]"},
		{"main removed", rules.SetMain(""), "[~u /a request false]"},
	} {
		if got := show(tt.edit(bps())); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := show(rules.SetMain("~d z")(bps()[:1])); got != "[~d z both false][~u /a request false]" {
		t.Errorf("main added first: %s", got)
	}
	if got := rules.Active([]flowstore.Breakpoint{{Filter: "~u /a", Request: true}, {Filter: "x", Request: true, Response: true, Disabled: true}}); fmt.Sprint(got) != "[~u /a (request)]" {
		t.Errorf("active %q", got)
	}
}
