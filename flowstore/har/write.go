package har

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// Holds reports whether a HAR log holds f. A draft (a request made to be
// edited and sent, not sent yet) is no exchange: as an entry it could only
// say status 0, and read back it would be taken for a failed request. HAR
// leaves drafts out; JSON lines keeps them, as drafts.
func Holds(f *flowstore.Flow) bool { return f.State != flowstore.StateDraft }

// Write writes flows as a HAR 1.2 log, one entry per flow in the order
// given, drafts left out (Holds). Entries are encoded one at a time, so a
// large capture is not held twice in memory.
func Write(w io.Writer, flows []*flowstore.Flow, creator Creator) error {
	return WriteSeq(w, slices.Values(flows), creator)
}

// WriteSeq writes the flows a sequence yields as a HAR 1.2 log, drafts
// left out (Holds), pulling them one at a time (from a store whose flows
// may be spooled to disk, say), so the whole capture is never in memory at
// once.
func WriteSeq(w io.Writer, flows iter.Seq[*flowstore.Flow], creator Creator) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cr, err := encode(creator, "    ")
	if err != nil {
		return err
	}
	bw.WriteString("{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": ")
	bw.Write(cr)
	bw.WriteString(",\n    \"entries\": [")
	i := 0
	for f := range flows {
		if !Holds(f) {
			continue
		}
		e, err := EntryOf(f)
		if err != nil {
			return err
		}
		b, err := encode(e, "      ")
		if err != nil {
			return fmt.Errorf("encode flow %s: %w", f.ID, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n      ")
		if _, err := bw.Write(b); err != nil {
			return err // a full disk: stop, rather than read on for nothing
		}
		i++
	}
	if i > 0 {
		bw.WriteString("\n    ")
	}
	bw.WriteString("]\n  }\n}\n")
	return bw.Flush()
}

// WriteEntry writes one flow as a HAR entry object ("copy as HAR entry").
func WriteEntry(w io.Writer, f *flowstore.Flow) error {
	if !Holds(f) {
		return fmt.Errorf("flow %s is a draft, not sent yet: HAR holds exchanges", f.ID)
	}
	e, err := EntryOf(f)
	if err != nil {
		return err
	}
	b, err := encode(e, "")
	if err != nil {
		return fmt.Errorf("encode flow %s: %w", f.ID, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// encode is indented JSON without HTML escaping (bodies stay readable) and
// without the encoder's final newline.
func encode(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// EntryOf is the HAR entry for a flow.
func EntryOf(f *flowstore.Flow) (Entry, error) {
	if f.Request == nil {
		return Entry{}, fmt.Errorf("flow %s has no request", f.ID)
	}
	e := Entry{
		StartedDateTime: isoTime(f.Timings.Start),
		Request:         request(f.Request),
		Response:        response(f),
		Timings:         timings(f.Timings),
		ServerIPAddress: hostOf(f.Server.IP),
		Connection:      portOf(f.Client.Addr),
		Comment:         f.Comment,
		Flow: &FlowInfo{
			ID: f.ID, State: f.State, Error: f.Error, Marked: f.Marked, ReplayOf: f.ReplayOf,
			Client: f.Client, Server: f.Server, Timings: f.Timings,
			BytesIn: f.BytesIn, BytesOut: f.BytesOut, Notes: f.Notes,
		},
	}
	e.Time = e.Timings.total()
	e.WebSocketMessages, e.EventSourceMessages = messagesOf(f)
	if f.MessagesDropped > 0 {
		e.Flow.MessagesDropped = f.MessagesDropped
	}
	return e, nil
}

const isoLayout = "2006-01-02T15:04:05.000Z07:00"

func isoTime(t time.Time) string {
	if t.IsZero() {
		return "1970-01-01T00:00:00.000Z"
	}
	return t.Format(isoLayout)
}

func request(r *flowstore.Request) Request {
	out := Request{
		Method:      r.Method,
		URL:         r.URL(),
		HTTPVersion: version(r.Proto),
		Cookies:     requestCookies(r.Headers),
		Headers:     nameValues(r.Headers),
		QueryString: params(r.Query()),
		HeadersSize: -1,
		BodySize:    r.Body.Size,
		Trailers:    trailers(r.Trailers),
	}
	if out.QueryString == nil {
		out.QueryString = []NameValue{}
	}
	if wire.IsHTTP1(r.Proto) {
		out.HeadersSize = int64(len(wire.AppendRequestHead(nil, r)))
	}
	if len(r.Body.Data) > 0 || r.Body.Truncated {
		pd := &PostData{MimeType: r.Headers.Get("Content-Type"), Truncated: r.Body.Truncated}
		if isText(r.Body.Data) {
			pd.Text = string(r.Body.Data)
			if content.MediaType(pd.MimeType) == "application/x-www-form-urlencoded" {
				for _, p := range params(pd.Text) {
					pd.Params = append(pd.Params, Param{Name: p.Name, Value: p.Value})
				}
			}
		} else {
			pd.Text, pd.Encoding = base64.StdEncoding.EncodeToString(r.Body.Data), "base64"
		}
		out.PostData = pd
	}
	return out
}

func response(f *flowstore.Flow) Response {
	r := f.Response
	if r == nil {
		out := Response{Cookies: []Cookie{}, Headers: []NameValue{}, HeadersSize: -1, BodySize: -1}
		if f.Error != nil {
			out.Error = f.Error.Message
		}
		return out
	}
	out := Response{
		Status:      r.Status,
		StatusText:  r.Reason,
		HTTPVersion: version(r.Proto),
		Cookies:     responseCookies(r.Headers),
		Headers:     nameValues(r.Headers),
		Content:     responseContent(r.Headers, r.Body),
		RedirectURL: r.Headers.Get("Location"),
		HeadersSize: -1,
		BodySize:    r.Body.Size,
		Trailers:    trailers(r.Trailers),
	}
	if wire.IsHTTP1(r.Proto) {
		out.HeadersSize = int64(len(wire.AppendResponseHead(nil, r)))
	}
	return out
}

// responseContent: content.text decoded, with the wire bytes in _rawBody
// when they differ (see the package comment).
func responseContent(h flowstore.Headers, b flowstore.Body) Content {
	c := Content{MimeType: h.Get("Content-Type"), Size: int64(len(b.Data))}
	ce, handled := wire.ContentEncoding(h)
	encoded := len(content.Encodings(ce)) > 0 && len(b.Data) > 0
	switch {
	case b.Truncated:
		c.Size, c.Truncated = b.Size, true
		if encoded {
			c.RawBody = base64.StdEncoding.EncodeToString(b.Data)
			return c
		}
	case encoded:
		c.RawBody = base64.StdEncoding.EncodeToString(b.Data)
		if !handled {
			return c // the wire bytes only
		}
		dec, err := content.Decode(b.Data, ce, 0)
		if err != nil {
			return c
		}
		saved := int64(len(dec) - len(b.Data))
		c.Size, c.Compression = int64(len(dec)), &saved
		setText(&c, dec)
		return c
	}
	setText(&c, b.Data)
	return c
}

func setText(c *Content, b []byte) {
	switch {
	case len(b) == 0:
	case isText(b):
		c.Text = string(b)
	default:
		c.Text, c.Encoding = base64.StdEncoding.EncodeToString(b), "base64"
	}
}

// isText: bytes JSON text can carry exactly and a reader wants to see.
func isText(b []byte) bool { return utf8.Valid(b) && content.LooksText(b) }

func version(proto string) string {
	if proto == "" {
		return "HTTP/1.1"
	}
	return proto
}

func nameValues(h flowstore.Headers) []NameValue {
	out := make([]NameValue, 0, len(h))
	for _, kv := range h {
		out = append(out, NameValue{Name: kv.Name, Value: kv.Value})
	}
	return out
}

func trailers(h flowstore.Headers) []NameValue {
	if len(h) == 0 {
		return nil
	}
	return nameValues(h)
}

// params splits a query string or urlencoded form in order, unescaping
// where it can (a bad escape is kept as written).
func params(q string) []NameValue {
	var out []NameValue
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, NameValue{Name: unescape(name), Value: unescape(value)})
	}
	return out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func requestCookies(h flowstore.Headers) []Cookie {
	out := []Cookie{}
	for _, v := range h.Values("Cookie") {
		for _, part := range strings.Split(v, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name != "" {
				out = append(out, Cookie{Name: name, Value: value})
			}
		}
	}
	return out
}

func responseCookies(h flowstore.Headers) []Cookie {
	out := []Cookie{}
	for _, v := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(v)
		if err != nil {
			continue // headers are the record; cookies are derived
		}
		hc := Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain, HTTPOnly: c.HttpOnly, Secure: c.Secure}
		if !c.Expires.IsZero() {
			hc.Expires = c.Expires.UTC().Format(isoLayout)
		}
		out = append(out, hc)
	}
	return out
}

func hostOf(addr string) string {
	if addr == "" {
		return ""
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.Trim(addr, "[]")
}

func portOf(addr string) string {
	if _, p, err := net.SplitHostPort(addr); err == nil {
		return p
	}
	return ""
}

// timings derives HAR's phases from the flow's instants. A phase cut short
// by a failure lasts until the failure (Timings.End), so a timed-out
// connect shows as a long connect.
func timings(t flowstore.Timings) Timings {
	out := Timings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}
	span := func(from, to time.Time) float64 {
		if from.IsZero() {
			return -1
		}
		if to.IsZero() {
			to = t.End
		}
		if to.IsZero() {
			return -1
		}
		return ms(to.Sub(from))
	}
	if first := firstSet(t.DNSStart, t.ConnectStart, t.TLSStart); !first.IsZero() && !t.Start.IsZero() {
		out.Blocked = ms(first.Sub(t.Start))
	}
	out.DNS = span(t.DNSStart, t.DNSDone)
	connectEnd := t.ConnectDone
	if !t.TLSStart.IsZero() {
		connectEnd = t.TLSDone
	}
	out.Connect = span(t.ConnectStart, connectEnd)
	out.SSL = span(t.TLSStart, t.TLSDone)

	ready := lastSet(t.Start, t.DNSDone, t.ConnectDone, t.TLSDone)
	out.Send, out.Wait, out.Receive = 0, 0, 0
	if !t.RequestSent.IsZero() && !ready.IsZero() {
		out.Send = max(ms(t.RequestSent.Sub(ready)), 0)
	}
	if !t.RequestSent.IsZero() {
		out.Wait = max(span(t.RequestSent, t.FirstByte), 0)
	}
	if !t.FirstByte.IsZero() && !t.End.IsZero() {
		out.Receive = ms(t.End.Sub(t.FirstByte))
	}
	return out
}

// total is an entry's time: the sum of the phases that happened, SSL being
// part of Connect.
func (t Timings) total() float64 {
	sum := 0.0
	for _, v := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		if v > 0 {
			sum += v
		}
	}
	return round3(sum)
}

// ms is a duration in milliseconds to the microsecond, never negative.
func ms(d time.Duration) float64 { return max(round3(float64(d)/float64(time.Millisecond)), 0) }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func lastSet(ts ...time.Time) time.Time {
	var last time.Time
	for _, t := range ts {
		if !t.IsZero() && t.After(last) {
			last = t
		}
	}
	return last
}
