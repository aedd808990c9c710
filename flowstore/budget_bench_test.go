package flowstore

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rss is the process's resident set size in bytes (Linux), 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// BenchmarkSpoolMemory puts b.N finished flows with 10 KiB response bodies
// through a store with a 512 MiB budget, with a subscriber that keeps a
// summary per flow the way the TUI's list does, samples RSS all along, and
// at the end opens the first flow and checks its body. Run it with a
// million flows:
//
//	go test -run XXX -bench SpoolMemory -benchtime 1000000x ./flowstore/
func BenchmarkSpoolMemory(b *testing.B) {
	const budget = 512 << 20
	debug.SetMemoryLimit(budget * 9 / 10) // as the program sets it
	defer debug.SetMemoryLimit(-1)
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: b.TempDir(), Memory: budget}); err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	// The list, as the TUI's: a summary per flow indexed by sequence
	// number, swapped for the bare summary when a flow is spooled.
	sub := s.Subscribe()
	stopList := make(chan struct{})
	listDone := make(chan int)
	go func() {
		var rows []*Summary // rows[seq-1]
		n := 0
		drain := func() {
			evs, _ := sub.Drain()
			for _, ev := range evs {
				var x *Summary
				switch {
				case ev.Summary != nil:
					x = ev.Summary
				case ev.Flow != nil:
					x = Summarize(ev.Flow)
				default:
					continue
				}
				for uint64(len(rows)) < x.Seq {
					rows = append(rows, nil)
				}
				if rows[x.Seq-1] == nil {
					n++
				}
				rows[x.Seq-1] = x
			}
		}
		for {
			select {
			case <-sub.C:
				drain()
			case <-stopList:
				drain()
				listDone <- n
				return
			}
		}
	}()

	var peak, peakMem atomic.Int64
	stopRSS := make(chan struct{})
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rss(); r > peak.Load() {
				peak.Store(r)
			}
			if m := s.Stats().Memory; m > peakMem.Load() {
				peakMem.Store(m)
			}
			select {
			case <-t.C:
			case <-stopRSS:
				return
			}
		}
	}()

	first := ""
	b.ResetTimer()
	for i := range b.N {
		f := spooledFlow(i)
		s.Add(f)
		if i == 0 {
			first = f.ID
		}
	}
	b.StopTimer()
	settle(b, s)
	close(stopList)
	listed := <-listDone
	runtime.GC()
	close(stopRSS)

	g, ok := s.Get(first)
	if !ok || !bytes.Equal(g.Response.Body.Data, spooledFlow(0).Response.Body.Data) {
		b.Fatal("the first flow cannot be opened whole")
	}
	st := s.Stats()
	if listed != b.N || st.Flows != b.N {
		b.Fatalf("list holds %d, store %d, want %d (evicted %d)", listed, st.Flows, b.N, st.Evicted)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(ms.HeapAlloc)/float64(b.N), "heap-B/flow")
	b.ReportMetric(float64(st.Spooled)/float64(b.N)*100, "%spooled")
	b.ReportMetric(float64(st.Spool)/(1<<20), "spool-MiB")
	b.ReportMetric(float64(peakMem.Load())/(1<<20), "peak-est-MiB")
}
