// Package mitmtest is the engine's test kit: a proxy on 127.0.0.1:0 with a
// fresh CA, clients that use it, origins with certificates for any name,
// and waiting for flows to finish (after martian's martiantest).
package mitmtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

// Env is a running proxy and what tests need around it.
type Env struct {
	T     testing.TB
	Store *flowstore.Store
	Log   *flowstore.EventLog
	CA    *certs.CA
	Proxy *mitm.Proxy
	URL   *url.URL // http://127.0.0.1:port
	Dir   string   // the CA's directory
}

// Start runs a proxy for the test's lifetime. opts adjust its options.
func Start(t testing.TB, opts ...func(*mitm.Options)) *Env {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := certs.LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	e := &Env{T: t, Store: flowstore.NewStore(0), Log: flowstore.NewEventLog(10000), CA: ca, Dir: dir}
	o := mitm.Options{Store: e.Store, Log: e.Log, CA: ca}
	for _, fn := range opts {
		fn(&o)
	}
	p, err := mitm.New(o)
	if err != nil {
		t.Fatalf("mitm.New: %v", err)
	}
	e.Proxy = p
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	e.URL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("proxy did not stop within 5s")
		}
	})
	return e
}

// CAPool holds the proxy's CA alone.
func (e *Env) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(e.CA.Cert)
	return pool
}

// Transport returns an HTTP/1.1 transport through the proxy that trusts its CA.
func (e *Env) Transport() *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyURL(e.URL),
		TLSClientConfig:     &tls.Config{RootCAs: e.CAPool()},
		MaxIdleConnsPerHost: 64,
	}
}

// Client is an HTTP/1.1 client through the proxy.
func (e *Env) Client() *http.Client {
	c := &http.Client{Transport: e.Transport(), Timeout: 30 * time.Second}
	e.T.Cleanup(c.CloseIdleConnections)
	return c
}

// ClientH2 is a client that offers HTTP/2 to the proxy inside tunnels.
func (e *Env) ClientH2() *http.Client {
	tr := e.Transport()
	tr.ForceAttemptHTTP2 = true
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	e.T.Cleanup(c.CloseIdleConnections)
	return c
}

// WaitFlows waits until at least n flows are in a final state and returns
// all flows.
func (e *Env) WaitFlows(n int) []*flowstore.Flow {
	e.T.Helper()
	var flows []*flowstore.Flow
	final := 0
	if !Within(10*time.Second, func() bool {
		flows, final = e.Store.List(), 0
		for _, f := range flows {
			if f.State.Final() {
				final++
			}
		}
		return final >= n
	}) {
		e.T.Fatalf("waited 10s for %d finished flows; have %d of %d", n, final, len(flows))
	}
	return flows
}

// WaitFlow waits for the only flow whose URL is u to finish.
func (e *Env) WaitFlow(u string) *flowstore.Flow {
	e.T.Helper()
	var found *flowstore.Flow
	if !Within(10*time.Second, func() bool {
		found = nil
		for _, f := range e.Store.List() {
			if f.Request.URL() == u {
				found = f
			}
		}
		return found != nil && found.State.Final()
	}) {
		e.T.Fatalf("waited 10s for a finished flow for %s; last seen: %+v", u, found)
	}
	return found
}

// Origin is a test CA that signs certificates for TLS origins, standing
// in for a public CA the proxy trusts.
type Origin struct {
	CA     *certs.CA
	leaves *certs.Leaves
}

// NewOriginCA makes a CA for origins in a temporary directory.
func NewOriginCA(t testing.TB) *Origin {
	t.Helper()
	ca, _, err := certs.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatalf("origin CA: %v", err)
	}
	return &Origin{CA: ca, leaves: certs.NewLeaves(ca, 64)}
}

// TLSServer starts an HTTPS origin on 127.0.0.1 whose certificate names
// the given hosts (and 127.0.0.1), offering HTTP/2 when h2 is set.
func (o *Origin) TLSServer(t testing.TB, h http.Handler, h2 bool, names ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	ipLeaf, err := o.leaves.Get("127.0.0.1")
	if err != nil {
		t.Fatalf("origin leaf: %v", err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*ipLeaf}, GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
		name := hi.ServerName
		if name == "" {
			name = "127.0.0.1"
		}
		for _, n := range names {
			if n == name {
				return o.leaves.Get(name)
			}
		}
		if name == "127.0.0.1" {
			return o.leaves.Get(name)
		}
		return nil, errors.New("origin has no certificate for " + name)
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Listen serves one more listener on 127.0.0.1:0 in mode m and returns its
// address; it ends with the proxy.
func (e *Env) Listen(m mitm.Mode) string {
	e.T.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.T.Fatalf("listen: %v", err)
	}
	go e.Proxy.ServeMode(context.Background(), ln, m)
	return ln.Addr().String()
}

// MustMode parses a --mode value or fails the test.
func MustMode(t testing.TB, spec string) mitm.Mode {
	t.Helper()
	m, err := mitm.ParseMode(spec)
	if err != nil {
		t.Fatalf("ParseMode(%q): %v", spec, err)
	}
	return m
}

// ClientCert mints a client certificate (ExtKeyUsageClientAuth) named cn,
// signed by the origin CA, and returns it with its key as one PEM file.
func (o *Origin) ClientCert(t testing.TB, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, o.CA.Cert, &key.PublicKey, o.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

// ResolveTest sends every dial to a name under .test to 127.0.0.1 (the
// port kept), as /etc/hosts would: origins in tests answer to such names.
func ResolveTest(o *mitm.Options) {
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".test") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}
