package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// meta says how the numbers were made.
type meta struct {
	Command  string   `json:"command"`
	Date     string   `json:"date"`
	CPU      string   `json:"cpu"`
	NumCPU   int      `json:"num_cpu"`
	Go       string   `json:"go"`
	Pinning  string   `json:"pinning"`
	Duration string   `json:"duration"`
	Conns    int      `json:"conns"`
	Origins  []string `json:"origins"` // origin kinds and what each offers in ALPN
	Repeat   int      `json:"repeat"`
	Checkout string   `json:"checkout,omitempty"` // what interceptor-tui was built from
	Mitmdump string   `json:"mitmdump,omitempty"`
	Took     string   `json:"took"`
	Proxies  []string `json:"proxies"` // how each one ran
}

func runMeta(cfg *config, args []string, took time.Duration, mitmdump, binary string) meta {
	m := meta{
		Command:  strings.TrimSpace("proxybench " + strings.Join(args, " ")),
		Date:     time.Now().Format("2006-01-02 15:04 MST"),
		CPU:      cpuModel(),
		NumCPU:   onlineCPUs(),
		Go:       runtime.Version(),
		Duration: cfg.duration.String(),
		Conns:    cfg.conns,
		Origins:  originNotes(cfg.origins),
		Repeat:   cfg.repeat,
		Took:     took.Round(time.Second).String(),
		Pinning:  "none: proxies, client and origin share all CPUs",
	}
	if cpus, err := ownCPUs(); err == nil {
		if cfg.pin {
			m.Pinning = fmt.Sprintf("each proxy under `taskset -c 0`; proxybench (client + origin) on CPUs %s", cpus)
		} else {
			m.Pinning = fmt.Sprintf("no --pin; proxybench on CPUs %s, proxies unpinned", cpus)
		}
	}
	for _, px := range cfg.proxies {
		switch px {
		case proxyDirect:
			m.Proxies = append(m.Proxies, "direct: the client talks to the origin itself")
		case proxyRelay:
			m.Proxies = append(m.Proxies, "relay: `proxybench relay`, a TCP relay to the origin (the client's TLS goes through it untouched); no proxy's added latency can go below what this one more process on the path costs; measured in the keep-alive scenarios only")
		case proxyGoproxy:
			s := "goproxy: `proxybench bare-goproxy`, goproxy " + moduleVersion("github.com/elazarl/goproxy") +
				", ECDSA P-256 CA, leaves by SNI from certs.Leaves (LRU + singleflight), no capture, logger discarded" +
				", AllowHTTP2 (HTTP/2 to clients that offer it), its Transport speaking HTTP/1.1 to every origin"
			if cfg.bareClose {
				s += "; a client's Connection: close also closes its upstream connection (stock goproxy)"
			} else {
				s += "; upstream connections stay pooled when a client sends Connection: close"
			}
			m.Proxies = append(m.Proxies, s)
		case proxyOurs:
			m.Proxies = append(m.Proxies, fmt.Sprintf("interceptor-tui: `%s --headless --upstream-ca ORIGIN-CA` (built by go build from this checkout unless --binary), defaults (`--max-flows %d` in the flows scenario), one line per flow on stdout, read and counted; it offers h2 to clients and speaks to the origin the HTTP version the client spoke where the origin offers it", binary, 2*cfg.flows))
		case proxyBaseline:
			m.Proxies = append(m.Proxies, fmt.Sprintf("baseline: `%s`, started as interceptor-tui is", cfg.baseline))
		case proxyMitmdump:
			m.Proxies = append(m.Proxies, "mitmdump: `-q --ssl-insecure --set stream_large_bodies=1m` (streaming on, so it can finish the download); HTTP/2 on, as by default")
		}
	}
	if mitmdump != "" {
		if out, err := exec.Command(mitmdump, "--version").Output(); err == nil {
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "Mitmproxy:") {
					m.Mitmdump = strings.TrimSpace(strings.TrimPrefix(l, "Mitmproxy:"))
				}
			}
		}
	}
	return m
}

func (m meta) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` — %s\n\n", m.Command, m.Date)
	fmt.Fprintf(&b, "- machine: %d × %s, %s\n", m.NumCPU, m.CPU, m.Go)
	fmt.Fprintf(&b, "- pinning: %s\n", m.Pinning)
	fmt.Fprintf(&b, "- load: %d connections, %s per timed scenario; origin and client in proxybench; the client speaks HTTP/1.1 except in the h2 scenario (\"request mix\" says what each row sent)\n", m.Conns, m.Duration)
	fmt.Fprintf(&b, "- origins: %s; \"upstream\" says which HTTP versions the origin served in each row\n", strings.Join(m.Origins, "; "))
	if m.Repeat > 1 {
		fmt.Fprintf(&b, "- each row is the least disturbed of %d interleaved rounds (see \"other CPU %%\"); each ratio and each \"p50 added\" is the median of the %d rounds' own\n", m.Repeat, m.Repeat)
	}
	if m.Checkout != "" {
		fmt.Fprintf(&b, "- interceptor-tui built from %s\n", m.Checkout)
	}
	if m.Mitmdump != "" {
		fmt.Fprintf(&b, "- mitmdump %s\n", m.Mitmdump)
	}
	fmt.Fprintf(&b, "- whole run: %s; each proxy started fresh (own temp config dir) for each scenario\n", m.Took)
	for _, p := range m.Proxies {
		fmt.Fprintf(&b, "- %s\n", p)
	}
	return b.String()
}

// originNotes describes the origin kinds selected, for the report.
func originNotes(kinds []string) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, fmt.Sprintf("%s (ALPN %s)", k, originTitles[k]))
	}
	return out
}

func writeJSON(path string, stdout io.Writer, m meta, rs results, cfg *config, ts []target) error {
	var list []*result
	for _, c := range cfg.cases {
		for _, px := range cfg.proxies {
			if r := rs[c][px]; r != nil {
				list = append(list, r)
			}
		}
	}
	data, err := json.MarshalIndent(struct {
		Meta    meta      `json:"meta"`
		Results []*result `json:"results"`
		Targets []target  `json:"targets"`
	}{m, list, ts}, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// checkout names the commit interceptor-tui was built from, and whether
// the engine's packages had uncommitted changes; "" with --binary.
func checkout(cfg *config) string {
	if cfg.binary != "" || !has(cfg.proxies, proxyOurs) {
		return ""
	}
	rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	s := "commit " + strings.TrimSpace(string(rev))
	dirty, err := exec.Command("git", "status", "--porcelain", "--", "mitm", "flowstore", "certs", "cmd/interceptor-tui", "go.mod").Output()
	if err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		s += " with uncommitted changes in the engine"
	}
	return s
}

// onlineCPUs counts the machine's CPUs, not just those this process may use
// (runtime.NumCPU is 1 under taskset -c 1).
func onlineCPUs() int {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(data)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		switch {
		case err1 != nil:
		case isRange && err2 == nil && b >= a:
			n += b - a + 1
		default:
			n++
		}
	}
	return max(n, 1)
}

// moduleVersion is the version of a dependency built into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// ownCPUs is the CPU list this process may run on ("0-1", "1").
func ownCPUs() (string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == "Cpus_allowed_list" {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no Cpus_allowed_list")
}

// cpuListHas reports whether a kernel CPU list ("0-3,8,10-11") holds cpu.
func cpuListHas(list string, cpu int) bool {
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if a <= cpu && cpu <= b {
			return true
		}
	}
	return false
}
