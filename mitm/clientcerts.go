package mitm

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// clientCerts are the certificates presented to origins that ask for one
// (--client-certs): one PEM file (certificate and key) for every origin,
// or a directory holding HOST.pem per host, read when first needed.
type clientCerts struct {
	file   *tls.Certificate
	dir    string
	mu     sync.Mutex
	byHost map[string]*tls.Certificate // nil entries: no file for that host
}

func loadClientCerts(path string) (*clientCerts, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--client-certs: %w", err)
	}
	if st.IsDir() {
		return &clientCerts{dir: path, byHost: map[string]*tls.Certificate{}}, nil
	}
	c, err := tls.LoadX509KeyPair(path, path)
	if err != nil {
		return nil, fmt.Errorf("--client-certs %s: %w (want a PEM file with the certificate and its key)", path, err)
	}
	return &clientCerts{file: &c}, nil
}

// forHost is what to present to host: crypto/tls sends no certificate when
// it is empty.
func (cc *clientCerts) forHost(host string) (*tls.Certificate, error) {
	if cc.file != nil {
		return cc.file, nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.byHost[host]; ok {
		if c == nil {
			return &tls.Certificate{}, nil
		}
		return c, nil
	}
	name := filepath.Join(cc.dir, filepath.Base(host)+".pem")
	if _, err := os.Stat(name); err != nil {
		cc.byHost[host] = nil
		return &tls.Certificate{}, nil
	}
	c, err := tls.LoadX509KeyPair(name, name)
	if err != nil {
		return nil, fmt.Errorf("client certificate %s: %w", name, err)
	}
	cc.byHost[host] = &c
	return &c, nil
}
