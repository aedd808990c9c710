package certs_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

// newCADir creates a CA in a fresh directory that Create itself must make.
func newCADir(t *testing.T) (*certs.CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "home", ".interceptor-tui")
	ca, err := certs.Create(dir)
	if err != nil {
		t.Fatalf("Create(%s): %v", dir, err)
	}
	return ca, dir
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestCreate(t *testing.T) {
	ca, dir := newCADir(t)

	if runtime.GOOS != "windows" {
		for _, c := range []struct {
			path string
			want os.FileMode
		}{
			{dir, 0o700},
			{filepath.Join(dir, certs.KeyFile), 0o600},
			{filepath.Join(dir, certs.CertFile), 0o644},
		} {
			if got := perm(t, c.path); got != c.want {
				t.Errorf("mode of %s = %04o, want %04o", c.path, got, c.want)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Errorf("dir holds %v, want only %s and %s (no temp files left)", names, certs.CertFile, certs.KeyFile)
	}
	if ca.CertPath() != filepath.Join(dir, certs.CertFile) || ca.KeyPath() != filepath.Join(dir, certs.KeyFile) {
		t.Errorf("paths = %s, %s", ca.CertPath(), ca.KeyPath())
	}

	key, ok := ca.Key.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want ECDSA P-256", ca.Key)
	}
	keyPEM, err := os.ReadFile(ca.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(keyPEM); block == nil || block.Type != "PRIVATE KEY" {
		t.Errorf("key file is not a PKCS#8 PRIVATE KEY block")
	}

	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("basic constraints: IsCA=%v valid=%v maxPathLen=%d zero=%v", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero)
	}
	wantUsage := x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	if c.KeyUsage != wantUsage {
		t.Errorf("KeyUsage = %v, want %v", c.KeyUsage, wantUsage)
	}
	if len(c.SubjectKeyId) == 0 {
		t.Error("SubjectKeyId not set")
	}
	if !strings.HasPrefix(c.Subject.CommonName, "interceptor-tui CA (") || len(c.Subject.CommonName) > 64 {
		t.Errorf("CN = %q", c.Subject.CommonName)
	}
	if len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "interceptor-tui" {
		t.Errorf("O = %v", c.Subject.Organization)
	}
	now := time.Now()
	if age := now.Sub(c.NotBefore); age < 23*time.Hour || age > 25*time.Hour {
		t.Errorf("NotBefore is %v ago, want about 24h", age)
	}
	if left := c.NotAfter.Sub(now); left < 3650*24*time.Hour || left > 3654*24*time.Hour {
		t.Errorf("NotAfter is %v away, want about 10 years", left)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v: want positive, random, at most 128 bits", c.SerialNumber)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}

	tc := ca.TLSCertificate()
	if tc.Leaf != ca.Cert || len(tc.Certificate) != 1 || !bytes.Equal(tc.Certificate[0], c.Raw) {
		t.Error("TLSCertificate does not carry the CA certificate with Leaf set")
	}

	other, _ := newCADir(t)
	if other.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two CAs share a serial number")
	}
	if other.FingerprintSHA256() == ca.FingerprintSHA256() {
		t.Error("two CAs share a fingerprint")
	}
}

func TestCreateOverwrites(t *testing.T) {
	first, dir := newCADir(t)
	second, err := certs.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.FingerprintSHA256() == second.FingerprintSHA256() {
		t.Fatal("Create did not make a new CA")
	}
	loaded, err := certs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.FingerprintSHA256() != second.FingerprintSHA256() {
		t.Error("Load returned a CA other than the last one created")
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	ca1, created, err := certs.LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	ca2, created, err := certs.LoadOrCreate(dir)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	if ca1.FingerprintSHA256() != ca2.FingerprintSHA256() {
		t.Error("second LoadOrCreate did not reuse the CA")
	}
	if !ca2.Key.Public().(*ecdsa.PublicKey).Equal(ca1.Key.Public()) {
		t.Error("reloaded key differs")
	}
}

func TestLoadNeverCreates(t *testing.T) {
	dir := t.TempDir()
	if _, err := certs.Load(dir); !errors.Is(err, certs.ErrNoCA) {
		t.Fatalf("Load(empty) err = %v, want ErrNoCA", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Load wrote %d files", len(entries))
	}
}

// selfSigned makes a certificate and PKCS#8 key in PEM, for files Create
// would never write.
func selfSigned(t *testing.T, isCA bool, usage x509.KeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(7),
		Subject:               pkix.Name{CommonName: "not a ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		KeyUsage:              usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, dir string)
		want    error    // nil: any error
		mention []string // substrings of the message; "DIR" stands for the CA directory
		unix    bool     // relies on Unix permissions
	}{
		{
			name: "corrupt key",
			breakIt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, certs.KeyFile), []byte("not pem"), 0o600)
			},
			want:    certs.ErrMalformed,
			mention: []string{"DIR/ca-key.pem"},
		},
		{
			name: "truncated key",
			breakIt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, certs.KeyFile),
					pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02}}), 0o600)
			},
			want:    certs.ErrMalformed,
			mention: []string{"DIR/ca-key.pem"},
		},
		{
			name: "corrupt certificate",
			breakIt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, certs.CertFile),
					pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")}), 0o644)
			},
			want:    certs.ErrMalformed,
			mention: []string{"DIR/ca.pem"},
		},
		{
			name: "key from another CA",
			breakIt: func(t *testing.T, dir string) {
				other, _ := newCADir(t)
				data, err := os.ReadFile(other.KeyPath())
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, certs.KeyFile), data, 0o600)
			},
			want:    certs.ErrKeyMismatch,
			mention: []string{"DIR/ca-key.pem", "DIR/ca.pem"},
		},
		{
			name:    "only certificate",
			breakIt: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, certs.KeyFile)) },
			want:    certs.ErrIncompleteCA,
			mention: []string{"DIR/ca.pem exists but DIR/ca-key.pem is missing"},
		},
		{
			name:    "only key",
			breakIt: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, certs.CertFile)) },
			want:    certs.ErrIncompleteCA,
			mention: []string{"DIR/ca-key.pem exists but DIR/ca.pem is missing"},
		},
		{
			name:    "key readable by others",
			breakIt: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, certs.KeyFile), 0o644) },
			want:    certs.ErrKeyPermissions,
			mention: []string{"chmod 600 DIR/ca-key.pem"},
			unix:    true,
		},
		{
			name:    "key writable by group",
			breakIt: func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, certs.KeyFile), 0o620) },
			want:    certs.ErrKeyPermissions,
			mention: []string{"chmod 600 DIR/ca-key.pem"},
			unix:    true,
		},
		{
			name: "certificate has CA:FALSE",
			breakIt: func(t *testing.T, dir string) {
				certPEM, keyPEM := selfSigned(t, false, x509.KeyUsageCertSign)
				writeFile(t, filepath.Join(dir, certs.CertFile), certPEM, 0o644)
				writeFile(t, filepath.Join(dir, certs.KeyFile), keyPEM, 0o600)
			},
			want:    certs.ErrNotCA,
			mention: []string{"DIR/ca.pem", "CA:TRUE"},
		},
		{
			name: "CA certificate may not sign certificates",
			breakIt: func(t *testing.T, dir string) {
				certPEM, keyPEM := selfSigned(t, true, x509.KeyUsageDigitalSignature)
				writeFile(t, filepath.Join(dir, certs.CertFile), certPEM, 0o644)
				writeFile(t, filepath.Join(dir, certs.KeyFile), keyPEM, 0o600)
			},
			want:    certs.ErrNotCA,
			mention: []string{"DIR/ca.pem", "certificate signing"},
		},
		{
			name: "encrypted key",
			breakIt: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, certs.KeyFile),
					pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), 0o600)
			},
			want:    certs.ErrMalformed,
			mention: []string{"DIR/ca-key.pem", "encrypted"},
		},
		{
			name: "unreadable certificate",
			breakIt: func(t *testing.T, dir string) {
				if os.Geteuid() == 0 {
					t.Skip("root reads files whatever their mode")
				}
				os.Chmod(filepath.Join(dir, certs.CertFile), 0o000)
			},
			mention: []string{"DIR/ca.pem", "permission denied"},
			unix:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unix && runtime.GOOS == "windows" {
				t.Skip("Unix permissions")
			}
			_, dir := newCADir(t)
			tt.breakIt(t, dir)
			before := snapshot(t, dir)

			for _, load := range []struct {
				name string
				fn   func(string) error
			}{
				{"Load", func(d string) error { _, err := certs.Load(d); return err }},
				{"LoadOrCreate", func(d string) error { _, _, err := certs.LoadOrCreate(d); return err }},
			} {
				err := load.fn(dir)
				if err == nil {
					t.Fatalf("%s succeeded on a broken CA", load.name)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("%s error = %v, want %v", load.name, err, tt.want)
				}
				for _, m := range tt.mention {
					m = strings.ReplaceAll(m, "DIR", dir)
					if !strings.Contains(err.Error(), m) {
						t.Errorf("%s error %q does not mention %q", load.name, err, m)
					}
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("files changed by a failed load:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot describes every file in dir, to prove a failed load left
// them alone.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name())) // may be unreadable on purpose
		sum := sha256.Sum256(data)
		sb.WriteString(e.Name() + " " + info.Mode().String() + " " + base64.StdEncoding.EncodeToString(sum[:8]) + "; ")
	}
	return sb.String()
}

func TestLoadAcceptsKeyFormats(t *testing.T) {
	tests := []struct {
		name   string
		encode func(t *testing.T, key *ecdsa.PrivateKey) []byte
	}{
		{"PKCS#8", func(t *testing.T, key *ecdsa.PrivateKey) []byte {
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		}},
		{"SEC1", func(t *testing.T, key *ecdsa.PrivateKey) []byte {
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		}},
		{"SEC1 after EC PARAMETERS", func(t *testing.T, key *ecdsa.PrivateKey) []byte {
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
			return append(params, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, dir := newCADir(t)
			writeFile(t, ca.KeyPath(), tt.encode(t, ca.Key.(*ecdsa.PrivateKey)), 0o600)
			got, err := certs.Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !got.Key.Public().(*ecdsa.PublicKey).Equal(ca.Key.Public()) {
				t.Error("loaded a different key")
			}
		})
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home) // os.UserHomeDir on Windows

	tests := []struct {
		name, env, want string
	}{
		{"env set", "/custom/place", "/custom/place"},
		{"env empty", "", filepath.Join(home, ".interceptor-tui")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("INTERCEPTOR_TUI_HOME", tt.env)
			got, err := certs.DefaultDir()
			if err != nil || got != tt.want {
				t.Errorf("DefaultDir() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestExportForms(t *testing.T) {
	ca, _ := newCADir(t)
	onDisk, err := os.ReadFile(ca.CertPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.PEM(), onDisk) {
		t.Error("PEM() differs from ca.pem")
	}
	parsed, err := x509.ParseCertificate(ca.DER())
	if err != nil || !parsed.Equal(ca.Cert) {
		t.Errorf("DER() does not parse back to the CA: %v", err)
	}
	fp := ca.FingerprintSHA256()
	if len(fp) != 32*3-1 || strings.ToUpper(fp) != fp || strings.Count(fp, ":") != 31 {
		t.Errorf("FingerprintSHA256 = %q, want 32 uppercase colon-separated bytes", fp)
	}
	if fp1 := ca.FingerprintSHA1(); len(fp1) != 20*3-1 {
		t.Errorf("FingerprintSHA1 = %q, want 20 bytes", fp1)
	}
}

// TestMatchesOpenSSL compares our export helpers with what users will
// see from openssl, an independent implementation.
func TestMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH; install Debian package openssl")
	}
	ca, _ := newCADir(t)
	openssl := func(stdin []byte, args ...string) []byte {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return out
	}
	// openssl prints "sha256 Fingerprint=AB:..." (1.1) or "SHA256 Fingerprint=AB:..." (3.x).
	after := func(out []byte) string {
		_, v, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
		return v
	}

	tests := []struct {
		name      string
		got, want func() string
	}{
		{"sha256 fingerprint", ca.FingerprintSHA256, func() string {
			return after(openssl(nil, "x509", "-in", ca.CertPath(), "-noout", "-fingerprint", "-sha256"))
		}},
		{"sha1 fingerprint", ca.FingerprintSHA1, func() string {
			return after(openssl(nil, "x509", "-in", ca.CertPath(), "-noout", "-fingerprint", "-sha1"))
		}},
		{"spki hash", ca.SPKIHash, func() string {
			// The recipe Chromium documents for --ignore-certificate-errors-spki-list.
			pub := openssl(nil, "x509", "-in", ca.CertPath(), "-noout", "-pubkey")
			der := openssl(pub, "pkey", "-pubin", "-outform", "DER")
			sum := sha256.Sum256(der)
			return base64.StdEncoding.EncodeToString(sum[:])
		}},
		{"key is P-256", func() string { return "prime256v1" }, func() string {
			out := string(openssl(nil, "pkey", "-in", ca.KeyPath(), "-noout", "-text"))
			if strings.Contains(out, "prime256v1") {
				return "prime256v1"
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.got(), tt.want(); got != want {
				t.Errorf("got %q, openssl says %q", got, want)
			}
		})
	}
}
