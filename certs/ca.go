package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// File names inside the config directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// Organization is the subject O of the CA and of every leaf, so users can
// tell our certificates apart in a trust store or a browser's padlock.
const Organization = "interceptor-tui"

// caValidity is long because users install the CA by hand in browsers and
// OS trust stores; renewing it means doing that again.
const caValidity = 10 // years

var (
	// ErrNoCA: neither the certificate nor the key exists. LoadOrCreate
	// treats it as "create one"; every other error stops it.
	ErrNoCA = errors.New("no CA")
	// ErrIncompleteCA: one of the two files is missing.
	ErrIncompleteCA = errors.New("incomplete CA")
	// ErrMalformed: a file is not the PEM we expect or does not parse.
	ErrMalformed = errors.New("malformed CA file")
	// ErrKeyMismatch: the key does not belong to the certificate.
	ErrKeyMismatch = errors.New("CA key does not match CA certificate")
	// ErrNotCA: the certificate cannot sign other certificates.
	ErrNotCA = errors.New("certificate is not a CA")
	// ErrKeyPermissions: group or others can read or write the key.
	ErrKeyPermissions = errors.New("CA key file permissions too open")
	// ErrCAExpired: the CA can no longer sign leaves browsers accept.
	ErrCAExpired = errors.New("CA certificate expired")
)

// CA is a loaded certificate authority. It is read-only after Load or
// Create and safe for concurrent use.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	Dir  string

	tlsCert tls.Certificate
}

func newCA(dir string, cert *x509.Certificate, key crypto.Signer) *CA {
	return &CA{
		Cert: cert,
		Key:  key,
		Dir:  dir,
		tlsCert: tls.Certificate{
			Certificate: [][]byte{cert.Raw},
			PrivateKey:  key,
			Leaf:        cert,
		},
	}
}

// CertPath is where the CA certificate lives.
func (ca *CA) CertPath() string { return filepath.Join(ca.Dir, CertFile) }

// KeyPath is where the CA private key lives.
func (ca *CA) KeyPath() string { return filepath.Join(ca.Dir, KeyFile) }

// TLSCertificate returns the CA as a tls.Certificate with Leaf set.
func (ca *CA) TLSCertificate() tls.Certificate { return ca.tlsCert }

// DER returns the certificate in DER form (for .cer/.crt downloads).
func (ca *CA) DER() []byte { return append([]byte(nil), ca.Cert.Raw...) }

// PEM returns the certificate PEM-encoded.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// FingerprintSHA256 formats like `openssl x509 -fingerprint -sha256`
// (AB:CD:...), so users can compare it with what their OS shows.
func (ca *CA) FingerprintSHA256() string {
	sum := sha256.Sum256(ca.Cert.Raw)
	return colonHex(sum[:])
}

// FingerprintSHA1 is the SHA-1 form, which older trust store UIs still show.
func (ca *CA) FingerprintSHA1() string {
	sum := sha1.Sum(ca.Cert.Raw)
	return colonHex(sum[:])
}

// SPKIHash is base64(SHA-256(SubjectPublicKeyInfo)), the value Chromium's
// --ignore-certificate-errors-spki-list takes.
func (ca *CA) SPKIHash() string {
	sum := sha256.Sum256(ca.Cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func colonHex(b []byte) string {
	h := strings.ToUpper(hex.EncodeToString(b))
	var sb strings.Builder
	sb.Grow(len(h) + len(b))
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// LoadOrCreate loads the CA in dir, or creates one if neither file exists.
// Any other problem (one file missing, bad permissions, corrupt or
// mismatched files) is returned, never papered over with a new CA.
func LoadOrCreate(dir string) (ca *CA, created bool, err error) {
	ca, err = Load(dir)
	if !errors.Is(err, ErrNoCA) {
		return ca, false, err
	}
	ca, err = Create(dir)
	if err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

// Load reads ca.pem and ca-key.pem from dir. It never creates or changes
// files; when both are absent the error wraps ErrNoCA.
func Load(dir string) (*CA, error) {
	certPath := filepath.Join(dir, CertFile)
	keyPath := filepath.Join(dir, KeyFile)

	certInfo, err := statIfExists(certPath)
	if err != nil {
		return nil, err
	}
	keyInfo, err := statIfExists(keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case certInfo == nil && keyInfo == nil:
		return nil, fmt.Errorf("load CA from %s: %w: neither %s nor %s exists", dir, ErrNoCA, CertFile, KeyFile)
	case keyInfo == nil:
		return nil, incomplete(certPath, keyPath)
	case certInfo == nil:
		return nil, incomplete(keyPath, certPath)
	}
	if err := checkKeyPermissions(keyPath, keyInfo); err != nil {
		return nil, err
	}

	cert, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("load CA certificate %s: %w (basic constraints lack CA:TRUE)", certPath, ErrNotCA)
	}
	// KeyUsage 0 means the extension is absent, which allows signing.
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("load CA certificate %s: %w (key usage lacks certificate signing)", certPath, ErrNotCA)
	}
	if time.Now().After(cert.NotAfter) {
		return nil, fmt.Errorf("load CA certificate %s: %w on %s; remove %s and %s to create a new CA",
			certPath, ErrCAExpired, cert.NotAfter.Format(time.DateOnly), certPath, keyPath)
	}

	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("load CA: %w: %s is not the key of %s", ErrKeyMismatch, keyPath, certPath)
	}
	return newCA(dir, cert, key), nil
}

func statIfExists(path string) (fs.FileInfo, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err) // *PathError names the file
	}
	return info, nil
}

func incomplete(present, missing string) error {
	return fmt.Errorf("load CA: %w: %s exists but %s is missing; restore %s, or remove %s to create a new CA",
		ErrIncompleteCA, present, missing, filepath.Base(missing), present)
}

func checkKeyPermissions(path string, info fs.FileInfo) error {
	// Windows reports synthetic Unix modes; ACLs guard the file there.
	if runtime.GOOS == "windows" {
		return nil
	}
	perm := info.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	fix := path
	if abs, err := filepath.Abs(path); err == nil {
		fix = abs
	}
	return fmt.Errorf("load CA key %s: %w: mode %04o lets group or others access it; fix with: chmod 600 %s",
		path, ErrKeyPermissions, perm, fix)
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load CA certificate: %w", err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("load CA certificate %s: %w: no CERTIFICATE PEM block", path, ErrMalformed)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("load CA certificate %s: %w: %w", path, ErrMalformed, err)
		}
		return cert, nil
	}
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load CA key: %w", err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("load CA key %s: %w: no PRIVATE KEY or EC PRIVATE KEY PEM block", path, ErrMalformed)
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("load CA key %s: %w: encrypted keys are not supported", path, ErrMalformed)
		}
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			// Older mitmproxy and openssl write this; accepting it lets users
			// bring a CA they have already trusted.
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue // e.g. the EC PARAMETERS block `openssl ecparam -genkey` emits
		}
		if err != nil {
			return nil, fmt.Errorf("load CA key %s: %w: %w", path, ErrMalformed, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("load CA key %s: %w: %T cannot sign", path, ErrMalformed, key)
		}
		return signer, nil
	}
}

// Create makes a new CA in dir, replacing any files there. Each file is
// written to a temp file and renamed, so a crash leaves either the old or
// the new content of each file, never a truncated one; a crash between the
// two renames leaves a mismatched pair, which Load reports rather than uses.
func Create(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create CA: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   caCommonName(),
			Organization: []string{Organization},
		},
		// Backdated so a client whose clock is a little behind still accepts it.
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.AddDate(caValidity, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// Path length zero: the CA signs leaves, never other CAs.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		SubjectKeyId:   ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA: sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("create CA: parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("create CA: encode key: %w", err)
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	// The key goes first: the ordering only matters for a crash between
	// renames, and a stray key is less harmful than a stray certificate
	// someone might install.
	err = writeAtomically(dir, []pendingFile{
		{name: KeyFile, mode: 0o600, data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
		{name: CertFile, mode: 0o644, data: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})},
	})
	if err != nil {
		return nil, fmt.Errorf("create CA in %s: %w", dir, err)
	}
	return newCA(dir, cert, key), nil
}

// randomSerial returns a positive random serial below 2^128: enough
// entropy that two CAs (or leaves) never collide, within the 20-octet
// limit of RFC 5280.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("generate serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2,
// method 1), the form openssl and most tools compute.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spkiDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		return nil, fmt.Errorf("decode public key: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// caCommonName names the machine and adds a random tag, so a user who has
// trusted several of our CAs can tell them apart in a trust store list.
func caCommonName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	tag := make([]byte, 4)
	_, _ = rand.Read(tag) // crypto/rand.Read does not fail
	// X.509 caps CommonName at 64 characters; 30 go to the fixed text.
	if len(host) > 34 {
		host = host[:34]
	}
	return fmt.Sprintf("interceptor-tui CA (%s %x)", host, tag)
}
