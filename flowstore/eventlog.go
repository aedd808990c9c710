package flowstore

import (
	"fmt"
	"sync"
	"time"
)

// Level is an event log entry's severity.
type Level uint8

const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
)

func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	}
	return "error"
}

// LogEntry is one line of the event log.
type LogEntry struct {
	Seq    uint64
	Time   time.Time
	Level  Level
	Source string // "proxy", "script:name.lua", "tui", ...
	FlowID string // the flow it concerns, if any
	Msg    string
}

// String is the entry as one line of text for a terminal (headless mode
// prints it on stderr): control bytes in the message, which can quote what
// an origin, a loaded file or a script sent, are escaped (EscapeControl).
func (e LogEntry) String() string {
	s := e.Time.Format("15:04:05.000") + " " + e.Level.String() + " [" + EscapeControl(e.Source) + "] " + EscapeControl(e.Msg)
	if e.FlowID != "" {
		s += " (flow " + e.FlowID + ")"
	}
	return s
}

// EventLog keeps the last entries of what the proxy, scripts and the UI had
// to say. Nothing in the program writes to the terminal directly while the
// TUI runs; everything comes here. Writers never block on readers.
type EventLog struct {
	mu      sync.Mutex
	entries []LogEntry // ring of capacity cap
	start   int
	seq     uint64
	cap     int
	notify  chan struct{}
	tee     func(LogEntry)
}

// NewEventLog keeps the last n entries.
func NewEventLog(n int) *EventLog {
	if n <= 0 {
		n = 1000
	}
	return &EventLog{cap: n, notify: make(chan struct{}, 1)}
}

// Tee makes every entry also go to fn (headless mode prints them on
// stderr). fn is called outside the log's lock.
func (l *EventLog) Tee(fn func(LogEntry)) {
	l.mu.Lock()
	l.tee = fn
	l.mu.Unlock()
}

// C is signalled (coalesced) when entries are added.
func (l *EventLog) C() <-chan struct{} { return l.notify }

// Add appends an entry.
func (l *EventLog) Add(level Level, source, flowID, msg string) {
	l.mu.Lock()
	l.seq++
	e := LogEntry{Seq: l.seq, Time: time.Now(), Level: level, Source: source, FlowID: flowID, Msg: msg}
	if len(l.entries) < l.cap {
		l.entries = append(l.entries, e)
	} else {
		l.entries[l.start] = e
		l.start = (l.start + 1) % l.cap
	}
	tee := l.tee
	l.mu.Unlock()
	if tee != nil {
		tee(e)
	}
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Logf adds a formatted entry.
func (l *EventLog) Logf(level Level, source, format string, args ...any) {
	l.Add(level, source, "", fmt.Sprintf(format, args...))
}

// Entries returns the kept entries, oldest first.
func (l *EventLog) Entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]LogEntry, 0, len(l.entries))
	out = append(out, l.entries[l.start:]...)
	out = append(out, l.entries[:l.start]...)
	return out
}

// Last returns the newest entry, if any.
func (l *EventLog) Last() (LogEntry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == 0 {
		return LogEntry{}, false
	}
	i := (l.start + len(l.entries) - 1) % len(l.entries)
	return l.entries[i], true
}

// Clear drops every entry.
func (l *EventLog) Clear() {
	l.mu.Lock()
	l.entries, l.start = nil, 0
	l.mu.Unlock()
}
