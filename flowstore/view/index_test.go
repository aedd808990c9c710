package view

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func TestSeqIndex(t *testing.T) {
	sum := func(seq uint64) *flowstore.Summary { return &flowstore.Summary{ID: "f", Seq: seq} }
	var x seqIndex
	for seq := uint64(10); seq < 5000; seq++ {
		x.set(sum(seq))
	}
	x.set(sum(3)) // below the base
	if x.get(3) == nil || x.get(10) == nil || x.get(4999) == nil || x.get(5) != nil || x.get(6000) != nil {
		t.Fatal("lookups wrong after widening downwards")
	}
	// Dropping the oldest trims the front once it is large.
	x.del(3)
	for seq := uint64(10); seq < 3000; seq++ {
		x.del(seq)
	}
	if x.base < 1024 || x.get(3000) == nil || x.get(2999) != nil || x.n != 2000 {
		t.Fatalf("after dropping the oldest: base %d, n %d, len %d", x.base, x.n, len(x.s))
	}
	for seq := uint64(3000); seq < 5000; seq++ {
		x.del(seq)
	}
	if x.n != 0 || len(x.s) != 0 {
		t.Fatalf("empty index holds %d in %d slots", x.n, len(x.s))
	}
	x.rebuild([]*flowstore.Summary{sum(7), sum(2), sum(9)})
	if x.get(2) == nil || x.get(7) == nil || x.get(9) == nil || x.get(8) != nil || x.n != 3 {
		t.Fatal("rebuild")
	}
}

// Rebuilding from flows in any order (a list sorted by size, say) fills
// the index in one pass.
func TestSeqIndexRebuildAnyOrder(t *testing.T) {
	var flows []*flowstore.Summary
	for seq := uint64(50000); seq >= 1; seq-- {
		flows = append(flows, &flowstore.Summary{ID: "f", Seq: seq})
	}
	var x seqIndex
	x.rebuild(flows)
	if x.n != 50000 || x.get(1) == nil || x.get(50000) == nil || len(x.s) != 50000 {
		t.Fatalf("n %d len %d", x.n, len(x.s))
	}
}
