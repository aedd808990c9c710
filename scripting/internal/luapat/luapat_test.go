package luapat_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/scripting/internal/luapat"
)

// Expected results are those of Lua 5.1's string.find(s, p, init).
func TestFind(t *testing.T) {
	tests := []struct {
		s, p       string
		init       int
		start, end int // 0-based start, end exclusive; -1: no match
		caps       []string
	}{
		{"hello world", "o w", 0, 4, 7, nil},
		{"hello world", "l+", 0, 2, 4, nil},
		{"hello", "xyz", 0, -1, -1, nil},
		{"hello", "", 0, 0, 0, nil},
		{"hello", "", 5, 5, 5, nil},
		{"key=value", "(%w+)=(%w+)", 0, 0, 9, []string{"key", "value"}},
		{"  trim  ", "^%s*(.-)%s*$", 0, 0, 8, []string{"trim"}},
		{"abc", "^b", 0, -1, -1, nil},
		{"abc", "^b", 1, 1, 2, nil},
		{"f(a(b)c)d", "%b()", 0, 1, 8, nil},
		{"THE (quick) fox", "%f[%a]%a+", 4, 5, 10, nil},
		{"aaa", "a-b", 0, -1, -1, nil},
		{"aaab", "a-b", 0, 0, 4, nil},
		{"x = 10", "(%d+)", 0, 4, 6, []string{"10"}},
		{"abcabc", "(abc)%1", 0, 0, 6, []string{"abc"}},
		{"[x]", "[]]", 0, 2, 3, nil},
		{"a-b", "[a-]", 1, 1, 2, nil},
		{"a.b", "%.", 0, 1, 2, nil},
		{"ab", "a?b", 0, 0, 2, nil},
		{"b", "a?b", 0, 0, 1, nil},
		{"hello$", "o$", 0, -1, -1, nil},
		{"hello", "o$", 0, 4, 5, nil},
		{"a$b", "$b", 0, 1, 3, nil},
		{"abc", "()b()", 0, 1, 2, []string{"@2", "@3"}},
		{"\x00ab", "%z", 0, 0, 1, nil},
		{"ABC def", "%u+", 0, 0, 3, nil},
		{"ABC def", "[^%u%s]+", 0, 4, 7, nil},
		{"0x1F", "%x+$", 2, 2, 4, nil},
	}
	for _, tc := range tests {
		m, start, end, err := luapat.Find(tc.s, tc.p, tc.init, nil)
		if err != nil {
			t.Errorf("find(%q, %q): %v", tc.s, tc.p, err)
			continue
		}
		if start != tc.start || (start >= 0 && end != tc.end) {
			t.Errorf("find(%q, %q, %d) = %d, %d; want %d, %d", tc.s, tc.p, tc.init, start, end, tc.start, tc.end)
			continue
		}
		if start < 0 {
			continue
		}
		caps, err := m.Captures(start, end, false)
		if err != nil {
			t.Errorf("captures: %v", err)
		}
		var got []string
		for _, c := range caps {
			if c.Len == luapat.CapPosition {
				got = append(got, "@"+string(rune('0'+c.Start+1)))
			} else {
				got = append(got, m.Text(c))
			}
		}
		if strings.Join(got, "|") != strings.Join(tc.caps, "|") {
			t.Errorf("find(%q, %q) captures %q, want %q", tc.s, tc.p, got, tc.caps)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, p := range []string{"[a", "%", "(a", "a)", "%b", "%f", "%fx", "%1", "(()"} {
		m, start, end, err := luapat.Find("aaa", p, 0, nil)
		if err == nil && start >= 0 {
			_, err = m.Captures(start, end, false)
		}
		var pe *luapat.Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: error %v", p, err)
		}
	}
}

// Repetition does not recurse per character, so a long subject is fine;
// deep pattern nesting is refused.
func TestDepth(t *testing.T) {
	long := strings.Repeat("a", 5_000_000)
	_, start, end, err := luapat.Find(long, "^(a*)$", 0, nil)
	if err != nil || start != 0 || end != len(long) {
		t.Fatalf("%d %d %v", start, end, err)
	}
	_, _, _, err = luapat.Find(strings.Repeat("a", 300)+"x", strings.Repeat("a?", 300)+"x", 0, nil)
	if err == nil || !strings.Contains(err.Error(), "too complex") {
		t.Fatalf("deep pattern: %v", err)
	}
}

// A pattern that backtracks exponentially stops when check says so.
func TestCheckStopsBacktracking(t *testing.T) {
	stop := errors.New("time is up")
	deadline := time.Now().Add(50 * time.Millisecond)
	check := func() error {
		if time.Now().After(deadline) {
			return stop
		}
		return nil
	}
	start := time.Now()
	_, _, _, err := luapat.Find(strings.Repeat("a", 20000), ".-.-.-.-b$", 0, check)
	if !errors.Is(err, stop) || time.Since(start) > time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

// FuzzFind: any pattern on any subject either matches within bounds or
// fails with an *Error (or check's error); it never panics or hangs.
func FuzzFind(f *testing.F) {
	for _, s := range []string{"%b()", "(%w+)=(%w+)", "[^%s]+$", "%f[%a]", "(a)%1", "()", "[%]-]", "%", "[", "((a)"} {
		f.Add("key=(value) [x]", s, 0)
	}
	f.Fuzz(func(t *testing.T, s, p string, init int) {
		if init < 0 || init > len(s) {
			init = 0
		}
		steps := 0
		stop := errors.New("budget")
		m, start, end, err := luapat.Find(s, p, init, func() error {
			steps++
			if steps > 100 {
				return stop
			}
			return nil
		})
		if err != nil {
			var pe *luapat.Error
			if !errors.As(err, &pe) && !errors.Is(err, stop) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if start < 0 {
			return
		}
		if start < init || end < start || end > len(s) {
			t.Fatalf("match [%d,%d) outside [%d,%d]", start, end, init, len(s))
		}
		caps, err := m.Captures(start, end, true)
		if err != nil {
			return
		}
		for _, c := range caps {
			if c.Len != luapat.CapPosition && (c.Start < 0 || c.Start+c.Len > len(s) || c.Len < 0) {
				t.Fatalf("capture %+v outside the subject", c)
			}
		}
	})
}
