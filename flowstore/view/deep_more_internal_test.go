package view

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The deep filter's pass, moved here from the TUI with the code: the same
// cases, asked of the View instead of the root model.

var pad = strings.Repeat(".", 10<<10)

func spoolStore(t testing.TB) *flowstore.Store {
	s := flowstore.NewStore(0)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addFlows(s *flowstore.Store, from, n int, text string) []*flowstore.Flow {
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		fs[i] = flowtest.New(flowtest.URL(fmt.Sprintf("https://api.example.com/item/%d", from+i)),
			flowtest.RespBody("text/plain", []byte(text+"\n"+pad)))
	}
	s.AddAll(fs)
	return fs
}

func waitSpooled(t testing.TB, s *flowstore.Store, id string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, _, ok := s.Peek(id); ok && f == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow %s not spooled: %+v", id, s.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// spooledView is a View over 2 000 flows, the first of them spooled, and
// a subscription its events come from.
func spooledView(t testing.TB) (*View, *flowstore.Store, *flowstore.Subscription, []*flowstore.Flow) {
	s := spoolStore(t)
	fs := addFlows(s, 0, 2000, "x")
	waitSpooled(t, s, fs[0].ID)
	sub := s.Subscribe()
	t.Cleanup(sub.Close)
	return New(s, nil), s, sub, fs
}

func drainInto(v *View, sub *flowstore.Subscription) {
	evs, _ := sub.Drain()
	v.Apply(evs)
}

// mark marks a flow as the TUI does: in the store, shown at once.
func mark(v *View, s *flowstore.Store, id string) {
	f, _ := s.Update(id, func(f *flowstore.Flow) { f.Marked = true })
	v.Upsert(f)
}

// A deep filter's pass is cancelled by a shallow filter or a clear; its
// progress goes with it.
func TestDeepPassProgressGoesWithCancel(t *testing.T) {
	v, _, _, _ := spooledView(t)
	ctx := context.Background()
	if p := v.SetFilter(ctx, filter.MustParse("~bs needle")); p == nil { // pass starts (not run here)
		t.Fatal("control: no pass")
	}
	_ = v.SetFilter(ctx, filter.MustParse("")) // user clears the filter
	if read, total := v.Progress(); total != 0 {
		t.Fatalf("after the pass was cancelled the progress is still %d of %d", read, total)
	}
}

// A clear during a pass is no error: flows that are gone are not
// unreadable.
func TestDeepPassClearIsNoError(t *testing.T) {
	v, s, _, _ := spooledView(t)
	p := v.SetFilter(context.Background(), filter.MustParse("~bs needle"))
	s.Clear()
	v.Rebuild()
	r := p.Run()
	if !v.Finish(r) {
		t.Fatal("control: the pass was not applied")
	}
	if r.Unreadable > 0 {
		t.Fatalf("cleared flows reported as unreadable: %d", r.Unreadable)
	}
}

// A flow the pass read, then marked (brought home) and spooled again before
// the pass ended, is judged as it is now, not by the pass's answer.
func TestDeepPassAnswerForAFlowChangedMeanwhile(t *testing.T) {
	v, s, sub, fs := spooledView(t)
	x := fs[0].ID
	p := v.SetFilter(context.Background(), filter.MustParse("~marked | ~bs needle"))
	r := p.Run()                // the pass reads x now, unmarked
	mark(v, s, x)               // brings x home, marked
	addFlows(s, 2000, 300, "y") // traffic: x is spooled again
	waitSpooled(t, s, x)
	drainInto(v, sub)
	v.Finish(r)
	for _, sm := range v.Flows() {
		if sm.ID == x {
			return
		}
	}
	t.Fatalf("marked flow %s is hidden by filter ~marked|… (View has %d flows)", x, v.Len())
}

// Flows spooled after a deep filter took effect get their answers from the
// snapshot that went to the spool, so the next rebuild (M, a clear, a
// reset) reads nothing back on the owner's goroutine.
func TestDeepFilterKnowsFlowsSpooledLater(t *testing.T) {
	s := spoolStore(t)
	sub := s.Subscribe()
	defer sub.Close()
	v := New(s, nil)
	if p := v.SetFilter(context.Background(), filter.MustParse("~bs needle")); p != nil { // nothing spooled: no pass
		t.Fatal("a pass over an empty spool")
	}
	const n = 20000
	fs := addFlows(s, 0, n, "x")
	drainInto(v, sub) // the View sees the flows while they are in memory
	waitSpooled(t, s, fs[n/2].ID)
	// Hand the View the spill events, as its owner's wake-ups would, until
	// the spiller has finished: on a loaded machine it can rest longer
	// than any fixed pause, so the test waits for the cache, not for a
	// quiet moment. A cache that spill events do not fill never catches up.
	miss := 0
	for deadline := time.Now().Add(20 * time.Second); ; {
		time.Sleep(100 * time.Millisecond)
		drainInto(v, sub)
		miss = 0
		for _, sm := range s.Summaries() {
			if sm.Flow == nil {
				if _, ok := v.match.deep.get(sm.Seq); !ok {
					miss++
				}
			}
		}
		if miss == 0 || time.Now().After(deadline) {
			break
		}
	}
	t0 := time.Now()
	v.SetMarkedOnly(true)
	v.SetMarkedOnly(false)
	t.Logf("spooled flows unknown to the cache: %d; M M took %v", miss, time.Since(t0))
	if miss > 0 {
		t.Fatalf("%d spooled flows will be read back synchronously by the next rebuild", miss)
	}
}

// A flow marked and spooled again before the pass starts shows.
func TestDeepPassAfterAMark(t *testing.T) {
	v, s, sub, fs := spooledView(t)
	x := fs[0].ID
	mark(v, s, x)
	addFlows(s, 2000, 300, "y")
	waitSpooled(t, s, x)
	drainInto(v, sub)
	if p := v.SetFilter(context.Background(), filter.MustParse("~marked | ~bs needle")); p != nil {
		v.Finish(p.Run())
	}
	if v.Len() != 1 {
		t.Fatalf("control: View has %d", v.Len())
	}
}
