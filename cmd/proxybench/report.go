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

// result is one proxy's numbers in one scenario.
type result struct {
	Scenario   string  `json:"scenario"`
	Origin     string  `json:"origin"` // origin kind: h1, h2 (ALPN offers), plain
	Mix        string  `json:"request_mix"`
	Client     string  `json:"client_proto"`             // HTTP version the client speaks to the proxy
	Upstream   string  `json:"upstream_proto,omitempty"` // HTTP versions the origin served meanwhile
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

// results indexes the run's numbers by case and proxy.
type results map[benchCase]map[string]*result

func (r *result) benchCase() benchCase { return benchCase{r.Scenario, r.Origin} }

func (rs results) add(r *result) {
	c := r.benchCase()
	if rs[c] == nil {
		rs[c] = map[string]*result{}
	}
	rs[c][r.Proxy] = r
}

// get returns a result that has numbers, or nil.
func (rs results) get(c benchCase, proxy string) *result {
	r := rs[c][proxy]
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

// metric is what a scenario's ratios compare: MiB/s for the download,
// requests (or handshakes) per second for the rest.
func metric(sc string) func(*result) float64 {
	if sc == scDownload {
		return func(r *result) float64 { return r.MiBps }
	}
	return func(r *result) float64 { return r.Rate }
}

// writeResults writes the main table: one row per case and proxy.
func writeResults(w io.Writer, rs results, cases []benchCase, proxies []string) {
	header := []string{"scenario", "origin ALPN", "proxy", "rate", "unit", "p50 ms", "p99 ms", "p50 added ms", "MiB/s", "RSS MiB", "peak RSS MiB", "proxy CPU µs/req", "requests", "errors", "origin conns", "upstream", "other CPU %"}
	var rows [][]string
	for _, c := range cases {
		sc := c.Scenario
		direct := rs.get(c, proxyDirect)
		for _, px := range proxies {
			r := rs[c][px]
			if r == nil {
				continue
			}
			if r.Skipped != "" {
				rows = append(rows, []string{scenarioInfos[sc].title, originTitles[c.Origin], px, "skipped: " + r.Skipped})
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
				scenarioInfos[sc].title, originTitles[c.Origin], px, fmtRate(r.Rate), unit, fmtMS(r.P50), fmtMS(r.P99), added,
				"–", fmtMiB(r.RSSKiB), fmtMiB(r.PeakKiB), fmtRate(r.ProxyCPUus),
				fmt.Sprint(r.Requests), fmt.Sprint(r.Errors), fmt.Sprint(r.OriginConn), r.Upstream, fmtPercent(r.OtherCPU),
			}
			if sc == scDownload {
				// One request: its rate and latency say nothing MiB/s does not.
				row[3], row[4], row[5], row[6], row[7], row[8] = "–", "", "–", "–", "–", fmtRate(r.MiBps)
			}
			rows = append(rows, row)
		}
	}
	writeTable(w, header, "lllrlrrrrrrrrrrlr", rows)
}

// writeRatios writes ours against the others, case by case, each row
// saying which origin and which request mix it measured.
func writeRatios(w io.Writer, rs results, cases []benchCase) {
	header := []string{"scenario", "origin ALPN", "ours / goproxy", "ours / mitmdump", "ours / direct", "ours p50 added ms", "goproxy p50 added ms", "TCP relay p50 added ms"}
	withBase := false
	for _, c := range cases {
		withBase = withBase || rs.get(c, proxyBaseline) != nil
	}
	align := "llrrrrrr"
	if withBase {
		header = append(header, "ours / baseline")
		align += "r"
	}
	header = append(header, "request mix")
	align += "l"
	var rows [][]string
	for _, c := range cases {
		ours := rs.get(c, proxyOurs)
		if ours == nil {
			continue
		}
		m := metric(c.Scenario)
		added := func(r *result) string {
			d := rs.get(c, proxyDirect)
			if r == nil || d == nil || c.Scenario == scDownload {
				return "–"
			}
			v, _ := pairedAdded(r, d)
			return fmt.Sprintf("%+.3f", v)
		}
		row := []string{
			scenarioInfos[c.Scenario].title,
			originTitles[c.Origin],
			fmtPaired(ours, rs.get(c, proxyGoproxy), m),
			fmtPaired(ours, rs.get(c, proxyMitmdump), m),
			fmtPaired(ours, rs.get(c, proxyDirect), m),
			added(ours),
			added(rs.get(c, proxyGoproxy)),
			added(rs.get(c, proxyRelay)),
		}
		if withBase {
			row = append(row, fmtPaired(ours, rs.get(c, proxyBaseline), m))
		}
		rows = append(rows, append(row, ours.Mix))
	}
	writeTable(w, header, align, rows)
}

// target is one of the issues' acceptance numbers, checked.
type target struct {
	Issue    string `json:"issue"`
	Name     string `json:"name"`
	Origin   string `json:"origin"`
	Measured string `json:"measured"`
	Need     string `json:"need"`
	Verdict  string `json:"verdict"` // PASS, FAIL, n/a when a side is missing; figure or floor when there is no target
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// Issues whose targets the report checks.
const (
	issueCapture = "#2"  // the capture engine, measured with the HTTP/1.1-only origin
	issueSpeed   = "#21" // speed on the traffic users have: both origin kinds, bodies, HTTP/2 clients
)

// evalTargets checks the issues' targets against the measured numbers:
// issue 21's for each origin kind measured (they supersede issue 2's
// ratios and download memory), then issue 2's others, with the
// HTTP/1.1-only origin they were set with.
func evalTargets(rs results) []target {
	var out []target
	// ratio checks ours over other in case c; need 0 is a figure, no target.
	ratio := func(issue, name string, c benchCase, other string, need float64) {
		t := target{Issue: issue, Name: name, Origin: originTitles[c.Origin], Need: "–", Verdict: "n/a", Measured: "–"}
		if need > 0 {
			t.Need = fmt.Sprintf("≥ %s", fmtNeed(need))
		}
		a, b := rs.get(c, proxyOurs), rs.get(c, other)
		if a != nil && b != nil {
			if x, n := pairedRatio(a, b, metric(c.Scenario)); n > 0 {
				t.Measured = fmtRatio(x, 1)
				t.Verdict = "figure"
				if need > 0 {
					t.Verdict = verdict(x >= need)
				}
			}
		}
		out = append(out, t)
	}
	limit := func(issue, name string, c benchCase, peak bool, mib int64) {
		t := target{Issue: issue, Name: name, Origin: originTitles[c.Origin], Need: fmt.Sprintf("< %d MiB", mib), Verdict: "n/a", Measured: "–"}
		if a := rs.get(c, proxyOurs); a != nil {
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
	for _, o := range allOrigins {
		if !measured(rs, o) {
			continue
		}
		ratio(issueSpeed, "keep-alive HTTPS GET req/s, ours / bare goproxy", benchCase{scHTTPS, o}, proxyGoproxy, 0.9)
		ratio(issueSpeed, "keep-alive HTTPS GET req/s, ours / mitmdump", benchCase{scHTTPS, o}, proxyMitmdump, 15)
		ratio(issueSpeed, "keep-alive HTTPS POST 4 KiB req/s, ours / bare goproxy", benchCase{scPost, o}, proxyGoproxy, 0.9)
		ratio(issueSpeed, "download MiB/s, ours / bare goproxy", benchCase{scDownload, o}, proxyGoproxy, 0.9)
		limit(issueSpeed, "download: ours peak RSS (VmHWM)", benchCase{scDownload, o}, true, 24)
		if o == originH2 {
			ratio(issueSpeed, "HTTP/2 client req/s, ours / bare goproxy", benchCase{scH2, o}, proxyGoproxy, 0)
			ratio(issueSpeed, "HTTP/2 client req/s, ours / mitmdump", benchCase{scH2, o}, proxyMitmdump, 0)
		}
	}

	h1 := func(sc string) benchCase { return benchCase{sc, originH1} }
	added := func(name string, c benchCase) {
		t := target{Issue: issueCapture, Name: name, Origin: originTitles[c.Origin], Need: "≤ +0.200 ms", Verdict: "n/a", Measured: "–"}
		a, d := rs.get(c, proxyOurs), rs.get(c, proxyDirect)
		if a != nil && d != nil {
			added, _ := pairedAdded(a, d)
			t.Measured = fmt.Sprintf("%+.3f ms", added)
			t.Verdict = verdict(added <= 0.2)
		}
		out = append(out, t)
	}
	added("keep-alive HTTPS p50 added over direct, all conns", h1(scHTTPS))
	added("keep-alive HTTPS p50 added over direct, 1 conn", h1(scLatency))
	if a, d := rs.get(h1(scLatency), proxyRelay), rs.get(h1(scLatency), proxyDirect); a != nil && d != nil {
		// Not a target: what one more process on the path costs here,
		// under which no proxy can go.
		v, _ := pairedAdded(a, d)
		out = append(out, target{Issue: issueCapture, Name: "  the same through a bare TCP relay (this machine's floor)", Origin: originTitles[originH1],
			Measured: fmt.Sprintf("%+.3f ms", v), Need: "–", Verdict: "floor"})
	}
	ratio(issueCapture, "new-host handshakes/s, ours / bare goproxy", h1(scHandshakes), proxyGoproxy, 0.9)
	ratio(issueCapture, "new-host handshakes/s, ours / mitmdump", h1(scHandshakes), proxyMitmdump, 6)
	limit(issueCapture, "after the flows: ours RSS (VmRSS)", h1(scFlows), false, 150)
	return out
}

// measured tells whether any scenario ran against origin kind o.
func measured(rs results, o string) bool {
	for c := range rs {
		if c.Origin == o {
			return true
		}
	}
	return false
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
		rows[i] = []string{t.Issue, t.Name, t.Origin, t.Measured, t.Need, t.Verdict}
	}
	writeTable(w, []string{"issue", "target", "origin ALPN", "measured", "need", "verdict"}, "lllrrl", rows)
}
