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

const smallBodySize = 100

// origin is the server every scenario talks to in the end: HTTPS and plain
// HTTP on loopback, HTTP/1.1 only so that every proxy speaks the same
// protocol upstream. Its certificate is minted for whatever SNI name a
// client sends (127.0.0.1 without SNI) by its own CA.
type origin struct {
	httpsAddr string // 127.0.0.1:port
	httpAddr  string
	caFile    string // PEM of the origin's CA, for --upstream-ca
	pool      *x509.CertPool
	servers   []*http.Server
	conns     atomic.Int64 // connections accepted, both ports
}

// Paths the origin serves.
const (
	pathSmall = "/small"
	pathBig   = "/big"
)

func startOrigin(dir string, bigSize int64) (*origin, error) {
	ca, err := certs.Create(filepath.Join(dir, "origin-ca"))
	if err != nil {
		return nil, fmt.Errorf("origin CA: %w", err)
	}
	leaves := certs.NewLeaves(ca, 512)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)

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
	mux := http.NewServeMux()
	mux.HandleFunc(pathSmall, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(small)))
		_, _ = w.Write(small)
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

	o := &origin{caFile: ca.CertPath(), pool: pool}
	quiet := log.New(io.Discard, "", 0)
	count := func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			o.conns.Add(1)
		}
	}

	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{
		GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hi.ServerName
			if name == "" {
				name = "127.0.0.1"
			}
			return leaves.Get(name)
		},
		NextProtos: []string{"http/1.1"},
	}
	o.httpsAddr = tlsLn.Addr().String()
	httpsSrv := &http.Server{Handler: mux, ErrorLog: quiet, ConnState: count}
	go func() { _ = httpsSrv.Serve(tls.NewListener(tlsLn, tlsCfg)) }()

	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = httpsSrv.Close()
		return nil, err
	}
	o.httpAddr = plainLn.Addr().String()
	httpSrv := &http.Server{Handler: mux, ErrorLog: quiet, ConnState: count}
	go func() { _ = httpSrv.Serve(plainLn) }()

	o.servers = []*http.Server{httpsSrv, httpSrv}
	return o, nil
}

func (o *origin) close() {
	for _, s := range o.servers {
		_ = s.Close()
	}
}
