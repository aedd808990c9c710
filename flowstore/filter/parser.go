package filter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// node is a compiled expression: the AST is the matcher.
type node interface {
	match(*flowstore.Flow) bool
	shallow() bool // every operator in it is shallow
	body() bool    // some operator in it reads a body
	dump(*strings.Builder)
}

type andNode []node

func (n andNode) match(f *flowstore.Flow) bool {
	for _, x := range n {
		if !x.match(f) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) match(f *flowstore.Flow) bool {
	for _, x := range n {
		if x.match(f) {
			return true
		}
	}
	return false
}

type notNode struct{ x node }

func (n notNode) match(f *flowstore.Flow) bool { return !n.x.match(f) }

func (n andNode) shallow() bool { return allShallow(n) }
func (n orNode) shallow() bool  { return allShallow(n) }
func (n notNode) shallow() bool { return n.x.shallow() }
func (l *leaf) shallow() bool   { return l.op.shallow }

func (n andNode) body() bool { return anyBody(n) }
func (n orNode) body() bool  { return anyBody(n) }
func (n notNode) body() bool { return n.x.body() }
func (l *leaf) body() bool   { return l.op.body }

func anyBody(xs []node) bool {
	for _, x := range xs {
		if x.body() {
			return true
		}
	}
	return false
}

func allShallow(xs []node) bool {
	for _, x := range xs {
		if !x.shallow() {
			return false
		}
	}
	return true
}

// leaf is one operator with its compiled argument.
type leaf struct {
	op     *opSpec
	arg    string // the argument as written (unquoted), for dump
	re     *rx    // argRegex
	lo, hi int    // argInt: an inclusive status range
}

func (l *leaf) match(f *flowstore.Flow) bool { return l.op.match(l, f) }

func dumpList(b *strings.Builder, name string, xs []node) {
	b.WriteString(name)
	b.WriteByte('(')
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		x.dump(b)
	}
	b.WriteByte(')')
}

func (n andNode) dump(b *strings.Builder) { dumpList(b, "and", n) }
func (n orNode) dump(b *strings.Builder)  { dumpList(b, "or", n) }
func (n notNode) dump(b *strings.Builder) { dumpList(b, "not", []node{n.x}) }

func (l *leaf) dump(b *strings.Builder) {
	b.WriteString(l.op.name)
	switch l.op.arg {
	case argRegex:
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(l.arg))
	case argInt:
		fmt.Fprintf(b, " %d", l.lo)
		if l.hi != l.lo {
			fmt.Fprintf(b, "-%d", l.hi)
		}
	}
}

// maxDepth bounds nesting so a pasted "((((…" cannot exhaust the stack.
const maxDepth = 500

// parser is a recursive-descent parser over the grammar
//
//	seq     = or { or }            side by side: AND, loosest
//	or      = and { "|" and }
//	and     = unary { "&" unary }
//	unary   = "!" unary | primary
//	primary = "(" seq ")" | OP [arg] | WORD | STRING
type parser struct {
	lx    lexer
	tok   token
	have  bool // tok holds a peeked token
	depth int
}

func (p *parser) peek() (token, error) {
	if !p.have {
		t, err := p.lx.next()
		if err != nil {
			return token{}, err
		}
		p.tok, p.have = t, true
	}
	return p.tok, nil
}

func (p *parser) take() token { p.have = false; return p.tok }

func errAt(pos int, format string, args ...any) error {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() (node, error) {
	n, err := p.seq()
	if err != nil {
		return nil, err
	}
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokRParen {
		return nil, errAt(t.pos, "unmatched )")
	}
	return n, nil
}

// startsOperand reports whether t can begin an expression.
func startsOperand(t token) bool {
	switch t.kind {
	case tokLParen, tokNot, tokOp, tokWord, tokString:
		return true
	}
	return false
}

func (p *parser) seq() (node, error) {
	var items andNode
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind == tokAnd || t.kind == tokOr {
			return nil, errAt(t.pos, "%s needs an expression before it", t.text)
		}
		if !startsOperand(t) {
			break
		}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		items = appendFlat(items, n)
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return items, nil
}

// appendFlat appends n to list, splicing n in when it is the same kind of
// list, so a & b & c is one and-node.
func appendFlat[L andNode | orNode](list L, n node) L {
	if same, ok := n.(L); ok {
		return append(list, same...)
	}
	return append(list, n)
}

// operand reads the expression after a binary or unary operator op.
func (p *parser) operand(op token, next func() (node, error)) (node, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if !startsOperand(t) {
		return nil, errAt(op.pos, "%s needs an expression after it", op.text)
	}
	return next()
}

func (p *parser) or() (node, error) { return chain[orNode](p, tokOr, p.and) }

func (p *parser) and() (node, error) { return chain[andNode](p, tokAnd, p.unary) }

// chain parses one level of binary operators: operands from next joined
// by tokens of kind op, flattened into one list node.
func chain[L andNode | orNode](p *parser, op tokKind, next func() (node, error)) (node, error) {
	n, err := next()
	if err != nil {
		return nil, err
	}
	list := L{n}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind != op {
			break
		}
		n, err := p.operand(p.take(), next)
		if err != nil {
			return nil, err
		}
		list = appendFlat(list, n)
	}
	if len(list) == 1 {
		return list[0], nil
	}
	return any(list).(node), nil
}

func (p *parser) unary() (node, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind != tokNot {
		return p.primary()
	}
	if p.depth++; p.depth > maxDepth {
		return nil, errAt(t.pos, "expression nested too deeply")
	}
	defer func() { p.depth-- }()
	x, err := p.operand(p.take(), p.unary)
	if err != nil {
		return nil, err
	}
	return notNode{x}, nil
}

func (p *parser) primary() (node, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tokLParen:
		return p.group(p.take())
	case tokOp:
		return p.operator(p.take())
	case tokWord:
		return p.word(p.take())
	case tokString:
		return p.regexLeaf(opsByName["~u"], p.take())
	}
	// seq, or, and and check startsOperand first; this is a safety net.
	return nil, errAt(t.pos, "expected an expression, found %q", t.text)
}

func (p *parser) group(open token) (node, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, errAt(open.pos, "expression nested too deeply")
	}
	defer func() { p.depth-- }()
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokRParen {
		return nil, errAt(open.pos, "empty ( )")
	}
	n, err := p.seq()
	if err != nil {
		return nil, err
	}
	if t, err = p.peek(); err != nil {
		return nil, err
	}
	if t.kind != tokRParen {
		return nil, errAt(open.pos, "unclosed (")
	}
	p.take()
	return n, nil
}

func (p *parser) operator(t token) (node, error) {
	op := opsByName[t.text]
	if op == nil {
		return nil, errAt(t.pos, "unknown operator %s", t.text)
	}
	switch op.arg {
	case argRegex:
		a, ok, err := p.lx.arg()
		if err != nil {
			return nil, err
		}
		if !ok {
			msg := op.name + " needs a regex argument"
			if r := strings.TrimLeft(p.lx.src[p.lx.pos:], " \t\n\r\f\v"); r != "" && strings.ContainsRune("()~", rune(r[0])) {
				msg += "; quote a regex that starts with " + r[:1]
			}
			return nil, errAt(t.pos, "%s", msg)
		}
		return p.regexLeaf(op, a)
	case argInt:
		a, ok := p.lx.argInt()
		if !ok {
			return nil, errAt(t.pos, "%s needs a status code argument", op.name)
		}
		return statusLeaf(op, a.text, a.pos)
	}
	return &leaf{op: op}, nil
}

// word is a naked URL regex, or a field:value shorthand.
func (p *parser) word(t token) (node, error) {
	field, value, found := strings.Cut(t.text, ":")
	op := lookupShorthand(field)
	if !found || op == nil {
		return p.regexLeaf(opsByName["~u"], t)
	}
	vpos := t.pos + len(field) + 1
	if value == "" && p.lx.pos < len(p.lx.src) && (p.lx.src[p.lx.pos] == '"' || p.lx.src[p.lx.pos] == '\'') {
		q, err := p.lx.quoted() // host:"a b"
		if err != nil {
			return nil, err
		}
		value, vpos = q.text, q.pos
	} else if value == "" {
		return nil, errAt(t.pos, "%s: needs a value", field)
	}
	if op.arg == argInt {
		return statusLeaf(op, value, vpos)
	}
	return p.regexLeaf(op, token{kind: tokWord, pos: vpos, text: value})
}

func (p *parser) regexLeaf(op *opSpec, a token) (node, error) {
	re, err := compileRx("(?" + op.flags + ")" + a.text)
	if err != nil {
		// Report RE2's complaint about the regex as written, without our flags.
		if _, err2 := compileRx(a.text); err2 != nil {
			err = err2
		}
		return nil, errAt(a.pos, "%s", err)
	}
	return &leaf{op: op, arg: a.text, re: re}, nil
}

// statusLeaf reads a status code, or a class such as 4xx (shorthand only
// reaches the class form; ~c's lexer gives digits or a bad word).
func statusLeaf(op *opSpec, s string, pos int) (node, error) {
	if len(s) == 3 && s[0] >= '1' && s[0] <= '9' && strings.EqualFold(s[1:], "xx") {
		lo := int(s[0]-'0') * 100
		return &leaf{op: op, arg: s, lo: lo, hi: lo + 99}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || strings.TrimLeft(s, "0123456789") != "" {
		return nil, errAt(pos, "status code must be an integer (like 404) or a class (like 4xx), got %q", s)
	}
	return &leaf{op: op, arg: s, lo: n, hi: n}, nil
}
