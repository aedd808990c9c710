package truststore_test

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

// fakeDebian is a Debian store in a temp directory whose
// update-ca-certificates is a script that logs its arguments and rebuilds
// the bundle from the directory, as the real one does.
func fakeDebian(t *testing.T) (truststore.Debian, string) {
	t.Helper()
	root := t.TempDir()
	d := truststore.Debian{
		Dir:    filepath.Join(root, "usr-local-share-ca-certificates"),
		Bundle: filepath.Join(root, "ca-certificates.crt"),
		Update: filepath.Join(root, "update-ca-certificates"),
	}
	log := filepath.Join(root, "update.log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\ncat " + d.Dir + "/*.crt > " + d.Bundle + " 2>/dev/null\nexit 0\n"
	if err := os.WriteFile(d.Update, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return d, log
}

func TestDebianRoundTrip(t *testing.T) {
	ctx := context.Background()
	ca := newCA(t)
	d, log := fakeDebian(t)
	if !d.Available() {
		t.Fatal("fake store not available")
	}
	if st := d.Status(ca.Cert); st.FileInstalled || st.InBundle {
		t.Fatalf("fresh store: %+v", st)
	}
	if err := d.Install(ctx, ca.Cert); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(d.Dir, "interceptor-tui.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(data); block == nil || block.Type != "CERTIFICATE" || string(block.Bytes) != string(ca.Cert.Raw) {
		t.Error("the store file is not the CA certificate in PEM")
	}
	if fi, _ := os.Stat(d.Path()); fi.Mode().Perm() != 0o644 {
		t.Errorf("store file mode %v", fi.Mode().Perm())
	}
	if st := d.Status(ca.Cert); !st.FileInstalled || !st.InBundle {
		t.Fatalf("after install: %+v", st)
	}
	removed, err := d.Uninstall(ctx)
	if err != nil || !removed {
		t.Fatalf("uninstall: %v %v", removed, err)
	}
	if st := d.Status(ca.Cert); st.FileInstalled || st.InBundle {
		t.Fatalf("after uninstall: %+v", st)
	}
	if removed, err := d.Uninstall(ctx); err != nil || removed {
		t.Fatalf("second uninstall: %v %v", removed, err)
	}
	calls, _ := os.ReadFile(log)
	if string(calls) != "\n--fresh\n" {
		t.Errorf("update-ca-certificates calls %q, want one plain and one --fresh", calls)
	}
}

func TestDebianUpdateFails(t *testing.T) {
	ca := newCA(t)
	d, _ := fakeDebian(t)
	if err := os.WriteFile(d.Update, []byte("#!/bin/sh\necho 'cannot write /etc/ssl/certs' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := d.Install(context.Background(), ca.Cert)
	if err == nil || !strings.Contains(err.Error(), "cannot write /etc/ssl/certs") {
		t.Fatalf("err = %v, want the tool's own message", err)
	}
}

func TestDebianUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	d := truststore.Debian{Dir: t.TempDir(), Bundle: "/nonexistent"}
	if d.Available() {
		t.Error("available without update-ca-certificates")
	}
	d = truststore.Debian{Dir: filepath.Join(t.TempDir(), "missing"), Update: "/bin/true"}
	if d.Available() {
		t.Error("available without its directory")
	}
}

func TestSystemTrusts(t *testing.T) {
	trusted, other := newCA(t), newCA(t)
	// Go reads SSL_CERT_FILE once, at its first look at the system roots;
	// this is the only test in the package that looks.
	t.Setenv("SSL_CERT_FILE", trusted.CertPath())
	t.Setenv("SSL_CERT_DIR", t.TempDir())
	if !truststore.SystemTrusts(trusted.Cert) {
		t.Error("a CA in SSL_CERT_FILE is not trusted")
	}
	if truststore.SystemTrusts(other.Cert) {
		t.Error("a CA outside SSL_CERT_FILE is trusted")
	}
}

func TestManualCommands(t *testing.T) {
	ca := newCA(t)
	for _, tt := range []struct {
		goos, install, uninstall string
	}{
		{"darwin", "sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain '/my certs/ca.pem'", "sudo security delete-certificate -c"},
		{"windows", `certutil -addstore -user Root "C:\certs\ca.cer"`, `certutil -delstore -user Root "interceptor-tui CA`},
		{"linux", "sudo cp '/my certs/ca.pem' /etc/pki/ca-trust/source/anchors/interceptor-tui.pem && sudo update-ca-trust", "sudo rm /etc/pki/ca-trust/source/anchors/interceptor-tui.pem"},
	} {
		pemPath := "/my certs/ca.pem"
		c := truststore.ManualCommands(tt.goos, pemPath, `C:\certs\ca.cer`, ca.Cert)
		if c.System == "" || c.Install[0] != tt.install || !strings.HasPrefix(c.Uninstall[0], tt.uninstall) {
			t.Errorf("%s: %+v", tt.goos, c)
		}
	}
}
