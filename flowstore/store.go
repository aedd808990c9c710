package flowstore

import (
	"crypto/rand"
	"encoding/hex"
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
)

// Event is one flow's pending change. Flow is its latest snapshot; for a
// removed flow it is the last snapshot it had.
type Event struct {
	ID   string
	Kind EventKind
	Flow *Flow
}

// maxPending bounds what a subscriber that does not drain can cost; past it
// the subscriber is told to reset (re-list) instead.
const maxPending = 1 << 18

// Subscription receives coalesced change notifications from a Store.
type Subscription struct {
	// C has a value whenever events are waiting to be drained. It never
	// holds more than one: many changes make one wake-up.
	C <-chan struct{}

	c     chan struct{}
	store *Store

	mu      sync.Mutex
	pending []Event
	index   map[string]int // ID → position in pending
	reset   bool
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

func (s *Subscription) note(f *Flow, k EventKind) {
	s.mu.Lock()
	if i, seen := s.index[f.ID]; seen {
		s.pending[i].Kind |= k
		s.pending[i].Flow = f
	} else if len(s.pending) >= maxPending {
		s.reset = true
		s.pending = nil
		clear(s.index)
	} else {
		s.index[f.ID] = len(s.pending)
		s.pending = append(s.pending, Event{ID: f.ID, Kind: k, Flow: f})
	}
	s.mu.Unlock()
	select {
	case s.c <- struct{}{}:
	default:
	}
}

type slot struct {
	f    *Flow
	dead bool
}

// Store holds flows in arrival order. It is safe for concurrent use.
type Store struct {
	mu    sync.RWMutex
	byID  map[string]*slot
	order []*slot
	dead  int
	head  int // order[:head] holds only dead slots
	seq   uint64
	max   int
	subs  []*Subscription
	gen   atomic.Uint64
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
func (s *Store) Subscribe() *Subscription {
	c := make(chan struct{}, 1)
	sub := &Subscription{C: c, c: c, store: s, index: make(map[string]int)}
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
func (s *Store) publish(f *Flow, k EventKind) {
	s.gen.Add(1)
	for _, sub := range s.subs {
		sub.note(f, k)
	}
}

// Add takes ownership of f (the caller must not change it afterwards),
// assigns an ID if it has none and a sequence number, and returns the
// stored snapshot.
func (s *Store) Add(f *Flow) *Flow {
	if f.ID == "" {
		f.ID = NewID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(f)
	s.evictLocked()
	return f
}

// AddAll adds many flows under one lock, as Add does.
func (s *Store) AddAll(fs []*Flow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		if f.ID == "" {
			f.ID = NewID()
		}
		s.addLocked(f)
	}
	s.evictLocked()
}

func (s *Store) addLocked(f *Flow) {
	if old, ok := s.byID[f.ID]; ok {
		// A loaded file may repeat an ID; the later copy wins its slot.
		old.dead = true
		s.dead++
	}
	s.seq++
	f.Seq = s.seq
	sl := &slot{f: f}
	s.byID[f.ID] = sl
	s.order = append(s.order, sl)
	k := EventAdded
	if f.State.Final() {
		k |= EventFinished
	}
	s.publish(f, k)
}

// Update applies fn to a copy of the flow and stores the copy, so readers
// never see a half-made change. It returns the new snapshot, or false if
// the flow is not in the store.
func (s *Store) Update(id string, fn func(*Flow)) (*Flow, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	old := sl.f
	f := old.Clone()
	fn(f)
	f.ID, f.Seq = old.ID, old.Seq
	sl.f = f
	k := EventUpdated
	if f.State.Final() && !old.State.Final() {
		k |= EventFinished
	}
	s.publish(f, k)
	return f, true
}

// Get returns the current snapshot of a flow.
func (s *Store) Get(id string) (*Flow, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sl, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return sl.f, true
}

// Len is the number of flows held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// List returns every flow in arrival order.
func (s *Store) List() []*Flow {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Flow, 0, len(s.byID))
	for _, sl := range s.order {
		if !sl.dead {
			out = append(out, sl.f)
		}
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
	for _, sl := range s.order {
		if sl.dead {
			continue
		}
		if !sl.f.State.Final() && sl.f.State != StateDraft {
			kept++
			continue
		}
		s.removeLocked(sl.f.ID)
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
	sl.dead = true
	s.dead++
	s.publish(sl.f, EventRemoved)
}

func (s *Store) evictLocked() {
	if s.max <= 0 || len(s.byID) <= s.max {
		return
	}
	excess := len(s.byID) - s.max
	for s.head < len(s.order) && s.order[s.head].dead {
		s.head++
	}
	for _, sl := range s.order[s.head:] {
		if excess == 0 {
			break
		}
		if sl.dead || !sl.f.State.Final() {
			continue
		}
		s.removeLocked(sl.f.ID)
		excess--
	}
	s.compactLocked()
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
}
