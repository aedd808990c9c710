package flowfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// Format is a kind of flow file.
type Format int

const (
	Unknown   Format = iota
	JSONLines        // one flowstore.Flow object per line
	HAR              // one JSON object holding "log"
)

func (f Format) String() string {
	switch f {
	case JSONLines:
		return "JSON lines"
	case HAR:
		return "HAR"
	}
	return "unknown"
}

// ErrUnknownFormat is returned by Load for input that is neither format.
var ErrUnknownFormat = errors.New("not a flow file: neither JSON lines nor HAR")

// DetectSize is how much of a file Load looks at; Detect needs only the
// first keys of the first object.
const DetectSize = 64 << 10

var bom = []byte("\xef\xbb\xbf")

// flowKeys are top-level keys of a flowstore.Flow object; a file whose
// first object has one is JSON lines.
var flowKeys = map[string]bool{"id": true, "state": true, "request": true, "response": true, "client": true, "timings": true}

// Detect tells the format from the start of a file. Both formats start
// with a JSON object; the keys of the first one decide: "log" is HAR, the
// fields of a flow are JSON lines. A first line too long for the prefix
// (a flow with a large body) is fine: the keys come first.
func Detect(prefix []byte) Format {
	p := bytes.TrimLeft(bytes.TrimPrefix(prefix, bom), " \t\r\n")
	if len(p) == 0 || p[0] != '{' {
		return Unknown
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	if _, err := dec.Token(); err != nil {
		return Unknown
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Unknown
		}
		switch key, _ := tok.(string); {
		case key == "log":
			return HAR
		case flowKeys[key]:
			return JSONLines
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return Unknown
		}
	}
	return Unknown
}

// Load reads the flows of a file in either format. Its warnings are those
// of flowstore.ReadLines; for HAR each names the line and entry, as
// "entry 4: bad URL …". Every flow has been through
// flowstore.ValidateLoaded, and a standing mock whose filter does not parse
// is removed from its flow (with a warning naming the flow) rather than
// left to stop every other mock from loading. A file with nothing in it
// holds no flows and is not an error.
func Load(r io.Reader) ([]*flowstore.Flow, []flowstore.LoadWarning, error) {
	br := bufio.NewReaderSize(r, DetectSize)
	prefix, err := br.Peek(DetectSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("read flow file: %w", err)
	}
	switch Detect(prefix) {
	case JSONLines:
		flows, warns, err := flowstore.ReadLines(br)
		return flows, checkMocks(flows, warns), err
	case HAR:
		flows, hw, err := har.Read(br)
		warns := make([]flowstore.LoadWarning, 0, len(hw))
		for _, w := range hw {
			msg := w.Msg
			if w.Entry > 0 {
				msg = fmt.Sprintf("entry %d: %s", w.Entry, w.Msg)
			}
			warns = append(warns, flowstore.LoadWarning{Line: w.Line, Msg: msg})
		}
		return flows, checkMocks(flows, warns), err
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(prefix, bom))) == 0 {
		return nil, nil, nil
	}
	start := prefix[:min(len(prefix), 40)]
	return nil, nil, fmt.Errorf("%w (it starts with %q)", ErrUnknownFormat, start)
}

// checkMocks removes standing mocks whose filter does not parse.
func checkMocks(flows []*flowstore.Flow, warns []flowstore.LoadWarning) []flowstore.LoadWarning {
	for _, f := range flows {
		if f.Mock == nil || f.Mock.Filter == "" {
			continue
		}
		if _, err := filter.Parse(f.Mock.Filter); err != nil {
			warns = append(warns, flowstore.LoadWarning{Msg: fmt.Sprintf("flow %s: standing mock filter %q does not parse (%v); the mock is removed, the flow kept", f.ID, f.Mock.Filter, err)})
			f.Mock = nil
		}
	}
	return warns
}
