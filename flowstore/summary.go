package flowstore

import (
	"strings"
	"sync"
	"time"
)

// Summary is what the flow list shows of a flow: a small record that stays
// in memory when the flow itself has been packed or moved to the spool. A
// million summaries cost a few hundred MB less than a million flows, which is
// what lets a day-long session stay under its memory budget.
//
// Its exported fields never change. The store alone notes, under its lock,
// where a packed flow's record went when it moves to the spool, so that the
// summary subscribers hold stays the store's: read the fields, but do not
// copy or print a held summary by value (that reads the note as it is set).
//
// Flow is the full snapshot the summary was made from while the flow is in
// memory, and nil once it was packed or spooled: Store.Get reads it back.
//
// Its fields are laid out to fit 128 bytes, an allocation size class: the
// scheme and the content type are small numbers into a table of strings
// that repeat (read them with Scheme and ContentType).
type Summary struct {
	ID                 string
	Method, Host, Path string
	Flow               *Flow
	Seq                uint64
	Start, End         int64 // Unix nanoseconds; 0 when not reached
	Size               int64 // response body size; -1 without a response

	loc spoolLoc // where a spooled flow's record is

	Status int16  // response status; 0 without a response
	Port   uint16 // 0 when unknown
	scheme atom
	ctype  atom // the response's Content-Type header
	State  State
	Flags  SummaryFlag
}

// SummaryFlag records the facts the list marks a row with.
type SummaryFlag uint8

const (
	FlagMarked  SummaryFlag = 1 << iota
	FlagError               // the flow has an error (beside a response, or instead of one)
	FlagMock                // the flow is a standing mock
	FlagReplay              // the flow replays another
	FlagEdited              // the flow was edited
	FlagComment             // the flow has a comment
	// FlagOddHost: the request's Host header is neither the host nor the
	// authority, so Lite cannot stand in for the flow in a ~d filter.
	FlagOddHost
	// FlagLossy: the scheme or content type did not fit the table of
	// repeated strings (tens of thousands of distinct ones), so Lite does
	// not carry it.
	FlagLossy
)

// Has reports whether every flag in g is set.
func (f SummaryFlag) Has(g SummaryFlag) bool { return f&g == g }

// Summarize makes the summary of a snapshot. The summary keeps f.
func Summarize(f *Flow) *Summary {
	s := &Summary{ID: f.ID, Seq: f.Seq, Flow: f, State: f.State, Size: -1}
	s.Start, s.End = unixNano(f.Timings.Start), unixNano(f.Timings.End)
	lossy := false
	if r := f.Request; r != nil {
		s.Method, s.Host, s.Path = r.Method, r.Host, r.Path
		if r.Port > 0 && r.Port <= 65535 {
			s.Port = uint16(r.Port)
		}
		s.scheme, lossy = atoms.of(r.Scheme)
		if h := r.Headers.Get("Host"); h != "" && h != r.Host && h != r.Authority() {
			s.Flags |= FlagOddHost
		}
	}
	if r := f.Response; r != nil {
		s.Size = r.Body.Size
		if r.Status > 0 && r.Status < 1000 {
			s.Status = int16(r.Status)
		}
		var lost bool
		s.ctype, lost = atoms.of(r.Headers.Get("Content-Type"))
		lossy = lossy || lost
	}
	if lossy {
		s.Flags |= FlagLossy
	}
	if f.Marked {
		s.Flags |= FlagMarked
	}
	if f.Error != nil {
		s.Flags |= FlagError
	}
	if f.Mock != nil {
		s.Flags |= FlagMock
	}
	if f.ReplayOf != "" {
		s.Flags |= FlagReplay
	}
	if f.Original != nil {
		s.Flags |= FlagEdited
	}
	if f.Comment != "" {
		s.Flags |= FlagComment
	}
	return s
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Scheme is the request's scheme ("http", "https").
func (s *Summary) Scheme() string { return atoms.str(s.scheme) }

// ContentType is the response's Content-Type header.
func (s *Summary) ContentType() string { return atoms.str(s.ctype) }

// LiteExact reports whether Lite answers every shallow filter (see
// filter.Shallow) as the whole flow would; when not, match the flow.
func (s *Summary) LiteExact() bool { return s.Flags&(FlagOddHost|FlagLossy) == 0 }

// Marked reports whether the flow is marked.
func (s *Summary) Marked() bool { return s.Flags.Has(FlagMarked) }

// StartTime is when the flow started, zero if unknown.
func (s *Summary) StartTime() time.Time { return fromUnixNano(s.Start) }

// Duration from start to end, or 0 while the flow is in progress.
func (s *Summary) Duration() time.Duration {
	if s.Start == 0 || s.End == 0 {
		return 0
	}
	return time.Duration(s.End - s.Start)
}

// HasResponse reports whether a response exists.
func (s *Summary) HasResponse() bool { return s.Size >= 0 }

// Authority is host[:port] with the port left out when it is the default one.
func (s *Summary) Authority() string {
	r := Request{Scheme: s.Scheme(), Host: s.Host, Port: int(s.Port)}
	return r.Authority()
}

// URL is the absolute URL, as Request.URL.
func (s *Summary) URL() string {
	r := Request{Scheme: s.Scheme(), Host: s.Host, Port: int(s.Port), Path: s.Path}
	return r.URL()
}

// Lite is a flow holding only what the summary knows: enough for filters
// that look at the method, URL, host, status, response content type,
// state, mark or replay flag (filter.Shallow says which), not at other
// headers or bodies. Its Host header is the authority, which is what the
// flow's own was unless FlagOddHost is set. For a summary of a flow in
// memory it is that flow.
func (s *Summary) Lite() *Flow {
	if s.Flow != nil {
		return s.Flow
	}
	f := &Flow{ID: s.ID, Seq: s.Seq, State: s.State, Marked: s.Marked()}
	f.Timings.Start, f.Timings.End = s.StartTime(), fromUnixNano(s.End)
	f.Request = &Request{Method: s.Method, Scheme: s.Scheme(), Host: s.Host, Port: int(s.Port), Path: s.Path}
	f.Request.Headers = Headers{{Name: "Host", Value: f.Request.Authority()}}
	if s.Flags.Has(FlagReplay) {
		f.ReplayOf = "(spooled)" // the flag is what a filter asks about
	}
	if s.HasResponse() {
		f.Response = &Response{Status: int(s.Status), Body: Body{Size: s.Size}}
		if ct := s.ContentType(); ct != "" {
			f.Response.Headers = Headers{{Name: "Content-Type", Value: ct}}
		}
	}
	if s.Flags.Has(FlagError) {
		f.Error = &Error{Message: "(in the spool)"}
	}
	return f
}

// compact makes a fresh summary (no one else holds it) keep nothing of the
// flow's memory alive: no Flow pointer, and strings copied out of whatever
// larger buffers they were cut from (repeated ones, methods and hosts,
// shared through in). The ID is kept as is: it is a string of its own,
// already the store's map key.
func (s *Summary) compact(in *atomTable) *Summary {
	s.Flow = nil
	s.Path = strings.Clone(s.Path)
	s.Method = in.intern(s.Method)
	s.Host = in.intern(s.Host)
	return s
}

// atom numbers a string in a table of strings that repeat across flows.
type atom uint16

// atomTable holds the strings atoms stand for. Atom 0 is "". It stops
// growing when full, so a stream of distinct values cannot make it a leak;
// a value that finds it full gets atom 0 and is reported lost. The zero
// value is ready to use.
type atomTable struct {
	mu    sync.RWMutex
	index map[string]atom
	strs  []string
}

// atoms holds the schemes and content types of summaries.
var atoms = &atomTable{}

// intern returns the table's copy of s, shared by every flow that has it;
// once the table is full, a copy of its own.
func (t *atomTable) intern(s string) string {
	if a, lost := t.of(s); !lost {
		return t.str(a)
	}
	return strings.Clone(s)
}

func (t *atomTable) of(s string) (a atom, lost bool) {
	if s == "" {
		return 0, false
	}
	t.mu.RLock()
	a, ok := t.index[s]
	t.mu.RUnlock()
	if ok {
		return a, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.index[s]; ok {
		return a, false
	}
	if len(t.strs) > 0xffff {
		return 0, true
	}
	if t.index == nil {
		t.index, t.strs = map[string]atom{"": 0}, []string{""}
	}
	s = strings.Clone(s)
	a = atom(len(t.strs))
	t.strs = append(t.strs, s)
	t.index[s] = a
	return a, false
}

func (t *atomTable) str(a atom) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if int(a) < len(t.strs) {
		return t.strs[a]
	}
	return ""
}
