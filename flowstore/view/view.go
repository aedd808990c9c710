package view

import (
	"context"
	"slices"
	"sort"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// View is a filtered, ordered, counted window onto a store.
type View struct {
	store *flowstore.Store

	flows []*flowstore.Summary // shown, sorted by compare(order, …)
	in    seqIndex             // the summary of each flow in flows, by sequence number

	flt   *filter.Filter // the filter asked for last
	match matcher        // what the shown flows were chosen by: flt, once its pass is done
	only  bool           // marked only
	gen   uint64         // of the filter: a pass for an older one is stale
	next  *pending       // the pass for flt, while it runs

	order   Order
	reverse bool

	paused, marked map[string]bool
	resumed        map[string]bool // watched until done or paused again

	selSum  *flowstore.Summary // the spooled flow Flow read back last,
	selFlow *flowstore.Flow    // and what it read
}

// New returns a View of every flow in s that f lets through (nil for all),
// in arrival order. It matches spooled flows now, reading them back if f
// needs more than their summaries: a deep filter over a large spool is
// better set later with SetFilter, whose pass runs elsewhere.
func New(s *flowstore.Store, f *filter.Filter) *View {
	v := &View{store: s, flt: f, match: newMatcher(f, s), paused: map[string]bool{}, marked: map[string]bool{}}
	v.Rebuild()
	return v
}

// Len is the number of flows shown.
func (v *View) Len() int { return len(v.flows) }

// At is the flow shown at position i, counted in display order (reversed
// when the order is).
func (v *View) At(i int) *flowstore.Summary {
	if v.reverse {
		return v.flows[len(v.flows)-1-i]
	}
	return v.flows[i]
}

// Index is the display position of a summary the View holds, or -1.
func (v *View) Index(s *flowstore.Summary) int {
	i := v.find(s)
	if i >= 0 && v.reverse {
		return len(v.flows) - 1 - i
	}
	return i
}

// Flows returns the summaries of the shown flows in display order (a copy).
func (v *View) Flows() []*flowstore.Summary {
	out := make([]*flowstore.Summary, len(v.flows))
	for i := range out {
		out[i] = v.At(i)
	}
	return out
}

// Lookup finds the shown summary of a flow by sequence number, or by ID
// (scanning) when seq is 0 or the flow is not from a store; nil when the
// flow is not shown.
func (v *View) Lookup(seq uint64, id string) *flowstore.Summary {
	if seq != 0 {
		if f := v.in.get(seq); f != nil && f.ID == id {
			return f
		}
		return nil
	}
	for _, f := range v.flows {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Newest is the shown flow that arrived last, nil when none is shown.
func (v *View) Newest() *flowstore.Summary {
	if len(v.flows) == 0 {
		return nil
	}
	if v.order == OrderTime {
		return v.flows[len(v.flows)-1]
	}
	best := v.flows[0]
	for _, f := range v.flows[1:] {
		if f.Seq > best.Seq {
			best = f
		}
	}
	return best
}

// Order reports the order and whether it is reversed.
func (v *View) Order() (Order, bool) { return v.order, v.reverse }

// SetOrder sorts the shown flows by o, reversed or not.
func (v *View) SetOrder(o Order, reverse bool) {
	if o != v.order {
		v.order = o
		slices.SortFunc(v.flows, func(a, b *flowstore.Summary) int { return compare(o, a, b) })
	}
	v.reverse = reverse
}

// MarkedOnly reports whether only marked flows are shown.
func (v *View) MarkedOnly() bool { return v.only }

// SetMarkedOnly shows only marked flows, or all again, rebuilt from the
// store.
func (v *View) SetMarkedOnly(on bool) {
	v.only = on
	v.rebuild(v.store.Summaries())
}

// Filter is the filter asked for last; while its pass runs, the flows
// shown are still the previous filter's.
func (v *View) Filter() *filter.Filter { return v.flt }

// Rebuild re-reads the store: the counters and the shown flows, at once
// (spooled flows the filter has no answer for are read back now).
func (v *View) Rebuild() {
	all := v.store.Summaries()
	v.recount(all)
	v.rebuild(all)
}

// Resync re-reads the store after a subscription dropped events: like
// Rebuild, except that under a filter that must read spooled flows it
// starts a Pass instead (answers may be stale and missing, and reading
// them here would block the caller) and keeps the shown flows meanwhile.
func (v *View) Resync(ctx context.Context) *Pass {
	all := v.store.Summaries()
	v.recount(all)
	if !v.flt.Empty() && spooledToRead(v.flt, all) > 0 {
		return v.SetFilter(ctx, v.flt)
	}
	v.rebuild(all)
	return nil
}

func (v *View) visible(s *flowstore.Summary) bool {
	if v.only && !s.Marked() {
		return false
	}
	return v.match.ok(s)
}

// rebuild chooses the shown flows from all, the store's summaries in
// arrival order.
func (v *View) rebuild(all []*flowstore.Summary) {
	flows := make([]*flowstore.Summary, 0, len(all))
	for _, f := range all {
		if v.visible(f) {
			flows = append(flows, f)
		}
	}
	if v.order != OrderTime {
		o := v.order
		slices.SortFunc(flows, func(a, b *flowstore.Summary) int { return compare(o, a, b) })
	}
	v.flows = flows
	v.in.rebuild(flows)
}

// find is the index in flows of summary f, or -1.
func (v *View) find(f *flowstore.Summary) int {
	o := v.order
	i := sort.Search(len(v.flows), func(i int) bool { return compare(o, v.flows[i], f) >= 0 })
	if i < len(v.flows) && v.flows[i] == f {
		return i
	}
	return -1
}

// Flow is the whole flow a shown summary stands for, nil when s is nil or
// the store no longer holds it. A caller asks every frame for the flow
// under its cursor, so a spooled one is read back once and kept while the
// same summary is asked for.
func (v *View) Flow(s *flowstore.Summary) *flowstore.Flow {
	switch {
	case s == nil:
		return nil
	case s.Flow != nil:
		return s.Flow
	case v.selSum != s:
		v.selSum, v.selFlow = s, nil
		if f, ok := v.store.Get(s.ID); ok {
			v.selFlow = f
		}
	case v.selFlow != nil:
		// The summary outlives its flow by a frame when the store evicts
		// it; the kept copy must not.
		if _, _, ok := v.store.Peek(s.ID); !ok {
			v.selFlow = nil
		}
	}
	return v.selFlow
}
