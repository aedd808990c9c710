package flowstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"
)

// waitPacked waits until at least n flows are packed.
func waitPacked(t *testing.T, s *Store, n int) Stats {
	t.Helper()
	return waitStats(t, s, "packed", n, func(st Stats) int { return st.Packed })
}

func TestFinishedFlowsPastTheNewestArePackedAndReadBack(t *testing.T) {
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := s.Subscribe()
	const n = keepWhole + 3*packBatch
	want := make([]*Flow, n)
	for i := range n {
		want[i] = s.Add(spooledFlow(i))
	}
	// One still in progress, older than all of them but the first: it is
	// never packed.
	active := s.Add(&Flow{State: StateActive, Request: &Request{Method: "GET", Host: "slow.test", Path: "/"}})

	st := waitPacked(t, s, n-keepWhole-packBatch)
	if st.Spooled != 0 || st.Flows != n+1 {
		t.Fatalf("a gigabyte budget spooled flows or lost some: %+v", st)
	}
	st = settle(t, s)
	if st.Packed < n-keepWhole-packBatch || st.Packed > n-keepWhole {
		t.Fatalf("%d flows packed of %d finished, want all but the newest %d (give or take a batch)", st.Packed, n, keepWhole)
	}

	// Packed flows read back as they were, bodies byte for byte.
	f, sum, ok := s.Peek(want[0].ID)
	if !ok || f != nil || sum == nil || sum.Flow != nil {
		t.Fatalf("the oldest flow is not packed: flow %v summary %+v", f, sum)
	}
	for _, i := range []int{0, 1, n / 3} {
		got, ok := s.Get(want[i].ID)
		if !ok {
			t.Fatalf("flow %d: Get failed", i)
		}
		if !reflect.DeepEqual(got.Request, want[i].Request) || !bytes.Equal(got.Response.Body.Data, want[i].Response.Body.Data) ||
			got.Seq != want[i].Seq || !got.Timings.End.Equal(want[i].Timings.End) {
			t.Fatalf("flow %d read back differs:\n got %+v\nwant %+v", i, got.Request, want[i].Request)
		}
	}
	if f, _, _ := s.Peek(want[n-1].ID); f == nil {
		t.Fatal("the newest flow was packed")
	}
	if f, _, _ := s.Peek(active.ID); f == nil {
		t.Fatal("a flow in progress was packed")
	}

	// Subscribers are told, with the summary that stays.
	spilled := 0
	events, _ := sub.Drain()
	for _, ev := range events {
		if ev.Kind&EventSpilled != 0 && ev.Summary != nil && ev.Summary.ID == ev.ID {
			spilled++
		}
	}
	if spilled != st.Packed {
		t.Fatalf("%d spill events for %d packed flows", spilled, st.Packed)
	}

	// Changing a packed flow brings it home; it is packed again later.
	if _, ok := s.Update(want[1].ID, func(f *Flow) { f.Comment = "looked at" }); !ok {
		t.Fatal("Update of a packed flow failed")
	}
	if f, _, _ := s.Peek(want[1].ID); f == nil || f.Comment != "looked at" || !bytes.Equal(f.Response.Body.Data, want[1].Response.Body.Data) {
		t.Fatalf("the updated flow is not whole in memory with its change: %+v", f)
	}
	if got := s.Stats().Packed; got != st.Packed-1 {
		t.Fatalf("packed %d after bringing one home, want %d", got, st.Packed-1)
	}
	for i := range keepWhole + packBatch {
		s.Add(spooledFlow(n + i))
	}
	waitPacked(t, s, st.Packed+packBatch)
	settle(t, s)
	if f, _, _ := s.Peek(want[1].ID); f != nil {
		t.Fatal("the updated flow was never packed again")
	}
	if got, _ := s.Get(want[1].ID); got == nil || got.Comment != "looked at" {
		t.Fatalf("the comment did not survive packing: %+v", got)
	}

	// Deleting packed flows gives their memory back.
	before := s.Stats()
	s.Delete(want[2].ID, want[3].ID)
	after := s.Stats()
	if after.Packed != before.Packed-2 || after.Memory >= before.Memory {
		t.Fatalf("delete of two packed flows: before %+v after %+v", before, after)
	}
	if _, ok := s.Get(want[2].ID); ok {
		t.Fatal("a deleted packed flow is still there")
	}
}

func TestPackedFlowsGoToTheSpoolAsTheyAre(t *testing.T) {
	s := NewStore(0)
	dir := t.TempDir()
	if err := s.EnableSpool(SpoolConfig{Dir: dir, Memory: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	// 1 KiB bodies: the newest whole flows fit the 4 MiB share, so memory
	// runs over only once many are packed, and packed records are what the
	// spiller finds oldest.
	const n, size = keepWhole + 32*packBatch, 1024
	sub := s.Subscribe()
	ids := make([]string, n)
	for i := range n {
		ids[i] = s.Add(flowWithBody(i, size)).ID
	}
	st := settle(t, s)
	told := map[string]*Summary{} // what a list would hold
	events, _ := sub.Drain()
	for _, ev := range events {
		if ev.Summary != nil {
			told[ev.ID] = ev.Summary
		}
	}
	if st.Spooled == 0 || st.Packed == 0 || st.Flows != n {
		t.Fatalf("want flows both packed and spooled, none lost: %+v", st)
	}
	check := func(i int, f *Flow) {
		t.Helper()
		if f == nil || !bytes.Equal(f.Response.Body.Data, flowWithBody(i, size).Response.Body.Data) || f.Seq != uint64(i+1) {
			t.Fatalf("flow %d does not read back: %+v", i, f)
		}
	}
	spooled := 0
	for i := range n {
		f, sum, _ := s.Peek(ids[i])
		if f == nil && sum.loc.seg != 0 {
			spooled++
			if told[ids[i]] != sum {
				// A second summary per flow, one in the list and one in the
				// store, would double the memory of a million spooled flows.
				t.Fatalf("flow %d: the store's summary is not the one subscribers were given", i)
			}
		}
		if i%97 == 0 {
			f, _ := s.Get(ids[i])
			check(i, f)
		}
	}
	if spooled != st.Spooled {
		t.Fatalf("%d summaries point into the spool, stats say %d", spooled, st.Spooled)
	}
	// Close forgets what is on disk; packed and whole flows stay readable.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left := s.Stats(); left.Flows != n-st.Spooled {
		t.Fatalf("after Close %d flows, want %d (all but the spooled)", left.Flows, n-st.Spooled)
	}
	s.Each(func(f *Flow) bool {
		check(int(f.Seq-1), f)
		return true
	})
}

func TestClearedFlowsAreFreedThoughQueuedForPacking(t *testing.T) {
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n, size = 3000, 32 << 10
	var ws []weak.Pointer[Flow]
	for i := range n {
		ws = append(ws, weak.Make(s.Add(flowWithBody(i, size))))
	}
	settle(t, s)
	s.Clear() // the newest keepWhole are still in the packing queue
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, w := range ws {
		if w.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Fatalf("%d cleared flows (%d KiB bodies) are still reachable while the store says it holds %d bytes", alive, size>>10, s.Stats().Memory)
	}
}

// Writers adding and finishing flows while others mark, delete, clear and
// read them, with the packer and the spiller at work: every flow is read
// back, the headless printer's Follow sees each finished flow once, and
// the memory accounts match a recount.
func TestPackAndSpillUnderConcurrentChanges(t *testing.T) {
	for _, c := range []struct{ mem, disk int64 }{{32 << 20, 0}, {128 << 20, 0}, {128 << 20, 16 << 20}} {
		t.Run(fmt.Sprintf("memory %s disk %s", FormatSize(c.mem), FormatSize(c.disk)), func(t *testing.T) {
			s := NewStore(0)
			if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: c.mem, Disk: c.disk}); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sub := s.Subscribe()
			ctx, cancel := context.WithCancel(context.Background())
			seen := map[string]int{}
			followed := make(chan struct{})
			go func() {
				defer close(followed)
				sub.Follow(ctx, func(batch []*Flow) {
					for _, f := range batch {
						seen[f.ID]++
					}
				})
			}()

			var mu sync.Mutex
			var ids []string
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						fl := flowWithBody(w*1000000+i, 64+r.IntN(2048))
						fl.State = StateActive
						f := s.Add(fl)
						s.Update(f.ID, func(f *Flow) { f.State = StateDone })
						mu.Lock()
						ids = append(ids, f.ID)
						mu.Unlock()
					}
				})
			}
			for w := range 4 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(100+w), 1))
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						if len(ids) == 0 {
							mu.Unlock()
							continue
						}
						id := ids[r.IntN(len(ids))]
						mu.Unlock()
						switch r.IntN(8) {
						case 0, 1:
							s.Update(id, func(f *Flow) { f.Marked = !f.Marked })
						case 2:
							if r.IntN(50) == 0 {
								s.Delete(id)
							}
						case 3:
							if r.IntN(2000) == 0 {
								s.Clear()
							}
						default:
							if f, ok := s.Get(id); ok && f.ID != id {
								t.Errorf("Get(%s) gave flow %s", id, f.ID)
							}
						}
					}
				})
			}
			time.Sleep(1500 * time.Millisecond)
			close(stop)
			wg.Wait()
			settle(t, s)

			s.mu.Lock()
			var hot int64
			packed, cold := 0, 0
			for _, sl := range s.order[s.head:] {
				if sl.dead {
					continue
				}
				switch {
				case sl.f != nil:
					hot += footprint(sl.f)
				case sl.packed != nil:
					hot += packCost(sl.packed)
					packed++
				default:
					cold++
				}
				if sl.spilling {
					t.Error("a slot was left marked spilling")
				}
			}
			b := &s.budget
			if hot != b.hot || packed != b.packed || cold != b.cold {
				t.Errorf("accounts: memory %d, packed %d, spooled %d; a recount says %d, %d, %d", b.hot, b.packed, b.cold, hot, packed, cold)
			}
			live := make([]string, 0, len(s.byID))
			for id := range s.byID {
				live = append(live, id)
			}
			s.mu.Unlock()
			for _, id := range live {
				if _, ok := s.Get(id); !ok {
					t.Errorf("flow %s cannot be read", id)
				}
			}
			cancel()
			<-followed
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if seen[id] != 1 {
					t.Fatalf("flow %s followed %d times, want once (%d flows)", id, seen[id], len(ids))
				}
			}
		})
	}
}
