package view_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
)

// fill adds n flows with paths /0, /1, ... to a store.
func fill(s *flowstore.Store, n int, opts ...flowtest.Option) []*flowstore.Flow {
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		o := append([]flowtest.Option{flowtest.URL(fmt.Sprintf("http://h%d.test/%d", i%7, i)), flowtest.At(time.Duration(i) * time.Second)}, opts...)
		fs[i] = flowtest.New(o...)
	}
	s.AddAll(fs)
	return fs
}

func paths(v *view.View) string {
	var out []string
	for _, f := range v.Flows() {
		out = append(out, f.Path)
	}
	return strings.Join(out, " ")
}

func TestApplyIncremental(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	v := view.New(s, filter.MustParse(`!~u 3$`))

	fs := fill(s, 5)
	evs, _ := sub.Drain()
	v.Apply(evs)
	if got := paths(v); got != "/0 /1 /2 /4" {
		t.Fatalf("after add: %q", got)
	}
	// An update that makes a flow stop matching drops it; one that makes
	// another match adds it in order.
	s.Update(fs[1].ID, func(f *flowstore.Flow) { f.Request.Path = "/13" })
	s.Update(fs[3].ID, func(f *flowstore.Flow) { f.Request.Path = "/3x" })
	s.Delete(fs[4].ID)
	evs, _ = sub.Drain()
	v.Apply(evs)
	if got := paths(v); got != "/0 /2 /3x" {
		t.Fatalf("after update/delete: %q", got)
	}
	if c := v.Counts(); c.Shown != 3 || c.Total != 4 {
		t.Fatalf("counts %+v", c)
	}
}

// Apply reports the newest flow it added that is shown, for a list that
// follows new flows.
func TestApplyReportsTheNewestAdded(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	v := view.New(s, filter.MustParse(`!~u 3$`))
	fill(s, 4) // /3 is not shown
	evs, _ := sub.Drain()
	if got := v.Apply(evs); got == nil || got.Path != "/2" {
		t.Fatalf("newest added: %+v", got)
	}
	s.Update(v.At(0).ID, func(f *flowstore.Flow) { f.Comment = "x" })
	evs, _ = sub.Drain()
	if got := v.Apply(evs); got != nil {
		t.Fatalf("an update reported %+v as added", got)
	}
}

func TestOrderAndReverse(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := fill(s, 4)
	v := view.New(s, nil)
	v.SetOrder(view.OrderStatus, false)
	s.Update(fs[0].ID, func(f *flowstore.Flow) { f.Response.Status = 500 })
	g, _ := s.Update(fs[3].ID, func(f *flowstore.Flow) { f.Response.Status = 100 })
	v.Rebuild()
	if got := paths(v); got != "/3 /1 /2 /0" {
		t.Fatalf("by status: %q", got)
	}
	v.SetOrder(view.OrderStatus, true)
	if got := paths(v); got != "/0 /2 /1 /3" {
		t.Fatalf("reversed: %q", got)
	}
	held := v.Lookup(g.Seq, g.ID)
	if i := v.Index(held); i != 3 || v.At(i) != held {
		t.Fatalf("the reversed position of /3 is %d", i)
	}
	if n := v.Newest(); n == nil || n.Path != "/3" {
		t.Fatalf("newest %+v", n)
	}
}

func TestSameSnapshotKeepsItsSummary(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := fill(s, 2)
	v := view.New(s, nil)
	held := v.Flows()[1]
	v.Upsert(fs[1])
	if v.Flows()[1] != held {
		t.Fatal("the same snapshot was summarised again")
	}
	g, _ := s.Update(fs[1].ID, func(f *flowstore.Flow) { f.Marked = true })
	v.Upsert(g)
	if got := v.Flows()[1]; got == held || got.Flow != g || !got.Marked() {
		t.Fatalf("a new snapshot kept the old summary: %+v", got)
	}
	if c := v.Counts(); c.Marked != 1 {
		t.Fatalf("marked %d", c.Marked)
	}
}

// A snapshot drained before the owner changed a flow must not undo that
// change when it arrives, in the rows or in the counters.
func TestStaleEventsDoNotUndoWrites(t *testing.T) {
	s := flowstore.NewStore(0)
	v := view.New(s, nil)
	f := s.Add(flowtest.New())
	sub := s.Subscribe()
	defer sub.Close()
	s.Update(f.ID, func(f *flowstore.Flow) { f.Marked = true })
	evs, _ := sub.Drain() // drained: marked
	g, _ := s.Update(f.ID, func(f *flowstore.Flow) { f.Marked = false })
	v.Upsert(g)
	v.Apply(evs)
	if v.Counts().Marked != 0 || v.At(0).Marked() {
		t.Fatalf("a stale event re-marked the flow: marked=%v", v.Marked())
	}
}

func TestCounters(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	defer sub.Close()
	now := time.Date(2026, 1, 2, 16, 0, 0, 0, time.UTC)
	p := flowtest.New(flowtest.NoResponse())
	p.State, p.Paused, p.Since = flowstore.StatePaused, flowstore.PhaseRequest, now.Add(-7*time.Second)
	q := flowtest.New(flowtest.Marked())
	s.AddAll([]*flowstore.Flow{p, q})
	v := view.New(s, filter.MustParse("~marked"))
	if c := v.Counts(); c != (view.Counts{Shown: 1, Total: 2, Paused: 1, Marked: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if got := v.PausedAt(flowstore.PhaseRequest); len(got) != 1 || got[0] != p.ID {
		t.Fatalf("paused at the request: %v", got)
	}
	if got := v.PausedAt(flowstore.PhaseResponse); len(got) != 0 {
		t.Fatalf("paused at the response: %v", got)
	}
	if d := v.LongestPause(now); d != 7*time.Second {
		t.Fatalf("longest pause %v", d)
	}
	// Resumed and finished, with no event applied yet: Paused asks the
	// store again.
	s.Update(p.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
	if got := v.Paused(); len(got) != 0 || v.Counts().Paused != 0 {
		t.Fatalf("paused after the flow finished: %v", got)
	}
	s.Delete(q.ID)
	evs, _ := sub.Drain()
	v.Apply(evs)
	if c := v.Counts(); c != (view.Counts{Shown: 0, Total: 1}) {
		t.Fatalf("counts after a delete %+v", c)
	}
}

func TestMarkedOnly(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := fill(s, 3)
	v := view.New(s, nil)
	g, _ := s.Update(fs[1].ID, func(f *flowstore.Flow) { f.Marked = true })
	v.Upsert(g)
	v.SetMarkedOnly(true)
	if got := paths(v); got != "/1" || !v.MarkedOnly() {
		t.Fatalf("marked only: %q", got)
	}
	v.SetMarkedOnly(false)
	if got := paths(v); got != "/0 /1 /2" {
		t.Fatalf("all again: %q", got)
	}
}

func TestShallowFilterTakesEffectAtOnce(t *testing.T) {
	s := flowstore.NewStore(0)
	fill(s, 10)
	v := view.New(s, nil)
	if p := v.SetFilter(context.Background(), filter.MustParse("~d h3")); p != nil {
		t.Fatal("a pass with nothing spooled")
	}
	if got := paths(v); got != "/3" || v.Filter().String() != "~d h3" {
		t.Fatalf("filtered: %q by %q", got, v.Filter())
	}
	if read, total := v.Progress(); read != 0 || total != 0 {
		t.Fatalf("progress %d of %d without a pass", read, total)
	}
}

// A spooled flow under the cursor is read back once, not every frame, and
// let go once the store no longer holds it.
func TestFlowReadsASpooledFlowOnce(t *testing.T) {
	s := flowstore.NewStore(0)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	body := []byte(strings.Repeat("x", 10<<10))
	fs := fill(s, 2000, flowtest.RespBody("text/plain", body))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, _, _ := s.Peek(fs[0].ID); f == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not spooled")
		}
		time.Sleep(2 * time.Millisecond)
	}
	v := view.New(s, nil)
	sum := v.At(0)
	if sum.Flow != nil {
		t.Fatal("control: /0 is in memory")
	}
	f := v.Flow(sum)
	if f == nil || f.ID != fs[0].ID || v.Flow(sum) != f {
		t.Fatalf("read back %p, then %p", f, v.Flow(sum))
	}
	if v.Flow(v.At(1999)) != fs[1999] {
		t.Fatal("a flow in memory is its snapshot")
	}
	if v.Flow(nil) != nil {
		t.Fatal("no summary, no flow")
	}
	s.Delete(fs[0].ID)
	if got := v.Flow(sum); got != nil {
		t.Fatalf("a flow the store let go is still given: %p", got)
	}
}

// A flow resumed at its request that pauses again at its response is
// counted once; one that finishes is forgotten.
func TestRepaused(t *testing.T) {
	s := flowstore.NewStore(0)
	a, b := flowtest.New(flowtest.NoResponse()), flowtest.New(flowtest.NoResponse())
	s.AddAll([]*flowstore.Flow{a, b})
	v := view.New(s, nil)
	if v.Repaused() != 0 {
		t.Fatal("nothing is watched")
	}
	v.Watch(a.ID, b.ID)
	s.Update(a.ID, func(f *flowstore.Flow) { f.State, f.Paused = flowstore.StatePaused, flowstore.PhaseResponse })
	s.Update(b.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
	if n := v.Repaused(); n != 1 {
		t.Fatalf("repaused %d, want 1", n)
	}
	if n := v.Repaused(); n != 0 {
		t.Fatalf("counted again: %d", n)
	}
}
