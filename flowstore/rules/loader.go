package rules

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Loader keeps rules files in effect: it reads each file, hands its rules
// to Apply (under the file's absolute path as their source), and, while
// Watch runs, reads a file again when it changes. An edit that does not
// parse, or that Apply refuses, leaves the file's previous rules in effect
// and is reported to the event log as file:line, once per version.
type Loader struct {
	// Apply replaces the rules of one source (the engine's ReplaceRules).
	Apply func(source string, rs []Rule) error
	Log   *flowstore.EventLog
	// Interval is how often Watch looks at the files (default 500ms).
	Interval time.Duration

	mu    sync.Mutex
	files []*watched
}

type watched struct {
	path    string
	modTime time.Time
	size    int64
	hash    [32]byte // of the version in effect
	bad     [32]byte // of a version that failed, not reported twice
	// emptySeen: the file was read empty once; a second empty read applies.
	emptySeen bool
}

// NewLoader returns a loader that applies rules with apply and reports to
// log (which may be nil).
func NewLoader(apply func(source string, rs []Rule) error, log *flowstore.EventLog) *Loader {
	return &Loader{Apply: apply, Log: log}
}

// Add reads a rules file and applies it. An error (the file cannot be
// read, does not parse, or is refused) is returned with file:line and the
// file is not watched: at startup a broken file is a mistake to fix now.
func (l *Loader) Add(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	w := &watched{path: abs}
	if err := l.load(w, true); err != nil {
		return err
	}
	l.mu.Lock()
	l.files = append(l.files, w)
	l.mu.Unlock()
	return nil
}

// Files are the watched files' absolute paths.
func (l *Loader) Files() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.files))
	for i, w := range l.files {
		out[i] = w.path
	}
	return out
}

// Watch reloads files that change, until ctx ends.
func (l *Loader) Watch(ctx context.Context) {
	every := l.Interval
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Poll()
		}
	}
}

// Poll reloads each file whose size or modification time changed since it
// was last read (Watch calls it; a test or a signal handler may too).
func (l *Loader) Poll() {
	l.mu.Lock()
	files := append([]*watched(nil), l.files...)
	l.mu.Unlock()
	for _, w := range files {
		fi, err := os.Stat(w.path)
		if err != nil {
			continue // being replaced, or gone: what runs stays
		}
		if fi.ModTime().Equal(w.modTime) && fi.Size() == w.size {
			continue
		}
		_ = l.load(w, false)
	}
}

// load reads w's file and applies it; on a failure the previous rules
// stay and, when reporting, the error goes to the log.
func (l *Loader) load(w *watched, first bool) error {
	fi, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("rules file: %w", err)
	}
	data, err := os.ReadFile(w.path)
	if err != nil {
		return fmt.Errorf("rules file: %w", err)
	}
	sum := sha256.Sum256(data)
	if !first && len(data) == 0 && w.size > 0 && !w.emptySeen {
		// A file written in place is empty between its truncation and its
		// new content: an empty file counts once it stays so a poll.
		w.emptySeen = true
		return nil
	}
	w.emptySeen = false
	w.modTime, w.size = fi.ModTime(), fi.Size()
	if !first && (sum == w.hash || sum == w.bad) {
		return nil // touched, not changed; or a broken version already reported
	}
	rs, err := ParseFile(w.path, data)
	if err == nil {
		err = l.Apply(w.path, rs)
	}
	if err != nil {
		if !first {
			if now, serr := os.Stat(w.path); serr == nil && (!now.ModTime().Equal(w.modTime) || now.Size() != w.size) {
				return err // still being written: the next poll reads it whole
			}
		}
		w.bad = sum
		if !first {
			l.log(flowstore.LevelError, fmt.Sprintf("%v\n(the previous rules of %s stay in effect)", err, w.path))
		}
		return err
	}
	w.hash, w.bad = sum, [32]byte{}
	verb := "loaded"
	if !first {
		verb = "reloaded"
	}
	l.log(flowstore.LevelInfo, fmt.Sprintf("%s %d rule(s) from %s", verb, len(rs), w.path))
	return nil
}

func (l *Loader) log(level flowstore.Level, msg string) {
	if l.Log != nil {
		l.Log.Add(level, "rules", "", msg)
	}
}
