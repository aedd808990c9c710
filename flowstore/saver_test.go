package flowstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// logged is the log's entries as "level [source] msg" lines.
func logged(log *flowstore.EventLog) string {
	var b strings.Builder
	for _, e := range log.Entries() {
		b.WriteString(e.Level.String() + " [" + e.Source + "] " + e.Msg + "\n")
	}
	return b.String()
}

func readFile(t *testing.T, path string) []*flowstore.Flow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flows, warns, err := flowstore.ReadLines(f)
	if err != nil || len(warns) > 0 {
		t.Fatalf("read %s: %v, %v", path, warns, err)
	}
	return flows
}

func stopped() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestFileSaverAppendsFinishedFlowsThatMatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.jsonl")
	store := flowstore.NewStore(0)
	log := flowstore.NewEventLog(10)
	// Loaded before the saver subscribes: not saved again.
	store.Add(flowtest.New(flowtest.URL("http://a.test/loaded")))
	s := flowstore.OpenFileSaver(store, path, except("/skip"), log)
	a := store.Add(flowtest.New(flowtest.URL("http://a.test/one")))
	store.Add(flowtest.New(flowtest.URL("http://a.test/skip")))
	busy := store.Add(flowtest.New(flowtest.URL("http://a.test/busy"), flowtest.NoResponse()))
	s.Run(stopped())
	// A second run appends (a restart with the same --save).
	s2 := flowstore.OpenFileSaver(store, path, nil, log)
	store.Update(busy.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
	s2.Run(stopped())

	got := readFile(t, path)
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != busy.ID || s.Saved() != 1 || s2.Saved() != 1 {
		t.Fatalf("saved %d flows (%d, %d), want /one then /busy once it finished", len(got), s.Saved(), s2.Saved())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if l := logged(log); l != "" {
		t.Fatalf("logged %q", l)
	}
}

func TestFileSaverThatCannotOpenSaysSoAndSavesNothing(t *testing.T) {
	store := flowstore.NewStore(0)
	log := flowstore.NewEventLog(10)
	path := filepath.Join(t.TempDir(), "no such dir", "flows.jsonl")
	s := flowstore.OpenFileSaver(store, path, nil, log)
	store.Add(flowtest.New())
	s.Run(context.Background()) // returns at once: nothing to follow
	if l := logged(log); s.Saved() != 0 || !strings.HasPrefix(l, "error [save] cannot open "+path) || !strings.Contains(l, "kept in memory only") {
		t.Fatalf("saved %d, logged %q", s.Saved(), l)
	}
}

func TestFileSaverToAFullDiskSaysSoOnce(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	store := flowstore.NewStore(0)
	log := flowstore.NewEventLog(10)
	s := flowstore.OpenFileSaver(store, "/dev/full", nil, log)
	for range 3 {
		store.Add(flowtest.New())
	}
	s.Run(stopped())
	if l := logged(log); strings.Count(l, "cannot write /dev/full") != 1 || !strings.Contains(l, "no space left on device") {
		t.Fatalf("logged %q, want one error", l)
	}
}
