package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

// doctorLine finds the line for what with mark, and the fix line after it.
func doctorLine(out, mark, what, text string) bool {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(mark) + ` +` + regexp.QuoteMeta(what) + ` +.*` + regexp.QuoteMeta(text))
	return re.MatchString(out)
}

func TestCADoctor(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(v, "")
	}
	store := fakeSystemStore(t)
	closed := closedAddr(t)

	t.Run("no CA", func(t *testing.T) {
		code, out, _ := runIn(t, "", "ca", "doctor", "--confdir", filepath.Join(t.TempDir(), "none"), "--listen", closed)
		if code != 1 || !doctorLine(out, "!!", "CA", "no CA in") || !doctorLine(out, "!!", "proxy", "nothing answers on "+closed) {
			t.Errorf("exit %d:\n%s", code, out)
		}
		for _, trap := range []string{"Firefox keeps its own store", "Android 7", "--ignore-hosts", "pin"} {
			if !strings.Contains(out, trap) {
				t.Errorf("traps lack %q", trap)
			}
		}
	})

	ca, dir := caDir(t)
	t.Run("nothing installed", func(t *testing.T) {
		code, out, _ := runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", closed)
		if code != 1 || !doctorLine(out, "ok", "CA", ca.CertPath()) || !doctorLine(out, "no", "system", "not in the system store") {
			t.Errorf("exit %d:\n%s", code, out)
		}
		if _, err := exec.LookPath("certutil"); err == nil && !doctorLine(out, "no", "NSS", "not in "+filepath.Join(home, ".pki", "nssdb")) {
			t.Errorf("NSS not reported missing:\n%s", out)
		}
		if !strings.Contains(out, "→ export HTTPS_PROXY=http://"+closed) {
			t.Errorf("no hint about HTTPS_PROXY:\n%s", out)
		}
	})

	t.Run("a proxy with another CA, and not a proxy", func(t *testing.T) {
		other := startHeadless(t, filepath.Join(t.TempDir(), "other"))
		_, out, _ := runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", other.addr)
		if !doctorLine(out, "!!", "proxy", "signs with another CA") {
			t.Errorf("other CA not noticed:\n%s", out)
		}
		plain := httptest.NewServer(http.NotFoundHandler())
		defer plain.Close()
		_, out, _ = runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", plain.Listener.Addr().String())
		if !doctorLine(out, "!!", "proxy", "not as interceptor-tui (404") {
			t.Errorf("a plain web server taken for the proxy:\n%s", out)
		}
	})

	needCertutilBin(t)
	profile := filepath.Join(home, ".mozilla", "firefox", "x1.default-release")
	os.MkdirAll(profile, 0o700)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Run("Firefox profile found", func(t *testing.T) {
		_, out, _ := runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", closed)
		if !doctorLine(out, "no", "Firefox", "not in "+profile) || !strings.Contains(out, "→ interceptor-tui ca install --nss "+profile) {
			t.Errorf("Firefox profile not reported:\n%s", out)
		}
	})

	t.Run("all set", func(t *testing.T) {
		for _, args := range [][]string{{"--nss"}, {"--nss", profile}, {"--system"}} {
			if code, out, errs := runIn(t, "", append([]string{"ca", "install", "--confdir", dir}, args...)...); code != 0 {
				t.Fatalf("install %q: %s%s", args, out, errs)
			}
		}
		// An earlier CA left in the database is worth a word, not a failure.
		old := newTestCA(t)
		if _, err := (truststore.NSS{Dir: filepath.Join(home, ".pki", "nssdb")}).Install(context.Background(), old.Cert); err != nil {
			t.Fatal(err)
		}
		p := startHeadless(t, dir)
		t.Setenv("HTTPS_PROXY", "http://"+p.addr)
		code, out, errs := runIn(t, "", "ca", "doctor", "--confdir", dir, "--listen", p.addr)
		if code != 0 {
			t.Errorf("exit %d with everything set up:\n%s%s", code, out, errs)
		}
		for _, want := range [][3]string{
			{"ok", "NSS", "trusted in " + filepath.Join(home, ".pki", "nssdb")},
			{"ok", "Firefox", "trusted in " + profile},
			{"ok", "system", "trusted in the system store"},
			{"ok", "proxy", "interceptor-tui answers on " + p.addr + " and signs with this CA"},
			{"ok", "shell", "HTTPS_PROXY=http://" + p.addr},
			{"--", "NSS", truststore.Nickname(old.Cert)},
		} {
			if !doctorLine(out, want[0], want[1], want[2]) {
				t.Errorf("no %q line:\n%s", want, out)
			}
		}
		if st := store.Status(ca.Cert); !st.InBundle {
			t.Error("fake store not used")
		}
	})
}

func TestDoctorCheckEnv(t *testing.T) {
	const addr = "127.0.0.1:8080"
	for _, tc := range []struct {
		env, value string
		want       finding
	}{
		{"", "", finding{"--", "shell", "no HTTPS_PROXY here: programs started from this shell go direct unless told",
			"export HTTPS_PROXY=http://" + addr + " HTTP_PROXY=http://" + addr + ", or curl --proxy http://" + addr}},
		{"https_proxy", "http://" + addr, finding{"ok", "shell", "https_proxy=http://" + addr + ": programs started here use the proxy", ""}},
		{"ALL_PROXY", "socks5://elsewhere:1080", finding{"--", "shell", "ALL_PROXY=socks5://elsewhere:1080, not " + addr + ": programs started here use that proxy", ""}},
	} {
		for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
			t.Setenv(v, "")
		}
		if tc.env != "" {
			t.Setenv(tc.env, tc.value)
		}
		if got := checkEnv(addr); got != tc.want {
			t.Errorf("%s=%s: %+v, want %+v", tc.env, tc.value, got, tc.want)
		}
	}
}

func TestDoctorCheckCAWarnsBeforeExpiry(t *testing.T) {
	ca := newTestCA(t)
	if f := checkCA(ca)[0]; f.mark != "ok" || f.problem() {
		t.Fatalf("a new CA: %+v", f)
	}
	ca.Cert.NotAfter = time.Now().Add(10 * 24 * time.Hour)
	if f := checkCA(ca)[0]; f.mark != "!!" || !strings.Contains(f.fix, "ca regenerate --confdir ") {
		t.Fatalf("a CA 10 days from expiry: %+v", f)
	}
}
