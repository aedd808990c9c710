package mitm_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// recorder is an origin that remembers what it received.
type recorder struct {
	hits    atomic.Int32
	last    atomic.Value // string: "METHOD path headers... body"
	handler http.HandlerFunc
}

func newRecorder() *recorder {
	rec := &recorder{}
	rec.handler = func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		rec.last.Store(fmt.Sprintf("%s %s x-added=%s body=%s", r.Method, r.URL.Path, r.Header.Get("X-Added"), body))
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "origin says hi to %s", r.URL.Path)
	}
	return rec
}

func (r *recorder) lastSeen() string {
	s, _ := r.last.Load().(string)
	return s
}

func waitPaused(t *testing.T, env *mitmtest.Env, phase flowstore.Phase) *flowstore.Flow {
	t.Helper()
	return env.WaitAny("paused at the "+string(phase)+" phase", func(f *flowstore.Flow) bool {
		return f.State == flowstore.StatePaused && f.Paused == phase
	})
}

type result struct {
	status int
	body   string
	err    error
}

func goGet(client *http.Client, method, u, body string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			ch <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ch <- result{status: resp.StatusCode, body: string(b)}
	}()
	return ch
}

func within(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
	}
	return result{}
}

// origins gives plain, TLS and HTTP/2 variants of one test.
func origins(t *testing.T, h http.Handler, run func(t *testing.T, env *mitmtest.Env, client *http.Client, base string)) {
	for _, kind := range []string{"http", "https", "h2"} {
		t.Run(kind, func(t *testing.T) {
			var srv *httptest.Server
			switch kind {
			case "http":
				srv = httptest.NewServer(h)
			default:
				srv = httptest.NewUnstartedServer(h)
				srv.EnableHTTP2 = kind == "h2"
				srv.StartTLS()
			}
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv))
			client := env.Client()
			if kind == "h2" {
				client = env.ClientH2()
			}
			run(t, env, client, srv.URL)
		})
	}
}

func TestPausedRequestEditedThenResumed(t *testing.T) {
	rec := newRecorder()
	origins(t, rec.handler, func(t *testing.T, env *mitmtest.Env, client *http.Client, base string) {
		if err := env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /pause", Request: true}}); err != nil {
			t.Fatal(err)
		}
		paused := goGet(client, "POST", base+"/pause", "original body")
		f := waitPaused(t, env, flowstore.PhaseRequest)
		if string(f.Request.Body.Data) != "original body" {
			t.Fatalf("paused flow shows body %q", f.Request.Body.Data)
		}
		// Other flows pass meanwhile.
		if r := within(t, goGet(client, "GET", base+"/other", "")); r.status != 200 {
			t.Fatalf("other flow: %+v", r)
		}
		env.Store.Update(f.ID, func(f *flowstore.Flow) {
			f.KeepOriginal()
			f.Request.Headers.Add("X-Added", "by hand")
			f.Request.Body = flowstore.NewBody([]byte("edited body, longer than before"))
		})
		if err := env.Proxy.Resume(f.ID); err != nil {
			t.Fatal(err)
		}
		r := within(t, paused)
		if r.err != nil || r.status != 200 {
			t.Fatalf("paused client got %+v", r)
		}
		if got := rec.lastSeen(); got != "POST /pause x-added=by hand body=edited body, longer than before" {
			t.Fatalf("origin saw %q", got)
		}
		done := env.WaitFlow(base + "/pause")
		if !done.Edited() || string(done.Original.Request.Body.Data) != "original body" || done.State != flowstore.StateDone {
			t.Fatalf("flow edited=%v original=%+v state=%v", done.Edited(), done.Original, done.State)
		}
	})
}

func TestPausedResponseEdited(t *testing.T) {
	rec := newRecorder()
	origins(t, rec.handler, func(t *testing.T, env *mitmtest.Env, client *http.Client, base string) {
		env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /resp", Response: true}})
		paused := goGet(client, "GET", base+"/resp", "")
		f := waitPaused(t, env, flowstore.PhaseResponse)
		if !strings.HasPrefix(string(f.Response.Body.Data), "origin says hi") {
			t.Fatalf("paused response body %q", f.Response.Body.Data)
		}
		env.Store.Update(f.ID, func(f *flowstore.Flow) {
			f.KeepOriginal()
			f.Response.Status = 418
			f.Response.Body = flowstore.NewBody([]byte("teapot"))
		})
		env.Proxy.Resume(f.ID)
		r := within(t, paused)
		if r.status != 418 || r.body != "teapot" {
			t.Fatalf("client got %+v", r)
		}
	})
}

func TestKillAndAnswer(t *testing.T) {
	rec := newRecorder()
	origins(t, rec.handler, func(t *testing.T, env *mitmtest.Env, client *http.Client, base string) {
		env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /bp", Request: true}})
		before := rec.hits.Load()

		killed := goGet(client, "GET", base+"/bp/kill", "")
		f := waitPaused(t, env, flowstore.PhaseRequest)
		if err := env.Proxy.Kill(f.ID); err != nil {
			t.Fatal(err)
		}
		if r := within(t, killed); r.err == nil {
			t.Fatalf("killed flow answered %+v; want the connection closed", r)
		}
		if k := env.WaitFlow(base + "/bp/kill"); k.State != flowstore.StateKilled {
			t.Fatalf("state %v", k.State)
		}

		answered := goGet(client, "GET", base+"/bp/answer", "")
		f = waitPaused(t, env, flowstore.PhaseRequest)
		env.Proxy.Respond(f.ID, &flowstore.Response{Status: 201, Headers: flowstore.Headers{{Name: "X-Written", Value: "yes"}}, Body: flowstore.NewBody([]byte("written by hand"))})
		r := within(t, answered)
		if r.status != 201 || r.body != "written by hand" {
			t.Fatalf("client got %+v", r)
		}
		if rec.hits.Load() != before {
			t.Fatalf("the origin was contacted %d times", rec.hits.Load()-before)
		}
		a := env.WaitFlow(base + "/bp/answer")
		if a.Response == nil || a.Response.Status != 201 || a.State != flowstore.StateDone {
			t.Fatalf("answered flow %+v %v", a.Response, a.State)
		}
	})
}

func TestClientLeavesWhilePaused(t *testing.T) {
	rec := newRecorder()
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			var srv *httptest.Server
			if tlsOn {
				srv = httptest.NewTLSServer(rec.handler)
			} else {
				srv = httptest.NewServer(rec.handler)
			}
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv))
			env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /leave", Request: true}})
			time.Sleep(20 * time.Millisecond)
			start := runtime.NumGoroutine()

			conn, err := net.Dial("tcp", env.URL.Host)
			if err != nil {
				t.Fatal(err)
			}
			host := srv.Listener.Addr().String()
			var w io.Writer = conn
			if tlsOn {
				fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
				br := bufio.NewReader(conn)
				if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
					t.Fatalf("CONNECT %v %v", resp, err)
				}
				tc := tls.Client(conn, &tls.Config{RootCAs: env.CAPool(), ServerName: "127.0.0.1"})
				w = tc
				fmt.Fprintf(w, "GET /leave HTTP/1.1\r\nHost: %s\r\n\r\n", host)
			} else {
				fmt.Fprintf(w, "GET %s/leave HTTP/1.1\r\nHost: %s\r\n\r\n", srv.URL, host)
			}
			f := waitPaused(t, env, flowstore.PhaseRequest)
			conn.Close()
			g := env.WaitState(f.ID, "released after the client left", func(g *flowstore.Flow) bool { return g.State.Final() })
			if g.State != flowstore.StateError || !strings.Contains(g.Error.Message, "disconnected") {
				t.Fatalf("state %v error %+v", g.State, g.Error)
			}
			if env.Proxy.Paused() != 0 {
				t.Fatal("a gate is still open")
			}
			if !mitmtest.Within(5*time.Second, func() bool { return runtime.NumGoroutine() <= start }) {
				n := runtime.NumGoroutine()
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines, %d before:\n%s", n, start, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

func TestStandingMock(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	err := env.Proxy.SetMocks([]mitm.Mock{{Method: "GET", URL: srv.URL + "/mocked", Response: &flowstore.Response{
		Status: 200, Headers: flowstore.Headers{{Name: "Content-Type", Value: "application/json"}}, Body: flowstore.NewBody([]byte(`{"kept":true}`)),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := within(t, goGet(env.Client(), "GET", srv.URL+"/mocked", ""))
	if r.body != `{"kept":true}` || rec.hits.Load() != 0 {
		t.Fatalf("client got %+v, origin hits %d", r, rec.hits.Load())
	}
	if m := env.Proxy.Mocks(); m[0].Hits != 1 {
		t.Fatalf("hits %d", m[0].Hits)
	}
	r = within(t, goGet(env.Client(), "POST", srv.URL+"/mocked", "x"))
	if rec.hits.Load() != 1 {
		t.Fatalf("a POST matched a GET mock: %+v", r)
	}
}

func TestPausedPOSTOutlivesIdleUpstreamConnection(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewUnstartedServer(rec.handler)
	srv.Config.IdleTimeout = 200 * time.Millisecond
	srv.StartTLS()
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	client := env.Client()
	// Warm a pooled upstream connection.
	if r := within(t, goGet(client, "GET", srv.URL+"/warm", "")); r.status != 200 {
		t.Fatal(r)
	}
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~m POST", Request: true}})
	paused := goGet(client, "POST", srv.URL+"/late", "late body")
	f := waitPaused(t, env, flowstore.PhaseRequest)
	time.Sleep(600 * time.Millisecond) // past the origin's idle timeout
	env.Proxy.Resume(f.ID)
	r := within(t, paused)
	if r.err != nil || r.status != 200 || rec.lastSeen() != "POST /late x-added= body=late body" {
		t.Fatalf("client got %+v; origin saw %q", r, rec.lastSeen())
	}
}

func TestInterceptTimeoutResumes(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t)
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~all"}})
	env.Proxy.SetInterceptTimeout(100 * time.Millisecond)
	r := within(t, goGet(env.Client(), "GET", srv.URL+"/t", ""))
	if r.status != 200 {
		t.Fatal(r)
	}
}

func TestInterceptSwitchAndBadFilter(t *testing.T) {
	env := mitmtest.Start(t)
	if err := env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~zz"}}); err == nil {
		t.Fatal("a bad filter was accepted")
	}
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~all"}})
	env.Proxy.SetIntercepting(false)
	rec := newRecorder()
	srv := httptest.NewServer(rec.handler)
	defer srv.Close()
	if r := within(t, goGet(env.Client(), "GET", srv.URL+"/off", "")); r.status != 200 {
		t.Fatal(r)
	}
}

// goHook is a hook written in Go, exercising every phase.
type goHook struct {
	seen atomic.Int32
	done chan *flowstore.Flow
}

func (h *goHook) RequestHeaders(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	f.Request.Headers.Set("X-Added", "by hook")
	return flowstore.Continue, nil
}

func (h *goHook) Request(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	switch f.Request.PathOnly() {
	case "/hook/respond":
		f.Response = &flowstore.Response{Status: 202, Body: flowstore.NewBody([]byte("from the hook"))}
		return flowstore.Respond, nil
	case "/hook/kill":
		return flowstore.Kill, nil
	case "/hook/panic":
		panic("boom")
	case "/hook/error":
		return flowstore.Continue, errors.New("script.lua:3: attempt to index a nil value")
	}
	f.Request.Body = flowstore.NewBody(append(f.Request.Body.Data, " appended"...))
	return flowstore.Continue, nil
}

func (h *goHook) Response(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	f.Response.Headers.Set("Server", "GoHook")
	f.Response.Body = flowstore.NewBody([]byte("overwritten response"))
	return flowstore.Continue, nil
}

func (h *goHook) Done(_ context.Context, f *flowstore.Flow) {
	h.seen.Add(1)
	h.done <- f
}

func TestHooksEveryPhase(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	defer srv.Close()
	hook := &goHook{done: make(chan *flowstore.Flow, 10)}
	env := mitmtest.Start(t, trustOrigin(srv), func(o *mitm.Options) {})
	if err := env.Proxy.AddHook(hook); err != nil {
		t.Fatal(err)
	}
	client := env.Client()

	r := within(t, goGet(client, "POST", srv.URL+"/hook/plain", "body"))
	if r.body != "overwritten response" || rec.lastSeen() != "POST /hook/plain x-added=by hook body=body appended" {
		t.Fatalf("client %+v origin %q", r, rec.lastSeen())
	}
	if f := <-hook.done; f.Response.Headers.Get("Server") != "GoHook" {
		t.Fatalf("done hook saw %+v", f.Response)
	}

	// doneFor skips done calls of other flows (a client retries a killed GET).
	doneFor := func(path string) *flowstore.Flow {
		for {
			select {
			case f := <-hook.done:
				if f.Request.Path == path {
					return f
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no done hook call for %s", path)
			}
		}
	}
	hits := rec.hits.Load()
	r = within(t, goGet(client, "GET", srv.URL+"/hook/respond", ""))
	if r.status != 202 || rec.hits.Load() != hits {
		t.Fatalf("respond: %+v, origin hits %d", r, rec.hits.Load()-hits)
	}
	doneFor("/hook/respond")

	if r = within(t, goGet(client, "GET", srv.URL+"/hook/kill", "")); r.err == nil {
		t.Fatalf("kill: %+v", r)
	}
	if f := doneFor("/hook/kill"); f.State != flowstore.StateKilled {
		t.Fatalf("kill state %v", f.State)
	}

	for _, p := range []string{"/hook/panic", "/hook/error"} {
		r = within(t, goGet(client, "GET", srv.URL+p, ""))
		if r.status != 200 {
			t.Fatalf("%s: a failing hook broke the flow: %+v", p, r)
		}
		f := doneFor(p)
		if len(f.Notes) == 0 || !strings.Contains(strings.Join(f.Notes, "\n"), "request hook") {
			t.Fatalf("%s: notes %q", p, f.Notes)
		}
	}
}

func TestReplay(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	within(t, goGet(env.Client(), "PUT", srv.URL+"/replay", "payload"))
	orig := env.WaitFlow(srv.URL + "/replay")
	replayOnce(t, env, rec, orig.ID)
	// Through a breakpoint, a replay pauses too.
	env.Proxy.SetBreakpoints([]mitm.Breakpoint{{Filter: "~u /replay", Request: true}})
	id, _ := env.Proxy.Replay(orig.ID)
	f := waitPaused(t, env, flowstore.PhaseRequest)
	if f.ID != id {
		t.Fatalf("paused %s, replayed %s", f.ID, id)
	}
	env.Proxy.Resume(id)
}

func TestServerReplayAnswersOffline(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	recordEnv := mitmtest.Start(t, trustOrigin(srv))
	client := recordEnv.Client()
	paths := []string{"/api/a?x=1&y=2", "/api/b", "/api/c"}
	for _, p := range paths {
		if r := within(t, goGet(client, "GET", srv.URL+p, "")); r.status != 200 {
			t.Fatal(r)
		}
	}
	recorded := recordEnv.WaitFlows(3)
	srv.Close() // the origin is gone now

	env := mitmtest.Start(t)
	if err := env.Proxy.AddHook(mitm.NewServerReplay(recorded, mitm.ServerReplayOptions{Strict: true})); err != nil {
		t.Fatal(err)
	}
	client = env.Client()
	for _, p := range []string{"/api/a?y=2&x=1", "/api/b", "/api/c"} {
		r := within(t, goGet(client, "GET", srv.URL+p, ""))
		want := "origin says hi to " + p[:strings.IndexAny(p+"?", "?")]
		if r.status != 200 || r.body != want {
			t.Fatalf("%s: got %+v, want %q", p, r, want)
		}
	}
	if r := within(t, goGet(client, "GET", srv.URL+"/api/unknown", "")); r.status != 404 {
		t.Fatalf("strict replay let an unknown request through: %+v", r)
	}
}

// waitReplayed waits for the replay id of flow orig to end, answered 200.
func waitReplayed(t *testing.T, env *mitmtest.Env, id, orig string) {
	t.Helper()
	f := env.WaitFinal(id)
	if f.State != flowstore.StateDone || f.ReplayOf != orig || f.Response.Status != 200 {
		t.Fatalf("replay flow state %v replayOf %q response %+v", f.State, f.ReplayOf, f.Response)
	}
}

// A flow that has moved to the spool replays as any other: its request
// comes back from disk whole.
func TestReplaySpooledFlow(t *testing.T) {
	rec := newRecorder()
	srv := httptest.NewTLSServer(rec.handler)
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	if err := env.Store.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	defer env.Store.Close()
	within(t, goGet(env.Client(), "PUT", srv.URL+"/replay", "payload"))
	orig := env.WaitFlow(srv.URL + "/replay")
	filler := bytes.Repeat([]byte("x"), 10<<10)
	if !mitmtest.Within(20*time.Second, func() bool {
		if f, _, _ := env.Store.Peek(orig.ID); f == nil {
			return true // spooled
		}
		for range 200 {
			env.Store.Add(flowtest.New(flowtest.RespBody("text/plain", filler)))
		}
		return false
	}) {
		t.Fatal("the flow was never spooled")
	}
	replayOnce(t, env, rec, orig.ID)
}

// replayOnce replays the PUT /replay flow orig and checks the origin saw it
// a second time, as the client sent it.
func replayOnce(t *testing.T, env *mitmtest.Env, rec *recorder, orig string) {
	t.Helper()
	id, err := env.Proxy.Replay(orig)
	if err != nil {
		t.Fatal(err)
	}
	waitReplayed(t, env, id, orig)
	if rec.hits.Load() != 2 || rec.lastSeen() != "PUT /replay x-added= body=payload" {
		t.Fatalf("origin hits %d, last %q", rec.hits.Load(), rec.lastSeen())
	}
}
