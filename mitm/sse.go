package mitm

// Server-Sent Events, split into events as they stream past.

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// sseTap splits a Server-Sent Events body into events as it streams past,
// without holding any byte back.
type sseTap struct {
	io.ReadCloser
	ex      *exchange
	line    []byte
	data    []string
	event   string
	id      string
	hasData bool
	size    int64
}

func (t *sseTap) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	for _, c := range p[:n] {
		t.size++
		if c != '\n' {
			if len(t.line) < maxMessageKeep {
				t.line = append(t.line, c)
			}
			continue
		}
		t.endLine(string(bytes.TrimSuffix(t.line, []byte("\r"))))
		t.line = t.line[:0]
	}
	return n, err
}

func (t *sseTap) endLine(line string) {
	if line == "" { // a blank line dispatches the event
		if t.hasData || t.event != "" {
			t.ex.addMessage(flowstore.Message{Time: time.Now(), Kind: flowstore.MessageEvent,
				Data: []byte(strings.Join(t.data, "\n")), Size: t.size, Event: t.event, ID: t.id})
		}
		t.data, t.event, t.hasData, t.size = nil, "", false, 0
		return
	}
	if strings.HasPrefix(line, ":") {
		return // a comment
	}
	field, value, _ := strings.Cut(line, ":")
	value = strings.TrimPrefix(value, " ")
	switch field {
	case "data":
		t.data = append(t.data, value)
		t.hasData = true
	case "event":
		t.event = value
	case "id":
		t.id = value
	}
}
