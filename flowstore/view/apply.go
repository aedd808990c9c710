package view

import (
	"slices"
	"sort"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Apply folds a subscription's drained events into the View: an added
// flow is inserted if it matches, an updated one re-matched and moved if
// its sort key changed, a removed one dropped, and a spooled one's summary
// swapped in for the one that pointed at its snapshot; the counters follow.
// It returns the newest of the added flows now shown (nil for none), for a
// list that follows new flows.
func (v *View) Apply(evs []flowstore.Event) (added *flowstore.Summary) {
	freshen(v.store, evs)
	for _, ev := range evs {
		switch {
		case ev.Kind&flowstore.EventRemoved != 0:
			v.forget(ev.ID)
		case ev.Summary != nil:
			v.noteSpooled(ev) // spooled now, maybe changed since
			v.count(ev.ID, ev.Summary.State, ev.Summary.Marked())
		case ev.Flow != nil:
			v.count(ev.ID, ev.Flow.State, ev.Flow.Marked)
		default:
			v.forget(ev.ID)
		}
	}
	return v.apply(evs)
}

// Upsert shows one fresh snapshot at once, as an update event would: a
// write of the caller's own shows before the store's event comes round.
func (v *View) Upsert(f *flowstore.Flow) {
	v.count(f.ID, f.State, f.Marked)
	v.apply([]flowstore.Event{{ID: f.ID, Kind: flowstore.EventUpdated, Flow: f}})
}

// Remove drops flows by ID at once, as removal events would.
func (v *View) Remove(ids ...string) {
	evs := make([]flowstore.Event, len(ids))
	for i, id := range ids {
		evs[i] = flowstore.Event{ID: id, Kind: flowstore.EventRemoved}
		v.forget(id)
	}
	v.apply(evs)
}

// freshen brings each event up to the store's current state: its latest
// snapshot in memory, or the summary it keeps of a spooled flow (Flow
// then stays the older snapshot the event had, if any, which tells the View
// which item the summary replaces). The events were drained on another
// goroutine a moment ago; since then the owner may have written a newer
// snapshot itself (a mark, a comment), and an older one must not undo it.
// Peek never reads the spool: this runs for every event.
func freshen(s *flowstore.Store, evs []flowstore.Event) {
	for i := range evs {
		ev := &evs[i]
		f, sum, ok := s.Peek(ev.ID)
		switch {
		case !ok:
			// Gone: the event keeps what it had, which tells the View
			// (by its sequence number) which item to drop.
			ev.Kind |= flowstore.EventRemoved
		case f != nil:
			ev.Flow, ev.Summary = f, nil
			ev.Kind &^= flowstore.EventRemoved
		default:
			ev.Summary = sum
			ev.Kind &^= flowstore.EventRemoved
		}
	}
}

// apply folds events, as they are, into the shown flows.
func (v *View) apply(evs []flowstore.Event) (newest *flowstore.Summary) {
	var rm map[*flowstore.Summary]bool
	var ins []*flowstore.Summary
	drop := func(old *flowstore.Summary) {
		if rm == nil {
			rm = map[*flowstore.Summary]bool{}
		}
		rm[old] = true
		v.in.del(old.Seq)
	}
	for _, ev := range evs {
		old := v.Lookup(eventSeq(ev), ev.ID)
		had := old != nil
		s := summaryOf(ev, old)
		if s == nil {
			if had {
				drop(old)
			}
			continue
		}
		// A flow that only moved to the spool shows and matches as before;
		// asking the filter again could read it back from disk.
		want := had
		if ev.Kind != flowstore.EventSpilled || ev.Summary == nil {
			want = v.visible(s)
		}
		switch {
		case had && old == s:
		case had && want && compare(v.order, old, s) == 0:
			if i := v.find(old); i >= 0 {
				v.flows[i] = s
				v.in.set(s)
			}
		case had:
			drop(old)
			if want {
				ins = append(ins, s)
			}
		case want:
			ins = append(ins, s)
		}
		if want && ev.Kind&flowstore.EventAdded != 0 && (newest == nil || s.Seq > newest.Seq) {
			newest = s
		}
	}
	v.remove(rm)
	v.insert(ins)
	return newest
}

// summaryOf is what the View should hold for ev's flow, nil when it is
// gone. old is the summary held now: it stays while it summarises the same
// snapshot, so a caller's cache keyed by it (rendered rows) does too.
func summaryOf(ev flowstore.Event, old *flowstore.Summary) *flowstore.Summary {
	switch {
	case ev.Kind&flowstore.EventRemoved != 0:
		return nil
	case ev.Summary != nil:
		return ev.Summary
	case ev.Flow == nil:
		return nil
	case old != nil && old.Flow == ev.Flow:
		return old
	}
	return flowstore.Summarize(ev.Flow)
}

func (v *View) remove(rm map[*flowstore.Summary]bool) {
	if len(rm) == 0 {
		return
	}
	if len(rm) <= 16 {
		for f := range rm {
			if i := v.find(f); i >= 0 {
				v.flows = slices.Delete(v.flows, i, i+1)
			}
		}
		return
	}
	v.flows = slices.DeleteFunc(v.flows, func(f *flowstore.Summary) bool { return rm[f] })
}

func (v *View) insert(ins []*flowstore.Summary) {
	if len(ins) == 0 {
		return
	}
	o := v.order
	cmpf := func(a, b *flowstore.Summary) int { return compare(o, a, b) }
	for _, f := range ins {
		v.in.set(f)
	}
	slices.SortFunc(ins, cmpf)
	n := len(v.flows)
	switch {
	case n == 0 || cmpf(v.flows[n-1], ins[0]) < 0:
		// The common case: new flows arrive after the ones shown.
		v.flows = append(v.flows, ins...)
	case len(ins) <= 32:
		for _, f := range ins {
			i := sort.Search(len(v.flows), func(i int) bool { return cmpf(v.flows[i], f) >= 0 })
			v.flows = slices.Insert(v.flows, i, f)
		}
	default:
		merged := make([]*flowstore.Summary, 0, n+len(ins))
		a, b := v.flows, ins
		for len(a) > 0 && len(b) > 0 {
			if cmpf(a[0], b[0]) <= 0 {
				merged, a = append(merged, a[0]), a[1:]
			} else {
				merged, b = append(merged, b[0]), b[1:]
			}
		}
		v.flows = append(append(merged, a...), b...)
	}
}
