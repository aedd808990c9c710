package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/tui"
)

// The engine as the TUI sees it.
var _ tui.Engine = (*mitm.Proxy)(nil)

func runTUI(ctx context.Context, cfg *config, dir string, store *flowstore.Store, evlog *flowstore.EventLog, proxy *mitm.Proxy, ca *certs.CA, flt *filter.Filter) error {
	b := &browsers{ctx: ctx, proxy: proxy, ca: ca, log: evlog}
	defer b.close()
	return tui.Run(ctx, tui.Options{
		Store:   store,
		Log:     evlog,
		Engine:  proxy,
		ConfDir: dir,
		Filter:  flt.String(),
		CA: &tui.CAInfo{
			CertPath:    ca.CertPath(),
			SHA256:      ca.FingerprintSHA256(),
			InstallPage: browserStartURL,
			Hint:        installHint(runtime.GOOS, ca),
		},
		Browser: b.launch,
		Version: version,
	})
}

// needTerminal fails before anything starts when the TUI would have no
// terminal to draw on and read keys from (a pipe, a service, cron), and
// says what to use instead, rather than Bubble Tea's "could not open a
// new TTY".
func needTerminal(stdout io.Writer) error {
	const instead = "run it in a terminal, or use --headless to print one line per flow (with --save or --har to keep them)"
	// term.IsTerminal, as Bubble Tea decides: /dev/null is a character
	// device too, and no terminal.
	if f, ok := stdout.(*os.File); !ok || !term.IsTerminal(f.Fd()) {
		return errors.New("the interface needs a terminal and standard output is not one; " + instead)
	}
	if runtime.GOOS == "windows" || term.IsTerminal(os.Stdin.Fd()) {
		return nil
	}
	// Keys come from the controlling terminal when standard input is not one.
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("the interface needs a terminal to read keys from and there is none (%v); %s", err, instead)
	}
	tty.Close()
	return nil
}

// browsers are the browsers B started; they close with the program and
// their throwaway profiles are removed before it exits.
type browsers struct {
	ctx   context.Context
	proxy *mitm.Proxy
	ca    *certs.CA
	log   *flowstore.EventLog

	mu       sync.Mutex
	sessions []*browserSession
	closing  bool // close stops them: their exit is no news
}

func (b *browsers) launch(context.Context) (string, error) {
	// The program's context, not the caller's: the browser outlives the key press.
	opts := browserOptions{ProxyAddr: b.proxy.ListenAddr(), SPKI: b.ca.SPKIHash(), URL: browserStartURL}
	s, err := startBrowser(b.ctx, opts)
	if err != nil {
		return "", err
	}
	started := time.Now()
	// A browser that cannot start (no display) exits at once: say so, and
	// why, rather than "started".
	if s.exitedWithin(earlyExit) && b.ctx.Err() == nil {
		err, full := earlyExitError(s, opts, b.ca.Dir, "at once")
		b.log.Add(flowstore.LevelWarn, "browser", "", full)
		return "", err
	}
	b.mu.Lock()
	b.sessions = append(b.sessions, s)
	b.mu.Unlock()
	go func() {
		err := s.Wait()
		msg := "browser closed; its profile is removed"
		level := flowstore.LevelInfo
		b.mu.Lock()
		closing := b.closing
		b.mu.Unlock()
		switch {
		case err == nil || b.ctx.Err() != nil || closing:
		case time.Since(started) < 10*time.Second:
			// It never got going (slower than the wait above, on a busy
			// machine): the same word, as an error that the status line shows.
			_, msg = earlyExitError(s, opts, b.ca.Dir, "after "+flowstore.FormatDuration(time.Since(started).Round(100*time.Millisecond)))
			level = flowstore.LevelError
		default:
			msg = fmt.Sprintf("browser exited: %v: %s", err, whyExited(s.Stderr()))
			level = flowstore.LevelWarn
		}
		b.log.Add(level, "browser", "", msg)
	}()
	return fmt.Sprintf("browser started (pid %d) through %s, trusting our CA; its profile goes when it closes", s.Pid(), dialableAddr(b.proxy.ListenAddr())), nil
}

// close stops every browser and waits for its profile to be removed.
func (b *browsers) close() {
	b.mu.Lock()
	ss := b.sessions
	b.sessions, b.closing = nil, true
	b.mu.Unlock()
	for _, s := range ss {
		s.Stop()
	}
	for _, s := range ss {
		_ = s.Wait()
	}
}
