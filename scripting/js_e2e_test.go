package scripting_test

// The JavaScript twins of the Lua end-to-end tests: the same flows
// through the real proxy, the same assertions.

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// scriptJS writes one JavaScript script and returns its path in a list.
func scriptJS(t testing.TB, src string) []string {
	return []string{writeScript(t, "hooks.js", src)}
}

func fixture(parts ...string) []string {
	return []string{filepath.Join(append([]string{"testdata", "js"}, parts...)...)}
}

func TestDesignScriptJS(t *testing.T) {
	for _, kind := range []string{"https", "http", "h2 client"} {
		t.Run(kind, func(t *testing.T) {
			r := newRig(t, kind == "http", nil, fixture("design.js"))
			if kind == "h2 client" {
				r.client = r.env.ClientH2()
			}
			got := r.do("POST", "/design", "hello")
			if got.err != nil || got.status != 200 || got.body != "overwritten response" || got.header.Get("Server") != "JSProxy" {
				t.Fatalf("client got %+v", got)
			}
			s, _ := r.lastSeen("/design")
			if s.Header.Get("X-Trace") != "abc123" || s.Body != "hello appended from JS" {
				t.Fatalf("origin got %+v", s)
			}
			host := strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "https://"), "http://")
			f := r.env.WaitFlow(r.url("/design"))
			en := logged(t, r.env.Log, "[script:design.js] "+host, f.ID)
			if en.Level != flowstore.LevelInfo {
				t.Fatalf("%+v", en)
			}
			if !f.Edited() || f.Response.Headers.Get("Server") != "JSProxy" {
				t.Fatalf("the flow does not show the edit: %+v", f.Response)
			}
		})
	}
}

// Every phase and API call once through the real proxy: the twin of
// TestPhasesEndToEnd.
func TestPhasesEndToEndJS(t *testing.T) {
	src := `
function requestheaders(flow) {
  flow.request.headers["X-Phase"] = "requestheaders";
  if (flow.request.path === "/early") {
    flow.respond(200, {"Content-Type": "text/plain"}, "answered in requestheaders");
  }
}
function request(flow) {
  const h = flow.request.headers;
  h["X-Phase"] = h["X-Phase"] + ",request";
  if (flow.request.path === "/kill") flow.kill();
  if (flow.request.path === "/reroute") { flow.request.path = "/rerouted"; flow.request.method = "PUT"; }
  if (flow.request.path === "/pause") flow.intercept();
  if (flow.request.path === "/gzip") {
    flow.request.body.text = flow.request.body.text.toUpperCase();
    flow.request.query = "q=" + btoa(String.fromCharCode(...flow.request.body.bytes.slice(0, 2)));
  }
  flow.ctx.seen = "ctx from request";
}
function responseheaders(flow) {
  flow.response.headers["X-Resp"] = "responseheaders";
  flow.marked = true;
}
function response(flow) {
  flow.response.headers["X-Ctx"] = flow.ctx.seen;
  if (flow.request.path === "/binary") {
    flow.response.body.bytes = flow.response.body.bytes.reverse();
  }
  if (flow.request.path === "/json") {
    const data = flow.response.body.json;
    data.added = "by js";
    flow.response.body.text = JSON.stringify({added: data.added, id: data.id});
  }
  flow.comment = "response ran";
}
on("responsechunk", "~u /stream", (flow, chunk) => chunk.toUpperCase());
function error(flow) {
  console.warn("error hook:", flow.error);
}
function done(flow) {
  console.info("done", flow.request.path, flow.response ? flow.response.status : "-", flow.state);
}
`
	r := newRig(t, false, phasesOrigin(t), scriptJS(t, src))
	runPhasesEndToEnd(t, r, `{"added":"by js","id":7}`)
}

// runPhasesEndToEnd is TestPhasesEndToEnd's assertions, for a rig whose
// script does what that test's Lua script does.
func runPhasesEndToEnd(t *testing.T, r *rig, wantJSON string) {
	t.Run("request and response phases", func(t *testing.T) {
		got := r.do("POST", "/plain", "body")
		if got.err != nil || got.header.Get("X-Resp") != "responseheaders" || got.header.Get("X-Ctx") != "ctx from request" || got.body != "origin POST /plain" {
			t.Fatalf("%+v", got)
		}
		if s, _ := r.lastSeen("/plain"); s.Header.Get("X-Phase") != "requestheaders,request" {
			t.Fatalf("origin saw %q", s.Header.Get("X-Phase"))
		}
		f := r.env.WaitFlow(r.url("/plain"))
		if !f.Marked || f.Comment != "response ran" {
			t.Fatalf("marked %v comment %q", f.Marked, f.Comment)
		}
		logged(t, r.env.Log, "done /plain 200 done", f.ID)
	})
	t.Run("respond in requestheaders", func(t *testing.T) {
		got := r.get("/early")
		if got.status != 200 || got.body != "answered in requestheaders" {
			t.Fatalf("%+v", got)
		}
		if _, ok := r.lastSeen("/early"); ok {
			t.Fatal("the origin was contacted")
		}
	})
	t.Run("kill", func(t *testing.T) {
		if got := r.do("POST", "/kill", "x"); got.err == nil {
			t.Fatalf("killed flow answered: %+v", got)
		}
		f := r.env.WaitFlow(r.url("/kill"))
		if f.State != flowstore.StateKilled {
			t.Fatalf("state %v", f.State)
		}
		logged(t, r.env.Log, "error hook:", f.ID)
	})
	t.Run("rewrite the request line", func(t *testing.T) {
		if got := r.get("/reroute"); got.body != "origin PUT /rerouted" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("rewrite a JSON body", func(t *testing.T) {
		got := r.get("/json")
		if got.body != wantJSON || got.header.Get("Content-Length") != fmt.Sprint(len(got.body)) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("gzip request body, query", func(t *testing.T) {
		got := r.do("POST", "/gzip", string(gz(t, "make me loud")), "Content-Encoding", "gzip")
		if !strings.HasPrefix(got.body, "q=H4s= ") || !strings.HasSuffix(got.body, " MAKE ME LOUD") {
			t.Fatalf("%+v", got)
		}
		s, _ := r.lastSeen("/gzip?q=H4s=")
		if fmt.Sprint(len(s.Body)) != s.Header.Get("Content-Length") && s.Header.Get("Content-Length") != "" {
			t.Fatalf("origin got %d bytes, Content-Length %s", len(s.Body), s.Header.Get("Content-Length"))
		}
	})
	t.Run("binary body", func(t *testing.T) {
		if got := r.get("/binary"); got.body != "\xff\x02\x01\x00" {
			t.Fatalf("%q", got.body)
		}
	})
	t.Run("error phase on an upstream failure", func(t *testing.T) {
		resp, err := r.client.Get("http://127.0.0.1:1/down")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 502 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		f := r.env.WaitFlow("http://127.0.0.1:1/down")
		logged(t, r.env.Log, "error hook: request:", f.ID)
		logged(t, r.env.Log, "done /down - error", f.ID)
	})
	t.Run("responsechunk", func(t *testing.T) {
		if got := r.get("/stream"); got.body != "PART 0;PART 1;PART 2;" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("intercept", func(t *testing.T) {
		ch := make(chan reply, 1)
		go func() { ch <- r.get("/pause") }()
		var id string
		waitFor(t, "a paused flow", func() bool {
			for _, f := range r.env.Store.List() {
				if f.State == flowstore.StatePaused && f.Request.Path == "/pause" {
					id = f.ID
					return true
				}
			}
			return false
		})
		if err := r.env.Proxy.Resume(id); err != nil {
			t.Fatal(err)
		}
		if got := <-ch; got.status != 200 || got.body != "origin GET /pause" {
			t.Fatalf("%+v", got)
		}
	})
}

// phasesOrigin is TestPhasesEndToEnd's origin.
func phasesOrigin(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/gzip":
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			b, _ := io.ReadAll(zr)
			fmt.Fprintf(w, "%s %s %s", req.URL.RawQuery, req.Header.Get("Content-Length"), b)
		case "/binary":
			w.Write([]byte{0, 1, 2, 0xff})
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": 7}`)
		case "/stream":
			fl := w.(http.Flusher)
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "part %d;", i)
				fl.Flush()
			}
		default:
			fmt.Fprintf(w, "origin %s %s", req.Method, req.URL.Path)
		}
	}
}

// ctxScripts are a writer and a reader of flow.ctx in each language.
var ctxScripts = map[string][2]string{
	"lua": {`
function request(flow)
  flow.ctx.id = flow.request.headers["X-Id"]
  flow.ctx.trail = {flow.request.headers["X-Id"]}
end`, `
function responseheaders(flow) table.insert(flow.ctx.trail, "rh") end
function response(flow)
  flow.response.headers["X-Ctx-Id"] = flow.ctx.id
  flow.response.headers["X-Trail"] = table.concat(flow.ctx.trail, ",")
end`},
	"js": {`
function request(flow) {
  flow.ctx.id = flow.request.headers["X-Id"];
  flow.ctx.trail = [flow.request.headers["X-Id"]];
}`, `
function responseheaders(flow) { flow.ctx.trail.push("rh"); }
function response(flow) {
  flow.response.headers["X-Ctx-Id"] = flow.ctx.id;
  flow.response.headers["X-Trail"] = flow.ctx.trail.join(",");
}`},
}

// 100 flows at once, each writing its own value into flow.ctx in request
// (one script) and reading it in response (another): none sees another's.
// The twin of TestConcurrentCtx, and part 4 of issue 26: a Lua and a
// JavaScript script, loaded together, share flow.ctx both ways.
func TestConcurrentCtxJS(t *testing.T) {
	for _, pair := range [][2]string{{"js", "js"}, {"lua", "js"}, {"js", "lua"}} {
		t.Run(pair[0]+" writes, "+pair[1]+" reads", func(t *testing.T) {
			w := writeScript(t, "write."+pair[0], ctxScripts[pair[0]][0])
			rd := writeScript(t, "read."+pair[1], ctxScripts[pair[1]][1])
			r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
				time.Sleep(time.Millisecond)
				io.WriteString(w, "ok")
			}, []string{w, rd})
			const n = 100
			var wg sync.WaitGroup
			errs := make(chan string, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprint("flow-", i)
					got := r.get("/ctx", "X-Id", id)
					if got.err != nil || got.header.Get("X-Ctx-Id") != id || got.header.Get("X-Trail") != id+",rh" {
						errs <- fmt.Sprintf("%s: %v ctx %q trail %q", id, got.err, got.header.Get("X-Ctx-Id"), got.header.Get("X-Trail"))
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
			r.env.WaitFlows(n)
			if t.Failed() {
				for _, en := range r.env.Log.Entries() {
					if en.Level >= flowstore.LevelWarn {
						t.Log(en)
					}
				}
			}
		})
	}
}

// Lua and JavaScript hooks run in the order given, as one chain: each
// sees what the one before did, and a short-circuit in one skips the
// later ones of either language.
func TestMixedOrderAndShortCircuit(t *testing.T) {
	a := writeScript(t, "a.lua", `function request(flow)
  flow.request.headers["X-Order"] = "lua"
  if flow.request.path == "/stop" then flow:respond(203, {}, "lua answered") end
end`)
	b := writeScript(t, "b.js", `function request(flow) {
  flow.request.headers["X-Order"] += ",js";
  if (flow.request.path === "/stop-js") flow.respond(202, {}, "js answered");
}`)
	c := writeScript(t, "c.lua", `function request(flow)
  flow.request.headers["X-Order"] = flow.request.headers["X-Order"] .. ",lua again"
end`)
	r := newRig(t, false, nil, []string{a, b, c})
	r.get("/go")
	if s, _ := r.lastSeen("/go"); s.Header.Get("X-Order") != "lua,js,lua again" {
		t.Fatalf("origin saw %q", s.Header.Get("X-Order"))
	}
	if got := r.get("/stop"); got.status != 203 || got.body != "lua answered" {
		t.Fatalf("%+v", got)
	}
	if got := r.get("/stop-js"); got.status != 202 || got.body != "js answered" {
		t.Fatalf("%+v", got)
	}
	for _, p := range []string{"/stop", "/stop-js"} {
		if _, ok := r.lastSeen(p); ok {
			t.Fatalf("the origin saw %s", p)
		}
	}
}

// A hook that never ends: the twin of TestInfiniteLoopEndToEnd.
func TestInfiniteLoopEndToEndJS(t *testing.T) {
	r := newRig(t, false, nil, scriptJS(t, `
function request(flow) {
  flow.request.headers["X-Partial"] = "yes";
  if (flow.request.path === "/loop") {
    let n = 0; while (true) n++;
  }
}`))
	const timeout = 200 * time.Millisecond
	var loopDone atomic.Bool
	var loopTook time.Duration
	var loopReply reply
	go func() {
		start := time.Now()
		loopReply = r.get("/loop")
		loopTook = time.Since(start)
		loopDone.Store(true)
	}()
	served := 0
	for !loopDone.Load() {
		got := r.get("/fast")
		if got.err != nil || got.status != 200 {
			t.Fatalf("a flow failed while another looped: %+v", got)
		}
		served++
	}
	if loopReply.err != nil || loopReply.status != 200 || loopReply.body != "origin says hi" {
		t.Fatalf("the looping flow: %+v", loopReply)
	}
	if margin := 2 * time.Second; loopTook > timeout+margin {
		t.Fatalf("the looping flow took %s", loopTook)
	}
	if served == 0 {
		t.Fatal("no other flow was served while one looped")
	}
	if s, _ := r.lastSeen("/loop"); s.Header.Get("X-Partial") != "" {
		t.Fatal("the timed-out hook's change reached the origin")
	}
	if s, _ := r.lastSeen("/fast"); s.Header.Get("X-Partial") != "yes" {
		t.Fatal("other flows lost the hook")
	}
	f := r.env.WaitFlow(r.url("/loop"))
	logged(t, r.env.Log, "hooks.js:5: timed out after 200ms", f.ID)
	if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "request hook: ") || !strings.Contains(f.Notes[0], "hooks.js:5: timed out after 200ms") {
		t.Fatalf("notes %q", f.Notes)
	}
	t.Logf("looping flow took %s; %d other flows served meanwhile", loopTook, served)
}

// A hook that throws: the flow goes on unmodified, with file:line on the
// flow and in the event log.
func TestErrorEndToEndJS(t *testing.T) {
	r := newRig(t, false, nil, scriptJS(t, `
function request(flow) {
  flow.request.headers["X-Partial"] = "yes";
  if (flow.request.path === "/throw") {
    throw new Error("hook fails on purpose");
  }
  if (flow.request.path === "/type") {
    flow.request.nothing.here = 1;
  }
}`))
	for _, tc := range []struct{ path, want string }{
		{"/throw", "hooks.js:5: hook fails on purpose"},
		{"/type", "hooks.js:8: TypeError: Cannot convert undefined or null to object"},
	} {
		got := r.get(tc.path)
		if got.err != nil || got.status != 200 || got.body != "origin says hi" {
			t.Fatalf("%s: %+v", tc.path, got)
		}
		if s, _ := r.lastSeen(tc.path); s.Header.Get("X-Partial") != "" {
			t.Fatalf("%s: the failed hook's change reached the origin", tc.path)
		}
		f := r.env.WaitFlow(r.url(tc.path))
		logged(t, r.env.Log, tc.want, f.ID)
		if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "request hook: ") || !strings.Contains(f.Notes[0], tc.want) {
			t.Fatalf("%s: notes %q", tc.path, f.Notes)
		}
	}
}

// Changing a script while traffic flows: the twin of
// TestReloadWhileTrafficFlows.
func TestReloadWhileTrafficFlowsJS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.js")
	write := func(src string) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	version := func(n int) string {
		return fmt.Sprintf("function response(flow) { flow.response.headers[\"X-Version\"] = \"%d\"; }\n", n)
	}
	write(version(1))
	r := newRig(t, false, nil, []string{path}, func(o *scripting.Options) { o.PollInterval = 10 * time.Millisecond })
	ctx, cancel := testContext(t)
	go r.eng.Watch(ctx)

	var (
		mu       sync.Mutex
		versions = map[string]int{}
		failures []string
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got := r.get("/live")
				mu.Lock()
				if got.err != nil || got.status != 200 {
					failures = append(failures, fmt.Sprintf("%+v", got))
				}
				versions[got.header.Get("X-Version")]++
				mu.Unlock()
			}
		}()
	}
	latest := func() string { return r.get("/live").header.Get("X-Version") }
	waitFor(t, "version 1", func() bool { return latest() == "1" })
	write(version(2))
	waitFor(t, "version 2", func() bool { return latest() == "2" })
	logged(t, r.env.Log, "reloaded "+path)
	write("function response(flow) {\n  flow.response.headers[\"X-Version\"] = = 3;\n}\n")
	logged(t, r.env.Log, path+":2: SyntaxError", "the previous version keeps running")
	for range 20 {
		if v := latest(); v != "2" {
			t.Fatalf("after a broken edit the version is %q", v)
		}
	}
	write(version(4))
	waitFor(t, "version 4", func() bool { return latest() == "4" })
	stop.Store(true)
	wg.Wait()
	cancel()
	if len(failures) > 0 {
		t.Fatalf("%d flows failed during reloads, first: %s", len(failures), failures[0])
	}
	if versions[""] > 0 || versions["3"] > 0 {
		t.Fatalf("versions seen: %v", versions)
	}
	t.Logf("versions seen under load: %v", versions)
}

// The twin of TestRunawayConcatEndToEnd: s = s + s in a loop fails its
// call at the string limit, the flow goes on unmodified, the proxy keeps
// serving.
func TestRunawayConcatEndToEndJS(t *testing.T) {
	r := newRig(t, false, nil, scriptJS(t, `
on("request", function (flow) {
  flow.request.headers["X-Partial"] = "yes";
  if (flow.request.path === "/grow") {
    let s = "x";
    while (true) { s = s + s; }
  }
}, {timeout_ms: 10000});`))
	before := allocated()
	start := time.Now()
	got := r.get("/grow")
	took := time.Since(start)
	if got.err != nil || got.status != 200 || got.body != "origin says hi" {
		t.Fatalf("the flow: %+v", got)
	}
	if s, _ := r.lastSeen("/grow"); s.Header.Get("X-Partial") != "" {
		t.Fatal("the failed hook's change reached the origin")
	}
	for i := 0; i < 20; i++ {
		if got := r.get("/fast"); got.err != nil || got.status != 200 {
			t.Fatalf("a later flow: %+v", got)
		}
	}
	if s, _ := r.lastSeen("/fast"); s.Header.Get("X-Partial") != "yes" {
		t.Fatal("later flows lost the hook")
	}
	const want = "hooks.js:6: concatenation: result of 33554432 characters is over the limit of 16777216"
	f := r.env.WaitFlow(r.url("/grow"))
	logged(t, r.env.Log, want, f.ID)
	if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "request hook: ") || !strings.Contains(f.Notes[0], want) {
		t.Fatalf("notes %q", f.Notes)
	}
	if grew := allocated() - before; grew > 128<<20 {
		t.Fatalf("%d MiB allocated", grew>>20)
	}
	t.Logf("the hook was stopped and its flow answered in %s", took)
}

// The twin of TestWebSocketHookRewritesBothWaysEndToEnd.
func TestWebSocketHookRewritesBothWaysEndToEndJS(t *testing.T) {
	got := make(chan string, 10)
	r := newRig(t, false, wsOrigin(got), scriptJS(t, `
on("websocket_message", "~websocket", function (flow, message) {
  if (message.kind !== "text") return;
  if (message.text === "drop me") {
    message.drop();
    return;
  }
  const side = message.fromClient ? "[client->server]" : "[server->client]";
  message.text = message.text.replaceAll("secret", side);
});`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp := r.wsDial(ctx, "/chat")
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("compression negotiated (%q) although a JS hook rewrites the messages", ext)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("drop me")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("my secret")); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != "my [client->server]" {
		t.Fatalf("origin received %q", s)
	}
	if typ, s := wsRead(t, ctx, c); typ != websocket.MessageText || s != "server [server->client]: my [client->server]" {
		t.Fatalf("client received %v %q", typ, s)
	}
	bin := "secret\x00\xff"
	if err := c.Write(ctx, websocket.MessageBinary, []byte(bin)); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != bin {
		t.Fatalf("origin received %q", s)
	}
	if typ, s := wsRead(t, ctx, c); typ != websocket.MessageBinary || s != "server secret: "+bin {
		t.Fatalf("client received %v %q", typ, s)
	}
	select {
	case s := <-got:
		t.Fatalf("the origin received %q, the dropped message?", s)
	default:
	}
	c.Close(websocket.StatusNormalClosure, "")
	f := r.env.WaitFlow(r.url("/chat"))
	var seen []string
	for _, m := range f.Messages {
		if m.Kind == flowstore.MessageText || m.Kind == flowstore.MessageBinary {
			seen = append(seen, m.Note+":"+string(m.Data))
		}
	}
	want := []string{
		"dropped by a hook:drop me",
		"rewritten by a hook:my [client->server]",
		"rewritten by a hook:server [server->client]: my [client->server]",
		":" + bin,
		":server secret: " + bin,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("flow messages:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

// The twin of TestWebSocketHookErrorPassesMessageEndToEnd.
func TestWebSocketHookErrorPassesMessageEndToEndJS(t *testing.T) {
	got := make(chan string, 10)
	r := newRig(t, false, wsOrigin(got), scriptJS(t, `
function websocket_message(flow, message) {
  message.text = "changed";
  throw new Error("hook fails on purpose");
}`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _ := r.wsDial(ctx, "/fail")
	if err := c.Write(ctx, websocket.MessageText, []byte("as sent")); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != "as sent" {
		t.Fatalf("origin received %q", s)
	}
	if _, s := wsRead(t, ctx, c); s != "server secret: as sent" {
		t.Fatalf("client received %q", s)
	}
	var f *flowstore.Flow
	waitFor(t, "the error on the flow", func() bool {
		for _, g := range r.env.Store.List() {
			if g.Request.Path == "/fail" && len(g.Notes) >= 2 {
				f = g
				return true
			}
		}
		return false
	})
	if !strings.Contains(f.Notes[0], "websocket_message hook: ") || !strings.Contains(f.Notes[0], "hooks.js:4: hook fails on purpose") {
		t.Fatalf("notes %q", f.Notes)
	}
	logged(t, r.env.Log, "hooks.js:4: hook fails on purpose", f.ID)
}

// The twin of TestNoWebSocketHookKeepsCompression.
func TestNoWebSocketHookKeepsCompressionJS(t *testing.T) {
	for name, src := range map[string]string{
		"no websocket hook":       `function request(flow) {}`,
		"a hook for another host": `on("websocket_message", "~d other.test", (flow, message) => { message.drop(); });`,
	} {
		t.Run(name, func(t *testing.T) {
			got := make(chan string, 10)
			r := newRig(t, false, wsOrigin(got), scriptJS(t, src))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, resp := r.wsDial(ctx, "/kept")
			if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Errorf("extensions %q: compression was taken out", ext)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte("plain secret")); err != nil {
				t.Fatal(err)
			}
			if s := recv(t, got); s != "plain secret" {
				t.Fatalf("origin received %q", s)
			}
			if _, s := wsRead(t, ctx, c); s != "server secret: plain secret" {
				t.Fatalf("client received %q", s)
			}
		})
	}
}
