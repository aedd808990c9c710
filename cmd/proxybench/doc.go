// Command proxybench measures interceptor-tui side by side with the
// alternatives, in one run on one machine: no proxy at all (direct), a bare
// goproxy MITM built into this tool (the lower bound: same library, same ECDSA
// CA and leaf cache, no capture), the real interceptor-tui binary, and
// mitmdump (Debian package mitmproxy) when it is installed.
//
// Each proxy runs as its own process, started fresh for every scenario with
// a fresh config directory, so its memory can be read from /proc/PID/status
// (VmRSS now, VmHWM at peak). The origin (HTTPS and plain HTTP, on
// 127.0.0.1, minting a certificate for whatever SNI name it is asked for)
// and the load client run inside this process. Nothing leaves loopback.
//
// Scenarios (--only takes their names):
//
//	https       keep-alive HTTPS, 100-byte responses: req/s, p50, p99
//	latency     the same over one connection: the latency a proxy adds when
//	            nothing queues (with --conns of them, p50 is mostly
//	            conns / throughput, by Little's law)
//	http        the same over plain HTTP (absolute-form requests to the proxy)
//	handshakes  a new connection and TLS handshake per request, to 200 host
//	            names (CONNECT 127.0.0.1:PORT, SNI and Host hN.bench.test)
//	download    one 1 GiB HTTPS download of incompressible bytes: MiB/s and
//	            the proxy's peak RSS
//	flows       50 000 small HTTPS requests, then the proxy's RSS (ours runs
//	            with --max-flows 100000 so it holds every one of them)
//
// Usage, from the repository (the interceptor-tui binary is built with
// go build into a temp directory unless --binary is given):
//
//	go build ./cmd/proxybench && taskset -c 1 ./proxybench --pin
//
// On a 2-core machine the comparison is fairest with the proxy under test
// pinned to one core and the load client plus origin to the other: --pin
// starts every proxy under "taskset -c 0", and proxybench itself should run
// under "taskset -c 1" (it warns when it is not). Without pinning the proxy
// competes with the client for CPU and the numbers say more about the
// scheduler than about the proxy.
//
// The machine may be shared: every row also says how much of the machine's
// CPU went to processes other than proxybench and the proxy while it was
// measured ("other CPU %", from /proc/stat), and --repeat N measures each
// row N times, interleaved, keeping the least disturbed for the table;
// ratios between proxies are taken round by round (proxies measured
// seconds apart) and the median given, since the machine's speed drifts
// over minutes and the best rows of two proxies may come from different
// moods of it. "proxy CPU µs/req"
// (from /proc/PID/stat) is the proxy's own cost per request, which
// interference moves less than req/s. "origin conns" counts the connections
// the origin accepted: it shows which proxies reuse upstream connections.
//
// The report is a Markdown table on stdout, followed by the ratios the
// capture engine's issue sets as targets; --json FILE also writes the
// numbers as JSON. Progress goes to stderr.
//
// The bare goproxy differs from stock goproxy in one line: a client's
// "Connection: close" is hop-by-hop, so it does not close the bare proxy's
// pooled upstream connection. Without that line the handshakes scenario
// would cost the floor a second TLS handshake (upstream) per request, and it
// would be no floor. --bare-forward-close restores goproxy's own behaviour;
// the "origin conns" column shows which proxies re-dial.
//
// The subcommand "proxybench bare-goproxy --listen ADDR --ca-dir DIR" is the
// bare goproxy MITM itself; the benchmark starts it, people rarely need to.
package main
