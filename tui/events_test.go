package tui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// Flows arriving as fast as a producer can add them reach the UI in a few
// coalesced wake-ups, at most one per frame, and none is lost.
func TestWakeUpsAreCoalesced(t *testing.T) {
	s := flowstore.NewStore(0)
	lg := flowstore.NewEventLog(10)
	sub := s.Subscribe()
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const n = 20_000
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	var produced time.Duration
	go func() {
		defer wg.Done()
		for i := range n {
			s.Add(flowtest.New(flowtest.NoResponse()))
			if i%2000 == 0 {
				time.Sleep(5 * time.Millisecond) // bursts, as traffic comes
			}
		}
		produced = time.Since(start)
	}()
	seen := map[string]bool{}
	wakes := 0
	var last time.Time
	for len(seen) < n {
		msg, ok := waitForChanges(ctx, sub, lg, last)().(wakeMsg)
		if !ok {
			t.Fatal("waiter returned no wake-up")
		}
		if wakes > 0 && msg.at.Sub(last) < frame-time.Millisecond {
			t.Fatalf("two wake-ups %v apart, less than a frame", msg.at.Sub(last))
		}
		wakes++
		last = msg.at
		for _, ev := range msg.events {
			seen[ev.ID] = true
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if max := int(elapsed/frame) + 2; wakes > max {
		t.Errorf("%d wake-ups in %v (at most %d expected)", wakes, elapsed, max)
	}
	t.Logf("%d flows in %d wake-ups over %v; the producer took %v", n, wakes, elapsed, produced)
}

// Nothing the UI does (or fails to do) makes a writer wait: with nobody
// draining, adding and updating flows still runs at full speed.
func TestWritersNeverWaitOnTheUI(t *testing.T) {
	s := flowstore.NewStore(0)
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer m.shutdown()
	done := make(chan struct{})
	go func() {
		for i := range 50_000 {
			f := s.Add(flowtest.New(flowtest.NoResponse()))
			s.Update(f.ID, func(f *flowstore.Flow) { f.Comment = fmt.Sprint(i) })
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("writers blocked with an idle UI")
	}
}

func TestEventLogWakes(t *testing.T) {
	s := flowstore.NewStore(0)
	lg := flowstore.NewEventLog(10)
	sub := s.Subscribe()
	defer sub.Close()
	lg.Add(flowstore.LevelError, "proxy", "", "boom")
	msg := waitForChanges(context.Background(), sub, lg, time.Time{})().(wakeMsg)
	if !msg.log || len(msg.events) != 0 {
		t.Fatalf("log wake-up = %+v", msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := waitForChanges(ctx, sub, lg, time.Time{})(); got != nil {
		t.Fatalf("cancelled waiter returned %v", got)
	}
}

// A snapshot drained before the UI changed a flow must not undo that
// change when it arrives.
func TestStaleEventsDoNotUndoUIWrites(t *testing.T) {
	s := flowstore.NewStore(0)
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer m.shutdown()
	f := s.Add(flowtest.New())
	sub := s.Subscribe()
	defer sub.Close()
	s.Update(f.ID, func(f *flowstore.Flow) { f.Marked = true })
	evs, _ := sub.Drain() // drained: marked
	m.updateFlow(f.ID, func(f *flowstore.Flow) { f.Marked = false })
	m.Update(wakeMsg{events: evs, at: time.Now()})
	if m.flows.Counts().Marked != 0 || m.list.Selected().Marked() {
		t.Fatalf("a stale event re-marked the flow: marked=%v", m.flows.Marked())
	}
}
