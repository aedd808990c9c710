package flowview

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// The pure parts of the Messages tab: a message and a width in, a line out.

// HasMessages reports whether a flow gets a Messages tab: it has messages,
// or it is a WebSocket upgrade or an event stream that may get some.
func HasMessages(f *flowstore.Flow) bool {
	if f == nil {
		return false
	}
	if len(f.Messages) > 0 || f.MessagesDropped > 0 {
		return true
	}
	if r := f.Response; r != nil && (r.Status == 101 || content.MediaType(r.Headers.Get("Content-Type")) == "text/event-stream") {
		return true
	}
	return f.Request != nil && strings.EqualFold(f.Request.Headers.Get("Upgrade"), "websocket")
}

// MessageCols lays out the rows of the Messages tab for one width. Flags
// is the width of the flags column (compressed, truncated), 0 when no
// message of the flow has a flag, so the previews of all rows line up.
type MessageCols struct {
	Width int
	Flags int
}

// Fixed column widths: cursor, arrow, time, type, size.
const (
	msgTimeW = 12 // 15:04:05.000
	msgTypeW = 12
	msgSizeW = 5 // 1023k, as flowstore.FormatSize writes it
	// msgTimeFrom is the narrowest screen that still shows the time.
	msgTimeFrom = 60
)

func (c MessageCols) showTime() bool { return c.Width >= msgTimeFrom }

// preview is the width left for the preview column, 0 when none is.
func (c MessageCols) preview() int {
	w := c.Width - 1 - 2 - (msgTypeW + 1) - (msgSizeW + 1) - 1
	if c.showTime() {
		w -= msgTimeW + 1
	}
	if c.Flags > 0 {
		w -= c.Flags + 1
	}
	return max(w, 0)
}

// MessageFlags are the flags a message shows in its row.
func MessageFlags(msg *flowstore.Message) string {
	switch {
	case msg.Compressed && msg.Truncated:
		return "compressed truncated"
	case msg.Compressed:
		return "compressed"
	case msg.Truncated:
		return "truncated"
	}
	return ""
}

// Arrow is a message's direction: → from the client to the server, ←
// from the server to the client (every Server-Sent Event).
func Arrow(msg *flowstore.Message) string {
	if msg.FromClient {
		return "→"
	}
	return "←"
}

// MessageType is what the type column says: the kind, a close with its
// code, or an event's name ("message" when it has none, as in the spec).
func MessageType(msg *flowstore.Message) string {
	switch msg.Kind {
	case flowstore.MessageClose:
		if msg.CloseCode != 0 {
			return "close " + strconv.Itoa(msg.CloseCode)
		}
		return "close"
	case flowstore.MessageEvent:
		if msg.Event != "" {
			return clean(msg.Event)
		}
		return "message"
	}
	return string(msg.Kind)
}

// MessageHeader is the column header line of the Messages tab.
func MessageHeader(c MessageCols, st *theme.Styles) string {
	var b strings.Builder
	b.WriteString("   ")
	if c.showTime() {
		b.WriteString(" " + pad("time", msgTimeW, false))
	}
	b.WriteString(" " + pad("type", msgTypeW, false))
	b.WriteString(" " + pad("size", msgSizeW, true))
	if c.Flags > 0 {
		b.WriteString(" " + pad("", c.Flags, false))
	}
	if c.preview() > 0 {
		b.WriteString(" data")
	}
	return st.Header.Render(pad(b.String(), c.Width, false))
}

// MessageRow renders one message as a line exactly c.Width cells wide:
// cursor, direction, time, type, size, flags and a one-line preview. It
// is pure: the same message, columns and selection give the same string.
func MessageRow(msg *flowstore.Message, c MessageCols, selected bool, st *theme.Styles) string {
	var b strings.Builder
	b.Grow(c.Width + 64)
	cell := func(s string, w int, right bool, style *lipgloss.Style) {
		if w <= 0 {
			return
		}
		b.WriteByte(' ')
		s = pad(s, w, right)
		if style != nil && !selected {
			s = style.Render(s)
		}
		b.WriteString(s)
	}
	if selected {
		b.WriteString(">")
	} else {
		b.WriteString(" ")
	}
	arrowStyle := &st.Info
	if msg.FromClient {
		arrowStyle = &st.Accent
	}
	cell(Arrow(msg), 1, false, arrowStyle)
	if c.showTime() {
		t := ""
		if !msg.Time.IsZero() {
			t = msg.Time.Local().Format("15:04:05.000")
		}
		cell(t, msgTimeW, false, &st.Muted)
	}
	cell(MessageType(msg), msgTypeW, false, typeStyle(msg, st))
	cell(flowstore.FormatSize(msg.Size), msgSizeW, true, nil)
	if c.Flags > 0 {
		cell(MessageFlags(msg), c.Flags, false, &st.Flag)
	}
	if w := c.preview(); w > 0 {
		b.WriteByte(' ')
		b.WriteString(previewCell(msg, w, selected, st))
	}
	s := pad(b.String(), c.Width, false)
	if selected {
		return st.Selected.Render(s)
	}
	return s
}

func typeStyle(msg *flowstore.Message, st *theme.Styles) *lipgloss.Style {
	switch msg.Kind {
	case flowstore.MessageClose:
		return &st.Warn
	case flowstore.MessagePing, flowstore.MessagePong:
		return &st.Muted
	case flowstore.MessageEvent:
		return &st.SyntaxKey
	}
	return nil
}

// previewCell is the preview column: a hook's note first, then the data.
func previewCell(msg *flowstore.Message, w int, selected bool, st *theme.Styles) string {
	style := func(s lipgloss.Style, t string) string {
		if selected {
			return t
		}
		return s.Render(t)
	}
	var out string
	if msg.Note != "" {
		n := ansi.Truncate("["+clean(msg.Note)+"]", w, "…")
		out = style(st.Warn, n) + " "
		w -= ansi.StringWidth(n) + 1
	}
	if w <= 0 {
		return out
	}
	p, muted := MessagePreview(msg, w)
	if muted {
		p = style(st.Muted, p)
	}
	return out + p
}

// MessagePreview is a message's data on one line of at most w cells:
// text with newlines shown as ↵, or hex bytes for binary data. muted
// reports a stand-in (no data; a close's meaning) rather than the data.
func MessagePreview(msg *flowstore.Message, w int) (s string, muted bool) {
	if w <= 0 {
		return "", false
	}
	data := msg.Data
	if len(data) == 0 {
		if msg.Kind == flowstore.MessageClose && msg.CloseCode != 0 {
			return ansi.Truncate(closeMeaning(msg.CloseCode), w, "…"), true
		}
		return ansi.Truncate("(empty)", w, "…"), true
	}
	if messageIsText(msg) {
		return textPreview(data, w), false
	}
	return hexPreview(data, w), false
}

// messageIsText decides between text and hex: text, close and event
// messages are text; binary, ping and pong ones are when their bytes are.
func messageIsText(msg *flowstore.Message) bool {
	switch msg.Kind {
	case flowstore.MessageText, flowstore.MessageClose, flowstore.MessageEvent:
		return true
	}
	return content.LooksText(msg.Data[:min(len(msg.Data), 512)])
}

func textPreview(data []byte, w int) string {
	// Only the head can show: 4 bytes per cell is the most UTF-8 takes.
	data = bytes.TrimLeft(data, " \t\r\n")
	head := data[:min(len(data), 4*w+8)]
	var b strings.Builder
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			b.WriteString(display(head))
			break
		}
		b.WriteString(display(bytes.TrimSuffix(head[:i], []byte("\r"))))
		b.WriteString("↵")
		head = head[i+1:]
	}
	s := b.String()
	if ansi.StringWidth(s) > w || len(data) > 4*w+8 {
		s = ansi.Truncate(s, w, "…")
	}
	return s
}

func hexPreview(data []byte, w int) string {
	n := min(len(data), max((w+1)/3, 1))
	var b strings.Builder
	for i, c := range data[:n] {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	s := b.String()
	if n < len(data) {
		// Room for the ellipsis: drop the last byte when the row is full.
		if ansi.StringWidth(s)+2 > w {
			s = s[:max(len(s)-3, 0)]
		}
		s += " …"
	}
	return ansi.Truncate(s, w, "…")
}

// closeMeaning names the close codes of RFC 6455 and its registry.
func closeMeaning(code int) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status received"
	case 1006:
		return "abnormal closure"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake failure"
	}
	if code >= 4000 && code < 5000 {
		return "application code"
	}
	return "close code " + strconv.Itoa(code)
}

// MessageHead is what the view of one message shows above its data:
// direction, kind, number and time; sizes; close code; event fields; note.
// n is the message's number in the flow, counting dropped ones, from 1.
func MessageHead(msg *flowstore.Message, n int, width int, st *theme.Styles) []string {
	from, kind := "from the server", string(msg.Kind)+" message"
	if msg.FromClient {
		from = "from the client"
	}
	switch msg.Kind {
	case flowstore.MessageEvent:
		kind = "event"
	case flowstore.MessageClose:
		kind = "close"
	case flowstore.MessagePing, flowstore.MessagePong:
		kind = string(msg.Kind)
	}
	first := " " + Arrow(msg) + " " + st.Bold.Render(kind+" #"+strconv.Itoa(n)) + " " + from
	if !msg.Time.IsZero() {
		first += st.Muted.Render(" · " + msg.Time.Local().Format("2006-01-02 15:04:05.000"))
	}
	out := wrapStyled(first, width)
	kv := func(k, v string, style *lipgloss.Style) {
		if style != nil {
			v = style.Render(v)
		}
		out = append(out, wrapStyled(" "+st.SyntaxKey.Render(fmt.Sprintf("%-8s", k))+" "+v, width)...)
	}
	size := flowstore.FormatSize(msg.Size)
	if msg.Compressed {
		size += " on the wire, compressed (permessage-deflate)"
		if !msg.Truncated {
			size += ", " + flowstore.FormatSize(int64(len(msg.Data))) + " decompressed"
		}
	}
	kv("size", size, nil)
	if msg.Truncated {
		kv("kept", "only the first "+flowstore.FormatSize(int64(len(msg.Data))), &st.Warn)
	}
	if msg.Kind == flowstore.MessageClose {
		c := "none"
		if msg.CloseCode != 0 {
			c = strconv.Itoa(msg.CloseCode) + " (" + closeMeaning(msg.CloseCode) + ")"
		}
		kv("code", c, nil)
	}
	if msg.Kind == flowstore.MessageEvent {
		kv("event", MessageType(msg), nil)
		if msg.ID != "" {
			kv("id", clean(msg.ID), nil)
		}
	}
	if msg.Note != "" {
		kv("note", clean(msg.Note), &st.Warn)
	}
	return out
}

// messageSource is a message's data as the body viewers take it. The kind
// and the bytes decide the view: a text frame or event is text (or JSON,
// XML, HTML when it is that), a binary frame is whatever its bytes are,
// hex when they are not text.
func messageSource(msg *flowstore.Message) body.Source {
	src := body.Source{Data: msg.Data, Size: int64(len(msg.Data))}
	if msg.Truncated && !msg.Compressed {
		// Size is the full payload's only when nothing was inflated.
		src.Truncated, src.Size = true, max(msg.Size, src.Size)
	}
	if messageIsText(msg) {
		if k := content.Sniff(msg.Data); k == content.KindBinary || k == content.KindImage {
			src.ContentType = "text/plain" // a text frame is text; bad bytes show as ·
		}
	}
	return src
}

// pad fits s into exactly w cells: cut with "…" or padded with spaces.
func pad(s string, w int, right bool) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	if right {
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}
