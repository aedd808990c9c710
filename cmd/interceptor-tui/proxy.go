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
	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
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
	ca, err := openCA(cfg.confdir, stderr)
	if err != nil {
		return err
	}
	roots, err := readUpstreamCAs(cfg.upstreamCA)
	if err != nil {
		return err
	}
	flt, err := filter.Parse(cfg.filter)
	if err != nil {
		return fmt.Errorf("--filter %q: %w", cfg.filter, err)
	}
	store, evlog := flowstore.NewStore(cfg.maxFlows), flowstore.NewEventLog(5000)
	if err := enableSpool(store, cfg, evlog); err != nil {
		return err
	}
	defer store.Close() // the spool's; nothing without one
	if cfg.headless {
		evlog.PrintTo(stderr, flowstore.LevelInfo) // headless, the event log is stderr
	}
	if err := checkExposure(cfg, stderr); err != nil {
		return err
	}
	stopProfile, err := tuneRuntime(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	lns, err := listen(cfg)
	if err != nil {
		return err
	}
	defer closeAll(lns) // for a return before serving, which closes them itself
	proxy, scripts, err := newProxy(cfg, lns, store, evlog, ca, roots)
	if err != nil {
		return err
	}
	if scripts != nil {
		defer scripts.Close()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.har != "" {
		defer saveHAR(cfg.har, store, stderr) // before the wait below, so it runs after every writer is done
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	// The printer and the saver outlive the proxy a moment: flows cut off
	// by the shutdown end just after it, and are printed and saved too.
	followCtx, stopFollowers := context.WithCancel(context.Background())
	defer func() { settle(store, proxy, time.Second); stopFollowers() }()
	if cfg.headless {
		p := flowstore.NewPrinter(store, stdout, flt.Match, evlog)
		wg.Go(func() { p.Run(followCtx) })
	}
	// Loaded flows are shown but not saved again, so the saver subscribes after.
	if err := loadFlows(store, cfg.load, evlog); err != nil {
		return err
	}
	rules.Restore(store, proxy.RestoreRules, evlog) // the rules the loaded flows carry, standing mocks among them
	ruleFiles, err := addRules(proxy, cfg, evlog)
	if err != nil {
		return err
	}
	if cfg.save != "" {
		s := flowstore.OpenFileSaver(store, cfg.save, flt.Match, evlog)
		wg.Go(func() { s.Run(followCtx) })
	}
	if scripts != nil {
		wg.Go(func() { scripts.Watch(ctx) })
	}
	wg.Go(func() { ruleFiles.Watch(ctx) })
	ui := func(ctx context.Context) error { return runTUI(ctx, cfg, ca.Dir, store, evlog, proxy, ca, flt) }
	if cfg.headless {
		ui = nil
	}
	return serve(ctx, cancel, proxy, lns, cfg.modes, evlog, ui)
}

// listen opens a listener for each mode, in the order given.
func listen(cfg *config) ([]net.Listener, error) {
	var lns []net.Listener
	for _, m := range cfg.modes {
		addr := m.ListenAddress(cfg.listen)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll(lns)
			return nil, fmt.Errorf("listen on %s (--mode %s): %w", addr, m.String(), err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

// readUpstreamCAs reads every --upstream-ca file.
func readUpstreamCAs(paths []string) ([]*x509.Certificate, error) {
	var roots []*x509.Certificate
	for _, path := range paths {
		cs, err := readPEMCerts(path)
		if err != nil {
			return nil, err
		}
		roots = append(roots, cs...)
	}
	return roots, nil
}

// tuneRuntime sets the collector's pace for a proxy and starts
// --cpuprofile; stop ends the profile. These are the process's, so main
// sets them, not a package.
func tuneRuntime(cpuProfile string) (stop func(), err error) {
	if os.Getenv("GOGC") == "" {
		// With a memory budget most flows are packed, byte slices the
		// collector does not look into, so a cycle is cheap and fewer of
		// them save CPU on every request; the budget's memory limit still
		// bounds the heap. 50 000 small flows: 110 MiB RSS at 150, 87 MiB
		// at 70 (proxybench --only flows).
		debug.SetGCPercent(150)
	}
	if cpuProfile == "" {
		return func() {}, nil
	}
	pf, err := os.Create(cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}

// newProxy makes the engine the flags describe, bound to ln so that the
// TUI shows the address from its first frame, with its breakpoints, scripts
// (nil without --script) and recorded answers.
func newProxy(cfg *config, lns []net.Listener, store *flowstore.Store, evlog *flowstore.EventLog, ca *certs.CA, roots []*x509.Certificate) (*mitm.Proxy, *scripting.Engine, error) {
	proxy, err := mitm.New(mitm.Options{
		Store:           store,
		Log:             evlog,
		CA:              ca,
		BodyLimit:       cfg.bodyLimit,
		IgnoreHosts:     cfg.ignoreHosts,
		AllowHosts:      cfg.allowHosts,
		UpstreamAuth:    cfg.upstreamAuth,
		KeepHostHeader:  cfg.keepHost,
		ClientCerts:     cfg.clientCerts,
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
		return nil, nil, err
	}
	for _, ln := range lns {
		proxy.Bind(ln) // the TUI shows the first address from its first frame
	}
	if err := configureIntercept(proxy, cfg); err != nil {
		return nil, nil, err
	}
	scripts, err := addScripts(proxy, cfg, evlog) // hooks run in the order added: scripts before replay
	if err != nil {
		return nil, nil, err
	}
	if err := addServerReplay(proxy, cfg, evlog); err != nil {
		if scripts != nil {
			scripts.Close()
		}
		return nil, nil, err
	}
	return proxy, scripts, nil
}

// addRules loads --rules files (a broken one stops the start, with its
// file:line) and mitmproxy's option spellings; the loader it returns
// reloads the files when they change.
func addRules(proxy *mitm.Proxy, cfg *config, evlog *flowstore.EventLog) (*rules.Loader, error) {
	ld := rules.NewLoader(proxy.ReplaceRules, evlog)
	for _, f := range cfg.rules {
		if err := ld.Add(f); err != nil {
			return nil, fmt.Errorf("--rules: %w", err)
		}
	}
	rs, err := rules.FromMitmproxy(rules.MitmproxyOptions{MapRemote: cfg.mapRemote, MapLocal: cfg.mapLocal,
		ModifyHeaders: cfg.modifyHeaders, ModifyBody: cfg.modifyBody})
	if err != nil {
		return nil, err
	}
	if len(rs) > 0 {
		if err := proxy.ReplaceRules(rules.SourceFlags, rs); err != nil {
			return nil, err
		}
	}
	return ld, nil
}

// addScripts loads the --script files and hooks them into the proxy; the
// engine is nil without any.
func addScripts(proxy *mitm.Proxy, cfg *config, evlog *flowstore.EventLog) (*scripting.Engine, error) {
	if len(cfg.scripts) == 0 {
		return nil, nil
	}
	set, err := scripting.ParseSet(cfg.set)
	if err != nil {
		return nil, fmt.Errorf("--set: %w", err)
	}
	scripts, err := scripting.New(scripting.Options{Paths: cfg.scripts, Set: set, Log: evlog, BodyLimit: cfg.bodyLimit})
	if err != nil {
		return nil, err // file:line: message
	}
	if err := proxy.AddHook(scripts); err != nil {
		scripts.Close()
		return nil, err
	}
	return scripts, nil
}

// addServerReplay answers requests from the --server-replay files.
func addServerReplay(proxy *mitm.Proxy, cfg *config, evlog *flowstore.EventLog) error {
	if len(cfg.serverReplay) == 0 {
		return nil
	}
	var recorded []*flowstore.Flow
	for _, path := range cfg.serverReplay {
		fs, err := readFlowFile(path, evlog)
		if err != nil {
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
	return nil
}

// serve runs the proxy on ln, and ui (the TUI) until it returns; with no
// ui (headless), until ctx is done or the proxy fails. Then it stops the
// proxy through cancel and returns the first error.
func serve(ctx context.Context, cancel context.CancelFunc, proxy *mitm.Proxy, lns []net.Listener, modes []mitm.Mode, evlog *flowstore.EventLog, ui func(context.Context) error) error {
	serveErr := make(chan error, len(lns))
	for i, ln := range lns {
		go func() { serveErr <- proxy.ServeMode(ctx, ln, modes[i]) }()
		evlog.Add(flowstore.LevelInfo, "proxy", "", "listening on "+ln.Addr().String()+" ("+modes[i].String()+")")
	}
	var err error
	if ui != nil {
		err = ui(ctx)
	} else {
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			cancel()
			return err
		}
	}
	cancel()
	for range lns {
		if serr := <-serveErr; serr != nil && !errors.Is(serr, context.Canceled) && err == nil {
			err = serr
		}
	}
	return err
}

// saveHAR writes --har when the program ends, and says how it went.
func saveHAR(path string, store *flowstore.Store, stderr io.Writer) {
	if n, err := writeHAR(path, store.Each); err != nil {
		fmt.Fprintln(stderr, "interceptor-tui: --har:", err)
	} else {
		fmt.Fprintf(stderr, "interceptor-tui: wrote %d flows to %s\n", n, path)
	}
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
	if cfg.memoryBudget <= 0 {
		return nil // --memory-budget 0: everything stays in memory
	}
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
	exposed := ""
	for _, m := range cfg.modes {
		addr := m.ListenAddress(cfg.listen)
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("--listen %q: %w", addr, err)
		}
		if !isLoopback(host) {
			exposed = addr
			break
		}
	}
	if exposed == "" {
		return nil
	}
	switch {
	case cfg.proxyAuth != "":
		return nil
	case cfg.allowRemote:
		fmt.Fprintf(stderr, "interceptor-tui: warning: listening on %s without --proxyauth: anyone who can reach this port can use the proxy and read the traffic it captures\n", exposed)
		return nil
	}
	return fmt.Errorf("--listen %s reaches beyond this machine; anyone who can connect could use the proxy and read what it captures. "+
		"Add --proxyauth user:pass (clients then need the credentials), or --allow-remote if you really mean it", exposed)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
