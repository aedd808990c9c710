package tui

import (
	"os"
	"path/filepath"
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
	if got := m.why(keys.ActCopy, m.selected()); !strings.Contains(got, "no longer held") {
		t.Fatalf("copy of an evicted flow says %q", got)
	}
}

// Saving reads the chosen flows from the store as it writes; the message
// afterwards counts the flows in the file, and says how many had gone.
func TestSaveCountsTheFlowsWritten(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := addFlows(s, 0, 5, "x")
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	m.saveFlows("", "a")
	j := m.job
	if j == nil || j.Chosen() != 5 {
		t.Fatalf("job %+v", j)
	}
	s.Delete(fs[1].ID, fs[3].ID) // gone before the file is written
	j.Path, j.Format = filepath.Join(t.TempDir(), "out.jsonl"), "jsonl"
	n, err := j.Write()
	if err != nil {
		t.Fatal(err)
	}
	m.written(writtenMsg{job: j, n: n})
	got := m.status.Flashing()
	if !strings.HasPrefix(got, "wrote 3 flows as JSON lines to ") || !strings.Contains(got, "2 flows of those chosen had gone") {
		t.Fatalf("flash %q", got)
	}
	file, err := os.Open(j.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	loaded, _, err := flowstore.ReadLines(file)
	if err != nil || len(loaded) != 3 {
		t.Fatalf("the file holds %d flows (%v)", len(loaded), err)
	}
}
