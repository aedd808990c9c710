package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Proxy names, as --proxies takes them and the table shows them.
const (
	proxyDirect   = "direct"
	proxyRelay    = "relay" // a bare TCP relay: the floor for added latency
	proxyGoproxy  = "goproxy"
	proxyBaseline = "baseline" // another build of ours (--baseline), to compare two changes in one run
	proxyOurs     = "interceptor-tui"
	proxyMitmdump = "mitmdump"
)

var allProxies = []string{proxyDirect, proxyRelay, proxyGoproxy, proxyBaseline, proxyOurs, proxyMitmdump}

// isOurs tells the builds of interceptor-tui from the other proxies.
func isOurs(px string) bool { return px == proxyOurs || px == proxyBaseline }

// Scenario names, as --only takes them.
const (
	scHTTPS      = "https"
	scLatency    = "latency"
	scHTTP       = "http"
	scHandshakes = "handshakes"
	scDownload   = "download"
	scFlows      = "flows"
)

var allScenarios = []string{scHTTPS, scLatency, scHTTP, scHandshakes, scDownload, scFlows}

var scenarioTitles = map[string]string{
	scHTTPS:      "keep-alive HTTPS, 100 B",
	scLatency:    "keep-alive HTTPS, 100 B, 1 conn",
	scHTTP:       "keep-alive HTTP, 100 B",
	scHandshakes: "new TLS conn per request, 200 hosts",
	scDownload:   "HTTPS download",
	scFlows:      "small HTTPS flows, then RSS",
}

// result is one proxy's numbers in one scenario.
type result struct {
	Scenario   string  `json:"scenario"`
	Proxy      string  `json:"proxy"`
	Skipped    string  `json:"skipped,omitempty"` // why there are no numbers
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	Rate       float64 `json:"rate"`          // requests (or handshakes) per second
	P50        float64 `json:"p50_ms"`        // latency per request, milliseconds
	P99        float64 `json:"p99_ms"`        //
	MiBps      float64 `json:"mib_per_s"`     // body bytes received per second
	RSSKiB     int64   `json:"rss_kib"`       // VmRSS at the end of the scenario; 0 for direct
	PeakKiB    int64   `json:"peak_rss_kib"`  // VmHWM
	Flows      int64   `json:"flows_printed"` // lines interceptor-tui printed on stdout
	Made       int64   `json:"requests_made"` // warm-up and failures included
	OriginConn int64   `json:"origin_conns"`  // connections the origin accepted meanwhile
	ProxyCPUus float64 `json:"proxy_cpu_us_per_request"`
	OtherCPU   float64 `json:"other_cpu_percent"` // CPU used by neither proxybench nor the proxy; -1 unknown
	Repeats    int     `json:"repeats"`           // measurements made; this is the least disturbed
	Settings   string  `json:"proxy_settings"`    // notable flags the proxy ran with

	// rounds are every measurement of this scenario and proxy, in the
	// order made (this one among them), for ratios taken round by round.
	rounds []*result
}

// pairedRatio is a's metric over b's, taken in each round where both have
// numbers and given as the median. Two proxies measured seconds apart in
// one round share the machine's mood, which on a shared machine drifts by
// a third over minutes; the best row of each, picked apart, need not.
// Without rounds it is the plain ratio of the two.
func pairedRatio(a, b *result, metric func(*result) float64) (float64, int) {
	return paired(a, b, func(x, y *result) (float64, bool) {
		if metric(y) == 0 {
			return 0, false
		}
		return metric(x) / metric(y), true
	})
}

// pairedAdded is the p50 latency a adds over b, round by round, as the
// median.
func pairedAdded(a, b *result) (float64, int) {
	return paired(a, b, func(x, y *result) (float64, bool) { return x.P50 - y.P50, x.P50 > 0 && y.P50 > 0 })
}

// paired is the median of f over the rounds where a and b both have
// numbers, or f of a and b themselves when they have no rounds in common.
func paired(a, b *result, f func(x, y *result) (float64, bool)) (float64, int) {
	var rs []float64
	for i := 0; i < len(a.rounds) && i < len(b.rounds); i++ {
		x, y := a.rounds[i], b.rounds[i]
		if x.Requests > 0 && y.Requests > 0 {
			if v, ok := f(x, y); ok {
				rs = append(rs, v)
			}
		}
	}
	if len(rs) == 0 {
		if v, ok := f(a, b); ok {
			return v, 1
		}
		return 0, 0
	}
	slices.Sort(rs)
	if n := len(rs); n%2 == 0 {
		return (rs[n/2-1] + rs[n/2]) / 2, n
	}
	return rs[len(rs)/2], len(rs)
}

// fmtPaired formats pairedRatio of a over b (either may be nil).
func fmtPaired(a, b *result, metric func(*result) float64) string {
	if a == nil || b == nil {
		return "–"
	}
	r, _ := pairedRatio(a, b, metric)
	return fmtRatio(r, 1)
}

func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// results indexes the run's numbers by scenario and proxy.
type results map[string]map[string]*result

func (rs results) add(r *result) {
	if rs[r.Scenario] == nil {
		rs[r.Scenario] = map[string]*result{}
	}
	rs[r.Scenario][r.Proxy] = r
}

// get returns a result that has numbers, or nil.
func (rs results) get(scenario, proxy string) *result {
	r := rs[scenario][proxy]
	if r == nil || r.Skipped != "" || r.Requests == 0 {
		return nil
	}
	return r
}

// writeTable writes a Markdown table with columns padded to line up in a
// terminal. align holds 'l' or 'r' per column (missing means left).
func writeTable(w io.Writer, header []string, align string, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len([]rune(h))
	}
	for _, row := range rows {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], len([]rune(c)))
			}
		}
	}
	pad := func(s string, i int) string {
		n := width[i] - len([]rune(s))
		if i < len(align) && align[i] == 'r' {
			return strings.Repeat(" ", n) + s
		}
		return s + strings.Repeat(" ", n)
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i := range header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + pad(c, i) + " |")
		}
		fmt.Fprintln(w, b.String())
	}
	line(header)
	var b strings.Builder
	b.WriteString("|")
	for i := range header {
		dashes := strings.Repeat("-", max(width[i], 3))
		if i < len(align) && align[i] == 'r' {
			dashes = dashes[:len(dashes)-1] + ":"
		}
		b.WriteString(" " + dashes + " |")
	}
	fmt.Fprintln(w, b.String())
	for _, row := range rows {
		line(row)
	}
}

// fmtRate prints a rate without false precision: whole numbers from 100 up.
func fmtRate(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtPercent(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtMS(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func fmtMiB(kib int64) string {
	if kib == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

// fmtRatio prints a/b as a percentage below 2 and as a multiple above.
func fmtRatio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	switch r := a / b; {
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	case r >= 2:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.0f%%", r*100)
	}
}

// writeResults writes the main table: one row per scenario and proxy.
func writeResults(w io.Writer, rs results, scenarios, proxies []string) {
	header := []string{"scenario", "proxy", "rate", "unit", "p50 ms", "p99 ms", "p50 added ms", "MiB/s", "RSS MiB", "peak RSS MiB", "proxy CPU µs/req", "requests", "errors", "origin conns", "other CPU %"}
	var rows [][]string
	for _, sc := range scenarios {
		direct := rs.get(sc, proxyDirect)
		for _, px := range proxies {
			r := rs[sc][px]
			if r == nil {
				continue
			}
			if r.Skipped != "" {
				rows = append(rows, []string{scenarioTitles[sc], px, "skipped: " + r.Skipped})
				continue
			}
			unit := "req/s"
			if sc == scHandshakes {
				unit = "handshakes/s"
			}
			added := "–"
			if direct != nil && px != proxyDirect && r.P50 > 0 {
				v, _ := pairedAdded(r, direct)
				added = fmt.Sprintf("%+.3f", v)
			}
			row := []string{
				scenarioTitles[sc], px, fmtRate(r.Rate), unit, fmtMS(r.P50), fmtMS(r.P99), added,
				"–", fmtMiB(r.RSSKiB), fmtMiB(r.PeakKiB), fmtRate(r.ProxyCPUus),
				fmt.Sprint(r.Requests), fmt.Sprint(r.Errors), fmt.Sprint(r.OriginConn), fmtPercent(r.OtherCPU),
			}
			if sc == scDownload {
				// One request: its rate and latency say nothing MiB/s does not.
				row[2], row[3], row[4], row[5], row[6], row[7] = "–", "", "–", "–", "–", fmtRate(r.MiBps)
			}
			rows = append(rows, row)
		}
	}
	writeTable(w, header, "llrlrrrrrrrrrrr", rows)
}

// writeRatios writes ours against the others, scenario by scenario.
func writeRatios(w io.Writer, rs results, scenarios []string) {
	header := []string{"scenario", "ours / goproxy", "ours / mitmdump", "ours / direct", "ours p50 added ms", "goproxy p50 added ms", "TCP relay p50 added ms"}
	withBase := false
	for _, sc := range scenarios {
		withBase = withBase || rs.get(sc, proxyBaseline) != nil
	}
	align := "lrrrrrr"
	if withBase {
		header = append(header, "ours / baseline")
		align += "r"
	}
	var rows [][]string
	for _, sc := range scenarios {
		ours := rs.get(sc, proxyOurs)
		if ours == nil {
			continue
		}
		metric := func(r *result) float64 {
			if r == nil {
				return 0
			}
			if sc == scDownload {
				return r.MiBps
			}
			return r.Rate
		}
		added := func(r *result) string {
			d := rs.get(sc, proxyDirect)
			if r == nil || d == nil || sc == scDownload {
				return "–"
			}
			v, _ := pairedAdded(r, d)
			return fmt.Sprintf("%+.3f", v)
		}
		row := []string{
			scenarioTitles[sc],
			fmtPaired(ours, rs.get(sc, proxyGoproxy), metric),
			fmtPaired(ours, rs.get(sc, proxyMitmdump), metric),
			fmtPaired(ours, rs.get(sc, proxyDirect), metric),
			added(ours),
			added(rs.get(sc, proxyGoproxy)),
			added(rs.get(sc, proxyRelay)),
		}
		if withBase {
			row = append(row, fmtPaired(ours, rs.get(sc, proxyBaseline), metric))
		}
		rows = append(rows, row)
	}
	writeTable(w, header, align, rows)
}

// target is one of the acceptance numbers, checked.
type target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	Need     string `json:"need"`
	Verdict  string `json:"verdict"` // PASS, FAIL, or n/a when a side is missing
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// evalTargets checks the targets against the measured numbers.
func evalTargets(rs results) []target {
	var out []target
	ratio := func(name, sc, other string, need float64, mbps bool) {
		t := target{Name: name, Need: fmt.Sprintf("≥ %s", fmtNeed(need)), Verdict: "n/a", Measured: "–"}
		a, b := rs.get(sc, proxyOurs), rs.get(sc, other)
		if a != nil && b != nil {
			metric := func(r *result) float64 { return r.Rate }
			if mbps {
				metric = func(r *result) float64 { return r.MiBps }
			}
			if x, n := pairedRatio(a, b, metric); n > 0 {
				t.Measured = fmtRatio(x, 1)
				t.Verdict = verdict(x >= need)
			}
		}
		out = append(out, t)
	}
	ratio("keep-alive HTTPS req/s, ours / bare goproxy", scHTTPS, proxyGoproxy, 0.8, false)
	ratio("keep-alive HTTPS req/s, ours / mitmdump", scHTTPS, proxyMitmdump, 15, false)
	added := func(name, sc string) {
		t := target{Name: name, Need: "≤ +0.200 ms", Verdict: "n/a", Measured: "–"}
		a, d := rs.get(sc, proxyOurs), rs.get(sc, proxyDirect)
		if a != nil && d != nil {
			added, _ := pairedAdded(a, d)
			t.Measured = fmt.Sprintf("%+.3f ms", added)
			t.Verdict = verdict(added <= 0.2)
		}
		out = append(out, t)
	}
	added("keep-alive HTTPS p50 added over direct, all conns", scHTTPS)
	added("keep-alive HTTPS p50 added over direct, 1 conn", scLatency)
	if a, d := rs.get(scLatency, proxyRelay), rs.get(scLatency, proxyDirect); a != nil && d != nil {
		// Not a target: what one more process on the path costs here,
		// under which no proxy can go.
		v, _ := pairedAdded(a, d)
		out = append(out, target{Name: "  the same through a bare TCP relay (this machine's floor)",
			Measured: fmt.Sprintf("%+.3f ms", v), Need: "–", Verdict: "floor"})
	}
	ratio("new-host handshakes/s, ours / bare goproxy", scHandshakes, proxyGoproxy, 0.9, false)
	ratio("new-host handshakes/s, ours / mitmdump", scHandshakes, proxyMitmdump, 6, false)
	ratio("download MiB/s, ours / bare goproxy", scDownload, proxyGoproxy, 0.8, true)
	limit := func(name, sc string, peak bool, mib int64) {
		t := target{Name: name, Need: fmt.Sprintf("< %d MiB", mib), Verdict: "n/a", Measured: "–"}
		if a := rs.get(sc, proxyOurs); a != nil {
			kib := a.RSSKiB
			if peak {
				kib = a.PeakKiB
			}
			if kib > 0 {
				t.Measured = fmtMiB(kib) + " MiB"
				t.Verdict = verdict(kib < mib*1024)
			}
		}
		out = append(out, t)
	}
	limit("download: ours peak RSS (VmHWM)", scDownload, true, 64)
	limit("after the flows: ours RSS (VmRSS)", scFlows, false, 150)
	return out
}

func fmtNeed(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%g×", v)
	}
	return fmt.Sprintf("%g%%", v*100)
}

func writeTargets(w io.Writer, ts []target) {
	rows := make([][]string, len(ts))
	for i, t := range ts {
		rows[i] = []string{t.Name, t.Measured, t.Need, t.Verdict}
	}
	writeTable(w, []string{"target (issue #2)", "measured", "need", "verdict"}, "lrrl", rows)
}
