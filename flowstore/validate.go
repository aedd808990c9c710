package flowstore

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// A flow read from a file (--load, --server-replay) is checked value by
// value before it goes into the store: a file can be damaged, edited by
// hand or written to mislead, and a number that no exchange can have (a
// status of 99999999999, a body of 10^18 bytes) must not reach the list,
// a replay or the spool as if it were true. Text is kept as it is, control
// bytes included (the views escape them): it is what the file says.

// MaxWireSize is the most a flow's body, message or byte count may say it
// moved; a larger number in a file is taken for damage.
const MaxWireSize = 1 << 40 // 1 TiB

// Times must be representable in nanoseconds since 1970 (the spool keeps
// them so) and not before it.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// ValidateLoaded checks and repairs a flow read from a file. Each note says
// which field was wrong, how, and what was done: a value cleared or
// clamped, or the flow dropped, in which case keep is false and the flow
// must not be used. Without notes the flow is as it was.
func ValidateLoaded(f *Flow) (notes []string, keep bool) {
	c := &checker{}
	c.flow(f)
	return c.notes, !c.drop
}

type checker struct {
	notes []string
	drop  bool
	orig  bool // checking the messages before an edit: those are dropped, not the flow
}

// short quotes a value for a note, cut to a length a person reads: a
// hostile file's megabyte host must not become a megabyte warning.
func short(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

func (c *checker) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// fatal records a problem that makes the flow unusable.
func (c *checker) fatal(format string, args ...any) {
	if c.orig {
		c.note(format+"; the original messages before the edit are dropped", args...)
	} else {
		c.note(format+"; flow dropped", args...)
	}
	c.drop = true
}

func (c *checker) flow(f *Flow) {
	if f.Request == nil {
		c.fatal("no request")
		return
	}
	if int(f.State) >= len(stateNames) {
		c.note("state %d is unknown; set to error", f.State)
		f.State = StateError
	}
	switch f.Paused {
	case PhaseNone, PhaseRequest, PhaseResponse, PhaseConnect:
		if f.State != StatePaused && f.Paused != PhaseNone {
			c.note("paused at %s but the flow is %s; cleared", short(string(f.Paused)), f.State)
			f.Paused = PhaseNone
		}
	default:
		c.note("paused phase %s is unknown; cleared", short(string(f.Paused)))
		f.Paused = PhaseNone
	}
	c.time("paused since", &f.Since)
	c.addr("client address", &f.Client.Addr)
	c.addr("server address", &f.Server.Addr)
	c.addr("server IP", &f.Server.IP)

	c.request("request", f.Request)
	if c.drop {
		return
	}
	if r := f.Response; r != nil {
		if ok := c.response("response", r); !ok {
			// The request is still worth seeing; the flow says what became
			// of its response.
			f.Response = nil
			msg := fmt.Sprintf("the loaded file's response had status %d, which is not an HTTP status", r.Status)
			if f.Error != nil {
				msg = f.Error.Message + "; " + msg
			}
			f.Error = &Error{Phase: PhaseResponse, Message: msg}
			if f.State == StateDone {
				f.State = StateError
			}
		}
	}
	if e := f.Error; e != nil {
		switch e.Phase {
		case PhaseNone, PhaseRequest, PhaseResponse, PhaseConnect:
		default:
			c.note("error phase %s is unknown; cleared", short(string(e.Phase)))
			f.Error = &Error{Message: e.Message} // errors are shared between copies, never changed in place
		}
	}
	c.timings(&f.Timings)
	c.count("bytes_in", &f.BytesIn)
	c.count("bytes_out", &f.BytesOut)
	if o := f.Original; o != nil {
		sub := &checker{orig: true}
		if o.Request != nil {
			sub.request("original request", o.Request)
		}
		if o.Response != nil && !sub.response("original response", o.Response) {
			sub.fatal("the original response is unusable")
		}
		c.notes = append(c.notes, sub.notes...)
		if sub.drop {
			f.Original = nil
		}
	}
	c.messages(f)
}

func (c *checker) request(what string, r *Request) {
	if r.Method == "" {
		c.fatal("%s has no method", what)
	}
	switch s := strings.ToLower(r.Scheme); s {
	case "http", "https", "ws", "wss":
		if s != r.Scheme {
			c.note("%s scheme %s; set to %q", what, short(r.Scheme), s)
			r.Scheme = s
		}
	default:
		c.fatal("%s scheme %s is not http, https, ws or wss", what, short(r.Scheme))
	}
	if !validHost(r.Host) {
		c.fatal("%s host %s is not a host name or an IP address", what, short(r.Host))
	}
	if r.Port < 0 || r.Port > 65535 {
		c.fatal("%s port %d is out of range (1-65535)", what, r.Port)
	}
	if p := r.Path; p != "" && p != "*" && p[0] != '/' && r.Method != "CONNECT" {
		// Host and path are joined into the URL: "example.com" and "x"
		// would read as the host "example.comx".
		c.note("%s path %s does not start with /; a / was put before it", what, short(r.Path))
		r.Path = "/" + r.Path
	}
	c.proto(what, &r.Proto)
	c.headers(what+" header", &r.Headers)
	c.headers(what+" trailer", &r.Trailers)
	c.body(what+" body", &r.Body)
}

// response checks r; false when its status makes it unusable.
func (c *checker) response(what string, r *Response) bool {
	c.proto(what, &r.Proto)
	c.headers(what+" header", &r.Headers)
	c.headers(what+" trailer", &r.Trailers)
	c.body(what+" body", &r.Body)
	if r.Status < 100 || r.Status > 999 {
		c.note("%s status %d is not an HTTP status (100-999); the response is dropped", what, r.Status)
		return false
	}
	return true
}

// validHost: not empty, and nothing that would change what the URL says
// when the host is written into it (a path, a query, user info); an IPv6
// literal must be one.
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@[]\\") {
		return false
	}
	if strings.Contains(h, ":") {
		addr, _, _ := strings.Cut(h, "%") // a zone may follow
		ip := net.ParseIP(addr)
		return ip != nil && ip.To4() == nil
	}
	return true
}

func (c *checker) proto(what string, p *string) {
	switch *p {
	case "HTTP/0.9", "HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0":
		return
	}
	c.note("%s version %s is not an HTTP version; set to HTTP/1.1", what, short(*p))
	*p = "HTTP/1.1"
}

func (c *checker) headers(what string, h *Headers) {
	kept := (*h)[:0:0]
	dropped := 0
	for _, kv := range *h {
		if kv.Name == "" {
			dropped++
			continue
		}
		kept = append(kept, kv)
	}
	if dropped > 0 {
		c.note("%d %s(s) without a name; removed", dropped, what)
		*h = kept // a new slice: headers are shared between copies
	}
}

func (c *checker) body(what string, b *Body) {
	kept := int64(len(b.Data))
	switch {
	case b.Size < kept:
		c.note("%s size %d is less than the %d bytes kept; set to %d", what, b.Size, kept, kept)
		b.Size = kept
	case b.Size > MaxWireSize:
		c.note("%s size %d is more than 1 TiB; set to the %d bytes kept", what, b.Size, kept)
		b.Size = kept
	case !b.Truncated && b.Size != kept:
		c.note("%s size %d, but %d bytes are kept and it is not marked truncated; set to %d", what, b.Size, kept, kept)
		b.Size = kept
	}
}

func (c *checker) count(what string, n *int64) {
	if *n < 0 || *n > MaxWireSize {
		c.note("%s %d is out of range (0 to 1 TiB); cleared", what, *n)
		*n = 0
	}
}

func (c *checker) time(what string, t *time.Time) {
	if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
		c.note("%s %s is outside 1970-2262; cleared", what, t.Format(time.RFC3339))
		*t = time.Time{}
	}
}

func (c *checker) timings(t *Timings) {
	c.time("start time", &t.Start)
	c.time("end time", &t.End)
	if !t.Start.IsZero() && !t.End.IsZero() && t.End.Before(t.Start) {
		c.note("end time %s is before the start %s; cleared", t.End.Format(time.RFC3339Nano), t.Start.Format(time.RFC3339Nano))
		t.End = time.Time{}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{
		{"dns_start", &t.DNSStart}, {"dns_done", &t.DNSDone}, {"connect_start", &t.ConnectStart},
		{"connect_done", &t.ConnectDone}, {"tls_start", &t.TLSStart}, {"tls_done", &t.TLSDone},
		{"request_sent", &t.RequestSent}, {"first_byte", &t.FirstByte},
	} {
		c.time(p.name+" time", p.t)
		switch {
		case p.t.IsZero():
		case !t.Start.IsZero() && p.t.Before(t.Start):
			c.note("%s time is before the start; cleared", p.name)
			*p.t = time.Time{}
		case !t.End.IsZero() && p.t.After(t.End):
			c.note("%s time is after the end; cleared", p.name)
			*p.t = time.Time{}
		}
	}
}

// addr checks a host:port; one that is not is cleared.
func (c *checker) addr(what string, a *string) {
	if *a == "" {
		return
	}
	host, port, err := net.SplitHostPort(*a)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 || host == "" {
		c.note("%s %s is not host:port; cleared", what, short(*a))
		*a = ""
	}
}

func (c *checker) messages(f *Flow) {
	if f.MessagesDropped < 0 {
		c.note("messages_dropped %d is negative; cleared", f.MessagesDropped)
		f.MessagesDropped = 0
	}
	if len(f.Messages) == 0 {
		return
	}
	var kept []Message
	changed := false
	for i, m := range f.Messages {
		what := "message " + strconv.Itoa(i+1)
		switch m.Kind {
		case MessageText, MessageBinary, MessagePing, MessagePong, MessageClose, MessageEvent:
		default:
			c.note("%s: kind %s is unknown; message dropped", what, short(string(m.Kind)))
			changed = true
			continue
		}
		before := len(c.notes)
		if m.Size < 0 || m.Size > MaxWireSize {
			c.note("%s: size %d is out of range (0 to 1 TiB); set to the %d bytes kept", what, m.Size, len(m.Data))
			m.Size = int64(len(m.Data))
		}
		if m.CloseCode != 0 && (m.CloseCode < 1000 || m.CloseCode > 4999) {
			c.note("%s: close code %d is out of range (1000-4999); cleared", what, m.CloseCode)
			m.CloseCode = 0
		}
		c.time(what+": time", &m.Time)
		changed = changed || len(c.notes) > before
		kept = append(kept, m)
	}
	if changed {
		f.Messages = kept // a new slice: messages are shared between copies
	}
}
