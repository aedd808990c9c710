package main

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

const (
	smallBodySize = 100
	postBodySize  = 4 << 10
)

// Origin kinds, as --origin takes them. Every HTTPS scenario runs against
// each kind selected; the plain HTTP scenario has no TLS, so no ALPN, and
// runs against the plain listener, which is HTTP/1.1.
const (
	originH1    = "h1"    // ALPN offers http/1.1 only
	originH2    = "h2"    // ALPN offers h2 and http/1.1, as most origins on the web
	originPlain = "plain" // plain HTTP/1.1, for the http scenario
)

var allOrigins = []string{originH1, originH2}

var originTitles = map[string]string{
	originH1:    "http/1.1",
	originH2:    "h2,http/1.1",
	originPlain: "plain HTTP/1.1",
}

// origin is the server every scenario talks to in the end, on loopback:
// two HTTPS listeners, one offering only http/1.1 in ALPN and one offering
// h2 and http/1.1, and a plain HTTP one. Its certificates are minted for
// whatever SNI name a client sends (127.0.0.1 without SNI) by its own CA.
// It counts the connections it accepts and the requests it serves by HTTP
// version, so a row can say what each proxy spoke upstream.
type origin struct {
	https    map[string]string // origin kind → 127.0.0.1:port
	httpAddr string
	caFile   string // PEM of the origin's CA, for --upstream-ca
	pool     *x509.CertPool
	servers  []*http.Server
	conns    atomic.Int64 // connections accepted, every listener
	reqs1    atomic.Int64 // requests served over HTTP/1.x
	reqs2    atomic.Int64 // requests served over HTTP/2
}

// Paths the origin serves.
const (
	pathSmall  = "/small"
	pathBig    = "/big"
	pathUpload = "/upload" // POST: reads the body, answers as /small does
)

// addr is where a scenario against the origin kind reaches it.
func (o *origin) addr(kind string) string {
	if kind == originPlain {
		return o.httpAddr
	}
	return o.https[kind]
}

// served reads the request counters, to take differences around a load.
func (o *origin) served() (h1, h2 int64) { return o.reqs1.Load(), o.reqs2.Load() }

func startOrigin(dir string, bigSize int64) (*origin, error) {
	ca, err := certs.Create(filepath.Join(dir, "origin-ca"))
	if err != nil {
		return nil, fmt.Errorf("origin CA: %w", err)
	}
	leaves := certs.NewLeaves(ca, 512)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	o := &origin{caFile: ca.CertPath(), pool: pool, https: map[string]string{}}

	small := make([]byte, smallBodySize)
	for i := range small {
		small[i] = 'a' + byte(i%26)
	}
	// 1 MiB of random bytes, repeated: no compressor finds anything in a
	// window that small, and nobody spends a second generating 1 GiB.
	block := make([]byte, 1<<20)
	if _, err := rand.Read(block); err != nil {
		return nil, err
	}
	writeSmall := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(small)))
		_, _ = w.Write(small)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(pathSmall, func(w http.ResponseWriter, r *http.Request) { writeSmall(w) })
	mux.HandleFunc(pathUpload, func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil || r.Method != http.MethodPost || n != postBodySize {
			http.Error(w, fmt.Sprintf("want a POST of %d body bytes, got a %s of %d (%v)", postBodySize, r.Method, n, err), http.StatusBadRequest)
			return
		}
		writeSmall(w)
	})
	mux.HandleFunc(pathBig, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(bigSize, 10))
		for left := bigSize; left > 0; {
			n := min(left, int64(len(block)))
			if _, err := w.Write(block[:n]); err != nil {
				return
			}
			left -= n
		}
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			o.reqs2.Add(1)
		} else {
			o.reqs1.Add(1)
		}
		mux.ServeHTTP(w, r)
	})

	quiet := log.New(io.Discard, "", 0)
	count := func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			o.conns.Add(1)
		}
	}
	getCert := func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
		name := hi.ServerName
		if name == "" {
			name = "127.0.0.1"
		}
		return leaves.Get(name)
	}
	serve := func(srv *http.Server, ln net.Listener) {
		o.servers = append(o.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}

	for _, kind := range allOrigins {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			o.close()
			return nil, err
		}
		srv := &http.Server{Handler: handler, ErrorLog: quiet, ConnState: count}
		tlsCfg := &tls.Config{GetCertificate: getCert, NextProtos: []string{"http/1.1"}}
		if kind == originH2 {
			// Serve on a listener of our own sets HTTP/2 up in
			// TLSNextProto; it is used when the handshake chose h2.
			tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		} else {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
		o.https[kind] = ln.Addr().String()
		serve(srv, tls.NewListener(ln, tlsCfg))
	}

	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		o.close()
		return nil, err
	}
	o.httpAddr = plainLn.Addr().String()
	serve(&http.Server{Handler: handler, ErrorLog: quiet, ConnState: count}, plainLn)
	return o, nil
}

func (o *origin) close() {
	for _, s := range o.servers {
		_ = s.Close()
	}
}

// upstreamProto names the HTTP versions the origin served in a load, from
// its request counts by version.
func upstreamProto(h1, h2 int64) string {
	switch {
	case h1 == 0 && h2 == 0:
		return ""
	case h2 == 0:
		return "HTTP/1.1"
	case h1 == 0:
		return "HTTP/2"
	}
	return fmt.Sprintf("HTTP/1.1 %d, HTTP/2 %d", h1, h2)
}
