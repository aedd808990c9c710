package flowstore

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The JSON-lines format: one Flow object per line, as Go's encoding/json
// writes the Flow struct. Bodies are base64 (binary-safe), headers are
// [name, value] pairs in wire order, times are RFC 3339 with nanoseconds.

// MarshalJSON writes a header as a [name, value] pair.
func (h Header) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{h.Name, h.Value})
}

// UnmarshalJSON reads a [name, value] pair.
func (h *Header) UnmarshalJSON(b []byte) error {
	var kv [2]string
	if err := json.Unmarshal(b, &kv); err != nil {
		return fmt.Errorf("header: want [name, value]: %w", err)
	}
	h.Name, h.Value = kv[0], kv[1]
	return nil
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	st, ok := ParseState(string(b))
	if !ok {
		return fmt.Errorf("unknown flow state %q", b)
	}
	*s = st
	return nil
}

// MarshalLine encodes one flow as a JSON line, newline included.
func MarshalLine(f *Flow) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// LoadWarning describes a line of a flow file that could not be read, or
// a value in it that was repaired or refused. Line is 0 when the warning
// names the flow instead.
type LoadWarning struct {
	Line int
	Msg  string
}

func (w LoadWarning) String() string {
	if w.Line == 0 {
		return w.Msg
	}
	return fmt.Sprintf("line %d: %s", w.Line, w.Msg)
}

// ReadLines reads JSON-lines flows. A line that does not parse is skipped
// and reported, so a damaged file yields everything that is still good; an
// unterminated last line (a write cut short by a crash) is reported as such.
// Each flow is checked by ValidateLoaded: what it repairs or refuses is
// reported too. The error is for I/O failures only.
func ReadLines(r io.Reader) ([]*Flow, []LoadWarning, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var flows []*Flow
	var warns []LoadWarning
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return flows, warns, fmt.Errorf("read line %d: %w", n, err)
		}
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			f := new(Flow)
			if derr := json.Unmarshal(trimmed, f); derr != nil || f.Request == nil {
				msg := "not a flow; skipped"
				if derr != nil {
					msg = derr.Error() + "; skipped"
				}
				if !complete {
					msg = "last line is cut short (the writer was probably killed); skipped"
				}
				warns = append(warns, LoadWarning{Line: n, Msg: msg})
			} else {
				notes, keep := ValidateLoaded(f)
				for _, note := range notes {
					warns = append(warns, LoadWarning{Line: n, Msg: "flow " + flowName(f.ID) + ": " + note})
				}
				if keep {
					flows = append(flows, f)
				}
			}
		}
		if err != nil {
			return flows, warns, nil
		}
	}
}

// flowName is a flow's ID for a warning, cut to a sane length.
func flowName(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}

// Saver appends finished flows to a writer, one JSON line each, with a
// single Write per flow so that a process killed at any moment leaves at
// most one partial line behind.
type Saver struct {
	mu    sync.Mutex
	w     io.Writer
	saved int
}

// NewSaver writes to w (typically a file opened with O_APPEND).
func NewSaver(w io.Writer) *Saver { return &Saver{w: w} }

// Save writes one flow. After a write error (a full disk, a file made
// read-only) the saver remembers the error and keeps trying with later
// flows, so that capture goes on and saving resumes if space comes back.
func (s *Saver) Save(f *Flow) error {
	line, err := MarshalLine(f)
	if err != nil {
		return fmt.Errorf("encode flow %s: %w", f.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line); err != nil {
		return err
	}
	s.saved++
	return nil
}

// Saved is how many flows were written.
func (s *Saver) Saved() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved
}
