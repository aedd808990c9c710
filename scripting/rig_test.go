package scripting_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
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
	mo := append([]func(*mitm.Options){func(o *mitm.Options) {
		if c := r.srv.Certificate(); c != nil {
			o.UpstreamRoots = append(o.UpstreamRoots, c)
		}
	}}, mopts...)
	log := flowstore.NewEventLog(10000)
	o := scripting.Options{Paths: paths, Log: log}
	for _, fn := range opts {
		fn(&o)
	}
	eng, err := scripting.New(o)
	if err != nil {
		t.Fatalf("scripting.New: %v", err)
	}
	t.Cleanup(eng.Close)
	r.eng = eng
	r.env = startWithHook(t, log, eng, mo...)
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

// startWithHook is mitmtest.Start with a hook added before the proxy
// serves: AddHook must come first, and a client in another process
// (curl) would otherwise meet the race detector.
func startWithHook(t testing.TB, log *flowstore.EventLog, h any, opts ...func(*mitm.Options)) *mitmtest.Env {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := certs.LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	e := &mitmtest.Env{T: t, Store: flowstore.NewStore(0), Log: log, CA: ca, Dir: dir}
	o := mitm.Options{Store: e.Store, Log: e.Log, CA: ca}
	for _, fn := range opts {
		fn(&o)
	}
	p, err := mitm.New(o)
	if err != nil {
		t.Fatalf("mitm.New: %v", err)
	}
	if err := p.AddHook(h); err != nil {
		t.Fatal(err)
	}
	e.Proxy = p
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	e.URL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("proxy did not stop within 5s")
		}
	})
	return e
}
