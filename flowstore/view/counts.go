package view

import (
	"slices"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Counts are the numbers a status line shows.
type Counts struct {
	Shown  int // flows the View shows
	Total  int // flows the store holds
	Paused int // flows paused at a breakpoint, shown or not
	Marked int // marked flows, shown or not
}

// Counts counts as of the last events applied.
func (v *View) Counts() Counts {
	return Counts{Shown: len(v.flows), Total: v.store.Len(), Paused: len(v.paused), Marked: len(v.marked)}
}

// Paused is the IDs of the paused flows, in no order. The last events
// applied may be a frame old, so each is asked of the store again first
// (which never reads the spool).
func (v *View) Paused() []string {
	ids := make([]string, 0, len(v.paused))
	for id := range v.paused {
		ids = append(ids, id)
	}
	return slices.DeleteFunc(ids, func(id string) bool {
		switch f, sum, ok := v.store.Peek(id); {
		case !ok:
			v.forget(id)
		case f != nil:
			v.count(id, f.State, f.Marked)
		default:
			v.count(id, sum.State, sum.Marked())
		}
		return !v.paused[id]
	})
}

// PausedAt is the IDs of the flows paused at phase now, in no order.
func (v *View) PausedAt(phase flowstore.Phase) []string {
	var ids []string
	for id := range v.paused {
		if f, _, _ := v.store.Peek(id); f != nil && f.State == flowstore.StatePaused && f.Paused == phase {
			ids = append(ids, id)
		}
	}
	return ids
}

// Marked is the IDs of the marked flows, in no order.
func (v *View) Marked() []string {
	ids := make([]string, 0, len(v.marked))
	for id := range v.marked {
		ids = append(ids, id)
	}
	return ids
}

// LongestPause is how long the flow paused longest has waited at now.
func (v *View) LongestPause(now time.Time) time.Duration {
	var d time.Duration
	for id := range v.paused {
		if f, _, _ := v.store.Peek(id); f != nil && !f.Since.IsZero() {
			d = max(d, now.Sub(f.Since))
		}
	}
	return d
}

// Watch notes flows just resumed at their request: a breakpoint for both
// phases pauses them again at their response, which Repaused counts.
func (v *View) Watch(ids ...string) {
	if v.resumed == nil {
		v.resumed = map[string]bool{}
	}
	for _, id := range ids {
		v.resumed[id] = true
	}
}

// Repaused is how many watched flows have paused again at their response
// since it was last asked; it forgets them, and those that are done.
func (v *View) Repaused() int {
	n := 0
	for id := range v.resumed {
		f, sum, ok := v.store.Peek(id)
		switch {
		case !ok, f == nil && sum.State.Final():
			delete(v.resumed, id)
		case f == nil:
		case f.State == flowstore.StatePaused && f.Paused == flowstore.PhaseResponse:
			n++
			delete(v.resumed, id)
		case f.State.Final():
			delete(v.resumed, id)
		}
	}
	return n
}

// count keeps the paused and marked sets current for a flow in the store.
func (v *View) count(id string, state flowstore.State, marked bool) {
	v.forget(id)
	if state == flowstore.StatePaused {
		v.paused[id] = true
	}
	if marked {
		v.marked[id] = true
	}
}

// forget drops a flow that is gone from the counters.
func (v *View) forget(id string) {
	delete(v.paused, id)
	delete(v.marked, id)
}

func (v *View) recount(all []*flowstore.Summary) {
	clear(v.paused)
	clear(v.marked)
	for _, s := range all {
		v.count(s.ID, s.State, s.Marked())
	}
}
