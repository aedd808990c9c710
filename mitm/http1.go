package mitm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// The engine reads and writes HTTP/1 itself, on both sides. Go's parsers
// hand a message over as a map (order, case and repeats of names lost) and
// its writers sort, re-case and add headers (Date, Content-Type,
// User-Agent); a debugging proxy must pass a message on as it was sent. So
// a head is read into flowstore.Headers in wire order and written back from
// them, and the body's framing is worked out here, strictly: anything two
// parsers could read two ways (the shapes of request smuggling) is refused
// before a byte of it goes on.

// head is a message's first line split in three, and its header lines.
type head struct {
	// A request: method, target, version. A response: version, status
	// code, reason phrase (which may be empty).
	a, b, c string
	hs      flowstore.Headers
	size    int // bytes on the wire, up to and including the blank line
}

// headLimits bound what one head may hold: past them a request gets 431.
type headLimits struct {
	bytes int // the whole head
	lines int // header lines
}

// wireError is a message the proxy refuses, with the status that says so
// to a client (400, 431, 501); 0 for a response from an origin.
type wireError struct {
	status int
	msg    string
}

func (e *wireError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &wireError{status: 400, msg: fmt.Sprintf(format, args...)}
}

var (
	errHeadTooLarge = &wireError{status: 431, msg: "request head too large"}
	errTooManyLines = &wireError{status: 431, msg: "too many header lines"}
)

// readHead reads one head. A request's header lines are held to the rules a
// server must enforce (RFC 9112 §5): no space before the colon, no folded
// lines, no control characters; a response's are read as leniently as
// browsers do, since the origin is what the user is debugging. io.EOF
// means the peer closed before sending anything.
//
// scratch, when not nil, is where the lines are gathered (one slice per
// connection, reused); the head gets a copy of exactly its size, which is
// what a flow keeps.
func readHead(br *bufio.Reader, lim headLimits, request bool, scratch *flowstore.Headers) (*head, error) {
	h := &head{}
	if scratch != nil {
		h.hs = (*scratch)[:0]
		defer func() {
			*scratch = h.hs[:0]
			h.hs = slices.Clone(h.hs)
		}()
	}
	var line []byte
	var err error
	// A client may send empty lines before a request (RFC 9112 §2.2).
	for blank := 0; ; blank++ {
		line, err = readLine(br, &h.size, lim.bytes)
		if err != nil {
			if err == io.EOF && h.size == 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		if len(line) > 0 || !request || blank >= 4 {
			break
		}
	}
	if err := h.parseFirst(line, request); err != nil {
		return nil, err
	}
	for {
		line, err = readLine(br, &h.size, lim.bytes)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			return h, nil
		}
		if len(h.hs) >= lim.lines {
			return nil, errTooManyLines
		}
		if err := h.addLine(line, request); err != nil {
			return nil, err
		}
	}
}

// readLine reads a line ending in CRLF (or LF alone, as every parser
// accepts) without its end, counting it against the head's limit.
func readLine(br *bufio.Reader, size *int, max int) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		*size += len(frag)
		if *size > max {
			return nil, errHeadTooLarge
		}
		switch {
		case err == nil:
			if long != nil {
				frag = append(long, frag...)
			}
			frag = frag[:len(frag)-1]
			if n := len(frag); n > 0 && frag[n-1] == '\r' {
				frag = frag[:n-1]
			}
			if bytes.IndexByte(frag, '\r') >= 0 {
				return nil, badRequest("a bare CR in a head line")
			}
			return frag, nil
		case err == bufio.ErrBufferFull:
			long = append(long, frag...)
		default:
			if len(frag) > 0 || long != nil {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

func (h *head) parseFirst(line []byte, request bool) error {
	s := string(line)
	if request {
		m, rest, ok1 := strings.Cut(s, " ")
		t, v, ok2 := strings.Cut(rest, " ")
		switch {
		case !ok1 || !ok2 || m == "" || t == "" || strings.ContainsAny(v, " \t"):
			return badRequest("malformed request line %q", trimForError(s))
		case !isToken(m):
			return badRequest("malformed method %q", trimForError(m))
		case strings.IndexFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			return badRequest("malformed request target %q", trimForError(t))
		}
		if _, _, ok := parseVersion(v); !ok {
			return &wireError{status: 505, msg: fmt.Sprintf("unsupported HTTP version %q", trimForError(v))}
		}
		h.a, h.b, h.c = m, t, v
		return nil
	}
	v, rest, _ := strings.Cut(s, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if _, _, ok := parseVersion(v); !ok {
		return fmt.Errorf("malformed HTTP response %q", trimForError(s))
	}
	if len(code) != 3 || code[0] < '1' || code[0] > '9' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return fmt.Errorf("malformed HTTP status code %q", trimForError(code))
	}
	h.a, h.b, h.c = v, code, reason
	return nil
}

func (h *head) addLine(line []byte, request bool) error {
	if line[0] == ' ' || line[0] == '\t' {
		// Obsolete line folding: a server must refuse it or unfold it
		// (RFC 9112 §5.2); a request is refused, a response unfolded.
		if request || len(h.hs) == 0 {
			return badRequest("a folded header line")
		}
		last := &h.hs[len(h.hs)-1]
		if cont := string(bytes.Trim(line, " \t")); last.Value == "" {
			last.Value = cont
		} else if cont != "" {
			last.Value += " " + cont
		}
		return nil
	}
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		if request {
			return badRequest("a header line without a name and colon: %q", trimForError(string(line)))
		}
		return nil // browsers skip such a line in a response
	}
	name := line[:i]
	if !isTokenBytes(name) {
		if request {
			return badRequest("malformed header name %q", trimForError(string(name)))
		}
		if bytes.ContainsAny(name, " \t") {
			return fmt.Errorf("malformed response header name %q", trimForError(string(name)))
		}
	}
	value := bytes.Trim(line[i+1:], " \t")
	if request && !httpguts.ValidHeaderFieldValue(string(value)) {
		return badRequest("a control character in the value of %s", name)
	}
	if bytes.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("a NUL byte in the value of %s", name)
	}
	h.hs = append(h.hs, flowstore.Header{Name: internName(name), Value: internValue(value)})
	return nil
}

func trimForError(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// parseVersion reads "HTTP/1.1".
func parseVersion(v string) (major, minor int, ok bool) {
	if len(v) != 8 || !strings.HasPrefix(v, "HTTP/") || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return 0, 0, false
	}
	major, minor = int(v[5]-'0'), int(v[7]-'0')
	return major, minor, major == 1
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !httpguts.IsTokenRune(rune(s[i])) {
			return false
		}
	}
	return s != ""
}

func isTokenBytes(b []byte) bool {
	for _, c := range b {
		if !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return len(b) > 0
}

// framing is how a message's body is delimited.
type framing uint8

const (
	frameNone    framing = iota // no body
	frameLength                 // Content-Length bytes
	frameChunked                // chunked transfer coding
	frameClose                  // until the connection closes (responses only)
)

// requestFraming works out a request's body (RFC 9112 §6.3), refusing
// what a proxy and an origin could frame differently.
func requestFraming(hs flowstore.Headers, http10 bool) (framing, int64, error) {
	te, hasTE := transferCodings(hs)
	cl, hasCL, clErr := contentLength(hs)
	switch {
	case hasTE && hasCL:
		return 0, 0, badRequest("the request has both Content-Length and Transfer-Encoding (a request-smuggling shape); refused")
	case hasTE && http10:
		return 0, 0, badRequest("an HTTP/1.0 request with Transfer-Encoding; refused")
	case hasTE:
		if len(te) == 0 || !strings.EqualFold(te[len(te)-1], "chunked") {
			return 0, 0, badRequest("the request's Transfer-Encoding %q does not end in chunked; refused", strings.Join(te, ", "))
		}
		if len(te) > 1 {
			return 0, 0, &wireError{status: 501, msg: fmt.Sprintf("Transfer-Encoding %q is not supported (only chunked)", strings.Join(te, ", "))}
		}
		return frameChunked, -1, nil
	case clErr != nil:
		return 0, 0, badRequest("%v", clErr)
	case hasCL && cl > 0:
		return frameLength, cl, nil
	}
	return frameNone, 0, nil
}

// responseFraming works out a response's body for the request's method.
// An invalid Content-Length is an error; a response that is both chunked
// and sized is read as chunked, as RFC 9112 §6.3 says.
func responseFraming(hs flowstore.Headers, method string, status int) (framing, int64, error) {
	if method == "HEAD" || (status >= 100 && status < 200) || status == 204 || status == 304 {
		return frameNone, 0, nil
	}
	if te, hasTE := transferCodings(hs); hasTE {
		if len(te) > 0 && strings.EqualFold(te[len(te)-1], "chunked") {
			if len(te) > 1 {
				return 0, 0, fmt.Errorf("response Transfer-Encoding %q: only chunked is supported", strings.Join(te, ", "))
			}
			return frameChunked, -1, nil
		}
		return frameClose, -1, nil
	}
	cl, hasCL, err := contentLength(hs)
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("response %v", err)
	case hasCL && cl == 0:
		return frameNone, 0, nil
	case hasCL:
		return frameLength, cl, nil
	}
	return frameClose, -1, nil
}

// transferCodings lists the codings of every Transfer-Encoding line.
func transferCodings(hs flowstore.Headers) ([]string, bool) {
	var out []string
	found := false
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "Transfer-Encoding") {
			continue
		}
		found = true
		for part := range strings.SplitSeq(h.Value, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out, found
}

// contentLength reads Content-Length: repeats must agree (RFC 9110 §8.6).
func contentLength(hs flowstore.Headers) (int64, bool, error) {
	n, found := int64(-1), false
	for _, h := range hs {
		if !strings.EqualFold(h.Name, "Content-Length") {
			continue
		}
		found = true
		for part := range strings.SplitSeq(h.Value, ",") {
			p := strings.TrimSpace(part)
			v, err := strconv.ParseUint(p, 10, 63)
			if err != nil || p == "" || p[0] == '+' {
				return 0, true, fmt.Errorf("malformed Content-Length %q", trimForError(h.Value))
			}
			if n >= 0 && int64(v) != n {
				return 0, true, fmt.Errorf("conflicting Content-Length values %q", trimForError(h.Value))
			}
			n = int64(v)
		}
	}
	if found && n < 0 {
		return 0, true, errors.New("empty Content-Length")
	}
	return n, found, nil
}

// writeHead writes a first line and header lines as given.
func writeHead(bw *bufio.Writer, a, b, c string, hs flowstore.Headers) {
	bw.WriteString(a)
	bw.WriteByte(' ')
	bw.WriteString(b)
	if c != "" || a[0] == 'H' { // a response's reason may be empty, its space stays
		bw.WriteByte(' ')
		bw.WriteString(c)
	}
	bw.WriteString("\r\n")
	for _, h := range hs {
		bw.WriteString(h.Name)
		bw.WriteString(": ")
		bw.WriteString(h.Value)
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
}

// checkHeaders refuses what cannot be written as a header line (a hook or
// an edit can put anything in a flow): a name that is not a token, a value
// with CR, LF or NUL.
func checkHeaders(hs flowstore.Headers) error {
	for _, h := range hs {
		if !isToken(h.Name) {
			return fmt.Errorf("invalid header name %q", h.Name)
		}
		if strings.ContainsAny(h.Value, "\r\n\x00") {
			return fmt.Errorf("invalid header value for %q", h.Name)
		}
	}
	return nil
}

// hasToken reports whether a comma-separated header has token (any case).
func hasToken(hs flowstore.Headers, name, token string) bool {
	for _, h := range hs {
		if !strings.EqualFold(h.Name, name) {
			continue
		}
		for part := range strings.SplitSeq(h.Value, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
