package installpage_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/installpage"
)

func newCA(t testing.TB) *certs.CA {
	t.Helper()
	ca, err := certs.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// secrets are the forms in which the key could leak: the file as it is on
// disk, its DER, the private scalar raw, in hex and in base64.
func secrets(t testing.TB, ca *certs.CA) map[string][]byte {
	t.Helper()
	keyFile, err := os.ReadFile(ca.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := ca.Key.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"key file":          keyFile,
		"PRIVATE KEY label": []byte("PRIVATE KEY"),
		"PKCS#8 DER":        pkcs8,
		"PKCS#8 base64":     []byte(base64.StdEncoding.EncodeToString(pkcs8)[:40]),
		"scalar":            scalar,
		"scalar hex":        []byte(hex.EncodeToString(scalar)),
	}
}

// get sends target as the request path without cleaning it, as a proxy
// hands it over. The response's Request carries the decoded URL.
func get(t testing.TB, h http.Handler, method, target string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "http://interceptor.tui/", nil)
	u, err := url.Parse("http://interceptor.tui" + target)
	if err != nil {
		u = &url.URL{Scheme: "http", Host: "interceptor.tui", Path: target}
	}
	req.URL = u
	req.RequestURI = target
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp
}

func body(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDownloads(t *testing.T) {
	ca := newCA(t)
	h := installpage.New(ca)
	for _, tt := range []struct {
		path, mime, file string
		check            func(t *testing.T, b []byte)
	}{
		{installpage.PathPEM, "application/x-x509-ca-cert", "interceptor-tui-ca.pem", func(t *testing.T, b []byte) {
			onDisk, _ := os.ReadFile(ca.CertPath())
			if !bytes.Equal(b, onDisk) {
				t.Error("PEM differs from ca.pem")
			}
		}},
		{installpage.PathDER, "application/x-x509-ca-cert", "interceptor-tui-ca.cer", func(t *testing.T, b []byte) {
			if !bytes.Equal(b, ca.Cert.Raw) {
				t.Error("DER differs from the certificate")
			}
		}},
		{installpage.PathP12, "application/x-pkcs12", "interceptor-tui-ca.p12", func(t *testing.T, b []byte) {
			got, err := pkcs12.DecodeTrustStore(b, "")
			if err != nil || len(got) != 1 || !got[0].Equal(ca.Cert) {
				t.Errorf("p12: %d certificates, err %v", len(got), err)
			}
		}},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp := get(t, h, http.MethodGet, tt.path)
			b := body(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.mime {
				t.Errorf("Content-Type %q, want %q", ct, tt.mime)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="`+tt.file+`"` {
				t.Errorf("Content-Disposition %q", cd)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("downloads may be cached; a regenerated CA would be shadowed")
			}
			tt.check(t, b)

			head := get(t, h, http.MethodHead, tt.path)
			if hb := body(t, head); head.StatusCode != http.StatusOK || len(hb) != 0 || head.Header.Get("Content-Length") != resp.Header.Get("Content-Length") {
				t.Errorf("HEAD: status %d, %d body bytes, length %q vs %q", head.StatusCode, len(hb), head.Header.Get("Content-Length"), resp.Header.Get("Content-Length"))
			}
		})
	}
}

func TestPage(t *testing.T) {
	ca := newCA(t)
	h := installpage.New(ca)
	for _, path := range []string{"/", "/index.html"} {
		resp := get(t, h, http.MethodGet, path)
		page := string(body(t, resp))
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q should forbid everything but inline styles", csp)
		}
		for _, want := range []string{
			ca.FingerprintSHA256(), ca.FingerprintSHA1(), ca.Cert.Subject.CommonName,
			`href="/cert/pem"`, `href="/cert/der"`, `href="/cert/p12"`,
			"Firefox", "Chrome and Chromium on Linux", "macOS", "Windows", "iOS", "Android",
			"Android 7", "Trusted Root Certification Authorities", "Certificate Trust Settings",
			"--ignore-hosts", "interceptor-tui ca install --nss",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: page lacks %q", path, want)
			}
		}
		// Nothing from elsewhere: the device may trust nothing yet.
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`(?i)<script`),
			regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`),
			regexp.MustCompile(`(?i)url\(`),
			regexp.MustCompile(`(?i)@import`),
			regexp.MustCompile(`(?i)<(img|iframe|link|object|embed)\b`),
		} {
			if m := bad.FindString(page); m != "" {
				t.Errorf("%s: page loads or runs something: %q", path, m)
			}
		}
	}
}

func TestMethods(t *testing.T) {
	h := installpage.New(newCA(t))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
		resp := get(t, h, m, installpage.PathPEM)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// keyPaths are attempts to reach the key file (or anything on disk) by
// path: traversal, encodings, the key's own names, and look-alikes of the
// download paths.
var keyPaths = []string{
	"/ca-key.pem", "/ca.pem", "/../ca-key.pem", "/../../ca-key.pem", "/cert/../ca-key.pem",
	"/cert/pem/../../ca-key.pem", "/cert/pem/../key", "/%2e%2e/ca-key.pem", "/%2E%2E/ca-key.pem",
	"/%2e%2e%2fca-key.pem", "/..%2fca-key.pem", "/cert/%2e%2e/ca-key.pem", "/..%5cca-key.pem",
	"/..\\ca-key.pem", "//ca-key.pem", "///etc/passwd", "/cert//pem/../../ca-key.pem",
	"/ca-key.pem%00", "/ca-key.pem%00.pem", "/cert/pem%00../ca-key.pem", "/cert/key", "/cert/ca-key",
	"/cert/pem.key", "/cert/PEM", "/cert/pem/", "/cert/pem/ca-key.pem", "/cert/p12?key=1",
	"/cert/der;../ca-key.pem", "/key", "/ca-key", "/private", "/.interceptor-tui/ca-key.pem",
	"/%252e%252e/ca-key.pem", "/.%2e/ca-key.pem", "/%c0%ae%c0%ae/ca-key.pem", "/~/.interceptor-tui/ca-key.pem",
	"/cert/p12/..", "/index.html/../ca-key.pem", "/./ca-key.pem", "/cert/./../ca-key.pem",
}

func TestKeyNeverServed(t *testing.T) {
	ca := newCA(t)
	h := installpage.New(ca)
	sec := secrets(t, ca)
	allowed := map[string]bool{"/": true, "/index.html": true, installpage.PathPEM: true, installpage.PathDER: true, installpage.PathP12: true}
	for _, path := range keyPaths {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			resp := get(t, h, m, path)
			b := body(t, resp)
			for what, s := range sec {
				if bytes.Contains(b, s) {
					t.Errorf("%s %s: response holds the %s", m, path, what)
				}
			}
			// The download paths are matched exactly after decoding; any
			// other spelling is a 404, never a file.
			if !allowed[resp.Request.URL.Path] && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 404", m, path, resp.StatusCode)
			}
			if resp.StatusCode == http.StatusNotFound && m == http.MethodGet && !bytes.Contains(b, []byte(`href="/"`)) {
				t.Errorf("%s: the 404 page does not lead back to the start page", path)
			}
		}
	}
}

// FuzzKeyNeverServed: whatever the path, the answer holds no key material
// and only the fixed download paths answer with the certificate.
func FuzzKeyNeverServed(f *testing.F) {
	for _, p := range keyPaths {
		f.Add(p)
	}
	ca := newCA(f)
	h := installpage.New(ca)
	sec := secrets(f, ca)
	f.Fuzz(func(t *testing.T, path string) {
		req := httptest.NewRequest(http.MethodGet, "http://interceptor.tui/", nil)
		req.URL.Path, req.URL.RawPath = path, ""
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b := rec.Body.Bytes()
		for what, s := range sec {
			if bytes.Contains(b, s) {
				t.Fatalf("path %q: response holds the %s", path, what)
			}
		}
		switch path {
		case installpage.PathPEM, installpage.PathDER, installpage.PathP12, "/", "/index.html":
		default:
			if rec.Code != http.StatusNotFound || bytes.Contains(b, ca.Cert.Raw) {
				t.Fatalf("path %q: status %d", path, rec.Code)
			}
		}
	})
}
