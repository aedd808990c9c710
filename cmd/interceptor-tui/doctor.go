package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/installpage"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

// ca doctor says what stands between this machine and intercepted HTTPS,
// each finding with the command that fixes it.

// finding is one line of ca doctor.
type finding struct {
	mark string // "ok", "no" (not set up for the clients named), "!!" (broken), "--" (information)
	what string
	msg  string
	fix  string
}

func (f finding) problem() bool { return f.mark == "no" || f.mark == "!!" }

func caDoctor(ctx context.Context, std caIO, args []string) error {
	fs, confdir := caFlagSet("doctor", std.stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` the proxy listens on")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	var found []finding
	ca, dir, err := loadExistingCA(*confdir)
	switch {
	case errors.Is(err, certs.ErrNoCA):
		found = append(found, finding{"!!", "CA", "no CA in " + dir + " yet", "start interceptor-tui " + confFlag(dir) + " once, or run: interceptor-tui ca show " + confFlag(dir)})
	case err != nil:
		found = append(found, finding{"!!", "CA", err.Error(), "fix the file it names, or make a new CA: interceptor-tui ca regenerate " + confFlag(dir)})
	default:
		found = append(found, checkCA(ca)...)
		found = append(found, checkNSS(ctx, ca)...)
		found = append(found, checkSystem(ca))
	}
	found = append(found, checkProxy(ctx, *listen, ca, dir))
	found = append(found, checkEnv(*listen))

	problems := 0
	for _, f := range found {
		fmt.Fprintf(std.stdout, "%-3s %-8s %s\n", f.mark, f.what, f.msg)
		if f.fix != "" {
			fmt.Fprintf(std.stdout, "%13s %s\n", "→", f.fix)
		}
		if f.problem() {
			problems++
		}
	}
	fmt.Fprint(std.stdout, knownTraps(dir))
	if problems > 0 {
		return fmt.Errorf("%d things stand in the way (each only for the clients named)", problems)
	}
	return nil
}

// knownTraps are the traps doctor cannot see, with commands for the CA in dir.
func knownTraps(dir string) string {
	return strings.ReplaceAll(trapsText, "CONFDIR", confFlag(dir))
}

const trapsText = `
Known traps:
  - Firefox keeps its own store and ignores the system's: install into each profile
    (interceptor-tui ca install --nss ~/.mozilla/firefox/PROFILE CONFDIR, with Firefox closed).
  - Android 7 and later: apps ignore CAs that users install unless the app opts in
    (network security config). Chrome on Android trusts them; for other apps use a debug
    build that trusts user CAs, or the system store of an emulator or rooted device.
  - Apps that pin certificates refuse every CA but their own: let them through
    untouched with --ignore-hosts 'REGEX' (matched against host:port).
  - Chromium from a snap reads ~/snap/chromium/current/.pki/nssdb, not ~/.pki/nssdb.
  - sudo resets HOME: give sudo'd commands --confdir, or they use root's CA.
  - A page loads but no flow appears: that client's proxy is not set. Through the proxy,
    http://interceptor.tui/ shows the install page; without it, the name does not resolve.
  - No install at all: interceptor-tui browser CONFDIR starts a Chromium that trusts this CA.
`

func checkCA(ca *certs.CA) []finding {
	f := finding{"ok", "CA", fmt.Sprintf("%s (SHA-256 %s…), valid until %s", ca.CertPath(), ca.FingerprintSHA256()[:23], ca.Cert.NotAfter.Format(time.DateOnly)), ""}
	if left := time.Until(ca.Cert.NotAfter); left < 30*24*time.Hour {
		f.mark, f.fix = "!!", "it expires in less than 30 days; make a new one: interceptor-tui ca regenerate "+confFlag(ca.Dir)
	}
	return []finding{f}
}

// checkNSS looks at the databases browsers read: Chromium's on Linux
// (and a snap Chromium's, if there is one) and every Firefox profile.
func checkNSS(ctx context.Context, ca *certs.CA) []finding {
	home, err := os.UserHomeDir()
	if err != nil {
		return []finding{{"--", "NSS", "no home directory, so no browser databases to check: " + err.Error(), ""}}
	}
	type db struct{ what, dir, users string }
	var dbs []db
	if runtime.GOOS == "linux" {
		dbs = append(dbs, db{"NSS", truststore.DefaultNSSDir(home), "Chromium, Chrome"})
		if snap := filepath.Join(home, "snap", "chromium", "current", ".pki", "nssdb"); (truststore.NSS{Dir: snap}).Exists() {
			dbs = append(dbs, db{"NSS", snap, "Chromium from a snap"})
		}
	}
	for _, p := range truststore.FirefoxProfiles(home) {
		dbs = append(dbs, db{"Firefox", p, "Firefox profile"})
	}
	var out []finding
	for _, d := range dbs {
		install := "interceptor-tui ca install --nss"
		if d.dir != truststore.DefaultNSSDir(home) {
			install += " " + truststore.ShellQuote(d.dir)
		}
		install += " " + confFlag(ca.Dir)
		st, err := truststore.NSS{Dir: d.dir}.Status(ctx, ca.Cert)
		switch {
		case errors.Is(err, truststore.ErrNoCertutil):
			return append(out, finding{"!!", d.what, "cannot look into browser databases: " + err.Error(), ""})
		case err != nil:
			out = append(out, finding{"!!", d.what, fmt.Sprintf("%s (%s): %v", d.dir, d.users, err), ""})
		case st.Present && st.Trusted:
			out = append(out, finding{"ok", d.what, fmt.Sprintf("trusted in %s (%s)", d.dir, d.users), ""})
		case st.Present:
			out = append(out, finding{"no", d.what, fmt.Sprintf("in %s (%s) but not trusted for websites", d.dir, d.users), install})
		default:
			out = append(out, finding{"no", d.what, fmt.Sprintf("not in %s (%s)", d.dir, d.users), install})
		}
		for _, nick := range st.Others {
			out = append(out, finding{"--", d.what, fmt.Sprintf("%s also trusts %q, an older or other interceptor-tui CA", d.dir, nick),
				fmt.Sprintf("if it is not yours any more: certutil -D -d sql:%s -n %s", truststore.ShellQuote(d.dir), truststore.ShellQuote(nick))})
		}
	}
	return out
}

func checkSystem(ca *certs.CA) finding {
	const users = "curl, OpenSSL, Go, most tools"
	install := "sudo interceptor-tui ca install --system " + confFlag(ca.Dir)
	if runtime.GOOS == "linux" && debianStore.Available() {
		st := debianStore.Status(ca.Cert)
		switch {
		case st.FileInstalled && st.InBundle:
			return finding{"ok", "system", fmt.Sprintf("trusted in the system store (%s)", users), ""}
		case st.FileInstalled:
			return finding{"!!", "system", debianStore.Path() + " is there but not in " + debianStore.Bundle, "sudo update-ca-certificates"}
		}
	}
	if truststore.SystemTrusts(ca.Cert) {
		return finding{"ok", "system", fmt.Sprintf("trusted by the system's roots (%s)", users), ""}
	}
	if runtime.GOOS != "linux" || !debianStore.Available() {
		install = truststore.ManualCommands(runtime.GOOS, ca.CertPath(), derPath(ca), ca.Cert).Install[0]
	}
	return finding{"no", "system", fmt.Sprintf("not in the system store (%s)", users), install}
}

// checkProxy asks whatever listens on addr for the install page's DER: an
// interceptor-tui with this CA answers with exactly ca's certificate.
func checkProxy(ctx context.Context, addr string, ca *certs.CA, dir string) finding {
	start := "start it: interceptor-tui --listen " + addr + " " + confFlag(dir) + " (or tell doctor where it listens: --listen ADDR)"
	conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return finding{"!!", "proxy", "nothing answers on " + addr, start}
	}
	conn.Close()
	client := &http.Client{
		Timeout:   3 * time.Second,
		Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: addr})},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+mitm.LocalHost+installpage.PathDER, nil)
	if err != nil {
		return finding{"!!", "proxy", err.Error(), ""}
	}
	resp, err := client.Do(req)
	if err != nil {
		return finding{"!!", "proxy", fmt.Sprintf("%s accepts connections but does not answer as a proxy: %v", addr, err), start}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case ca == nil:
		return finding{"--", "proxy", "a proxy answers on " + addr, ""}
	case resp.StatusCode == http.StatusOK && bytes.Equal(body, ca.Cert.Raw):
		return finding{"ok", "proxy", "interceptor-tui answers on " + addr + " and signs with this CA", ""}
	case resp.StatusCode == http.StatusOK:
		return finding{"!!", "proxy", "the proxy on " + addr + " signs with another CA (started with another --confdir?)", "restart it with " + confFlag(ca.Dir)}
	default:
		return finding{"!!", "proxy", fmt.Sprintf("something answers on %s but not as interceptor-tui (%s for http://%s/)", addr, resp.Status, mitm.LocalHost), start}
	}
}

// checkEnv says whether programs started from this shell use a proxy.
func checkEnv(addr string) finding {
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		if v := os.Getenv(name); v != "" {
			if strings.Contains(v, addr) {
				return finding{"ok", "shell", fmt.Sprintf("%s=%s: programs started here use the proxy", name, v), ""}
			}
			return finding{"--", "shell", fmt.Sprintf("%s=%s, not %s: programs started here use that proxy", name, v, addr), ""}
		}
	}
	return finding{"--", "shell", "no HTTPS_PROXY here: programs started from this shell go direct unless told",
		fmt.Sprintf("export HTTPS_PROXY=http://%s HTTP_PROXY=http://%s, or curl --proxy http://%s", addr, addr, addr)}
}
