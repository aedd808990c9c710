package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

// runIn runs the command in this process, as main would.
func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// caDir makes a CA in a fresh config directory.
func caDir(t *testing.T) (*certs.CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "conf")
	ca, err := certs.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ca, dir
}

// fakeSystemStore points the ca commands at a Debian store in a temp
// directory whose update-ca-certificates rebuilds the bundle from it, and
// pretends to be root unless told otherwise.
func fakeSystemStore(t *testing.T) truststore.Debian {
	t.Helper()
	root := t.TempDir()
	d := truststore.Debian{
		Dir:    filepath.Join(root, "ca-certificates"),
		Bundle: filepath.Join(root, "bundle.crt"),
		Update: filepath.Join(root, "update-ca-certificates"),
	}
	script := "#!/bin/sh\ncat " + d.Dir + "/*.crt > " + d.Bundle + " 2>/dev/null\nexit 0\n"
	if err := os.WriteFile(d.Update, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	oldStore, oldEuid := debianStore, geteuid
	debianStore, geteuid = d, func() int { return 0 }
	t.Cleanup(func() { debianStore, geteuid = oldStore, oldEuid })
	return d
}

func TestCAHelpAndUnknown(t *testing.T) {
	code, out, _ := runIn(t, "", "ca")
	for _, c := range caCommands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("ca help lacks %q:\n%s", c.name, out)
		}
	}
	if code != 0 {
		t.Errorf("ca help: exit %d", code)
	}
	if code, _, errs := runIn(t, "", "ca", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errs)
	}
}

func TestCAPathAndShow(t *testing.T) {
	ca, dir := caDir(t)
	code, out, errs := runIn(t, "", "ca", "path", "--confdir", dir)
	if code != 0 || out != "certificate: "+ca.CertPath()+"\nkey:         "+ca.KeyPath()+"\n" {
		t.Errorf("ca path: exit %d, %q %q", code, out, errs)
	}
	code, out, _ = runIn(t, "", "ca", "show", "--confdir", dir)
	for _, want := range []string{"SHA-256: " + ca.FingerprintSHA256() + "\n", "SHA-1:   " + ca.FingerprintSHA1() + "\n", ca.Cert.Subject.CommonName, "\ninstall: "} {
		if !strings.Contains(out, want) {
			t.Errorf("ca show lacks %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("ca show: exit %d", code)
	}
	if code, _, _ := runIn(t, "", "ca", "show", "extra"); code != 2 {
		t.Errorf("ca show extra: exit %d, want 2", code)
	}
}

func TestInstallHint(t *testing.T) {
	ca := newTestCA(t)
	for goos, want := range map[string]string{
		"linux":   "interceptor-tui ca install --nss",
		"darwin":  "security add-trusted-cert",
		"windows": "certutil -addstore -user Root",
		"freebsd": ca.CertPath(),
	} {
		if got := installHint(goos, ca); !strings.Contains(got, want) || strings.Contains(got, "\n") {
			t.Errorf("%s: %q, want one line with %q", goos, got, want)
		}
	}
}

// TestCAShowMatchesOpenSSL runs the real binary and compares its
// fingerprints with openssl's.
func TestCAShowMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found: install Debian package openssl")
	}
	home := filepath.Join(t.TempDir(), "conf")
	cmd := exec.Command(binary, "ca", "show")
	cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+home)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []struct{ flag, label string }{{"-sha256", "SHA-256"}, {"-sha1", "SHA-1"}} {
		ssl, err := exec.Command(openssl, "x509", "-noout", "-fingerprint", alg.flag, "-in", filepath.Join(home, "ca.pem")).Output()
		if err != nil {
			t.Fatal(err)
		}
		// "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..."
		_, fp, ok := strings.Cut(strings.TrimSpace(string(ssl)), "=")
		if !ok || !regexp.MustCompile(`(?m)^`+alg.label+`: +`+regexp.QuoteMeta(fp)+`$`).Match(out) {
			t.Errorf("%s: openssl says %s; ca show says:\n%s", alg.label, fp, out)
		}
	}
}

func TestCAExport(t *testing.T) {
	ca, dir := caDir(t)
	keyFile, err := os.ReadFile(ca.KeyPath())
	if err != nil {
		t.Fatal(err)
	}
	scalar, _ := ca.Key.(*ecdsa.PrivateKey).Bytes()
	pemFile, _ := os.ReadFile(ca.CertPath())
	out := t.TempDir()
	for _, tt := range []struct {
		name  string
		args  []string
		file  string // where the output lands; "" for stdout
		check func([]byte) bool
	}{
		{"pem to stdout", nil, "", func(b []byte) bool { return bytes.Equal(b, pemFile) }},
		{"der to stdout", []string{"--format", "der"}, "", func(b []byte) bool { return bytes.Equal(b, ca.Cert.Raw) }},
		{"format from .cer", []string{"-o", filepath.Join(out, "a.cer")}, filepath.Join(out, "a.cer"), func(b []byte) bool { return bytes.Equal(b, ca.Cert.Raw) }},
		{"format from .crt", []string{"-o", filepath.Join(out, "a.crt")}, filepath.Join(out, "a.crt"), func(b []byte) bool { return bytes.Equal(b, ca.Cert.Raw) }},
		{"format from .pem", []string{"-o", filepath.Join(out, "a.pem")}, filepath.Join(out, "a.pem"), func(b []byte) bool { return bytes.Equal(b, pemFile) }},
		{"unknown extension is pem", []string{"-o", filepath.Join(out, "a.txt")}, filepath.Join(out, "a.txt"), func(b []byte) bool { return bytes.Equal(b, pemFile) }},
		{"--format wins", []string{"--format", "der", "-o", filepath.Join(out, "b.pem")}, filepath.Join(out, "b.pem"), func(b []byte) bool { return bytes.Equal(b, ca.Cert.Raw) }},
		{"p12", []string{"--format", "p12", "--output", filepath.Join(out, "c.p12")}, filepath.Join(out, "c.p12"), func(b []byte) bool {
			got, err := pkcs12.DecodeTrustStore(b, "") // fails on a key bag
			return err == nil && len(got) == 1 && got[0].Equal(ca.Cert)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, "", append([]string{"ca", "export", "--confdir", dir}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := []byte(stdout)
			if tt.file != "" {
				if got, err = os.ReadFile(tt.file); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(stderr, "wrote "+tt.file) {
					t.Errorf("stderr %q", stderr)
				}
			}
			if !tt.check(got) {
				t.Errorf("wrong content (%d bytes)", len(got))
			}
			if bytes.Contains(got, keyFile) || bytes.Contains(got, scalar) || bytes.Contains(got, []byte("PRIVATE KEY")) {
				t.Error("the export holds the key")
			}
		})
	}
	if code, _, errs := runIn(t, "", "ca", "export", "--confdir", dir, "--format", "jks"); code != 2 || !strings.Contains(errs, "want pem, der or p12") {
		t.Errorf("unknown format: exit %d, %q", code, errs)
	}
}

func TestCAInstallNSS(t *testing.T) {
	needCertutilBin(t)
	ca, dir := caDir(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	nssdb := filepath.Join(home, ".pki", "nssdb")
	nick := truststore.Nickname(ca.Cert)

	code, out, errs := runIn(t, "", "ca", "install", "--nss", "--confdir", dir)
	if code != 0 || !strings.Contains(out, "created NSS database "+nssdb) || !strings.Contains(out, "trusted \""+nick+"\" in "+nssdb) {
		t.Fatalf("install: exit %d\n%s%s", code, out, errs)
	}
	list, err := exec.Command("certutil", "-L", "-d", "sql:"+nssdb).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(nick) + ` +C,, *$`).Match(list) {
		t.Errorf("certutil -L does not list %q as C,,:\n%s", nick, list)
	}
	if code, out, _ = runIn(t, "", "ca", "install", "--nss", "--confdir", dir); code != 0 || strings.Contains(out, "created") {
		t.Errorf("second install: exit %d, %q", code, out)
	}

	// A directory given after --nss, flags after it, and --nss=DIR.
	for _, args := range [][]string{
		{"--nss", filepath.Join(home, "profile1"), "--confdir", dir},
		{"--confdir", dir, "--nss=" + filepath.Join(home, "profile2")},
	} {
		code, out, errs := runIn(t, "", append([]string{"ca", "install"}, args...)...)
		if code != 0 || !strings.Contains(out, "trusted") {
			t.Errorf("install %q: exit %d\n%s%s", args, code, out, errs)
		}
	}
	for _, p := range []string{"profile1", "profile2"} {
		if st, err := (truststore.NSS{Dir: filepath.Join(home, p)}).Status(context.Background(), ca.Cert); err != nil || !st.Trusted {
			t.Errorf("%s: %+v %v", p, st, err)
		}
	}

	code, out, _ = runIn(t, "", "ca", "uninstall", "--nss", "--confdir", dir)
	if code != 0 || !strings.Contains(out, "removed \""+nick+"\" from "+nssdb) {
		t.Errorf("uninstall: exit %d, %q", code, out)
	}
	code, out, _ = runIn(t, "", "ca", "uninstall", "--nss", "--confdir", dir)
	if code != 0 || !strings.Contains(out, "was not in") {
		t.Errorf("second uninstall: exit %d, %q", code, out)
	}
}

func TestCAInstallWithoutCertutil(t *testing.T) {
	_, dir := caDir(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	code, _, errs := runIn(t, "", "ca", "install", "--nss", "--confdir", dir)
	if code != 1 || !strings.Contains(errs, "certutil not found") || !strings.Contains(errs, "libnss3-tools") {
		t.Errorf("exit %d, %q", code, errs)
	}
}

func TestCAInstallUsage(t *testing.T) {
	_, dir := caDir(t)
	for _, args := range [][]string{
		{"install"},
		{"install", "somedir"},
		{"install", "--nss", "a", "b"},
		{"install", "--nss=a", "b"},
		{"install", "--system", "extra"},
		{"uninstall"},
		{"install", "--bogus"},
	} {
		code, _, errs := runIn(t, "", append(append([]string{"ca"}, args...), "--confdir", dir)...)
		if code != 2 || !strings.Contains(errs, "usage: interceptor-tui ca "+args[0]) {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
}

func TestCASystemStore(t *testing.T) {
	ca, dir := caDir(t)
	store := fakeSystemStore(t)
	abs, _ := filepath.Abs(dir)

	geteuid = func() int { return 1000 }
	for _, verb := range []string{"install", "uninstall"} {
		code, _, errs := runIn(t, "", "ca", verb, "--system", "--confdir", dir)
		if code != 1 || !strings.Contains(errs, "needs root") || !strings.Contains(errs, "sudo interceptor-tui ca "+verb+" --system --confdir "+abs) {
			t.Errorf("%s as a user: exit %d, %q", verb, code, errs)
		}
	}
	if fileExists(store.Path()) {
		t.Fatal("a user's install wrote the store")
	}

	geteuid = func() int { return 0 }
	code, out, errs := runIn(t, "", "ca", "install", "--system", "--confdir", dir)
	if code != 0 || !strings.Contains(out, store.Path()) || !strings.Contains(out, "--nss") {
		t.Fatalf("install as root: exit %d\n%s%s", code, out, errs)
	}
	if st := store.Status(ca.Cert); !st.FileInstalled || !st.InBundle {
		t.Fatalf("after install: %+v", st)
	}
	code, out, _ = runIn(t, "", "ca", "uninstall", "--system", "--confdir", dir)
	if code != 0 || !strings.Contains(out, "removed "+store.Path()) {
		t.Errorf("uninstall: exit %d, %q", code, out)
	}
	if st := store.Status(ca.Cert); st.FileInstalled || st.InBundle {
		t.Errorf("after uninstall: %+v", st)
	}
}

func TestCARegenerate(t *testing.T) {
	old, dir := caDir(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	fakeSystemStore(t)
	nssInstalled := false
	if _, err := exec.LookPath("certutil"); err == nil {
		if code, out, errs := runIn(t, "", "ca", "install", "--nss", "--confdir", dir); code != 0 {
			t.Fatalf("install: %s%s", out, errs)
		}
		nssInstalled = true
	}
	fingerprint := func() string {
		ca, err := certs.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ca.FingerprintSHA256()
	}

	for _, answer := range []string{"", "n\n", "no\n", "whatever\n"} {
		code, _, errs := runIn(t, answer, "ca", "regenerate", "--confdir", dir)
		if code != 1 || !strings.Contains(errs, "[y/N]") || !strings.Contains(errs, "not regenerated") {
			t.Errorf("answer %q: exit %d, %q", answer, code, errs)
		}
		if fingerprint() != old.FingerprintSHA256() {
			t.Fatalf("answer %q replaced the CA", answer)
		}
	}

	code, out, errs := runIn(t, "Y\n", "ca", "regenerate", "--confdir", dir)
	if code != 0 {
		t.Fatalf("yes: exit %d\n%s%s", code, out, errs)
	}
	second := fingerprint()
	if second == old.FingerprintSHA256() || !strings.Contains(out, "SHA-256: "+second) {
		t.Fatalf("regenerate did not make a new CA:\n%s", out)
	}
	if nssInstalled {
		// It says where the old CA is still trusted, with a command that
		// removes it; run that command.
		m := regexp.MustCompile(`the old CA is still trusted in \S+; remove it: (certutil -D .*)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no word about the old CA in the NSS database:\n%s", out)
		}
		if cmdOut, err := exec.Command("sh", "-c", m[1]).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", m[1], err, cmdOut)
		}
		st, err := truststore.NSS{Dir: filepath.Join(home, ".pki", "nssdb")}.Status(context.Background(), old.Cert)
		if err != nil || st.Present {
			t.Errorf("the printed command left the old CA: %+v %v", st, err)
		}
	}

	code, _, errs = runIn(t, "n\n", "ca", "regenerate", "--yes", "--confdir", dir)
	if code != 0 || strings.Contains(errs, "[y/N]") || fingerprint() == second {
		t.Errorf("--yes: exit %d, asked or kept the CA: %q", code, errs)
	}

	fresh := filepath.Join(t.TempDir(), "none")
	if code, _, errs := runIn(t, "", "ca", "regenerate", "--confdir", fresh); code != 0 || !fileExists(filepath.Join(fresh, "ca.pem")) {
		t.Errorf("regenerate without a CA (nothing to ask): exit %d, %q", code, errs)
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// keyProbes try to reach the key through the proxy: traversal, encoded
// dots and slashes, NUL, the key's own name.
var keyProbes = []string{
	"/ca-key.pem", "/../ca-key.pem", "/cert/../ca-key.pem", "/cert/pem/../../ca-key.pem",
	"/%2e%2e/ca-key.pem", "/%2E%2E%2Fca-key.pem", "/..%2fca-key.pem", "/cert/%2e%2e/ca-key.pem",
	"//ca-key.pem", "/./ca-key.pem", "/ca-key.pem%00.pem", "/cert/key", "/cert/pem/../key",
	"/..%5cca-key.pem", "/%252e%252e/ca-key.pem", "/cert/der/../../../../" + "ca-key.pem",
}

func TestInstallPageThroughProxy(t *testing.T) {
	curl := needCurl(t)
	home := filepath.Join(t.TempDir(), "conf")
	p := startHeadless(t, home)
	ca, err := certs.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	pemFile, _ := os.ReadFile(ca.CertPath())
	keyFile, _ := os.ReadFile(ca.KeyPath())
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ca.Key)
	scalar, _ := ca.Key.(*ecdsa.PrivateKey).Bytes()

	fetch := func(t *testing.T, url string, extra ...string) (int, []byte) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "body")
		args := append([]string{"-sS", "--path-as-is", "--proxy", "http://" + p.addr, "--cacert", ca.CertPath(), "-o", out, "-w", "%{http_code}"}, extra...)
		code, err := exec.Command(curl, append(args, url)...).Output()
		if err != nil {
			t.Fatalf("curl %s: %v\nproxy stderr:\n%s", url, err, p.errText())
		}
		body, _ := os.ReadFile(out)
		var status int
		for _, c := range strings.TrimSpace(string(code)) {
			status = status*10 + int(c-'0')
		}
		return status, body
	}
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			base := scheme + "://interceptor.tui"
			if status, body := fetch(t, base+"/cert/pem"); status != 200 || !bytes.Equal(body, pemFile) {
				t.Errorf("/cert/pem: %d, equal to ca.pem: %v", status, bytes.Equal(body, pemFile))
			}
			if status, body := fetch(t, base+"/cert/der"); status != 200 || !bytes.Equal(body, ca.Cert.Raw) {
				t.Errorf("/cert/der: %d, equal to the DER: %v", status, bytes.Equal(body, ca.Cert.Raw))
			}
			status, body := fetch(t, base+"/cert/p12")
			if got, err := pkcs12.DecodeTrustStore(body, ""); status != 200 || err != nil || len(got) != 1 || !got[0].Equal(ca.Cert) {
				t.Errorf("/cert/p12: %d, %v", status, err)
			}
			if status, body := fetch(t, base+"/"); status != 200 || !bytes.Contains(body, []byte(ca.FingerprintSHA256())) {
				t.Errorf("/: %d, fingerprint shown: %v", status, bytes.Contains(body, []byte(ca.FingerprintSHA256())))
			}
			for _, path := range keyProbes {
				status, body := fetch(t, base+path)
				if status != 404 {
					t.Errorf("%s: status %d, want 404", path, status)
				}
				for what, secret := range map[string][]byte{"key file": keyFile, "PKCS#8": pkcs8, "scalar": scalar, "label": []byte("PRIVATE KEY")} {
					if bytes.Contains(body, secret) {
						t.Errorf("%s: response holds the %s", path, what)
					}
				}
			}
		})
	}
	// Never forwarded: nothing upstream answers interceptor.tui, and the
	// proxy records no flow for its own pages.
	if ls := p.lines(); len(ls) != 0 {
		t.Errorf("install page requests became flows: %q", ls)
	}
}

// hintsWithoutConfdir returns each interceptor-tui command in text that
// does not name the config directory dir (quoted for a shell): followed as
// printed, such a command would make and trust another CA.
func hintsWithoutConfdir(text, dir string) []string {
	var bad []string
	want := "--confdir " + truststore.ShellQuote(dir)
	text = regexp.MustCompile(`interceptor-tui ca \w+: `).ReplaceAllString(text, "") // an error's prefix
	for _, cmd := range regexp.MustCompile(`interceptor-tui (?:ca \w+|browser|--)[^,;()\n]*`).FindAllString(text, -1) {
		if !strings.Contains(cmd, want) {
			bad = append(bad, cmd)
		}
	}
	return bad
}

// TestCAHintsNameTheConfdir: every command the CA screens suggest names
// the directory in use (issue 20, bug 5), quoted so it can be pasted.
func TestCAHintsNameTheConfdir(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	fakeSystemStore(t)
	closed := closedAddr(t)
	dir := filepath.Join(t.TempDir(), "my conf")
	check := func(what, text string, min int) {
		t.Helper()
		n := len(regexp.MustCompile(`interceptor-tui (?:ca \w+|browser|--)[^:]`).FindAllString(text, -1))
		if n < min {
			t.Errorf("%s suggests %d commands, want at least %d:\n%s", what, n, min, text)
		}
		if bad := hintsWithoutConfdir(text, dir); len(bad) > 0 {
			t.Errorf("%s suggests commands without --confdir %s: %q\n%s", what, truststore.ShellQuote(dir), bad, text)
		}
	}
	_, out, _ := runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", closed)
	check("ca doctor with no CA", out, 4)
	_, _, errs := runIn(t, "", "ca", "path", "--confdir", dir) // creates it
	check("the message of a new CA", errs, 1)
	_, out, _ = runIn(t, "", "ca", "show", "--confdir", dir)
	check("ca show", out, 2)
	_, out, _ = runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", closed)
	check("ca doctor", out, 4)
	_, out, _ = runIn(t, "", "ca", "regenerate", "--confdir", dir, "--yes")
	check("ca regenerate", out, 1)
	fakeSystemStore(t)
	geteuid = func() int { return 1000 }
	_, _, errs = runIn(t, "", "ca", "install", "--system", "--confdir", dir)
	check("ca install --system without root", errs, 1)
}
