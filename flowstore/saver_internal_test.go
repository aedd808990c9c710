package flowstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flakyWriter fails while full is set, as a disk that fills and frees.
type flakyWriter struct {
	full           atomic.Bool
	tries, written atomic.Int32
}

func (w *flakyWriter) Write(p []byte) (int, error) {
	defer w.tries.Add(1)
	if w.full.Load() {
		return 0, errors.New("no space left on device")
	}
	w.written.Add(1)
	return len(p), nil
}

// The log says when writing fails, once, and when it works again.
func TestFileSaverSaysWhenWritingWorksAgain(t *testing.T) {
	store := NewStore(0)
	log := NewEventLog(10)
	s := OpenFileSaver(store, filepath.Join(t.TempDir(), "f.jsonl"), nil, log)
	w := &flakyWriter{}
	s.saver = NewSaver(w) // before Run: nothing reads it yet
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for i, full := range []bool{false, true, true, false, false, true, false} {
		w.full.Store(full)
		store.Add(flowWithBody(i, 1))
		deadline := time.Now().Add(5 * time.Second)
		for w.tries.Load() != int32(i+1) {
			if time.Now().After(deadline) {
				t.Fatalf("flow %d was never written", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	<-done
	var msgs []string
	for _, e := range log.Entries() {
		msgs = append(msgs, e.Level.String()+": "+e.Msg)
	}
	got := strings.Join(msgs, "\n")
	if strings.Count(got, "cannot write") != 2 || strings.Count(got, "works again") != 2 || w.written.Load() != 4 {
		t.Fatalf("wrote %d of 7, logged:\n%s", w.written.Load(), got)
	}
}

// A follower that falls too far behind says how many flows it dropped,
// and what that means for them.
func TestFollowersSayWhatTheyLost(t *testing.T) {
	defer func(n int) { maxPending = n }(maxPending)
	maxPending = 10
	store := NewStore(0)
	log := NewEventLog(10)
	s := OpenFileSaver(store, filepath.Join(t.TempDir(), "f.jsonl"), nil, log)
	p := NewPrinter(store, new(strings.Builder), nil, log)
	for i := range 25 { // nobody drains meanwhile: a stalled disk and pipe
		store.Add(flowWithBody(i, 1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx)
	p.Run(ctx)
	var msgs []string
	for _, e := range log.Entries() {
		msgs = append(msgs, e.Level.String()+" "+e.Source+": "+e.Msg)
	}
	got := strings.Join(msgs, "\n")
	if !strings.Contains(got, "error save: 22 finished flows were not saved") || !strings.Contains(got, "warn headless: 22 finished flows were not printed") {
		t.Fatalf("logged:\n%s", got)
	}
}
