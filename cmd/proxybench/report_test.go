package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	writeTable(&b, []string{"name", "req/s"}, "lr", [][]string{
		{"direct", "32000"},
		{"interceptor-tui", "21"},
		{"short row"},
	})
	want := `| name            | req/s |
| --------------- | ----: |
| direct          | 32000 |
| interceptor-tui |    21 |
| short row       |       |
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormatters(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtRatio(80, 100), "80%"},
		{fmtRatio(150, 100), "150%"},
		{fmtRatio(500, 100), "5.00×"},
		{fmtRatio(1990, 100), "19.9×"},
		{fmtRatio(1, 0), "–"},
		{fmtRate(26123.4), "26123"},
		{fmtRate(42.26), "42.3"},
		{fmtRate(0), "–"},
		{fmtMS(0.1234), "0.123"},
		{fmtMiB(65536), "64.0"},
		{flowstore.FormatSizeExact(1 << 30), "1GiB"},
		{flowstore.FormatSizeExact(3 << 20), "3MiB"},
		{flowstore.FormatSizeExact(1000), "1000B"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// Sizes are read by flowstore.ParseSize (tested there); the flag adds
// that a bench needs more than zero bytes.
func TestSizeFlag(t *testing.T) {
	parse := func(v string) (n int64, err error) { err = sizeValue{&n}.Set(v); return n, err }
	for in, want := range map[string]int64{"1GiB": 1 << 30, "256MiB": 256 << 20, "64k": 64 << 10, "1000": 1000, "0.5g": 1 << 29} {
		if got, err := parse(in); err != nil || got != want {
			t.Errorf("parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "0"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

func TestPickList(t *testing.T) {
	got, err := pickList("flows, https", allScenarios, "scenario")
	if err != nil || strings.Join(got, ",") != "https,flows" {
		t.Errorf("got %v, %v; want [https flows] in the canonical order", got, err)
	}
	if _, err := pickList("https,nope", allScenarios, "scenario"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := pickList(" , ", allScenarios, "scenario"); err == nil {
		t.Error("empty list accepted")
	}
}

func TestCPUListHas(t *testing.T) {
	tests := []struct {
		list string
		cpu  int
		want bool
	}{
		{"0-1", 0, true}, {"1", 0, false}, {"1", 1, true}, {"0-3,8,10-11", 9, false},
		{"0-3,8,10-11", 10, true}, {"2-3", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		if got := cpuListHas(tt.list, tt.cpu); got != tt.want {
			t.Errorf("cpuListHas(%q, %d) = %v", tt.list, tt.cpu, got)
		}
	}
}

func TestParseStatusMemory(t *testing.T) {
	status := "Name:\tinterceptor-tui\nVmPeak:\t 1300000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   32768 kB\nThreads:\t6\n"
	rss, hwm, err := parseStatusMemory(strings.NewReader(status))
	if err != nil || rss != 32768 || hwm != 40960 {
		t.Errorf("got rss=%d hwm=%d err=%v", rss, hwm, err)
	}
	if _, _, err := parseStatusMemory(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("status without memory lines accepted")
	}
}

func TestEvalTargets(t *testing.T) {
	rs := results{}
	for _, r := range []*result{
		{Scenario: scHTTPS, Origin: originH1, Proxy: proxyDirect, Requests: 1, Rate: 32000, P50: 1.0},
		{Scenario: scHTTPS, Origin: originH1, Proxy: proxyGoproxy, Requests: 1, Rate: 26000, P50: 1.2},
		{Scenario: scHTTPS, Origin: originH1, Proxy: proxyOurs, Requests: 1, Rate: 20000, P50: 1.3},
		{Scenario: scHTTPS, Origin: originH1, Proxy: proxyMitmdump, Requests: 1, Rate: 1300, P50: 25},
		{Scenario: scHTTPS, Origin: originH2, Proxy: proxyGoproxy, Requests: 1, Rate: 20000},
		{Scenario: scHTTPS, Origin: originH2, Proxy: proxyOurs, Requests: 1, Rate: 19000},
		{Scenario: scPost, Origin: originH2, Proxy: proxyGoproxy, Requests: 1, Rate: 10000},
		{Scenario: scPost, Origin: originH2, Proxy: proxyOurs, Requests: 1, Rate: 8000},
		{Scenario: scH2, Origin: originH2, Proxy: proxyGoproxy, Requests: 1, Rate: 10000},
		{Scenario: scH2, Origin: originH2, Proxy: proxyOurs, Requests: 1, Rate: 12000},
		{Scenario: scDownload, Origin: originH1, Proxy: proxyGoproxy, Requests: 1, MiBps: 1000},
		{Scenario: scDownload, Origin: originH1, Proxy: proxyOurs, Requests: 1, MiBps: 900, PeakKiB: 20 << 10},
		{Scenario: scDownload, Origin: originH2, Proxy: proxyOurs, Requests: 1, MiBps: 900, PeakKiB: 30 << 10},
		{Scenario: scFlows, Origin: originH1, Proxy: proxyOurs, Requests: 1, RSSKiB: 100 << 10},
		{Scenario: scFlows, Origin: originH2, Proxy: proxyOurs, Requests: 1, RSSKiB: 200 << 10},
		{Scenario: scHandshakes, Origin: originH1, Proxy: proxyMitmdump, Skipped: "not installed"},
	} {
		rs.add(r)
	}
	got := map[string]string{}
	for _, tg := range evalTargets(rs) {
		got[tg.Issue+" "+tg.Name+" @ "+tg.Origin] = tg.Measured + " " + tg.Verdict
	}
	want := map[string]string{
		"#21 keep-alive HTTPS GET req/s, ours / bare goproxy @ http/1.1":           "77% FAIL",
		"#21 keep-alive HTTPS GET req/s, ours / mitmdump @ http/1.1":               "15.4× PASS",
		"#21 keep-alive HTTPS POST 4 KiB req/s, ours / bare goproxy @ http/1.1":    "– n/a",
		"#21 download MiB/s, ours / bare goproxy @ http/1.1":                       "90% PASS",
		"#21 download: ours peak RSS (VmHWM) @ http/1.1":                           "20.0 MiB PASS",
		"#21 keep-alive HTTPS GET req/s, ours / bare goproxy @ h2,http/1.1":        "95% PASS",
		"#21 keep-alive HTTPS GET req/s, ours / mitmdump @ h2,http/1.1":            "– n/a",
		"#21 keep-alive HTTPS POST 4 KiB req/s, ours / bare goproxy @ h2,http/1.1": "80% FAIL",
		"#21 download MiB/s, ours / bare goproxy @ h2,http/1.1":                    "– n/a",
		"#21 download: ours peak RSS (VmHWM) @ h2,http/1.1":                        "30.0 MiB FAIL",
		// The HTTP/2 client's ratio is a figure, with no target yet.
		"#21 HTTP/2 client req/s, ours / bare goproxy @ h2,http/1.1": "120% figure",
		"#21 HTTP/2 client req/s, ours / mitmdump @ h2,http/1.1":     "– n/a",
		// Issue 2's own targets stay with the HTTP/1.1-only origin.
		"#2 keep-alive HTTPS p50 added over direct, all conns @ http/1.1": "+0.300 ms FAIL",
		"#2 keep-alive HTTPS p50 added over direct, 1 conn @ http/1.1":    "– n/a",
		"#2 new-host handshakes/s, ours / bare goproxy @ http/1.1":        "– n/a",
		"#2 new-host handshakes/s, ours / mitmdump @ http/1.1":            "– n/a",
		"#2 after the flows: ours RSS (VmRSS) @ http/1.1":                 "100.0 MiB PASS",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d targets, want %d: %v", len(got), len(want), got)
	}
}

// Each row of the ratio table says which origin and request mix it measured.
func TestRatioRowsSayOriginAndMix(t *testing.T) {
	rs := results{}
	for _, r := range []*result{
		{Scenario: scPost, Origin: originH1, Proxy: proxyGoproxy, Requests: 1, Rate: 100},
		{Scenario: scPost, Origin: originH1, Proxy: proxyOurs, Requests: 1, Rate: 90, Mix: "POST mix"},
		{Scenario: scPost, Origin: originH2, Proxy: proxyGoproxy, Requests: 1, Rate: 100},
		{Scenario: scPost, Origin: originH2, Proxy: proxyOurs, Requests: 1, Rate: 70, Mix: "POST mix"},
	} {
		rs.add(r)
	}
	var b strings.Builder
	writeRatios(&b, rs, []benchCase{{scPost, originH1}, {scPost, originH2}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header, a rule and two rows:\n%s", b.String())
	}
	for i, want := range []string{"| http/1.1 ", "| h2,http/1.1 "} {
		row := lines[2+i]
		if !strings.Contains(row, want) || !strings.Contains(row, "POST mix") {
			t.Errorf("row %d does not say origin %q and its mix: %s", i, want, row)
		}
	}
	if !strings.Contains(lines[2], "90%") || !strings.Contains(lines[3], "70%") {
		t.Errorf("ratios mixed up between origin kinds:\n%s", b.String())
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 6 0 12345 0 0\n"
	got, err := parseProcStat([]byte(line))
	if err != nil || got != 3*time.Second {
		t.Errorf("got %v, %v; want 3s (300 ticks)", got, err)
	}
	if _, err := parseProcStat([]byte("4242 (x) S 1")); err == nil {
		t.Error("short line accepted")
	}
}

func TestParseStatBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseStatBusy("cpu  100 5 50 1000 20 3 2 0 40 0")
	if err != nil || got != 1600*time.Millisecond {
		t.Errorf("got %v, %v; want 1.6s (160 ticks)", got, err)
	}
	if _, err := parseStatBusy("cpu0 1 2 3"); err == nil {
		t.Error("wrong line accepted")
	}
}

func TestRatiosAreTakenRoundByRound(t *testing.T) {
	round := func(rate float64) *result { return &result{Requests: 1, Rate: rate} }
	// The machine's speed drifts between rounds; the ratio is the median
	// of each round's (83%, 80%, 75%), not that of the best rows (75%).
	ours := []*result{round(20), round(12), round(30)}
	bare := []*result{round(24), round(15), round(40)}
	a, b := ours[2], bare[2]
	a.rounds, b.rounds = ours, bare
	r, n := pairedRatio(a, b, func(r *result) float64 { return r.Rate })
	if n != 3 || r != 0.8 {
		t.Fatalf("paired ratio %v over %d rounds, want the median of 83%%, 80%%, 75%%: 80%% over 3", r, n)
	}
	if got := fmtPaired(a, b, func(r *result) float64 { return r.Rate }); got != "80%" {
		t.Fatalf("formatted %q", got)
	}
	// Latency added, likewise: rounds of 0.5-0.2, 0.3-0.2, 0.9-0.3 ms.
	lat := func(p50 float64) *result { return &result{Requests: 1, P50: p50} }
	a, b = lat(0.9), lat(0.2)
	a.rounds = []*result{lat(0.5), lat(0.3), a}
	b.rounds = []*result{b, lat(0.2), lat(0.3)}
	if v, n := pairedAdded(a, b); n != 3 || math.Abs(v-0.3) > 1e-9 {
		t.Fatalf("paired p50 added %v over %d rounds, want the median 0.3 ms over 3", v, n)
	}
}
