package flowstore

import (
	"net/http"
	"net/textproto"
	"sort"
	"strings"
)

// Headers are header lines in wire order, names in their original case,
// repeats kept. Lookups are case-insensitive.
//
// A Headers slice is never changed in place once it is in a flow: Set, Add
// and Del build a new slice, so snapshots can share one. Code that edits
// headers uses those methods (or builds a new slice), never h[i] = ....
type Headers []Header

// Get returns the first value of name, or "".
func (h Headers) Get(name string) string {
	for _, kv := range h {
		if strings.EqualFold(kv.Name, name) {
			return kv.Value
		}
	}
	return ""
}

// Has reports whether name is present.
func (h Headers) Has(name string) bool {
	for _, kv := range h {
		if strings.EqualFold(kv.Name, name) {
			return true
		}
	}
	return false
}

// Values returns every value of name in order.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, kv := range h {
		if strings.EqualFold(kv.Name, name) {
			vs = append(vs, kv.Value)
		}
	}
	return vs
}

// Set replaces the first line of name in place (keeping its position) and
// drops the others; it appends when name is absent.
func (h *Headers) Set(name, value string) {
	out := (*h)[:0:0]
	done := false
	for _, kv := range *h {
		if strings.EqualFold(kv.Name, name) {
			if done {
				continue
			}
			kv.Value = value
			done = true
		}
		out = append(out, kv)
	}
	if !done {
		out = append(out, Header{Name: name, Value: value})
	}
	*h = out
}

// Add appends a line.
func (h *Headers) Add(name, value string) {
	*h = append((*h)[:len(*h):len(*h)], Header{Name: name, Value: value})
}

// Del removes every line of name.
func (h *Headers) Del(name string) {
	out := (*h)[:0:0]
	for _, kv := range *h {
		if !strings.EqualFold(kv.Name, name) {
			out = append(out, kv)
		}
	}
	*h = out
}

// Clone copies the slice.
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	return append(Headers(nil), h...)
}

// HTTP converts to a net/http header map (names canonicalised).
func (h Headers) HTTP() http.Header {
	m := make(http.Header, len(h))
	for _, kv := range h {
		k := textproto.CanonicalMIMEHeaderKey(kv.Name)
		m[k] = append(m[k], kv.Value)
	}
	return m
}

// String renders "Name: value" lines joined by "\n", the form filters match.
func (h Headers) String() string {
	var b strings.Builder
	for i, kv := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(kv.Name)
		b.WriteString(": ")
		b.WriteString(kv.Value)
	}
	return b.String()
}

// FromHTTP converts a header map whose wire order is unknown. Names are
// sorted so that the result is at least stable; callers that know the wire
// order use it instead.
func FromHTTP(m http.Header) Headers {
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	n := 0
	for k, vs := range m {
		names = append(names, k)
		n += len(vs)
	}
	sort.Strings(names)
	h := make(Headers, 0, n)
	for _, k := range names {
		for _, v := range m[k] {
			h = append(h, Header{Name: k, Value: v})
		}
	}
	return h
}
