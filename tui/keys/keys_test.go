package keys_test

import (
	"fmt"
	"github.com/charmbracelet/x/exp/golden"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

func TestDefaultsHaveNoConflictsAndAllHaveHelp(t *testing.T) {
	m := keys.Default()
	if c := keys.Conflicts(m); len(c) != 0 {
		t.Fatalf("default bindings conflict: %v", c)
	}
	for _, c := range m.Contexts() {
		seen := map[string]bool{}
		for _, a := range c.Actions {
			if seen[a.Name] {
				t.Errorf("%s: action %q listed twice", c.Name, a.Name)
			}
			seen[a.Name] = true
			if len(a.B.Keys()) == 0 {
				t.Errorf("%s.%s has no key", c.Name, a.Name)
			}
			h := a.B.Help()
			if h.Key == "" || h.Desc == "" {
				t.Errorf("%s.%s has no help text: %+v", c.Name, a.Name, h)
			}
			if h.Key != keys.Label(a.B.Keys()) {
				t.Errorf("%s.%s: help key %q drifted from keys %q", c.Name, a.Name, h.Key, a.B.Keys())
			}
		}
	}
}

// mitmproxy's keys, on purpose.
func TestMitmproxyKeys(t *testing.T) {
	m := keys.Default()
	want := map[string][]string{
		"flowlist.filter": {"f"}, "flowlist.follow": {"F"}, "flowlist.order": {"o"}, "flowlist.reverse": {"v"},
		"flowlist.mark": {"m"}, "flowlist.marked_only": {"M"}, "flowlist.clear_marks": {"U"},
		"flowlist.comment": {";"}, "flowlist.delete": {"d"}, "flowlist.clear_all": {"z"},
		"global.eventlog": {"E"}, "global.help": {"?"}, "global.quit_now": {"Q"},
		"flowview.mode": {"m"}, "eventlog.clear": {"z"},
		"global.intercept": {"i"}, "global.browser": {"B"},
		"flowlist.resume": {"a"}, "flowlist.resume_all": {"A"}, "flowlist.kill": {"X"}, "flowlist.revert": {"V"},
		"flowlist.replay": {"r"}, "flowlist.duplicate": {"D"}, "flowlist.export": {"x"}, "flowlist.save_body": {"b"},
		"flowlist.save": {"w"}, "flowlist.edit": {"e"},
		"flowview.resume": {"a"}, "flowview.resume_all": {"A"}, "flowview.kill": {"X"}, "flowview.revert": {"V"},
		"flowview.replay": {"r"}, "flowview.duplicate": {"D"}, "flowview.export": {"x"}, "flowview.save_body": {"b"},
		"flowview.save": {"w"}, "flowview.edit": {"e"},
	}
	for _, c := range m.Contexts() {
		for _, a := range c.Actions {
			w, ok := want[c.Name+"."+a.Name]
			if !ok {
				continue
			}
			if got := a.B.Keys(); strings.Join(got, ",") != strings.Join(w, ",") {
				t.Errorf("%s.%s = %q, want %q", c.Name, a.Name, got, w)
			}
		}
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		conf     string
		problems []string
		check    func(t *testing.T, m *keys.Map)
	}{
		{
			name: "rebind",
			conf: "# comment\nflowlist.mark = ctrl+x, hash\n\nflowview.search = ctrl+s\nflowview.next_match = space\n",
			check: func(t *testing.T, m *keys.Map) {
				if got := m.FlowList.Mark.Keys(); strings.Join(got, "|") != "ctrl+x|#" {
					t.Errorf("mark keys = %q", got)
				}
				if h := m.FlowList.Mark.Help(); h.Key != "ctrl+x/#" || h.Desc != "toggle mark" {
					t.Errorf("mark help = %+v", h)
				}
				if got := m.FlowView.Search.Keys(); got[0] != "ctrl+s" {
					t.Errorf("search keys = %q", got)
				}
			},
			problems: []string{`keys.conf:5: flowview.next_match: key "space" is bound to both flowview.page_down and flowview.next_match; keeping n`},
		},
		{
			name: "swap two keys",
			conf: "flowlist.mark = d\nflowlist.delete = m\n",
			check: func(t *testing.T, m *keys.Map) {
				if m.FlowList.Mark.Keys()[0] != "d" || m.FlowList.Delete.Keys()[0] != "m" {
					t.Errorf("swap not applied: mark=%q delete=%q", m.FlowList.Mark.Keys(), m.FlowList.Delete.Keys())
				}
			},
		},
		{
			name: "conflict with default is reported and not applied",
			conf: "flowlist.mark = d\n",
			check: func(t *testing.T, m *keys.Map) {
				if m.FlowList.Mark.Keys()[0] != "m" {
					t.Errorf("conflicting binding applied: %q", m.FlowList.Mark.Keys())
				}
			},
			problems: []string{`keys.conf:1: flowlist.mark: key "d" is bound to both flowlist.mark and flowlist.delete; keeping m`},
		},
		{
			name:     "conflict with a global key",
			conf:     "flowview.mode = E\n",
			problems: []string{`keys.conf:1: flowview.mode: key "E" is bound to both global.eventlog and flowview.mode; keeping m`},
		},
		{
			name: "unknown things",
			conf: "flowlist.teleport = t\nnowhere.up = k\nflowlist.mark = ctrl+banana\nnonsense\nflowlist.mark = none, x\nflowlist.mark =\n",
			problems: []string{
				`keys.conf:1: unknown action "teleport" in flowlist`,
				`keys.conf:2: unknown context "nowhere" (known: global, flowlist, flowview, eventlog, help, prompt, breakpoints)`,
				`keys.conf:3: flowlist.mark: unknown key "ctrl+banana"`,
				`keys.conf:4: want context.action = keys, got "nonsense"`,
				`keys.conf:5: flowlist.mark: "none" must stand alone`,
				`keys.conf:6: flowlist.mark: no keys (write "none" to unbind)`,
			},
		},
		{
			name: "unbind",
			conf: "flowlist.clear_all = none\n",
			check: func(t *testing.T, m *keys.Map) {
				if len(m.FlowList.ClearAll.Keys()) != 0 || m.FlowList.ClearAll.Enabled() {
					t.Errorf("clear_all still bound: %q", m.FlowList.ClearAll.Keys())
				}
			},
		},
		{
			name: "prompt keys may reuse global keys",
			conf: "prompt.history_prev = ctrl+p, up\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := keys.Default()
			probs, err := keys.Apply(strings.NewReader(tt.conf), "keys.conf", m)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.problems, "\n"))
			}
			if c := keys.Conflicts(m); len(c) != 0 {
				t.Errorf("conflicts left after Apply: %v", c)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	probs, err := keys.Load(t.TempDir(), keys.Default())
	if err != nil || len(probs) != 0 {
		t.Fatalf("Load of a missing file = %v, %v", probs, err)
	}
}

// TestKeyTable writes every binding to a golden file: the reference of
// the keys, and a diff whenever one changes.
func TestKeyTable(t *testing.T) {
	var b strings.Builder
	for _, c := range keys.Default().Contexts() {
		for _, a := range c.Actions {
			fmt.Fprintf(&b, "%-11s %-13s %-20s %s\n", c.Name, a.Name, a.B.Help().Key, a.B.Help().Desc)
		}
	}
	golden.RequireEqual(t, []byte(b.String()))
}
