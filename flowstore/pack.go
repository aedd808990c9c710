package flowstore

// Packing. While a memory budget is set, finished flows beyond the newest
// keepWhole are re-encoded in the spool's record format and kept in memory
// as one byte slice each, with their summary. The garbage collector does
// not look inside a byte slice; a whole flow is a graph of a few dozen
// pointers that it marks on every cycle. On a proxy holding 50 000 small
// flows that marking was about a seventh of the CPU of every request; a
// packed flow costs the collector two objects, takes less memory (RSS
// after a long keep-alive run: 106 MiB instead of 182), and decodes in a
// microsecond or two when someone opens it (Get).
//
// The spool then takes packed records to disk as they are, oldest first,
// once memory is past its share.

const (
	// keepWhole is how many finished flows stay whole: the newest, which a
	// person is most likely to open, filter on headers or edit. Few enough
	// that a flow is packed while its memory is still in the CPU's cache
	// (with 1024, encoding took 40% longer on the side-by-side benchmark).
	keepWhole = 256
	// packBatch is how many flows one pass packs; the store's lock is not
	// held while they are encoded.
	packBatch = 128
)

// tooBig reports whether a flow's record could pass the spool's limit: a
// record's length must fit its 32 bits. Such a flow stays whole.
func tooBig(f *Flow) bool { return footprint(f) > 1<<30 }

// packCost is what a packed flow holds in memory: its record and what any
// flow out of memory costs (summary, slot, indexes).
func packCost(rec []byte) int64 { return int64(cap(rec)) + summaryCost }

// queue notes a finished flow held whole, to be packed once keepWhole newer
// ones have finished. The store's lock is held.
func (b *budget) queue(sl *slot) {
	if b.sp == nil || sl.queued || sl.f == nil {
		return
	}
	sl.queued = true
	b.fin = append(b.fin, sl)
}

// waiting is how many slots the queue holds (some may have been changed or
// removed since).
func (b *budget) waiting() int { return len(b.fin) - b.finHead }

// unpack forgets a packed flow's record.
func (b *budget) unpack(sl *slot) {
	if b.sp != nil {
		b.hot -= packCost(sl.packed)
	}
	b.packed--
	sl.packed = nil
}

type packJob struct {
	sl  *slot
	f   *Flow
	rec []byte
}

// packOnce packs a batch of the oldest finished whole flows beyond the
// newest keepWhole and reports whether it packed any.
func (s *Store) packOnce(batch int) bool {
	b := &s.budget
	s.mu.Lock()
	jobs := make([]packJob, 0, batch)
	for b.waiting() > keepWhole && len(jobs) < batch {
		sl := b.fin[b.finHead]
		b.fin[b.finHead] = nil
		b.finHead++
		sl.queued = false
		if sl.dead || sl.f == nil || sl.spilling || !sl.f.State.Final() || tooBig(sl.f) {
			continue
		}
		sl.spilling = true // not picked by the spiller meanwhile
		jobs = append(jobs, packJob{sl: sl, f: sl.f})
	}
	if b.finHead > 4096 && b.finHead > len(b.fin)/2 {
		b.fin = append(b.fin[:0:0], b.fin[b.finHead:]...)
		b.finHead = 0
	}
	s.mu.Unlock()
	if len(jobs) == 0 {
		return false
	}

	var scratch []byte
	for i := range jobs {
		rec, err := appendRecord(scratch[:0], jobs[i].f)
		if err != nil {
			continue // stays whole; a flow that cannot be encoded is rare
		}
		scratch = rec
		jobs[i].rec = append([]byte(nil), rec...) // exactly its size
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range jobs {
		j.sl.spilling = false
		if j.rec == nil || j.sl.dead || j.sl.f != j.f {
			continue // changed meanwhile: Update queued the new snapshot
		}
		sum := Summarize(j.f).compact(&b.in)
		j.sl.f, j.sl.sum, j.sl.packed = nil, sum, j.rec
		b.track(j.f, -1)
		b.hot += packCost(j.rec)
		b.packed++
		s.publish(sum.ID, j.f, sum, EventSpilled) // with the snapshot packed, as for the spool
	}
	b.poke()
	return true
}
