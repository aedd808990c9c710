package scripting_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// seen is a request as the origin received it.
type seen struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// rig is a proxy with scripts, an origin that records what reaches it,
// and a client through the proxy.
type rig struct {
	t      testing.TB
	env    *mitmtest.Env
	eng    *scripting.Engine
	srv    *httptest.Server
	client *http.Client

	mu   sync.Mutex
	seen []seen
}

// newRig starts an origin (HTTPS unless plain), a proxy and the scripts
// at paths. handler answers the origin's requests after they are recorded
// (nil: "origin says hi").
func newRig(t testing.TB, plain bool, handler http.HandlerFunc, paths []string, opts ...func(*scripting.Options)) *rig {
	t.Helper()
	return newRigWith(t, plain, handler, paths, nil, opts...)
}

// newRigWith is newRig with proxy options too.
func newRigWith(t testing.TB, plain bool, handler http.HandlerFunc, paths []string, mopts []func(*mitm.Options), opts ...func(*scripting.Options)) *rig {
	t.Helper()
	r := &rig{t: t}
	if handler == nil {
		handler = func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "origin says hi")
		}
	}
	h := func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, seen{req.Method, req.URL.RequestURI(), req.Header.Clone(), string(body)})
		r.mu.Unlock()
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		handler(w, req)
	}
	if plain {
		r.srv = httptest.NewServer(http.HandlerFunc(h))
	} else {
		r.srv = httptest.NewTLSServer(http.HandlerFunc(h))
	}
	t.Cleanup(r.srv.Close)
	r.env = mitmtest.Start(t, append([]func(*mitm.Options){func(o *mitm.Options) {
		if c := r.srv.Certificate(); c != nil {
			o.UpstreamRoots = append(o.UpstreamRoots, c)
		}
	}}, mopts...)...)
	o := scripting.Options{Paths: paths, Log: r.env.Log}
	for _, fn := range opts {
		fn(&o)
	}
	eng, err := scripting.New(o)
	if err != nil {
		t.Fatalf("scripting.New: %v", err)
	}
	t.Cleanup(eng.Close)
	r.eng = eng
	if err := r.env.Proxy.AddHook(eng); err != nil {
		t.Fatal(err)
	}
	r.client = r.env.Client()
	return r
}

// script writes one script and returns its path in a list.
func script(t testing.TB, src string) []string { return []string{writeScript(t, "hooks.lua", src)} }

func (r *rig) url(path string) string { return r.srv.URL + path }

// lastSeen is the last request that reached the origin for path.
func (r *rig) lastSeen(path string) (seen, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.seen) - 1; i >= 0; i-- {
		if r.seen[i].Path == path {
			return r.seen[i], true
		}
	}
	return seen{}, false
}

type reply struct {
	status int
	header http.Header
	body   string
	err    error
}

func (r *rig) do(method, path, body string, hdr ...string) reply {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url(path), strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func (r *rig) get(path string, hdr ...string) reply {
	r.t.Helper()
	return r.do("GET", path, "", hdr...)
}

// waitFor polls cond for up to 10s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
