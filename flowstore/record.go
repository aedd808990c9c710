package flowstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// A spool record is a flow in a compact binary form: every flow that stays
// long enough is written once, so encoding sits on the capture path of a
// busy proxy (JSON took 10 µs for a small flow, this a tenth of it). Bodies
// are raw bytes. The rare parts (the original messages of an edited flow,
// notes, a standing mock, WebSocket messages) go as one JSON blob. The ID
// and sequence number live in the summary, not here.
//
// TestRecordCoversEveryField fails when a field is added to a flow's types
// and not to this codec.

const recordVersion = 4 // 4: the rules that acted on the flow

type recWriter struct{ b []byte }

func (w *recWriter) uint(v uint64)    { w.b = binary.AppendUvarint(w.b, v) }
func (w *recWriter) int(v int64)      { w.b = binary.AppendVarint(w.b, v) }
func (w *recWriter) bytes(p []byte)   { w.uint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *recWriter) str(s string)     { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *recWriter) bool(v bool)      { w.b = append(w.b, boolByte(v)) }
func (w *recWriter) time(t time.Time) { w.int(unixNano(t)) }

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func (w *recWriter) headers(h Headers) {
	w.uint(uint64(len(h)))
	for _, kv := range h {
		w.str(kv.Name)
		w.str(kv.Value)
	}
}

func (w *recWriter) body(b Body) {
	w.bytes(b.Data)
	w.int(b.Size)
	w.bool(b.Truncated)
}

func (w *recWriter) tls(t *TLSInfo) {
	w.bool(t != nil)
	if t != nil {
		w.str(t.Version)
		w.str(t.SNI)
		w.str(t.ALPN)
		w.str(t.Cipher)
		w.str(t.CertSubject)
	}
}

func (w *recWriter) request(r *Request) {
	w.bool(r != nil)
	if r == nil {
		return
	}
	w.str(r.Method)
	w.str(r.Scheme)
	w.str(r.Host)
	w.int(int64(r.Port))
	w.str(r.Path)
	w.str(r.Proto)
	w.headers(r.Headers)
	w.body(r.Body)
	w.headers(r.Trailers)
}

func (w *recWriter) response(r *Response) {
	w.bool(r != nil)
	if r == nil {
		return
	}
	w.int(int64(r.Status))
	w.str(r.Reason)
	w.str(r.Proto)
	w.headers(r.Headers)
	w.body(r.Body)
	w.headers(r.Trailers)
}

// recordExtras are the parts of a flow that few flows have and whose text
// is valid UTF-8 (JSON would replace bytes that are not).
type recordExtras struct {
	Mock            *MockRule `json:"mock,omitempty"`
	Messages        []Message `json:"messages,omitempty"`
	MessagesDropped int       `json:"messages_dropped,omitempty"`
}

func encodeRecord(f *Flow) ([]byte, error) {
	return appendRecord(make([]byte, 0, 512+recordBodyLen(f)), f)
}

// appendRecord appends f's record to dst.
func appendRecord(dst []byte, f *Flow) ([]byte, error) {
	w := recWriter{b: dst}
	w.uint(recordVersion)
	w.uint(uint64(f.State))
	w.str(string(f.Paused))
	w.time(f.Since)
	w.str(f.Client.Addr)
	w.tls(f.Client.TLS)
	w.str(f.Client.Mode)
	w.str(f.Server.Addr)
	w.str(f.Server.IP)
	w.tls(f.Server.TLS)
	w.request(f.Request)
	w.response(f.Response)
	w.bool(f.Error != nil)
	if f.Error != nil {
		w.str(string(f.Error.Phase))
		w.str(f.Error.Message)
	}
	t := &f.Timings
	for _, x := range [...]time.Time{t.Start, t.DNSStart, t.DNSDone, t.ConnectStart, t.ConnectDone,
		t.TLSStart, t.TLSDone, t.RequestSent, t.FirstByte, t.End} {
		w.time(x)
	}
	w.int(f.BytesIn)
	w.int(f.BytesOut)
	w.bool(f.Marked)
	w.str(f.Comment)
	w.str(f.ReplayOf)
	// An edited flow's original messages keep their bytes as the flow's do.
	w.bool(f.Original != nil)
	if o := f.Original; o != nil {
		w.request(o.Request)
		w.response(o.Response)
	}
	w.bool(f.Notes != nil)
	w.uint(uint64(len(f.Notes)))
	for _, n := range f.Notes {
		w.str(n)
	}
	// Binary rather than in the JSON blob: a broad rule (a throttle on
	// ~all) puts hits on most flows, and this is the capture path.
	w.uint(uint64(len(f.Rules)))
	for _, h := range f.Rules {
		w.str(h.Rule)
		w.uint(uint64(len(h.Did)))
		for _, d := range h.Did {
			w.str(d)
		}
		w.str(h.Spec)
	}
	if f.Mock != nil || f.Messages != nil || f.MessagesDropped != 0 {
		js, err := json.Marshal(recordExtras{f.Mock, f.Messages, f.MessagesDropped})
		if err != nil {
			return nil, err
		}
		w.bytes(js)
	} else {
		w.bytes(nil)
	}
	return w.b, nil
}

func recordBodyLen(f *Flow) int {
	n := 0
	if f.Request != nil {
		n += len(f.Request.Body.Data)
	}
	if f.Response != nil {
		n += len(f.Response.Body.Data)
	}
	return n
}

var errRecord = errors.New("damaged spool record")

// recReader reads what recWriter wrote; after the first error every read
// returns zero values and err stays set.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) fail() { r.err, r.b = errRecord, nil }

func (r *recReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) bytes() []byte {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *recReader) str() string { return string(r.bytes()) }

func (r *recReader) bool() bool {
	if len(r.b) == 0 {
		r.fail()
		return false
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v == 1
}

func (r *recReader) time() time.Time { return fromUnixNano(r.int()) }

func (r *recReader) headers() Headers {
	n := r.uint()
	if n == 0 || n > uint64(len(r.b))/2 { // each header takes two bytes at least
		if n != 0 {
			r.fail()
		}
		return nil
	}
	h := make(Headers, n)
	for i := range h {
		h[i].Name, h[i].Value = r.str(), r.str()
	}
	return h
}

func (r *recReader) body() Body {
	return Body{Data: r.bytes(), Size: r.int(), Truncated: r.bool()}
}

func (r *recReader) tls() *TLSInfo {
	if !r.bool() {
		return nil
	}
	return &TLSInfo{Version: r.str(), SNI: r.str(), ALPN: r.str(), Cipher: r.str(), CertSubject: r.str()}
}

func (r *recReader) request() *Request {
	if !r.bool() {
		return nil
	}
	q := &Request{Method: r.str(), Scheme: r.str(), Host: r.str(), Port: int(r.int()), Path: r.str(), Proto: r.str()}
	q.Headers, q.Body, q.Trailers = r.headers(), r.body(), r.headers()
	return q
}

func (r *recReader) response() *Response {
	if !r.bool() {
		return nil
	}
	p := &Response{Status: int(r.int()), Reason: r.str(), Proto: r.str()}
	p.Headers, p.Body, p.Trailers = r.headers(), r.body(), r.headers()
	return p
}

func decodeRecord(rec []byte) (*Flow, error) {
	r := &recReader{b: rec}
	if v := r.uint(); v != recordVersion {
		return nil, errRecord
	}
	f := &Flow{State: State(r.uint()), Paused: Phase(r.str()), Since: r.time()}
	f.Client = Client{Addr: r.str(), TLS: r.tls(), Mode: r.str()}
	f.Server = Server{Addr: r.str(), IP: r.str(), TLS: r.tls()}
	f.Request = r.request()
	f.Response = r.response()
	if r.bool() {
		f.Error = &Error{Phase: Phase(r.str()), Message: r.str()}
	}
	t := &f.Timings
	for _, x := range [...]*time.Time{&t.Start, &t.DNSStart, &t.DNSDone, &t.ConnectStart, &t.ConnectDone,
		&t.TLSStart, &t.TLSDone, &t.RequestSent, &t.FirstByte, &t.End} {
		*x = r.time()
	}
	f.BytesIn, f.BytesOut = r.int(), r.int()
	f.Marked, f.Comment, f.ReplayOf = r.bool(), r.str(), r.str()
	if r.bool() {
		f.Original = &Original{Request: r.request(), Response: r.response()}
	}
	if r.bool() {
		f.Notes = []string{}
	}
	for n := r.uint(); n > 0 && r.err == nil; n-- {
		f.Notes = append(f.Notes, r.str())
	}
	for n := r.uint(); n > 0 && r.err == nil; n-- {
		h := RuleHit{Rule: r.str()}
		for d := r.uint(); d > 0 && r.err == nil; d-- {
			h.Did = append(h.Did, r.str())
		}
		h.Spec = r.str()
		f.Rules = append(f.Rules, h)
	}
	if js := r.bytes(); r.err == nil && len(js) > 0 {
		var x recordExtras
		if err := json.Unmarshal(js, &x); err != nil {
			return nil, errRecord
		}
		f.Mock, f.Messages, f.MessagesDropped = x.Mock, x.Messages, x.MessagesDropped
		for i := range f.Messages {
			f.Messages[i].Time = f.Messages[i].Time.Local() // as the flow's other times
		}
	}
	if r.err != nil || len(r.b) != 0 || f.Request == nil {
		return nil, errRecord
	}
	return f, nil
}
