package mitm

import (
	"net/http"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// A tap can hold an earlier head with the same first line and header names
// as the one asked for (an upstream connection is pooled again before a
// bodiless response is taken, so the next response on it can be taken
// first). take must not hand that head out for this one.
func TestTakeRefusesAnotherHeadWithTheSameNames(t *testing.T) {
	tap := newHeadTap(nil)
	tap.keep([]byte("HTTP/1.1 304 Not Modified\r\nEtag: first\r\nDate: Mon\r\n\r\n" +
		"HTTP/1.1 304 Not Modified\r\nEtag: second\r\nDate: Tue\r\n\r\n"))
	want := http.Header{"Etag": {"second"}, "Date": {"Tue"}}
	if hs, _, ok := tap.take(want, nil, "HTTP/1.1", "304 Not Modified"); ok && hs.Get("Etag") != "second" {
		t.Fatalf("took the other response's headers: %v", hs)
	}
}

func TestSameHeaders(t *testing.T) {
	hs := func(kv ...string) flowstore.Headers {
		var h flowstore.Headers
		for i := 0; i < len(kv); i += 2 {
			h = append(h, flowstore.Header{Name: kv[i], Value: kv[i+1]})
		}
		return h
	}
	want := http.Header{"X-A": {"1", "2"}, "Accept": {"*/*"}}
	for _, tc := range []struct {
		name string
		hs   flowstore.Headers
		ok   bool
	}{
		{"same, names in any case", hs("x-a", "1", "ACCEPT", "*/*", "X-A", "2"), true},
		{"optional name not in the map", hs("Host", "h", "X-A", "1", "X-A", "2", "Accept", "*/*"), true},
		{"repeats out of order", hs("X-A", "2", "X-A", "1", "Accept", "*/*"), false},
		{"a value missing", hs("X-A", "1", "Accept", "*/*"), false},
		{"a value too many", hs("X-A", "1", "X-A", "2", "X-A", "3", "Accept", "*/*"), false},
		{"a name not in the map", hs("X-A", "1", "X-A", "2", "Accept", "*/*", "X-B", "b"), false},
		{"another value", hs("X-A", "1", "X-A", "2", "Accept", "text/html"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameHeaders(tc.hs, want, []string{"Host"}); got != tc.ok {
				t.Fatalf("sameHeaders = %v, want %v", got, tc.ok)
			}
		})
	}
}
