package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

const (
	// DefaultLeafCacheSize is used when NewLeaves is given a size below 1.
	DefaultLeafCacheSize = 1024

	// leafClockSkew backdates leaves for clients whose clocks run behind.
	leafClockSkew = 48 * time.Hour
	// maxLeafValidity is Apple's limit on NotAfter-NotBefore for TLS server
	// certificates; longer ones are rejected by Safari and iOS.
	maxLeafValidity = 397 * 24 * time.Hour
	// leafRenewBefore: a cached leaf this close to expiry is minted again,
	// so a long-running proxy never serves one that expires mid-session.
	leafRenewBefore = 24 * time.Hour
)

var (
	// ErrInvalidName: Get was given something that is neither a DNS name
	// nor an IP literal.
	ErrInvalidName = errors.New("invalid host name for certificate")
	// ErrNoServerName: a TLS client sent no SNI, so GetCertificate cannot
	// know which name to mint for.
	ErrNoServerName = errors.New("client sent no server name")
)

// Leaves mints leaf certificates signed by a CA and caches them. It is safe
// for concurrent use. Returned certificates are shared between callers and
// must not be modified.
type Leaves struct {
	ca    *CA
	cache *lru.Cache[string, *tls.Certificate]
	group singleflight.Group
	mints atomic.Int64
	now   func() time.Time // replaced in tests to reach expiry edges

	// afterMiss, if set, runs between a cache miss and the singleflight
	// call, so a test can land a mint in that window.
	afterMiss func()
}

// NewLeaves returns a minter whose cache holds up to size leaves.
func NewLeaves(ca *CA, size int) *Leaves {
	if size < 1 {
		size = DefaultLeafCacheSize
	}
	cache, err := lru.New[string, *tls.Certificate](size)
	if err != nil {
		// lru.New fails only for size < 1, which is ruled out above.
		panic(fmt.Sprintf("certs: new leaf cache: %v", err))
	}
	return &Leaves{ca: ca, cache: cache, now: time.Now}
}

// Mints reports how many leaves were generated, as opposed to served from
// the cache.
func (l *Leaves) Mints() int64 { return l.mints.Load() }

// GetCertificate serves as tls.Config.GetCertificate, minting for the SNI
// name the client asked for.
func (l *Leaves) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" {
		return nil, ErrNoServerName
	}
	return l.Get(hello.ServerName)
}

// Get returns a leaf for name: a DNS name or an IP literal, optionally with
// a port, IPv6 in brackets or not. Concurrent calls for one uncached name
// mint once and share the result.
func (l *Leaves) Get(name string) (*tls.Certificate, error) {
	key, ip, err := normalizeName(name)
	if err != nil {
		return nil, err
	}
	if cert, ok := l.cache.Get(key); ok && l.fresh(cert) {
		return cert, nil
	}
	if l.afterMiss != nil {
		l.afterMiss()
	}
	v, err, _ := l.group.Do(key, func() (any, error) {
		// Another caller may have minted between our cache miss and Do.
		if cert, ok := l.cache.Get(key); ok && l.fresh(cert) {
			return cert, nil
		}
		cert, err := l.mint(key, ip)
		if err != nil {
			return nil, err
		}
		l.cache.Add(key, cert)
		return cert, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mint leaf for %s: %w", key, err)
	}
	return v.(*tls.Certificate), nil
}

// fresh reports whether cert can still be served. A leaf capped by the
// CA's own expiry cannot be improved on, so it is not re-minted on every
// call in the CA's final day.
func (l *Leaves) fresh(cert *tls.Certificate) bool {
	now, notAfter := l.now(), cert.Leaf.NotAfter
	if !now.Before(notAfter) {
		return false
	}
	return now.Add(leafRenewBefore).Before(notAfter) || !notAfter.Before(l.ca.Cert.NotAfter)
}

func (l *Leaves) mint(host string, ip netip.Addr) (*tls.Certificate, error) {
	ca := l.ca.Cert
	now := l.now()
	notBefore := now.Add(-leafClockSkew)
	// A client whose clock is before the CA's NotBefore rejects the chain
	// anyway, so reaching further back buys nothing.
	if notBefore.Before(ca.NotBefore) {
		notBefore = ca.NotBefore
	}
	notAfter := notBefore.Add(maxLeafValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	if !now.Before(notAfter) {
		return nil, fmt.Errorf("%w on %s", ErrCAExpired, ca.NotAfter.Format(time.DateOnly))
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{Organization}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		AuthorityKeyId:        ca.SubjectKeyId,
	}
	// Clients match the SAN; CN is for humans reading the certificate, and
	// X.509 caps it at 64 characters.
	if len(host) <= 64 {
		tmpl.Subject.CommonName = host
	}
	if ip.IsValid() {
		tmpl.IPAddresses = []net.IP{ip.AsSlice()}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), l.ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new leaf: %w", err)
	}
	l.mints.Add(1)
	return &tls.Certificate{
		Certificate: [][]byte{der, ca.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// normalizeName turns what a CONNECT line, Host header or SNI carries into
// a cache key: a port and IPv6 brackets or zone are dropped, IPs take
// canonical form, DNS names are lowercased without a trailing dot. ip is
// valid when the name is an IP literal.
func normalizeName(name string) (key string, ip netip.Addr, err error) {
	host := name
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || (end+1 < len(host) && !isPort(host[end+1:])) {
			return "", netip.Addr{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
		}
		host = host[1:end]
		if _, err := netip.ParseAddr(host); err != nil {
			return "", netip.Addr{}, fmt.Errorf("%w: %q: brackets hold no IP address", ErrInvalidName, name)
		}
	} else if i := strings.IndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		// One colon is host:port; more is a bare IPv6 literal.
		if !isPort(host[i:]) {
			return "", netip.Addr{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
		}
		host = host[:i]
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		addr = addr.WithZone("").Unmap()
		return addr.String(), addr, nil
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !validDNSName(host) {
		return "", netip.Addr{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return host, netip.Addr{}, nil
}

// isPort reports whether s is ":" followed by 1 to 5 digits.
func isPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validDNSName accepts lowercase LDH labels plus '_', which real hosts use
// even though RFC 1123 does not allow it. Wildcards are refused: we mint
// exactly the name asked for.
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
