package mitm_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// mitmdump runs mitmproxy's mitmdump on 127.0.0.1 and returns its address
// and the CA it intercepts TLS with; extra are more of its options.
func mitmdump(t *testing.T, extra ...string) (string, *x509.CertPool) {
	t.Helper()
	bin, err := exec.LookPath("mitmdump")
	if err != nil {
		t.Skip("mitmdump not found: install the Debian package mitmproxy")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--listen-host", "127.0.0.1", "-p", "0", "--set", "confdir=" + dir,
		"--ssl-insecure", "--set", "flow_detail=0"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening at ([0-9.]+:[0-9]+)`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("mitmdump did not start within 30s")
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "mitmproxy-ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(cert)
	return addr, pool
}

// The same raw bytes, sent through interceptor-tui and through mitmdump,
// reach the origin and the client the same: what a request carries and
// what an answer carries is what mitmproxy would pass on.
func TestSameBytesAsMitmproxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mitmdump")
	}
	mdAddr, mdCA := mitmdump(t)
	originCA := mitmtest.NewOriginCA(t)
	env := mitmtest.Start(t, func(o *mitm.Options) { o.UpstreamRoots = []*x509.Certificate{originCA.CA.Cert} })

	cases := []struct {
		name     string
		tls      bool
		request  string // %[1]s is the origin's host:port; %[2]s the request target's scheme://host:port or ""
		response string
	}{
		{name: "odd headers", request: "GET %[2]s/a?b=%%7e HTTP/1.1\r\nhost: %[1]s\r\nzeta: 1\r\nAlpha: 2\r\nalpha: 3\r\nX-UPPER: U\r\n\r\n",
			response: "HTTP/1.1 200 Fine Thanks\r\nx-lower: a\r\nZeta: z\r\nAlpha: a\r\nAlpha: b\r\nContent-Length: 2\r\n\r\nok"},
		{name: "hop-by-hop", request: "GET %[2]s/h HTTP/1.1\r\nHost: %[1]s\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive, X-Foo\r\nX-Foo: bar\r\nKeep-Alive: 300\r\nTE: trailers\r\n\r\n",
			response: "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok"},
		{name: "no date, no type", request: "GET %[2]s/n HTTP/1.1\r\nHost: %[1]s\r\n\r\n",
			response: "HTTP/1.1 200 OK\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 15\r\n\r\n<html>hi</html>"},
		{name: "post with length", request: "POST %[2]s/p HTTP/1.1\r\nHost: %[1]s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nuser=me",
			response: "HTTP/1.1 201 Created\r\nLocation: /p/1\r\nContent-Length: 0\r\n\r\n"},
		{name: "chunked request", request: "POST %[2]s/cr HTTP/1.1\r\nHost: %[1]s\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		{name: "http/1.0", request: "GET %[2]s/old HTTP/1.0\r\nHost: %[1]s\r\n\r\n",
			response: "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold"},
		{name: "chunked answer", request: "GET %[2]s/c HTTP/1.1\r\nHost: %[1]s\r\n\r\n",
			response: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{name: "tls odd headers", tls: true, request: "GET /t HTTP/1.1\r\nhost: %[1]s\r\nzeta: 1\r\nAlpha: 2\r\n\r\n",
			response: "HTTP/1.1 200 OK\r\nzeta: z\r\nALPHA: a\r\nContent-Length: 2\r\n\r\nok"},
		{name: "tls post", tls: true, request: "POST /tp HTTP/1.1\r\nHost: %[1]s\r\nContent-Length: 3\r\nx-b: 1\r\n\r\nabc",
			response: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-a: 2\r\n\r\nok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(proxy string, trust *x509.CertPool) (origin, client string) {
				rec := newRecordingOrigin()
				var addr string
				if tc.tls {
					addr = rawServer(t, originCA, rec.serve(tc.response), "127.0.0.1")
				} else {
					addr = rawServer(t, nil, rec.serve(tc.response))
				}
				c, err := net.Dial("tcp", proxy)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				target := "http://" + addr
				if tc.tls {
					fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", addr, addr)
					br := bufio.NewReader(c)
					for {
						line, err := br.ReadString('\n')
						if err != nil {
							t.Fatalf("CONNECT through %s: %v", proxy, err)
						}
						if line == "\r\n" {
							break
						}
					}
					tcn := tls.Client(c, &tls.Config{RootCAs: trust, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
					if err := tcn.Handshake(); err != nil {
						t.Fatalf("TLS through %s: %v", proxy, err)
					}
					c, target = tcn, ""
				}
				fmt.Fprintf(c, tc.request, addr, target)
				origin = rec.next(t)
				client = readAll(c, 500*time.Millisecond)
				return strings.ReplaceAll(origin, addr, "ORIGIN"), client
			}
			ourOrigin, ourClient := run(env.URL.Host, env.CAPool())
			mdOrigin, mdClient := run(mdAddr, mdCA)
			if ourOrigin != mdOrigin {
				t.Errorf("the origin got\n%q from interceptor-tui\n%q from mitmdump", ourOrigin, mdOrigin)
			}
			if ourClient != mdClient {
				t.Errorf("the client got\n%q from interceptor-tui\n%q from mitmdump", ourClient, mdClient)
			}
			if ourClient != tc.response {
				t.Errorf("the client got\n%q\nthe origin sent\n%q", ourClient, tc.response)
			}
		})
	}
}

// mitmproxy's four options, given the same values, mean the same here as
// in mitmdump: the origin receives the same bytes, and so does the client
// (a local file's answer: the same status, type and body; mitmproxy adds a
// Server header of its own).
func TestRuleOptionsSameAsMitmproxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mitmdump")
	}
	dir := t.TempDir()
	for name, data := range map[string]string{"a.txt": "local a\n", "index.html": "<p>index</p>\n", "sub/b.json": `{"b":1}`} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	first, second := newRecordingOrigin(), newRecordingOrigin()
	answer := "HTTP/1.1 200 OK\r\nServer: origin\r\nContent-Type: text/plain\r\nX-Resp: orig\r\nContent-Length: 22\r\n\r\nhello from origin, a\nb"
	a1 := rawServer(t, nil, first.serve(answer))
	a2 := rawServer(t, nil, second.serve("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"))
	opts := rules.MitmproxyOptions{
		ModifyHeaders: []string{"/~q/X-Req/one", "/~q/X-Req/two", "/~s/X-Resp/changed", "|~hq User-Agent:.*Mozilla|User-Agent|Definitely not Mozilla",
			`/X-Both/b\x41`, "/~q/Accept/", ":~s:Server:"},
		ModifyBody: []string{"/~q/ping/PONG", ":~s:origin, a.b:ORIGIN"},
		MapRemote:  []string{"|~u /mr/|" + a1 + "/mr/|" + a2 + "/mapped/"},
		MapLocal:   []string{"|/ml/|" + dir},
	}
	var flags []string
	for _, o := range []struct {
		flag  string
		specs []string
	}{{"--modify-headers", opts.ModifyHeaders}, {"--modify-body", opts.ModifyBody}, {"--map-remote", opts.MapRemote}, {"--map-local", opts.MapLocal}} {
		for _, s := range o.specs {
			flags = append(flags, o.flag, s)
		}
	}
	mdAddr, _ := mitmdump(t, flags...)
	env := mitmtest.Start(t)
	rs, err := rules.FromMitmproxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Proxy.ReplaceRules(rules.SourceFlags, rs); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, request string
		origin        *recordingOrigin // nil: no origin is asked
		local         bool             // a local file answers
	}{
		{"headers both ways", "GET http://%[1]s/h HTTP/1.1\r\nHost: %[1]s\r\nX-Req: client\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n", first, false},
		{"request and response bodies", "POST http://%[1]s/b HTTP/1.1\r\nHost: %[1]s\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nping ping", first, false},
		{"map remote", "GET http://%[1]s/mr/x?q=1 HTTP/1.1\r\nHost: %[1]s\r\n\r\n", second, false},
		{"map local file", "GET http://%[1]s/ml/a.txt HTTP/1.1\r\nHost: %[1]s\r\n\r\n", nil, true},
		{"map local index", "GET http://%[1]s/ml/ HTTP/1.1\r\nHost: %[1]s\r\n\r\n", nil, true},
		{"map local json", "GET http://%[1]s/ml/sub/b.json?v=2 HTTP/1.1\r\nHost: %[1]s\r\n\r\n", nil, true},
		{"map local missing", "GET http://%[1]s/ml/none.css HTTP/1.1\r\nHost: %[1]s\r\n\r\n", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(proxy string) (origin string, client *http.Response, body string) {
				c, err := net.Dial("tcp", proxy)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				fmt.Fprintf(c, tc.request, a1)
				if tc.origin != nil {
					origin = tc.origin.next(t)
				}
				raw := readAll(c, 500*time.Millisecond)
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
				if err != nil {
					t.Fatalf("through %s: %v in %q", proxy, err, raw)
				}
				b, _ := io.ReadAll(resp.Body)
				return origin, resp, string(b)
			}
			ourOrigin, ourResp, ourBody := run(env.URL.Host)
			mdOrigin, mdResp, mdBody := run(mdAddr)
			// Where mitmproxy differs from itself or says nothing new: its
			// --modify-body sets the content of every message it matches, so
			// a bodyless request gains "content-length: 0"; and 8.1.1's
			// map-remote drops the port from Host (fixed since: its
			// test_host_header wants host:port, as we send).
			mdOrigin = strings.Replace(mdOrigin, "content-length: 0\r\n", "", 1)
			if tc.origin == second {
				mdOrigin = strings.Replace(mdOrigin, "Host: 127.0.0.1\r\n", "Host: "+a2+"\r\n", 1)
			}
			if ourOrigin != mdOrigin {
				t.Errorf("the origin got\n%q from interceptor-tui\n%q from mitmdump", ourOrigin, mdOrigin)
			}
			if ourResp.StatusCode != mdResp.StatusCode || ourBody != mdBody && !(tc.local && ourResp.StatusCode == 404) {
				t.Errorf("the client got\n%d %q from interceptor-tui\n%d %q from mitmdump", ourResp.StatusCode, ourBody, mdResp.StatusCode, mdBody)
			}
			ours, theirs := ourResp.Header.Clone(), mdResp.Header.Clone()
			if tc.local {
				// Python's and Go's type tables differ in their parameters
				// (charset); mitmproxy names itself in Server.
				for _, h := range []http.Header{ours, theirs} {
					h.Set("Content-Type", strings.Split(h.Get("Content-Type"), ";")[0])
					h.Del("Server")
					if ourResp.StatusCode == 404 {
						h.Del("Content-Length") // our 404 says why in its body
						h.Del("Content-Type")
					}
				}
			}
			if !reflect.DeepEqual(ours, theirs) {
				t.Errorf("the client got headers\n%v from interceptor-tui\n%v from mitmdump", ours, theirs)
			}
			select {
			case raw := <-first.seen:
				if tc.origin != first {
					t.Errorf("the first origin was asked: %q", raw)
				}
			default:
			}
		})
	}
}
