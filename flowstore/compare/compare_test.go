package compare_test

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/compare"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func jsonFlow(body string, ce string) *flowstore.Flow {
	data := []byte(body)
	if ce != "" {
		data, _ = content.Encode(data, ce)
	}
	f := flowtest.New(flowtest.URL("https://api.test/users/1"), flowtest.RespBody("application/json", data))
	if ce != "" {
		f.Response.Headers.Set("Content-Encoding", ce)
	}
	return f
}

// Two JSON bodies that differ in one field show exactly that field, whatever
// their key order, spacing or compression.
func TestJSONComparedByStructure(t *testing.T) {
	a := jsonFlow(`{"name":"ann","id":1,"tags":["a","b"],"age":30}`, "gzip")
	b := jsonFlow("{\n  \"age\": 31, \"tags\": [\"a\", \"b\"],\n\"id\":1, \"name\": \"ann\"}", "gzip")
	b.Response.Headers = a.Response.Headers // the lengths aside, the heads are the same
	d := compare.Flows(a, b, "a", "b")
	if d.Same {
		t.Fatal("a changed age compared the same")
	}
	var changed []string
	for _, l := range strings.Split(d.Unified(3), "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			changed = append(changed, l)
		}
	}
	if strings.Join(changed, "|") != `-  "age": 30,|+  "age": 31,` {
		t.Fatalf("changed lines %q in\n%s", changed, d.Unified(3))
	}
	rows := d.SideBySide()
	n := 0
	for _, r := range rows {
		if r.Change {
			n++
			if r.A != `  "age": 30,` || r.B != `  "age": 31,` {
				t.Fatalf("side by side: %+v", r)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d changed rows, want 1", n)
	}
}

func TestSameFlowsCompareSame(t *testing.T) {
	a := jsonFlow(`{"b":1,"a":2}`, "")
	b := jsonFlow(`{"a":2, "b":1}`, "")
	if d := compare.Flows(a, b, "a", "b"); !d.Same || d.Unified(3) != "" {
		t.Fatalf("same flows differ:\n%s", d.Unified(3))
	}
}

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ ct, in, want string }{
		{"application/x-www-form-urlencoded", "b=2&a=1&a=0", "a=0\na=1\nb=2"},
		{"text/plain", "plain\x1b[2J text", `plain\x1b[2J text`},
		{"application/octet-stream", "\x00\x01\x02", "00000000  00 01 02\n"},
		{"application/json", `{"n":1.0}`, "{\n  \"n\": 1.0\n}"},
		{"", `[1, 2]`, "[\n  1,\n  2\n]"},
	} {
		if got := compare.Normalize(tt.ct, []byte(tt.in)); got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, want %q", tt.ct, tt.in, got, tt.want)
		}
	}
}

// A long stretch of equal lines is folded away: only the context around
// the change is shown.
func TestLongEqualStretchesFold(t *testing.T) {
	var a, b strings.Builder
	a.WriteString(`{"items":[`)
	b.WriteString(`{"items":[`)
	for i := range 200 {
		if i > 0 {
			a.WriteString(",")
			b.WriteString(",")
		}
		a.WriteString(`{"i":` + string(rune('0'+i%10)) + `}`)
		if i == 150 {
			b.WriteString(`{"i":"changed"}`)
		} else {
			b.WriteString(`{"i":` + string(rune('0'+i%10)) + `}`)
		}
	}
	a.WriteString("]}")
	b.WriteString("]}")
	u := compare.Flows(jsonFlow(a.String(), ""), jsonFlow(b.String(), ""), "a", "b").Unified(3)
	if n := strings.Count(u, "\n"); n > 20 {
		t.Fatalf("the diff of one changed item is %d lines:\n%s", n, u)
	}
}
