package scripting_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// BenchmarkHookOverhead is the cost of one trivial header-setting hook
// call as the engine makes it: scratch copy, pooled state, deadline,
// flow objects, commit. The target is at most 20µs.
func BenchmarkHookOverhead(b *testing.B) {
	e, _ := engine(b, `function request(flow) flow.request.headers["X-Trace"] = "abc123" end`)
	f := flowtest.New()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := f.Clone()
		if v, err := e.Request(bg, w); err != nil || v != flowstore.Continue {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkHookOverheadJS is BenchmarkHookOverhead with the hook in
// JavaScript.
func BenchmarkHookOverheadJS(b *testing.B) {
	e, _ := engineJS(b, `function request(flow) { flow.request.headers["X-Trace"] = "abc123"; }`)
	f := flowtest.New()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := f.Clone()
		if v, err := e.Request(bg, w); err != nil || v != flowstore.Continue {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkHookOverheadJSvsLua measures the header-setting hook in each
// language in alternating rounds of one run, so that drift hits both
// alike, and reports their ratio (target: JavaScript within 2x of Lua).
//
//	go test ./scripting -run XXX -bench HookOverheadJSvsLua
func BenchmarkHookOverheadJSvsLua(b *testing.B) {
	lua, _ := engine(b, `function request(flow) flow.request.headers["X-Trace"] = "abc123" end`)
	js, _ := engineJS(b, `function request(flow) { flow.request.headers["X-Trace"] = "abc123"; }`)
	f := flowtest.New()
	round := func(e *scripting.Engine, n int) time.Duration {
		start := time.Now()
		for range n {
			w := f.Clone()
			if v, err := e.Request(bg, w); err != nil || v != flowstore.Continue {
				b.Fatal(v, err)
			}
		}
		return time.Since(start)
	}
	round(lua, 100)
	round(js, 100)
	var tLua, tJS time.Duration
	n := 0
	b.ResetTimer()
	for done := 0; done < b.N; done += 500 {
		k := min(500, b.N-done)
		tLua += round(lua, k)
		tJS += round(js, k)
		n += k
	}
	b.StopTimer()
	b.ReportMetric(float64(tLua.Nanoseconds())/float64(n), "lua-ns/call")
	b.ReportMetric(float64(tJS.Nanoseconds())/float64(n), "js-ns/call")
	b.ReportMetric(float64(tJS)/float64(tLua), "js/lua")
}

// BenchmarkWebSocketMessage is the cost of one websocket_message hook
// call that rewrites a small text message: every message of a WebSocket
// the hook wants waits this long.
func BenchmarkWebSocketMessage(b *testing.B) {
	e, _ := engine(b, `function websocket_message(flow, message) message.text = message.text:upper() end`)
	f := wsFlow()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := wsMsg(true, flowstore.MessageText, `{"op": "ping", "n": 1}`)
		if drop, err := e.WebSocketMessage(bg, f, m); err != nil || drop {
			b.Fatal(drop, err)
		}
	}
}

func BenchmarkHookOverheadParallelJS(b *testing.B) {
	e, _ := engineJS(b, `function request(flow) { flow.request.headers["X-Trace"] = "abc123"; }`)
	f := flowtest.New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := f.Clone()
			if _, err := e.Request(bg, w); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkHookOverheadParallel(b *testing.B) {
	e, _ := engine(b, `function request(flow) flow.request.headers["X-Trace"] = "abc123" end`)
	f := flowtest.New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := f.Clone()
			if _, err := e.Request(bg, w); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkThroughput measures keep-alive HTTPS requests through two
// proxies side by side in one run, one bare and one with a trivial
// header-setting script, alternating in rounds so drift hits both alike.
// It reports requests per second for each, their ratio (target: at least
// 70%) and, with one worker, the latency the script adds to each flow;
// the same for the hook in JavaScript (js-ratio-%, target: at least 75%)
// and in Go.
//
//	go test ./scripting -run XXX -bench Throughput -benchtime 20000x
func BenchmarkThroughput(b *testing.B) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprint("workers=", workers), func(b *testing.B) { benchThroughput(b, workers) })
	}
}

func benchThroughput(b *testing.B, workers int) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from the origin")
	}))
	defer srv.Close()
	trust := func(o *mitm.Options) { o.UpstreamRoots = append(o.UpstreamRoots, srv.Certificate()) }
	bare := mitmtest.Start(b, trust)
	scripted := mitmtest.Start(b, trust)
	goHooked := mitmtest.Start(b, trust) // the same hook in Go: the engine's share
	if err := goHooked.Proxy.AddHook(goHeaderHook{}); err != nil {
		b.Fatal(err)
	}
	eng, err := scripting.New(scripting.Options{
		Paths: []string{writeScript(b, "bench.lua", `function request(flow) flow.request.headers["X-Trace"] = "abc123" end`)},
		Log:   scripted.Log,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if err := scripted.Proxy.AddHook(eng); err != nil {
		b.Fatal(err)
	}
	jsScripted := mitmtest.Start(b, trust) // the same hook in JavaScript
	jsEng, err := scripting.New(scripting.Options{
		Paths: []string{writeScript(b, "bench.js", `function request(flow) { flow.request.headers["X-Trace"] = "abc123"; }`)},
		Log:   jsScripted.Log,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer jsEng.Close()
	if err := jsScripted.Proxy.AddHook(jsEng); err != nil {
		b.Fatal(err)
	}
	clients := map[*mitmtest.Env]*http.Client{bare: bare.Client(), scripted: scripted.Client(), goHooked: goHooked.Client(), jsScripted: jsScripted.Client()}
	one := func(c *http.Client) {
		resp, err := c.Get(srv.URL + "/bench")
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
	batch := func(env *mitmtest.Env, n int) time.Duration {
		var wg sync.WaitGroup
		per := (n + workers - 1) / workers
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					one(clients[env])
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// warm up: connections, leaf certificates, Lua states
	batch(bare, 4*workers)
	batch(scripted, 4*workers)
	batch(goHooked, 4*workers)
	batch(jsScripted, 4*workers)
	const round = 200
	var tBare, tScript, tGo, tJS time.Duration
	var nBare, nScript, nGo, nJS int
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		n := min(round, b.N-done)
		n = max(n, workers)
		tBare += batch(bare, n)
		nBare += (n + workers - 1) / workers * workers
		tScript += batch(scripted, n)
		nScript += (n + workers - 1) / workers * workers
		tGo += batch(goHooked, n)
		nGo += (n + workers - 1) / workers * workers
		tJS += batch(jsScripted, n)
		nJS += (n + workers - 1) / workers * workers
	}
	b.StopTimer()
	bareRate := float64(nBare) / tBare.Seconds()
	scriptRate := float64(nScript) / tScript.Seconds()
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(scriptRate, "script-req/s")
	b.ReportMetric(100*scriptRate/bareRate, "ratio-%")
	b.ReportMetric(float64(nGo)/tGo.Seconds(), "gohook-req/s")
	jsRate := float64(nJS) / tJS.Seconds()
	b.ReportMetric(jsRate, "js-req/s")
	b.ReportMetric(100*jsRate/bareRate, "js-ratio-%")
	if workers == 1 {
		// Sequential requests: the difference is the latency the script
		// adds to each flow, the engine's hook path included.
		perFlow := tScript.Seconds()/float64(nScript) - tBare.Seconds()/float64(nBare)
		b.ReportMetric(perFlow*1e6, "added-µs/flow")
		overGo := tScript.Seconds()/float64(nScript) - tGo.Seconds()/float64(nGo)
		b.ReportMetric(overGo*1e6, "lua-over-go-µs/flow")
		b.ReportMetric((tJS.Seconds()/float64(nJS)-tBare.Seconds()/float64(nBare))*1e6, "js-added-µs/flow")
	}
}

// goHeaderHook is the benchmark's hook written in Go.
type goHeaderHook struct{}

func (goHeaderHook) Request(_ context.Context, f *flowstore.Flow) (flowstore.Verdict, error) {
	f.Request.Headers.Set("X-Trace", "abc123")
	return flowstore.Continue, nil
}

// BenchmarkConcat is a hook that joins 100 short strings with .., which
// goes through the checked concatenation.
func BenchmarkConcat(b *testing.B) {
	e, _ := engine(b, `function request(flow) local s for i = 1, 100 do s = "a" .. i .. "b" .. flow.id end end`)
	f := flowtest.New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Request(bg, f); err != nil {
			b.Fatal(err)
		}
	}
}
