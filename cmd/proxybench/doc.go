// Command proxybench measures interceptor-tui side by side with the
// alternatives, in one run on one machine: no proxy at all (direct), a bare
// goproxy MITM built into this tool (the lower bound: same library, same ECDSA
// CA and leaf cache, no capture), the real interceptor-tui binary, and
// mitmdump (Debian package mitmproxy) when it is installed.
//
// Each proxy runs as its own process, started fresh for every scenario with
// a fresh config directory, so its memory can be read from /proc/PID/status
// (VmRSS now, VmHWM at peak). The origin and the load client run inside
// this process; nothing leaves loopback. The origin mints a certificate for
// whatever SNI name it is asked for, from its own CA, and listens three
// times: HTTPS offering only http/1.1 in ALPN (origin kind h1), HTTPS
// offering h2 and http/1.1 as most origins on the web do (kind h2), and
// plain HTTP/1.1. --origin h1|h2|both (default both) picks the kinds every
// HTTPS scenario runs against, each kind its own group of rows; the
// "upstream" column says which HTTP versions the origin served in a row,
// so which one each proxy spoke to it.
//
// Scenarios (--only takes their names):
//
//	https       keep-alive HTTPS GET, 100-byte responses: req/s, p50, p99
//	post        keep-alive HTTPS POST of a 4 KiB body, 100-byte responses
//	h2          the client speaks HTTP/2 to the proxy inside CONNECT (Go's
//	            Transport, ForceAttemptHTTP2, the proxy's CA trusted): GETs
//	            of 100 bytes, --conns streams on one connection; against
//	            the h2 origin only; its ratio is a figure, with no target
//	latency     keep-alive HTTPS GET over one connection: the latency a
//	            proxy adds when nothing queues (with --conns of them, p50
//	            is mostly conns / throughput, by Little's law)
//	http        the same as https over plain HTTP (absolute-form requests
//	            to the proxy), against the plain listener only
//	handshakes  a new connection and TLS handshake per request, to 200 host
//	            names (CONNECT 127.0.0.1:PORT, SNI and Host hN.bench.test)
//	download    one 1 GiB HTTPS download of incompressible bytes: MiB/s and
//	            the proxy's peak RSS
//	flows       50 000 small HTTPS requests, then the proxy's RSS (ours runs
//	            with --max-flows 100000 so it holds every one of them)
//
// Every client but the h2 scenario's speaks HTTP/1.1 to the proxy. What the
// proxies speak upstream differs, and is part of what is measured: the bare
// goproxy's Transport speaks HTTP/1.1 to every origin (it offers h2 to
// clients, AllowHTTP2, but has a TLS config of its own and no
// ForceAttemptHTTP2); interceptor-tui speaks the client's version where the
// origin offers it (HTTP/1.1 for an HTTP/1.1 client even when the origin
// offers h2, HTTP/2 for an HTTP/2 client); mitmdump follows the client too.
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
// The report is a Markdown table on stdout, then the ratios of ours to the
// others, a row per scenario and origin kind saying its request mix, then
// the targets the issues set (issue 21's for each origin kind, issue 2's
// others with the HTTP/1.1-only origin); --json FILE also writes the
// numbers as JSON, each result with its origin, request mix, and the HTTP
// versions spoken. Progress goes to stderr. --profile DIR names each CPU
// profile PROXY-SCENARIO-ORIGIN-N.prof.
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
