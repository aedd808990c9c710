package filter

import (
	"regexp"
	"strings"
	"sync"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// argKind is what an operator takes after its name.
type argKind uint8

const (
	argNone argKind = iota
	argRegex
	argInt
)

var argNames = [...]string{argNone: "", argRegex: "regex", argInt: "int"}

// opSpec is one operator of the language. The parser finds operators by
// name here, and Help lists them in this order.
type opSpec struct {
	name  string // with the "~"
	arg   argKind
	flags string // RE2 flags for a regex argument
	help  string
	match func(l *leaf, f *flowstore.Flow) bool
	// shallow: the operator reads only what a flowstore.Summary keeps, so
	// it gives the same answer on Summary.Lite() as on the whole flow.
	shallow bool
	// body: the operator reads a message body, so a rule that matches on
	// it makes the engine read bodies before it matches.
	body bool
}

// The shallow operators look only at the method, the URL, the host, the
// status, the response's Content-Type (the summary keeps its first field: a
// response with two is malformed anyway), whether there is a response or an
// error, the mark and the replay flag. ~d counts: Lite's Host header is the
// authority, and a flow whose own differs is flagged (FlagOddHost) for the
// list to match whole.
var ops = []opSpec{
	{name: "~u", arg: argRegex, flags: "i", help: "URL", match: matchURL, shallow: true},
	{name: "~d", arg: argRegex, flags: "i", help: "domain: request host or Host header", match: matchDomain, shallow: true},
	{name: "~m", arg: argRegex, flags: "i", help: "method", match: matchMethod, shallow: true},
	{name: "~c", arg: argInt, help: "response status code equals (or a class: ~c 4xx)", match: matchStatus, shallow: true},
	{name: "~h", arg: argRegex, flags: "im", help: "header line (name: value) in request or response", match: matchHeaders},
	{name: "~hq", arg: argRegex, flags: "im", help: "request header line", match: matchReqHeaders},
	{name: "~hs", arg: argRegex, flags: "im", help: "response header line", match: matchRespHeaders},
	{name: "~t", arg: argRegex, flags: "i", help: "Content-Type of request or response", match: matchType},
	{name: "~tq", arg: argRegex, flags: "i", help: "request Content-Type", match: matchReqType},
	{name: "~ts", arg: argRegex, flags: "i", help: "response Content-Type", match: matchRespType, shallow: true},
	{name: "~b", arg: argRegex, flags: "is", help: "decoded body of request or response, or any WebSocket message or event", match: matchBody, body: true},
	{name: "~bq", arg: argRegex, flags: "is", help: "decoded request body, or a message from the client", match: matchReqBody, body: true},
	{name: "~bs", arg: argRegex, flags: "is", help: "decoded response body, or a message from the server or an event", match: matchRespBody, body: true},
	{name: "~q", help: "request with no response (yet)", match: func(_ *leaf, f *flowstore.Flow) bool { return f.Response == nil }, shallow: true},
	{name: "~s", help: "has a response", match: func(_ *leaf, f *flowstore.Flow) bool { return f.Response != nil }, shallow: true},
	{name: "~e", help: "has an error", match: func(_ *leaf, f *flowstore.Flow) bool { return f.Error != nil }, shallow: true},
	{name: "~a", help: "asset in response: CSS, JavaScript, images, fonts", match: matchAsset, shallow: true},
	{name: "~websocket", help: "WebSocket handshake (upgrade answered 101)", match: matchWebSocket},
	{name: "~marked", help: "marked flows", match: func(_ *leaf, f *flowstore.Flow) bool { return f.Marked }, shallow: true},
	{name: "~replay", help: "replayed flows", match: func(_ *leaf, f *flowstore.Flow) bool { return f.ReplayOf != "" }, shallow: true},
	{name: "~comment", arg: argRegex, flags: "im", help: "flow comment", match: func(l *leaf, f *flowstore.Flow) bool { return l.re.MatchString(f.Comment) }},
	{name: "~src", arg: argRegex, flags: "i", help: "client address ip:port", match: matchSrc},
	{name: "~mode", arg: argRegex, flags: "i", help: "the --mode it came through (regular, socks5, reverse:URL…)", match: matchMode},
	{name: "~dst", arg: argRegex, flags: "i", help: "server address host:port (or the ip:port it resolved to)", match: matchDst},
	{name: "~rule", arg: argRegex, flags: "i", help: "a rule (by name) acted on the flow: rewrote, answered, blocked, delayed it...", match: matchRule},
	{name: "~http", help: "HTTP flows (every flow)", match: matchAll, shallow: true},
	{name: "~all", help: "every flow", match: matchAll, shallow: true},
}

// opsByName indexes ops; built once from the table.
var opsByName = func() map[string]*opSpec {
	m := make(map[string]*opSpec, len(ops))
	for i := range ops {
		m[ops[i].name] = &ops[i]
	}
	return m
}()

// shorthand is a field:value word standing for an operator (the form
// Proxelar and others use).
type shorthand struct {
	field string // without the colon, lower case
	op    string
}

var shorthands = []shorthand{
	{"host", "~d"}, {"status", "~c"}, {"method", "~m"}, {"type", "~t"},
	{"url", "~u"}, {"path", "~u"}, {"body", "~b"}, {"header", "~h"},
}

func lookupShorthand(field string) *opSpec {
	for _, s := range shorthands {
		if strings.EqualFold(s.field, field) {
			return opsByName[s.op]
		}
	}
	return nil
}

// OpHelp is one line of the filter help screen.
type OpHelp struct{ Op, Arg, Help string }

// Help lists the operators, the shorthand fields and the combinators, in
// the order a help screen shows them.
func Help() []OpHelp {
	out := make([]OpHelp, 0, len(ops)+len(shorthands)+6)
	for _, o := range ops {
		out = append(out, OpHelp{Op: o.name, Arg: argNames[o.arg], Help: o.help})
	}
	for _, s := range shorthands {
		arg, help := "regex", "same as "+s.op
		if s.op == "~c" {
			arg, help = "int|Nxx", "same as ~c; status:4xx matches 400-499"
		}
		out = append(out, OpHelp{Op: s.field + ":", Arg: arg, Help: help})
	}
	return append(out,
		OpHelp{Op: "word", Help: `bare word or "quoted string": same as ~u word`},
		OpHelp{Op: "!", Help: "not (binds tightest)"},
		OpHelp{Op: "&", Help: "and"},
		OpHelp{Op: "|", Help: "or (binds looser than &)"},
		OpHelp{Op: "a b", Help: "side by side: and, looser than | (~m POST ~c 201 | ~c 404 is ~m POST & (~c 201 | ~c 404))"},
		OpHelp{Op: "(...)", Help: "grouping"},
	)
}

func matchAll(*leaf, *flowstore.Flow) bool { return true }

// bufs holds scratch buffers for the URL and header text, so matching
// 100 000 flows does not allocate 100 000 strings.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// matchText serialises with appendText into a scratch buffer and matches it.
func matchText(re *rx, appendText func([]byte) []byte) bool {
	bp := bufs.Get().(*[]byte)
	b := appendText((*bp)[:0])
	ok := re.Match(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufs.Put(bp)
	}
	return ok
}

// appendURL appends Request.URL(), without building the authority as a
// string of its own (a port that is not the scheme's made one per match).
func appendURL(b []byte, r *flowstore.Request) []byte { return r.AppendURL(b) }

// appendHeaders appends Headers.String(): "Name: value" lines.
func appendHeaders(b []byte, h flowstore.Headers) []byte {
	for i, kv := range h {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, kv.Name...)
		b = append(b, ": "...)
		b = append(b, kv.Value...)
	}
	return b
}

func matchURL(l *leaf, f *flowstore.Flow) bool {
	r := f.Request
	return r != nil && matchText(l.re, func(b []byte) []byte { return appendURL(b, r) })
}

func matchDomain(l *leaf, f *flowstore.Flow) bool {
	r := f.Request
	if r == nil {
		return false
	}
	if l.re.MatchString(r.Host) {
		return true
	}
	h := r.Headers.Get("Host")
	return h != "" && h != r.Host && l.re.MatchString(h)
}

func matchMethod(l *leaf, f *flowstore.Flow) bool {
	return f.Request != nil && l.re.MatchString(f.Request.Method)
}

func matchStatus(l *leaf, f *flowstore.Flow) bool {
	return f.Response != nil && f.Response.Status >= l.lo && f.Response.Status <= l.hi
}

func matchHeaders(l *leaf, f *flowstore.Flow) bool {
	return matchReqHeaders(l, f) || matchRespHeaders(l, f)
}

func matchReqHeaders(l *leaf, f *flowstore.Flow) bool {
	return f.Request != nil && len(f.Request.Headers) > 0 && matchHeaderText(l.re, f.Request.Headers)
}

func matchRespHeaders(l *leaf, f *flowstore.Flow) bool {
	return f.Response != nil && len(f.Response.Headers) > 0 && matchHeaderText(l.re, f.Response.Headers)
}

func matchHeaderText(re *rx, h flowstore.Headers) bool {
	if re.oneField {
		// A literal without the separators cannot span two fields: look in
		// each name and value without building the text.
		for _, kv := range h {
			if re.MatchString(kv.Name) || re.MatchString(kv.Value) {
				return true
			}
		}
		return false
	}
	return matchText(re, func(b []byte) []byte { return appendHeaders(b, h) })
}

// contentType reports whether any Content-Type line matches re.
func contentType(re *rx, h flowstore.Headers) bool {
	for _, kv := range h {
		if strings.EqualFold(kv.Name, "Content-Type") && re.MatchString(kv.Value) {
			return true
		}
	}
	return false
}

func matchType(l *leaf, f *flowstore.Flow) bool { return matchReqType(l, f) || matchRespType(l, f) }

func matchReqType(l *leaf, f *flowstore.Flow) bool {
	return f.Request != nil && contentType(l.re, f.Request.Headers)
}

func matchRespType(l *leaf, f *flowstore.Flow) bool {
	return f.Response != nil && contentType(l.re, f.Response.Headers)
}

// assetTypes are mitmproxy's asset content types, searched anywhere.
var assetTypes = &rx{re: regexp.MustCompile(`(?i)text/javascript|application/x-javascript|application/javascript|text/css|image/|font/|application/font`)}

func matchAsset(_ *leaf, f *flowstore.Flow) bool {
	return f.Response != nil && contentType(assetTypes, f.Response.Headers)
}

// matchWebSocket is mitmproxy's "flow.websocket is not None": the client
// asked to upgrade and the server agreed.
func matchWebSocket(_ *leaf, f *flowstore.Flow) bool {
	if f.Request == nil || f.Response == nil || f.Response.Status != 101 {
		return false
	}
	for _, v := range f.Request.Headers.Values("Upgrade") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "websocket") {
				return true
			}
		}
	}
	return false
}

// body is a message body decoded from its Content-Encoding, or the raw
// bytes when it cannot be decoded (truncated, unknown coding).
func body(b flowstore.Body, h flowstore.Headers) []byte {
	ce := h.Get("Content-Encoding")
	if ce == "" {
		return b.Data
	}
	d, err := content.Decode(b.Data, ce, 0)
	if err != nil {
		return b.Data
	}
	return d
}

func matchBody(l *leaf, f *flowstore.Flow) bool { return matchReqBody(l, f) || matchRespBody(l, f) }

// Empty bodies never match, as in mitmproxy (it tests raw_content first).
func matchReqBody(l *leaf, f *flowstore.Flow) bool {
	r := f.Request
	return r != nil && len(r.Body.Data) > 0 && l.re.Match(body(r.Body, r.Headers)) || matchMessages(l, f, true)
}

func matchRespBody(l *leaf, f *flowstore.Flow) bool {
	r := f.Response
	return r != nil && len(r.Body.Data) > 0 && l.re.Match(body(r.Body, r.Headers)) || matchMessages(l, f, false)
}

// matchMessages searches WebSocket messages and events from one side.
func matchMessages(l *leaf, f *flowstore.Flow, fromClient bool) bool {
	for i := range f.Messages {
		m := &f.Messages[i]
		if m.FromClient == fromClient && len(m.Data) > 0 && l.re.Match(m.Data) {
			return true
		}
	}
	return false
}

func matchMode(l *leaf, f *flowstore.Flow) bool {
	mode := f.Client.Mode
	if mode == "" {
		mode = "regular"
	}
	return l.re.MatchString(mode)
}

func matchSrc(l *leaf, f *flowstore.Flow) bool {
	return f.Client.Addr != "" && l.re.MatchString(f.Client.Addr)
}

func matchDst(l *leaf, f *flowstore.Flow) bool {
	s := f.Server
	return s.Addr != "" && l.re.MatchString(s.Addr) || s.IP != "" && l.re.MatchString(s.IP)
}

// matchRule looks for the rule among those that acted on the flow.
func matchRule(l *leaf, f *flowstore.Flow) bool {
	for i := range f.Rules {
		if l.re.MatchString(f.Rules[i].Rule) {
			return true
		}
	}
	return false
}
