package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

// chromiumNames are the Chromium and Chrome programs tried, in order.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// macOS installs browsers as app bundles, not on PATH.
var chromiumAppPaths = []string{
	"/Applications/Chromium.app/Contents/MacOS/Chromium",
	"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
}

// browserStartURL is the install page: proof at first sight that the
// browser goes through the proxy.
const browserStartURL = "http://" + mitm.LocalHost + "/"

// errNoBrowser: no Chromium or Chrome was found.
var errNoBrowser = errors.New("no Chromium or Chrome found (tried " + strings.Join(chromiumNames, ", ") +
	"): install Debian/Ubuntu package chromium, or pass --browser PATH")

// browserOptions say how to start a browser that goes through the proxy and
// trusts its CA without anything being installed.
type browserOptions struct {
	ProxyAddr string // host:port of the proxy
	SPKI      string // the CA's SPKI hash (certs.CA.SPKIHash)
	URL       string // the first page; empty for the browser's own
	Binary    string // empty: the first of chromiumNames on PATH
	// ExtraArgs go before the URL (tests add --headless and --dump-dom).
	ExtraArgs []string
	// Stdout receives the browser's standard output; nil discards it.
	// Its standard error is kept (the tail) for Stderr: Chromium is
	// chatty there, and the TUI owns the terminal.
	Stdout io.Writer
}

// browserSession is a running browser with a throwaway profile that is
// removed when the browser exits.
type browserSession struct {
	cmd     *exec.Cmd
	profile string
	stop    context.CancelFunc
	stderr  *tailWriter
	done    chan struct{}
	err     error
}

// launchBrowser starts Chromium (or Chrome) with a fresh profile, proxyAddr
// as its proxy for every host including loopback ones, and ca's key
// accepted by SPKI hash, opening url. The TUI's B key calls it with the
// proxy's listen address and browserStartURL; cancelling ctx closes the
// browser. Nothing reaches the terminal. Call Wait before the program exits:
// the profile is removed once the browser is gone.
func launchBrowser(ctx context.Context, proxyAddr string, ca *certs.CA, url string) (*browserSession, error) {
	return startBrowser(ctx, browserOptions{ProxyAddr: proxyAddr, SPKI: ca.SPKIHash(), URL: url})
}

func startBrowser(ctx context.Context, opts browserOptions) (*browserSession, error) {
	bin, err := findBrowser(opts.Binary)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "interceptor-tui-browser-")
	if err != nil {
		return nil, fmt.Errorf("browser profile: %w", err)
	}
	ctx, stop := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin, chromiumArgs(opts, profile, geteuid() == 0)...)
	// SIGTERM lets Chromium close its helper processes; Kill follows if it
	// has not exited a few seconds later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout = opts.Stdout
	b := &browserSession{cmd: cmd, profile: profile, stop: stop, stderr: &tailWriter{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		stop()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		b.err = cmd.Wait()
		stop()
		removeProfile(profile)
		close(b.done)
	}()
	return b, nil
}

// chromiumArgs are the browser's flags. --ignore-certificate-errors-spki-list
// makes Chromium accept certificates from our CA alone; it takes effect
// only together with --user-data-dir. "<-loopback>" removes Chromium's
// implicit bypass, so pages on localhost are captured too.
func chromiumArgs(opts browserOptions, profile string, root bool) []string {
	args := []string{
		"--user-data-dir=" + profile,
		"--proxy-server=http://" + dialableAddr(opts.ProxyAddr),
		"--proxy-bypass-list=<-loopback>",
		"--ignore-certificate-errors-spki-list=" + opts.SPKI,
		"--no-first-run",
		"--no-default-browser-check",
	}
	if root && runtime.GOOS == "linux" {
		args = append(args, "--no-sandbox") // Chromium refuses to start as root otherwise
	}
	args = append(args, opts.ExtraArgs...)
	if opts.URL != "" {
		args = append(args, opts.URL)
	}
	return args
}

// dialableAddr turns a listen address into one a client can reach: an
// empty or unspecified host (":8080", "0.0.0.0:8080") means this machine.
func dialableAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

func findBrowser(explicit string) (string, error) {
	if explicit != "" {
		path, err := exec.LookPath(explicit)
		if err != nil {
			return "", fmt.Errorf("--browser %s: %w", explicit, err)
		}
		return path, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	if runtime.GOOS == "darwin" {
		for _, path := range chromiumAppPaths {
			if _, err := os.Stat(path); err == nil {
				return path, nil
			}
		}
	}
	return "", errNoBrowser
}

// removeProfile retries briefly: Chromium's crash handler can still be
// writing into the profile for a moment after the browser exits.
func removeProfile(dir string) {
	for i := 0; i < 10; i++ {
		if err := os.RemoveAll(dir); err == nil {
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Done is closed once the browser has exited and its profile is removed.
func (b *browserSession) Done() <-chan struct{} { return b.done }

// Wait waits for Done and returns how the browser exited.
func (b *browserSession) Wait() error {
	<-b.done
	return b.err
}

// Stop asks the browser to close (SIGTERM, then Kill after a few seconds).
func (b *browserSession) Stop() { b.stop() }

// Profile is the throwaway profile directory.
func (b *browserSession) Profile() string { return b.profile }

// Pid is the browser's process ID.
func (b *browserSession) Pid() int { return b.cmd.Process.Pid }

// Stderr is the end of what the browser wrote to standard error.
func (b *browserSession) Stderr() string { return b.stderr.String() }

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// runBrowser is `interceptor-tui browser`: the B key from the shell.
func runBrowser(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, confdir := confFlagSet("interceptor-tui browser", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` the proxy listens on")
	bin := fs.String("browser", "", "Chromium or Chrome `program` (default: the first of "+strings.Join(chromiumNames, ", ")+" on PATH)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "Usage: interceptor-tui browser [--listen ADDR] [--browser PROGRAM] [URL]")
		fmt.Fprintln(w, "\nStarts Chromium with a throwaway profile that uses the proxy and trusts its CA,\nwithout installing anything. The profile is removed when the browser closes.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, errHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "interceptor-tui browser:", err)
		return 2
	case len(pos) > 1:
		fmt.Fprintf(stderr, "interceptor-tui browser: unexpected argument %q\n", pos[1])
		return 2
	}
	url := browserStartURL
	if len(pos) == 1 {
		url = pos[0]
	}
	ca, err := openCA(*confdir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "interceptor-tui browser:", err)
		return 1
	}
	addr := dialableAddr(*listen)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err != nil {
		fmt.Fprintf(stderr, "interceptor-tui browser: nothing answers on %s yet; start interceptor-tui there (or pass --listen)\n", addr)
	} else {
		c.Close()
	}
	b, err := startBrowser(ctx, browserOptions{ProxyAddr: addr, SPKI: ca.SPKIHash(), URL: url, Binary: *bin})
	if err != nil {
		fmt.Fprintln(stderr, "interceptor-tui browser:", err)
		return 1
	}
	fmt.Fprintf(stdout, "browser started (pid %d): proxy %s, trusting CA %s…, profile %s\n",
		b.Pid(), addr, ca.FingerprintSHA256()[:23], b.Profile())
	fmt.Fprintln(stdout, "close it (or press Ctrl-C) to end; the profile is removed then")
	err = b.Wait()
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "interceptor-tui browser: the browser exited (%v): %s\n%s", err, whyExited(b.Stderr()), lastLines(b.Stderr(), 10))
		return 1
	}
	fmt.Fprintln(stdout, "browser closed; profile removed")
	return 0
}

// earlyExit is how long B waits for a browser that cannot start (no
// display, a sandbox refused) before saying it started: Chromium gives up
// within a fraction of a second.
var earlyExit = 1500 * time.Millisecond

// exitedWithin waits up to d for the browser to exit and says whether it did.
func (b *browserSession) exitedWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.done:
		return true
	case <-t.C:
		return false
	}
}

// chromiumLogPrefix is Chromium's "[pid:tid:date/time:LEVEL:file.cc:line] ".
var chromiumLogPrefix = regexp.MustCompile(`^\[[0-9:/.]+:(?:[A-Z]+):[^\]]*\] ?`)

// chromiumNoise are lines Chromium writes on every start without a desktop
// session (D-Bus) or on its way out (the zygote's pipes), whatever went
// wrong; the Debian wrapper script's own complaints too.
var chromiumNoise = regexp.MustCompile(`(?i)dbus|failed to connect to the bus|zygote|broken pipe|^/usr/bin/chromium: `)

// displayTrouble marks a reason that a display would cure.
var displayTrouble = regexp.MustCompile(`(?i)x server|\$DISPLAY|cannot open display|wayland|ozone|platform failed to initialize`)

// whyExited is the line of a browser's standard error that says why it
// exited, without Chromium's log prefix: the first that speaks of the
// display or the sandbox, else the first that is not noise, else the last.
func whyExited(stderr string) string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(chromiumLogPrefix.ReplaceAllString(strings.TrimSpace(l), ""))
		if l != "" && !chromiumNoise.MatchString(l) {
			lines = append(lines, l)
		}
	}
	for _, l := range lines {
		if displayTrouble.MatchString(l) || strings.Contains(strings.ToLower(l), "sandbox") {
			return l
		}
	}
	if len(lines) > 0 {
		return lines[0]
	}
	if l := strings.TrimSpace(lastLines(stderr, 1)); l != "" {
		return chromiumLogPrefix.ReplaceAllString(l, "")
	}
	return "it said nothing on its standard error"
}

// earlyExitError says why a browser exited as it started (when: "at
// once", "after 3s"), for the status line, and in full, with everything
// one can do instead, for the log.
func earlyExitError(b *browserSession, opts browserOptions, confdir, when string) (err error, full string) {
	why := whyExited(b.Stderr())
	status := "exited"
	if b.err != nil {
		status = "exited (" + b.err.Error() + ")"
	}
	status += " " + when
	others := fmt.Sprintf("open %s in any browser that uses the proxy (%s) to install the CA (or: interceptor-tui ca install --nss %s)", browserStartURL, dialableAddr(opts.ProxyAddr), confFlag(confdir))
	var flags []string
	for _, a := range chromiumArgs(opts, "", false)[1:4] { // proxy, no bypass, our CA
		flags = append(flags, truststore.ShellQuote(a))
	}
	headless := fmt.Sprintf("run Chromium headless yourself: chromium --headless=new --user-data-dir=$(mktemp -d) %s %s", strings.Join(flags, " "), opts.URL)
	what := fmt.Sprintf("Chromium %s: %s", status, why)
	if displayTrouble.MatchString(why) {
		return fmt.Errorf("%s. It needs a display; E (event log) says what else to do", what),
			what + ". It needs a display: start interceptor-tui in a desktop session (DISPLAY or WAYLAND_DISPLAY set, or ssh -X); or " + headless + "; or " + others
	}
	last := strings.Split(strings.TrimSpace(lastLines(b.Stderr(), 5)), "\n")
	return fmt.Errorf("%s; E (event log) has its last lines", what),
		what + ". Its last lines: " + strings.Join(last, " | ") + ". Instead, " + others
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
