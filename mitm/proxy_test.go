package mitm_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// echo answers with what it received, so a test can check that the origin
// saw the request the client sent.
func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("X-Te", strings.Join(r.TransferEncoding, ","))
		w.Header().Set("X-Body-Sha", fmt.Sprintf("%x", sha256.Sum256(body)))
		_, _ = w.Write(body)
	})
}

func trustOrigin(srv *httptest.Server) func(*mitm.Options) {
	return func(o *mitm.Options) {
		if c := srv.Certificate(); c != nil {
			o.UpstreamRoots = append(o.UpstreamRoots, c)
		}
	}
}

func TestMethodsWithBodies(t *testing.T) {
	plain := httptest.NewServer(echo())
	defer plain.Close()
	secure := httptest.NewTLSServer(echo())
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure))
	client := env.Client()

	for _, origin := range []*httptest.Server{plain, secure} {
		for _, method := range []string{"GET", "POST", "PUT"} {
			t.Run(origin.URL[:5]+"/"+method, func(t *testing.T) {
				var body []byte
				if method != "GET" {
					body = bytes.Repeat([]byte("0123456789\x00\xff"), 1000)
				}
				u := origin.URL + "/m/" + method + "?q=1"
				req, _ := http.NewRequest(method, u, bytes.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(got, body) || resp.Header.Get("X-Method") != method {
					t.Fatalf("status %d, method %q, body %d bytes (want %d)", resp.StatusCode, resp.Header.Get("X-Method"), len(got), len(body))
				}
				f := env.WaitFlow(u)
				if f.State != flowstore.StateDone || f.Request.Method != method || f.Response.Status != 200 {
					t.Fatalf("flow: state %v method %s response %+v", f.State, f.Request.Method, f.Response)
				}
				if !bytes.Equal(f.Request.Body.Data, body) || !bytes.Equal(f.Response.Body.Data, body) {
					t.Fatalf("flow bodies: request %d bytes, response %d bytes, want %d", len(f.Request.Body.Data), len(f.Response.Body.Data), len(body))
				}
				if f.Request.Body.Size != int64(len(body)) || f.Request.Body.Truncated {
					t.Fatalf("request body size %d truncated %v", f.Request.Body.Size, f.Request.Body.Truncated)
				}
				wantScheme := "http"
				if origin == secure {
					wantScheme = "https"
					if f.Client.TLS == nil || f.Server.TLS == nil {
						t.Fatalf("TLS details missing: client %+v server %+v", f.Client.TLS, f.Server.TLS)
					}
				}
				if f.Request.Scheme != wantScheme {
					t.Fatalf("scheme %q, want %q", f.Request.Scheme, wantScheme)
				}
				if f.Server.IP == "" || f.Timings.End.IsZero() || f.BytesIn == 0 || f.BytesOut == 0 {
					t.Fatalf("server IP %q, end %v, bytes %d/%d", f.Server.IP, f.Timings.End, f.BytesIn, f.BytesOut)
				}
			})
		}
	}
}

func TestHeadersKeepWireOrderAndCase(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Go's server writes headers sorted; a raw hijack lets the origin
		// choose the order.
		c, bw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		bw.WriteString("HTTP/1.1 200 OK\r\nZeta: 1\r\nalpha: 2\r\nX-Dup: a\r\nContent-Length: 2\r\nX-Dup: b\r\n\r\nok")
		bw.Flush()
	}))
	defer origin.Close()
	env := mitmtest.Start(t)

	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	u := origin.URL + "/order"
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nhost: %s\r\nX-Zebra: z\r\nx-apple: a\r\nX-Zebra: zz\r\n\r\n", u, origin.Listener.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	f := env.WaitFlow(u)
	wantReq := flowstore.Headers{{Name: "host", Value: origin.Listener.Addr().String()}, {Name: "X-Zebra", Value: "z"}, {Name: "x-apple", Value: "a"}, {Name: "X-Zebra", Value: "zz"}}
	if fmt.Sprint(f.Request.Headers) != fmt.Sprint(wantReq) {
		t.Errorf("request headers\n got %v\nwant %v", f.Request.Headers, wantReq)
	}
	wantResp := flowstore.Headers{{Name: "Zeta", Value: "1"}, {Name: "alpha", Value: "2"}, {Name: "X-Dup", Value: "a"}, {Name: "Content-Length", Value: "2"}, {Name: "X-Dup", Value: "b"}}
	if fmt.Sprint(f.Response.Headers) != fmt.Sprint(wantResp) {
		t.Errorf("response headers\n got %v\nwant %v", f.Response.Headers, wantResp)
	}
}

func TestChunkedBothWays(t *testing.T) {
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Te", strings.Join(r.TransferEncoding, ","))
		for i := 0; i < 3; i++ {
			w.Write(body)
			w.(http.Flusher).Flush()
		}
	}))
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure))
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 4; i++ {
			pw.Write([]byte("part"))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", secure.URL+"/chunked", pr)
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != strings.Repeat("partpartpartpart", 3) {
		t.Fatalf("body %q", got)
	}
	if resp.Header.Get("X-Te") != "chunked" {
		t.Errorf("origin saw request transfer-encoding %q, want chunked", resp.Header.Get("X-Te"))
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("client got response transfer-encoding %v, want chunked", resp.TransferEncoding)
	}
	f := env.WaitFlow(secure.URL + "/chunked")
	if string(f.Request.Body.Data) != "partpartpartpart" || f.Response.Body.Size != 48 {
		t.Errorf("flow bodies %q / %d", f.Request.Body.Data, f.Response.Body.Size)
	}
}

func TestGzipStaysOnTheWire(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(strings.Repeat("compressible ", 100)))
	zw.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("X-Accept-Encoding", r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Length", fmt.Sprint(zipped.Len()))
		w.Write(zipped.Bytes())
	}))
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure))
	tr := env.Transport()
	tr.DisableCompression = true
	req, _ := http.NewRequest("GET", secure.URL+"/gz", nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, zipped.Bytes()) {
		t.Fatalf("client got %d bytes, want the %d gzip bytes the origin sent", len(got), zipped.Len())
	}
	if resp.ContentLength != int64(zipped.Len()) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Length %d, Content-Encoding %q", resp.ContentLength, resp.Header.Get("Content-Encoding"))
	}
	if resp.Header.Get("X-Accept-Encoding") != "gzip, br" {
		t.Errorf("origin saw Accept-Encoding %q", resp.Header.Get("X-Accept-Encoding"))
	}
	f := env.WaitFlow(secure.URL + "/gz")
	if !bytes.Equal(f.Response.Body.Data, zipped.Bytes()) {
		t.Errorf("flow keeps %d bytes, want the raw gzip", len(f.Response.Body.Data))
	}
}

func TestHTTP10AndConnectHTTP10(t *testing.T) {
	plain := httptest.NewServer(echo())
	defer plain.Close()
	secure := httptest.NewTLSServer(echo())
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure))

	t.Run("plain", func(t *testing.T) {
		conn, err := net.Dial("tcp", env.URL.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s/ten HTTP/1.0\r\n\r\n", plain.URL)
		all, _ := io.ReadAll(conn) // HTTP/1.0 without keep-alive: the proxy closes
		if !bytes.HasPrefix(all, []byte("HTTP/1.0 200")) && !bytes.HasPrefix(all, []byte("HTTP/1.1 200")) {
			t.Fatalf("reply: %q", all)
		}
		if bytes.Contains(all, []byte("chunked")) {
			t.Fatalf("chunked reply to an HTTP/1.0 client: %q", all)
		}
		f := env.WaitFlow(plain.URL + "/ten")
		if f.Request.Proto != "HTTP/1.0" {
			t.Errorf("flow proto %q", f.Request.Proto)
		}
	})
	t.Run("connect", func(t *testing.T) {
		conn, err := net.Dial("tcp", env.URL.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		host := secure.Listener.Addr().String()
		fmt.Fprintf(conn, "CONNECT %s HTTP/1.0\r\n\r\n", host)
		br := bufio.NewReader(conn)
		line, _ := br.ReadString('\n')
		if !strings.HasPrefix(line, "HTTP/1.0 200") {
			t.Fatalf("CONNECT reply %q", line)
		}
		br.ReadString('\n')
		tc := tls.Client(conn, &tls.Config{RootCAs: env.CAPool(), ServerName: "127.0.0.1"})
		fmt.Fprintf(tc, "GET /tls10 HTTP/1.0\r\nHost: %s\r\n\r\n", host)
		resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		env.WaitFlow(secure.URL + "/tls10")
	})
}

// countedTLSOrigin starts an HTTPS echo origin (offering HTTP/2 when h2)
// that counts the connections made to it.
func countedTLSOrigin(t *testing.T, h2 bool) (*httptest.Server, *atomic.Int32) {
	conns := new(atomic.Int32)
	srv := httptest.NewUnstartedServer(echo())
	srv.EnableHTTP2 = h2
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, conns
}

func TestKeepAliveReuse(t *testing.T) {
	secure, conns := countedTLSOrigin(t, false)
	env := mitmtest.Start(t, trustOrigin(secure))

	var clientConns atomic.Int32
	tr := env.Transport()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		clientConns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	client := &http.Client{Transport: tr}
	for i := 0; i < 5; i++ {
		resp, err := client.Get(fmt.Sprintf("%s/ka/%d", secure.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	env.WaitFlows(5)
	if n := clientConns.Load(); n != 1 {
		t.Errorf("client opened %d connections to the proxy for 5 requests, want 1", n)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("proxy opened %d connections to the origin for 5 requests, want 1", n)
	}
}

func TestUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	env := mitmtest.Start(t)
	client := env.Client()
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			u := scheme + "://" + addr + "/down"
			resp, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 502 || !strings.Contains(string(body), "connection refused") {
				t.Fatalf("got %d %q, want 502 naming the refusal", resp.StatusCode, body)
			}
			f := env.WaitFlow(u)
			if f.State != flowstore.StateError || f.Error == nil || !strings.Contains(f.Error.Message, "refused") || f.Response != nil {
				t.Fatalf("flow state %v error %+v response %+v", f.State, f.Error, f.Response)
			}
		})
	}
}

func TestUpstreamBadCertificate(t *testing.T) {
	secure := httptest.NewTLSServer(echo()) // its certificate is not trusted
	defer secure.Close()
	t.Run("verified", func(t *testing.T) {
		env := mitmtest.Start(t)
		resp, err := env.Client().Get(secure.URL + "/bad")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 502 || !strings.Contains(string(body), "certificate") {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		f := env.WaitFlow(secure.URL + "/bad")
		if f.Error == nil || !strings.Contains(f.Error.Message, "--ssl-insecure") {
			t.Fatalf("flow error %+v", f.Error)
		}
	})
	t.Run("insecure", func(t *testing.T) {
		env := mitmtest.Start(t, func(o *mitm.Options) { o.SSLInsecure = true })
		resp, err := env.Client().Get(secure.URL + "/bad")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d with --ssl-insecure", resp.StatusCode)
		}
	})
}

func TestIgnoreHostsTunnelsUntouched(t *testing.T) {
	secure := httptest.NewTLSServer(echo())
	defer secure.Close()
	env := mitmtest.Start(t, func(o *mitm.Options) { o.IgnoreHosts = []string{`^127\.0\.0\.1:`} })
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate()) // the origin's own certificate, not our CA
	tr := &http.Transport{Proxy: http.ProxyURL(env.URL), TLSClientConfig: &tls.Config{RootCAs: pool}}
	resp, err := (&http.Client{Transport: tr}).Get(secure.URL + "/ignored")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.TLS.PeerCertificates[0].Equal(secure.Certificate()) {
		t.Fatalf("client saw %s, want the origin's own certificate", resp.TLS.PeerCertificates[0].Subject)
	}
	time.Sleep(50 * time.Millisecond)
	if n := env.Store.Len(); n != 0 {
		t.Fatalf("%d flows recorded for an ignored host", n)
	}
}

func TestConnectToIPWithSNI(t *testing.T) {
	origin := mitmtest.NewOriginCA(t)
	srv := origin.TLSServer(t, echo(), false, "api.example.test")
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{origin.CA.Cert} })
	tr := env.Transport()
	tr.TLSClientConfig.ServerName = "api.example.test"
	u := srv.URL + "/sni" // https://127.0.0.1:port/sni: the CONNECT goes to the IP
	resp, err := (&http.Client{Transport: tr}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.TLS.PeerCertificates[0].DNSNames; len(got) == 0 || got[0] != "api.example.test" {
		t.Fatalf("client got a certificate for %v, want api.example.test", got)
	}
	f := env.WaitFlow(u)
	if f.Client.TLS == nil || f.Client.TLS.SNI != "api.example.test" || f.Server.TLS == nil || f.Server.TLS.SNI != "api.example.test" {
		t.Fatalf("TLS details client %+v server %+v", f.Client.TLS, f.Server.TLS)
	}
}

func TestHTTP2BothSides(t *testing.T) {
	origin := mitmtest.NewOriginCA(t)
	srv := origin.TLSServer(t, echo(), true, "h2.example.test")
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{origin.CA.Cert} })
	resp, err := env.ClientH2().Post(srv.URL+"/h2", "text/plain", strings.NewReader("over h2"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.Header.Get("X-Proto") != "HTTP/2.0" || string(body) != "over h2" {
		t.Fatalf("client %s, origin saw %s, body %q", resp.Proto, resp.Header.Get("X-Proto"), body)
	}
	f := env.WaitFlow(srv.URL + "/h2")
	if f.Request.Proto != "HTTP/2.0" || f.Response.Proto != "HTTP/2.0" || string(f.Request.Body.Data) != "over h2" {
		t.Fatalf("flow request %s response %s body %q", f.Request.Proto, f.Response.Proto, f.Request.Body.Data)
	}
}

func TestNonHTTPInsideConnectIsTunnelled(t *testing.T) {
	// A server that speaks first, like SMTP or MySQL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("220 hello\r\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Write([]byte("echo " + line))
	}()
	env := mitmtest.Start(t, func(o *mitm.Options) { o.PeekTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", env.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ln.Addr(), ln.Addr())
	br := bufio.NewReader(conn)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	greet, err := br.ReadString('\n')
	if err != nil || greet != "220 hello\r\n" {
		t.Fatalf("greeting %q %v", greet, err)
	}
	fmt.Fprintf(conn, "SSH-2.0-client\r\n")
	reply, err := br.ReadString('\n')
	if err != nil || reply != "echo SSH-2.0-client\r\n" {
		t.Fatalf("reply %q %v", reply, err)
	}
}

func TestManyConcurrentClients(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	secure := httptest.NewTLSServer(echo())
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure))
	const clients, each = 200, 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Transport: env.Transport()}
			defer client.CloseIdleConnections()
			for i := 0; i < each; i++ {
				body := fmt.Sprintf("client %d request %d", c, i)
				resp, err := client.Post(fmt.Sprintf("%s/c%d/r%d", secure.URL, c, i), "text/plain", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != body {
					errs <- fmt.Errorf("client %d request %d: got %q", c, i, got)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	flows := env.WaitFlows(clients * each)
	if len(flows) != clients*each {
		t.Fatalf("%d flows, want %d", len(flows), clients*each)
	}
	seen := make(map[string]bool, len(flows))
	for _, f := range flows {
		u, _ := url.Parse(f.Request.URL())
		if seen[u.Path] {
			t.Fatalf("flow for %s captured twice", u.Path)
		}
		seen[u.Path] = true
		var c, i int
		fmt.Sscanf(u.Path, "/c%d/r%d", &c, &i)
		want := fmt.Sprintf("client %d request %d", c, i)
		if string(f.Request.Body.Data) != want || string(f.Response.Body.Data) != want || f.State != flowstore.StateDone {
			t.Fatalf("flow %s: request %q response %q state %v", u.Path, f.Request.Body.Data, f.Response.Body.Data, f.State)
		}
	}
}

func TestLocalPagesAnsweredByTheProxy(t *testing.T) {
	env := mitmtest.Start(t, func(o *mitm.Options) {
		o.LocalPages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "local %s %s", r.URL.Scheme, r.URL.Path)
		})
	})
	for u, want := range map[string]string{"http://interceptor.tui/": "local http /", "https://interceptor.tui/cert/pem": "local https /cert/pem"} {
		resp, err := env.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("%s: got %q, want %q", u, body, want)
		}
	}
	if n := env.Store.Len(); n != 0 {
		t.Errorf("%d flows recorded for the proxy's own pages", n)
	}
}

func TestProxyAuth(t *testing.T) {
	plain := httptest.NewServer(echo())
	defer plain.Close()
	secure := httptest.NewTLSServer(echo())
	defer secure.Close()
	env := mitmtest.Start(t, trustOrigin(secure), func(o *mitm.Options) { o.ProxyAuth = "alice:s3cret" })
	for _, tc := range []struct {
		name, user string
		ok         bool
	}{{"none", "", false}, {"wrong", "alice:nope", false}, {"right", "alice:s3cret", true}} {
		for _, origin := range []*httptest.Server{plain, secure} {
			t.Run(tc.name+origin.URL[:5], func(t *testing.T) {
				pu := *env.URL
				if tc.user != "" {
					u, p, _ := strings.Cut(tc.user, ":")
					pu.User = url.UserPassword(u, p)
				}
				tr := env.Transport()
				tr.Proxy = http.ProxyURL(&pu)
				resp, err := (&http.Client{Transport: tr}).Get(origin.URL + "/auth")
				if tc.ok {
					if err != nil || resp.StatusCode != 200 {
						t.Fatalf("with credentials: %v %v", resp, err)
					}
					resp.Body.Close()
					return
				}
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusProxyAuthRequired {
						t.Fatalf("status %d, want 407", resp.StatusCode)
					}
				} else if !strings.Contains(err.Error(), "Proxy Authentication Required") {
					t.Fatalf("error %v, want a 407", err)
				}
			})
		}
	}
}

// The hooks of a new upstream connection (connect, TLS) live in the
// dialers, not in every request's trace: the first request on a connection
// gets them in order, a request on a pooled one has none, and both get the
// per-request ones.
func TestTimingsFollowTheConnection(t *testing.T) {
	origin := mitmtest.NewOriginCA(t)
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			srv := origin.TLSServer(t, echo(), h2)
			env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{origin.CA.Cert} })
			client := env.Client()
			if h2 {
				client = env.ClientH2() // HTTP/2 upstream is for HTTP/2 clients
			}
			var flows []*flowstore.Flow
			for i := range 2 {
				u := fmt.Sprintf("%s/t/%d", srv.URL, i)
				resp, err := client.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				flows = append(flows, env.WaitFlow(u))
			}
			first, again := flows[0].Timings, flows[1].Timings
			inOrder := []time.Time{first.Start, first.ConnectStart, first.ConnectDone, first.TLSStart, first.TLSDone, first.RequestSent, first.FirstByte, first.End}
			for i, ts := range inOrder {
				if ts.IsZero() || (i > 0 && ts.Before(inOrder[i-1])) {
					t.Fatalf("first request: timings missing or out of order: %+v", first)
				}
			}
			if !again.ConnectStart.IsZero() || !again.TLSStart.IsZero() {
				t.Fatalf("a request on a pooled connection has connection timings: %+v", again)
			}
			if again.RequestSent.IsZero() || again.FirstByte.IsZero() || again.End.IsZero() {
				t.Fatalf("second request: timings missing: %+v", again)
			}
			for _, f := range flows {
				if f.Server.IP == "" || f.Server.TLS == nil || (h2 && f.Server.TLS.ALPN != "h2") {
					t.Fatalf("server %+v, TLS %+v", f.Server, f.Server.TLS)
				}
			}
		})
	}
}
