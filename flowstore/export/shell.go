package export

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// quote returns s as one POSIX shell word: single-quoted, with anything
// unprintable made by "$(printf '\ooo')". A newline stays literal inside the
// quotes, since command substitution would strip it.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	open := false
	setOpen := func(o bool) {
		if open != o {
			b.WriteByte('\'')
			open = o
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\'':
			setOpen(false)
			b.WriteString(`\'`)
			i++
		case printable(r, n):
			setOpen(true)
			b.WriteString(s[i : i+n])
			i += n
		default:
			setOpen(false)
			b.WriteString(`"$(printf '`)
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if printable(r, n) || r == '\'' {
					break
				}
				writeOctal(&b, s[i:i+n])
				i += n
			}
			b.WriteString(`')"`)
		}
	}
	if b.Len() == 0 {
		return "''"
	}
	setOpen(false)
	return b.String()
}

// printable: a rune that can sit raw inside single quotes and be read by a
// person: graphic characters, space and newline; not tab (a pasted tab
// completes in an interactive shell), not control or format characters.
func printable(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return r == '\n' || r == ' ' || unicode.IsPrint(r)
}

func writeOctal(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte('\\')
		b.WriteByte('0' + c>>6)
		b.WriteByte('0' + c>>3&7)
		b.WriteByte('0' + c&7)
	}
}

// printfPipe returns `printf 'FORMAT' | ` writing data exactly: printf's
// format escapes (\n, \r, \t, \\, %%, \ooo) for everything but printable
// text, which is kept readable.
func printfPipe(data []byte) string {
	var b strings.Builder
	b.Grow(len(data) + 16)
	b.WriteString("printf '")
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		c := data[i]
		switch {
		case i == 0 && c == '-': // bash's printf would take it for an option
			writeOctal(&b, "-")
		case c == '\\':
			b.WriteString(`\\`)
		case c == '%':
			b.WriteString("%%")
		case c == '\'':
			b.WriteString(`'\''`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case printable(r, n):
			b.Write(data[i : i+n])
		default:
			writeOctal(&b, string(data[i:i+n]))
		}
		i += n
	}
	b.WriteString("' | ")
	return b.String()
}

// maxInline is the largest body put on the command line: Linux refuses a
// single argument over 128 KiB (MAX_ARG_STRLEN), and a long one is
// unreadable anyway.
const maxInline = 64 << 10

// inlineText reports whether a body can go on the command line as one
// quoted word: printable UTF-8 and newlines only.
func inlineText(b []byte) bool {
	if len(b) > maxInline || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !printable(r, utf8.RuneLen(r)) {
			return false
		}
	}
	return true
}

// command joins the words of a command, one option per line.
type command struct {
	prefix string // "printf '…' | "
	words  []string
}

func (c *command) add(words ...string) { c.words = append(c.words, strings.Join(words, " ")) }

func (c *command) String() string {
	return c.prefix + strings.Join(c.words, " \\\n  ")
}
