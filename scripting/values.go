package scripting

import (
	"fmt"
	"math"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Values that outlive one Lua state (flow.ctx between hooks, the shared
// store between flows) are kept as plain Go values: nil, bool, float64,
// string, jsonNull and *table. A Lua state gets a fresh copy when it reads
// one, so no LValue ever crosses from one state to another (they are not
// goroutine-safe, and gopher-lua functions belong to their state).

// table is a Lua table outside Lua: its array part t[1..n] and the rest.
type table struct {
	arr  []any
	hash map[any]any // keys: string, float64, bool
}

const maxDepth = 32

type nullValue struct{}

// jsonNull stands for json.null outside a state.
var jsonNull = nullValue{}

// toGo copies a Lua value out of its state.
func toGo(v lua.LValue, null lua.LValue, depth int) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LTable:
		if depth >= maxDepth {
			return nil, fmt.Errorf("tables nested more than %d deep (a cycle?)", maxDepth)
		}
		t := &table{}
		n := x.Len()
		for i := 1; i <= n; i++ {
			e, err := toGo(x.RawGetInt(i), null, depth+1)
			if err != nil {
				return nil, err
			}
			t.arr = append(t.arr, e)
		}
		var ferr error
		x.ForEach(func(k, val lua.LValue) {
			if ferr != nil {
				return
			}
			if kn, ok := k.(lua.LNumber); ok && float64(kn) == math.Trunc(float64(kn)) && kn >= 1 && int(kn) <= n {
				return
			}
			gk, err := toGo(k, null, maxDepth) // keys are never tables
			if err != nil || gk == nil {
				ferr = fmt.Errorf("a table key of type %s cannot be kept", k.Type())
				return
			}
			gv, err := toGo(val, null, depth+1)
			if err != nil {
				ferr = err
				return
			}
			if t.hash == nil {
				t.hash = make(map[any]any)
			}
			t.hash[gk] = gv
		})
		if ferr != nil {
			return nil, ferr
		}
		return t, nil
	case *lua.LUserData:
		if v == null {
			return jsonNull, nil
		}
	}
	return nil, fmt.Errorf("a %s cannot be kept (only nil, booleans, numbers, strings and tables)", v.Type())
}

// toLua copies a Go value into state L; null is that state's json.null.
func toLua(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case nullValue:
		return null
	case *table:
		t := L.CreateTable(len(x.arr), len(x.hash))
		for _, e := range x.arr {
			t.Append(toLua(L, e, null))
		}
		for k, e := range x.hash {
			t.RawSet(toLua(L, k, null), toLua(L, e, null))
		}
		return t
	}
	return lua.LNil
}

// ctxStore keeps flow.ctx for every flow that has one, by flow ID. A
// hook's state gets a copy when it first reads flow.ctx and the copy is
// written back only when the hook succeeds, so a failed or timed-out hook
// leaves no trace. The entry is dropped when the flow is done.
type ctxStore struct {
	mu sync.Mutex
	m  map[string]*ctxEntry
}

type ctxEntry struct {
	v    *table
	used time.Time
}

func newCtxStore() *ctxStore { return &ctxStore{m: make(map[string]*ctxEntry)} }

func (s *ctxStore) get(id string) *table {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[id]; ok {
		return e.v
	}
	return nil
}

func (s *ctxStore) put(id string, t *table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t == nil || (len(t.arr) == 0 && len(t.hash) == 0) {
		delete(s.m, id)
		return
	}
	s.m[id] = &ctxEntry{v: t, used: time.Now()}
}

func (s *ctxStore) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

func (s *ctxStore) drop(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *ctxStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// sweep drops contexts of flows not touched for a long time: a flow whose
// done phase never came (the proxy stopped under it) must not pin memory.
func (s *ctxStore) sweep(idle time.Duration) {
	cut := time.Now().Add(-idle)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.m {
		if e.used.Before(cut) {
			delete(s.m, id)
		}
	}
}

// sharedStore is the `shared` table of scripts: one goroutine-safe
// key-value store for all scripts and flows, with optional expiry.
type sharedStore struct {
	mu     sync.Mutex
	m      map[string]sharedEntry
	writes int
}

type sharedEntry struct {
	v   any
	exp time.Time // zero: never
}

const maxSharedKeys = 1 << 20

func newSharedStore() *sharedStore { return &sharedStore{m: make(map[string]sharedEntry)} }

func (s *sharedStore) getLocked(k string, now time.Time) (sharedEntry, bool) {
	e, ok := s.m[k]
	if ok && !e.exp.IsZero() && !now.Before(e.exp) {
		delete(s.m, k)
		return sharedEntry{}, false
	}
	return e, ok
}

func (s *sharedStore) get(k string) any {
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

func (s *sharedStore) set(k string, v any, ttl float64) error {
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

// incr adds by to a number (a missing or expired key counts as 0, and
// then gets the expiry ttl; an existing key keeps its expiry, which makes
// fixed-window rate limits one line).
func (s *sharedStore) incr(k string, by, ttl float64) (float64, error) {
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

func (s *sharedStore) roomLocked(k string, now time.Time) error {
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
