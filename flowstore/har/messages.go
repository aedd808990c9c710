package har

import (
	"encoding/base64"
	"math"
	"time"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// WSMessage is one entry of Chrome's "_webSocketMessages" extension, with
// our own fields for what Chrome leaves out.
type WSMessage struct {
	Type   string  `json:"type"` // "send" (client to server) or "receive"
	Time   float64 `json:"time"` // Unix seconds
	Opcode int     `json:"opcode"`
	Data   string  `json:"data"` // text as is; binary payloads base64

	CloseCode  int    `json:"_closeCode,omitempty"`
	Size       int64  `json:"_size,omitempty"`
	Compressed bool   `json:"_compressed,omitempty"`
	Truncated  bool   `json:"_truncated,omitempty"`
	Note       string `json:"_note,omitempty"`
}

// SSEMessage is one entry of the "_eventSourceMessages" extension: a
// Server-Sent Event.
type SSEMessage struct {
	Time      float64 `json:"time"`
	EventName string  `json:"eventName,omitempty"`
	EventID   string  `json:"eventId,omitempty"`
	Data      string  `json:"data"`
	Size      int64   `json:"_size,omitempty"`
	Truncated bool    `json:"_truncated,omitempty"`
}

var opcodes = map[flowstore.MessageKind]int{
	flowstore.MessageText: 1, flowstore.MessageBinary: 2, flowstore.MessageClose: 8,
	flowstore.MessagePing: 9, flowstore.MessagePong: 10,
}

// unixSeconds rounds to microseconds so that export → import → export is
// stable.
func unixSeconds(t time.Time) float64 {
	return math.Round(float64(t.UnixNano())/1e3) / 1e6
}

func fromUnixSeconds(s float64) time.Time {
	return time.UnixMicro(int64(math.Round(s * 1e6))).UTC()
}

func messagesOf(f *flowstore.Flow) ([]WSMessage, []SSEMessage) {
	var ws []WSMessage
	var sse []SSEMessage
	for _, m := range f.Messages {
		if m.Kind == flowstore.MessageEvent {
			sse = append(sse, SSEMessage{Time: unixSeconds(m.Time), EventName: m.Event, EventID: m.ID,
				Data: string(m.Data), Size: m.Size, Truncated: m.Truncated})
			continue
		}
		w := WSMessage{Type: "receive", Time: unixSeconds(m.Time), Opcode: opcodes[m.Kind], Data: string(m.Data),
			CloseCode: m.CloseCode, Size: m.Size, Compressed: m.Compressed, Truncated: m.Truncated, Note: m.Note}
		if m.FromClient {
			w.Type = "send"
		}
		if m.Kind == flowstore.MessageBinary || !utf8.Valid(m.Data) {
			w.Data = base64.StdEncoding.EncodeToString(m.Data)
			if m.Kind != flowstore.MessageBinary {
				w.Note = joinNote(w.Note, "base64")
			}
		}
		ws = append(ws, w)
	}
	return ws, sse
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// toMessages reads both extensions back, in time order per kind.
func toMessages(ws []WSMessage, sse []SSEMessage) []flowstore.Message {
	var out []flowstore.Message
	for _, w := range ws {
		m := flowstore.Message{FromClient: w.Type == "send", Time: fromUnixSeconds(w.Time), CloseCode: w.CloseCode,
			Size: w.Size, Compressed: w.Compressed, Truncated: w.Truncated, Note: w.Note}
		switch w.Opcode {
		case 1:
			m.Kind = flowstore.MessageText
		case 2:
			m.Kind = flowstore.MessageBinary
		case 8:
			m.Kind = flowstore.MessageClose
		case 9:
			m.Kind = flowstore.MessagePing
		case 10:
			m.Kind = flowstore.MessagePong
		default:
			continue
		}
		m.Data = []byte(w.Data)
		if m.Kind == flowstore.MessageBinary || w.Note == "base64" || hasSuffixNote(w.Note, "base64") {
			if b, err := base64.StdEncoding.DecodeString(w.Data); err == nil {
				m.Data = b
			}
		}
		if m.Size == 0 {
			m.Size = int64(len(m.Data))
		}
		out = append(out, m)
	}
	for _, e := range sse {
		out = append(out, flowstore.Message{Time: fromUnixSeconds(e.Time), Kind: flowstore.MessageEvent,
			Event: e.EventName, ID: e.EventID, Data: []byte(e.Data), Size: max(e.Size, int64(len(e.Data))), Truncated: e.Truncated})
	}
	return out
}

func hasSuffixNote(note, s string) bool {
	return len(note) >= len(s)+2 && note[len(note)-len(s)-2:] == "; "+s
}
