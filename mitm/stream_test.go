package mitm_test

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// slowChunks sends "chunk 0\n" and waits for release before sending the rest,
// so a test can prove the first chunk reached the client early.
func slowChunks(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		fmt.Fprint(w, "chunk 0\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		fmt.Fprint(w, "chunk 1\n")
	})
}

func TestStreamingReachesClientAsItArrives(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tls   bool
		h2    bool
		ctype string
	}{
		{"plain/chunked", false, false, "text/plain"},
		{"plain/sse", false, false, "text/event-stream"},
		{"tls/chunked", true, false, "text/plain"},
		{"tls/sse", true, false, "text/event-stream"},
		{"h2/chunked", true, true, "text/plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var srv *httptest.Server
			if tc.tls {
				srv = httptest.NewUnstartedServer(slowChunks(release))
				srv.EnableHTTP2 = tc.h2
				srv.StartTLS()
			} else {
				srv = httptest.NewServer(slowChunks(release))
			}
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv))
			client := env.Client()
			if tc.h2 {
				client = env.ClientH2()
			}
			resp, err := client.Get(srv.URL + "/stream?ct=" + tc.ctype)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			first := make(chan string, 1)
			go func() { l, _ := br.ReadString('\n'); first <- l }()
			select {
			case l := <-first:
				if l != "chunk 0\n" {
					t.Fatalf("first line %q", l)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("the first chunk did not reach the client while the origin held back the rest")
			}
			close(release)
			rest, _ := io.ReadAll(br)
			if string(rest) != "chunk 1\n" {
				t.Fatalf("rest %q", rest)
			}
			f := env.WaitFlow(srv.URL + "/stream?ct=" + tc.ctype)
			if string(f.Response.Body.Data) != "chunk 0\nchunk 1\n" {
				t.Fatalf("flow body %q", f.Response.Body.Data)
			}
		})
	}
}

func TestBodyLimitKeepsCappedCopy(t *testing.T) {
	const size = 3 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(i)
		}
		for sent := 0; sent < size; sent += len(buf) {
			w.Write(buf)
		}
	}))
	defer srv.Close()
	env := mitmtest.Start(t, func(o *mitm.Options) { o.BodyLimit = 1 << 20 })
	resp, err := env.Client().Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != size || resp.ContentLength != size {
		t.Fatalf("client got %d bytes (Content-Length %d), want %d", n, resp.ContentLength, size)
	}
	f := env.WaitFlow(srv.URL + "/big")
	b := f.Response.Body
	if b.Size != size || !b.Truncated || len(b.Data) != 1<<20 {
		t.Fatalf("kept %d of %d bytes, truncated=%v; want 1MiB kept of 3MiB", len(b.Data), b.Size, b.Truncated)
	}
}

func TestWebSocketUpgradeWorks(t *testing.T) {
	// A minimal WebSocket echo origin: handshake, then echo one text frame.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		c, bw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		fmt.Fprintf(bw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", base64.StdEncoding.EncodeToString(h[:]))
		bw.Flush()
		hdr := make([]byte, 2)
		io.ReadFull(bw, hdr)
		n := int(hdr[1] & 0x7f)
		mask := make([]byte, 4)
		io.ReadFull(bw, mask)
		payload := make([]byte, n)
		io.ReadFull(bw, payload)
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
		out := append([]byte{0x81, byte(len(payload) + 5)}, append([]byte("echo:"), payload...)...)
		c.Write(out)
		time.Sleep(50 * time.Millisecond)
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))

	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	host := srv.Listener.Addr().String()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	tc := tlsClient(conn, env)
	fmt.Fprintf(tc, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", host)
	tbr := bufio.NewReader(tc)
	up, err := http.ReadResponse(tbr, nil)
	if err != nil || up.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", up, err)
	}
	payload := []byte("ping")
	frame := []byte{0x81, 0x80 | byte(len(payload)), 1, 2, 3, 4}
	for i, b := range payload {
		frame = append(frame, b^[]byte{1, 2, 3, 4}[i%4])
	}
	tc.Write(frame)
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(tbr, hdr); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, hdr[1]&0x7f)
	io.ReadFull(tbr, msg)
	if string(msg) != "echo:ping" {
		t.Fatalf("echo %q", msg)
	}
	tc.Close()
	f := env.WaitFlow("https://" + host + "/ws")
	if f.Response == nil || f.Response.Status != 101 || f.State != flowstore.StateDone {
		t.Fatalf("flow %+v state %v", f.Response, f.State)
	}
}

func TestClientGoneMidResponse(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(slowChunks(release))
	defer srv.Close()
	defer close(release)
	env := mitmtest.Start(t)
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s/gone HTTP/1.1\r\nHost: %s\r\n\r\n", srv.URL, srv.Listener.Addr())
	br := bufio.NewReader(conn)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(l, "chunk 0") {
			break
		}
	}
	conn.Close()
	f := env.WaitFlow(srv.URL + "/gone")
	if f.State != flowstore.StateError || f.Error == nil || !strings.Contains(f.Error.Message, "client closed") {
		t.Fatalf("state %v error %+v", f.State, f.Error)
	}
}

func tlsClient(conn net.Conn, env *mitmtest.Env) *tls.Conn {
	return tls.Client(conn, &tls.Config{RootCAs: env.CAPool(), ServerName: "127.0.0.1"})
}

// A client that is slow to start TLS (a loaded phone) is still intercepted:
// only a server that really speaks first makes a tunnel blind.
func TestSlowTLSClientIsStillIntercepted(t *testing.T) {
	srv := httptest.NewTLSServer(echo())
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) { o.PeekTimeout = 50 * time.Millisecond })
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	host := srv.Listener.Addr().String()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	time.Sleep(400 * time.Millisecond) // eight times the peek timeout
	tc := tlsClient(conn, env)
	fmt.Fprintf(tc, "GET /slow HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tc.ConnectionState().PeerCertificates[0].Equal(srv.Certificate()) {
		t.Fatal("the slow client got the origin's own certificate: not intercepted")
	}
	env.WaitFlow(srv.URL + "/slow")
}

// A small response whose body is slow to follow its head: the flow shows
// the head meanwhile, and ends with head and body both.
func TestSlowSmallBodyShowsItsHeadMeanwhile(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(http.StatusTeapot)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "late")
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	got := make(chan string, 1)
	head := make(chan int, 1)
	go func() {
		resp, err := env.Client().Get(srv.URL + "/slow")
		if err != nil {
			head <- 0
			got <- err.Error()
			return
		}
		head <- resp.StatusCode
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	shown := env.WaitAny("with the response's head while its body is held back", func(f *flowstore.Flow) bool { return f.Response != nil })
	if shown.State.Final() || shown.Response.Status != http.StatusTeapot {
		t.Fatalf("while the body waits: state %v, response %+v", shown.State, shown.Response)
	}
	// The proxy holds a small response's head back to send it with its
	// body in one write, but not while the body is this late.
	select {
	case code := <-head:
		if code != http.StatusTeapot {
			t.Fatalf("client got status %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not get the response's head while its body was held back")
	}
	close(release)
	if b := <-got; b != "late" {
		t.Fatalf("client got %q", b)
	}
	f := env.WaitFlow(srv.URL + "/slow")
	if f.Response == nil || f.Response.Status != http.StatusTeapot || string(f.Response.Body.Data) != "late" {
		t.Fatalf("finished flow: %+v", f.Response)
	}
}

// recordCounter counts the TLS records a client reads off the wire.
type recordCounter struct {
	net.Conn
	mu      sync.Mutex
	hdr     []byte // a record header read in part
	skip    int    // bytes left of the current record's body
	records int
}

func (c *recordCounter) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	for b := p[:n]; len(b) > 0; {
		if c.skip > 0 {
			k := min(c.skip, len(b))
			c.skip -= k
			b = b[k:]
			continue
		}
		k := min(5-len(c.hdr), len(b))
		c.hdr = append(c.hdr, b[:k]...)
		b = b[k:]
		if len(c.hdr) == 5 {
			c.records++
			c.skip = int(c.hdr[3])<<8 | int(c.hdr[4])
			c.hdr = c.hdr[:0]
		}
	}
	return n, err
}

func (c *recordCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.records
}

// A small response reaches the client as one TLS record, its head and body
// together, not as two: half the writes and records per keep-alive request.
func TestSmallResponseLeavesAsOneRecord(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	host := srv.Listener.Addr().String()
	counter := &recordCounter{Conn: connected(t, env, host)}
	tc := tlsClient(counter, env)
	tc.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(tc)
	get := func() {
		t.Helper()
		fmt.Fprintf(tc, "GET /small HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello" {
			t.Fatalf("body %q", b)
		}
	}
	get() // the handshake's own records and session tickets come first
	// A loaded machine can delay a body past the short hold, so this asks
	// for most responses, not all; without the hold none is one record.
	const rounds = 20
	single := 0
	for i := 0; i < rounds; i++ {
		before := counter.count()
		get()
		if counter.count()-before == 1 {
			single++
		}
	}
	if single < rounds/2 {
		t.Fatalf("%d of %d small responses came as one TLS record", single, rounds)
	}
}

// Responses held for their bodies, bodiless ones that are never held, and
// bodies late enough to outlast the hold all reach a pipelining client in
// the order it asked, each whole.
func TestHeldHeadsStayInOrderPipelined(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seq := r.URL.Query().Get("seq")
		w.Header().Set("X-Seq", seq)
		switch r.URL.Path {
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		case "/slow":
			w.Header().Set("Content-Length", fmt.Sprint(len("slow "+seq)))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			time.Sleep(3 * time.Millisecond)
			io.WriteString(w, "slow "+seq)
		default: // and HEAD, which sends the length but no body
			w.Header().Set("Content-Length", fmt.Sprint(len("body "+seq)))
			io.WriteString(w, "body "+seq)
		}
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	host := srv.Listener.Addr().String()
	tc, r := tunnel(t, env, host)
	tc.SetDeadline(time.Now().Add(60 * time.Second))

	const n = 120
	kinds := []struct{ method, path, body string }{
		{"GET", "/small", "body "}, {"HEAD", "/small", ""}, {"GET", "/nocontent", ""},
		{"GET", "/notmodified", ""}, {"GET", "/slow", "slow "},
	}
	var reqs []*http.Request
	var all strings.Builder
	for i := 0; i < n; i++ {
		k := kinds[i%len(kinds)]
		req, _ := http.NewRequest(k.method, fmt.Sprintf("https://%s%s?seq=%d", host, k.path, i), nil)
		reqs = append(reqs, req)
		fmt.Fprintf(&all, "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", k.method, req.URL.RequestURI(), host)
	}
	go io.WriteString(tc, all.String()) // all at once, before any answer
	for i, req := range reqs {
		resp, err := http.ReadResponse(r, req)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		k := kinds[i%len(kinds)]
		want := ""
		if k.body != "" {
			want = fmt.Sprint(k.body, i)
		}
		if got := resp.Header.Get("X-Seq"); got != fmt.Sprint(i) || string(b) != want {
			t.Fatalf("response %d (%s %s): X-Seq %q, body %q; want body %q", i, k.method, k.path, got, b, want)
		}
	}
}

// A flow that ends quickly enters the store once it has ended; a slow one
// is shown while in flight, and keeps its place by arrival in the list
// though a later flow ended (and was stored) first.
func TestSlowFlowShownInFlightAndListedByArrival(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer origin.Close()
	env := mitmtest.Start(t)
	client := env.Client()

	slowDone := make(chan error, 1)
	go func() {
		resp, err := client.Get(origin.URL + "/slow")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		slowDone <- err
	}()
	<-arrived
	resp, err := client.Get(origin.URL + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	env.WaitFlow(origin.URL + "/fast")

	// The slow flow shows up while the origin still holds it.
	slow := env.WaitAny("for /slow shown while in flight", func(f *flowstore.Flow) bool { return f.Request.Path == "/slow" })
	if slow.State != flowstore.StateActive {
		t.Fatalf("slow flow in state %v before the origin answered, want active", slow.State)
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	env.WaitFlows(2)
	var paths []string
	for _, f := range env.Store.List() {
		paths = append(paths, f.Request.Path)
	}
	if strings.Join(paths, " ") != "/slow /fast" {
		t.Fatalf("flows listed as %v, want /slow first (it arrived first)", paths)
	}
}
