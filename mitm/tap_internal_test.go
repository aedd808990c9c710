package mitm

import (
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

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

// writeLog is a connection that records each write it is given.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes []string
	closed bool
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *writeLog) SetWriteDeadline(time.Time) error { return nil }

func (w *writeLog) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return nil
}

func (w *writeLog) log() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func TestHeldHeadLeavesWithItsBody(t *testing.T) {
	conn := &writeLog{}
	tap := newHeadTap(conn)
	tap.wait = time.Hour                 // the timer is TestHeldHeadIsNotKeptWaiting's
	for round := 0; round < 2; round++ { // the hold is asked for per response
		tap.holdNext()
		if n, err := tap.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")); n != 19 || err != nil {
			t.Fatalf("head write: %d, %v", n, err)
		}
		if n, err := tap.Write([]byte("body")); n != 4 || err != nil {
			t.Fatalf("body write: %d, %v", n, err)
		}
	}
	if _, err := tap.Write([]byte("unheld")); err != nil {
		t.Fatal(err)
	}
	want := []string{"HTTP/1.1 200 OK\r\n\r\nbody", "HTTP/1.1 200 OK\r\n\r\nbody", "unheld"}
	if got := conn.log(); !slices.Equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

func TestHeldHeadIsNotKeptWaiting(t *testing.T) {
	conn := &writeLog{}
	tap := newHeadTap(conn)
	tap.holdNext()
	tap.Write([]byte("head"))
	deadline := time.Now().Add(5 * time.Second)
	for len(conn.log()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a held head was never sent without its body")
		}
		time.Sleep(time.Millisecond)
	}
	tap.Write([]byte("body"))
	if got := conn.log(); !slices.Equal(got, []string{"head", "body"}) {
		t.Fatalf("writes %q", got)
	}

	// Closing the connection sends what is held first.
	conn = &writeLog{}
	tap = newHeadTap(conn)
	tap.wait = time.Hour
	tap.holdNext()
	tap.Write([]byte("head"))
	tap.Close()
	if got := conn.log(); !slices.Equal(got, []string{"head"}) || !conn.closed {
		t.Fatalf("after close: writes %q, closed %v", got, conn.closed)
	}

	// A body too large to join the head in one record goes on its own.
	conn = &writeLog{}
	tap = newHeadTap(conn)
	tap.wait = time.Hour
	tap.holdNext()
	tap.Write([]byte("head"))
	big := make([]byte, holdMax)
	tap.Write(big)
	if got := conn.log(); len(got) != 2 || got[0] != "head" || len(got[1]) != holdMax {
		t.Fatalf("%d writes", len(got))
	}
}

// A timer that fires just after the body's write took the head along must
// not send the next response's head on its own.
func TestLateTimerLeavesTheNextHeadHeld(t *testing.T) {
	conn := &writeLog{}
	tap := newHeadTap(conn)
	tap.wait = time.Hour
	tap.holdNext()
	tap.Write([]byte("head2"))
	tap.releaseHeld() // the first response's timer, arriving late
	if got := conn.log(); len(got) != 0 {
		t.Fatalf("a late timer sent %q", got)
	}
	tap.Write([]byte("body2"))
	if got := conn.log(); !slices.Equal(got, []string{"head2body2"}) {
		t.Fatalf("writes %q", got)
	}
}

// Closing a tap whose writer is stuck on a client that reads nothing
// returns, and the stuck write ends with an error instead of hanging.
func TestCloseEndsAWriteStuckOnAClientThatDoesNotRead(t *testing.T) {
	ours, client := net.Pipe()
	defer client.Close()
	tap := newHeadTap(ours)
	wrote := make(chan error, 1)
	go func() {
		_, err := tap.Write(make([]byte, 1<<20)) // net.Pipe: blocks until read
		wrote <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the write take the lock and block
	closed := make(chan struct{})
	go func() { tap.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a client that never reads")
	}
	select {
	case err := <-wrote:
		if err == nil {
			t.Fatal("the stuck write reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stuck write never ended")
	}
}
