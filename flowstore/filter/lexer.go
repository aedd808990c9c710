package filter

import "strings"

type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokLParen         // (
	tokRParen         // )
	tokNot            // !
	tokAnd            // &
	tokOr             // |
	tokOp             // ~name; text is "~name"
	tokWord           // bare word
	tokString         // '…' or "…"; text is unescaped
)

// token is one lexeme; pos and end are byte offsets into the expression.
type token struct {
	kind     tokKind
	pos, end int
	text     string
}

// lexer reads tokens on demand. The parser asks for an ordinary token with
// next, and for an operator's argument with arg or argInt: an argument is
// read by different rules (it may start with ! & |), as in mitmproxy.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isWordEnd: the characters that end a bare word (pyparsing's CharsNotIn).
func isWordEnd(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '~' || c == '\'' || c == '"'
}

// isNameEnd: the characters that end an operator name.
func isNameEnd(c byte) bool {
	return isWordEnd(c) || c == '!' || c == '&' || c == '|'
}

func (lx *lexer) skipSpace() {
	for lx.pos < len(lx.src) && isSpace(lx.src[lx.pos]) {
		lx.pos++
	}
}

// next reads a token where an expression or an operator is expected.
func (lx *lexer) next() (token, error) {
	lx.skipSpace()
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tokEOF, pos: start, end: start}, nil
	}
	single := func(k tokKind) (token, error) {
		lx.pos++
		return token{kind: k, pos: start, end: lx.pos, text: lx.src[start:lx.pos]}, nil
	}
	switch c := lx.src[start]; c {
	case '(':
		return single(tokLParen)
	case ')':
		return single(tokRParen)
	case '!':
		return single(tokNot)
	case '&':
		return single(tokAnd)
	case '|':
		return single(tokOr)
	case '\'', '"':
		return lx.quoted()
	case '~':
		end := start + 1
		for end < len(lx.src) && !isNameEnd(lx.src[end]) {
			end++
		}
		lx.pos = end
		if end == start+1 {
			return token{}, &ParseError{Pos: start, Msg: "~ must be followed by an operator name (quote a regex containing ~)"}
		}
		return token{kind: tokOp, pos: start, end: end, text: lx.src[start:end]}, nil
	}
	return lx.word(), nil
}

// word reads a bare word at lx.pos (which is not a word end).
func (lx *lexer) word() token {
	start := lx.pos
	end := start
	for end < len(lx.src) && !isWordEnd(lx.src[end]) {
		end++
	}
	// "~d a|~d b": the | belongs to the expression, not the regex.
	if end < len(lx.src) && lx.src[end] == '~' && end-start > 1 {
		if c := lx.src[end-1]; c == '|' || c == '&' {
			end--
		}
	}
	lx.pos = end
	return token{kind: tokWord, pos: start, end: end, text: lx.src[start:end]}
}

// quoted reads a '…' or "…" string at lx.pos. A backslash escapes a quote
// or a backslash; other backslashes are kept for the regex.
func (lx *lexer) quoted() (token, error) {
	start := lx.pos
	q := lx.src[start]
	var b strings.Builder
	for i := start + 1; i < len(lx.src); i++ {
		c := lx.src[i]
		switch {
		case c == '\\' && i+1 < len(lx.src) && (lx.src[i+1] == '\\' || lx.src[i+1] == '\'' || lx.src[i+1] == '"'):
			i++
			b.WriteByte(lx.src[i])
		case c == q:
			lx.pos = i + 1
			return token{kind: tokString, pos: start, end: lx.pos, text: b.String()}, nil
		default:
			b.WriteByte(c)
		}
	}
	return token{}, &ParseError{Pos: start, Msg: "unterminated " + string(q) + " string"}
}

// arg reads the regex argument of op: a quoted string or a bare word.
// ok is false when there is none (end of input, or a token that cannot
// start an argument).
func (lx *lexer) arg() (t token, ok bool, err error) {
	lx.skipSpace()
	if lx.pos >= len(lx.src) {
		return token{}, false, nil
	}
	switch c := lx.src[lx.pos]; {
	case c == '\'' || c == '"':
		t, err = lx.quoted()
		return t, err == nil, err
	case isWordEnd(c):
		return token{}, false, nil
	case c == '!' || c == '&' || c == '|':
		// A lone operator character is an operator, not a regex.
		if lx.pos+1 >= len(lx.src) || isWordEnd(lx.src[lx.pos+1]) {
			return token{}, false, nil
		}
	}
	return lx.word(), true, nil
}

// argInt reads the integer argument of ~c: digits up to a space or an
// operator character. The token is a word; the parser checks its digits, so
// that "~c 20x" reports "20x" rather than reading ~c 20 and a URL regex x.
func (lx *lexer) argInt() (t token, ok bool) {
	lx.skipSpace()
	start := lx.pos
	end := start
	for end < len(lx.src) && lx.src[end] >= '0' && lx.src[end] <= '9' {
		end++
	}
	if end == start || end < len(lx.src) && !isNameEnd(lx.src[end]) {
		// Not a plain number: take what a bare word would, for the message.
		if start >= len(lx.src) || isWordEnd(lx.src[start]) {
			return token{}, false
		}
		if c := lx.src[start]; (c == '!' || c == '&' || c == '|') && end == start {
			return token{}, false
		}
		t = lx.word()
		return t, true
	}
	lx.pos = end
	return token{kind: tokWord, pos: start, end: end, text: lx.src[start:end]}, true
}
