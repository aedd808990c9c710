package view_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
)

// bigStore holds n varied flows (as the flow list's benchmarks did, whence
// these two came with the code).
func bigStore(b *testing.B, n int) *flowstore.Store {
	b.Helper()
	s := flowstore.NewStore(0)
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		fs[i] = flowtest.New(
			flowtest.URL(fmt.Sprintf("https://api%d.example.com/v1/items/%d?q=%d", i%50, i, i%13)),
			flowtest.Method(methods[i%4]), flowtest.Status(200+(i%5)*100), flowtest.At(time.Duration(i)*time.Millisecond))
	}
	s.AddAll(fs)
	return s
}

// BenchmarkFilter100k: choosing the shown flows anew under a shallow
// filter, over 100 000 flows in memory.
func BenchmarkFilter100k(b *testing.B) {
	s := bigStore(b, 100_000)
	v := view.New(s, nil)
	f := filter.MustParse("~d api7")
	ctx := context.Background()
	for b.Loop() {
		v.SetFilter(ctx, f)
	}
}

// BenchmarkApplyBatch is one coalesced drain under 2 000 flows/s: about 66
// new flows and 66 updated ones per 33 ms frame, over 100 000 shown flows.
func BenchmarkApplyBatch(b *testing.B) {
	s := bigStore(b, 100_000)
	sub := s.Subscribe()
	v := view.New(s, nil)
	all := s.Summaries()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for j := range 66 {
			s.Add(flowtest.New(flowtest.NoResponse()))
			s.Update(all[(i*66+j)%len(all)].ID, func(f *flowstore.Flow) { f.Comment = "x" })
		}
		evs, _ := sub.Drain()
		b.StartTimer()
		v.Apply(evs)
	}
}
