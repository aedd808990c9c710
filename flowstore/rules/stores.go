package rules

import (
	"maps"
	"sync"
)

// Stores hold values captured from requests, by store and key, for the
// templates of later responses. They outlive rule sets: a reload keeps
// what was captured. Safe for concurrent use.
type Stores struct {
	mu sync.RWMutex
	m  map[string]map[string]string
}

// maxStoredValue bounds one captured value: a JSON path can select a
// large subtree, and values are kept for the proxy's lifetime.
const maxStoredValue = 64 << 10

// NewStores returns empty stores.
func NewStores() *Stores { return &Stores{m: map[string]map[string]string{}} }

// Get returns a stored value.
func (s *Stores) Get(store, key string) (string, bool) {
	if s == nil {
		return "", false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[store][key]
	return v, ok
}

// Set stores a value (cut to 64 KiB).
func (s *Stores) Set(store, key, value string) {
	if len(value) > maxStoredValue {
		value = value[:maxStoredValue]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[store] == nil {
		s.m[store] = map[string]string{}
	}
	s.m[store][key] = value
}

// Snapshot copies every store, for a view.
func (s *Stores) Snapshot() map[string]map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]map[string]string, len(s.m))
	for k, v := range s.m {
		out[k] = maps.Clone(v)
	}
	return out
}

// Clear forgets every value.
func (s *Stores) Clear() {
	s.mu.Lock()
	s.m = map[string]map[string]string{}
	s.mu.Unlock()
}
