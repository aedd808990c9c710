package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowfile"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// confDir resolves --confdir, then $INTERCEPTOR_TUI_HOME, then the default.
func confDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	return certs.DefaultDir()
}

func loadCA(dir string, stderr io.Writer) (*certs.CA, error) {
	ca, created, err := certs.LoadOrCreate(dir)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(stderr, "interceptor-tui: created a new CA in %s\n", dir)
		fmt.Fprintf(stderr, "  trust it: interceptor-tui ca install --nss %s, or visit http://interceptor.tui/ through the proxy\n", confFlag(dir))
	}
	return ca, nil
}

func readPEMCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--upstream-ca: %w", err)
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("--upstream-ca %s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--upstream-ca %s: no PEM certificate in the file", path)
	}
	return out, nil
}

// readFlowFile reads a flows file, reporting damaged parts and every
// value that was repaired or refused to the log (stderr in headless mode,
// the event log in the TUI), and then how many flows it kept.
func readFlowFile(path string, log *flowstore.EventLog) ([]*flowstore.Flow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	flows, warns, err := flowfile.Load(f) // JSON lines or HAR, told apart by content
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, w := range warns {
		log.Add(flowstore.LevelWarn, "load", "", path+": "+w.String())
	}
	if len(warns) > 0 {
		log.Add(flowstore.LevelWarn, "load", "", fmt.Sprintf("%s: %d flows read, with %d problems (above)", path, len(flows), len(warns)))
	}
	now := time.Now()
	for _, fl := range flows {
		// Nothing will finish a flow that was in flight when it was saved.
		if !fl.State.Final() && fl.State != flowstore.StateDraft {
			fl.Fail(fl.Paused, "was still in progress when it was saved", now)
		}
	}
	return flows, nil
}

// loadFlows reads --load files into the store.
func loadFlows(store *flowstore.Store, paths []string, log *flowstore.EventLog) error {
	for _, path := range paths {
		flows, err := readFlowFile(path, log)
		if err != nil {
			return fmt.Errorf("--load: %w", err)
		}
		store.AddAll(flows)
		// Drafts (unsent requests, kept by JSON lines) are not flows until
		// sent: counted apart, as nothing prints them.
		drafts := 0
		for _, f := range flows {
			if f.State == flowstore.StateDraft {
				drafts++
			}
		}
		msg := fmt.Sprintf("%s: loaded %d flows", path, len(flows)-drafts)
		if drafts > 0 {
			msg += fmt.Sprintf(" and %d unsent draft(s)", drafts)
		}
		log.Add(flowstore.LevelInfo, "load", "", msg)
	}
	return nil
}

// configureIntercept turns the --intercept flags into breakpoints.
func configureIntercept(proxy *mitm.Proxy, cfg *config) error {
	var bps []mitm.Breakpoint
	add := func(exprs []string, req, resp bool) {
		for _, e := range exprs {
			bps = append(bps, mitm.Breakpoint{Filter: e, Request: req, Response: resp})
		}
	}
	add(cfg.intercept, true, true)
	add(cfg.interceptRequest, true, false)
	add(cfg.interceptResponse, false, true)
	if err := proxy.SetBreakpoints(bps); err != nil {
		return fmt.Errorf("--intercept: %w", err)
	}
	proxy.SetInterceptTimeout(cfg.interceptTimeout)
	return nil
}

func runProxy(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	if !cfg.headless {
		if err := needTerminal(stdout); err != nil {
			return err
		}
	}
	dir, err := confDir(cfg.confdir)
	if err != nil {
		return err
	}
	ca, err := loadCA(dir, stderr)
	if err != nil {
		return err
	}
	var roots []*x509.Certificate
	for _, path := range cfg.upstreamCA {
		cs, err := readPEMCerts(path)
		if err != nil {
			return err
		}
		roots = append(roots, cs...)
	}
	flt, err := filter.Parse(cfg.filter)
	if err != nil {
		return fmt.Errorf("--filter %q: %w", cfg.filter, err)
	}

	store := flowstore.NewStore(cfg.maxFlows)
	evlog := flowstore.NewEventLog(5000)
	if cfg.memoryBudget > 0 {
		if err := enableSpool(store, cfg, evlog); err != nil {
			return err
		}
		defer store.Close()
	}
	if cfg.headless {
		// Headless, the event log is stderr.
		var mu sync.Mutex
		evlog.Tee(func(e flowstore.LogEntry) {
			if e.Level < flowstore.LevelInfo {
				return
			}
			mu.Lock()
			fmt.Fprintln(stderr, e.String())
			mu.Unlock()
		})
	}

	if err := checkExposure(cfg, stderr); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// With a memory budget most flows are packed, byte slices the
		// collector does not look into, so a cycle is cheap and fewer of
		// them save CPU on every request; the budget's memory limit still
		// bounds the heap. 50 000 small flows: 110 MiB RSS at 150, 87 MiB
		// at 70 (proxybench --only flows).
		debug.SetGCPercent(150)
	}
	if cfg.cpuProfile != "" {
		pf, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.listen, err)
	}
	proxy, err := mitm.New(mitm.Options{
		Store:           store,
		Log:             evlog,
		CA:              ca,
		BodyLimit:       cfg.bodyLimit,
		IgnoreHosts:     cfg.ignoreHosts,
		UpstreamRoots:   roots,
		SSLInsecure:     cfg.sslInsecure,
		DisableHTTP2:    cfg.noHTTP2,
		ResponseTimeout: cfg.responseWait,
		HeaderTimeout:   cfg.headerTimeout,
		IdleTimeout:     cfg.idleTimeout,
		MaxHeadBytes:    int(cfg.maxHeadSize),
		MaxHeaderLines:  cfg.maxHeaderLines,
		ProxyAuth:       cfg.proxyAuth,
		LocalPages:      installPage(ca),
	})
	if err != nil {
		ln.Close()
		return err
	}
	proxy.Bind(ln) // the TUI shows the address from its first frame
	if err := configureIntercept(proxy, cfg); err != nil {
		ln.Close()
		return err
	}
	var scripts *scripting.Engine
	if len(cfg.scripts) > 0 {
		set, err := scripting.ParseSet(cfg.set)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--set: %w", err)
		}
		scripts, err = scripting.New(scripting.Options{Paths: cfg.scripts, Set: set, Log: evlog, BodyLimit: cfg.bodyLimit})
		if err != nil {
			ln.Close()
			return err // file:line: message
		}
		defer scripts.Close()
		if err := proxy.AddHook(scripts); err != nil {
			ln.Close()
			return err
		}
	}
	if len(cfg.serverReplay) > 0 {
		var recorded []*flowstore.Flow
		for _, path := range cfg.serverReplay {
			fs, err := readFlowFile(path, evlog)
			if err != nil {
				ln.Close()
				return fmt.Errorf("--server-replay: %w", err)
			}
			recorded = append(recorded, fs...)
		}
		sr := mitm.NewServerReplay(recorded, mitm.ServerReplayOptions{
			Strict: cfg.serverReplayStrict, IgnoreHost: cfg.serverReplayNoHost,
			IgnoreQuery: cfg.serverReplayNoQuery, IgnoreParams: cfg.serverReplayIgnore,
		})
		_ = proxy.AddHook(sr)
		evlog.Add(flowstore.LevelInfo, "replay", "", fmt.Sprintf("server replay: %d recorded requests", sr.Len()))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.har != "" {
		// Deferred before the wait below, so it runs after every writer is done.
		defer func() {
			if n, err := writeHAR(cfg.har, store.Each); err != nil {
				fmt.Fprintln(stderr, "interceptor-tui: --har:", err)
			} else {
				fmt.Fprintf(stderr, "interceptor-tui: wrote %d flows to %s\n", n, cfg.har)
			}
		}()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	// The printer and the saver outlive the proxy a moment: flows cut off
	// by the shutdown end just after it, and are printed and saved too.
	followCtx, stopFollowers := context.WithCancel(context.Background())
	defer func() {
		settle(store, proxy, time.Second)
		stopFollowers()
	}()

	if cfg.headless {
		out := bufio.NewWriter(stdout)
		sub := store.SubscribeTo(flowstore.EventFinished)
		sub.Lost = func(n int) {
			evlog.Add(flowstore.LevelWarn, "headless", "", fmt.Sprintf("%d finished flows were not printed: whoever reads the output fell too far behind (they are still in the store)", n))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var line []byte
			sub.FollowEvery(followCtx, 20*time.Millisecond, func(batch []*flowstore.Flow) {
				for _, f := range batch {
					if flt.Match(f) {
						line = append(flowstore.AppendLine(line[:0], f), '\n')
						_, _ = out.Write(line)
					}
				}
				// Flush per batch: whoever reads our stdout sees each line
				// within moments, with one write for many flows.
				_ = out.Flush()
			})
		}()
	}
	// Loaded flows are shown but not saved again, so the saver subscribes after.
	if err := loadFlows(store, cfg.load, evlog); err != nil {
		ln.Close()
		return err
	}
	// Standing mocks travel with the flows that carry them.
	var carriers []*flowstore.Flow
	store.Each(func(f *flowstore.Flow) bool {
		if f.Mock != nil {
			carriers = append(carriers, f)
		}
		return true
	})
	if mocks := flowstore.MocksFrom(carriers); len(mocks) > 0 {
		if err := proxy.SetMocks(mocks); err != nil {
			evlog.Add(flowstore.LevelWarn, "load", "", "standing mocks: "+err.Error())
		} else {
			evlog.Add(flowstore.LevelInfo, "load", "", fmt.Sprintf("%d standing mock(s) loaded", len(mocks)))
		}
	}
	var sf *os.File
	if cfg.save != "" {
		var err error
		sf, err = os.OpenFile(cfg.save, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			// Capture matters more than the file: say so loudly, keep going.
			evlog.Add(flowstore.LevelError, "save", "", fmt.Sprintf("cannot open %s for saving (%v); flows are kept in memory only", cfg.save, err))
			sf = nil
		}
	}
	if sf != nil {
		saver := flowstore.NewSaver(sf)
		sub := store.SubscribeTo(flowstore.EventFinished)
		sub.Lost = func(n int) {
			evlog.Add(flowstore.LevelError, "save", "", fmt.Sprintf("%d finished flows were not saved to %s: writing fell too far behind (they are still in the store; export them with the TUI or --har)", n, cfg.save))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sf.Close() // after the last drain
			failing := false
			sub.Follow(followCtx, func(batch []*flowstore.Flow) {
				for _, f := range batch {
					if !flt.Match(f) {
						continue
					}
					if err := saver.Save(f); err != nil {
						if !failing {
							evlog.Add(flowstore.LevelError, "save", f.ID, fmt.Sprintf("cannot write %s: %v; flows stay in memory", cfg.save, err))
						}
						failing = true
						continue
					}
					if failing {
						evlog.Add(flowstore.LevelInfo, "save", "", "writing "+cfg.save+" works again")
						failing = false
					}
				}
			})
		}()
	}

	if scripts != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scripts.Watch(ctx)
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- proxy.Serve(ctx, ln) }()
	evlog.Add(flowstore.LevelInfo, "proxy", "", "listening on "+ln.Addr().String())

	if cfg.headless {
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			cancel()
			return err
		}
		cancel()
		return <-serveErr
	}
	err = runTUI(ctx, cfg, dir, store, evlog, proxy, ca, flt)
	cancel()
	if serr := <-serveErr; serr != nil && !errors.Is(serr, context.Canceled) && err == nil {
		err = serr
	}
	return err
}

// settle waits, at most limit, until no flow is still in progress, in the
// store or not yet given to it: once the proxy has stopped, the flows it
// cut off end quickly.
func settle(store *flowstore.Store, proxy *mitm.Proxy, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		busy := proxy.Unshown() > 0
		for _, s := range store.Summaries() {
			if !s.State.Final() && s.State != flowstore.StateDraft {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// enableSpool bounds the memory flows take: past the budget's share, the
// oldest finished flows move to a spool on disk. The Go runtime gets the
// budget as its soft memory limit too, so the collector works harder near
// it instead of letting garbage carry the process over.
func enableSpool(store *flowstore.Store, cfg *config, evlog *flowstore.EventLog) error {
	parent := cfg.spoolDir
	if parent == "" {
		// Not /tmp: on many systems it is a tmpfs, which is memory again.
		if cache, err := os.UserCacheDir(); err == nil {
			parent = filepath.Join(cache, "interceptor-tui")
		}
	}
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return fmt.Errorf("--spool-dir: %w", err)
		}
	}
	err := store.EnableSpool(flowstore.SpoolConfig{
		Dir: parent, Memory: cfg.memoryBudget, Disk: cfg.diskBudget,
		Notify: func(msg string) { evlog.Add(flowstore.LevelWarn, "spool", "", msg) },
	})
	if err != nil {
		return fmt.Errorf("--memory-budget: %w", err)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A tenth below the budget: the collector lets the heap reach its
		// limit before it works hard, and the process carries some memory
		// beyond the heap.
		debug.SetMemoryLimit(cfg.memoryBudget * 9 / 10)
	}
	return nil
}

// writeHAR writes flows to path as HAR 1.2, through a temporary file so a
// failure never leaves half a file behind, and says how many it wrote
// (drafts are left out).
func writeHAR(path string, flows iter.Seq[*flowstore.Flow]) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".interceptor-tui-*.har")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriter(tmp)
	n := 0
	held := func(yield func(*flowstore.Flow) bool) {
		for f := range flows {
			if har.Holds(f) {
				n++
			}
			if !yield(f) {
				return
			}
		}
	}
	if err := har.WriteSeq(bw, held, har.Creator{Name: "interceptor-tui", Version: version}); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), path)
}

// checkExposure refuses to listen beyond loopback without credentials: a
// debugging proxy open to the network lets anyone use it and read what it
// captures, and hands them a CA that the user's machine trusts.
func checkExposure(cfg *config, stderr io.Writer) error {
	host, _, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", cfg.listen, err)
	}
	if isLoopback(host) {
		return nil
	}
	switch {
	case cfg.proxyAuth != "":
		return nil
	case cfg.allowRemote:
		fmt.Fprintf(stderr, "interceptor-tui: warning: listening on %s without --proxyauth: anyone who can reach this port can use the proxy and read the traffic it captures\n", cfg.listen)
		return nil
	}
	return fmt.Errorf("--listen %s reaches beyond this machine; anyone who can connect could use the proxy and read what it captures. "+
		"Add --proxyauth user:pass (clients then need the credentials), or --allow-remote if you really mean it", cfg.listen)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
