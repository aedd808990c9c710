package mitm

import (
	"bytes"
	"hash/maphash"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Go's HTTP parsers hand us headers as a map, losing the wire order and the
// original case of names. A debugging proxy should show headers as they were
// sent, so a headTap sits under the parser and keeps the bytes it reads while
// a message head is expected. Once Go has parsed the head, take() finds that
// head in the kept bytes by its first line, parses the lines in order, and
// checks the result against Go's map. Anything odd (pipelining, a head larger
// than the window, a body that happens to contain the same line) fails the
// check, and the caller falls back to the map.

const (
	tapWindow = 64 << 10 // most bytes kept while waiting for a head
	tapKeep   = 16 << 10 // kept from the end when the window overflows
)

type headTap struct {
	net.Conn
	mu       sync.Mutex
	armed    bool
	buf      []byte
	pushback []byte // read by watch while the connection's reader was idle
	line     []byte // scratch for take's first line

	// Writing side: a response head held back for its body (see holdNext).
	wmu       sync.Mutex
	holding   bool
	held      *[]byte
	heldSince time.Time
	release   *time.Timer
	wait      time.Duration // holdWait; tests lengthen it to stay off the clock
}

func newHeadTap(c net.Conn) *headTap { return &headTap{Conn: c, armed: true, wait: holdWait} }

func (t *headTap) Read(p []byte) (int, error) {
	t.mu.Lock()
	if len(t.pushback) > 0 {
		n := copy(p, t.pushback)
		t.pushback = t.pushback[n:]
		t.mu.Unlock()
		return n, nil
	}
	t.mu.Unlock()
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.mu.Lock()
		if t.armed {
			t.keep(p[:n])
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *headTap) keep(data []byte) {
	if len(data) > tapWindow {
		data = data[len(data)-tapKeep:]
		t.buf = t.buf[:0]
	}
	if over := len(t.buf) + len(data) - tapWindow; over > 0 {
		drop := max(over, len(t.buf)-tapKeep)
		t.buf = t.buf[:copy(t.buf, t.buf[drop:])]
	}
	t.buf = append(t.buf, data...)
}

// arm starts keeping bytes again, from a clean slate.
func (t *headTap) arm() {
	t.mu.Lock()
	t.armed = true
	t.buf = t.buf[:0]
	t.mu.Unlock()
}

// rest returns the bytes the tap saw after the head whose first line is
// firstLine: what the reader above had buffered beyond that head.
func (t *headTap) rest(firstLine string) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	start := findLineStart(t.buf, []byte(firstLine))
	if start < 0 {
		return nil
	}
	head := t.buf[start:]
	size := headSize(head)
	if size < 0 {
		return nil
	}
	return bytes.Clone(head[size:])
}

// headSize is the length of the message head at the start of b, up to and
// including the blank line that ends it (lines end in CRLF or in LF alone,
// as Go's parser accepts), or -1 when b holds no whole head.
func headSize(b []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
		switch {
		case bytes.HasPrefix(b[off:], []byte("\n")):
			return off + 1
		case bytes.HasPrefix(b[off:], []byte("\r\n")):
			return off + 2
		}
	}
}

// disarm stops keeping bytes.
func (t *headTap) disarm() {
	t.mu.Lock()
	t.armed = false
	t.buf = nil
	t.mu.Unlock()
}

// take finds the head whose first line is the words of firstLine joined by
// spaces (given apart so that no caller builds a string per message) and
// returns its header lines in wire order and its size in bytes. It
// disarms the tap; the caller re-arms it when the message's body is over.
func (t *headTap) take(want http.Header, optional []string, firstLine ...string) (flowstore.Headers, int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf := t.buf
	t.armed = false
	t.buf = t.buf[:0]
	if cap(t.buf) > tapWindow {
		t.buf = nil
	}
	line := t.line[:0]
	for i, w := range firstLine {
		if i > 0 {
			line = append(line, ' ')
		}
		line = append(line, w...)
	}
	t.line = line
	start := findLineStart(buf, line)
	if start < 0 {
		return nil, 0, false
	}
	head := buf[start:]
	size := headSize(head)
	if size < 0 {
		return nil, 0, false
	}
	lines := head[len(line):size]
	hs := parseHeaderLines(lines)
	if !sameHeaders(hs, want, optional) {
		return nil, 0, false
	}
	return hs, size, true
}

func findLineStart(buf, line []byte) int {
	off := 0
	for {
		i := bytes.Index(buf[off:], line)
		if i < 0 {
			return -1
		}
		i += off
		after := i + len(line)
		atStart := i == 0 || buf[i-1] == '\n'
		atEnd := after < len(buf) && (buf[after] == '\r' || buf[after] == '\n')
		if atStart && atEnd {
			return i
		}
		off = i + 1
	}
}

// parseHeaderLines parses what follows a head's first line, from the end
// of that line to the blank one.
func parseHeaderLines(b []byte) flowstore.Headers {
	// Less the ends of the first line and of the blank one, a line per
	// header (or fewer, with folding): one allocation.
	n := bytes.Count(b, []byte("\n")) - 2
	if n <= 0 {
		return nil
	}
	hs := make(flowstore.Headers, 0, n)
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(hs) > 0 {
			// obsolete line folding: a continuation of the previous value
			hs[len(hs)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		hs = append(hs, flowstore.Header{Name: internName(name), Value: internValue(bytes.TrimSpace(value))})
	}
	return hs
}

// sameHeaders checks that parsed lines agree with Go's parsed map: the same
// names with the same values, in the same order for each name. Comparing
// values matters: a tap can hold an earlier head with the first line and the
// names of this one (an upstream connection goes back to the pool before a
// bodiless response is taken, and the next response on it may be read
// first), and that head must not pass for this one. Names in optional may
// be present in the lines but missing from the map (Go moves Host and
// Transfer-Encoding out of it).
func sameHeaders(hs flowstore.Headers, want http.Header, optional []string) bool {
	// No map of counts: a head has a few dozen lines at most, and counting
	// earlier lines of the same name costs less than a map per message.
	var keyBuf [32]string
	keys := keyBuf[:0]
	matched := 0
	for _, h := range hs {
		k := textproto.CanonicalMIMEHeaderKey(h.Name)
		keys = append(keys, k)
		vs, ok := want[k]
		if !ok {
			if !slices.Contains(optional, k) {
				return false
			}
			continue
		}
		i := 0 // how many lines of this name came before
		for _, prev := range keys[:len(keys)-1] {
			if prev == k {
				i++
			}
		}
		if i >= len(vs) || vs[i] != h.Value {
			return false
		}
		matched++
	}
	// Each matched line took a distinct value of its name: every value in
	// the map was matched when the totals agree.
	total := 0
	for _, vs := range want {
		total += len(vs)
	}
	return matched == total
}

// goproxy's HTTP/1 tunnel writes a response's head and its body apart:
// two TLS records and two system calls for every small response, which is
// the largest cost per request after the crypto itself. holdNext keeps the
// next write (the head) back until the one after it (the body's start), so
// that both leave as one; a body slow to follow does not hold its head up
// for longer than holdWait.
const (
	holdWait = time.Millisecond
	holdMax  = 16 << 10 // one TLS record's worth: larger writes gain nothing
)

var heldBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// holdNext holds the next write back, as said above. Only a caller that
// knows a body follows that write (a known, non-zero length) should ask.
func (t *headTap) holdNext() {
	t.wmu.Lock()
	t.holding = true
	t.wmu.Unlock()
}

func (t *headTap) Write(p []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.held != nil {
		t.release.Stop()
		if len(*t.held)+len(p) > holdMax {
			if err := t.flushLocked(); err != nil {
				return 0, err
			}
			return t.Conn.Write(p)
		}
		*t.held = append(*t.held, p...)
		if err := t.flushLocked(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if !t.holding || len(p) > holdMax {
		t.holding = false
		return t.Conn.Write(p)
	}
	t.holding = false
	b := heldBufs.Get().(*[]byte)
	*b = append((*b)[:0], p...)
	t.held = b
	t.heldSince = time.Now()
	if t.release == nil {
		t.release = time.AfterFunc(t.wait, t.releaseHeld)
	} else {
		t.release.Reset(t.wait)
	}
	return len(p), nil
}

// releaseHeld sends a held head whose body is slow to come.
func (t *headTap) releaseHeld() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	// A fire that lost the race to the body's write must not send the next
	// response's head alone: that head's own timer (the Reset) comes later.
	if t.held == nil || time.Since(t.heldSince) < t.wait {
		return
	}
	_ = t.flushLocked() // the connection is broken: the next write says so
}

func (t *headTap) flushLocked() error {
	b := t.held
	if b == nil {
		return nil
	}
	t.held = nil
	_, err := t.Conn.Write(*b)
	if cap(*b) <= holdMax {
		heldBufs.Put(b)
	}
	return err
}

// Close sends what is held first: a head already accepted from the writer.
// A write blocked on a client that does not read holds the lock, so the
// deadline first ends any such write (and bounds the flush) within closeWait.
func (t *headTap) Close() error {
	_ = t.Conn.SetWriteDeadline(time.Now().Add(closeWait))
	t.wmu.Lock()
	if t.release != nil {
		t.release.Stop()
	}
	_ = t.flushLocked()
	t.wmu.Unlock()
	return t.Conn.Close()
}

// closeWait bounds how long Close waits on a client that does not read.
const closeWait = time.Second

// maxPushback bounds what watch reads ahead for the real reader.
const maxPushback = 1 << 20

// watch reads the connection while its real reader is idle (a request held
// at a breakpoint) to notice the peer hanging up. Bytes that arrive meanwhile
// are kept and handed to the real reader later. stop ends the watch and
// returns once the connection is the real reader's again.
func (t *headTap) watch() (gone <-chan struct{}, stop func()) {
	g := make(chan struct{})
	done := make(chan struct{})
	var stopping sync.Once
	var stopped bool
	var smu sync.Mutex
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := t.Conn.Read(buf)
			if n > 0 {
				t.mu.Lock()
				t.pushback = append(t.pushback, buf[:n]...)
				if t.armed {
					t.keep(buf[:n])
				}
				full := len(t.pushback) >= maxPushback
				t.mu.Unlock()
				if full {
					return
				}
			}
			if err != nil {
				smu.Lock()
				s := stopped
				smu.Unlock()
				if !s {
					close(g)
				}
				return
			}
		}
	}()
	return g, func() {
		stopping.Do(func() {
			smu.Lock()
			stopped = true
			smu.Unlock()
			_ = t.Conn.SetReadDeadline(time.Now())
			<-done
			_ = t.Conn.SetReadDeadline(time.Time{})
		})
	}
}

// commonNames are header names as they usually appear on the wire; a flow
// that uses one shares the string instead of holding its own copy.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Connection", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Date",
		"Server", "Cache-Control", "Cookie", "Set-Cookie", "Authorization", "Referer", "Origin",
		"If-None-Match", "If-Modified-Since", "ETag", "Last-Modified", "Expires", "Vary", "Location",
		"Keep-Alive", "Proxy-Connection", "Upgrade", "Pragma", "Age", "Via", "X-Forwarded-For",
		"X-Requested-With", "Access-Control-Allow-Origin", "Strict-Transport-Security"} {
		m[n] = n
		m[strings.ToLower(n)] = strings.ToLower(n)
	}
	return m
}()

func internName(b []byte) string {
	if s, ok := commonNames[string(b)]; ok { // no allocation for the lookup
		return s
	}
	return string(b)
}

// Header values repeat from flow to flow (user agents, content types,
// accepted encodings...). A small direct-mapped cache lets thousands of
// held flows share one copy of each; a miss just allocates, as before.
var valueCache [4096]atomic.Pointer[string]

func internValue(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 96 {
		return string(b)
	}
	slot := &valueCache[maphash.Bytes(valueSeed, b)%uint64(len(valueCache))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	v := string(b)
	slot.Store(&v)
	return v
}

var valueSeed = maphash.MakeSeed()
