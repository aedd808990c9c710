package flowstore_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// lockedBuffer is a bytes.Buffer a test can read while another goroutine
// writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// except matches every flow but those with path p.
func except(p string) func(*flowstore.Flow) bool {
	return func(f *flowstore.Flow) bool { return f.Request.Path != p }
}

func TestPrinterPrintsFinishedFlowsThatMatch(t *testing.T) {
	store := flowstore.NewStore(0)
	var out bytes.Buffer
	p := flowstore.NewPrinter(store, &out, except("/skip"), nil)
	// Subscribed already: flows that finish before Run are printed too.
	a := store.Add(flowtest.New(flowtest.URL("http://a.test/one")))
	store.Add(flowtest.New(flowtest.URL("http://a.test/skip")))
	store.Add(flowtest.New(flowtest.URL("http://a.test/busy"), flowtest.NoResponse()))
	b := store.Add(flowtest.New(flowtest.URL("http://a.test/two"), flowtest.Failed("dial: refused")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run drains what is there and returns
	p.Run(ctx)
	want := flowstore.FormatLine(a) + "\n" + flowstore.FormatLine(b) + "\n"
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}
}

// Lines reach the reader while the printer runs, not only when it stops.
func TestPrinterFlushesEachBatch(t *testing.T) {
	store := flowstore.NewStore(0)
	var out lockedBuffer
	p := flowstore.NewPrinter(store, &out, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f := store.Add(flowtest.New())
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != flowstore.FormatLine(f)+"\n" {
		if time.Now().After(deadline) {
			t.Fatalf("nothing printed while running: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPrintToPrintsFromALevelUp(t *testing.T) {
	log := flowstore.NewEventLog(10)
	var out lockedBuffer
	log.PrintTo(&out, flowstore.LevelInfo)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			log.Add(flowstore.LevelDebug, "proxy", "", "quiet")
			log.Add(flowstore.LevelWarn, "save", "", "a\x1b[2Jb")
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("printed %d lines, want the 4 warnings:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "warn [save] a\\x1b[2Jb") {
			t.Errorf("line %q, want the entry with its control byte escaped", l)
		}
	}
}
