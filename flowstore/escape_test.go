package flowstore_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func TestEscapeControl(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain ASCII, a \\ backslash", "plain ASCII, a \\ backslash"},
		{"héllo wörld ✓ 日本", "héllo wörld ✓ 日本"},
		{"OK\x1b]0;owned\x07\x1b[2J", `OK\x1b]0;owned\x07\x1b[2J`},
		{"GE\x1bT", `GE\x1bT`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x00\x7f", `\x00\x7f`},
		{"C1 \u009b31m and \u0085", `C1 \u009b31m and \u0085`},
		{"bad \xff\xfe utf8 \xc3", `bad \xff\xfe utf8 \xc3`},
		{"\u00a0nbsp stays", "\u00a0nbsp stays"},
	} {
		got := flowstore.EscapeControl(tc.in)
		if got != tc.want {
			t.Errorf("EscapeControl(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 || c == 0x7f {
				t.Errorf("EscapeControl(%q) left control byte %#x", tc.in, c)
			}
		}
		if !utf8.ValidString(got) {
			t.Errorf("EscapeControl(%q) = %q is not UTF-8", tc.in, got)
		}
	}
}

func TestEscapedWidth(t *testing.T) {
	for c := byte(0); c < 0x20; c++ {
		if got, want := flowstore.EscapedWidth(c), len(flowstore.EscapeControl(string([]byte{c}))); got != want {
			t.Errorf("EscapedWidth(%#x) = %d, EscapeControl writes %d", c, got, want)
		}
	}
	if got := flowstore.EscapedWidth(0x7f); got != len(flowstore.EscapeControl("\x7f")) {
		t.Errorf("EscapedWidth(DEL) = %d", got)
	}
}

func FuzzEscapeControl(f *testing.F) {
	f.Add("OK\x1b]0;owned\x07\x1b[2J")
	f.Add("\xc2\x9b\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := flowstore.EscapeControl(s)
		if !utf8.ValidString(got) {
			t.Fatalf("not UTF-8: %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control %U left in %q", r, got)
			}
		}
		if flowstore.EscapeControl(got) != got {
			t.Fatalf("escaping twice changed %q", got)
		}
	})
}

func ExampleEscapeControl() {
	fmt.Println(flowstore.EscapeControl("200 OK\x1b]0;owned\x07\x1b[2J"))
	// Output: 200 OK\x1b]0;owned\x07\x1b[2J
}
