package flowstore

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// State is where a flow is in its life.
type State uint8

const (
	// StateActive: the exchange is in progress (request or response streaming).
	StateActive State = iota
	// StatePaused: held at a breakpoint; see Flow.Paused for the phase.
	StatePaused
	// StateDone: the response reached the client in full.
	StateDone
	// StateError: the exchange failed; Flow.Error says where and why.
	StateError
	// StateKilled: a person or a script killed it; the client's connection was closed.
	StateKilled
	// StateDraft: a request written or duplicated by the user that has not been sent.
	StateDraft
)

var stateNames = [...]string{"active", "paused", "done", "error", "killed", "draft"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether nothing more will happen to a flow in this state.
func (s State) Final() bool { return s == StateDone || s == StateError || s == StateKilled }

// ParseState is the inverse of State.String.
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if n == s {
			return State(i), true
		}
	}
	return 0, false
}

// Phase names a point in a flow's way through the proxy.
type Phase string

const (
	PhaseNone     Phase = ""
	PhaseRequest  Phase = "request"
	PhaseResponse Phase = "response"
	PhaseConnect  Phase = "connect"
)

// Header is one header line as it was on the wire: original case, in order.
type Header struct {
	Name  string
	Value string
}

// Body is a message body. Data is the copy kept for viewing, Size the full
// length that went through the proxy. When the body was larger than the
// keep limit, Data holds its first bytes and Truncated is set.
//
// Data is never modified in place once a flow is published: code that changes
// a body assigns a new slice.
type Body struct {
	Data      []byte `json:"data,omitempty"`
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
}

// NewBody returns a complete body holding b.
func NewBody(b []byte) Body { return Body{Data: b, Size: int64(len(b))} }

// Len is the full size of the body.
func (b Body) Len() int64 { return b.Size }

// Request is an HTTP request as the client sent it (or as edited).
type Request struct {
	Method string `json:"method"`
	Scheme string `json:"scheme"` // "http" or "https"
	Host   string `json:"host"`   // host name or IP, without port or brackets
	Port   int    `json:"port"`
	Path   string `json:"path"`  // path and query, as sent: "/a/b?x=1"
	Proto  string `json:"proto"` // "HTTP/1.1", "HTTP/2.0", ...

	Headers  Headers `json:"headers"`
	Body     Body    `json:"body"`
	Trailers Headers `json:"trailers,omitempty"`
}

// URL is the absolute URL, omitting the port when it is the scheme's default.
func (r *Request) URL() string {
	b := r.AppendURL(make([]byte, 0, len(r.Scheme)+len(r.Host)+len(r.Path)+10))
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

// AppendURL appends the absolute URL to b.
func (r *Request) AppendURL(b []byte) []byte {
	b = append(b, r.Scheme...)
	b = append(b, "://"...)
	if strings.Contains(r.Host, ":") { // IPv6 literal
		b = append(b, '[')
		b = append(b, r.Host...)
		b = append(b, ']')
	} else {
		b = append(b, r.Host...)
	}
	if r.Port != 0 && r.Port != DefaultPort(r.Scheme) {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(r.Port), 10)
	}
	return append(b, r.Path...)
}

// Authority is host[:port] with the port left out when it is the default one.
func (r *Request) Authority() string {
	host := r.Host
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if r.Port == 0 || r.Port == DefaultPort(r.Scheme) {
		return host
	}
	return host + ":" + strconv.Itoa(r.Port)
}

// PathOnly is Path without its query string.
func (r *Request) PathOnly() string {
	if i := strings.IndexByte(r.Path, '?'); i >= 0 {
		return r.Path[:i]
	}
	return r.Path
}

// Query is the raw query string, without '?'.
func (r *Request) Query() string {
	if i := strings.IndexByte(r.Path, '?'); i >= 0 {
		return r.Path[i+1:]
	}
	return ""
}

// SetURL replaces scheme, host, port and path from an absolute URL.
func (r *Request) SetURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return &url.Error{Op: "parse", URL: raw, Err: errNotAbsolute}
	}
	r.Scheme = strings.ToLower(u.Scheme)
	r.Host = u.Hostname()
	r.Port = DefaultPort(r.Scheme)
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return &url.Error{Op: "parse", URL: raw, Err: errBadPort}
		}
		r.Port = n
	}
	r.Path = u.RequestURI()
	if u.Opaque == "" && u.RawPath == "" && u.Path == "" {
		r.Path = "/"
		if u.RawQuery != "" {
			r.Path += "?" + u.RawQuery
		}
	}
	return nil
}

type urlErr string

func (e urlErr) Error() string { return string(e) }

const (
	errNotAbsolute = urlErr("not an absolute URL (want scheme://host/path)")
	errBadPort     = urlErr("bad port")
)

// DefaultPort of a scheme: 443 for https and wss, 80 otherwise.
func DefaultPort(scheme string) int {
	switch scheme {
	case "https", "wss":
		return 443
	}
	return 80
}

// Clone copies the request. Body bytes and header slices are shared: both
// are never modified in place (Headers' methods build new slices).
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// Response is an HTTP response as the upstream sent it (or as edited or
// written by a person or a script).
type Response struct {
	Status int    `json:"status"`
	Reason string `json:"reason"`
	Proto  string `json:"proto"`

	Headers  Headers `json:"headers"`
	Body     Body    `json:"body"`
	Trailers Headers `json:"trailers,omitempty"`
}

// Clone copies the response, sharing body bytes and header slices as
// Request.Clone does.
func (r *Response) Clone() *Response {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

// TLSInfo describes one TLS session.
type TLSInfo struct {
	Version string `json:"version,omitempty"` // "TLS 1.3"
	SNI     string `json:"sni,omitempty"`
	ALPN    string `json:"alpn,omitempty"`
	Cipher  string `json:"cipher,omitempty"`
	// CertSubject is the subject of the peer's leaf certificate (upstream side only).
	CertSubject string `json:"cert_subject,omitempty"`
}

// Client is the connection the request came in on.
type Client struct {
	Addr string   `json:"addr"`          // ip:port of the client
	TLS  *TLSInfo `json:"tls,omitempty"` // nil when the client spoke plain HTTP to us
	// Mode is the listener the client came through, as --mode spells it
	// ("regular", "reverse:https://api.example.com@8081", "socks5"...);
	// empty for a flow from before modes, which was regular.
	Mode string `json:"mode,omitempty"`
}

// Server is the upstream the request went to.
type Server struct {
	Addr string   `json:"addr,omitempty"` // host:port that was dialled
	IP   string   `json:"ip,omitempty"`   // ip:port it resolved to
	TLS  *TLSInfo `json:"tls,omitempty"`  // nil for plain HTTP upstreams
}

// Timings are wall-clock instants; a zero value means the phase did not
// happen (for example no DNS lookup on a reused connection).
type Timings struct {
	Start        time.Time `json:"start,omitzero"` // request head read from the client
	DNSStart     time.Time `json:"dns_start,omitzero"`
	DNSDone      time.Time `json:"dns_done,omitzero"`
	ConnectStart time.Time `json:"connect_start,omitzero"`
	ConnectDone  time.Time `json:"connect_done,omitzero"`
	TLSStart     time.Time `json:"tls_start,omitzero"`
	TLSDone      time.Time `json:"tls_done,omitzero"`
	RequestSent  time.Time `json:"request_sent,omitzero"` // request fully written upstream
	FirstByte    time.Time `json:"first_byte,omitzero"`   // first byte of the response head
	End          time.Time `json:"end,omitzero"`          // response fully delivered, or the failure
}

// Duration from start to end, or 0 while the flow is in progress.
func (t Timings) Duration() time.Duration {
	if t.Start.IsZero() || t.End.IsZero() {
		return 0
	}
	return t.End.Sub(t.Start)
}

// Error is why a flow failed, and in which phase.
type Error struct {
	Phase   Phase  `json:"phase,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Phase == "" {
		return e.Message
	}
	return string(e.Phase) + ": " + e.Message
}

// Flow is one HTTP exchange.
type Flow struct {
	ID  string `json:"id"`
	Seq uint64 `json:"-"` // arrival order, assigned by the Store

	State  State     `json:"state"`
	Paused Phase     `json:"paused,omitempty"` // the phase a paused flow is held at
	Since  time.Time `json:"since,omitzero"`   // when the flow was paused

	Client   Client    `json:"client"`
	Server   Server    `json:"server,omitzero"`
	Request  *Request  `json:"request"`
	Response *Response `json:"response,omitempty"` // nil until a response exists
	Error    *Error    `json:"error,omitempty"`    // may sit beside a response (a body cut short)
	Timings  Timings   `json:"timings"`

	// Bytes on the wire: request head and body as read from the client, and
	// response head and body as read from the upstream.
	BytesIn  int64 `json:"bytes_in,omitempty"`
	BytesOut int64 `json:"bytes_out,omitempty"`

	Marked   bool   `json:"marked,omitempty"`
	Comment  string `json:"comment,omitempty"`
	ReplayOf string `json:"replay_of,omitempty"` // ID of the flow this one replays

	// Original holds the request and response as they were before the
	// first edit, so an edit can be shown and reverted.
	Original *Original `json:"original,omitempty"`
	// Notes are problems that did not fail the flow, such as a hook error.
	Notes []string `json:"notes,omitempty"`
	// Mock, when set, makes this flow a standing answer for matching requests.
	Mock *MockRule `json:"mock,omitempty"`
	// Rules are the rules that acted on the flow, in the order they did,
	// each with what it did (package flowstore/rules; ~rule NAME matches).
	Rules []RuleHit `json:"rules,omitempty"`

	// Messages of a WebSocket (after a 101) or events of a Server-Sent
	// Events stream, oldest first; past the per-flow cap the oldest are
	// dropped and counted in MessagesDropped.
	Messages        []Message `json:"messages,omitempty"`
	MessagesDropped int       `json:"messages_dropped,omitempty"`
}

// MessageKind says what a message is.
type MessageKind string

const (
	MessageText   MessageKind = "text"
	MessageBinary MessageKind = "binary"
	MessagePing   MessageKind = "ping"
	MessagePong   MessageKind = "pong"
	MessageClose  MessageKind = "close"
	MessageEvent  MessageKind = "event" // a Server-Sent Event
)

// Message is one WebSocket message or Server-Sent Event. Messages are never
// changed once they are in a flow.
type Message struct {
	FromClient bool        `json:"from_client,omitempty"`
	Time       time.Time   `json:"time"`
	Kind       MessageKind `json:"kind"`
	// Data is the payload as the application sees it: fragments joined,
	// permessage-deflate undone; for a close, the reason; for an event,
	// its data lines joined by newlines.
	Data []byte `json:"data,omitempty"`
	// Size is the payload's size on the wire (compressed, when it was).
	Size       int64 `json:"size"`
	Compressed bool  `json:"compressed,omitempty"`
	Truncated  bool  `json:"truncated,omitempty"` // Data keeps only the first part
	CloseCode  int   `json:"close_code,omitempty"`
	// Event and ID are a Server-Sent Event's "event:" and "id:" fields.
	Event string `json:"event,omitempty"`
	ID    string `json:"event_id,omitempty"`
	// Note says what happened to the message on its way (rewritten or
	// dropped by a hook, not decompressible).
	Note string `json:"note,omitempty"`
}

// RuleHit is one rule that acted on a flow, and what it did.
type RuleHit struct {
	Rule string `json:"rule"` // the rule's name
	// Did says what each of its actions did, in order ("request header
	// X-Env: staging", "answered 404: no file for /a.css").
	Did []string `json:"did,omitempty"`
	// Spec is the rule's definition (its YAML) as it was when it acted, so
	// that saved flows carry the rules that shaped them; empty for a
	// standing mock, which the flow it was made from carries (Mock).
	Spec string `json:"spec,omitempty"`
}

// Original is a flow's messages before they were edited.
type Original struct {
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
}

// Edited reports whether the flow was changed by a person or a script.
func (f *Flow) Edited() bool { return f.Original != nil }

// Clone returns a copy that can be changed without affecting f. Body
// bytes, header slices, messages and the Error and TLS records are shared:
// they are never modified in place, only replaced.
func (f *Flow) Clone() *Flow {
	c := *f
	c.Request = f.Request.Clone()
	c.Response = f.Response.Clone()
	if f.Original != nil {
		o := Original{Request: f.Original.Request.Clone(), Response: f.Original.Response.Clone()}
		c.Original = &o
	}
	if f.Notes != nil {
		c.Notes = append([]string(nil), f.Notes...)
	}
	if f.Mock != nil {
		m := *f.Mock
		c.Mock = &m
	}
	if f.Rules != nil {
		// The engine appends to a working copy's hits: the copy gets its own
		// array. Each hit's Did is only ever replaced, never appended to in place.
		c.Rules = append([]RuleHit(nil), f.Rules...)
	}
	return &c
}

// KeepOriginal records the current messages as the original, once, before
// the first edit.
func (f *Flow) KeepOriginal() {
	if f.Original == nil {
		f.Original = &Original{Request: f.Request.Clone(), Response: f.Response.Clone()}
	}
}

// Fail records an error and moves the flow to StateError.
func (f *Flow) Fail(phase Phase, msg string, at time.Time) {
	f.Error = &Error{Phase: phase, Message: msg}
	f.State = StateError
	f.Paused = PhaseNone
	if f.Timings.End.IsZero() {
		f.Timings.End = at
	}
}

// SplitHostPort splits an authority into host and port, using def when the
// port is missing. Brackets around IPv6 literals are removed.
func SplitHostPort(authority string, def int) (string, int) {
	host, p, err := net.SplitHostPort(authority)
	if err != nil {
		return strings.Trim(authority, "[]"), def
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return host, def
	}
	return host, n
}
