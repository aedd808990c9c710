package mitm_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func raiseFDLimit(t *testing.T, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur < need {
		lim.Cur = min(need, lim.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		t.Skipf("needs %d open files; the limit is %d (ulimit -n)", need, lim.Cur)
	}
}

// TestThousandConcurrentConnections holds 1 000 client connections open
// through the proxy at once (the origin answers only when all have
// arrived), then checks every answer and that goroutines and file
// descriptors go back to where they were.
func TestThousandConcurrentConnections(t *testing.T) {
	const n = 1000
	raiseFDLimit(t, 6*n)
	var arrived atomic.Int32
	all := make(chan struct{})
	var once sync.Once
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
		}
		fmt.Fprint(w, r.URL.Path)
	}))
	defer origin.Close()
	env := mitmtest.Start(t)
	time.Sleep(50 * time.Millisecond)
	goBefore, fdBefore := runtime.NumGoroutine(), openFDs()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	var transports []*http.Transport
	for i := 0; i < n; i++ {
		tr := env.Transport()
		tr.DisableKeepAlives = true
		transports = append(transports, tr)
		wg.Add(1)
		go func(i int, tr *http.Transport) {
			defer wg.Done()
			resp, err := (&http.Client{Transport: tr, Timeout: 60 * time.Second}).Get(fmt.Sprintf("%s/c%d", origin.URL, i))
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != fmt.Sprintf("/c%d", i) {
				errs <- fmt.Errorf("connection %d got %q", i, body)
			}
		}(i, tr)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := int(arrived.Load()); got != n {
		t.Fatalf("origin saw %d requests, want %d", got, n)
	}
	env.WaitFlows(n)
	for _, tr := range transports {
		tr.CloseIdleConnections()
	}
	origin.CloseClientConnections()
	mitmtest.Within(10*time.Second, func() bool { return runtime.NumGoroutine() <= goBefore+5 && openFDs() <= fdBefore+5 })
	if g, fd := runtime.NumGoroutine(), openFDs(); g > goBefore+5 || fd > fdBefore+5 {
		t.Fatalf("after 1000 connections: goroutines %d (before %d), fds %d (before %d)", g, goBefore, fd, fdBefore)
	}
}

// TestSoak runs steady traffic with a small --max-flows for a long time and
// checks that memory, goroutines and file descriptors stay flat once the
// store is full. It is long, so it runs only when asked:
//
//	INTERCEPTOR_SOAK=10m go test -run TestSoak -v ./mitm/
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("INTERCEPTOR_SOAK"))
	if err != nil || d <= 0 || testing.Short() {
		t.Skip("set INTERCEPTOR_SOAK=10m to run the soak test")
	}
	body := make([]byte, 2048)
	origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer origin.Close()
	store := flowstore.NewStore(2000)
	env := mitmtest.Start(t, trustOrigin(origin), func(o *mitm.Options) { o.Store = store })
	client := env.Client()
	const rate = 500 // requests per second
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	sample := func() (heap uint64, g, fds int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, runtime.NumGoroutine(), openFDs()
	}
	warm := time.Now().Add(d / 10)
	end := time.Now().Add(d)
	var h0 uint64
	var g0, f0 int
	var maxHeap uint64
	var sent int
	for now := range tick.C {
		if now.After(end) {
			break
		}
		if h0 == 0 && now.After(warm) {
			h0, g0, f0 = sample()
			t.Logf("after warm-up (%d requests): heap %d MiB, goroutines %d, fds %d, flows %d", sent, h0>>20, g0, f0, store.Len())
		}
		resp, err := client.Get(fmt.Sprintf("%s/s%d", origin.URL, sent))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		sent++
		if h0 != 0 && sent%(rate*10) == 0 {
			h, _, _ := sample()
			maxHeap = max(maxHeap, h)
		}
	}
	client.CloseIdleConnections()
	time.Sleep(200 * time.Millisecond)
	h1, g1, f1 := sample()
	t.Logf("end (%d requests): heap %d MiB (max seen %d MiB), goroutines %d, fds %d, flows %d", sent, h1>>20, maxHeap>>20, g1, f1, store.Len())
	if h1 > h0*3/2+8<<20 {
		t.Errorf("heap grew from %d to %d MiB with the store full", h0>>20, h1>>20)
	}
	if g1 > g0+5 || f1 > f0+5 {
		t.Errorf("goroutines %d→%d, fds %d→%d", g0, g1, f0, f1)
	}
}
