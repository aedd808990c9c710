package httptext

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// ParseError is a message that did not parse, with the 1-based line of the
// problem.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Msg }

func errorf(line int, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// FormatRequest renders req for editing: "METHOD absolute-URL PROTO", the
// headers, a blank line and the body as content (see the package comment).
func FormatRequest(req *flowstore.Request) []byte {
	if req == nil {
		return nil
	}
	body, _ := editable(req.Headers, req.Body)
	var b []byte
	b = append(b, req.Method...)
	b = append(b, ' ')
	if isConnect(req.Method) {
		b = append(b, net.JoinHostPort(req.Host, strconv.Itoa(req.Port))...)
	} else {
		b = append(b, req.URL()...)
	}
	b = append(b, ' ')
	b = append(b, proto(req.Proto)...)
	b = append(b, '\n')
	b = appendHeaders(b, req.Headers)
	return append(b, body...)
}

// FormatResponse renders resp for editing: "PROTO STATUS REASON", the
// headers, a blank line and the body as content.
func FormatResponse(resp *flowstore.Response) []byte {
	if resp == nil {
		return nil
	}
	body, _ := editable(resp.Headers, resp.Body)
	var b []byte
	b = append(b, proto(resp.Proto)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(resp.Status), 10)
	if resp.Reason != "" {
		b = append(b, ' ')
		b = append(b, resp.Reason...)
	}
	b = append(b, '\n')
	b = appendHeaders(b, resp.Headers)
	return append(b, body...)
}

func appendHeaders(b []byte, h flowstore.Headers) []byte {
	for _, kv := range h {
		b = append(b, kv.Name...)
		b = append(b, ": "...)
		b = append(b, kv.Value...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

func proto(p string) string {
	if p == "" {
		return "HTTP/1.1"
	}
	return p
}

// contentEncoding joins every Content-Encoding line into one list.
func contentEncoding(h flowstore.Headers) string {
	ce, _ := wire.ContentEncoding(h)
	return ce
}

// editable is the body as it is shown for editing; raw reports that it is
// the wire bytes of an encoded body that could not be decoded.
func editable(h flowstore.Headers, body flowstore.Body) (text []byte, raw bool) {
	ce, ok := wire.ContentEncoding(h)
	if len(body.Data) == 0 || len(content.Encodings(ce)) == 0 {
		return body.Data, false
	}
	if body.Truncated || !ok {
		return body.Data, true
	}
	dec, err := content.Decode(body.Data, ce, 0)
	if err != nil {
		return body.Data, true
	}
	return dec, false
}

// ParseRequest parses edited text back into a request. orig is the request
// the text was made from (nil for a new one): it supplies the scheme for an
// origin-form target, the host when there is no Host header, the trailers,
// and the body to keep when the body was not changed.
func ParseRequest(text []byte, orig *flowstore.Request) (*flowstore.Request, error) {
	m, err := split(text)
	if err != nil {
		return nil, err
	}
	method, target, pr, err := requestLine(m.first, orig)
	if err != nil {
		return nil, &ParseError{Line: m.firstLine, Msg: err.Error()}
	}
	req := &flowstore.Request{Method: method, Proto: pr, Headers: m.headers}
	if orig != nil {
		req.Trailers = orig.Trailers.Clone()
	}
	if err := setTarget(req, target, m, orig); err != nil {
		return nil, err
	}
	if isConnect(method) {
		req.Path = "" // a tunnel has an authority, never a path
	}
	var origHeaders flowstore.Headers
	var origBody *flowstore.Body
	if orig != nil {
		origHeaders, origBody = orig.Headers, &orig.Body
	}
	req.Body, err = parseBody(m, &req.Headers, origHeaders, origBody)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// ParseResponse parses edited text back into a response. orig is the
// response the text was made from (nil for one written from scratch).
func ParseResponse(text []byte, orig *flowstore.Response) (*flowstore.Response, error) {
	m, err := split(text)
	if err != nil {
		return nil, err
	}
	pr, status, reason, err := statusLine(m.first)
	if err != nil {
		return nil, &ParseError{Line: m.firstLine, Msg: err.Error()}
	}
	resp := &flowstore.Response{Status: status, Reason: reason, Proto: pr, Headers: m.headers}
	var origHeaders flowstore.Headers
	var origBody *flowstore.Body
	if orig != nil {
		resp.Trailers = orig.Trailers.Clone()
		origHeaders, origBody = orig.Headers, &orig.Body
	}
	resp.Body, err = parseBody(m, &resp.Headers, origHeaders, origBody)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// message is text split into its parts, with line numbers for errors.
type message struct {
	first       string
	firstLine   int
	headers     flowstore.Headers
	headerLines []int // line of each header
	body        []byte
	crlf        bool // the blank line ending the head was "\r\n"
}

func split(text []byte) (*message, error) {
	m := new(message)
	line, pos := 0, 0
	next := func() (string, bool) {
		if pos >= len(text) {
			return "", false
		}
		line++
		end := bytes.IndexByte(text[pos:], '\n')
		var l []byte
		if end < 0 {
			l, pos = text[pos:], len(text)
		} else {
			l, pos = text[pos:pos+end], pos+end+1
		}
		return string(l), true
	}
	for {
		l, ok := next()
		if !ok {
			return nil, &ParseError{Line: max(line, 1), Msg: "empty message"}
		}
		if strings.TrimSpace(l) != "" {
			m.first, m.firstLine = strings.TrimSuffix(l, "\r"), line
			break
		}
	}
	for {
		raw, ok := next()
		if !ok {
			return m, nil // headers end at the end of the text: no body
		}
		l := strings.TrimSuffix(raw, "\r")
		if l == "" {
			m.crlf = raw == "\r"
			m.body = text[pos:]
			return m, nil
		}
		if l[0] == ' ' || l[0] == '\t' {
			return nil, errorf(line, "line starts with whitespace (a folded header); put the value on one line")
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, errorf(line, "header without a colon")
		}
		if name == "" {
			return nil, errorf(line, "header with an empty name")
		}
		if !isToken(name) {
			return nil, errorf(line, "bad header name %q", name)
		}
		value = strings.Trim(value, " \t")
		if i := strings.IndexFunc(value, isCtl); i >= 0 {
			return nil, errorf(line, "control character %q in the value of %s", value[i], name)
		}
		m.headers = append(m.headers, flowstore.Header{Name: name, Value: value})
		m.headerLines = append(m.headerLines, line)
	}
}

// headerLine is the line of the first header called name, or 1.
func (m *message) headerLine(name string) int {
	for i, kv := range m.headers {
		if strings.EqualFold(kv.Name, name) {
			return m.headerLines[i]
		}
	}
	return m.firstLine
}

func requestLine(l string, orig *flowstore.Request) (method, target, pr string, err error) {
	fields := strings.Fields(l)
	switch {
	case len(fields) < 2:
		return "", "", "", fmt.Errorf("request line %q needs a method and a URL", l)
	case len(fields) > 3 || len(fields) == 3 && !hasPrefixFold(fields[2], "HTTP/"):
		return "", "", "", fmt.Errorf("request line %q: want METHOD URL HTTP/1.1; a space in the URL is written %%20", l)
	}
	method, target = fields[0], fields[1]
	if !isToken(method) {
		return "", "", "", fmt.Errorf("bad method %q", method)
	}
	pr = "HTTP/1.1"
	if orig != nil && orig.Proto != "" {
		pr = orig.Proto
	}
	if len(fields) == 3 {
		if pr, err = parseProto(fields[2]); err != nil {
			return "", "", "", err
		}
	}
	if i := strings.IndexFunc(target, isCtl); i >= 0 {
		return "", "", "", fmt.Errorf("control character %q in the URL", target[i])
	}
	return method, target, pr, nil
}

func setTarget(req *flowstore.Request, target string, m *message, orig *flowstore.Request) error {
	switch {
	case strings.HasPrefix(target, "/"):
		req.Path, _, _ = strings.Cut(target, "#") // a fragment is never sent
		req.Scheme = "http"
		if orig != nil && orig.Scheme != "" {
			req.Scheme = orig.Scheme
		}
		if host := req.Headers.Get("Host"); host != "" {
			h, p, err := wire.SplitAuthority(host, flowstore.DefaultPort(req.Scheme))
			if err != nil {
				return errorf(m.headerLine("Host"), "bad Host header: %v", err)
			}
			req.Host, req.Port = h, p
			return nil
		}
		if orig == nil || orig.Host == "" {
			return errorf(m.firstLine, "%q is a path: write an absolute URL (http://host/path) or add a Host header", target)
		}
		req.Host, req.Port = orig.Host, orig.Port
		return nil
	case isConnect(req.Method) && !strings.Contains(target, "/"):
		h, p, err := wire.SplitAuthority(target, 443)
		if err != nil {
			return errorf(m.firstLine, "bad CONNECT target %q: %v", target, err)
		}
		req.Scheme, req.Host, req.Port = "https", h, p
		if orig != nil && orig.Scheme != "" {
			req.Scheme = orig.Scheme
		}
		return nil
	}
	scheme, host, port, path, err := wire.SplitURL(target)
	if err != nil {
		return errorf(m.firstLine, "bad URL %q: %v", target, err)
	}
	req.Scheme, req.Host, req.Port, req.Path = scheme, host, port, path
	// A new URL authority carries the Host header along when the header
	// still names the old one (what mitmproxy does when a URL is set).
	if orig != nil && orig.Host != "" && req.Authority() != orig.Authority() && strings.EqualFold(req.Headers.Get("Host"), orig.Authority()) {
		req.Headers.Set("Host", req.Authority())
	}
	return nil
}

func statusLine(l string) (pr string, status int, reason string, err error) {
	first, rest, _ := strings.Cut(l, " ")
	if !hasPrefixFold(first, "HTTP/") {
		return "", 0, "", fmt.Errorf("status line %q must start with an HTTP version (HTTP/1.1 200 OK)", l)
	}
	if pr, err = parseProto(first); err != nil {
		return "", 0, "", err
	}
	code, reason, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return "", 0, "", fmt.Errorf("bad status code %q (want three digits, 100 to 999)", code)
	}
	if i := strings.IndexFunc(reason, isCtl); i >= 0 {
		return "", 0, "", fmt.Errorf("control character %q in the reason phrase", reason[i])
	}
	return pr, n, reason, nil
}

// parseProto accepts HTTP/1.1, HTTP/1.0, HTTP/2, HTTP/2.0, HTTP/3 (any
// case) and returns the form flows use: HTTP/2.0 for HTTP/2.
func parseProto(s string) (string, error) {
	v := s[len("HTTP/"):]
	ok := len(v) == 1 && isDigit(v[0]) || len(v) == 3 && isDigit(v[0]) && v[1] == '.' && isDigit(v[2])
	if !ok {
		return "", fmt.Errorf("bad HTTP version %q", s)
	}
	if len(v) == 1 {
		v += ".0"
	}
	return "HTTP/" + v, nil
}

// parseBody turns the edited body into wire bytes (see the package comment)
// and fixes the framing headers of a changed body.
func parseBody(m *message, h *flowstore.Headers, origHeaders flowstore.Headers, orig *flowstore.Body) (flowstore.Body, error) {
	var origText []byte
	raw := false
	if orig != nil {
		origText, raw = editable(origHeaders, *orig)
	}
	body := trimEditorNewline(m.body, origText, m.crlf)
	ce := contentEncoding(*h)
	if orig != nil && bytes.Equal(body, origText) && (raw || ce == contentEncoding(origHeaders)) {
		return *orig, nil
	}
	data := bytes.Clone(body)
	if !raw && len(body) > 0 && len(content.Encodings(ce)) > 0 {
		if _, ok := wire.ContentEncoding(*h); !ok {
			return flowstore.Body{}, errorf(m.headerLine("Content-Encoding"), "more than %d content codings", wire.MaxCodings)
		}
		enc, err := content.Encode(body, ce)
		if err != nil {
			return flowstore.Body{}, errorf(m.headerLine("Content-Encoding"), "cannot encode the body: %v (remove the header to send it plain)", err)
		}
		data = enc
	}
	fixFraming(h, len(data))
	return flowstore.NewBody(data), nil
}

// trimEditorNewline drops the line break an editor adds at the end of a
// file, unless the original body ended in one itself.
func trimEditorNewline(body, orig []byte, crlf bool) []byte {
	switch {
	case bytes.HasSuffix(orig, []byte("\n")):
		return body
	case crlf && bytes.HasSuffix(body, []byte("\r\n")):
		return body[:len(body)-2]
	case bytes.HasSuffix(body, []byte("\n")):
		return body[:len(body)-1]
	}
	return body
}

// fixFraming sets Content-Length to n and removes chunked: the body is
// complete now. A message with no body and no Content-Length (a GET) gets
// none.
func fixFraming(h *flowstore.Headers, n int) {
	hadCL := h.Has("Content-Length")
	chunked := false
	out := (*h)[:0:0]
	for _, kv := range *h {
		if strings.EqualFold(kv.Name, "Transfer-Encoding") {
			var keep []string
			for _, c := range strings.Split(kv.Value, ",") {
				if c = strings.TrimSpace(c); strings.EqualFold(c, "chunked") {
					chunked = true
				} else if c != "" {
					keep = append(keep, c)
				}
			}
			if len(keep) == 0 {
				continue
			}
			kv.Value = strings.Join(keep, ", ")
		}
		out = append(out, kv)
	}
	if len(out) == 0 {
		out = nil // as a text without headers parses
	}
	*h = out
	if n > 0 || hadCL || chunked {
		h.Set("Content-Length", strconv.Itoa(n))
	}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func isConnect(method string) bool { return strings.EqualFold(method, "CONNECT") }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isCtl: control characters other than tab.
func isCtl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
