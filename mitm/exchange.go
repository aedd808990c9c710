package mitm

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
)

// exchange is the engine's private state for one flow while it is in
// flight. The flow itself lives in the store; the exchange gathers what
// happens (timings, the request body as it streams) and writes it to the
// store at a few points, not on every event.
type exchange struct {
	p   *Proxy
	id  string
	tun *tunnel
	cc  *conn1 // the client's HTTP/1 connection (nil for HTTP/2 and replays)

	mu        sync.Mutex
	timings   flowstore.Timings
	server    flowstore.Server
	reqBody   flowstore.Body // valid once reqRead
	reqRead   bool           // the request body has been read
	sentBody  bool           // the body sent is an edit: the flow keeps it, not reqBody
	reqTrail  flowstore.Headers
	headBytes int64 // size of the request head
	finished  bool

	// The flow, until it enters the store (see show): a flow that ends
	// within showWait is stored once, whole, instead of once when it
	// starts and again, copied, when it ends.
	showMu    sync.Mutex
	unshown   *flowstore.Flow
	showTimer *time.Timer

	// Set before the round trip, read only by its goroutine.
	killMode   killMode
	replayMode *Mode  // a replay's: the mode of the flow it replays, when the proxy has it
	urlHost    string // the request's host:port as the client sent it
	fresh      bool   // use a new upstream connection (after a pause)
	killReason string
	killPhase  flowstore.Phase
	clientGone bool

	// What goes on the wire, in order: the request as the client sent it
	// or as a hook or a person left it, and the answer's head likewise.
	out            *flowstore.Request
	frame          framing                  // the client's request body framing (HTTP/1 clients)
	respOut        *head                    // written for respFor (any other answer is the proxy's own)
	respFor        *http.Response           //
	ready          func() bool              // whether respFor's whole body is at hand (nil: it is)
	trail          func() flowstore.Headers // the origin's trailers, once its body has ended
	clientTrailers func() flowstore.Headers // the client's, once its chunked body has ended

	clientBodyErr error // reading the client's request body failed

	// Rules: the set the flow started with (it keeps it to its end), and
	// what they ask of the wire.
	set        *rules.Set
	client     flowstore.Client
	probeFlow  flowstore.Flow
	reqDelay   time.Duration
	respDelay  time.Duration
	upRate     int64  // bits per second, 0: no limit
	downRate   int64  //
	answerFile string // an answer's body streams from this file
	resetConn  bool   // a kill resets the client's connection

	ct httptrace.ClientTrace
}

// begin records a new flow for the request r (req is the flow's view of
// it: its header lines in wire order) and returns its exchange.
func (p *Proxy) begin(r *http.Request, tun *tunnel, req *flowstore.Request, headSize int, cc *conn1) *exchange {
	now := time.Now()
	f := &flowstore.Flow{
		ID:      flowstore.NewID(),
		Seq:     p.store.Reserve(),
		State:   flowstore.StateActive,
		Client:  flowstore.Client{Addr: r.RemoteAddr},
		Request: req,
		Timings: flowstore.Timings{Start: now},
		BytesIn: int64(headSize),
	}
	ex := &exchange{p: p, id: f.ID, tun: tun, cc: cc, headBytes: int64(headSize), urlHost: r.URL.Host, out: req}
	ex.timings.Start = now
	if cc != nil {
		ex.killMode = killByError
	}
	switch {
	case cc != nil:
		f.Client.Mode = cc.mode.String()
	case tun != nil:
		f.Client.Mode = tun.mode.String()
	}
	if tun != nil {
		f.Client.TLS = tun.clientTLS
		f.Client.Addr = tun.clientAddr
		ex.server.Addr = tun.target
	} else {
		ex.server.Addr = hostPort(req)
	}
	f.Server = ex.server
	ex.client = f.Client

	if t, ok := r.Body.(interface{ trailerLines() flowstore.Headers }); ok {
		ex.clientTrailers = t.trailerLines // the capture below hides them from the round trip
	}
	if orig := r.Body; orig != nil && orig != http.NoBody {
		r.Body = newBodyCapture(orig, p.opts.BodyLimit, r.ContentLength, func(b flowstore.Body, err error) {
			var trailers flowstore.Headers
			if t, ok := orig.(interface{ trailerLines() flowstore.Headers }); ok && err == nil {
				trailers = t.trailerLines()
			} else if err == nil {
				trailers = flowstore.FromHTTP(r.Trailer)
			}
			ex.requestBodyDone(b, trailers, err)
		})
	} else {
		ex.reqRead = true
	}
	p.unshown.Add(1)
	ex.showMu.Lock() // the timer's show waits for showTimer to be set
	ex.unshown = f
	ex.showTimer = time.AfterFunc(showWait, ex.show)
	ex.showMu.Unlock()
	return ex
}

// requestFromHTTP leaves out the headers: the caller has them in wire
// order, or takes them from the map.
func requestFromHTTP(r *http.Request) *flowstore.Request {
	host, port := splitAuthority(r.URL.Host, flowstore.DefaultPort(r.URL.Scheme))
	return &flowstore.Request{
		Method: r.Method,
		Scheme: r.URL.Scheme,
		Host:   host,
		Port:   port,
		Path:   r.URL.RequestURI(),
		Proto:  r.Proto,
	}
}

// splitAuthority is flowstore.SplitHostPort without the error value that
// net.SplitHostPort allocates for the usual authority, one without a port.
func splitAuthority(a string, def int) (string, int) {
	if i := strings.LastIndexByte(a, ':'); i < 0 || strings.IndexByte(a[i:], ']') >= 0 {
		return strings.Trim(a, "[]"), def
	}
	return flowstore.SplitHostPort(a, def)
}

func estimateHeadSize(firstLineLen int, hs flowstore.Headers) int {
	n := firstLineLen + 4
	for _, h := range hs {
		n += len(h.Name) + len(h.Value) + 4
	}
	return n
}

func (ex *exchange) requestBodyDone(b flowstore.Body, trailers flowstore.Headers, err error) {
	ex.mu.Lock()
	ex.reqBody, ex.reqRead = b, true
	ex.reqTrail = trailers
	finished := ex.finished
	if err != nil && !errors.Is(err, errClosedEarly) {
		ex.clientBodyErr = err
	}
	ex.mu.Unlock()
	if b.Size == 0 && !finished {
		return // nothing to show yet; the next update carries it
	}
	ex.update(func(f *flowstore.Flow) {
		ex.applyRequest(f)
		if err != nil && !errors.Is(err, errClosedEarly) {
			f.Notes = append(f.Notes, "request body: "+err.Error())
		}
	})
}

// applyRequest copies what the exchange learnt about the request into f.
func (ex *exchange) applyRequest(f *flowstore.Flow) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.reqRead {
		if !ex.sentBody {
			f.Request.Body = ex.reqBody
		}
		f.Request.Trailers = ex.reqTrail
		f.BytesIn = ex.headBytes + ex.reqBody.Size
	}
	f.Server = ex.server
	mergeTimings(&f.Timings, ex.timings)
}

func mergeTimings(dst *flowstore.Timings, src flowstore.Timings) {
	set := func(d *time.Time, s time.Time) {
		if !s.IsZero() {
			*d = s
		}
	}
	set(&dst.DNSStart, src.DNSStart)
	set(&dst.DNSDone, src.DNSDone)
	set(&dst.ConnectStart, src.ConnectStart)
	set(&dst.ConnectDone, src.ConnectDone)
	set(&dst.TLSStart, src.TLSStart)
	set(&dst.TLSDone, src.TLSDone)
	set(&dst.RequestSent, src.RequestSent)
	set(&dst.FirstByte, src.FirstByte)
}

// trace hooks what an HTTP/2 round trip does for every request: when the
// request was written, when the answer began. What happens only on a new
// connection (DNS, connect, TLS) is hooked by the dial (dialTrace).
func (ex *exchange) trace() *httptrace.ClientTrace {
	t := &ex.timings
	// Go's HTTP/2 client reports the request written from one goroutine and
	// the answer's first byte from another, so the two can arrive out of
	// order: a request is sent by the time its answer begins at the latest.
	ex.ct = httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
			ex.mu.Lock()
			if t.FirstByte.IsZero() {
				t.RequestSent = time.Now()
			}
			ex.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			ex.mu.Lock()
			t.FirstByte = time.Now()
			if t.RequestSent.IsZero() {
				t.RequestSent = t.FirstByte
			}
			ex.mu.Unlock()
		},
	}
	return &ex.ct
}

// dialTrace hooks the making of a new upstream connection for this flow.
func (ex *exchange) dialTrace() *httptrace.ClientTrace {
	t := &ex.timings
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { ex.stamp(&t.DNSStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { ex.stamp(&t.DNSDone) },
		ConnectStart:      func(string, string) { ex.stamp(&t.ConnectStart) },
		ConnectDone:       func(string, string, error) { ex.stamp(&t.ConnectDone) },
		TLSHandshakeStart: func() { ex.stamp(&t.TLSStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { ex.stamp(&t.TLSDone) },
	}
}

// stamp sets one of the exchange's timings to now.
func (ex *exchange) stamp(field *time.Time) {
	now := time.Now()
	ex.mu.Lock()
	*field = now
	ex.mu.Unlock()
}

func (ex *exchange) gotConn(c net.Conn, ip string, info *flowstore.TLSInfo) {
	ex.mu.Lock()
	ex.server.IP, ex.server.TLS = ip, info
	ex.mu.Unlock()
}

func remoteIP(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

func tlsInfo(cs *tls.ConnectionState) *flowstore.TLSInfo {
	if cs == nil {
		return nil
	}
	info := &flowstore.TLSInfo{
		Version: tls.VersionName(cs.Version),
		SNI:     cs.ServerName,
		ALPN:    cs.NegotiatedProtocol,
		Cipher:  cipherName(cs.CipherSuite),
	}
	if len(cs.PeerCertificates) > 0 {
		subj := cs.PeerCertificates[0].Subject
		info.CertSubject = subj.CommonName
		if info.CertSubject == "" {
			info.CertSubject = subj.String()
		}
	}
	return info
}

// cipherNames is built once: tls.CipherSuiteName rebuilds the list on
// every call, and it runs for every flow.
var cipherNames = func() map[uint16]string {
	m := map[uint16]string{}
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		m[c.ID] = c.Name
	}
	return m
}()

func cipherName(id uint16) string {
	if n, ok := cipherNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

func hostPort(r *flowstore.Request) string {
	return net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
}

// showWait is how long a flow in flight stays out of the store. Most
// flows end sooner and enter it once, finished; a slow one is shown as it
// stands after this, and so is one that a hook, a breakpoint or a person
// needs to see earlier (snapshot).
const showWait = 50 * time.Millisecond

// show puts a flow still in flight into the store, as it stands.
func (ex *exchange) show() {
	ex.showMu.Lock()
	if f := ex.unshown; f != nil {
		ex.applyRequest(f)
		ex.storeLocked(f)
	}
	ex.showMu.Unlock()
	if ex.cc != nil {
		ex.cc.watchLate()
	}
}

// storeLocked hands the unshown flow f to the store; showMu is held.
func (ex *exchange) storeLocked(f *flowstore.Flow) {
	ex.unshown = nil
	ex.showTimer.Stop()
	ex.p.store.AddLate(f)
	ex.p.unshown.Add(-1)
}

// update applies fn to the flow. Before the flow is shown no one else
// holds it, so fn changes it in place; a flow that reaches its end that
// way enters the store finished. After, the store applies fn to a copy.
func (ex *exchange) update(fn func(*flowstore.Flow)) (*flowstore.Flow, bool) {
	ex.showMu.Lock()
	if f := ex.unshown; f != nil {
		id, seq := f.ID, f.Seq
		fn(f)
		f.ID, f.Seq = id, seq
		if f.State.Final() {
			ex.storeLocked(f)
		}
		ex.showMu.Unlock()
		return f, true
	}
	ex.showMu.Unlock()
	return ex.p.store.Update(ex.id, fn)
}

// snapshot shows the flow if it is not yet, and returns it from the store.
func (ex *exchange) snapshot() (*flowstore.Flow, bool) {
	ex.show()
	return ex.p.store.Get(ex.id)
}

func (ex *exchange) markFinished() {
	ex.mu.Lock()
	ex.finished = true
	ex.mu.Unlock()
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
