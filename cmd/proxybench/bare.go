package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

// runBare is "proxybench bare-goproxy": goproxy's MITM with nothing on top,
// the floor interceptor-tui is measured against. It gets what any careful
// goproxy user would give it, and what ours has, so the difference is the
// cost of capture: an ECDSA CA, a leaf cache keyed by SNI with concurrent
// mints collapsed (certs.Leaves), a transport of its own that trusts the
// origin, keeps connections to it (as many idle ones per host as ours
// keeps) and leaves encodings alone, a silent logger. It offers h2 to
// clients (AllowHTTP2) but its Transport, having a TLS config of its own and
// no ForceAttemptHTTP2, speaks HTTP/1.1 to every origin, whatever the
// client spoke: the floor the issue measured against.
func runBare(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxybench bare-goproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	caDir := fs.String("ca-dir", "", "`directory` holding (or to hold) ca.pem and ca-key.pem")
	upstreamCA := fs.String("upstream-ca", "", "PEM `file` of a CA to trust for origins, besides the system's")
	forwardClose := fs.Bool("forward-close", false, "let a client's \"Connection: close\" close the upstream connection too (goproxy's own behaviour)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `file` until the proxy stops, to compare with interceptor-tui's --cpuprofile")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *caDir == "" {
		fmt.Fprintln(stderr, "bare-goproxy: --ca-dir is required")
		return 2
	}
	ca, _, err := certs.LoadOrCreate(*caDir)
	if err != nil {
		fmt.Fprintln(stderr, "bare-goproxy:", err)
		return 1
	}
	leaves := certs.NewLeaves(ca, certs.DefaultLeafCacheSize)

	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if *upstreamCA != "" {
		pem, err := os.ReadFile(*upstreamCA)
		if err != nil {
			fmt.Fprintln(stderr, "bare-goproxy:", err)
			return 1
		}
		if !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintf(stderr, "bare-goproxy: no certificate in %s\n", *upstreamCA)
			return 1
		}
	}

	p := goproxy.NewProxyHttpServer()
	p.Logger = log.New(io.Discard, "", 0)
	p.KeepAcceptEncoding = true
	p.AllowHTTP2 = true
	p.ConnectDial = nil
	p.Tr = &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		DisableCompression:  true,
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	mitm := &goproxy.ConnectAction{
		Action: goproxy.ConnectMitm,
		TLSConfig: func(host string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
			fallback, _, err := net.SplitHostPort(host)
			if err != nil {
				fallback = host
			}
			return &tls.Config{GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if hi.ServerName != "" {
					return leaves.Get(hi.ServerName)
				}
				return leaves.Get(fallback)
			}}, nil
		},
	}
	p.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		ctx.UserData = host
		return mitm, host
	})
	// goproxy sends a MITM'd request to its Host header. A client that
	// CONNECTs to an address and names another host (the handshakes
	// scenario: CONNECT 127.0.0.1:PORT, Host hN.bench.test, no DNS) must
	// still reach the address it asked for, as it does through
	// interceptor-tui and mitmdump.
	//
	// "Connection: close" is hop-by-hop: it ends the client's connection,
	// not the proxy's pooled one to the origin. goproxy passes it on as
	// req.Close, so without this line a client that does not keep alive
	// costs the bare proxy a second TLS handshake, upstream, per request,
	// and the floor would be no floor (interceptor-tui keeps the upstream
	// connection).
	p.OnRequest().DoFunc(func(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		if target, ok := ctx.UserData.(string); ok && r.URL.Host != target {
			r.URL.Host = target
		}
		if !*forwardClose {
			r.Close = false
		}
		return r, nil
	})

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "bare-goproxy: --cpuprofile:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "bare-goproxy:", err)
		return 1
	}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())
	closeOnSignal(ln)
	srv := &http.Server{Handler: p, ErrorLog: log.New(io.Discard, "", 0)}
	if err := srv.Serve(ln); err != nil && !isClosed(err) {
		fmt.Fprintln(stderr, "bare-goproxy:", err)
		return 1
	}
	return 0
}

// closeOnSignal closes ln on SIGINT or SIGTERM, which ends the accept loop
// of a helper process proxybench started and now stops.
func closeOnSignal(ln net.Listener) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		_ = ln.Close()
	}()
}

func isClosed(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed)
}
