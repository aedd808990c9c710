package view

import (
	"context"
	"sync/atomic"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// A filter that reads headers or bodies must read spooled flows back from
// disk: a million of them take tens of seconds. That reading runs off the
// owner's goroutine (Pass), and its answers are kept (deepCache) so that
// everything after it — rebuilds for a mark toggle, a clear, a reset —
// asks the disk nothing. A spooled flow's summary never changes while it
// stays spooled, so an answer holds until the flow is spooled again (a
// spill event forgets it) or the filter changes.

// deepCache holds a deep filter's answers for spooled flows, by sequence
// number: two bits a flow.
type deepCache struct {
	known, yes bitset
}

type bitset []uint64

func (b bitset) has(i uint64) bool { return i/64 < uint64(len(b)) && b[i/64]&(1<<(i%64)) != 0 }

func (b *bitset) put(i uint64, v bool) {
	for uint64(len(*b)) <= i/64 {
		*b = append(*b, 0)
	}
	if v {
		(*b)[i/64] |= 1 << (i % 64)
	} else {
		(*b)[i/64] &^= 1 << (i % 64)
	}
}

func (c *deepCache) get(seq uint64) (match, ok bool) {
	if c == nil || !c.known.has(seq) {
		return false, false
	}
	return c.yes.has(seq), true
}

func (c *deepCache) put(seq uint64, match bool) {
	c.known.put(seq, true)
	c.yes.put(seq, match)
}

func (c *deepCache) forget(seq uint64) {
	if c != nil && c.known.has(seq) {
		c.known.put(seq, false)
	}
}

// matcher chooses the flows shown by a filter. A flow in memory is matched
// whole. A spooled one is matched on what its summary keeps when the filter
// looks at nothing else, and else by the pass's answer, or read back from
// the spool: right, but slow over a large spool.
type matcher struct {
	flt     *filter.Filter // nil or empty: every flow
	shallow bool
	deep    *deepCache
	store   *flowstore.Store
}

func newMatcher(f *filter.Filter, s *flowstore.Store) matcher {
	if f.Empty() {
		return matcher{}
	}
	return matcher{flt: f, shallow: f.Shallow(), deep: &deepCache{}, store: s}
}

func (m matcher) ok(s *flowstore.Summary) bool {
	switch {
	case m.flt == nil:
		return true
	case s.Flow != nil:
		return m.flt.Match(s.Flow)
	case !readsSpool(m.shallow, s):
		return m.flt.Match(s.Lite())
	}
	if match, ok := m.deep.get(s.Seq); ok {
		return match
	}
	f, ok := m.store.Get(s.ID)
	match := ok && m.flt.Match(f)
	m.deep.put(s.Seq, match)
	return match
}

// readsSpool reports whether matching a filter (shallow or not) against
// a flow needs the flow read back from the spool.
func readsSpool(shallow bool, s *flowstore.Summary) bool {
	return s.Flow == nil && !(shallow && s.LiteExact())
}

// spooledToRead counts the spooled flows a filter would read back.
func spooledToRead(flt *filter.Filter, all []*flowstore.Summary) int {
	if flt.Empty() {
		return 0
	}
	shallow, n := flt.Shallow(), 0
	for _, s := range all {
		if readsSpool(shallow, s) {
			n++
		}
	}
	return n
}

// pending is what the View keeps of a pass while it runs.
type pending struct {
	gen    uint64
	cancel context.CancelFunc
	read   *atomic.Int64
	total  int
	// Answers learnt meanwhile for flows spooled anew (dirty): the pass
	// may have read them before they changed.
	cache *deepCache
	dirty map[uint64]bool
}

// Pass reads spooled flows back and matches them against a filter. The
// View that made it keeps its rows as they are until the Result comes
// back (Finish). Run it once, on any goroutine.
type Pass struct {
	ctx   context.Context
	gen   uint64
	flt   *filter.Filter
	store *flowstore.Store
	all   []*flowstore.Summary
	read  *atomic.Int64
	Total int // the spooled flows it reads
}

// Result is what a finished pass learnt.
type Result struct {
	gen        uint64
	cache      *deepCache
	Read       int
	Unreadable int // flows that could not be read back
}

// Run reads every spooled flow the filter needs, counting for Progress,
// and returns nil if the View dropped the pass meanwhile.
func (p *Pass) Run() *Result {
	c := &deepCache{}
	r := &Result{gen: p.gen, cache: c}
	shallow := p.flt.Shallow()
	for _, s := range p.all {
		if !readsSpool(shallow, s) {
			continue
		}
		if p.ctx.Err() != nil {
			return nil
		}
		f, ok := p.store.Get(s.ID)
		if !ok {
			if _, _, there := p.store.Peek(s.ID); !there {
				continue // deleted, cleared or evicted meanwhile: no error
			}
			r.Unreadable++
		}
		c.put(s.Seq, ok && p.flt.Match(f))
		r.Read++
		p.read.Add(1)
	}
	return r
}

// SetFilter sets the filter (nil or empty shows all). One that needs
// nothing from the spool takes effect at once, and SetFilter returns nil.
// Else it returns a Pass to run off the caller's goroutine, whose Result
// goes to Finish; the shown flows stay the previous filter's meanwhile.
// A pass still running for an earlier filter is cancelled either way.
func (v *View) SetFilter(ctx context.Context, f *filter.Filter) *Pass {
	v.flt = f
	v.gen++
	v.stopPass()
	all := v.store.Summaries()
	if n := spooledToRead(f, all); n > 0 {
		ctx, cancel := context.WithCancel(ctx)
		v.next = &pending{gen: v.gen, cancel: cancel, read: &atomic.Int64{}, total: n,
			cache: &deepCache{}, dirty: map[uint64]bool{}}
		return &Pass{ctx: ctx, gen: v.gen, flt: f, store: v.store, all: all, read: v.next.read, Total: n}
	}
	v.match = newMatcher(f, v.store)
	v.rebuild(all)
	return nil
}

// Finish applies a finished pass and rebuilds the shown flows, unless the
// filter changed since (then it reports false and changes nothing).
func (v *View) Finish(r *Result) bool {
	p := v.next
	if r == nil || p == nil || r.gen != v.gen || p.gen != r.gen {
		return false
	}
	// Flows spooled anew while the pass ran may have changed since it read
	// them: what was learnt of them meanwhile wins, or nothing is known.
	for seq := range p.dirty {
		if match, ok := p.cache.get(seq); ok {
			r.cache.put(seq, match)
		} else {
			r.cache.forget(seq)
		}
	}
	v.stopPass()
	v.match = newMatcher(v.flt, v.store)
	v.match.deep = r.cache
	v.rebuild(v.store.Summaries())
	return true
}

// Progress is how far the running pass has read, of how many; 0 of 0 when
// none runs.
func (v *View) Progress() (read, total int) {
	if v.next == nil {
		return 0, 0
	}
	return int(v.next.read.Load()), v.next.total
}

func (v *View) stopPass() {
	if v.next != nil {
		v.next.cancel()
		v.next = nil
	}
}

// noteSpooled keeps the deep filter's answers right for a flow that is now
// spooled: the snapshot that went to the spool is usually still at hand in
// the event, and matching it now spares a read from disk later (a mark
// toggle or a clear rebuilds the whole list). While a pass runs, the
// answer is for its filter.
func (v *View) noteSpooled(ev flowstore.Event) {
	if v.flt.Empty() {
		return
	}
	c := v.match.deep
	if v.next != nil {
		c = v.next.cache
		v.next.dirty[ev.Summary.Seq] = true
	}
	if c == nil {
		return
	}
	if ev.Flow != nil {
		c.put(ev.Summary.Seq, v.flt.Match(ev.Flow))
	} else {
		c.forget(ev.Summary.Seq)
	}
}
