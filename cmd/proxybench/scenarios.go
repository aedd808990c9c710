package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Scenario names, as --only takes them.
const (
	scHTTPS      = "https"
	scPost       = "post"
	scH2         = "h2"
	scLatency    = "latency"
	scHTTP       = "http"
	scHandshakes = "handshakes"
	scDownload   = "download"
	scFlows      = "flows"
)

var allScenarios = []string{scHTTPS, scPost, scH2, scLatency, scHTTP, scHandshakes, scDownload, scFlows}

// scenarioInfo is what the case list and the report need to know of a
// scenario.
type scenarioInfo struct {
	title   string
	origins []string // origin kinds it runs against, of those --origin selects
	client  string   // the HTTP version the load client speaks to the proxy
}

var scenarioInfos = map[string]scenarioInfo{
	scHTTPS:      {"keep-alive HTTPS GET, 100 B", allOrigins, "HTTP/1.1"},
	scPost:       {"keep-alive HTTPS POST, 4 KiB body", allOrigins, "HTTP/1.1"},
	scH2:         {"HTTP/2 client, HTTPS GET, 100 B", []string{originH2}, "HTTP/2"},
	scLatency:    {"keep-alive HTTPS GET, 100 B, 1 conn", allOrigins, "HTTP/1.1"},
	scHTTP:       {"keep-alive HTTP GET, 100 B", []string{originPlain}, "HTTP/1.1"},
	scHandshakes: {"new TLS conn per request, 200 hosts", allOrigins, "HTTP/1.1"},
	scDownload:   {"HTTPS download", allOrigins, "HTTP/1.1"},
	scFlows:      {"small HTTPS flows, then RSS", allOrigins, "HTTP/1.1"},
}

// requestMix says what a scenario's load sends, for each row of the report.
func requestMix(sc string, cfg *config) string {
	switch sc {
	case scHTTPS:
		return fmt.Sprintf("GET, 100 B response; HTTP/1.1 client, %d keep-alive conns", cfg.conns)
	case scPost:
		return fmt.Sprintf("POST, %s request body, 100 B response; HTTP/1.1 client, %d keep-alive conns", flowstore.FormatSizeExact(postBodySize), cfg.conns)
	case scH2:
		return fmt.Sprintf("GET, 100 B response; HTTP/2 client (ALPN h2 inside CONNECT), %d concurrent streams on one conn", cfg.conns)
	case scLatency:
		return "GET, 100 B response; HTTP/1.1 client, 1 keep-alive conn"
	case scHTTP:
		return fmt.Sprintf("GET, 100 B response; plain HTTP/1.1 client (absolute-form), %d keep-alive conns", cfg.conns)
	case scHandshakes:
		return fmt.Sprintf("GET, 100 B response; HTTP/1.1 client, a new TLS conn per request to %d host names, %d at a time", handshakeHosts, cfg.conns)
	case scDownload:
		return fmt.Sprintf("one GET of %s (after one of 100 B on the same conn); HTTP/1.1 client", flowstore.FormatSizeExact(cfg.download))
	case scFlows:
		return fmt.Sprintf("%d GETs, 100 B responses; HTTP/1.1 client, %d keep-alive conns", cfg.flows, cfg.conns)
	}
	return ""
}

// benchCase is a scenario run against one kind of origin: a group of rows
// in the report, one per proxy, whose ratios are taken round by round.
type benchCase struct {
	Scenario string
	Origin   string
}

// planCases crosses the scenarios with the origin kinds selected, in the
// scenarios' order, origin kinds inside. A scenario none of whose origin
// kinds is selected is left out, and said so in dropped.
func planCases(scenarios, origins []string) (cases []benchCase, dropped []string) {
	for _, sc := range scenarios {
		n := len(cases)
		for _, o := range scenarioInfos[sc].origins {
			if o == originPlain || has(origins, o) {
				cases = append(cases, benchCase{sc, o})
			}
		}
		if len(cases) == n {
			dropped = append(dropped, fmt.Sprintf("%s runs against the %s origin only, which --origin %s leaves out", sc, strings.Join(scenarioInfos[sc].origins, ", "), strings.Join(origins, ",")))
		}
	}
	return cases, dropped
}

// postBody is what the post scenario sends: text, as APIs take.
var postBody = bytes.Repeat([]byte("0123456789abcdef"), postBodySize/16)

// bench runs one scenario against one proxy.
type bench struct {
	cfg    *config
	env    *benchEnv
	origin *origin
}

const handshakeHosts = 200

// timed runs the measured part of a scenario, metering CPU around it.
func (b *bench) timed(ctx context.Context, r *result, proc *proxyProc, spec loadSpec) *loadResult {
	pid := ""
	if proc != nil {
		pid = strconv.Itoa(proc.cmd.Process.Pid)
	}
	m := startCPUMeter(pid)
	lr := runLoad(ctx, spec)
	m.stop()
	r.OtherCPU = m.otherPercent(onlineCPUs())
	if proc != nil && m.ok && lr.n > 0 {
		r.ProxyCPUus = float64(m.proxyCPU.Microseconds()) / float64(lr.n)
	}
	return lr
}

// newResult is an empty row for proxy px in case c, saying what it measures.
func (b *bench) newResult(c benchCase, px string) *result {
	return &result{Scenario: c.Scenario, Origin: c.Origin, Proxy: px, Mix: requestMix(c.Scenario, b.cfg), Client: scenarioInfos[c.Scenario].client}
}

// measure starts a fresh proxy (none for direct), runs the scenario through
// it against the origin kind c names, reads its memory and stops it. A
// failure is a result with no requests.
func (b *bench) measure(ctx context.Context, c benchCase, px string) (r *result) {
	sc := c.Scenario
	r = b.newResult(c, px)
	var (
		proxyURL *url.URL
		pool     = b.origin.pool
		proc     *proxyProc
		target   = b.origin.addr(c.Origin)
	)
	relayed := ""
	if px == proxyRelay {
		switch sc {
		case scHTTPS, scPost, scH2, scLatency, scHTTP:
			b.env.relayTo = target
		default:
			r.Skipped = "a floor for latency, measured in the keep-alive scenarios only"
			return r
		}
	}
	if px != proxyDirect {
		b.env.maxFlows = 0
		if sc == scFlows {
			b.env.maxFlows = 2 * b.cfg.flows
		}
		b.env.tag = sc + "-" + c.Origin
		var err error
		proc, err = b.env.startProxy(ctx, px)
		if err != nil {
			r.FirstError = err.Error()
			return r
		}
		defer b.env.stop(proc)
		proxyURL = &url.URL{Scheme: "http", Host: proc.addr}
		pool = proc.pool
		r.Settings = proc.settings
		if px == proxyRelay {
			proxyURL, pool, relayed = nil, b.origin.pool, proc.addr
		}
	}

	conns0 := b.origin.conns.Load()
	h1, h2 := b.origin.served()
	defer func() {
		r.OriginConn = b.origin.conns.Load() - conns0
		n1, n2 := b.origin.served()
		r.Upstream = upstreamProto(n1-h1, n2-h2)
	}()
	httpsSmall := "https://" + target + pathSmall
	conns := b.cfg.conns
	var lr *loadResult
	switch sc {
	case scHTTPS, scPost, scH2, scLatency, scHTTP, scFlows:
		if sc == scLatency {
			conns = 1
		}
		q := call{method: http.MethodGet, url: httpsSmall, want: smallBodySize}
		switch sc {
		case scHTTP:
			q.url = "http://" + target + pathSmall
		case scPost:
			q.method, q.url, q.body = http.MethodPost, "https://"+target+pathUpload, postBody
		case scH2:
			q.proto = 2
		}
		tr := newTransport(proxyURL, pool, "", conns, true, sc == scH2)
		if relayed != "" {
			// Every connection to the origin goes to the relay instead.
			var d net.Dialer
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, relayed)
			}
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		do := func(ctx context.Context, _ int64) (int64, error) { return q.do(ctx, c) }
		if sc == scFlows {
			lr = b.timed(ctx, r, proc, loadSpec{conns: conns, total: int64(b.cfg.flows), do: do})
			break
		}
		if sc == scH2 {
			// One request alone first: its connection is the one every
			// worker's streams then share, as a browser's would. Workers
			// starting together on no connection would each dial one.
			r.Made++
			if _, err := do(ctx, 0); err != nil {
				r.FirstError = err.Error()
				return r
			}
		}
		if b.cfg.warmup > 0 {
			r.Made += runLoad(ctx, loadSpec{conns: conns, duration: b.cfg.warmup, do: do}).made()
		}
		lr = b.timed(ctx, r, proc, loadSpec{conns: conns, duration: b.cfg.duration, do: do})

	case scHandshakes:
		clients := make([]*http.Client, handshakeHosts)
		hosts := make([]string, handshakeHosts)
		for i := range clients {
			hosts[i] = fmt.Sprintf("h%d.bench.test", i)
			tr := newTransport(proxyURL, pool, hosts[i], 1, false, false)
			defer tr.CloseIdleConnections()
			clients[i] = &http.Client{Transport: tr, Timeout: 30 * time.Second}
		}
		do := func(ctx context.Context, i int64) (int64, error) {
			n := i % handshakeHosts
			return get(ctx, clients[n], httpsSmall, hosts[n], smallBodySize)
		}
		// One round over the names first: leaves minted and cached
		// everywhere, as they would be after a browser's first minute.
		r.Made += runLoad(ctx, loadSpec{conns: conns, total: handshakeHosts, do: do}).made()
		lr = b.timed(ctx, r, proc, loadSpec{conns: conns, duration: b.cfg.duration, do: do})

	case scDownload:
		tr := newTransport(proxyURL, pool, "", 1, true, false)
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		// The connection (and the proxy's leaf) first, then the download on it.
		r.Made++
		if _, err := get(ctx, c, httpsSmall, "", smallBodySize); err != nil {
			r.FirstError = err.Error()
			return r
		}
		big := "https://" + target + pathBig
		lr = b.timed(ctx, r, proc, loadSpec{conns: 1, total: 1, do: func(ctx context.Context, _ int64) (int64, error) {
			return get(ctx, c, big, "", b.cfg.download)
		}})
	}

	r.Requests, r.Errors, r.FirstError = lr.n, lr.errs, lr.firstErr
	r.Made += lr.made()
	r.Seconds = lr.elapsed.Seconds()
	r.Rate = lr.rate()
	r.P50, r.P99 = durMS(lr.hist.quantile(0.5)), durMS(lr.hist.quantile(0.99))
	if sc == scDownload && lr.n > 0 {
		r.MiBps = float64(lr.bytes) / (1 << 20) / lr.elapsed.Seconds()
	}
	if proc == nil {
		return r
	}
	if sc == scFlows && isOurs(px) {
		// Let the last flows finish printing; then the store holds them all.
		for end := time.Now().Add(10 * time.Second); proc.lines.Load() < r.Made && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if sc == scFlows {
		time.Sleep(time.Second)
	}
	if err := proc.alive(); err != nil {
		r.FirstError = err.Error()
		return r
	}
	r.Flows = proc.lines.Load()
	if rss, hwm, err := proc.memory(); err == nil {
		r.RSSKiB, r.PeakKiB = rss, hwm
	}
	return r
}
