package har

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// ErrNotHAR is returned by Read for input that is not a HAR log at all.
var ErrNotHAR = errors.New("not a HAR file")

// Warning is a problem in a HAR file that did not stop the rest from
// loading.
type Warning struct {
	Line  int    // 1-based line of the file where the problem is
	Entry int    // 1-based position in log.entries; 0 when not about one entry
	Msg   string // what was wrong and what was done about it
}

func (w Warning) String() string {
	if w.Entry > 0 {
		return fmt.Sprintf("line %d: entry %d: %s", w.Line, w.Entry, w.Msg)
	}
	return fmt.Sprintf("line %d: %s", w.Line, w.Msg)
}

// Read loads the flows of a HAR file. Entries that cannot become flows are
// skipped and reported; a file cut short yields the entries before the cut.
// The error is for input that is not a HAR log (ErrNotHAR) and for read
// failures.
func Read(r io.Reader) ([]*flowstore.Flow, []Warning, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read HAR: %w", err)
	}
	p := &reader{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), line: 1}
	p.dec = json.NewDecoder(bytes.NewReader(p.data))
	if err := p.file(); err != nil {
		return nil, p.warns, err
	}
	return p.flows, p.warns, nil
}

type reader struct {
	data  []byte
	dec   *json.Decoder
	flows []*flowstore.Flow
	warns []Warning
	// line counting, forward only
	off, line int
	entries   bool // log.entries was reached
}

// lineAt is the line of a byte offset; offsets must not go backwards.
func (p *reader) lineAt(off int) int {
	off = min(max(off, p.off), len(p.data))
	p.line += bytes.Count(p.data[p.off:off], []byte("\n"))
	p.off = off
	return p.line
}

func (p *reader) warn(off, entry int, format string, args ...any) {
	p.warns = append(p.warns, Warning{Line: p.lineAt(off), Entry: entry, Msg: fmt.Sprintf(format, args...)})
}

// file walks {"log": {..., "entries": [...]}} token by token, so that
// damage late in the file keeps what came before it.
func (p *reader) file() error {
	if err := p.delim('{'); err != nil {
		return fmt.Errorf("%w: want a JSON object with a \"log\": %v", ErrNotHAR, err)
	}
	sawLog := false
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return p.damaged(err)
		}
		if key != "log" {
			if err := p.skip(); err != nil {
				return p.damaged(err)
			}
			continue
		}
		sawLog = true
		if err := p.log(); err != nil {
			return p.damaged(err)
		}
	}
	if !sawLog {
		return fmt.Errorf("%w: no \"log\" object", ErrNotHAR)
	}
	if !p.entries {
		return fmt.Errorf("%w: the log has no \"entries\"", ErrNotHAR)
	}
	return nil
}

func (p *reader) log() error {
	if err := p.delim('{'); err != nil {
		return err
	}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		switch key {
		case "entries":
			if err := p.entryList(); err != nil {
				return err
			}
		case "version":
			var v any
			if err := p.dec.Decode(&v); err != nil {
				return err
			}
			if s, ok := v.(string); !ok || s != "1.2" && s != "1.1" {
				p.warn(int(p.dec.InputOffset()), 0, "HAR version %v, not 1.1 or 1.2; reading it anyway", v)
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
	_, err := p.dec.Token() // '}'
	return err
}

func (p *reader) entryList() error {
	if err := p.delim('['); err != nil {
		return err
	}
	p.entries = true
	for n := 1; p.dec.More(); n++ {
		start := p.valueStart()
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return err
		}
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) || len(raw) == 0 || raw[0] != '{' {
				p.warn(start, n, "not an entry object: %v; skipped", err)
				continue
			}
			// A field of the wrong type is left empty; the rest is read.
			p.warn(start, n, "%s: %s where %s belongs; left empty", te.Field, te.Value, te.Type)
		}
		f, notes, err := toFlow(&e)
		for _, msg := range notes {
			p.warn(start, n, "%s", msg)
		}
		if err != nil {
			p.warn(start, n, "%v; skipped", err)
			continue
		}
		checked, keep := flowstore.ValidateLoaded(f)
		for _, msg := range checked {
			p.warn(start, n, "%s", msg)
		}
		if keep {
			p.flows = append(p.flows, f)
		}
	}
	_, err := p.dec.Token() // ']'
	return err
}

// damaged turns a JSON error into a warning when entries were loaded
// before it, or an error when the file broke before its entries.
func (p *reader) damaged(err error) error {
	off := int(p.dec.InputOffset())
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		off = len(p.data)
		err = errors.New("the file ends in the middle (cut short?)")
	case errors.As(err, &se):
		off = int(se.Offset)
	}
	if !p.entries {
		return fmt.Errorf("%w: line %d: %v", ErrNotHAR, p.lineAt(off), err)
	}
	p.warn(off, 0, "%v; stopped reading after %d flows", err, len(p.flows))
	return nil
}

func (p *reader) delim(want json.Delim) error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, found %v", want, tok)
	}
	return nil
}

func (p *reader) key() (string, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("want a key, found %v", tok)
	}
	return s, nil
}

func (p *reader) skip() error {
	var v json.RawMessage
	return p.dec.Decode(&v)
}

// valueStart is the offset where the next array element begins: past the
// whitespace and comma the decoder has not consumed yet.
func (p *reader) valueStart() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && strings.IndexByte(" \t\r\n,", p.data[off]) >= 0 {
		off++
	}
	return off
}

// toFlow converts one entry; notes are problems that did not stop it.
func toFlow(e *Entry) (*flowstore.Flow, []string, error) {
	var notes []string
	req, err := toRequest(&e.Request, &notes)
	if err != nil {
		return nil, notes, err
	}
	f := &flowstore.Flow{Request: req, Comment: e.Comment}
	if e.Response.Status > 0 {
		f.Response = toResponse(&e.Response, &notes)
	}
	start, err := parseTime(e.StartedDateTime)
	if err != nil {
		notes = append(notes, fmt.Sprintf("bad startedDateTime %q; the flow has no times", e.StartedDateTime))
	}

	if x := e.Flow; x != nil {
		f.ID, f.State, f.Error, f.Marked, f.ReplayOf = x.ID, x.State, x.Error, x.Marked, x.ReplayOf
		f.Client, f.Server, f.Timings = x.Client, x.Server, x.Timings
		f.BytesIn, f.BytesOut, f.Notes = x.BytesIn, x.BytesOut, x.Notes
	}
	if f.ID == "" {
		f.ID = flowstore.NewID()
	}
	if e.Flow == nil {
		f.State = flowstore.StateDone
		if f.Response == nil {
			msg := e.Response.Error
			if msg == "" {
				msg = "no response"
			}
			f.State, f.Error = flowstore.StateError, &flowstore.Error{Phase: flowstore.PhaseRequest, Message: msg}
		}
		f.Timings = rebuildTimings(start, e.Timings, e.Time, f.Response != nil)
		if ip := strings.Trim(e.ServerIPAddress, "[]"); ip != "" {
			port := strconv.Itoa(req.Port)
			f.Server = flowstore.Server{Addr: net.JoinHostPort(req.Host, port), IP: net.JoinHostPort(ip, port)}
		}
	}
	f.Messages = toMessages(e.WebSocketMessages, e.EventSourceMessages)
	if e.Flow != nil {
		f.MessagesDropped = e.Flow.MessagesDropped
	}
	return f, notes, nil
}

func toRequest(r *Request, notes *[]string) (*flowstore.Request, error) {
	if r.Method == "" {
		return nil, errors.New("request has no method")
	}
	scheme, host, port, path, err := wire.SplitURL(r.URL)
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", r.URL, err)
	}
	req := &flowstore.Request{
		Method: r.Method, Scheme: scheme, Host: host, Port: port, Path: path,
		Proto: normalizeVersion(r.HTTPVersion), Headers: toHeaders(r.Headers), Trailers: toHeaders(r.Trailers),
	}
	var data []byte
	truncated := false
	if pd := r.PostData; pd != nil {
		truncated = pd.Truncated
		switch enc := pd.Encoding + pd.PlainEncoding; {
		case enc == "base64":
			if data, err = base64.StdEncoding.DecodeString(pd.Text); err != nil {
				*notes = append(*notes, fmt.Sprintf("request body: bad base64 (%v); left empty", err))
			}
		case pd.Text == "" && len(pd.Params) > 0:
			data = formBody(pd.Params) // tools that list a form's fields only
		default:
			data = []byte(pd.Text)
		}
	}
	req.Body = body(data, truncated, r.BodySize)
	return req, nil
}

func toResponse(r *Response, notes *[]string) *flowstore.Response {
	resp := &flowstore.Response{
		Status: r.Status, Reason: r.StatusText, Proto: normalizeVersion(r.HTTPVersion),
		Headers: toHeaders(r.Headers), Trailers: toHeaders(r.Trailers),
	}
	c := &r.Content
	var data []byte
	var err error
	switch {
	case c.RawBody != "":
		if data, err = base64.StdEncoding.DecodeString(c.RawBody); err != nil {
			*notes = append(*notes, fmt.Sprintf("response _rawBody: bad base64 (%v); left empty", err))
		}
	case c.Encoding == "base64":
		if data, err = base64.StdEncoding.DecodeString(c.Text); err != nil {
			*notes = append(*notes, fmt.Sprintf("response content: bad base64 (%v); left empty", err))
		}
		data = reencode(resp, data, c.Truncated, notes)
	default:
		data = reencode(resp, []byte(c.Text), c.Truncated, notes)
	}
	resp.Body = body(data, c.Truncated, r.BodySize)
	if len(data) == 0 && !c.Truncated && c.Size > 0 {
		// Chrome leaves out bodies it did not keep; say so, with the size
		// on the wire when known (Body.Size counts wire bytes).
		size := r.BodySize
		if size <= 0 {
			size = c.Size
		}
		resp.Body = flowstore.Body{Size: size, Truncated: true}
	}
	return resp
}

// reencode turns decoded content back into wire bytes with the response's
// Content-Encoding, so the flow's headers stay true, and fixes
// Content-Length to match.
func reencode(resp *flowstore.Response, data []byte, truncated bool, notes *[]string) []byte {
	ce, handled := wire.ContentEncoding(resp.Headers)
	if len(data) == 0 || truncated || len(content.Encodings(ce)) == 0 {
		return data
	}
	var enc []byte
	err := fmt.Errorf("more than %d content codings", wire.MaxCodings)
	if handled {
		enc, err = content.Encode(data, ce)
	}
	if err != nil {
		*notes = append(*notes, fmt.Sprintf("response body kept decoded and Content-Encoding removed: %v", err))
		resp.Headers.Del("Content-Encoding")
		enc = data
	}
	if resp.Headers.Has("Content-Length") {
		resp.Headers.Set("Content-Length", strconv.Itoa(len(enc)))
	}
	return enc
}

func body(data []byte, truncated bool, size int64) flowstore.Body {
	b := flowstore.NewBody(data)
	if truncated {
		b.Truncated, b.Size = true, max(size, b.Size)
	}
	return b
}

func formBody(ps []Param) []byte {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(p.Name))
		b.WriteByte('=')
		b.WriteString(queryEscape(p.Value))
	}
	return []byte(b.String())
}

func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.~", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// toHeaders keeps order and case, dropping HTTP/2 pseudo-headers.
func toHeaders(nvs []NameValue) flowstore.Headers {
	var h flowstore.Headers
	for _, nv := range nvs {
		if strings.HasPrefix(nv.Name, ":") || nv.Name == "" {
			continue
		}
		h = append(h, flowstore.Header{Name: nv.Name, Value: nv.Value})
	}
	return h
}

// normalizeVersion maps what tools write (http/2.0, h2, HTTP/2, h3,
// unknown) to the versions flows use.
func normalizeVersion(v string) string {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case "", "unknown":
		return "HTTP/1.1"
	case "h2", "http/2", "http/2.0":
		return "HTTP/2.0"
	case "h3", "http/3", "http/3.0", "h3-29":
		return "HTTP/3.0"
	default:
		if strings.HasPrefix(s, "http/") {
			return "HTTP/" + s[len("http/"):]
		}
		return v
	}
}

func parseTime(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// rebuildTimings lays HAR's phases end to end from the start time: the
// best a file without our _flow extension allows.
func rebuildTimings(start time.Time, h Timings, total float64, responded bool) flowstore.Timings {
	var t flowstore.Timings
	if start.IsZero() {
		return t
	}
	t.Start = start
	at := start
	dur := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	if h.Blocked > 0 {
		at = at.Add(dur(h.Blocked))
	}
	if h.DNS >= 0 {
		t.DNSStart = at
		at = at.Add(dur(h.DNS))
		t.DNSDone = at
	}
	if h.Connect >= 0 {
		t.ConnectStart = at
		end := at.Add(dur(h.Connect))
		t.ConnectDone = end
		if h.SSL >= 0 && h.SSL <= h.Connect {
			t.TLSStart = end.Add(-dur(h.SSL))
			t.TLSDone = end
			t.ConnectDone = t.TLSStart
		}
		at = end
	}
	if !responded {
		if total > 0 {
			t.End = start.Add(dur(total))
		}
		return t
	}
	t.RequestSent = at.Add(dur(max(h.Send, 0)))
	t.FirstByte = t.RequestSent.Add(dur(max(h.Wait, 0)))
	t.End = t.FirstByte.Add(dur(max(h.Receive, 0)))
	return t
}
