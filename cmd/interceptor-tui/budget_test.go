package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// itemBody is the 10 KiB body the origin answers /item/N with; it says N
// all along, so a flow opened in the TUI shows whose body it is.
func itemBody(n string) []byte {
	line := "item " + n + " of the memory budget run\n"
	return bytes.Repeat([]byte(line), 10240/len(line)+1)[:10240]
}

// formatCount writes n as the status bar does: 1,000,000.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// pidWithArg finds the process whose command line holds arg.
func pidWithArg(arg string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(cl, []byte(arg)) && bytes.HasPrefix(cl, []byte(binary)) {
			return pid
		}
	}
	return 0
}

// rssOf is a process's resident set size in bytes.
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// BenchmarkMemoryBudget runs the real program with its TUI in tmux and a
// 512 MiB memory budget, sends b.N requests whose responses carry 10 KiB
// bodies through it from 8 keep-alive clients, samples the program's RSS
// all along, then opens the very first flow in the TUI and checks that
// its body is shown. A million flows:
//
//	go test -run XXX -bench MemoryBudget -benchtime 1000000x -timeout 60m ./cmd/interceptor-tui/
func BenchmarkMemoryBudget(b *testing.B) {
	needTmux(b)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(itemBody(strings.TrimPrefix(r.URL.Path, "/item/")))
	}))
	defer origin.Close()
	spoolDir := b.TempDir()
	const budget = 512 << 20
	s := startTmux(b, b.TempDir(), "--memory-budget", "512MiB", "--max-flows", "0", "--spool-dir", spoolDir)
	s.name = "itui"
	addr := s.waitFor(`(127\.0\.0\.1:\d+) │`)[1]
	pid := pidWithArg(spoolDir)
	if pid == 0 {
		b.Fatal("cannot find the program's process")
	}

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if r := rssOf(pid); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()

	proxyURL, _ := url.Parse("http://" + addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), MaxIdleConnsPerHost: 16}}
	// Flow 0 goes first and alone, so it is the first row of the list.
	if resp, err := client.Get(origin.URL + "/item/0"); err != nil {
		b.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var next atomic.Int64
	next.Store(1)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	b.ResetTimer()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				resp, err := client.Get(origin.URL + "/item/" + strconv.FormatInt(i, 10))
				if err != nil {
					failed.Add(1)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if len(body) != 10240 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	elapsed := time.Since(start)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}

	// The first flow, long since spooled, opens with its body (once the
	// list shows as many flows as were sent).
	s.waitFor(regexp.QuoteMeta(" " + formatCount(b.N) + " flow"))
	s.keys("g")
	s.keys("Enter")
	s.waitFor(`\[Request\]`)
	s.keys("Tab")
	s.waitFor(`item 0 of the memory budget run`)
	close(stop)
	<-sampled
	final := rssOf(pid)
	spool := dirSize(spoolDir)
	s.keys("Q")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(final)/(1<<20), "end-RSS-MiB")
	b.ReportMetric(float64(budget)/(1<<20), "budget-MiB")
	b.ReportMetric(float64(spool)/(1<<30), "spool-GiB")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "flows/s")
}

// TestMemoryBudgetSpoolsAndKeepsEveryFlow sends 30 MiB of bodies through a
// program with a 16 MiB budget: the spool takes the old flows, the HAR
// written at exit still holds every flow with its body (read back from the
// spool), and the spool is gone afterwards.
func TestMemoryBudgetSpoolsAndKeepsEveryFlow(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(itemBody(strings.TrimPrefix(r.URL.Path, "/item/")))
	}))
	defer origin.Close()
	spoolDir, harFile := t.TempDir(), filepath.Join(t.TempDir(), "all.har")
	p := startHeadless(t, t.TempDir(), "--memory-budget", "16MiB", "--max-flows", "0",
		"--spool-dir", spoolDir, "--har", harFile)
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	const n = 3000
	for i := range n {
		resp, err := client.Get(origin.URL + "/item/" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	p.waitLines(n)
	waitFor(t, func() bool { return dirSize(spoolDir) > 10<<20 })
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.errText())
	}
	hf, err := os.Open(harFile)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	flows, warns, err := har.Read(hf)
	if err != nil || len(warns) > 0 {
		t.Fatalf("HAR: %v %v", err, warns)
	}
	if len(flows) != n {
		t.Fatalf("HAR holds %d flows, want %d", len(flows), n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		want := itemBody(strconv.Itoa(i))
		if got := flows[i].Response.Body.Data; !bytes.Equal(got, want) {
			t.Fatalf("flow %d body: %d bytes %.40q, want %.40q", i, len(got), got, want)
		}
	}
	if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
		t.Fatalf("the spool outlived the program: %v", left)
	}
}

// Sizes are read and written by flowstore.ParseSize and FormatSizeExact
// (tested there); here, that the flags use them.
func TestSizeFlags(t *testing.T) {
	cfg, err := parseRunFlags([]string{"--body-limit", "1.5k", "--disk-budget", "16g"}, io.Discard)
	if err != nil || cfg.bodyLimit != 1536 || cfg.diskBudget != 16<<30 {
		t.Fatalf("--body-limit 1.5k --disk-budget 16g: %+v, %v", cfg, err)
	}
	if _, err := parseRunFlags([]string{"--body-limit", "nan"}, io.Discard); err == nil {
		t.Error("--body-limit nan was accepted")
	}
	if _, err := parseRunFlags([]string{"--memory-budget", "1MiB"}, io.Discard); err != nil {
		t.Fatal(err) // too small is the store's to refuse, when it starts
	}
}

// --help shows every flag with readable defaults, on stdout.
func TestHelpListsFlags(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, _ := runIn(t, "", arg)
		if code != 0 || !strings.Contains(out, "-memory-budget size") || !strings.Contains(out, "(default 512MiB)") ||
			!strings.Contains(out, "(default 16GiB)") || !strings.Contains(out, "-max-flows N") {
			t.Fatalf("%s: exit %d, output:\n%s", arg, code, out)
		}
	}
}
