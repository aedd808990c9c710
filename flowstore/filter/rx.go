package filter

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// rx is a compiled argument regex. Most filters people type are plain
// words (~d example, ~h x-trace), and Go's case-insensitive regexes cannot
// use a literal fast path, so a regex that is one ASCII literal is matched
// by a substring search instead; the result is the same.
type rx struct {
	re   *regexp.Regexp
	lit  string // the literal, lower-cased when fold; "" when not a literal
	litb []byte // lit as bytes
	fold bool
	// oneField: lit has no ':', ' ' or '\n', so in header text it cannot
	// span a name and a value, or two lines.
	oneField bool
	// must is an ASCII literal (lower-cased) that every match contains,
	// when the regex is not one literal: "api.example.com" (its dots match
	// any character) cannot match a text without "example", and a
	// substring search says so far sooner than the regex engine. "": none.
	must string
}

func compileRx(expr string) (*rx, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	x := &rx{re: re}
	if t, err := syntax.Parse(expr, syntax.Perl); err == nil {
		t = t.Simplify()
		if t.Op == syntax.OpLiteral && isASCII(t.Rune) {
			x.fold = t.Flags&syntax.FoldCase != 0
			b := make([]byte, len(t.Rune))
			for i, r := range t.Rune {
				b[i] = byte(r)
				if x.fold {
					b[i] = lower(b[i])
				}
			}
			x.lit, x.litb = string(b), b
			x.oneField = !strings.ContainsAny(x.lit, ": \n")
		} else {
			x.must = mustLiteral(t)
		}
	}
	return x, nil
}

// mustLiteral is the longest ASCII literal of a concatenation at the top
// of the regex, lower-cased when it folds case: every match contains it.
// A literal that does not fold case is left out (the search folds).
func mustLiteral(t *syntax.Regexp) string {
	if t.Op != syntax.OpConcat {
		return ""
	}
	best := ""
	for _, sub := range t.Sub {
		if sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase == 0 || !isASCII(sub.Rune) || len(sub.Rune) <= len(best) {
			continue
		}
		b := make([]byte, len(sub.Rune))
		for i, r := range sub.Rune {
			b[i] = lower(byte(r))
		}
		best = string(b)
	}
	if len(best) < 3 {
		return "" // too short to save the regex much
	}
	return best
}

func isASCII(rs []rune) bool {
	for _, r := range rs {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return len(rs) > 0
}

func (x *rx) MatchString(s string) bool {
	switch {
	case x.lit == "":
		if x.must != "" {
			if found, ascii := foldContains(s, x.must); !found && ascii {
				return false
			}
		}
		return x.re.MatchString(s)
	case !x.fold:
		return strings.Contains(s, x.lit)
	}
	found, ascii := foldContains(s, x.lit)
	// Unicode folds two ASCII letters to non-ASCII ones (k: U+212A,
	// s: U+017F); only the regex knows them.
	return found || !ascii && x.re.MatchString(s)
}

func (x *rx) Match(b []byte) bool {
	switch {
	case x.lit == "":
		if x.must != "" {
			if found, ascii := foldContains(b, x.must); !found && ascii {
				return false
			}
		}
		return x.re.Match(b)
	case !x.fold:
		return bytes.Contains(b, x.litb)
	}
	found, ascii := foldContains(b, x.lit)
	return found || !ascii && x.re.Match(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldContains reports whether s contains lit (lower-case ASCII, not
// empty) under ASCII case folding, and, when it does not, whether s is all
// ASCII.
func foldContains[T string | []byte](s T, lit string) (found, ascii bool) {
	first := lit[0]
	firstUp := first
	if 'a' <= first && first <= 'z' {
		firstUp = first - ('a' - 'A')
	}
	var seen byte // every byte of s ORed: its top bit says non-ASCII
	for i := 0; i < len(s); i++ {
		c := s[i]
		seen |= c
		if c != first && c != firstUp || len(s)-i < len(lit) {
			continue
		}
		j := 1
		for j < len(lit) && lower(s[i+j]) == lit[j] {
			j++
		}
		if j == len(lit) {
			return true, true
		}
	}
	return false, seen < utf8.RuneSelf
}
