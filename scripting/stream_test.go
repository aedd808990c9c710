package scripting_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/mitm"
)

// redactChecker reads the redacted stream as it arrives: it counts masks
// and bytes, and fails on any "secret" left, across read boundaries too.
type redactChecker struct {
	tail   []byte
	n      int64
	masks  int
	leaked int
}

func (c *redactChecker) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	buf := append(c.tail, p...)
	c.leaked += bytes.Count(buf, []byte("secret"))
	c.masks += bytes.Count(buf, []byte("******"))
	// keep 5 bytes so a word split across writes is seen once
	k := min(5, len(buf))
	tail := buf[len(buf)-k:]
	// a mask or word wholly inside the kept tail would be counted twice
	c.tail = append([]byte(nil), tail...)
	return len(p), nil
}

// The acceptance test for responsechunk: a 100 MiB streamed response loses
// every "secret" on its way to the client, and the proxy's heap does not
// grow with the body.
func TestResponseChunkRedacts100MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MiB")
	}
	const size = 100 << 20
	// "secret" then filler: 997 is prime, so the words fall across every
	// kind of chunk and read boundary.
	unit := append([]byte("secret"), bytes.Repeat([]byte("."), 991)...)
	r := newRigWith(t, false, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		buf := make([]byte, 32<<10+123)
		off := 0
		for sent := 0; sent < size; {
			n := min(len(buf), size-sent)
			for i := range n {
				buf[i] = unit[(off+i)%len(unit)]
			}
			off = (off + n) % len(unit)
			if _, err := w.Write(buf[:n]); err != nil {
				return
			}
			sent += n
		}
	}, []string{filepath.Join("examples", "redact_stream.lua")},
		[]func(*mitm.Options){func(o *mitm.Options) { o.BodyLimit = 1 << 20 }})

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	start := time.Now()
	resp, err := r.client.Get(r.url("/big"))
	if err != nil {
		t.Fatal(err)
	}
	chk := &redactChecker{}
	_, err = io.Copy(chk, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	words := (size + len(unit) - 1) / len(unit)
	if chk.n != size || chk.leaked != 0 || chk.masks != words {
		t.Fatalf("client got %d bytes, %d masks (want %d), %d words left", chk.n, chk.masks, words, chk.leaked)
	}
	f := r.env.WaitFlow(r.url("/big"))
	if f.Response.Body.Size != size || !f.Response.Body.Truncated || len(f.Response.Body.Data) > 1<<20 {
		t.Fatalf("flow body size %d truncated %v kept %d", f.Response.Body.Size, f.Response.Body.Truncated, len(f.Response.Body.Data))
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("100 MiB redacted in %s; heap in use %d MiB before, peak %d MiB (growth %d MiB)",
		took.Round(time.Millisecond), base>>20, peak.Load()>>20, growth>>20)
	// Buffering the body would need more than 100 MiB; streaming needs a
	// few chunks, the capped copy (1 MiB) and the GC's headroom.
	if growth > 48<<20 {
		t.Fatalf("heap grew by %d MiB while streaming 100 MiB", growth>>20)
	}
}
