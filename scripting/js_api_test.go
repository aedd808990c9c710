package scripting_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// jsAssert is prepended to test scripts: a failed assertion is the hook's
// error.
const jsAssert = `function assert(c, m) { if (!c) throw new Error("assertion failed: " + m); }
`

// TestJSFlowAPI checks the JavaScript API a phase at a time, as
// TestFlowAPI does for Lua: the script asserts what it reads, the Go side
// checks what it wrote.
func TestJSFlowAPI(t *testing.T) {
	tests := []struct {
		name   string
		phase  flowstore.Phase
		flow   []flowtest.Option
		script string
		check  func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict)
	}{
		{
			name:  "headers: fetch-style methods and bracket access, case-insensitive",
			phase: "request",
			flow:  []flowtest.Option{flowtest.ReqHeader("Cookie", "a=1"), flowtest.ReqHeader("cookie", "b=2"), flowtest.ReqHeader("X-Gone", "x")},
			script: `function request(flow) {
  const h = flow.request.headers;
  assert(h.get("user-agent") === "flowtest" && h["USER-AGENT"] === "flowtest", "get");
  assert(h.get("missing") === null && h["missing"] === undefined && !h.has("missing") && h.has("x-gone"), "missing");
  assert(h.get("cookie") === "a=1, b=2", "joined: " + h.get("cookie"));
  const all = h.getAll("COOKIE");
  assert(all.length === 2 && all[0] === "a=1" && all[1] === "b=2", "getAll");
  assert(h.entries().length === 5 && h.entries()[0][0] === "Host", "entries");
  let n = 0; for (const [k, v] of h.entries()) n++;
  assert(n === 5, "for-of");
  h.set("X-New", "1");
  h.append("X-Multi", "a"); h.append("X-Multi", "b");
  h["X-Bracket"] = "yes";
  h.delete("x-gone");
  delete h["Cookie"];
  h["X-List"] = ["1", "2"];
  let threw = false;
  try { h.set("Bad Name", "v"); } catch (e) { threw = String(e).includes("not a valid header name"); }
  assert(threw, "bad name");
  threw = false;
  try { h.set("X-Evil", "a\r\nInjected: 1"); } catch (e) { threw = String(e).includes("line breaks"); }
  assert(threw, "CRLF");
}`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				h := f.Request.Headers
				if h.Get("X-New") != "1" || len(h.Values("X-Multi")) != 2 || h.Get("X-Bracket") != "yes" || h.Has("X-Gone") || h.Has("Cookie") || len(h.Values("X-List")) != 2 {
					t.Fatalf("%s", h)
				}
			},
		},
		{
			name:  "request line and fields",
			phase: "request",
			flow:  []flowtest.Option{flowtest.URL("https://api.test:8443/v1/items?a=1"), flowtest.NoResponse()},
			script: `function request(flow) {
  const q = flow.request;
  assert(q.method === "GET" && q.scheme === "https" && q.host === "api.test" && q.port === 8443, "fields");
  assert(q.path === "/v1/items?a=1" && q.query === "a=1" && q.url === "https://api.test:8443/v1/items?a=1", q.url);
  q.method = "POST"; q.path = "/v2/items"; q.query = "b=2"; q.host = "other.test"; q.port = 9443;
  let threw = false;
  try { q.port = 70000; } catch (e) { threw = true; }
  assert(threw, "port range");
  assert(flow.phase === "request" && flow.response === null, "phase");
}`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if u := f.Request.URL(); f.Request.Method != "POST" || u != "https://other.test:9443/v2/items?b=2" {
					t.Fatalf("%s %s", f.Request.Method, u)
				}
			},
		},
		{
			name:  "gzip body: text decodes, setting encodes again; json; bytes",
			phase: "response",
			flow: []flowtest.Option{flowtest.RespHeader("Content-Encoding", "gzip"), func(f *flowstore.Flow) {
				f.Response.Headers.Set("Content-Type", "application/json")
				f.Response.Body = flowstore.NewBody(gz(t, `{"a": 1, "list": [1, 2]}`))
			}},
			script: `function response(flow) {
  const b = flow.response.body;
  assert(b.text === '{"a": 1, "list": [1, 2]}', b.text);
  assert(b.json.list.length === 2, "json");
  assert(b.bytes[0] === 0x1f && b.bytes[1] === 0x8b, "bytes are as sent");
  const data = b.json;
  data.b = "two";
  b.json = data;
  assert(b.size > 0 && b.truncated === false, "size");
}`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if got := gunzip(t, f.Response.Body.Data); got != `{"a":1,"list":[1,2],"b":"two"}` {
					t.Fatalf("%q", got)
				}
			},
		},
		{
			name:  "respond with a JSON object, in requestheaders",
			phase: "requestheaders",
			script: `function requestheaders(flow) {
  flow.respond(201, {"X-Mock": "yes"}, {ok: true, items: []});
}`,
			check: func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict) {
				r := f.Response
				if v != flowstore.Respond || r.Status != 201 || string(r.Body.Data) != `{"ok":true,"items":[]}` ||
					r.Headers.Get("Content-Type") != "application/json" || r.Headers.Get("X-Mock") != "yes" || r.Headers.Get("Content-Length") != "22" {
					t.Fatalf("%v %+v %q", v, r, r.Body.Data)
				}
			},
		},
		{
			name:  "respond in the object form, ordered headers",
			phase: "request",
			script: `function request(flow) {
  flow.respond({status: 418, headers: [["X-B", "2"], ["X-A", "1"]], body: "teapot"});
}`,
			check: func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict) {
				r := f.Response
				if v != flowstore.Respond || r.Status != 418 || string(r.Body.Data) != "teapot" || r.Headers[0].Name != "X-B" {
					t.Fatalf("%v %+v", v, r)
				}
			},
		},
		{
			name:   "kill and intercept",
			phase:  "request",
			script: `function request(flow) { if (flow.request.path === "/k") flow.kill(); else flow.intercept(); }`,
			flow:   []flowtest.Option{flowtest.URL("http://x.test/k")},
			check: func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict) {
				if v != flowstore.Kill {
					t.Fatal(v)
				}
			},
		},
		{
			name:  "response fields, marked, comment",
			phase: "responseheaders",
			script: `function responseheaders(flow) {
  const r = flow.response;
  assert(r.status === 200 && r.reason === "OK", r.status);
  r.status = 404;
  flow.marked = true;
  flow.comment = "seen";
}`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if f.Response.Status != 404 || f.Response.Reason != "Not Found" || !f.Marked || f.Comment != "seen" {
					t.Fatalf("%+v", f)
				}
			},
		},
		{
			name:  "done is read-only",
			phase: "done",
			script: `function done(flow) {
  let msg = "";
  try { flow.marked = true; } catch (e) { msg = String(e); }
  assert(msg.includes("flow.marked cannot be changed in the done phase"), msg);
  try { flow.kill(); } catch (e) { msg = String(e); }
  assert(msg.includes("cannot be used in the done phase"), msg);
  try { flow.response.headers.set("X", "1"); } catch (e) { msg = String(e); }
  assert(msg.includes("cannot be changed in the done phase"), msg);
  console.log("done checked");
}`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, log := engineJS(t, jsAssert+tc.script)
			f := flowtest.New(tc.flow...)
			v, err := run(e, tc.phase, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range log.Entries() {
				if en.Level >= flowstore.LevelError {
					t.Fatal(en)
				}
			}
			tc.check(t, f, v)
		})
	}
}

// A hook that throws after changing things leaves the flow as it was.
func TestJSFailedHookLeavesFlowUnmodified(t *testing.T) {
	e, _ := engineJS(t, `function request(flow) {
  flow.request.headers.set("X-Partial", "1");
  flow.request.body.text = "changed";
  flow.ctx.partial = true;
  flow.respond(500, {}, "no");
  throw new Error("boom");
}
function response(flow) { flow.response.headers.set("X-Ctx", String(flow.ctx.partial)); }`)
	f := flowtest.New(flowtest.ReqBody("text/plain", []byte("orig")))
	v, err := e.Request(bg, f)
	if err == nil || !strings.Contains(err.Error(), "test.js:6: boom") || v != flowstore.Continue {
		t.Fatalf("%v %v", v, err)
	}
	if f.Request.Headers.Has("X-Partial") || string(f.Request.Body.Data) != "orig" || f.Response == nil || f.Response.Status == 500 {
		t.Fatalf("%+v", f.Request)
	}
	if _, err := e.Response(bg, f); err != nil || f.Response.Headers.Get("X-Ctx") != "undefined" {
		t.Fatalf("%v %q", err, f.Response.Headers.Get("X-Ctx"))
	}
}

// on(): filters, options, timeout_ms and order, global function first.
func TestJSOnFiltersOptionsAndOrder(t *testing.T) {
	e, _ := engineJS(t, `
function request(flow) { flow.request.headers.append("X-Order", "global"); }
on("request", "~d example.test", (flow, o) => flow.request.headers.append("X-Order", o.tag), {tag: "first"});
on("request", "~d other.test", (flow) => flow.request.headers.append("X-Order", "never"));
on("request", null, (flow, o) => flow.request.headers.append("X-Order", o.tag), {timeout_ms: 50, options: {tag: "inner"}});
on("request", (flow) => flow.request.headers.append("X-Order", "last"));`)
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Request.Headers.Values("X-Order"), ","); got != "global,first,inner,last" {
		t.Fatal(got)
	}
	if !e.Wants(flowstore.PhaseRequest, f) || e.Wants(flowstore.PhaseResponse, f) {
		t.Fatal("Wants")
	}
}

// Per-hook timeout_ms, a script disabled after MaxFailures in a row and
// enabled again when its file changes.
func TestJSTimeoutAndDisable(t *testing.T) {
	p := writeScript(t, "slow.js", `on("request", (flow) => { while (true) {} }, {timeout_ms: 30});`)
	log := flowstore.NewEventLog(100)
	e, err := scripting.New(scripting.Options{Paths: []string{p}, Log: log, MaxFailures: 2, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for range 2 {
		start := time.Now()
		_, err := e.Request(bg, flowtest.New())
		if err == nil || !strings.Contains(err.Error(), "slow.js:1: timed out after 30ms") || time.Since(start) > 2*time.Second {
			t.Fatalf("%v after %s", err, time.Since(start))
		}
	}
	logged(t, log, "disabled after 2 failures in a row")
	if e.Wants(flowstore.PhaseRequest, flowtest.New()) {
		t.Fatal("still enabled")
	}
	ctx, cancel := testContext(t)
	defer cancel()
	go e.Watch(ctx)
	if err := os.WriteFile(p, []byte(`function request(flow) { flow.request.headers.set("X-Fixed", "1"); }`), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fixed script", func() bool { return e.Wants(flowstore.PhaseRequest, flowtest.New()) })
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Fixed") != "1" {
		t.Fatal(err, f.Request.Headers)
	}
}

// What a script cannot reach: files, network, processes, code built from
// strings; and what it can: options, env, shared, crypto, console.
func TestJSSandboxAndGlobals(t *testing.T) {
	e, log := engineJS(t, jsAssert+`
function request(flow) {
  assert(typeof require === "undefined" && typeof process === "undefined" && typeof fetch === "undefined", "no require, process, fetch");
  assert(typeof setTimeout === "undefined" && typeof XMLHttpRequest === "undefined", "no timers, no XHR");
  let msg = "";
  try { eval("1 + 1"); } catch (e) { msg = String(e); }
  assert(msg.includes("not allowed"), "eval: " + msg);
  msg = "";
  try { new Function("return 1"); } catch (e) { msg = String(e); }
  assert(msg.includes("not allowed"), "Function: " + msg);
  msg = "";
  try { (function () {}).constructor("return 1"); } catch (e) { msg = String(e); }
  assert(msg.includes("not allowed"), "constructor: " + msg);
  assert((function () {}) instanceof Function, "instanceof Function");
  assert(options.token === "abc" && env("JS_TEST_VAR") === "set" && env("NOPE") === undefined, "options, env");
  shared.set("k", {a: 1, list: ["x", "y"]});
  const v = shared.get("k");
  assert(v.a === 1 && v.list[1] === "y", "shared");
  v.a = 2;
  assert(shared.get("k").a === 1, "shared values are copies");
  assert(shared.incr("n") === 1 && shared.incr("n", 5) === 6, "incr");
  shared.delete("k");
  assert(shared.get("k") === undefined, "delete");
  msg = "";
  try { shared.set("bad", () => 1); } catch (e) { msg = String(e); }
  assert(msg.includes("cannot be kept"), msg);
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()), "uuid");
  assert(btoa("hi") === "aGk=" && atob("aGk") === "hi", "base64");
  console.warn("warned", 1, {a: [1]}, null, undefined);
}`, func(o *scripting.Options) {
		o.Set = map[string]string{"token": "abc"}
		o.Getenv = func(k string) (string, bool) {
			if k == "JS_TEST_VAR" {
				return "set", true
			}
			return "", false
		}
	})
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
	en := logged(t, log, `warned 1 {"a":[1]} null undefined`)
	if en.Level != flowstore.LevelWarn {
		t.Fatal(en)
	}
}

// flow.ctx crosses phases and languages; a Lua table with both parts
// reaches JavaScript as an object keyed "1", "2"..., a JS array reaches
// Lua as a list, JSON null as json.null.
func TestJSCtxAcrossLanguages(t *testing.T) {
	lua := writeScript(t, "a.lua", `function request(flow)
  flow.ctx.list = {"x", "y"}
  flow.ctx.mixed = {"first", name = "m"}
  flow.ctx.null = json.null
  flow.ctx.n = 3
end
function response(flow)
  assert(flow.ctx.fromjs[2] == "b" and #flow.ctx.fromjs == 2, "array to list")
  assert(flow.ctx.obj.deep.ok == true, "object to table")
  assert(flow.ctx.null == json.null, "null")
  flow.response.headers["X-Lua"] = "ok"
end`)
	js := writeScript(t, "b.js", jsAssert+`function request(flow) {
  const c = flow.ctx;
  assert(Array.isArray(c.list) && c.list[1] === "y", "list");
  assert(c.mixed["1"] === "first" && c.mixed.name === "m", "mixed: " + JSON.stringify(c.mixed));
  assert(c.null === null && c.n === 3, "null and number");
  c.fromjs = ["a", "b"];
  c.obj = {deep: {ok: true}};
}`)
	log := flowstore.NewEventLog(100)
	e, err := scripting.New(scripting.Options{Paths: []string{lua, js}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Response(bg, f); err != nil || f.Response.Headers.Get("X-Lua") != "ok" {
		t.Fatal(err)
	}
	e.Done(bg, f)
	if e.Wants(flowstore.PhaseDone, f) {
		t.Fatal("the ctx outlived the flow")
	}
}

// A flow object kept past its hook fails loudly.
func TestJSStaleFlowObject(t *testing.T) {
	e, _ := engineJS(t, `let kept;
function request(flow) {
  if (kept) {
    let msg = "";
    try { kept.request.headers.get("x"); } catch (e) { msg = String(e); }
    flow.request.headers.set("X-Stale", msg.includes("used after its hook returned") ? "caught" : msg);
  }
  kept = flow;
}`, func(o *scripting.Options) { o.PoolSize = 1 })
	e.Request(bg, flowtest.New())
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Stale") != "caught" {
		t.Fatal(err, f.Request.Headers)
	}
}

// Strings a hook builds are admitted before they are built.
func TestJSStringLimits(t *testing.T) {
	for _, tc := range []struct{ name, code, want string }{
		{"+", `let s = "x"; while (true) s = s + s;`, "concatenation: result of 2048 characters is over the limit of 1024"},
		{"+=", `let s = "x"; while (true) s += s;`, "concatenation: result of 2048 characters"},
		{"+= on a property", `const o = {s: "x"}; while (true) o.s += o.s;`, "concatenation: result of 2048 characters"},
		{"+= on an element", `const a = ["x"]; let i = 0; while (true) a[i] += a[i];`, "concatenation: result of 2048 characters"},
		{"template", "let s = 'x'; while (true) s = `${s}${s}`;", "template literal: result of 2048 characters"},
		{"repeat", `"ab".repeat(1e9);`, "repeat: result of 2000000000 characters"},
		{"padStart", `"a".padStart(5000, "x");`, "pad: result of 5000 characters"},
		{"concat", `"a".concat("x".repeat(1000), "y".repeat(100));`, "concat: result of 1101 characters"},
		{"join", `new Array(3000).join("x");`, "join: result of 2999 characters"},
		{"many strings in one call", `const keep = []; for (let i = 0; i < 100; i++) keep.push("x".repeat(1000));`, "repeat: the hook built over 4.0k of strings in this call"},
		{"typed array", `new Uint8Array(1e10);`, "buffer: result of 10000000000 characters"},
		{"object to string", `const o = {toString() { return "x".repeat(600); }}; const s = o + o;`, "concatenation: result of 1200 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engineJS(t, "function request(flow) {\n"+tc.code+"\n}", func(o *scripting.Options) {
				o.StringLimit = 1024
				o.AllocLimit = 4096
			})
			_, err := e.Request(bg, flowtest.New())
			if err == nil || !strings.Contains(err.Error(), "test.js:2: "+tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
	// + keeps the language's meaning.
	e, _ := engineJS(t, jsAssert+`function request(flow) {
  assert(1 + 2 === 3 && "a" + 1 === "a1" && 1 + "a" === "1a" && 1.5 + 1 === 2.5, "numbers and strings");
  assert(true + 1 === 2 && null + 1 === 1 && isNaN(undefined + 1), "other primitives");
  assert(10n + 5n === 15n, "bigint");
  assert([1, 2] + "" === "1,2" && ({}) + "" === "[object Object]", "objects");
  assert(new Date(0) + "" === new Date(0).toString(), "dates use toString");
  assert({valueOf() { return 40; }} + 2 === 42, "valueOf");
  let s = "a"; s += "b"; s += 1;
  assert(s === "ab1", s);
  const o = {n: 1}; o.n += 2; o["n"] += 3;
  assert(o.n === 6, o.n);
  assert(`+"`x${1 + 1}y${'z'}`"+` === "x2yz", "template");
  let threw = false;
  try { "a" + Symbol("s"); } catch (e) { threw = e instanceof TypeError; }
  assert(threw, "symbols throw");
  assert(["a", "b"].join() === "a,b" && [null, undefined, 1].join("-") === "--1", "join");
  assert("ab".repeat(2) === "abab" && "5".padStart(3, "0") === "005" && "a".concat(1, "b") === "a1b", "string methods");
}`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// Load errors name the file and line.
func TestJSLoadErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"syntax", "function request(flow) {\n  let = = 1;\n}", "test.js:2: SyntaxError"},
		{"top level throws", "\nthrow new Error('no');", "test.js:2: no"},
		{"bad filter", "\non('request', '~q ((', function () {});", "test.js:2: on(\"request\", \"~q ((\"): bad filter"},
		{"unknown phase", "on('later', function () {});", "test.js:1: TypeError: on(): unknown phase \"later\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scripting.New(scripting.Options{Paths: []string{writeScript(t, "test.js", tc.src)}})
			var se *scripting.ScriptError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
	e, _ := engineJS(t, `function request(flow) { on("request", () => {}); }`)
	if _, err := e.Request(bg, flowtest.New()); err == nil || !strings.Contains(err.Error(), "only be called while the script loads") {
		t.Fatal(err)
	}
}

// A YAML interceptor file that does not fit says where.
func TestPlenumFileErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "m.js"), []byte("exports.f = function (r) { return {action: 'continue'}; };\n"), 0o644)
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown hook", "interceptors:\n  - module: ./m.js\n    hook: on_lunch\n    function: f\n", "i.yaml:2: unknown hook \"on_lunch\""},
		{"missing function", "interceptors:\n  - module: ./m.js\n    hook: on_request\n    function: g\n", "i.yaml:2: module ./m.js exports no function \"g\""},
		{"unknown key", "interceptors:\n  - module: ./m.js\n    hook: on_request\n    function: f\n    timeout: 5\n", "i.yaml:5: unknown key \"timeout\""},
		{"bad match", "interceptors:\n  - module: ./m.js\n    hook: on_request\n    function: f\n    match: \"~q ((\"\n", "i.yaml:2: match"},
		{"missing module", "interceptors:\n  - module: ./gone.js\n    hook: on_request\n    function: f\n", "i.yaml:2: module ./gone.js"},
		{"not YAML", "interceptors: [\n", "i.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "i.yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o644)
			_, err := scripting.New(scripting.Options{Paths: []string{p}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
		})
	}
}

// Editing a module of a YAML file reloads it; a broken module keeps the
// old version; respond where it cannot be made is ignored with a warning.
func TestPlenumReloadAndIgnoredRespond(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "m.js")
	write := func(p, s string) {
		if err := os.WriteFile(p+".tmp", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
	}
	write(mod, `exports.f = (r) => ({action: "continue", headers: {"x-v": "1"}});
exports.late = (r) => ({action: "respond", status: 500});`)
	y := filepath.Join(dir, "i.yml")
	write(y, "interceptors:\n  - {module: m.js, hook: on_request_headers, function: f}\n  - {module: m.js, hook: on_response, function: late}\n")
	log := flowstore.NewEventLog(100)
	e, err := scripting.New(scripting.Options{Paths: []string{y}, Log: log, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	go e.Watch(ctx)
	version := func() string {
		f := flowtest.New()
		if _, err := e.RequestHeaders(bg, f); err != nil {
			t.Fatal(err)
		}
		return f.Request.Headers.Get("X-V")
	}
	if v := version(); v != "1" {
		t.Fatal(v)
	}
	f := flowtest.New()
	if v, err := e.ResponseHeaders(bg, f); err != nil || v != flowstore.Continue || f.Response.Status != 200 {
		t.Fatal(v, err, f.Response.Status)
	}
	logged(t, log, "late returned respond in on_response, where a response cannot be made; ignored")
	write(mod, `exports.f = (r) => ({action: "continue", headers: {"x-v": "2"}});
exports.late = (r) => undefined;`)
	waitFor(t, "version 2", func() bool { return version() == "2" })
	write(mod, "exports.f = (r) => {{;")
	logged(t, log, "m.js:1: SyntaxError", "the previous version keeps running")
	if v := version(); v != "2" {
		t.Fatal(v)
	}
}

// A responsechunk hook sees each byte as one character, so binary and
// split UTF-8 pass through unharmed, and returns a string or bytes.
func TestJSResponseChunkBytes(t *testing.T) {
	e, _ := engineJS(t, `function responsechunk(flow, chunk, last) {
  if (last) return new Uint8Array([0x21]);
  return chunk.replaceAll("a", "b");
}`)
	f := flowtest.New()
	out, err := e.ResponseChunk(bg, f, []byte("a\xff\xe2\x82"), false)
	if err != nil || string(out) != "b\xff\xe2\x82" {
		t.Fatalf("%q %v", out, err)
	}
	out, err = e.ResponseChunk(bg, f, nil, true)
	if err != nil || string(out) != "!" {
		t.Fatalf("%q %v", out, err)
	}
}

// The WebSocket message API in JavaScript.
func TestJSWebSocketMessage(t *testing.T) {
	e, _ := engineJS(t, jsAssert+`function websocket_message(flow, message) {
  assert(message.kind === "text" && message.fromClient === true && message.size === 5, "fields");
  assert(message.text === "hello" && message.bytes.length === 5, "payload");
  let msg = "";
  try { message.bytes = new Uint8Array([0xff]); } catch (e) { msg = String(e); }
  assert(msg.includes("valid UTF-8"), msg);
  message.text = message.text.toUpperCase() + " ✓";
}`)
	f := wsFlow()
	m := wsMsg(true, flowstore.MessageText, "hello")
	if drop, err := e.WebSocketMessage(bg, f, m); err != nil || drop || string(m.Data) != "HELLO ✓" {
		t.Fatalf("%v %v %q", drop, err, m.Data)
	}
	e2, _ := engineJS(t, `function websocket_message(flow, message) { return false; }`)
	if _, err := e2.WebSocketMessage(bg, f, m); err == nil || !strings.Contains(err.Error(), "websocket_message returns nothing, not a boolean") {
		t.Fatal(err)
	}
}

// A hook stuck in a builtin that the interrupt cannot stop (a regular
// expression backtracking): the call returns at its timeout and a grace
// period, the flow unmodified, the runtime abandoned, and later calls run
// on a fresh one.
func TestJSStuckBuiltinAbandonsRuntime(t *testing.T) {
	// About a second of backtracking, which goes on after the test.
	n := "23"
	if raceEnabled {
		n = "20"
	}
	e, _ := engineJS(t, `function request(flow) {
  flow.request.headers.set("X-Partial", "1");
  if (flow.request.path === "/stuck") /^(a+)+\1b$/.test("a".repeat(`+n+`));
  flow.request.headers.set("X-Done", "1");
}`, func(o *scripting.Options) { o.Timeout = 30 * time.Millisecond; o.PoolSize = 1 })
	f := flowtest.New(flowtest.URL("http://example.test/stuck"))
	start := time.Now()
	_, err := e.Request(bg, f)
	if err == nil || !strings.Contains(err.Error(), "test.js:1: did not stop within 30ms (stuck in a Go builtin)") || f.Request.Headers.Has("X-Partial") {
		t.Fatalf("%v %s", err, f.Request.Headers)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %s", took)
	}
	f = flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Done") != "1" {
		t.Fatal(err, f.Request.Headers)
	}
}

// Closing the engine ends every JavaScript runtime's worker goroutine.
func TestJSCloseEndsWorkers(t *testing.T) {
	before := runtime.NumGoroutine()
	e, err := scripting.New(scripting.Options{Paths: []string{writeScript(t, "x.js", `function request(flow) { flow.request.headers.set("X", "1"); }`)}, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				e.Request(bg, flowtest.New())
			}
		}()
	}
	wg.Wait()
	e.Close()
	waitFor(t, "the workers to end", func() bool { return runtime.NumGoroutine() <= before })
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// The two directions of a WebSocket call websocket_message at once; no
// update of flow.ctx is lost between them, in either language.
func TestWebSocketCtxNoLostUpdates(t *testing.T) {
	for name, src := range map[string][2]string{
		"js": {"ws.js", `function websocket_message(flow, message) { flow.ctx.n = (flow.ctx.n || 0) + 1; }
function response(flow) { flow.response.headers.set("X-N", String(flow.ctx.n)); }`},
		"lua": {"ws.lua", `function websocket_message(flow, message) flow.ctx.n = (flow.ctx.n or 0) + 1 end
function response(flow) flow.response.headers["X-N"] = tostring(flow.ctx.n) end`},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := scripting.New(scripting.Options{Paths: []string{writeScript(t, src[0], src[1])}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			f := wsFlow()
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 25 {
						if _, err := e.WebSocketMessage(bg, f, wsMsg(i%2 == 0, flowstore.MessageText, "m")); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			g := flowtest.New(func(g *flowstore.Flow) { g.ID = f.ID })
			if _, err := e.Response(bg, g); err != nil || g.Response.Headers.Get("X-N") != "200" {
				t.Fatalf("%v: ctx.n = %q, want 200", err, g.Response.Headers.Get("X-N"))
			}
		})
	}
}

// The twin of TestPrintIsCapped: console.log keeps at most 64 KiB.
func TestJSPrintIsCapped(t *testing.T) {
	e, log := engineJS(t, `function request(flow) { console.log("head", "x".repeat(1000000)); }`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
	entry := logged(t, log, "head xxx", "more bytes not logged")
	if n := len(entry.Msg); n > 65<<10 {
		t.Fatalf("logged %d bytes", n)
	}
	if !strings.HasSuffix(entry.Msg, "(934469 more bytes not logged)") {
		t.Fatalf("message ends %q", entry.Msg[len(entry.Msg)-60:])
	}
}

// The twin of TestWatchReenablesAndSurvivesRemoval's second half: a file
// that goes away leaves the loaded version running.
func TestJSWatchSurvivesRemoval(t *testing.T) {
	p := writeScript(t, "gone.js", `function request(flow) { flow.request.headers.set("X-Here", "1"); }`)
	e, err := scripting.New(scripting.Options{Paths: []string{p}, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	go e.Watch(ctx)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Here") != "1" {
		t.Fatal("a removed file stopped the script", err)
	}
}

// The twin of TestWantsWebSocketMessage, for the cases a script decides.
func TestJSWantsWebSocketMessage(t *testing.T) {
	handshake := wsFlow("http://chat.test/ws")
	handshake.Response = nil
	for _, tc := range []struct {
		name, script string
		f            *flowstore.Flow
		want         bool
	}{
		{"no hook", `function request(flow) {}`, wsFlow(), false},
		{"global hook", `function websocket_message(flow, message) {}`, wsFlow(), true},
		{"on() with another host", `on("websocket_message", "~d other.test", () => {});`, wsFlow(), false},
		{"~websocket, at the handshake", `on("websocket_message", "~websocket & ~d chat.test", () => {});`, handshake, true},
		{"a response-phase hook only", `on("response", "~websocket", () => {});`, wsFlow(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engineJS(t, tc.script)
			if got := e.Wants(flowstore.PhaseWebSocketMessage, tc.f); got != tc.want {
				t.Fatalf("Wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// A module of a YAML file that goes missing and comes back is loaded
// again when it is back; meanwhile the old version runs.
func TestPlenumModuleGoneAndBack(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "m.js")
	os.WriteFile(mod, []byte(`exports.f = (r) => ({headers: {"x-v": "1"}});`), 0o644)
	y := filepath.Join(dir, "i.yaml")
	os.WriteFile(y, []byte("interceptors:\n  - {module: m.js, hook: on_request_headers, function: f}\n"), 0o644)
	log := flowstore.NewEventLog(100)
	e, err := scripting.New(scripting.Options{Paths: []string{y}, Log: log, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	go e.Watch(ctx)
	version := func() string {
		f := flowtest.New()
		if _, err := e.RequestHeaders(bg, f); err != nil {
			t.Fatal(err)
		}
		return f.Request.Headers.Get("X-V")
	}
	os.Remove(mod)
	logged(t, log, "module m.js", "the previous version keeps running")
	if v := version(); v != "1" {
		t.Fatal(v)
	}
	os.WriteFile(mod, []byte(`exports.f = (r) => ({headers: {"x-v": "2"}});`), 0o644)
	waitFor(t, "version 2", func() bool { return version() == "2" })
}
