package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// applied records what a Loader hands over.
type applied struct {
	mu  sync.Mutex
	got map[string][]rules.Rule
	n   int
}

func (a *applied) apply(source string, rs []rules.Rule) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.got == nil {
		a.got = map[string][]rules.Rule{}
	}
	a.got[source] = rs
	a.n++
	return nil
}

func (a *applied) names(source string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var s []string
	for _, r := range a.got[source] {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

// rewrite replaces a file and moves its time on, so that a poll sees the
// change even on a file system with coarse times.
func rewrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Duration(len(data)) * time.Second)
	os.Chtimes(path, later, later)
}

// A changed file is read again; a broken edit keeps the rules in effect and
// is reported once, with file:line; the fix is taken.
func TestLoaderReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	rewrite(t, path, "- {name: a, block: 403}\n")
	log := flowstore.NewEventLog(100)
	var got applied
	l := rules.NewLoader(got.apply, log)
	if err := l.Add(path); err != nil {
		t.Fatal(err)
	}
	if got.names(path) != "a" {
		t.Fatalf("%q", got.names(path))
	}
	rewrite(t, path, "- {name: a, block: 403}\n- {name: b, block: 404}\n")
	l.Poll()
	if got.names(path) != "a,b" {
		t.Fatalf("after an edit: %q", got.names(path))
	}
	rewrite(t, path, "- {name: a, block: 403}\n- {name: b, replace: {in: response, pattern: '(', with: x}}\n")
	l.Poll()
	l.Poll()
	if got.names(path) != "a,b" || got.n != 2 {
		t.Fatalf("a broken edit changed the rules: %q (%d applies)", got.names(path), got.n)
	}
	errs := 0
	for _, e := range log.Entries() {
		if e.Level == flowstore.LevelError {
			errs++
			if !strings.Contains(e.Msg, path+":2:") || !strings.Contains(e.Msg, "stay in effect") {
				t.Errorf("the error does not say where: %q", e.Msg)
			}
		}
	}
	if errs != 1 {
		t.Errorf("%d errors logged for one broken version", errs)
	}
	rewrite(t, path, "- {name: c, block: 403}\n")
	l.Poll()
	if got.names(path) != "c" {
		t.Fatalf("after the fix: %q", got.names(path))
	}
	// A file that goes away leaves its rules.
	os.Remove(path)
	l.Poll()
	if got.names(path) != "c" {
		t.Fatalf("after removal: %q", got.names(path))
	}
}

// A broken file at the start is an error to fix now.
func TestLoaderAddBroken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	rewrite(t, path, "- delay: soon\n")
	var got applied
	err := rules.NewLoader(got.apply, nil).Add(path)
	if err == nil || !strings.Contains(err.Error(), path+":1:") {
		t.Fatalf("%v", err)
	}
	if err := rules.NewLoader(got.apply, nil).Add(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

// A file written in place is empty for a moment: an empty read is taken
// only when the next poll reads it empty too.
func TestLoaderEmptyWhileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	rewrite(t, path, "- {name: a, block: 403}\n")
	var got applied
	l := rules.NewLoader(got.apply, nil)
	if err := l.Add(path); err != nil {
		t.Fatal(err)
	}
	rewrite(t, path, "")
	l.Poll()
	if got.names(path) != "a" {
		t.Fatalf("one empty read emptied the rules: %q", got.names(path))
	}
	l.Poll()
	if got.names(path) != "" {
		t.Fatalf("an emptied file kept its rules: %q", got.names(path))
	}
}
