package body

import (
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Class is a token's kind, for colouring.
type Class uint8

const (
	ClassNone Class = iota
	ClassKey
	ClassString
	ClassNumber
	ClassLiteral
	ClassPunct
	ClassTag
	ClassAttr
	ClassComment
)

// Span is a coloured run of a line: byte offsets within the line.
type Span struct {
	Start, End int
	Class      Class
}

// Spans lexes line i for colouring. The lexers are line-local: a token
// that a wrap cut in two is coloured as well as a line alone allows.
func (d *Doc) Spans(i int) []Span {
	if d.hex != nil || d.Lang == LangNone {
		return nil
	}
	b, start := d.Line(i)
	switch d.Lang {
	case LangJSON:
		return lexJSON(b)
	case LangXML:
		return lexMarkup(b)
	case LangTable:
		if start > 0 && d.text[start-1] != '\n' {
			return nil // a wrapped continuation: all value
		}
		return []Span{{0, prefixCells(b, d.KeyW), ClassKey}}
	}
	return nil
}

// prefixCells is the byte length of the first w cells of b.
func prefixCells(b []byte, w int) int {
	col := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		col += runewidth.RuneWidth(r)
		if col > w {
			return i
		}
		i += n
	}
	return len(b)
}

func lexJSON(b []byte) []Span {
	var out []Span
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(b))
			k := j
			for k < len(b) && b[k] == ' ' {
				k++
			}
			cl := ClassString
			if k < len(b) && b[k] == ':' {
				cl = ClassKey
			}
			out = append(out, Span{i, j, cl})
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
				j++
			}
			out = append(out, Span{i, j, ClassNumber})
			i = j
		case c >= 'a' && c <= 'z':
			j := i + 1
			for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
				j++
			}
			switch string(b[i:j]) {
			case "true", "false", "null":
				out = append(out, Span{i, j, ClassLiteral})
			}
			i = j
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',':
			out = append(out, Span{i, i + 1, ClassPunct})
			i++
		default:
			i++
		}
	}
	return out
}

func isNameByte(c byte) bool {
	return c != ' ' && c != '\t' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' && c != '<'
}

func lexMarkup(b []byte) []Span {
	var out []Span
	for i := 0; i < len(b); {
		if b[i] != '<' {
			i++
			continue
		}
		if hasPrefix(b[i:], "<!--") {
			j := indexStr(b[i:], "-->")
			end := len(b)
			if j >= 0 {
				end = i + j + 3
			}
			out = append(out, Span{i, end, ClassComment})
			i = end
			continue
		}
		// Tag: "<", "</", "<?", "<!" then the name.
		j := i + 1
		for j < len(b) && (b[j] == '/' || b[j] == '?' || b[j] == '!') {
			j++
		}
		out = append(out, Span{i, j, ClassPunct})
		k := j
		for k < len(b) && isNameByte(b[k]) {
			k++
		}
		out = append(out, Span{j, k, ClassTag})
		i = k
		// Attributes up to ">".
		for i < len(b) && b[i] != '>' && b[i] != '<' {
			switch c := b[i]; {
			case c == '"' || c == '\'':
				j := i + 1
				for j < len(b) && b[j] != c {
					j++
				}
				j = min(j+1, len(b))
				out = append(out, Span{i, j, ClassString})
				i = j
			case c == '=' || c == '/' || c == '?':
				out = append(out, Span{i, i + 1, ClassPunct})
				i++
			case c == ' ' || c == '\t':
				i++
			default:
				j := i
				for j < len(b) && isNameByte(b[j]) {
					j++
				}
				if j == i {
					j++
				}
				out = append(out, Span{i, j, ClassAttr})
				i = j
			}
		}
		if i < len(b) && b[i] == '>' {
			out = append(out, Span{i, i + 1, ClassPunct})
			i++
		}
	}
	return out
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func indexStr(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}
