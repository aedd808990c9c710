package clip

import (
	"io"
	"os"
	"sync"
)

// OSC 52 is written to the terminal the program draws on. Bubble Tea's
// renderer writes each frame in one Write, and the clipboard's sequence
// goes through the same lock, so neither lands inside the other.

// Terminal is f with its writes serialized, and whether f is a terminal.
// It is still a term.File, so Bubble Tea sees the terminal it is.
func Terminal(f *os.File) (out io.Writer, terminal bool) {
	fi, err := f.Stat()
	return &termOut{File: f}, err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Locked is w with its writes serialized, for output that is not a
// terminal (tests, embedding).
func Locked(w io.Writer) io.Writer { return &lockedWriter{w: w} }

type termOut struct {
	*os.File
	mu sync.Mutex
}

func (t *termOut) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.File.Write(p)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
