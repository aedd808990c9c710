package filter

import (
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Filter is a parsed filter expression. It is immutable and safe for
// concurrent use. A nil *Filter, like the empty expression, matches every
// flow.
type Filter struct {
	src  string
	root node // nil: match everything
}

// ParseError is a syntax error, a bad regex or a bad number in an
// expression. Pos is the byte offset of the offending token in the
// expression; Error reports it as a 1-based column.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string { return fmt.Sprintf("col %d: %s", e.Pos+1, e.Msg) }

// Parse compiles a filter expression. The empty (or all-whitespace)
// expression gives a filter that matches every flow. Errors are
// *ParseError.
func Parse(expr string) (*Filter, error) {
	if strings.TrimLeft(expr, " \t\n\r\f\v") == "" {
		return &Filter{src: expr}, nil
	}
	p := &parser{lx: lexer{src: expr}}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	return &Filter{src: expr, root: root}, nil
}

// MustParse is Parse for expressions known to be valid; it panics on an
// error.
func MustParse(expr string) *Filter {
	f, err := Parse(expr)
	if err != nil {
		panic(fmt.Sprintf("filter.MustParse(%q): %v", expr, err))
	}
	return f
}

// Match reports whether fl satisfies the filter.
func (f *Filter) Match(fl *flowstore.Flow) bool {
	if f == nil || f.root == nil {
		return true
	}
	if fl == nil {
		return false
	}
	return f.root.match(fl)
}

// Shallow reports whether the filter reads only what a flowstore.Summary
// keeps, so that matching Summary.Lite() gives the same answer as matching
// the whole flow: a list can then filter spooled flows without reading
// them back from disk.
func (f *Filter) Shallow() bool {
	return f == nil || f.root == nil || f.root.shallow()
}

// ReadsBody reports whether the filter looks at a message body (~b, ~bq,
// ~bs): whoever matches it before a body is read must read the body first.
func (f *Filter) ReadsBody() bool { return f != nil && f.root != nil && f.root.body() }

// Empty reports whether the filter matches every flow because it says
// nothing (no filter, or only spaces).
func (f *Filter) Empty() bool { return f == nil || f.root == nil }

// String returns the expression the filter was parsed from.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.src
}
