package hook

import (
	"testing"
	"time"
)

// A flow whose done phase never comes does not keep its ctx for ever.
func TestCtxSweep(t *testing.T) {
	s := NewCtxStore()
	s.Put("old", &Table{Hash: map[any]any{"k": "v"}})
	s.m["old"].used = time.Now().Add(-2 * time.Hour)
	s.Put("new", &Table{Hash: map[any]any{"k": "v"}})
	s.Sweep(time.Hour)
	if s.Has("old") || !s.Has("new") || s.Len() != 1 {
		t.Fatal("sweep")
	}
}
