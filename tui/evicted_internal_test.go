package tui

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

// A row can outlive its flow by a frame when the store evicts the oldest
// flows; acting on it must say so, not that nothing is selected.
func TestActionOnAnEvictedFlowSaysSo(t *testing.T) {
	s := flowstore.NewStore(2100)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fs := addFlows(s, 0, 2000, "x")
	waitSpooled(t, s, fs[0].ID) // its row holds a summary only
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	m.list.Select(fs[0].ID)
	if got := m.why(keys.ActCopy, m.selected()); got != "" {
		t.Fatalf("copy of a held flow: %q", got)
	}
	addFlows(s, 2000, 200, "y") // evicts the oldest 100
	m.selSum = nil              // as after the next frame's lookup
	if got := m.why(keys.ActCopy, m.selected()); !strings.Contains(got, "no longer held") {
		t.Fatalf("copy of an evicted flow says %q", got)
	}
}
