package view

import "github.com/interceptor-tui/interceptor-tui/flowstore"

// seqIndex finds a shown flow's summary by its sequence number. It is a
// slice over the range of sequence numbers shown: 8 bytes a flow, where a
// map by ID took five times that, which counts with a million flows in a
// day-long session under a memory budget.
type seqIndex struct {
	base uint64 // sequence number of s[0]
	s    []*flowstore.Summary
	n    int // non-nil entries
}

func (x *seqIndex) get(seq uint64) *flowstore.Summary {
	if seq < x.base || seq-x.base >= uint64(len(x.s)) {
		return nil
	}
	return x.s[seq-x.base]
}

func (x *seqIndex) set(f *flowstore.Summary) {
	switch {
	case f.Seq == 0:
		return // not from a store: found by ID instead (findID)
	case x.n == 0:
		x.base, x.s = f.Seq, x.s[:0]
	case f.Seq < x.base:
		// Rare (a flow from before the oldest shown, say an old flow that
		// now matches the filter): widen downwards.
		grown := make([]*flowstore.Summary, x.base-f.Seq+uint64(len(x.s)))
		copy(grown[x.base-f.Seq:], x.s)
		x.base, x.s = f.Seq, grown
	}
	i := f.Seq - x.base
	for uint64(len(x.s)) <= i {
		x.s = append(x.s, nil)
	}
	if x.s[i] == nil {
		x.n++
	}
	x.s[i] = f
}

func (x *seqIndex) del(seq uint64) {
	if x.get(seq) == nil {
		return
	}
	x.s[seq-x.base] = nil
	x.n--
	// Old flows go first (eviction, spooling past the disk budget): trim
	// the empty front, and copy once it holds a large dead part.
	k := 0
	for k < len(x.s) && x.s[k] == nil {
		k++
	}
	if k == len(x.s) {
		x.base, x.s, x.n = 0, nil, 0
		return
	}
	if k >= 1024 && k >= len(x.s)/4 {
		x.s = append([]*flowstore.Summary(nil), x.s[k:]...)
		x.base += uint64(k)
	}
}

func (x *seqIndex) rebuild(flows []*flowstore.Summary) {
	*x = seqIndex{}
	if len(flows) == 0 {
		return
	}
	lo, hi := flows[0].Seq, flows[0].Seq
	for _, f := range flows {
		lo, hi = min(lo, f.Seq), max(hi, f.Seq)
	}
	if lo == 0 {
		lo = 1
	}
	if hi < lo {
		return
	}
	// Filled directly: flows may be in any order, and set's widening
	// downwards would copy the slice for each new lowest one.
	x.base, x.s = lo, make([]*flowstore.Summary, hi-lo+1)
	for _, f := range flows {
		if f.Seq != 0 && x.s[f.Seq-lo] == nil {
			x.s[f.Seq-lo] = f
			x.n++
		}
	}
}

// eventSeq is the sequence number of an event's flow, 0 when the event
// does not say (a removal made from IDs alone).
func eventSeq(ev flowstore.Event) uint64 {
	switch {
	case ev.Summary != nil:
		return ev.Summary.Seq
	case ev.Flow != nil:
		return ev.Flow.Seq
	}
	return 0
}
