package certs_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want certs.Format
	}{
		{"pem", certs.FormatPEM}, {"PEM", certs.FormatPEM}, {".pem", certs.FormatPEM},
		{"der", certs.FormatDER}, {"cer", certs.FormatDER}, {".crt", certs.FormatDER},
		{"p12", certs.FormatP12}, {"pfx", certs.FormatP12}, {" PKCS12 ", certs.FormatP12},
	} {
		got, err := certs.ParseFormat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "key", "jks", "pem.key"} {
		if _, err := certs.ParseFormat(bad); !errors.Is(err, certs.ErrUnknownFormat) {
			t.Errorf("ParseFormat(%q) err = %v, want ErrUnknownFormat", bad, err)
		}
	}
	for name, want := range map[string]certs.Format{"ca.pem": certs.FormatPEM, "x/ca.CER": certs.FormatDER, "ca.pfx": certs.FormatP12} {
		if got, ok := certs.FormatOfFile(name); !ok || got != want {
			t.Errorf("FormatOfFile(%q) = %q, %v", name, got, ok)
		}
	}
	if _, ok := certs.FormatOfFile("ca"); ok {
		t.Error("FormatOfFile without an extension found a format")
	}
}

func TestFormatNames(t *testing.T) {
	for _, tt := range []struct {
		f          certs.Format
		file, mime string
	}{
		{certs.FormatPEM, "interceptor-tui-ca.pem", "application/x-x509-ca-cert"},
		{certs.FormatDER, "interceptor-tui-ca.cer", "application/x-x509-ca-cert"},
		{certs.FormatP12, "interceptor-tui-ca.p12", "application/x-pkcs12"},
	} {
		if tt.f.FileName() != tt.file || tt.f.MediaType() != tt.mime {
			t.Errorf("%s: %s %s", tt.f, tt.f.FileName(), tt.f.MediaType())
		}
	}
}

// keyMaterial is every form of the CA key an export must never contain.
func keyMaterial(t *testing.T, ca *certs.CA) map[string][]byte {
	t.Helper()
	key := ca.Key.(*ecdsa.PrivateKey)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(ca.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"key file": keyPEM, "PKCS#8 DER": pkcs8, "private scalar": scalar}
}

func TestExportRoundTrip(t *testing.T) {
	ca, _ := newCADir(t)
	secrets := keyMaterial(t, ca)
	onDisk, err := os.ReadFile(ca.CertPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range certs.Formats {
		t.Run(string(f), func(t *testing.T) {
			data, err := ca.Export(f)
			if err != nil {
				t.Fatal(err)
			}
			for what, secret := range secrets {
				if bytes.Contains(data, secret) {
					t.Fatalf("%s export contains the %s", f, what)
				}
			}
			var got *x509.Certificate
			switch f {
			case certs.FormatPEM:
				if !bytes.Equal(data, onDisk) {
					t.Error("PEM export differs from ca.pem")
				}
				block, rest := pem.Decode(data)
				if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
					t.Fatalf("PEM export is not exactly one CERTIFICATE block")
				}
				got, err = x509.ParseCertificate(block.Bytes)
			case certs.FormatDER:
				if !bytes.Equal(data, ca.DER()) {
					t.Error("DER export differs from ca.DER()")
				}
				got, err = x509.ParseCertificate(data)
			case certs.FormatP12:
				// DecodeTrustStore fails on any bag that is not a
				// certificate, so success also means there is no key.
				var all []*x509.Certificate
				all, err = pkcs12.DecodeTrustStore(data, "")
				if err == nil && len(all) != 1 {
					t.Fatalf("p12 holds %d certificates, want 1", len(all))
				}
				if err == nil {
					got = all[0]
				}
				if _, _, derr := pkcs12.Decode(data, ""); derr == nil {
					t.Error("pkcs12.Decode found a private key in the p12")
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(ca.Cert) {
				t.Error("exported certificate is not the CA certificate")
			}
		})
	}
	if _, err := ca.Export("jks"); !errors.Is(err, certs.ErrUnknownFormat) {
		t.Errorf("Export(jks) err = %v", err)
	}
}

// TestP12ReadByOpenSSL checks the bundle with an independent reader:
// OpenSSL 3 must open it with an empty password and without -legacy, find
// the certificate and no key.
func TestP12ReadByOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found: install Debian package openssl")
	}
	ca, _ := newCADir(t)
	p12, err := ca.P12()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.p12")
	if err := os.WriteFile(path, p12, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "pkcs12", "-in", path, "-passin", "pass:", "-nokeys").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12 -nokeys: %v\n%s", err, out)
	}
	block, _ := pem.Decode(out[bytes.Index(out, []byte("-----BEGIN")):])
	if block == nil || !bytes.Equal(block.Bytes, ca.Cert.Raw) {
		t.Fatalf("openssl did not find the CA certificate in the p12:\n%s", out)
	}
	out, err = exec.Command(openssl, "pkcs12", "-in", path, "-passin", "pass:", "-nocerts", "-noenc").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12 -nocerts: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "PRIVATE KEY") {
		t.Fatalf("openssl found a key in the p12:\n%s", out)
	}
}
