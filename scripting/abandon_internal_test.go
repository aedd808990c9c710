package scripting

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// A hook stuck in a Go builtin that ignores the deadline (gopher-lua
// #521): the call returns at timeout + grace, the flow is unmodified, the
// state is abandoned rather than pooled, and later calls get a fresh one.
func TestStuckBuiltinAbandonsState(t *testing.T) {
	release := make(chan struct{})
	testGlobals = map[string]lua.LGFunction{"stuck": func(L *lua.LState) int {
		<-release
		return 0
	}}
	defer func() { testGlobals = nil }()
	defer close(release)

	p := filepath.Join(t.TempDir(), "stuck.lua")
	src := "function request(flow)\n  flow.request.headers['X-Partial'] = '1'\n  if flow.request.path == '/stuck' then stuck() end\n  flow.request.headers['X-Done'] = '1'\nend\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	log := flowstore.NewEventLog(100)
	e, err := New(Options{Paths: []string{p}, Log: log, Timeout: 50 * time.Millisecond, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	v := e.scripts[0].(*script).cur.Load()

	for i := 0; i < 3; i++ {
		f := flowtest.New(flowtest.URL("http://example.test/stuck"))
		start := time.Now()
		_, err := e.Request(context.Background(), f)
		took := time.Since(start)
		if took > 50*time.Millisecond+abandonGrace+2*time.Second {
			t.Fatalf("took %s", took)
		}
		if err == nil || !strings.Contains(err.Error(), "stuck.lua:1: did not stop within 50ms") || f.Request.Headers.Has("X-Partial") {
			t.Fatalf("err %v headers %s", err, f.Request.Headers)
		}
	}
	if got := v.pool.dropped.Load(); got != 3 {
		t.Fatalf("%d states abandoned, want 3", got)
	}
	// The pool's slots were given back: a normal flow still runs (with
	// a fresh state), though only two states may live at once.
	f := flowtest.New()
	if _, err := e.Request(context.Background(), f); err != nil || f.Request.Headers.Get("X-Done") != "1" {
		t.Fatalf("%v %s", err, f.Request.Headers)
	}
}

func TestCloseStopsHooks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lua")
	os.WriteFile(p, []byte(`function request(flow) flow.request.headers["X"] = "1" end`), 0o644)
	e, err := New(Options{Paths: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	f := flowtest.New()
	if e.Wants(flowstore.PhaseRequest, f) {
		t.Fatal("a closed engine wants flows")
	}
	if v, err := e.Request(context.Background(), f); v != flowstore.Continue || err != nil || f.Request.Headers.Has("X") {
		t.Fatal(v, err)
	}
}

// Closing the engine ends every state's worker goroutine.
func TestCloseEndsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	p := filepath.Join(t.TempDir(), "x.lua")
	os.WriteFile(p, []byte(`function request(flow) flow.request.headers["X"] = "1" end`), 0o644)
	e, err := New(Options{Paths: []string{p}, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				e.Request(context.Background(), flowtest.New())
			}
		}()
	}
	wg.Wait()
	e.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A hook that has run few Lua instructions by its deadline (a slow Go
// builtin, or a worker starved of CPU) is given a few more deadlines, so a
// busy machine does not turn slow hooks into failures; a Lua loop is not.
func TestSlowBuiltinIsStretchedLoopIsNot(t *testing.T) {
	testGlobals = map[string]lua.LGFunction{"slow": func(L *lua.LState) int {
		time.Sleep(150 * time.Millisecond)
		return 0
	}}
	defer func() { testGlobals = nil }()
	p := filepath.Join(t.TempDir(), "slow.lua")
	os.WriteFile(p, []byte("on('request', '~u /slow', function(flow) slow(); flow.request.headers['X-Done'] = '1' end)\n"+
		"on('request', '~u /loop', function(flow) while true do end end)\n"), 0o644)
	e, err := New(Options{Paths: []string{p}, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := flowtest.New(flowtest.URL("http://example.test/slow"))
	if _, err := e.Request(context.Background(), f); err != nil || f.Request.Headers.Get("X-Done") != "1" {
		t.Fatalf("slow builtin: %v", err)
	}
	f = flowtest.New(flowtest.URL("http://example.test/loop"))
	start := time.Now()
	_, err = e.Request(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Fatalf("loop: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the loop ran %s", took)
	}
}
