package flowview

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Byte classes beyond the lexer's: search hits.
const (
	classMatch   = 200
	classCurrent = 201
)

func classStyle(st *theme.Styles, c uint8) *lipgloss.Style {
	switch c {
	case classMatch:
		return &st.Match
	case classCurrent:
		return &st.CurrentMatch
	case uint8(body.ClassKey):
		return &st.SyntaxKey
	case uint8(body.ClassString):
		return &st.SyntaxString
	case uint8(body.ClassNumber):
		return &st.SyntaxNumber
	case uint8(body.ClassLiteral):
		return &st.SyntaxLiteral
	case uint8(body.ClassTag):
		return &st.SyntaxTag
	case uint8(body.ClassAttr):
		return &st.SyntaxAttr
	case uint8(body.ClassComment):
		return &st.SyntaxComment
	}
	return nil
}

// lineClasses gives each byte of line i its colour class: the lexer's,
// then search hits on top.
func (m Model) lineClasses(d *body.Doc, i int, n, start int) []uint8 {
	spans := d.Spans(i)
	var hits []body.Match
	first := 0
	if m.mdoc == d && len(m.ms) > 0 {
		hits, first = body.MatchesIn(m.ms, start, start+n)
	}
	if len(spans) == 0 && len(hits) == 0 {
		return nil
	}
	cls := make([]uint8, n)
	for _, s := range spans {
		for j := max(s.Start, 0); j < min(s.End, n); j++ {
			cls[j] = uint8(s.Class)
		}
	}
	for k, h := range hits {
		c := uint8(classMatch)
		if first+k == m.mcur {
			c = classCurrent
		}
		for j := max(h.Start-start, 0); j < min(h.End-start, n); j++ {
			cls[j] = c
		}
	}
	return cls
}

// bodyLine renders line i of a document with its colours.
func (m Model) bodyLine(d *body.Doc, i int) string {
	b, start := d.Line(i)
	cls := m.lineClasses(d, i, len(b), start)
	if d.IsHex() {
		return hexLine(b, start, cls, m.st)
	}
	var out strings.Builder
	out.Grow(len(b) + 16)
	seg := func(from, to int, c uint8) {
		t := display(b[from:to])
		if st := classStyle(m.st, c); st != nil && t != "" {
			t = st.Render(t)
		}
		out.WriteString(t)
	}
	if cls == nil {
		seg(0, len(b), 0)
	} else {
		from := 0
		for j := 1; j <= len(b); j++ {
			if j == len(b) || cls[j] != cls[from] {
				seg(from, j, cls[from])
				from = j
			}
		}
	}
	s := out.String()
	if d.Width > m.bodyWidth() { // cut for another width while a rewrap runs
		s = ansi.Truncate(s, m.bodyWidth(), "…")
	}
	return s
}

// display makes text bytes safe to print: tabs expanded, control bytes
// and invalid UTF-8 escaped (\x1b), as wide as body's wrap counts them.
func display(b []byte) string {
	ok := true
	for _, c := range b {
		if c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
			ok = false
			break
		}
	}
	if ok {
		return string(b)
	}
	s := string(b)
	if bytes.IndexByte(b, '\t') >= 0 {
		s = strings.ReplaceAll(s, "\t", strings.Repeat(" ", body.TabWidth))
	}
	return flowstore.EscapeControl(s)
}

// hexLine renders "offset  hex bytes  |ascii|" with hits highlighted in
// both columns.
func hexLine(b []byte, start int, cls []uint8, st *theme.Styles) string {
	var out strings.Builder
	out.WriteString(st.Muted.Render(fmt.Sprintf("%08x", start)))
	out.WriteString("  ")
	style := func(j int, s string) string {
		if cls != nil {
			if p := classStyle(st, cls[j]); p != nil {
				return p.Render(s)
			}
		}
		return s
	}
	for j := 0; j < body.HexRow; j++ {
		if j == 8 {
			out.WriteByte(' ')
		}
		if j < len(b) {
			out.WriteString(style(j, fmt.Sprintf("%02x", b[j])))
			out.WriteByte(' ')
		} else {
			out.WriteString("   ")
		}
	}
	out.WriteString(" |")
	for j, c := range b {
		ch := "."
		if c >= 0x20 && c < 0x7f {
			ch = string(rune(c))
		}
		out.WriteString(style(j, ch))
	}
	out.WriteString("|")
	return out.String()
}
