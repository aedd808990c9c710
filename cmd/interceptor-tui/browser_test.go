package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

func TestChromiumArgs(t *testing.T) {
	opts := browserOptions{ProxyAddr: "127.0.0.1:8080", SPKI: "c3BraQ==", URL: "http://interceptor.tui/", ExtraArgs: []string{"--headless"}}
	want := []string{
		"--user-data-dir=/tmp/p",
		"--proxy-server=http://127.0.0.1:8080",
		"--proxy-bypass-list=<-loopback>",
		"--ignore-certificate-errors-spki-list=c3BraQ==",
		"--no-first-run",
		"--no-default-browser-check",
		"--headless",
		"http://interceptor.tui/",
	}
	if got := chromiumArgs(opts, "/tmp/p", false); !reflect.DeepEqual(got, want) {
		t.Errorf("as a user:\n got %q\nwant %q", got, want)
	}
	got := chromiumArgs(opts, "/tmp/p", true)
	if !contains(got, "--no-sandbox") && runtime.GOOS == "linux" {
		t.Errorf("as root on Linux, no --no-sandbox: %q", got)
	}
	opts.URL = ""
	if got := chromiumArgs(opts, "/tmp/p", false); got[len(got)-1] != "--headless" {
		t.Errorf("without a URL the last argument is %q", got[len(got)-1])
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDialableAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080",
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:9":      "127.0.0.1:9",
		"[::]:8080":      "[::1]:8080",
		"[::1]:8080":     "[::1]:8080",
		"proxy.lan:3128": "proxy.lan:3128",
		"nonsense":       "nonsense",
	} {
		if got := dialableAddr(in); got != want {
			t.Errorf("dialableAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := startBrowser(context.Background(), browserOptions{ProxyAddr: "127.0.0.1:1"})
	if !errors.Is(err, errNoBrowser) || !strings.Contains(err.Error(), "package chromium") {
		t.Fatalf("err = %v, want one naming Debian package chromium", err)
	}
	if _, err := findBrowser("no-such-browser"); err == nil || !strings.Contains(err.Error(), "--browser no-such-browser") {
		t.Errorf("explicit missing browser: %v", err)
	}
}

// fakeChromium puts a "chromium" on PATH that records its arguments,
// writes into its profile like a browser does, and then either exits or
// waits for SIGTERM.
func fakeChromium(t *testing.T, wait bool) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := `#!/bin/sh
for a in "$@"; do echo "$a"; done > ` + argsFile + `
for a in "$@"; do case "$a" in --user-data-dir=*) p="${a#--user-data-dir=}"; mkdir -p "$p/Default" && echo x > "$p/Default/Preferences";; esac; done
echo started
`
	if wait {
		script += "trap 'exit 0' TERM\nwhile :; do sleep 0.05; done\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "chromium"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func readArgs(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestLaunchBrowserRemovesProfile(t *testing.T) {
	ca := newTestCA(t)
	t.Run("browser exits", func(t *testing.T) {
		argsFile := fakeChromium(t, false)
		var out bytes.Buffer
		b, err := startBrowser(context.Background(), browserOptions{ProxyAddr: "127.0.0.1:9999", SPKI: ca.SPKIHash(), URL: "https://app.test/", Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(); err != nil {
			t.Fatal(err)
		}
		args := readArgs(t, argsFile)
		if want := chromiumArgs(browserOptions{ProxyAddr: "127.0.0.1:9999", SPKI: ca.SPKIHash(), URL: "https://app.test/"}, b.Profile(), geteuid() == 0); !reflect.DeepEqual(args, want) {
			t.Errorf("args:\n got %q\nwant %q", args, want)
		}
		if !strings.HasPrefix(filepath.Base(b.Profile()), "interceptor-tui-browser-") {
			t.Errorf("profile %s", b.Profile())
		}
		if fileExists(b.Profile()) {
			t.Error("profile left behind after the browser exited")
		}
		if out.String() != "started\n" {
			t.Errorf("stdout %q", out.String())
		}
	})
	t.Run("Stop", func(t *testing.T) {
		fakeChromium(t, true)
		b, err := launchBrowser(context.Background(), "127.0.0.1:9999", ca, "")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return fileExists(filepath.Join(b.Profile(), "Default", "Preferences")) })
		select {
		case <-b.Done():
			t.Fatal("browser ended by itself")
		case <-time.After(100 * time.Millisecond):
		}
		b.Stop()
		select {
		case <-b.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("browser still running 10s after Stop")
		}
		if fileExists(b.Profile()) {
			t.Error("profile left behind after Stop")
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		fakeChromium(t, true)
		ctx, cancel := context.WithCancel(context.Background())
		b, err := launchBrowser(ctx, "127.0.0.1:9999", ca, "")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return fileExists(filepath.Join(b.Profile(), "Default")) })
		cancel()
		b.Wait()
		if fileExists(b.Profile()) {
			t.Error("profile left behind after the context ended")
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newTestCA(t *testing.T) *certs.CA {
	t.Helper()
	ca, err := certs.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestBrowserCommand(t *testing.T) {
	argsFile := fakeChromium(t, false)
	confdir := filepath.Join(t.TempDir(), "conf")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"browser", "--listen", ln.Addr().String(), "https://app.test/", "--confdir", confdir}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	ca, err := certs.Load(confdir)
	if err != nil {
		t.Fatal(err)
	}
	args := readArgs(t, argsFile)
	for _, want := range []string{"--proxy-server=http://" + ln.Addr().String(), "--ignore-certificate-errors-spki-list=" + ca.SPKIHash(), "https://app.test/"} {
		if !contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if !strings.Contains(stdout.String(), "browser closed; profile removed") {
		t.Errorf("stdout %q", stdout.String())
	}
	if strings.Contains(stderr.String(), "nothing answers") {
		t.Errorf("warned about a proxy that is listening: %s", stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	ln.Close()
	code = run([]string{"browser", "--confdir", confdir, "--listen", ln.Addr().String()}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "nothing answers on "+ln.Addr().String()) {
		t.Errorf("no proxy: exit %d, stderr %q", code, stderr.String())
	}
	if args := readArgs(t, argsFile); args[len(args)-1] != "http://interceptor.tui/" {
		t.Errorf("default URL %q", args[len(args)-1])
	}

	t.Setenv("PATH", t.TempDir())
	stderr.Reset()
	if code := run([]string{"browser", "--confdir", confdir}, strings.NewReader(""), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "package chromium") {
		t.Errorf("no browser: exit %d, stderr %q", code, stderr.String())
	}
}

// --- real Chromium ---

const appBody = "hello from app.test, served over TLS"

func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("Chromium not found: install Debian package chromium")
	return ""
}

// appOrigin is https://app.test:PORT/ on 127.0.0.1, with a certificate
// for app.test from its own CA, whose PEM file goes to --upstream-ca.
func appOrigin(t *testing.T) (port string, caFile string) {
	t.Helper()
	ca := newTestCA(t)
	leaf, err := certs.NewLeaves(ca, 4).Get("app.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>app</title><p id=greeting>%s</p>", appBody)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{*leaf}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return port, ca.CertPath()
}

// resolverFront stands in for DNS, which this test has none of: Chromium
// sends "CONNECT app.test:PORT" to it and it passes "CONNECT
// 127.0.0.1:PORT" on to the real proxy, then copies bytes both ways. TLS
// stays end to end between Chromium and the proxy (SNI app.test), so the
// front cannot change what Chromium trusts. Chromium's --host-resolver-rules
// would not help: with a proxy it leaves the CONNECT target alone.
// Everything but the mapped names and interceptor.tui is refused, which
// keeps Chromium's background requests off the network.
func resolverFront(t *testing.T, proxyAddr string, hosts map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			track(c)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				host, port, _ := net.SplitHostPort(req.Host)
				if host == "" {
					host = req.Host
				}
				var head string
				switch {
				case req.Method == http.MethodConnect && hosts[host] != "":
					target := net.JoinHostPort(hosts[host], port)
					head = fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
				case req.Method != http.MethodConnect && strings.EqualFold(host, "interceptor.tui"):
					req.Close = true // one request per connection: nothing else slips through
					var buf bytes.Buffer
					req.WriteProxy(&buf)
					head = buf.String()
				default:
					io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					return
				}
				up, err := net.Dial("tcp", proxyAddr)
				if err != nil {
					return
				}
				track(up)
				defer up.Close()
				if _, err := io.WriteString(up, head); err != nil {
					return
				}
				go func() { io.Copy(up, br); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String()
}

// headlessChromium loads url through proxy with HOME set to home (whose
// .pki/nssdb is the NSS database it trusts) and returns the dumped DOM and
// what Chromium wrote to stderr.
func headlessChromium(t *testing.T, chrome, home, proxy, url string, extra ...string) (dom, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-features=HttpsUpgrades", "--virtual-time-budget=5000",
		"--user-data-dir=" + t.TempDir(),
		"--proxy-server=http://" + proxy, "--proxy-bypass-list=<-loopback>",
	}, extra...)
	args = append(args, "--dump-dom", url)
	cmd := exec.CommandContext(ctx, chrome, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && ctx.Err() != nil {
		t.Fatalf("chromium did not finish: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

// certError matches Chromium's log of a certificate error: a net::ERR_CERT_*
// name, or a code from net's certificate range (-200 to -299).
var certError = regexp.MustCompile(`ERR_CERT_[A-Z_]+|net_error -2\d\d\b`)

func certErrors(stderr string) string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if certError.MatchString(l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// TestChromiumTrustsAfterNSSInstall is the acceptance test: in a fresh HOME,
// `ca install --nss` makes headless Chromium load an HTTPS page through the
// proxy with no certificate error, and the flow is captured; without the
// install the same load fails with a certificate error.
func TestChromiumTrustsAfterNSSInstall(t *testing.T) {
	chrome := needChromium(t)
	needCertutilBin(t)
	port, originCA := appOrigin(t)
	url := "https://app.test:" + port + "/"

	home := t.TempDir()
	confdir := filepath.Join(home, ".interceptor-tui")
	install := exec.Command(binary, "ca", "install", "--nss")
	install.Env = append(os.Environ(), "HOME="+home, "INTERCEPTOR_TUI_HOME="+confdir)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("ca install --nss: %v\n%s", err, out)
	}
	if !fileExists(filepath.Join(home, ".pki", "nssdb", "cert9.db")) {
		t.Fatal("ca install --nss made no database in HOME/.pki/nssdb")
	}

	p := startHeadless(t, confdir, "--upstream-ca", originCA)
	front := resolverFront(t, p.addr, map[string]string{"app.test": "127.0.0.1"})

	t.Run("without the install", func(t *testing.T) {
		bare := t.TempDir() // a HOME with no NSS database
		dom, stderr := headlessChromium(t, chrome, bare, front, url)
		if strings.Contains(dom, appBody) {
			t.Fatalf("the page loaded although nothing trusts the CA:\n%s", dom)
		}
		if certErrors(stderr) == "" {
			t.Fatalf("no certificate error from Chromium; stderr:\n%s", stderr)
		}
	})
	t.Run("with the install", func(t *testing.T) {
		dom, stderr := headlessChromium(t, chrome, home, front, url)
		if !strings.Contains(dom, appBody) {
			t.Fatalf("page content not in the DOM:\n%s\nchromium stderr:\n%s\nproxy stderr:\n%s", dom, stderr, p.errText())
		}
		if ce := certErrors(stderr); ce != "" {
			t.Errorf("certificate errors:\n%s", ce)
		}
		waitFor(t, func() bool {
			for _, l := range p.lines() {
				if strings.Contains(l, "GET https://app.test:"+port+"/ 200") {
					return true
				}
			}
			return false
		})
	})
}

// TestLaunchedChromiumTrustsWithoutInstall checks the B key's launcher for
// real: nothing installed, yet its SPKI flag makes the page load.
func TestLaunchedChromiumTrustsWithoutInstall(t *testing.T) {
	chrome := needChromium(t)
	port, originCA := appOrigin(t)
	confdir := filepath.Join(t.TempDir(), "conf")
	p := startHeadless(t, confdir, "--upstream-ca", originCA)
	ca, err := certs.Load(confdir)
	if err != nil {
		t.Fatal(err)
	}
	front := resolverFront(t, p.addr, map[string]string{"app.test": "127.0.0.1"})
	t.Setenv("HOME", t.TempDir()) // no NSS database: trust comes from the flag alone
	var dom bytes.Buffer
	b, err := startBrowser(context.Background(), browserOptions{
		ProxyAddr: front, SPKI: ca.SPKIHash(), URL: "https://app.test:" + port + "/", Binary: chrome, Stdout: &dom,
		ExtraArgs: []string{"--headless", "--disable-gpu", "--disable-quic", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--disable-features=HttpsUpgrades",
			"--virtual-time-budget=5000", "--no-sandbox", "--dump-dom"},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-time.After(90 * time.Second):
		b.Stop()
		t.Fatal("headless Chromium did not finish in 90s")
	}
	if !strings.Contains(dom.String(), appBody) {
		t.Fatalf("page content not in the DOM:\n%s\nchromium stderr:\n%s", dom.String(), b.Stderr())
	}
	if fileExists(b.Profile()) {
		t.Error("profile left behind")
	}
}

func needCertutilBin(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil not found: install Debian package libnss3-tools")
	}
}

// chromiumWithoutDisplay is what Debian's Chromium writes when it starts
// without a display: D-Bus noise first, the reason after.
const chromiumWithoutDisplay = `/usr/bin/chromium: 9: [: 25276157952: unexpected operator
[10164:10209:1208/000443.174072:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory
[10164:10209:1208/000443.174186:ERROR:dbus/bus.cc:405] Failed to connect to the bus: Could not parse server address: Unknown address type (examples of valid types are "tcp" and on UNIX "unix")
[10164:10164:1208/000443.264339:ERROR:ui/ozone/platform/x11/ozone_platform_x11.cc:257] Missing X server or $DISPLAY
[10164:10164:1208/000443.264396:ERROR:ui/aura/env.cc:253] The platform failed to initialize.  Exiting.
[10199:10199:0100/000000.514544:ERROR:content/zygote/zygote_linux.cc:662] write: Broken pipe (32)
`

func TestWhyExited(t *testing.T) {
	for _, tc := range []struct{ stderr, want string }{
		{chromiumWithoutDisplay, "Missing X server or $DISPLAY"},
		{"[1:1:1208/000439.900573:ERROR:content/browser/zygote_host/zygote_host_impl_linux.cc:103] Running as root without --no-sandbox is not supported. See https://crbug.com/638180.\n",
			"Running as root without --no-sandbox is not supported. See https://crbug.com/638180."},
		{"[1:1:1208/000443.1:ERROR:dbus/bus.cc:405] Failed to connect to the bus\nsomething else broke\n", "something else broke"},
		{"", "it said nothing on its standard error"},
	} {
		if got := whyExited(tc.stderr); got != tc.want {
			t.Errorf("whyExited(%q) = %q, want %q", tc.stderr, got, tc.want)
		}
	}
}

// failingChromium puts a "chromium" on PATH that writes stderr and exits 1
// at once, as Chromium does without a display.
func failingChromium(t *testing.T, stderr string) string {
	t.Helper()
	dir := t.TempDir()
	msg := filepath.Join(dir, "stderr")
	if err := os.WriteFile(msg, []byte(stderr), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chromium"), []byte("#!/bin/sh\ncat "+msg+" >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserKeyWaitsForAnEarlyExit: B says why a browser that cannot
// start exited (the display, not the D-Bus noise before it) and what to do,
// instead of "browser started"; a browser that runs is reported started.
func TestBrowserKeyWaitsForAnEarlyExit(t *testing.T) {
	ca := newTestCA(t)
	proxy, err := mitm.New(mitm.Options{Store: flowstore.NewStore(0), CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	proxy.Bind(ln)
	t.Run("no display", func(t *testing.T) {
		t.Setenv("PATH", failingChromium(t, chromiumWithoutDisplay)+string(os.PathListSeparator)+os.Getenv("PATH"))
		lg := flowstore.NewEventLog(10)
		b := &browsers{ctx: context.Background(), proxy: proxy, ca: ca, log: lg}
		defer b.close()
		text, err := b.launch(context.Background())
		if err == nil || !strings.Contains(err.Error(), "exited (exit status 1) at once: Missing X server or $DISPLAY") {
			t.Fatalf("launch = %q, %v", text, err)
		}
		es := lg.Entries()
		if len(es) != 1 {
			t.Fatalf("event log: %v", es)
		}
		for _, want := range []string{"DISPLAY or WAYLAND_DISPLAY", "chromium --headless=new", "--ignore-certificate-errors-spki-list=" + ca.SPKIHash(), browserStartURL, "--confdir " + truststore.ShellQuote(absDir(ca.Dir))} {
			if !strings.Contains(es[0].Msg, want) {
				t.Errorf("the advice lacks %q: %s", want, es[0].Msg)
			}
		}
	})
	t.Run("slower than the wait", func(t *testing.T) {
		dir := failingChromium(t, chromiumWithoutDisplay)
		script := filepath.Join(dir, "chromium")
		body, _ := os.ReadFile(script)
		os.WriteFile(script, []byte(strings.Replace(string(body), "#!/bin/sh\n", "#!/bin/sh\nsleep 0.3\n", 1)), 0o755)
		t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		old := earlyExit
		earlyExit = 10 * time.Millisecond
		defer func() { earlyExit = old }()
		lg := flowstore.NewEventLog(10)
		b := &browsers{ctx: context.Background(), proxy: proxy, ca: ca, log: lg}
		text, err := b.launch(context.Background())
		if err != nil || !strings.HasPrefix(text, "browser started") {
			t.Fatalf("launch = %q, %v", text, err)
		}
		defer b.close()
		var es []flowstore.LogEntry
		waitFor(t, func() bool { es = lg.Entries(); return len(es) > 0 })
		if len(es) != 1 || es[0].Level != flowstore.LevelError || !regexp.MustCompile(`exited \(exit status 1\) after [\d.]+m?s: Missing X server or \$DISPLAY\. It needs a display`).MatchString(es[0].Msg) {
			t.Fatalf("event log: %+v", es)
		}
	})
	t.Run("runs", func(t *testing.T) {
		fakeChromium(t, true)
		b := &browsers{ctx: context.Background(), proxy: proxy, ca: ca, log: flowstore.NewEventLog(10)}
		defer b.close()
		text, err := b.launch(context.Background())
		if err != nil || !strings.HasPrefix(text, "browser started (pid ") {
			t.Fatalf("launch = %q, %v", text, err)
		}
	})
}
