package flowstore

import (
	"strings"
	"unicode/utf8"
)

// EscapeControl returns s with everything a terminal could act on written
// out as an escape, so that text from the network or a loaded file (a
// reason phrase "OK\x1b]0;owned\x07", a method with ESC in it) is shown and
// never obeyed: C0 controls and DEL as \xNN (tab, newline and carriage
// return as \t, \n, \r), C1 controls (U+0080 to U+009F) as \u0080, and
// bytes that are not UTF-8 as \xNN. Printable text, backslashes included,
// is left as it is: this is for showing, not for quoting. Saved files keep
// the real bytes; only what is drawn or printed for a person goes through
// here. s comes back unchanged (and unallocated) when it needs nothing.
func EscapeControl(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r < 0xa0 {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				writeEscape(&b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeHex(&b, `\x`, c)
		case r < 0xa0:
			writeHex(&b, `\u00`, byte(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// EscapedWidth is how many cells EscapeControl writes for the control
// byte c (a C0 control or DEL): 2 for \t, \n and \r, 4 for \xNN. Views
// that lay out text byte by byte use it to agree with EscapeControl.
func EscapedWidth(c byte) int {
	switch c {
	case '\t', '\n', '\r':
		return 2
	}
	return 4
}

func writeEscape(b *strings.Builder, c byte) {
	switch c {
	case '\t':
		b.WriteString(`\t`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	default:
		writeHex(b, `\x`, c)
	}
}

func writeHex(b *strings.Builder, prefix string, c byte) {
	const digits = "0123456789abcdef"
	b.WriteString(prefix)
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}
