package hook

import (
	"fmt"
	"sync"
	"time"
)

// Values that outlive one hook call (flow.ctx between hooks, the shared
// store between flows) are kept as plain Go values, the same for every
// engine: nil, bool, float64, string, Null and *Table. An engine copies a
// value in when a script reads it and out when a call succeeds, so no
// engine's value ever reaches another runtime (neither gopher-lua's nor
// goja's are goroutine-safe), and a Lua script and a JavaScript one read
// what the other wrote.

// Table is a Lua table or a JavaScript object or array outside its
// runtime: the array part t[1..n] (a JavaScript array's elements) and the
// rest (a JavaScript object's properties).
type Table struct {
	Arr  []any
	Hash map[any]any // keys: string, float64, bool
}

// MaxDepth bounds how deep kept tables nest (a cycle would never end).
const MaxDepth = 32

// NullValue is the type of Null.
type NullValue struct{}

// Null is JSON null: Lua's json.null, JavaScript's null.
var Null = NullValue{}

// CtxStore keeps flow.ctx for every flow that has one, by flow ID. A
// hook gets a copy when it first reads flow.ctx and the copy is written
// back only when the hook succeeds, so a failed or timed-out hook leaves
// no trace. The entry is dropped when the flow is done.
type CtxStore struct {
	mu sync.Mutex
	m  map[string]*ctxEntry
}

type ctxEntry struct {
	v    *Table
	used time.Time
}

func NewCtxStore() *CtxStore { return &CtxStore{m: make(map[string]*ctxEntry)} }

func (s *CtxStore) Get(id string) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[id]; ok {
		return e.v
	}
	return nil
}

func (s *CtxStore) Put(id string, t *Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil || (len(t.Arr) == 0 && len(t.Hash) == 0) {
		delete(s.m, id)
		return
	}
	s.m[id] = &ctxEntry{v: t, used: time.Now()}
}

func (s *CtxStore) Has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

func (s *CtxStore) Drop(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *CtxStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Sweep drops contexts of flows not touched for a long time: a flow whose
// done phase never came (the proxy stopped under it) must not pin memory.
func (s *CtxStore) Sweep(idle time.Duration) {
	cut := time.Now().Add(-idle)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.m {
		if e.used.Before(cut) {
			delete(s.m, id)
		}
	}
}

// SharedStore is the `shared` object of scripts: one goroutine-safe
// key-value store for all scripts and flows, with optional expiry.
type SharedStore struct {
	mu     sync.Mutex
	m      map[string]sharedEntry
	writes int
}

type sharedEntry struct {
	v   any
	exp time.Time // zero: never
}

const maxSharedKeys = 1 << 20

func NewSharedStore() *SharedStore { return &SharedStore{m: make(map[string]sharedEntry)} }

func (s *SharedStore) getLocked(k string, now time.Time) (sharedEntry, bool) {
	e, ok := s.m[k]
	if ok && !e.exp.IsZero() && !now.Before(e.exp) {
		delete(s.m, k)
		return sharedEntry{}, false
	}
	return e, ok
}

func (s *SharedStore) Get(k string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, _ := s.getLocked(k, time.Now())
	return e.v
}

func expiry(now time.Time, ttl float64) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(ttl * float64(time.Second)))
}

// Set stores v under k (nil deletes), for ttl seconds (0: for ever).
func (s *SharedStore) Set(k string, v any, ttl float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v == nil {
		delete(s.m, k)
		return nil
	}
	now := time.Now()
	if err := s.roomLocked(k, now); err != nil {
		return err
	}
	s.m[k] = sharedEntry{v: v, exp: expiry(now, ttl)}
	return nil
}

// Incr adds by to a number (a missing or expired key counts as 0, and
// then gets the expiry ttl; an existing key keeps its expiry, which makes
// fixed-window rate limits one line).
func (s *SharedStore) Incr(k string, by, ttl float64) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e, ok := s.getLocked(k, now)
	if !ok {
		if err := s.roomLocked(k, now); err != nil {
			return 0, err
		}
		s.m[k] = sharedEntry{v: by, exp: expiry(now, ttl)}
		return by, nil
	}
	n, isNum := e.v.(float64)
	if !isNum {
		return 0, fmt.Errorf("shared.incr: %q holds a %T, not a number", k, e.v)
	}
	e.v = n + by
	s.m[k] = e
	return n + by, nil
}

func (s *SharedStore) roomLocked(k string, now time.Time) error {
	s.writes++
	if s.writes%4096 == 0 {
		for key, e := range s.m {
			if !e.exp.IsZero() && !now.Before(e.exp) {
				delete(s.m, key)
			}
		}
	}
	if _, ok := s.m[k]; !ok && len(s.m) >= maxSharedKeys {
		return fmt.Errorf("shared store is full (%d keys); give keys an expiry", maxSharedKeys)
	}
	return nil
}
