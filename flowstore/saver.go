package flowstore

import (
	"context"
	"fmt"
	"os"
)

// FileSaver appends each finished flow that its match accepts to a
// JSON-lines file as it finishes, through a Saver. Capture matters more
// than the file: when the file cannot be opened or written the log says so,
// once, and the flows stay in memory; when writing works again the log says
// that too.
type FileSaver struct {
	path  string
	file  *os.File // nil: the file did not open, nothing is saved
	saver *Saver
	sub   *Subscription
	match func(*Flow) bool
	log   *EventLog
}

// OpenFileSaver opens path for appending, creating it readable by its
// owner alone (flows carry cookies and tokens), and subscribes to store's
// finished flows at once, so that none that finishes before Run starts is
// missed. match picks the flows to save (nil: all). A file that does not
// open is reported to log, and the FileSaver then saves nothing.
func OpenFileSaver(store *Store, path string, match func(*Flow) bool, log *EventLog) *FileSaver {
	s := &FileSaver{path: path, match: match, log: log}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		log.Add(LevelError, "save", "", fmt.Sprintf("cannot open %s for saving (%v); flows are kept in memory only", path, err))
		return s
	}
	s.file, s.saver = f, NewSaver(f)
	s.sub = store.SubscribeTo(EventFinished)
	s.sub.Lost = func(n int) {
		log.Add(LevelError, "save", "", fmt.Sprintf("%d finished flows were not saved to %s: writing fell too far behind (they are still in the store; export them with the TUI or --har)", n, path))
	}
	return s
}

// Run saves until ctx is done, then saves what is left, closes the file
// and returns. It does not wait between flows, as a printer does: what
// finished before a crash must be on disk.
func (s *FileSaver) Run(ctx context.Context) {
	if s.file == nil {
		return
	}
	defer s.file.Close() // after the last drain
	failing := false
	s.sub.Follow(ctx, func(batch []*Flow) {
		for _, f := range batch {
			if s.match != nil && !s.match(f) {
				continue
			}
			if err := s.saver.Save(f); err != nil {
				if !failing {
					s.log.Add(LevelError, "save", f.ID, fmt.Sprintf("cannot write %s: %v; flows stay in memory", s.path, err))
				}
				failing = true
				continue
			}
			if failing {
				s.log.Add(LevelInfo, "save", "", "writing "+s.path+" works again")
				failing = false
			}
		}
	})
}

// Saved is how many flows were written.
func (s *FileSaver) Saved() int {
	if s.saver == nil {
		return 0
	}
	return s.saver.Saved()
}
