package mitm

import (
	"net/http"
	"testing"
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
	if hs, _, ok := tap.take("HTTP/1.1 304 Not Modified", want); ok && hs.Get("Etag") != "second" {
		t.Fatalf("took the other response's headers: %v", hs)
	}
}
