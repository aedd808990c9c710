package scripting_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// writeScript writes src to name in a temporary directory.
func writeScript(t testing.TB, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// engine loads one script with the given source.
func engine(t testing.TB, src string, opts ...func(*scripting.Options)) (*scripting.Engine, *flowstore.EventLog) {
	t.Helper()
	log := flowstore.NewEventLog(10000)
	o := scripting.Options{Paths: []string{writeScript(t, "test.lua", src)}, Log: log}
	for _, fn := range opts {
		fn(&o)
	}
	e, err := scripting.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.Close)
	return e, log
}

// logged waits until an entry containing all of parts is in the log.
func logged(t testing.TB, log *flowstore.EventLog, parts ...string) flowstore.LogEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, e := range log.Entries() {
			ok := true
			for _, p := range parts {
				if !strings.Contains(e.String(), p) {
					ok = false
					break
				}
			}
			if ok {
				return e
			}
		}
		if time.Now().After(deadline) {
			var all []string
			for _, e := range log.Entries() {
				all = append(all, e.String())
			}
			t.Fatalf("no log entry with %q in:\n%s", parts, strings.Join(all, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var bg = context.Background()

// testContext is cancelled when the test ends.
func testContext(t testing.TB) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}

// engineJS loads one JavaScript script with the given source.
func engineJS(t testing.TB, src string, opts ...func(*scripting.Options)) (*scripting.Engine, *flowstore.EventLog) {
	t.Helper()
	log := flowstore.NewEventLog(10000)
	o := scripting.Options{Paths: []string{writeScript(t, "test.js", src)}, Log: log}
	for _, fn := range opts {
		fn(&o)
	}
	e, err := scripting.New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.Close)
	return e, log
}
