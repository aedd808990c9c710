package flowstore

import (
	"fmt"
	"sync/atomic"
	"time"
)

// SpoolConfig bounds the memory a store's flows take. Past the memory
// share for whole flows, the oldest finished ones move to a spool on disk
// and only their summaries stay in memory; past the disk budget the oldest
// spooled flows are evicted, with a notice.
type SpoolConfig struct {
	// Dir is where the spool's private directory is made ("" for the
	// system's temporary directory). It is deleted by Store.Close.
	Dir string
	// Memory is the budget for the whole process, in bytes. A sixteenth of
	// it holds whole flows (half as much again while the spool catches up);
	// summaries of spooled flows may take most of the rest; a quarter is
	// left to everything else and to the garbage collector's headroom. When
	// the store's flow count is bounded, the share for summaries shrinks to
	// what that many need and whole flows get the rest.
	Memory int64
	// Disk bounds the spool's size in bytes; 0 means no bound.
	Disk int64
	// Notify is told about evictions and spool errors. It may be called
	// with the store locked and must not call back into the store.
	Notify func(msg string)
}

// MinMemoryBudget is the smallest budget EnableSpool takes: below it the
// shares for whole flows and for summaries leave nothing for either.
const MinMemoryBudget = 16 << 20

// summaryCost is what a spooled flow costs in memory, the summary and the
// indexes of the store and of a list that shows it, measured on 1 000 000
// spooled flows (BenchmarkSpoolMemory). It sets how many summaries fit.
const summaryCost = 320

// budget is the store's accounting of memory and its spool; all fields are
// guarded by the store's lock unless noted.
type budget struct {
	sp      *spool // nil: no spooling
	memory  int64
	disk    int64
	hotMax  int64
	coldMax int
	hot     int64   // estimated bytes of the flows held in memory, whole or packed
	cold    int     // spooled flows
	packed  int     // packed flows
	fin     []*slot // finished whole flows in the order they finished, to pack
	finHead int     // fin[:finHead] is done
	scan    int     // position in order before which no flow is in memory
	evicted int64
	in      atomTable // methods and hosts of spooled flows
	notifyf func(string)
	kick    chan struct{} // never closed; buffered 1
	stop    chan struct{}
	done    chan struct{}
	lastErr time.Time
	// behind is set while memory is past 1.5 times its share: the spiller is
	// not keeping up, and writers help it (see assist).
	behind atomic.Bool
}

// EnableSpool starts spooling as cfg says. Call it once, before flows
// arrive; Close stops it and deletes the spool.
func (s *Store) EnableSpool(cfg SpoolConfig) error {
	if cfg.Memory < MinMemoryBudget {
		return fmt.Errorf("memory budget %s is too small to hold flows and their summaries: give at least %s", FormatSize(cfg.Memory), FormatSize(MinMemoryBudget))
	}
	sp, err := openSpool(cfg.Dir)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.budget
	if b.sp != nil {
		_ = sp.close()
		return fmt.Errorf("spool already enabled")
	}
	b.sp, b.memory, b.disk, b.notifyf = sp, cfg.Memory, cfg.Disk, cfg.Notify
	for _, sl := range s.order[s.head:] { // flows already here count too
		if !sl.dead && sl.f != nil {
			b.track(sl.f, 1)
			if sl.f.State.Final() {
				b.queue(sl)
			}
		}
	}
	b.hotMax = max(cfg.Memory/16, 1<<20)
	if s.max > 0 {
		// With the flow count bounded, summaries never need more than
		// max of them: what they would not use goes to whole flows, so
		// that flows soon evicted by the count are not spooled first.
		spare := cfg.Memory*3/4 - int64(s.max)*summaryCost
		b.hotMax = max(b.hotMax, spare*2/3)
	}
	b.coldMax = int(max(cfg.Memory-b.hotMax*3/2-cfg.Memory/4, 0) / summaryCost)
	if s.max > 0 {
		b.coldMax = max(b.coldMax, min(s.max, int(cfg.Memory/2/summaryCost)))
	}
	b.kick = make(chan struct{}, 1)
	b.stop = make(chan struct{})
	b.done = make(chan struct{})
	go s.spillLoop()
	b.poke()
	return nil
}

// Close stops spooling and deletes the spool directory. Spooled flows are
// gone afterwards; the store keeps working in memory.
func (s *Store) Close() error {
	s.mu.Lock()
	b := &s.budget
	if b.sp == nil {
		s.mu.Unlock()
		return nil
	}
	close(b.stop)
	s.mu.Unlock()
	<-b.done
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeOldest((*slot).spooled, func() bool { return false })
	err := b.sp.close()
	b.sp = nil
	for _, sl := range b.fin[b.finHead:] {
		if sl != nil {
			sl.queued = false
		}
	}
	b.fin, b.finHead = nil, 0
	s.compactLocked()
	return err
}

// Stats is how much a store holds and where.
type Stats struct {
	Flows    int   // all flows
	Packed   int   // flows held in memory in their compact form
	Spooled  int   // flows in the spool
	Memory   int64 // estimated bytes of flows and summaries in memory
	Spool    int64 // bytes of the spool on disk
	Evicted  int64 // flows evicted to keep to the budgets
	Budget   int64 // the memory budget (0: none)
	DiskUsed bool  // whether a spool is in use
}

// Stats reports what the store holds.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := &s.budget
	st := Stats{Flows: len(s.byID), Packed: b.packed, Spooled: b.cold, Evicted: b.evicted, Budget: b.memory,
		Memory: b.hot + int64(b.cold)*summaryCost, DiskUsed: b.sp != nil}
	if b.sp != nil {
		st.Spool = b.sp.size()
	}
	return st
}

// footprint estimates what a flow holds in memory: a fixed part for the
// structs and strings, plus its bodies and messages.
func footprint(f *Flow) int64 {
	n := int64(1200)
	if r := f.Request; r != nil {
		n += int64(cap(r.Body.Data)) + 64*int64(len(r.Headers)+len(r.Trailers))
	}
	if r := f.Response; r != nil {
		n += int64(cap(r.Body.Data)) + 64*int64(len(r.Headers)+len(r.Trailers))
	}
	if o := f.Original; o != nil {
		if o.Request != nil {
			n += int64(cap(o.Request.Body.Data))
		}
		if o.Response != nil {
			n += int64(cap(o.Response.Body.Data))
		}
	}
	for i := range f.Messages {
		n += 96 + int64(cap(f.Messages[i].Data))
	}
	return n
}

// track adds (sign 1) or takes away (-1) what a flow in memory holds. It
// counts only while spooling: without a budget the per-request path need
// not estimate anything.
func (b *budget) track(f *Flow, sign int64) {
	if b.sp != nil {
		b.hot += sign * footprint(f)
	}
}

// poke wakes the spiller when memory is over its share or flows wait to be
// packed.
func (b *budget) poke() {
	if b.sp == nil {
		return
	}
	if b.hot > b.hotMax || b.waiting() >= keepWhole+packBatch {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	b.behind.Store(b.hot > b.hotMax+b.hotMax/2)
}

// assist spools a few flows on the writer's own goroutine while the spiller
// is behind. Capture that outruns the disk is slowed by the disk's pace
// instead of carrying memory past the budget (as Go's collector has
// allocating goroutines assist it).
func (s *Store) assist() {
	if s.budget.behind.Load() {
		s.spillOnce(assistBatch)
	}
}

func (b *budget) notify(msg string) {
	if b.notifyf != nil {
		b.notifyf(msg)
	}
}

// record returns the record of a flow out of memory's whole form: a packed
// one's own, or a spooled one's read back. The caller holds the store's
// lock (read or write), which keeps the record's segment from being
// dropped; decoding can wait until after it.
func (b *budget) record(sl *slot) ([]byte, error) {
	if sl.packed != nil {
		return sl.packed, nil // never changes
	}
	return b.read(sl.sum)
}

// read reads a spooled flow's record, with the store's lock held.
func (b *budget) read(sum *Summary) ([]byte, error) {
	if b.sp == nil {
		return nil, fmt.Errorf("spool: flow %s: the spool is closed", sum.ID)
	}
	rec, err := b.sp.read(sum.loc)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", sum.ID, err)
	}
	return rec, nil
}

// decode makes the flow of a record read for sum; it needs no lock.
func (b *budget) decode(rec []byte, sum *Summary) (*Flow, error) {
	f, err := decodeRecord(rec)
	if err != nil {
		return nil, fmt.Errorf("spool: flow %s does not decode: %w", sum.ID, err)
	}
	f.ID, f.Seq = sum.ID, sum.Seq
	return f, nil
}

// unspool forgets a spooled flow's record.
func (b *budget) unspool(sum *Summary) {
	if b.sp != nil {
		b.sp.release(sum.loc)
	}
	b.cold--
}

func (s *Store) spillLoop() {
	b := &s.budget
	defer close(b.done)
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
		}
		for s.packOnce(packBatch) {
			select {
			case <-b.stop:
				return
			default:
			}
		}
		for s.spillOnce(spillBatch) {
			select {
			case <-b.stop:
				return
			default:
			}
		}
		// Memory still over its share after a pass: every flow in memory is
		// in progress, or the spool failed. Wait before trying again.
		s.mu.RLock()
		over := b.hot > b.hotMax
		s.mu.RUnlock()
		if over {
			select {
			case <-b.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// spillBatch is how many flows one pass of the spiller moves, assistBatch
// one writer's help; the store's lock is not held while they are encoded
// and written.
const (
	spillBatch  = 256
	assistBatch = 16
)

// spillOnce moves a batch of the oldest finished flows, whole or packed, to
// the spool and reports whether there may be more to do.
func (s *Store) spillOnce(batch int) bool {
	type job struct {
		sl  *slot
		f   *Flow  // a whole flow, to encode
		rec []byte // or a packed one's record
		loc spoolLoc
		ok  bool
	}
	s.mu.Lock()
	b := &s.budget
	need := b.hot - b.hotMax*3/4
	if need <= 0 || b.sp == nil {
		s.mu.Unlock()
		return false
	}
	jobs := make([]job, 0, batch)
	front := true
	for i := max(b.scan, s.head); i < len(s.order) && len(jobs) < batch && need > 0; i++ {
		sl := s.order[i]
		if sl.dead || sl.spooled() {
			if front {
				b.scan = i + 1
			}
			continue
		}
		front = false
		if sl.spilling {
			continue // not picked twice by the spiller and a writer
		}
		if sl.packed != nil {
			sl.spilling = true
			jobs = append(jobs, job{sl: sl, rec: sl.packed})
			need -= packCost(sl.packed)
			continue
		}
		if !sl.f.State.Final() || tooBig(sl.f) {
			continue
		}
		sl.spilling = true
		jobs = append(jobs, job{sl: sl, f: sl.f})
		need -= footprint(sl.f)
	}
	sp := b.sp
	s.mu.Unlock()
	if len(jobs) == 0 {
		return false
	}

	recs := make([][]byte, 0, len(jobs))
	var werr error
	for i := range jobs {
		rec := jobs[i].rec
		if rec == nil {
			var err error
			if rec, err = encodeRecord(jobs[i].f); err != nil {
				werr = err
				break
			}
		}
		recs = append(recs, rec)
	}
	locs := make([]spoolLoc, len(recs))
	n, err := sp.writeAll(recs, locs)
	if err != nil {
		werr = err
	}
	for i := range n {
		jobs[i].loc, jobs[i].ok = locs[i], true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if b.sp != sp {
		// Closed while the batch was written (a writer assisting as the
		// program exits): the spool and its files are gone.
		for _, j := range jobs {
			j.sl.spilling = false
		}
		return false
	}
	for _, j := range jobs {
		j.sl.spilling = false
		if !j.ok {
			continue
		}
		if !sp.has(j.loc.seg) {
			// Another pass dropped the segment for the disk budget before
			// this one could point a slot at it: the flow stays in memory.
			continue
		}
		if j.rec != nil {
			if j.sl.dead || j.sl.packed == nil || &j.sl.packed[0] != &j.rec[0] {
				sp.release(j.loc) // changed or gone while it was written
				continue
			}
			// The summary subscribers hold stays the one: a copy would double
			// what a million spooled flows cost (the list keeps the first).
			// Only the store reads loc, under its lock.
			j.sl.sum.loc = j.loc
			b.unpack(j.sl)
			b.cold++
			continue
		}
		if j.sl.dead || j.sl.f != j.f {
			sp.release(j.loc) // changed or gone while it was written
			continue
		}
		sum := Summarize(j.f).compact(&b.in)
		sum.loc = j.loc
		j.sl.f, j.sl.sum = nil, sum
		b.track(j.f, -1)
		b.cold++
		s.publish(sum.ID, j.f, sum, EventSpilled) // with the snapshot spooled, for subscribers that match it
	}
	for _, j := range jobs {
		// A whole flow that did not land (or came home meanwhile) is
		// packed instead, if packing passed it over while it was out.
		if !j.sl.dead && j.sl.f != nil && j.sl.f.State.Final() {
			b.queue(j.sl)
		}
	}
	if werr != nil {
		s.spillFailedLocked(werr)
	}
	s.enforceLocked()
	b.poke()
	return werr == nil
}

// spillFailedLocked handles a spool that cannot be written (a full disk):
// it says so, at most every ten seconds, and once memory is past the whole
// budget evicts the oldest finished flows so that the proxy lives on.
func (s *Store) spillFailedLocked(err error) {
	b := &s.budget
	if time.Since(b.lastErr) > 10*time.Second {
		b.lastErr = time.Now()
		b.notify(err.Error() + "; flows stay in memory until the spool can be written")
	}
	if b.hot <= b.memory/2 {
		return
	}
	n := s.removeOldest(func(sl *slot) bool { return !sl.spooled() && sl.final() },
		func() bool { return b.hot <= b.memory*3/8 })
	if n > 0 {
		b.evicted += int64(n)
		b.notify(fmt.Sprintf("memory budget %s reached and the spool cannot be written: evicted the %d oldest flows", FormatSize(b.memory), n))
	}
	s.compactLocked()
}

// enforceLocked keeps the summaries and the spool within their budgets by
// evicting the oldest spooled flows.
func (s *Store) enforceLocked() {
	b := &s.budget
	if b.sp == nil {
		return
	}
	if b.cold > b.coldMax {
		n := s.removeOldest((*slot).spooled, func() bool { return b.cold <= b.coldMax })
		b.evicted += int64(n)
		b.notify(fmt.Sprintf("memory budget %s: %d spooled flows is all their summaries may take; evicted the %d oldest", FormatSize(b.memory), b.coldMax, n))
	}
	if b.disk > 0 {
		for b.sp.size() > b.disk {
			seg := b.sp.oldest()
			if seg == 0 || seg == b.sp.writing() {
				break
			}
			// Records written but not yet pointed at by a slot are in there
			// too: the pass that wrote them sees the segment gone (has) and
			// keeps those flows in memory.
			m := s.removeOldest(func(sl *slot) bool { return sl.spooled() && sl.sum.loc.seg == seg },
				func() bool { return false })
			b.sp.drop(seg)
			b.evicted += int64(m)
			b.notify(fmt.Sprintf("spool: disk budget %s reached: evicted the %d oldest flows", FormatSize(b.disk), m))
		}
	}
	s.compactLocked()
}
