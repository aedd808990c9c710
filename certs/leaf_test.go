package certs_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

const maxLeafValidity = 397 * 24 * time.Hour

func TestLeafVerifies(t *testing.T) {
	ca, _ := newCADir(t)
	leaves := certs.NewLeaves(ca, 16)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)

	tests := []struct {
		in      string
		dnsName string // what a client verifies against
		isIP    bool
	}{
		{in: "example.test", dnsName: "example.test"},
		{in: "Mixed.Example.TEST:443", dnsName: "mixed.example.test"},
		{in: "trailing.dot.test.", dnsName: "trailing.dot.test"},
		{in: "127.0.0.1", dnsName: "127.0.0.1", isIP: true},
		{in: "127.0.0.1:8443", dnsName: "127.0.0.1", isIP: true},
		{in: "::1", dnsName: "::1", isIP: true},
		{in: "[2001:db8::1]:443", dnsName: "2001:db8::1", isIP: true},
		{in: "[fe80::1%eth0]", dnsName: "fe80::1", isIP: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tc, err := leaves.Get(tt.in)
			if err != nil {
				t.Fatalf("Get(%q): %v", tt.in, err)
			}
			leaf := tc.Leaf
			if leaf == nil {
				t.Fatal("Leaf not set")
			}
			if len(tc.Certificate) != 2 || !bytes.Equal(tc.Certificate[0], leaf.Raw) || !bytes.Equal(tc.Certificate[1], ca.Cert.Raw) {
				t.Error("chain is not [leaf, CA]")
			}
			if _, err := leaf.Verify(x509.VerifyOptions{
				DNSName:   tt.dnsName,
				Roots:     roots,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}); err != nil {
				t.Errorf("Verify(%s): %v", tt.dnsName, err)
			}
			if tt.isIP {
				if len(leaf.IPAddresses) != 1 || len(leaf.DNSNames) != 0 {
					t.Errorf("IP leaf has IPs %v and names %v", leaf.IPAddresses, leaf.DNSNames)
				}
			} else {
				if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != tt.dnsName || leaf.Subject.CommonName != tt.dnsName {
					t.Errorf("DNS leaf has names %v, CN %q; want exactly %q", leaf.DNSNames, leaf.Subject.CommonName, tt.dnsName)
				}
				if len(leaf.IPAddresses) != 0 {
					t.Errorf("DNS leaf has IPs %v", leaf.IPAddresses)
				}
			}
			if v := leaf.NotAfter.Sub(leaf.NotBefore); v > maxLeafValidity {
				t.Errorf("validity %v exceeds 397 days", v)
			}
			if !leaf.NotBefore.Before(time.Now()) {
				t.Errorf("NotBefore %v is not in the past", leaf.NotBefore)
			}
			if leaf.NotAfter.After(ca.Cert.NotAfter) {
				t.Error("leaf outlives the CA")
			}
			if leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature ||
				len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("usage: IsCA=%v KeyUsage=%v ExtKeyUsage=%v", leaf.IsCA, leaf.KeyUsage, leaf.ExtKeyUsage)
			}
			if !bytes.Equal(leaf.AuthorityKeyId, ca.Cert.SubjectKeyId) {
				t.Error("AuthorityKeyId is not the CA's SubjectKeyId")
			}
		})
	}
}

func TestLeafDoesNotCoverOtherNames(t *testing.T) {
	ca, _ := newCADir(t)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	tc, err := certs.NewLeaves(ca, 4).Get("a.b.example.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"x.b.example.test", "b.example.test", "example.test"} {
		if _, err := tc.Leaf.Verify(x509.VerifyOptions{DNSName: other, Roots: roots}); err == nil {
			t.Errorf("leaf for a.b.example.test also verifies for %s", other)
		}
	}
}

func TestLeafInvalidNames(t *testing.T) {
	ca, _ := newCADir(t)
	leaves := certs.NewLeaves(ca, 4)
	for _, name := range []string{"", "[::1", "[example.test]", "a b.test", "ex/ample.test", "*.example.test", "a..b", "host:port", "bücher.test"} {
		t.Run(name, func(t *testing.T) {
			if _, err := leaves.Get(name); !errors.Is(err, certs.ErrInvalidName) {
				t.Errorf("Get(%q) err = %v, want ErrInvalidName", name, err)
			}
		})
	}
	if n := leaves.Mints(); n != 0 {
		t.Errorf("minted %d leaves for invalid names", n)
	}
}

func TestLeafCache(t *testing.T) {
	ca, _ := newCADir(t)

	tests := []struct {
		name      string
		size      int
		gets      []string
		wantMints int64
	}{
		{"same name served from cache", 4, []string{"a.test", "a.test", "a.test"}, 1},
		{"case and port share an entry", 4, []string{"A.test", "a.TEST:443", "a.test."}, 1},
		{"distinct names", 4, []string{"a.test", "b.test", "127.0.0.1", "[127.0.0.1]:1"}, 3},
		{"least recently used is evicted", 2, []string{"a.test", "b.test", "c.test", "a.test"}, 4},
		{"recent use protects an entry", 2, []string{"a.test", "b.test", "a.test", "c.test", "a.test"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaves := certs.NewLeaves(ca, tt.size)
			for _, g := range tt.gets {
				if _, err := leaves.Get(g); err != nil {
					t.Fatalf("Get(%q): %v", g, err)
				}
			}
			if got := leaves.Mints(); got != tt.wantMints {
				t.Errorf("Mints() = %d, want %d", got, tt.wantMints)
			}
		})
	}
}

func TestLeafExpiry(t *testing.T) {
	ca, _ := newCADir(t)
	start := time.Now()

	tests := []struct {
		name      string
		later     func(first *x509.Certificate) time.Time // clock for the second Get
		wantMints int64
		wantErr   error
	}{
		{"well before expiry: cached", func(*x509.Certificate) time.Time { return start.Add(200 * 24 * time.Hour) }, 1, nil},
		{"25h before expiry: cached", func(c *x509.Certificate) time.Time { return c.NotAfter.Add(-25 * time.Hour) }, 1, nil},
		{"23h before expiry: re-minted", func(c *x509.Certificate) time.Time { return c.NotAfter.Add(-23 * time.Hour) }, 2, nil},
		{"expired: re-minted", func(c *x509.Certificate) time.Time { return c.NotAfter.Add(time.Hour) }, 2, nil},
		{"CA expired: error", func(*x509.Certificate) time.Time { return ca.Cert.NotAfter.Add(time.Minute) }, 1, certs.ErrCAExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			leaves := certs.NewLeaves(ca, 4)
			certs.SetLeafClock(leaves, func() time.Time { return now })
			first, err := leaves.Get("expiry.test")
			if err != nil {
				t.Fatal(err)
			}
			now = tt.later(first.Leaf)
			second, err := leaves.Get("expiry.test")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("second Get err = %v, want %v", err, tt.wantErr)
			}
			if got := leaves.Mints(); got != tt.wantMints {
				t.Errorf("Mints() = %d, want %d", got, tt.wantMints)
			}
			if err == nil && !second.Leaf.NotAfter.After(now) {
				t.Errorf("served a leaf expiring %v at %v", second.Leaf.NotAfter, now)
			}
		})
	}
}

// Near the end of the CA's life a leaf cannot outlive it; it must be cut
// short rather than refused, and not re-minted on every Get.
func TestLeafCappedByCA(t *testing.T) {
	ca, _ := newCADir(t)
	now := ca.Cert.NotAfter.Add(-100 * 24 * time.Hour)
	leaves := certs.NewLeaves(ca, 4)
	certs.SetLeafClock(leaves, func() time.Time { return now })

	tc, err := leaves.Get("late.test")
	if err != nil {
		t.Fatal(err)
	}
	if !tc.Leaf.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", tc.Leaf.NotAfter, ca.Cert.NotAfter)
	}
	now = ca.Cert.NotAfter.Add(-time.Hour) // inside the 24h renewal window
	if _, err := leaves.Get("late.test"); err != nil {
		t.Fatal(err)
	}
	if got := leaves.Mints(); got != 1 {
		t.Errorf("Mints() = %d; a leaf capped by the CA was re-minted though a new one cannot last longer", got)
	}
}

func TestTLSHandshake(t *testing.T) {
	ca, _ := newCADir(t)
	leaves := certs.NewLeaves(ca, 16)
	trusted := x509.NewCertPool()
	trusted.AddCert(ca.Cert)

	tests := []struct {
		name    string
		roots   *x509.CertPool
		wantErr bool
	}{
		{"CA trusted", trusted, false},
		{"CA not trusted", x509.NewCertPool(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverConn, clientConn := net.Pipe()
			defer serverConn.Close()
			defer clientConn.Close()

			server := tls.Server(serverConn, &tls.Config{GetCertificate: leaves.GetCertificate})
			serverErr := make(chan error, 1)
			go func() {
				err := server.Handshake()
				serverConn.Close() // unblock the client if the server gives up first
				serverErr <- err
			}()

			client := tls.Client(clientConn, &tls.Config{RootCAs: tt.roots, ServerName: "example.test"})
			clientConn.SetDeadline(time.Now().Add(10 * time.Second))
			err := client.Handshake()
			clientConn.Close()
			<-serverErr

			if tt.wantErr {
				var unknown x509.UnknownAuthorityError
				if !errors.As(err, &unknown) {
					t.Errorf("handshake err = %v, want an unknown authority error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			state := client.ConnectionState()
			if got := state.PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "example.test" {
				t.Errorf("server presented %v", got)
			}
		})
	}
}

func TestGetCertificateWithoutSNI(t *testing.T) {
	ca, _ := newCADir(t)
	if _, err := certs.NewLeaves(ca, 1).GetCertificate(&tls.ClientHelloInfo{}); !errors.Is(err, certs.ErrNoServerName) {
		t.Errorf("err = %v, want ErrNoServerName", err)
	}
}

func TestConcurrentGetMintsOnce(t *testing.T) {
	ca, _ := newCADir(t)
	leaves := certs.NewLeaves(ca, 16)

	const n = 200
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]*tls.Certificate, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // release together so the calls overlap
			results[i], errs[i] = leaves.Get("same.test")
		}()
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
		if results[i] != results[0] {
			t.Fatalf("goroutine %d got a different certificate", i)
		}
	}
	if got := leaves.Mints(); got != 1 {
		t.Errorf("Mints() = %d, want 1", got)
	}
}

func BenchmarkMintLeaf(b *testing.B) {
	ca, err := certs.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	leaves := certs.NewLeaves(ca, 1)
	i := 0
	for b.Loop() {
		i++
		if _, err := leaves.Get(fmt.Sprintf("host%d.bench.test", i)); err != nil {
			b.Fatal(err)
		}
	}
	if got := leaves.Mints(); got != int64(i) {
		b.Fatalf("Mints() = %d after %d fresh names", got, i)
	}
}

func BenchmarkLeafCached(b *testing.B) {
	ca, err := certs.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	leaves := certs.NewLeaves(ca, 16)
	if _, err := leaves.Get("cached.bench.test"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := leaves.Get("cached.bench.test"); err != nil {
			b.Fatal(err)
		}
	}
	if got := leaves.Mints(); got != 1 {
		b.Fatalf("Mints() = %d, want 1", got)
	}
}

// A Get that misses the cache just as another Get finishes minting the
// same name must find the new entry rather than mint a second time:
// singleflight only merges calls that overlap.
func TestGetRechecksCacheAfterMiss(t *testing.T) {
	ca, _ := newCADir(t)
	leaves := certs.NewLeaves(ca, 16)

	missed := make(chan struct{})
	resume := make(chan struct{})
	var first atomic.Bool
	certs.SetAfterMiss(leaves, func() {
		if first.CompareAndSwap(false, true) { // only the first Get waits
			close(missed)
			<-resume
		}
	})

	slow := make(chan *tls.Certificate)
	go func() {
		tc, err := leaves.Get("late.test")
		if err != nil {
			t.Error(err)
		}
		slow <- tc
	}()
	<-missed
	fast, err := leaves.Get("late.test") // mints and caches while the first waits
	if err != nil {
		t.Fatal(err)
	}
	close(resume)
	if got := <-slow; got != fast {
		t.Error("the waiting Get did not return the cached leaf")
	}
	if got := leaves.Mints(); got != 1 {
		t.Errorf("Mints() = %d, want 1", got)
	}
}
