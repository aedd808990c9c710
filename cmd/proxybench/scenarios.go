package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

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

// measure starts a fresh proxy (none for direct), runs the scenario through
// it, reads its memory and stops it. A failure is a result with no requests.
func (b *bench) measure(ctx context.Context, sc, px string) (r *result) {
	r = &result{Scenario: sc, Proxy: px}
	var (
		proxyURL *url.URL
		pool     = b.origin.pool
		proc     *proxyProc
	)
	relayed := ""
	if px == proxyRelay {
		switch sc {
		case scHTTPS, scLatency:
			b.env.relayTo = b.origin.httpsAddr
		case scHTTP:
			b.env.relayTo = b.origin.httpAddr
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
	defer func() { r.OriginConn = b.origin.conns.Load() - conns0 }()
	httpsSmall := "https://" + b.origin.httpsAddr + pathSmall
	conns := b.cfg.conns
	var lr *loadResult
	switch sc {
	case scHTTPS, scLatency, scHTTP, scFlows:
		if sc == scLatency {
			conns = 1
		}
		u := httpsSmall
		if sc == scHTTP {
			u = "http://" + b.origin.httpAddr + pathSmall
		}
		tr := newTransport(proxyURL, pool, "", conns, true)
		if relayed != "" {
			// Every connection to the origin goes to the relay instead.
			var d net.Dialer
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, relayed)
			}
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		do := func(ctx context.Context, _ int64) (int64, error) { return get(ctx, c, u, "", smallBodySize) }
		if sc == scFlows {
			lr = b.timed(ctx, r, proc, loadSpec{conns: conns, total: int64(b.cfg.flows), do: do})
			break
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
			tr := newTransport(proxyURL, pool, hosts[i], 1, false)
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
		tr := newTransport(proxyURL, pool, "", 1, true)
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		// The connection (and the proxy's leaf) first, then the download on it.
		r.Made++
		if _, err := get(ctx, c, httpsSmall, "", smallBodySize); err != nil {
			r.FirstError = err.Error()
			return r
		}
		big := "https://" + b.origin.httpsAddr + pathBig
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
