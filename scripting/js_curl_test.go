package scripting_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/mitm"
)

// needCurl finds curl, or skips the test naming the package to install.
func needCurl(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install the Debian package curl")
	}
	return p
}

// curlResult is what curl printed: the response head and body.
type curlResult struct {
	status int
	header http.Header
	body   string
}

// curl runs curl through the rig's proxy, trusting its CA.
func (r *rig) curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	bin := needCurl(t)
	base := []string{"-sS", "-i", "--max-time", "20", "--proxy", r.env.URL.String(), "--cacert", filepath.Join(r.env.Dir, certs.CertFile)}
	out, err := exec.Command(bin, append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	// With -i and a proxy, curl first prints the CONNECT's answer.
	for bytes.HasPrefix(out, []byte("HTTP/1.1 200 Connection established")) || bytes.HasPrefix(out, []byte("HTTP/1.0 200 Connection established")) {
		i := bytes.Index(out, []byte("\r\n\r\n"))
		out = out[i+4:]
	}
	i := bytes.Index(out, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("curl printed no head:\n%s", out)
	}
	lines := strings.Split(string(out[:i]), "\r\n")
	res := curlResult{header: http.Header{}, body: string(out[i+4:])}
	if f := strings.Fields(lines[0]); len(f) >= 2 {
		res.status, _ = strconv.Atoi(f[1])
	}
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok {
			res.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return res
}

// The flow-scripting documents' JavaScript example, as a fixture, through
// the real proxy with curl over HTTPS.
func TestDocumentExampleFlowScriptWithCurl(t *testing.T) {
	r := newRig(t, false, nil, fixture("design.js"))
	got := r.curl(t, "--data-binary", "hello", r.url("/design"))
	if got.status != 200 || got.body != "overwritten response" || got.header.Get("Server") != "JSProxy" {
		t.Fatalf("curl got %+v", got)
	}
	s, _ := r.lastSeen("/design")
	if s.Method != "POST" || s.Header.Get("X-Trace") != "abc123" || s.Body != "hello appended from JS" {
		t.Fatalf("origin got %+v", s)
	}
	f := r.env.WaitFlow(r.url("/design"))
	logged(t, r.env.Log, "[script:design.js] "+strings.TrimPrefix(r.srv.URL, "https://"), f.ID)
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// The Plenum interceptor documents' form: a YAML list of modules, hooks
// and functions given to -s as it is, through the real proxy with curl:
// a respond action short-circuits, continue sets and deletes (null)
// headers, ctx passes from one interceptor to a later one,
// crypto.randomUUID() works, and the response hooks see the head and then
// the JSON body.
func TestDocumentExamplePlenumWithCurl(t *testing.T) {
	r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items": [1, 2]}`)
	}, fixture("plenum", "interceptors.yaml"))

	t.Run("respond without the key", func(t *testing.T) {
		got := r.curl(t, r.url("/api/items"))
		if got.status != 401 || got.body != `{"error":"Unauthorized"}` || got.header.Get("Content-Type") != "application/json" {
			t.Fatalf("curl got %+v", got)
		}
		if _, ok := r.lastSeen("/api/items"); ok {
			t.Fatal("the origin was contacted")
		}
	})
	t.Run("continue with the key", func(t *testing.T) {
		got := r.curl(t, "-H", "X-Api-Key: secret", "-H", "X-Remove-Me: 1", r.url("/api/items?x=1"))
		var body map[string]any
		if err := json.Unmarshal([]byte(got.body), &body); err != nil || got.status != 200 || body["interceptedBy"] != "plenum" ||
			got.header.Get("X-Upstream-Status") != "200" || got.header.Get("Content-Length") != strconv.Itoa(len(got.body)) {
			t.Fatalf("curl got %+v (%v)", got, err)
		}
		s, _ := r.lastSeen("/api/items?x=1")
		if !uuidV4.MatchString(s.Header.Get("X-Request-Id")) || s.Header.Get("X-Remove-Me") != "" || s.Header.Get("X-User-Id") != "123" {
			t.Fatalf("origin got %v", s.Header)
		}
	})
	t.Run("a request the match leaves out", func(t *testing.T) {
		got := r.curl(t, r.url("/public"))
		if got.status != 200 {
			t.Fatalf("curl got %+v", got)
		}
		if s, _ := r.lastSeen("/public"); s.Header.Get("X-User-Id") != "anonymous" {
			t.Fatalf("origin got %v", s.Header)
		}
	})
}

// The twin of TestResponseChunkRedacts100MiB, with the JavaScript twin of
// examples/redact_stream.lua.
func TestResponseChunkRedacts100MiBJS(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MiB")
	}
	const size = 100 << 20
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
	}, example("redact_stream.js"),
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
	if growth > 48<<20 {
		t.Fatalf("heap grew by %d MiB while streaming 100 MiB", growth>>20)
	}
}
