package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

var errHelp = errors.New("help shown")

// config is everything the flags say.
type config struct {
	listen       string
	modeSpecs    []string
	modes        []mitm.Mode // parsed modeSpecs; regular when none
	upstreamAuth string
	keepHost     bool
	allowHosts   []string
	clientCerts  string
	confdir      string
	headless     bool
	bodyLimit    int64
	ignoreHosts  []string
	upstreamCA   []string
	sslInsecure  bool
	noHTTP2      bool
	maxFlows     int
	memoryBudget int64
	diskBudget   int64
	spoolDir     string
	save         string
	har          string
	load         []string
	filter       string
	responseWait time.Duration

	// Limits on what clients send, the same on the plain listener and in tunnels.
	headerTimeout  time.Duration
	idleTimeout    time.Duration
	maxHeadSize    int64
	maxHeaderLines int

	intercept         []string
	interceptRequest  []string
	interceptResponse []string
	interceptTimeout  time.Duration

	cpuProfile  string
	proxyAuth   string
	allowRemote bool

	scripts []string
	set     []string

	rules         []string
	mapRemote     []string
	mapLocal      []string
	modifyHeaders []string
	modifyBody    []string

	serverReplay        []string
	serverReplayStrict  bool
	serverReplayNoHost  bool
	serverReplayNoQuery bool
	serverReplayIgnore  []string
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// sizeFlag accepts byte counts with an optional unit: 512k, 8MiB, 1G.
type sizeFlag struct{ n *int64 }

func (s sizeFlag) String() string {
	if s.n == nil {
		return ""
	}
	return flowstore.FormatSizeExact(*s.n)
}

func (s sizeFlag) Set(v string) error {
	n, err := flowstore.ParseSize(v)
	if err != nil {
		return err
	}
	*s.n = n
	return nil
}

func parseRunFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{bodyLimit: 8 << 20, memoryBudget: 512 << 20, diskBudget: 16 << 30,
		headerTimeout: 30 * time.Second, idleTimeout: 2 * time.Minute, maxHeadSize: 64 << 10, maxHeaderLines: 500}
	fs := flag.NewFlagSet("interceptor-tui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.Var((*multi)(&cfg.modeSpecs), "mode", "proxy `mode`, as mitmproxy spells it: regular, upstream:URL, upstream:env, reverse:URL, socks5, transparent; @ADDR (or @PORT) listens on its own address (repeatable; default regular)")
	fs.StringVar(&cfg.upstreamAuth, "upstream-auth", "", "send Basic `user:pass` to the upstream proxy in upstream mode")
	fs.BoolVar(&cfg.keepHost, "keep-host-header", false, "reverse mode: keep the client's Host header instead of naming the origin in it")
	fs.Var((*multi)(&cfg.allowHosts), "allow-hosts", "`regex` of CONNECT host:port to intercept; every other tunnel passes untouched (repeatable)")
	fs.StringVar(&cfg.clientCerts, "client-certs", "", "PEM `file` (certificate and key), or a directory of HOST.pem files, to present to origins that ask for a client certificate")
	fs.StringVar(&cfg.confdir, "confdir", "", "configuration `directory` holding the CA (default $INTERCEPTOR_TUI_HOME or ~/.interceptor-tui)")
	fs.BoolVar(&cfg.headless, "headless", false, "no interface: print one line per finished flow on stdout")
	fs.Var(sizeFlag{&cfg.bodyLimit}, "body-limit", "keep at most this much of each body (bodies still stream whole)")
	fs.Var((*multi)(&cfg.ignoreHosts), "ignore-hosts", "`regex` of CONNECT host:port to tunnel untouched (repeatable)")
	fs.Var((*multi)(&cfg.upstreamCA), "upstream-ca", "PEM `file` of CA certificates to trust for origins, besides the system's (repeatable)")
	fs.BoolVar(&cfg.sslInsecure, "ssl-insecure", false, "do not verify origin certificates")
	fs.BoolVar(&cfg.noHTTP2, "no-http2", false, "speak HTTP/1.1 only, to clients and origins")
	fs.IntVar(&cfg.maxFlows, "max-flows", 50000, "keep at most `N` flows; the oldest finished ones go first (0: no limit)")
	fs.Var(sizeFlag{&cfg.memoryBudget}, "memory-budget", "keep the program's memory near this `size`: past it the oldest flows move to a spool on disk and are read back when opened (0: keep everything in memory)")
	fs.Var(sizeFlag{&cfg.diskBudget}, "disk-budget", "let the spool grow to this `size`; past it the oldest spooled flows are evicted, with a notice (0: no limit)")
	fs.StringVar(&cfg.spoolDir, "spool-dir", "", "make the spool in this `directory` (default: the user cache directory, ~/.cache/interceptor-tui)")
	fs.StringVar(&cfg.save, "save", "", "append every finished flow to `file` as JSON lines")
	fs.Var((*multi)(&cfg.load), "load", "read flows from `file` (JSON lines or HAR) at start (repeatable)")
	fs.StringVar(&cfg.har, "har", "", "write every flow to `file` as HAR 1.2 when the program exits")
	fs.StringVar(&cfg.filter, "filter", "", "only show (headless: print) and save flows matching this filter `expression`")
	fs.DurationVar(&cfg.responseWait, "upstream-timeout", 0, "give up on an origin that has not sent response headers after this `duration` (default: wait)")
	fs.DurationVar(&cfg.headerTimeout, "header-timeout", cfg.headerTimeout, "close a client connection or tunnel whose request head has not arrived whole after this `duration` (answered 408)")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", cfg.idleTimeout, "close a kept-alive client connection, or a new tunnel, that sends nothing for this `duration`")
	fs.Var(sizeFlag{&cfg.maxHeadSize}, "max-head-size", "refuse a request head larger than this `size` with 431")
	fs.IntVar(&cfg.maxHeaderLines, "max-header-lines", cfg.maxHeaderLines, "refuse a request head with more than `N` header lines with 431")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to `file` (for finding where time goes)")
	fs.StringVar(&cfg.proxyAuth, "proxyauth", "", "require Basic proxy authentication with `user:pass` (needed to listen beyond loopback)")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "listen beyond loopback without --proxyauth (anyone who can reach the port can use the proxy and read what it captures)")
	fs.Var((*multi)(&cfg.scripts), "script", "run the hook script `file`: .lua, .js, or a .yaml list of JavaScript interceptors (repeatable; scripts run in the order given)")
	fs.Var((*multi)(&cfg.scripts), "s", "short for --script")
	fs.Var((*multi)(&cfg.rules), "rules", "load rules from a YAML `file` (repeatable; reloaded when it changes)")
	fs.Var((*multi)(&cfg.mapRemote), "map-remote", "mitmproxy's `pattern` [/filter]/url-regex/replacement, any separator (repeatable)")
	fs.Var((*multi)(&cfg.mapLocal), "map-local", "mitmproxy's `pattern` [/filter]/url-regex/file-or-directory (repeatable)")
	fs.Var((*multi)(&cfg.modifyHeaders), "modify-headers", "mitmproxy's `pattern` [/filter]/name/[@]value (repeatable)")
	fs.Var((*multi)(&cfg.modifyBody), "modify-body", "mitmproxy's `pattern` [/filter]/regex/[@]replacement (repeatable)")
	fs.Var((*multi)(&cfg.set), "set", "`name=value` option for scripts, read there as options.name (repeatable)")
	fs.Var((*multi)(&cfg.intercept), "intercept", "pause flows matching this filter `expression` at the request and the response (repeatable)")
	fs.Var((*multi)(&cfg.interceptRequest), "intercept-request", "pause flows matching this filter `expression` at the request only (repeatable)")
	fs.Var((*multi)(&cfg.interceptResponse), "intercept-response", "pause flows matching this filter `expression` at the response only (repeatable)")
	fs.DurationVar(&cfg.interceptTimeout, "intercept-timeout", 0, "resume a paused flow unchanged after this `duration` (default: wait for you)")
	fs.Var((*multi)(&cfg.serverReplay), "server-replay", "answer requests that match a flow saved in `file` without contacting the upstream (repeatable)")
	fs.BoolVar(&cfg.serverReplayStrict, "server-replay-strict", false, "with --server-replay, answer unmatched requests with 404 instead of sending them upstream")
	fs.BoolVar(&cfg.serverReplayNoHost, "server-replay-ignore-host", false, "with --server-replay, match requests without their host")
	fs.BoolVar(&cfg.serverReplayNoQuery, "server-replay-ignore-query", false, "with --server-replay, match requests without their query string")
	fs.Var((*multi)(&cfg.serverReplayIgnore), "server-replay-ignore-param", "with --server-replay, leave this query `parameter` out of the match (repeatable)")
	fs.Usage = func() {
		usage(stderr)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, err
	}
	if cfg.headerTimeout <= 0 || cfg.idleTimeout <= 0 || cfg.maxHeadSize < 1024 || cfg.maxHeadSize > 1<<30 || cfg.maxHeaderLines <= 0 {
		return nil, fmt.Errorf("--header-timeout and --idle-timeout must be positive, --max-head-size between 1k and 1G, --max-header-lines at least 1")
	}
	if err := cfg.parseModes(); err != nil {
		return nil, err
	}
	if cfg.upstreamAuth != "" && !strings.Contains(cfg.upstreamAuth, ":") {
		return nil, fmt.Errorf("--upstream-auth wants user:pass")
	}
	if cfg.proxyAuth != "" && !strings.Contains(cfg.proxyAuth, ":") {
		return nil, fmt.Errorf("--proxyauth wants user:pass")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return cfg, nil
}

// parseModes reads --mode and checks that no two listen on one address.
func (cfg *config) parseModes() error {
	specs := cfg.modeSpecs
	if len(specs) == 0 {
		specs = []string{"regular"}
	}
	seen := map[string]string{}
	for _, spec := range specs {
		m, err := mitm.ParseMode(spec)
		if err != nil {
			return err
		}
		addr := m.ListenAddress(cfg.listen)
		if _, port, _ := net.SplitHostPort(addr); port == "0" {
			addr = "" // each :0 gets a port of its own
		}
		if other, ok := seen[addr]; ok && addr != "" {
			return fmt.Errorf("--mode %s and --mode %s both listen on %s: give one its own address with @PORT", other, spec, addr)
		}
		seen[addr] = spec
		cfg.modes = append(cfg.modes, m)
	}
	return nil
}
