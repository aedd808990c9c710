package flowstore

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"
)

// EventKind says what happened to a flow. Kinds of one flow are OR-ed
// together while they wait to be drained.
type EventKind uint8

const (
	EventAdded EventKind = 1 << iota
	EventUpdated
	// EventFinished: the flow reached a final state (done, error, killed).
	EventFinished
	EventRemoved
	// EventSpilled: the flow left memory's whole form, packed or moved to
	// the spool; Event.Summary is what stays of it. A subscriber holding the
	// flow's snapshot should let it go (Store.Get gives it back).
	EventSpilled
)

// Event is one flow's pending change. Flow is its latest in-memory
// snapshot (for a removed flow, the last one it had; for a spooled one, the
// snapshot that went to the spool, which the subscriber should let go once
// it has what it needs from it). Summary is set when the latest change was
// the flow moving to the spool, and for a removed spooled flow.
type Event struct {
	ID      string
	Kind    EventKind
	Flow    *Flow
	Summary *Summary
}

// maxPending bounds what a subscriber that does not drain can cost; past it
// the subscriber is told to reset (re-list) instead.
var maxPending = 1 << 18 // a variable for tests

// Subscription receives coalesced change notifications from a Store.
type Subscription struct {
	// C has a value whenever events are waiting to be drained. It never
	// holds more than one: many changes make one wake-up.
	C <-chan struct{}

	c     chan struct{}
	store *Store
	kinds EventKind // the kinds noted; 0 for all

	// Lost, when set before Follow starts, is told how many changes a
	// follower missed because it fell too far behind (a stalled pipe or
	// disk): they are dropped rather than held without bound.
	Lost func(n int)

	mu      sync.Mutex
	pending []Event
	index   map[string]int // ID → position in pending
	reset   bool
	dropped int // changes dropped by resets, not yet told to Lost
}

// Drain returns the pending events in the order their flows first changed,
// each with the flow's latest snapshot. reset reports that events were
// dropped because too many piled up: the subscriber should re-read the store.
func (s *Subscription) Drain() (events []Event, reset bool) {
	s.mu.Lock()
	events, reset = s.pending, s.reset
	s.pending, s.reset = nil, false
	clear(s.index)
	s.mu.Unlock()
	return events, reset
}

// Close stops the subscription.
func (s *Subscription) Close() { s.store.unsubscribe(s) }

func (s *Subscription) note(id string, f *Flow, sum *Summary, k EventKind) {
	s.mu.Lock()
	if i, seen := s.index[id]; seen {
		ev := &s.pending[i]
		ev.Kind |= k
		if f != nil {
			ev.Flow = f
		}
		ev.Summary = sum
	} else if len(s.pending) >= maxPending {
		s.reset = true
		s.dropped += len(s.pending) + 1 // this one too
		s.pending = nil
		clear(s.index)
	} else {
		s.index[id] = len(s.pending)
		s.pending = append(s.pending, Event{ID: id, Kind: k, Flow: f, Summary: sum})
	}
	s.mu.Unlock()
	select {
	case s.c <- struct{}{}:
	default:
	}
}

// slot holds one flow: whole in memory (f, and sum a cached summary of it
// or nil), packed (f nil, packed its record, sum what stays of it) or
// spooled (f nil, packed nil, sum what stays of it and where its record is).
type slot struct {
	f        *Flow
	sum      *Summary
	packed   []byte
	seq      uint64 // the flow's Seq, kept after it is removed
	dead     bool
	spilling bool // being packed, or written to the spool
	queued   bool // waiting in the budget's queue of finished whole flows
}

// spooled reports whether the flow's record is in the spool on disk.
func (sl *slot) spooled() bool { return sl.f == nil && sl.packed == nil }

func (sl *slot) id() string {
	if sl.f != nil {
		return sl.f.ID
	}
	if sl.sum != nil {
		return sl.sum.ID
	}
	return ""
}

// retire marks a removed slot dead and lets go of its flow: the budget's
// queue may point at the slot a while longer.
func (sl *slot) retire() {
	sl.dead = true
	sl.f, sl.sum, sl.packed = nil, nil, nil
}

func (sl *slot) final() bool { return sl.f == nil || sl.f.State.Final() }

// Store holds flows in arrival order. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	byID  map[string]*slot
	order []*slot
	dead  int
	head  int // order[:head] holds only dead slots
	seq   atomic.Uint64
	max   int
	subs  []*Subscription
	gen   atomic.Uint64

	budget budget // zero unless EnableSpool was called
}

// NewStore returns a store that keeps at most max flows (0: no limit). Past
// the limit the oldest finished flows are evicted; flows still in progress
// or paused are never evicted.
func NewStore(max int) *Store {
	return &Store{byID: make(map[string]*slot), max: max}
}

// NewID returns a fresh random flow ID.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Gen is a counter that changes whenever any flow changes; a reader can
// cache what it derived from the store until Gen moves.
func (s *Store) Gen() uint64 { return s.gen.Load() }

// Subscribe registers for change events.
func (s *Store) Subscribe() *Subscription { return s.SubscribeTo(0) }

// SubscribeTo registers for the changes that include one of kinds (0: all),
// such as EventFinished for a follower that only prints or saves finished
// flows: it is not woken for the others, several a flow on a busy proxy.
func (s *Store) SubscribeTo(kinds EventKind) *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, store: s, kinds: kinds, index: make(map[string]int)}
	s.mu.Lock()
	subs := make([]*Subscription, len(s.subs), len(s.subs)+1)
	copy(subs, s.subs)
	s.subs = append(subs, sub)
	s.mu.Unlock()
	return sub
}

func (s *Store) unsubscribe(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := make([]*Subscription, 0, len(s.subs))
	for _, x := range s.subs {
		if x != sub {
			subs = append(subs, x)
		}
	}
	s.subs = subs
}

// publish must be called with s.mu held.
func (s *Store) publish(id string, f *Flow, sum *Summary, k EventKind) {
	s.gen.Add(1)
	for _, sub := range s.subs {
		if sub.kinds == 0 || k&sub.kinds != 0 {
			sub.note(id, f, sum, k)
		}
	}
}

// Add takes ownership of f (the caller must not change it afterwards),
// assigns an ID if it has none and a sequence number, and returns the
// stored snapshot.
func (s *Store) Add(f *Flow) *Flow {
	f.Seq = 0
	return s.AddLate(f)
}

// Reserve returns a sequence number for a flow arriving now that will be
// added later (AddLate): the engine keeps a flow to itself until it ends
// or has been in flight for a moment, and the flow still takes its place
// in arrival order.
func (s *Store) Reserve() uint64 { return s.seq.Add(1) }

// AddLate is Add for a flow whose Seq came from Reserve (0: take a new
// one). Flows that arrived after it but were added first stay after it.
func (s *Store) AddLate(f *Flow) *Flow {
	if f.ID == "" {
		f.ID = NewID()
	}
	s.mu.Lock()
	s.addLocked(f)
	s.evictLocked()
	s.mu.Unlock()
	s.assist()
	return f
}

// AddAll adds many flows under one lock, as Add does.
func (s *Store) AddAll(fs []*Flow) {
	s.mu.Lock()
	for _, f := range fs {
		if f.ID == "" {
			f.ID = NewID()
		}
		f.Seq = 0
		s.addLocked(f)
	}
	s.evictLocked()
	s.mu.Unlock()
	s.assist()
}

func (s *Store) addLocked(f *Flow) {
	if old, ok := s.byID[f.ID]; ok {
		// A loaded file may repeat an ID; the later copy wins its slot.
		s.forgetLocked(old)
		old.retire()
		s.dead++
	}
	if f.Seq == 0 {
		f.Seq = s.seq.Add(1)
	}
	sl := &slot{f: f, seq: f.Seq}
	s.byID[f.ID] = sl
	// Usually the newest; a flow added late goes back past the flows that
	// arrived after it (a few, near the end).
	i := len(s.order)
	for i > s.head && s.order[i-1].seq > sl.seq {
		i--
	}
	if i == len(s.order) {
		s.order = append(s.order, sl)
	} else {
		s.order = slices.Insert(s.order, i, sl)
		s.budget.scan = min(s.budget.scan, i) // a flow in memory before it
	}
	s.budget.track(f, 1)
	k := EventAdded
	if f.State.Final() {
		k |= EventFinished
		s.budget.queue(sl)
	}
	s.publish(f.ID, f, nil, k)
	s.budget.poke()
}

// Update applies fn to a copy of the flow and stores the copy, so readers
// never see a half-made change. It returns the new snapshot, or false if
// the flow is not in the store. A spooled flow is read back into memory
// first (and stays there).
func (s *Store) Update(id string, fn func(*Flow)) (*Flow, bool) {
	f, ok := s.update(id, fn)
	if ok && f.State.Final() {
		s.assist()
	}
	return f, ok
}

func (s *Store) update(id string, fn func(*Flow)) (*Flow, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	var f *Flow
	wasFinal := true
	if sl.f == nil {
		rec, err := s.budget.record(sl)
		if err == nil {
			f, err = s.budget.decode(rec, sl.sum)
		}
		if err != nil {
			s.budget.notify(err.Error())
			return nil, false
		}
		if sl.spooled() {
			// In memory again, maybe before where the spiller starts
			// looking: let it look from the front once more.
			s.budget.scan = s.head
		}
		s.forgetLocked(sl) // the record is no longer the flow's
	} else {
		wasFinal = sl.f.State.Final()
		s.budget.track(sl.f, -1)
		f = sl.f.Clone()
	}
	seq := f.Seq
	fn(f)
	f.ID, f.Seq = id, seq
	sl.f, sl.sum = f, nil
	s.budget.track(f, 1)
	k := EventUpdated
	if f.State.Final() {
		if !wasFinal {
			k |= EventFinished
		}
		s.budget.queue(sl)
	}
	s.publish(id, f, nil, k)
	s.budget.poke()
	return f, true
}

// Get returns the current snapshot of a flow. A packed or spooled flow is
// decoded or read back (a fresh copy each time); false if it is gone or
// cannot be read.
func (s *Store) Get(id string) (*Flow, bool) {
	s.mu.RLock()
	sl, ok := s.byID[id]
	if !ok {
		s.mu.RUnlock()
		return nil, false
	}
	if f := sl.f; f != nil {
		s.mu.RUnlock()
		return f, true
	}
	// Decode after the lock, so that writers do not wait for that.
	sum := sl.sum
	rec, err := s.budget.record(sl)
	s.mu.RUnlock()
	var f *Flow
	if err == nil {
		f, err = s.budget.decode(rec, sum)
	}
	if err != nil {
		s.budget.notify(err.Error())
		return nil, false
	}
	return f, true
}

// Peek returns a flow's in-memory snapshot (with a nil summary), or its
// summary when it is spooled, without reading the spool.
func (s *Store) Peek(id string) (*Flow, *Summary, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sl, ok := s.byID[id]
	if !ok {
		return nil, nil, false
	}
	if sl.f != nil {
		return sl.f, nil, true
	}
	return nil, sl.sum, true
}

// Len is the number of flows held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// List returns every flow in arrival order. Spooled flows are read back,
// so with a large spool this is slow and big: Summaries and Each are the
// cheaper ways to walk a store.
func (s *Store) List() []*Flow {
	out := make([]*Flow, 0, s.Len())
	s.Each(func(f *Flow) bool {
		out = append(out, f)
		return true
	})
	return out
}

// Each calls fn with every flow in arrival order, reading spooled ones
// back one at a time, until fn returns false. A spooled flow that cannot
// be read is skipped (and reported through the spool's notices).
func (s *Store) Each(fn func(*Flow) bool) {
	s.mu.RLock()
	slots := make([]*slot, 0, len(s.byID))
	for _, sl := range s.order[s.head:] {
		if !sl.dead {
			slots = append(slots, sl)
		}
	}
	s.mu.RUnlock()
	for _, sl := range slots {
		s.mu.RLock()
		f, sum, dead := sl.f, sl.sum, sl.dead
		s.mu.RUnlock()
		if dead {
			continue
		}
		if f == nil {
			var ok bool
			if f, ok = s.Get(sum.ID); !ok {
				continue
			}
		}
		if !fn(f) {
			return
		}
	}
}

// Summaries returns a summary of every flow in arrival order: the kept
// summary of a spooled flow, and of a flow in memory one made once per
// snapshot (so that asking again costs no allocation per flow).
func (s *Store) Summaries() []*Summary {
	s.mu.Lock() // fills the per-snapshot cache
	defer s.mu.Unlock()
	out := make([]*Summary, 0, len(s.byID))
	for _, sl := range s.order[s.head:] {
		if sl.dead {
			continue
		}
		if sl.f != nil && (sl.sum == nil || sl.sum.Flow != sl.f) {
			sl.sum = Summarize(sl.f)
		}
		out = append(out, sl.sum)
	}
	return out
}

// Delete removes flows by ID; unknown IDs are ignored.
func (s *Store) Delete(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.removeLocked(id)
	}
	s.compactLocked()
}

// Clear removes every flow that is not paused or in progress, and reports
// how many were kept.
func (s *Store) Clear() (kept int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range s.order[s.head:] {
		if sl.dead {
			continue
		}
		if !sl.final() && sl.f.State != StateDraft {
			kept++
			continue
		}
		s.removeLocked(sl.id())
	}
	s.compactLocked()
	return kept
}

func (s *Store) removeLocked(id string) {
	sl, ok := s.byID[id]
	if !ok {
		return
	}
	delete(s.byID, id)
	s.forgetLocked(sl)
	s.dead++
	var sum *Summary
	if sl.f == nil {
		sum = sl.sum // a packed or spooled flow is known by its summary
	}
	s.publish(id, sl.f, sum, EventRemoved)
	sl.retire()
}

// forgetLocked gives back what a slot's flow holds of the budget.
func (s *Store) forgetLocked(sl *slot) {
	switch {
	case sl.f != nil:
		s.budget.track(sl.f, -1)
	case sl.packed != nil:
		s.budget.unpack(sl)
	case sl.sum != nil:
		s.budget.unspool(sl.sum)
	}
}

func (s *Store) evictLocked() {
	if s.max <= 0 || len(s.byID) <= s.max {
		return
	}
	s.skipDeadLocked()
	s.removeOldest((*slot).final, func() bool { return len(s.byID) <= s.max })
	s.compactLocked()
}

// removeOldest removes, oldest first, the flows pick accepts until enough
// reports true, and returns how many it removed. The caller compacts.
func (s *Store) removeOldest(pick func(*slot) bool, enough func() bool) int {
	n := 0
	for _, sl := range s.order[s.head:] {
		if enough() {
			break
		}
		if !sl.dead && pick(sl) {
			s.removeLocked(sl.id())
			n++
		}
	}
	return n
}

func (s *Store) skipDeadLocked() {
	for s.head < len(s.order) && s.order[s.head].dead {
		s.head++
	}
}

func (s *Store) compactLocked() {
	if s.dead < 1024 || s.dead < len(s.order)/2 {
		return
	}
	live := make([]*slot, 0, len(s.byID)+len(s.byID)/4)
	for _, sl := range s.order {
		if !sl.dead {
			live = append(live, sl)
		}
	}
	s.order = live
	s.dead = 0
	s.head = 0
	s.budget.scan = 0
}
