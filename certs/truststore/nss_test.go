package truststore_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

func newCA(t *testing.T) *certs.CA {
	t.Helper()
	ca, err := certs.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func needCertutil(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil not found: install Debian package libnss3-tools")
	}
}

func TestNickname(t *testing.T) {
	ca := newCA(t)
	nick := truststore.Nickname(ca.Cert)
	want := truststore.NicknamePrefix + strings.ReplaceAll(ca.FingerprintSHA256()[:11], ":", "") + ")"
	if nick != want {
		t.Errorf("Nickname = %q, want %q", nick, want)
	}
	// certutil reads "token:name" in a nickname as a token.
	if strings.Contains(nick, ":") {
		t.Errorf("nickname %q has a colon", nick)
	}
	if other := newCA(t); truststore.Nickname(other.Cert) == nick {
		t.Error("two CAs share a nickname")
	}
}

// certutilList is `certutil -L` output as NSS 3.87 prints it.
const certutilList = `
Certificate Nickname                                         Trust Attributes
                                                             SSL,S/MIME,JAR/XPI

interceptor-tui CA (C73BA7F3)                                C,,  
My Corp Root CA                                              CT,C,C
interceptor-tui CA (00AA11BB)                                ,,   
Some User Cert                                               u,u,u
`

func TestParseList(t *testing.T) {
	got := truststore.ParseList(certutilList)
	want := []truststore.Entry{
		{Nickname: "interceptor-tui CA (C73BA7F3)", Trust: "C,,"},
		{Nickname: "My Corp Root CA", Trust: "CT,C,C"},
		{Nickname: "interceptor-tui CA (00AA11BB)", Trust: ",,"},
		{Nickname: "Some User Cert", Trust: "u,u,u"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseList:\n got %q\nwant %q", got, want)
	}
	for i, trusted := range []bool{true, true, false, false} {
		if got[i].TrustedForTLS() != trusted {
			t.Errorf("%q TrustedForTLS = %v", got[i].Nickname, !trusted)
		}
	}
}

func TestNSSRoundTrip(t *testing.T) {
	needCertutil(t)
	ctx := context.Background()
	ca, old := newCA(t), newCA(t)
	db := truststore.NSS{Dir: filepath.Join(t.TempDir(), "home", ".pki", "nssdb")}

	st, err := db.Status(ctx, ca.Cert)
	if err != nil || st.Present {
		t.Fatalf("status of a missing database: %+v, %v", st, err)
	}
	if removed, err := db.Uninstall(ctx, ca.Cert); err != nil || removed {
		t.Fatalf("uninstall from a missing database: %v, %v", removed, err)
	}

	created, err := db.Install(ctx, ca.Cert)
	if err != nil || !created {
		t.Fatalf("first install: created=%v err=%v", created, err)
	}
	if fi, err := os.Stat(db.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("database directory: %v, %v", fi, err)
	}
	if created, err = db.Install(ctx, ca.Cert); err != nil || created {
		t.Fatalf("second install: created=%v err=%v", created, err)
	}
	if _, err := db.Install(ctx, old.Cert); err != nil {
		t.Fatal(err)
	}
	entries, err := db.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Nickname == truststore.Nickname(ca.Cert) {
			n++
			if e.Trust != "C,," {
				t.Errorf("trust %q, want C,,", e.Trust)
			}
		}
	}
	if n != 1 {
		t.Errorf("installing twice listed the CA %d times: %v", n, entries)
	}
	st, err = db.Status(ctx, ca.Cert)
	if err != nil || !st.Present || !st.Trusted {
		t.Fatalf("after install: %+v, %v", st, err)
	}
	if want := []string{truststore.Nickname(old.Cert)}; !reflect.DeepEqual(st.Others, want) {
		t.Errorf("Others = %q, want %q", st.Others, want)
	}

	removed, err := db.Uninstall(ctx, ca.Cert)
	if err != nil || !removed {
		t.Fatalf("uninstall: %v, %v", removed, err)
	}
	if st, err = db.Status(ctx, ca.Cert); err != nil || st.Present {
		t.Fatalf("after uninstall: %+v, %v", st, err)
	}
	if st, _ := db.Status(ctx, old.Cert); !st.Present {
		t.Error("uninstall removed another CA too")
	}
}

// TestNSSFirefoxProfile installs into an existing database that is not
// ~/.pki/nssdb, as for a Firefox profile.
func TestNSSFirefoxProfile(t *testing.T) {
	needCertutil(t)
	home := t.TempDir()
	profile := filepath.Join(home, ".mozilla", "firefox", "abcd.default-release")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got := truststore.FirefoxProfiles(home); !reflect.DeepEqual(got, []string{profile}) {
		t.Fatalf("FirefoxProfiles = %q", got)
	}
	ca := newCA(t)
	created, err := truststore.NSS{Dir: profile}.Install(context.Background(), ca.Cert)
	if err != nil || created {
		t.Fatalf("install into a profile: created=%v err=%v", created, err)
	}
}

func TestNoCertutil(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ca := newCA(t)
	db := truststore.NSS{Dir: filepath.Join(t.TempDir(), "nssdb")}
	_, err := db.Install(context.Background(), ca.Cert)
	if !errors.Is(err, truststore.ErrNoCertutil) || !strings.Contains(err.Error(), "libnss3-tools") {
		t.Fatalf("install without certutil: %v", err)
	}
	if _, err := os.Stat(db.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Error("install without certutil still created the directory")
	}
	if _, err := db.Status(context.Background(), ca.Cert); !errors.Is(err, truststore.ErrNoCertutil) {
		t.Errorf("status without certutil: %v", err)
	}
}

func TestInstallOverAFile(t *testing.T) {
	needCertutil(t)
	ca := newCA(t)
	// A file where the database directory should be.
	file := filepath.Join(t.TempDir(), "nssdb")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := truststore.NSS{Dir: file}.Install(context.Background(), ca.Cert)
	if err == nil || !strings.Contains(err.Error(), "nssdb") {
		t.Fatalf("install over a file: %v", err)
	}
}
