package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare-goproxy" {
		os.Exit(runBare(os.Args[2:], os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "relay" {
		os.Exit(runRelay(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the command line.
type config struct {
	duration  time.Duration
	warmup    time.Duration
	conns     int
	scenarios []string
	origins   []string    // origin kinds the HTTPS scenarios run against
	cases     []benchCase // scenarios crossed with origin kinds, in the order run
	dropped   []string    // scenarios no selected origin kind can serve, and why
	proxies   []string
	pin       bool
	binary    string
	baseline  string
	jsonFile  string
	flows     int
	download  int64
	bareClose bool
	profiles  string
	repeat    int
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{download: 1 << 30}
	fs := flag.NewFlagSet("proxybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each timed scenario runs per proxy")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured load before each timed keep-alive scenario")
	fs.IntVar(&cfg.conns, "conns", 32, "concurrent clients (workers): keep-alive connections, or streams on one connection in the h2 scenario")
	only := fs.String("only", strings.Join(allScenarios, ","), "comma-separated `scenarios` to run")
	origins := fs.String("origin", "both", "`kind` of origin the HTTPS scenarios run against: h1 (ALPN http/1.1 only), h2 (ALPN h2,http/1.1) or both, each scenario once per kind (h2 runs against h2 only, http against plain HTTP/1.1 always)")
	proxies := fs.String("proxies", strings.Join(slices.DeleteFunc(slices.Clone(allProxies), func(p string) bool { return p == proxyBaseline }), ","), "comma-separated `proxies` to measure (baseline: the build --baseline names)")
	fs.BoolVar(&cfg.pin, "pin", false, "start every proxy under `taskset -c 0` (run proxybench itself under `taskset -c 1`)")
	fs.StringVar(&cfg.binary, "binary", "", "interceptor-tui `binary` to measure (default: go build one into a temp directory)")
	fs.StringVar(&cfg.baseline, "baseline", "", "another interceptor-tui `binary` (an older build, say) to measure alongside, interleaved round by round; adds the baseline proxy (with --profile it is asked for --cpuprofile too)")
	fs.StringVar(&cfg.jsonFile, "json", "", "also write the results as JSON to `file` (- for stdout)")
	fs.IntVar(&cfg.flows, "flows", 50000, "requests in the flows scenario")
	fs.IntVar(&cfg.repeat, "repeat", 1, "measure each scenario and proxy `N` times, interleaved, and keep the one least disturbed by other processes")
	fs.StringVar(&cfg.profiles, "profile", "", "write a CPU profile of each bare goproxy and interceptor-tui run into `directory` (PROXY-SCENARIO-ORIGIN-N.prof), to see where the difference goes")
	fs.BoolVar(&cfg.bareClose, "bare-forward-close", false, "let the bare goproxy close its upstream connection when the client sends Connection: close, as stock goproxy does")
	fs.Var(sizeValue{&cfg.download}, "download", "body `size` of the download scenario (1GiB, 256MiB, ...)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: proxybench [flags]\n       proxybench bare-goproxy --listen ADDR --ca-dir DIR [--upstream-ca FILE]\n\n")
		fmt.Fprintf(stderr, "Scenarios: %s. Origin kinds: %s. Proxies: %s.\n\nFlags:\n", strings.Join(allScenarios, ", "), strings.Join(allOrigins, ", "), strings.Join(allProxies, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.scenarios, err = pickList(*only, allScenarios, "scenario"); err != nil {
		return nil, err
	}
	if *origins == "both" {
		*origins = strings.Join(allOrigins, ",")
	}
	if cfg.origins, err = pickList(*origins, allOrigins, "origin kind"); err != nil {
		return nil, err
	}
	if cfg.cases, cfg.dropped = planCases(cfg.scenarios, cfg.origins); len(cfg.cases) == 0 {
		return nil, fmt.Errorf("nothing to run: %s", strings.Join(cfg.dropped, "; "))
	}
	if cfg.proxies, err = pickList(*proxies, allProxies, "proxy"); err != nil {
		return nil, err
	}
	switch {
	case cfg.baseline != "" && !has(cfg.proxies, proxyBaseline):
		if cfg.proxies, err = pickList(strings.Join(append(cfg.proxies, proxyBaseline), ","), allProxies, "proxy"); err != nil {
			return nil, err
		}
	case cfg.baseline == "" && has(cfg.proxies, proxyBaseline):
		return nil, errors.New("the baseline proxy needs --baseline BINARY")
	}
	// exec looks a bare name up in PATH: "--binary interceptor-tui" means this one.
	for _, p := range []*string{&cfg.binary, &cfg.baseline} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	if cfg.conns < 1 || cfg.duration <= 0 || cfg.flows < 1 || cfg.download < 1 || cfg.repeat < 1 {
		return nil, errors.New("--conns, --duration, --flows, --download and --repeat must be positive")
	}
	return cfg, nil
}

// pickList parses a comma-separated subset of known, returned in known's order.
func pickList(s string, known []string, what string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ok := false
		for _, k := range known {
			ok = ok || k == f
		}
		if !ok {
			return nil, fmt.Errorf("unknown %s %q (known: %s)", what, f, strings.Join(known, ", "))
		}
		want[f] = true
	}
	var out []string
	for _, k := range known {
		if want[k] {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s selected", what)
	}
	return out, nil
}

// sizeValue is a byte count flag: 1GiB, 256MiB, 64k, 1000; a bench of
// nothing measures nothing, so zero is refused.
type sizeValue struct{ n *int64 }

func (s sizeValue) String() string {
	if s.n == nil {
		return ""
	}
	return flowstore.FormatSizeExact(*s.n)
}

func (s sizeValue) Set(v string) error {
	n, err := flowstore.ParseSize(v)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%q: the size must be more than zero", v)
	}
	*s.n = n
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "proxybench:", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	tmp, err := os.MkdirTemp("", "proxybench-")
	if err != nil {
		fmt.Fprintln(stderr, "proxybench:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	env := &benchEnv{tmp: tmp, bareClose: cfg.bareClose, profiles: cfg.profiles}

	// Ctrl-C: stop the load, kill the proxies, print what was measured.
	// A second one kills proxybench outright (the proxies die with it).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintln(stderr, "proxybench: interrupted, stopping the proxies")
		signal.Stop(sig)
		cancel()
		env.killAll()
	}()
	defer signal.Stop(sig)

	if cfg.pin {
		if _, err := exec.LookPath("taskset"); err != nil {
			fmt.Fprintln(stderr, "proxybench: --pin needs taskset (Debian package util-linux)")
			return 2
		}
		env.pin = true
		if cpus, err := ownCPUs(); err == nil && cpuListHas(cpus, 0) {
			fmt.Fprintf(stderr, "proxybench: warning: proxies are pinned to CPU 0 but proxybench may run on CPUs %s;\n  run it as `taskset -c 1 proxybench --pin ...` so client and origin stay off the proxy's core\n", cpus)
		}
	}
	if env.self, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "proxybench:", err)
		return 1
	}
	skip := map[string]string{}
	if has(cfg.proxies, proxyMitmdump) {
		if env.mitmdump, err = exec.LookPath("mitmdump"); err != nil {
			skip[proxyMitmdump] = "mitmdump not on PATH (install Debian package mitmproxy)"
			fmt.Fprintln(stderr, "proxybench: skipping mitmdump: not on PATH (install Debian package mitmproxy)")
		}
	}
	builtFrom := checkout(cfg)
	if has(cfg.proxies, proxyOurs) {
		if cfg.binary != "" {
			env.binary = cfg.binary
		} else {
			env.binary = filepath.Join(tmp, "interceptor-tui")
			fmt.Fprintln(stderr, "proxybench: building interceptor-tui")
			cmd := exec.CommandContext(ctx, "go", "build", "-o", env.binary, "github.com/interceptor-tui/interceptor-tui/cmd/interceptor-tui")
			cmd.Stdout, cmd.Stderr = stderr, stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(stderr, "proxybench: go build interceptor-tui: %v (run from the repository, or pass --binary)\n", err)
				return 1
			}
		}
	}

	env.baseline = cfg.baseline

	org, err := startOrigin(tmp, cfg.download)
	if err != nil {
		fmt.Fprintln(stderr, "proxybench:", err)
		return 1
	}
	defer org.close()
	env.originCA = org.caFile

	for _, d := range cfg.dropped {
		fmt.Fprintln(stderr, "proxybench: skipping scenario", d)
	}
	b := &bench{cfg: cfg, env: env, origin: org}
	rs := results{}
	started := time.Now()
	for _, c := range cfg.cases {
		for rep := 0; rep < cfg.repeat; rep++ {
			for _, px := range cfg.proxies {
				if ctx.Err() != nil {
					break
				}
				var r *result
				if why, ok := skip[px]; ok {
					r = b.newResult(c, px)
					r.Skipped = why
				} else {
					r = b.measure(ctx, c, px)
				}
				r.Repeats = cfg.repeat
				progress(stderr, r)
				old := rs[c][px]
				var rounds []*result
				if old != nil {
					rounds = old.rounds
				}
				if old == nil || better(r, old) {
					rs.add(r)
				}
				rs[c][px].rounds = append(rounds, r)
			}
		}
	}
	interrupted := ctx.Err() != nil

	built := "interceptor-tui"
	if cfg.binary != "" {
		built = cfg.binary
	}
	meta := runMeta(cfg, args, time.Since(started), env.mitmdump, built)
	meta.Checkout = builtFrom
	fmt.Fprintln(stdout, meta.markdown())
	writeResults(stdout, rs, cfg.cases, cfg.proxies)
	fmt.Fprintln(stdout)
	writeRatios(stdout, rs, cfg.cases)
	fmt.Fprintln(stdout)
	targets := evalTargets(rs)
	writeTargets(stdout, targets)
	notes(stdout, rs, cfg.cases, cfg.proxies)

	if cfg.jsonFile != "" {
		if err := writeJSON(cfg.jsonFile, stdout, meta, rs, cfg, targets); err != nil {
			fmt.Fprintln(stderr, "proxybench:", err)
			return 1
		}
	}
	if interrupted {
		return 130
	}
	return 0
}

// better tells whether repetition a should be kept over b: one with
// numbers over one without, then the one other processes disturbed least
// (by more than 2 points of the machine's CPU), then the faster.
func better(a, b *result) bool {
	if (a.Requests > 0) != (b.Requests > 0) {
		return a.Requests > 0
	}
	if d := a.OtherCPU - b.OtherCPU; d < -2 || d > 2 {
		return d < 0
	}
	if a.Scenario == scDownload {
		return a.MiBps > b.MiBps
	}
	return a.Rate > b.Rate
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func progress(w io.Writer, r *result) {
	switch {
	case r.Skipped != "":
		fmt.Fprintf(w, "  %-10s %-5s %-15s skipped: %s\n", r.Scenario, r.Origin, r.Proxy, r.Skipped)
		return
	case r.Requests == 0:
		fmt.Fprintf(w, "  %-10s %-5s %-15s FAILED: %s\n", r.Scenario, r.Origin, r.Proxy, r.FirstError)
		return
	}
	fmt.Fprintf(w, "  %-10s %-5s %-15s %8.0f/s  p50 %.3f ms  p99 %.3f ms", r.Scenario, r.Origin, r.Proxy, r.Rate, r.P50, r.P99)
	if r.Scenario == scDownload {
		fmt.Fprintf(w, "  %.0f MiB/s", r.MiBps)
	}
	if r.PeakKiB > 0 {
		fmt.Fprintf(w, "  RSS %s MiB, peak %s MiB", fmtMiB(r.RSSKiB), fmtMiB(r.PeakKiB))
	}
	if r.Upstream != "" {
		fmt.Fprintf(w, "  upstream %s", r.Upstream)
	}
	if r.OtherCPU >= 0 {
		fmt.Fprintf(w, "  other CPU %.0f%%", r.OtherCPU)
	}
	if r.Errors > 0 {
		fmt.Fprintf(w, "  %d errors (first: %s)", r.Errors, r.FirstError)
	}
	fmt.Fprintln(w)
}

// disturbed is the share of the machine's CPU other processes may use
// during a measurement before the report flags it.
const disturbed = 10

// notes lists what the table cannot hold: errors, flows counted.
func notes(w io.Writer, rs results, cases []benchCase, proxies []string) {
	var lines []string
	for _, c := range cases {
		sc := c.Scenario + " (" + c.Origin + " origin)"
		for _, px := range proxies {
			r := rs[c][px]
			if r == nil {
				continue
			}
			if r.Errors > 0 || (r.Requests == 0 && r.Skipped == "") {
				lines = append(lines, fmt.Sprintf("- %s / %s: %d errors, first: %s", sc, px, r.Errors, r.FirstError))
			}
			if r.OtherCPU >= disturbed {
				lines = append(lines, fmt.Sprintf("- %s / %s: disturbed: other processes used %.0f%% of the machine's CPU meanwhile", sc, px, r.OtherCPU))
			}
			if isOurs(px) && r.Flows > 0 {
				lines = append(lines, fmt.Sprintf("- %s / %s printed %d flow lines for %d requests made, warm-up included (counted when the load stopped)", sc, px, r.Flows, r.Made))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Notes:")
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}
