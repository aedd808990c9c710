package mitm

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// After a 101, goproxy copies bytes between the client and the upstream
// through the response body (upgradedBody): Read carries server→client
// bytes, Write client→server. A wsStream per direction parses those bytes
// into RFC 6455 frames and messages for the flow. Without message hooks
// the bytes pass untouched and parsing happens on the side; with them, each
// data message is held until complete, handed to the hooks, and sent on as
// one frame (re-masked towards the server), or not at all if dropped.

const (
	maxMessagesPerFlow = 5000
	maxMessageKeep     = 256 << 10 // bytes of one message's payload kept in the flow
	maxRewriteMessage  = 16 << 20  // larger messages pass through a hook unseen
)

// WebSocketMessageHook sees each WebSocket data message and may change its
// Data or drop it; the change reaches the other side.
type WebSocketMessageHook interface {
	WebSocketMessage(ctx context.Context, f *flowstore.Flow, m *flowstore.Message) (drop bool, err error)
}

// deflateParams is what the handshake negotiated for permessage-deflate.
type deflateParams struct {
	on                     bool
	serverNoContext        bool
	clientNoContext        bool
	clientMaxWindowNonZero bool
}

func parseDeflate(extensions []string) deflateParams {
	var d deflateParams
	for _, v := range extensions {
		for _, ext := range strings.Split(v, ",") {
			parts := strings.Split(ext, ";")
			if strings.TrimSpace(parts[0]) != "permessage-deflate" {
				continue
			}
			d.on = true
			for _, p := range parts[1:] {
				switch strings.TrimSpace(strings.SplitN(p, "=", 2)[0]) {
				case "server_no_context_takeover":
					d.serverNoContext = true
				case "client_no_context_takeover":
					d.clientNoContext = true
				}
			}
		}
	}
	return d
}

// wsStream parses one direction.
type wsStream struct {
	ex         *exchange
	fromClient bool
	rewrite    bool
	deflate    bool
	noContext  bool
	window     []byte // last 32 KiB of inflated output, for context takeover

	buf []byte // unparsed input (rewrite mode: whole frames are needed)

	// The message being assembled.
	inMsg      bool
	msgOp      byte
	msgComp    bool
	msgData    []byte
	msgSize    int64
	msgFrames  [][]byte // raw frames of the message, to pass on untouched
	msgTooBig  bool
	skipRemain int64 // tap mode: payload bytes of an oversized frame still to skip
	skipMask   []byte
}

// feed takes bytes from the wire and returns the bytes to send on.
func (s *wsStream) feed(p []byte) []byte {
	if !s.rewrite {
		s.observe(p)
		return p
	}
	s.buf = append(s.buf, p...)
	var out []byte
	for {
		fr, n, ok := parseFrame(s.buf)
		if !ok {
			break
		}
		raw := s.buf[:n]
		out = s.frame(fr, raw, out)
		s.buf = s.buf[n:]
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return out
}

// observe parses without holding up the bytes (tap mode). A frame whose
// payload is larger than what a flow keeps is not buffered whole: its head
// is recorded and the rest of its payload skipped as it passes.
func (s *wsStream) observe(p []byte) {
	for len(p) > 0 {
		if s.skipRemain > 0 {
			n := min(int64(len(p)), s.skipRemain)
			s.skipRemain -= n
			p = p[n:]
			continue
		}
		s.buf = append(s.buf, p...)
		p = nil
		for {
			hdr, ok := parseFrameHeader(s.buf)
			if !ok {
				break
			}
			total := int64(hdr.headLen) + hdr.length
			if total <= int64(len(s.buf)) {
				fr := hdr.withPayload(s.buf[hdr.headLen:total])
				s.frame(fr, nil, nil)
				s.buf = s.buf[total:]
				continue
			}
			if hdr.length > maxMessageKeep {
				// Keep what we have of it (up to the cap) and skip the rest.
				have := int64(len(s.buf) - hdr.headLen)
				keep := min(have, maxMessageKeep)
				fr := hdr.withPayload(s.buf[hdr.headLen : int64(hdr.headLen)+keep])
				fr.partial = true
				s.frame(fr, nil, nil)
				s.skipRemain = hdr.length - have
				s.buf = nil
			}
			break
		}
		if len(s.buf) == 0 {
			s.buf = nil
		}
	}
}

type frame struct {
	fin, rsv1 bool
	op        byte
	payload   []byte // unmasked
	length    int64  // payload length on the wire
	partial   bool   // only the start of the payload is here
}

type frameHeader struct {
	fin, rsv1 bool
	op        byte
	masked    bool
	mask      [4]byte
	length    int64
	headLen   int
}

func parseFrameHeader(b []byte) (frameHeader, bool) {
	var h frameHeader
	if len(b) < 2 {
		return h, false
	}
	h.fin, h.rsv1, h.op = b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
	h.masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, false
		}
		h.length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, false
		}
		h.length = int64(binary.BigEndian.Uint64(b[2:10]) & (1<<63 - 1))
		n = 10
	default:
		h.length = int64(l)
	}
	if h.masked {
		if len(b) < n+4 {
			return h, false
		}
		copy(h.mask[:], b[n:n+4])
		n += 4
	}
	h.headLen = n
	return h, true
}

func (h frameHeader) withPayload(p []byte) frame {
	out := bytes.Clone(p)
	if h.masked {
		for i := range out {
			out[i] ^= h.mask[i%4]
		}
	}
	return frame{fin: h.fin, rsv1: h.rsv1, op: h.op, payload: out, length: h.length}
}

// parseFrame returns a whole frame at the start of b and its size.
func parseFrame(b []byte) (frame, int, bool) {
	h, ok := parseFrameHeader(b)
	if !ok {
		return frame{}, 0, false
	}
	total := int64(h.headLen) + h.length
	if total > int64(len(b)) {
		return frame{}, 0, false
	}
	return h.withPayload(b[h.headLen:total]), int(total), true
}

// frame handles one frame. raw is the frame as received (rewrite mode), and
// out collects what to send on.
func (s *wsStream) frame(fr frame, raw, out []byte) []byte {
	if fr.op >= 0x8 { // control frames are never fragmented
		m := flowstore.Message{FromClient: s.fromClient, Time: time.Now(), Size: fr.length, Data: fr.payload, Truncated: fr.partial}
		switch fr.op {
		case 0x8:
			m.Kind = flowstore.MessageClose
			if len(fr.payload) >= 2 {
				m.CloseCode = int(binary.BigEndian.Uint16(fr.payload[:2]))
				m.Data = fr.payload[2:]
			}
		case 0x9:
			m.Kind = flowstore.MessagePing
		case 0xA:
			m.Kind = flowstore.MessagePong
		default:
			return append(out, raw...)
		}
		s.ex.addMessage(m)
		return append(out, raw...)
	}
	if fr.op != 0 { // a new data message
		s.inMsg, s.msgOp, s.msgComp = true, fr.op, fr.rsv1 && s.deflate
		s.msgData, s.msgSize, s.msgFrames, s.msgTooBig = nil, 0, nil, false
	} else if !s.inMsg {
		return append(out, raw...) // a continuation without a start: pass it on
	}
	s.msgSize += fr.length
	if !s.msgTooBig {
		s.msgData = append(s.msgData, fr.payload...)
		if int64(len(s.msgData)) > maxRewriteMessage {
			s.msgTooBig = true
		}
	}
	if s.rewrite {
		s.msgFrames = append(s.msgFrames, bytes.Clone(raw))
	}
	if !fr.fin && !fr.partial {
		return out
	}
	s.inMsg = false
	m := flowstore.Message{FromClient: s.fromClient, Time: time.Now(), Size: s.msgSize, Compressed: s.msgComp}
	m.Kind = flowstore.MessageBinary
	if s.msgOp == 0x1 {
		m.Kind = flowstore.MessageText
	}
	data := s.msgData
	if s.msgComp {
		inflated, ok := s.inflate(data)
		if ok {
			data = inflated
		} else {
			m.Note = "could not decompress (permessage-deflate)"
		}
	}
	m.Data = data
	m.Truncated = s.msgTooBig || fr.partial
	if s.rewrite && !m.Truncated {
		orig := bytes.Clone(m.Data)
		drop := s.ex.messageHooks(&m)
		switch {
		case drop:
			m.Note = "dropped by a hook"
		case !bytes.Equal(orig, m.Data):
			m.Note = "rewritten by a hook"
			out = append(out, encodeFrame(s.msgOp, m.Data, s.fromClient)...)
		default:
			for _, f := range s.msgFrames {
				out = append(out, f...)
			}
		}
	} else if s.rewrite {
		for _, f := range s.msgFrames {
			out = append(out, f...)
		}
	}
	if len(m.Data) > maxMessageKeep {
		m.Data, m.Truncated = m.Data[:maxMessageKeep], true
	}
	s.msgData, s.msgFrames = nil, nil
	s.ex.addMessage(m)
	return out
}

// inflate undoes permessage-deflate for one message, keeping the window
// for the next one when context takeover is on.
func (s *wsStream) inflate(data []byte) ([]byte, bool) {
	in := append(bytes.Clone(data), 0x00, 0x00, 0xff, 0xff)
	var dict []byte
	if !s.noContext {
		dict = s.window
	}
	r := flate.NewReaderDict(bytes.NewReader(in), dict)
	out, err := io.ReadAll(io.LimitReader(r, maxRewriteMessage))
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, false
	}
	if !s.noContext {
		s.window = append(s.window, out...)
		if len(s.window) > 32<<10 {
			s.window = bytes.Clone(s.window[len(s.window)-32<<10:])
		}
	}
	return out, true
}

// encodeFrame makes one final, uncompressed frame; frames towards the
// server are masked, as RFC 6455 requires.
func encodeFrame(op byte, payload []byte, masked bool) []byte {
	var b []byte
	b = append(b, 0x80|op)
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mbit|byte(n))
	case n <= 0xffff:
		b = append(b, mbit|126, byte(n>>8), byte(n))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// addMessage records a message on the flow, dropping the oldest past the cap.
func (ex *exchange) addMessage(m flowstore.Message) {
	ex.update(func(f *flowstore.Flow) {
		f.Messages = append(f.Messages, m)
		if over := len(f.Messages) - maxMessagesPerFlow; over > 0 {
			f.Messages = f.Messages[over:]
			f.MessagesDropped += over
		}
	})
}

func (ex *exchange) wsHooks() []WebSocketMessageHook {
	if len(ex.p.hooks.wsMsgs) == 0 {
		return nil // nothing needs the flow shown yet
	}
	snap, ok := ex.snapshot()
	if !ok {
		return nil
	}
	var out []WebSocketMessageHook
	for _, h := range ex.p.hooks.wsMsgs {
		if wants(h, flowstore.PhaseWebSocketMessage, snap) {
			out = append(out, h)
		}
	}
	return out
}

// messageHooks runs the message hooks; a failing hook leaves the message
// as it was.
func (ex *exchange) messageHooks(m *flowstore.Message) (drop bool) {
	snap, _ := ex.snapshot()
	for _, h := range ex.wsHooks() {
		work := *m
		work.Data = bytes.Clone(m.Data)
		var d bool
		ex.safely(flowstore.PhaseWebSocketMessage, nil, func() (flowstore.Verdict, error) {
			var err error
			d, err = h.WebSocketMessage(ex.p.ctx, snap, &work)
			if err != nil {
				d = false // a failing hook leaves the message as it was
				return flowstore.Continue, err
			}
			*m = work
			return flowstore.Continue, nil
		})
		if d {
			return true
		}
	}
	return false
}

// wsRelay sits in the upgraded body: Read is server→client, Write is
// client→server.
type wsRelay struct {
	*upgradedBody
	up, down *wsStream // Read and Write run on different goroutines; each stream has one user
	pending  []byte    // server→client bytes ready to hand out
}

func (r *wsRelay) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		buf := make([]byte, 32<<10)
		n, err := r.upgradedBody.Read(buf)
		if n > 0 {
			r.pending = r.down.feed(buf[:n])
		}
		if err != nil {
			if len(r.pending) == 0 {
				return 0, err
			}
			break
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *wsRelay) Write(p []byte) (int, error) {
	out := r.up.feed(p)
	if len(out) > 0 {
		if _, err := r.upgradedBody.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// newWSRelay wires message capture (and hooks) into an upgraded body.
func (ex *exchange) newWSRelay(u *upgradedBody, respHeader flowstore.Headers) io.ReadWriteCloser {
	d := parseDeflate(respHeader.Values("Sec-WebSocket-Extensions"))
	// Rewrite only when compression is off: a rewritten message goes out
	// uncompressed, which would break the peers' shared window.
	rewrite := len(ex.wsHooks()) > 0 && !d.on
	if len(ex.wsHooks()) > 0 && d.on {
		ex.p.log.Add(flowstore.LevelWarn, "hook", ex.id, "websocket_message hooks skipped: the connection negotiated compression before a hook wanted it")
	}
	return &wsRelay{
		upgradedBody: u,
		up:           &wsStream{ex: ex, fromClient: true, rewrite: rewrite, deflate: d.on, noContext: d.clientNoContext},
		down:         &wsStream{ex: ex, fromClient: false, rewrite: rewrite, deflate: d.on, noContext: d.serverNoContext},
	}
}
