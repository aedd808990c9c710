package rules

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A template is text with ${...} expressions, parsed once when a rule is
// compiled:
//
//	${stores.NAME.KEY}          a captured value
//	${request.header.NAME}      a request header (also request.headers.NAME)
//	${request.query.NAME}       a query parameter (also request.queryParams.NAME)
//	${request.method}, ${request.path}, ${request.url}, ${request.host}, ${request.body}
//	${EXPR:-default}            default when the value is missing or empty
//
// A leading "context." is allowed (${context.request.headers.X}, Imposter's
// spelling); $${ is a literal ${.
type template struct {
	parts []tpart
}

type tpart struct {
	lit  string
	expr *texpr // nil: lit
}

type exprKind uint8

const (
	exStore exprKind = iota
	exHeader
	exQuery
	exMethod
	exPath
	exURL
	exHost
	exBody
)

type texpr struct {
	kind   exprKind
	a, b   string // store and key; header or parameter name
	def    string
	hasDef bool
}

// parseTemplate reads s; a template without expressions costs nothing to
// expand.
func parseTemplate(s string) (*template, error) {
	t := &template{}
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("template: ${ at byte %d is not closed with } (write $${ for a literal ${)", i)
			}
			e, err := parseExpr(s[i+2 : i+end])
			if err != nil {
				return nil, fmt.Errorf("template ${%s}: %w", s[i+2:i+end], err)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tpart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tpart{expr: e})
			i += end + 1
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 || len(t.parts) == 0 {
		t.parts = append(t.parts, tpart{lit: lit.String()})
	}
	return t, nil
}

func parseExpr(s string) (*texpr, error) {
	e := &texpr{}
	if body, def, ok := strings.Cut(s, ":-"); ok {
		s, e.def, e.hasDef = body, def, true
	}
	s = strings.TrimPrefix(strings.TrimSpace(s), "context.")
	head, rest, _ := strings.Cut(s, ".")
	switch head {
	case "stores":
		store, key, ok := strings.Cut(rest, ".")
		if !ok || store == "" || key == "" {
			return nil, fmt.Errorf("want stores.STORE.KEY")
		}
		e.kind, e.a, e.b = exStore, store, key
		return e, nil
	case "request":
	default:
		return nil, fmt.Errorf("unknown name %q (want stores.… or request.…)", head)
	}
	part, name, _ := strings.Cut(rest, ".")
	switch part {
	case "header", "headers":
		e.kind, e.a = exHeader, name
	case "query", "queryParams":
		e.kind, e.a = exQuery, name
	case "method":
		e.kind = exMethod
	case "path":
		e.kind = exPath
	case "url", "uri":
		e.kind = exURL
	case "host":
		e.kind = exHost
	case "body":
		e.kind = exBody
	default:
		return nil, fmt.Errorf("unknown request part %q (want header, query, method, path, url, host or body)", part)
	}
	if (e.kind == exHeader || e.kind == exQuery) && name == "" {
		return nil, fmt.Errorf("request.%s needs a name: request.%s.NAME", part, part)
	}
	if e.kind != exHeader && e.kind != exQuery && name != "" {
		return nil, fmt.Errorf("request.%s takes no name", part)
	}
	return e, nil
}

// static reports a template without expressions, and its text.
func (t *template) static() (string, bool) {
	if len(t.parts) == 1 && t.parts[0].expr == nil {
		return t.parts[0].lit, true
	}
	return "", false
}

// expand fills the template from the request and the stores.
func (t *template) expand(req *flowstore.Request, st *Stores) string {
	if s, ok := t.static(); ok {
		return s
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		v := p.expr.value(req, st)
		if v == "" && p.expr.hasDef {
			v = p.expr.def
		}
		b.WriteString(v)
	}
	return b.String()
}

func (e *texpr) value(req *flowstore.Request, st *Stores) string {
	if e.kind == exStore {
		v, _ := st.Get(e.a, e.b)
		return v
	}
	if req == nil {
		return ""
	}
	switch e.kind {
	case exHeader:
		return req.Headers.Get(e.a)
	case exQuery:
		q, _ := url.ParseQuery(req.Query())
		return q.Get(e.a)
	case exMethod:
		return req.Method
	case exPath:
		return req.PathOnly()
	case exURL:
		return req.URL()
	case exHost:
		return req.Host
	case exBody:
		return string(decodedBody(req.Body, req.Headers))
	}
	return ""
}
