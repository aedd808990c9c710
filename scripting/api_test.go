package scripting_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gunzip(t testing.TB, b []byte) string {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// run calls one phase of e on f.
func run(e *scripting.Engine, phase flowstore.Phase, f *flowstore.Flow) (flowstore.Verdict, error) {
	switch phase {
	case flowstore.PhaseRequestHeaders:
		return e.RequestHeaders(bg, f)
	case flowstore.PhaseRequest:
		return e.Request(bg, f)
	case flowstore.PhaseResponseHeaders:
		return e.ResponseHeaders(bg, f)
	case flowstore.PhaseResponse:
		return e.Response(bg, f)
	case flowstore.PhaseError:
		e.Error(bg, f)
	case flowstore.PhaseDone:
		e.Done(bg, f)
	}
	return flowstore.Continue, nil
}

// TestFlowAPI checks the API a phase at a time: the Lua side asserts what
// it reads (an assert failure comes back as the hook's error), the Go side
// checks what it wrote.
func TestFlowAPI(t *testing.T) {
	tests := []struct {
		name   string
		phase  flowstore.Phase
		flow   []flowtest.Option
		script string
		check  func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict)
	}{
		{
			name:  "headers index case-insensitively, nil removes, methods",
			phase: "request",
			flow:  []flowtest.Option{flowtest.ReqHeader("Cookie", "a=1"), flowtest.ReqHeader("cookie", "b=2"), flowtest.ReqHeader("X-Gone", "x")},
			script: `function request(flow)
  local h = flow.request.headers
  assert(h["user-agent"] == "flowtest" and h["USER-AGENT"] == "flowtest" and h:get("User-Agent") == "flowtest")
  assert(h["missing"] == nil and not h:has("missing") and h:has("x-gone"))
  local all = h:get_all("COOKIE")
  assert(#all == 2 and all[1] == "a=1" and all[2] == "b=2", "get_all")
  assert(#h == 5, "#h is " .. #h)
  local names = {}
  for name, value in h:iterate() do names[#names+1] = name .. "=" .. value end
  assert(table.concat(names, ",") == "Host=example.test,User-Agent=flowtest,Cookie=a=1,cookie=b=2,X-Gone=x", table.concat(names, ","))
  h["x-gone"] = nil
  h["X-Trace"] = "abc123"
  h["X-Num"] = 42
  h:add("X-Multi", "1")
  h:add("X-Multi", "2")
  h["Accept"] = {"text/html", "application/json"}
  h:set("user-agent", "lua")
  h:remove("cookie")
  assert(tostring(h):find("X-Trace: abc123", 1, true))
end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				want := "Host: example.test\nUser-Agent: lua\nX-Trace: abc123\nX-Num: 42\nX-Multi: 1\nX-Multi: 2\nAccept: text/html\nAccept: application/json"
				if got := f.Request.Headers.String(); got != want {
					t.Fatalf("headers:\n%s\nwant:\n%s", got, want)
				}
			},
		},
		{
			name:  "request fields read and written",
			phase: "requestheaders",
			flow:  []flowtest.Option{flowtest.URL("http://example.test:8080/a/b?x=1&y=2"), flowtest.Method("PUT")},
			script: `function requestheaders(flow)
  local r = flow.request
  assert(r.method == "PUT" and r.scheme == "http" and r.host == "example.test" and r.port == 8080)
  assert(r.path == "/a/b?x=1&y=2" and r.query == "x=1&y=2" and r.http_version == "HTTP/1.1")
  assert(r.url == "http://example.test:8080/a/b?x=1&y=2", r.url)
  assert(flow.response ~= nil and flow.id ~= "" and flow.phase == "requestheaders")
  r.method = "POST"
  r.query = "z=3"
  r.host = "other.test"
  r.port = 9090
  r.scheme = "https"
end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				r := f.Request
				if r.Method != "POST" || r.URL() != "https://other.test:9090/a/b?z=3" || r.Headers.Get("Host") != "other.test:9090" {
					t.Fatalf("request %s %s host %q", r.Method, r.URL(), r.Headers.Get("Host"))
				}
			},
		},
		{
			name:   "url assignment",
			phase:  "request",
			script: `function request(flow) flow.request.url = "https://api.test/v2/x?q=1" end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				r := f.Request
				if r.Scheme != "https" || r.Host != "api.test" || r.Port != 443 || r.Path != "/v2/x?q=1" || r.Headers.Get("Host") != "api.test" {
					t.Fatalf("%+v", r)
				}
			},
		},
		{
			name:  "gzip body text is decoded and re-encoded, raw is the wire bytes, length fixed",
			phase: "response",
			flow: []flowtest.Option{func(f *flowstore.Flow) {
				f.Response.Headers = flowstore.Headers{{Name: "Content-Encoding", Value: "gzip"}, {Name: "Content-Length", Value: "999"}}
				f.Response.Body = flowstore.NewBody(gz(t, "hello gzip"))
			}},
			script: `function response(flow)
  local b = flow.response.body
  assert(b.text == "hello gzip", b.text)
  assert(b.raw:sub(1, 2) == "\31\139", "raw is gzip")
  assert(b.size == #b.raw and not b.truncated and #b == #b.raw)
  assert(tostring(b) == "hello gzip" and b .. "!" == "hello gzip!")
  b.text = b.text .. " and more"
end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if got := gunzip(t, f.Response.Body.Data); got != "hello gzip and more" {
					t.Fatalf("body %q", got)
				}
				if cl := f.Response.Headers.Get("Content-Length"); cl != itoa(len(f.Response.Body.Data)) {
					t.Fatalf("Content-Length %s for %d bytes", cl, len(f.Response.Body.Data))
				}
			},
		},
		{
			name:  "bodies are binary-safe; flow.request.body = string",
			phase: "request",
			flow:  []flowtest.Option{flowtest.ReqBody("application/octet-stream", []byte{0, 1, 2, 0xff, 0xfe, 0})},
			script: `function request(flow)
  local raw = flow.request.body.raw
  assert(#raw == 6 and raw:byte(4) == 255 and raw:byte(6) == 0)
  flow.request.body = raw:reverse() .. "\0\255"
end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if want := []byte{0, 0xfe, 0xff, 2, 1, 0, 0, 0xff}; !bytes.Equal(f.Request.Body.Data, want) {
					t.Fatalf("body %v", f.Request.Body.Data)
				}
			},
		},
		{
			name:  "truncated body is visible and cannot be replaced",
			phase: "response",
			flow: []flowtest.Option{func(f *flowstore.Flow) {
				f.Response.Body = flowstore.Body{Data: []byte("hel"), Size: 5, Truncated: true}
			}},
			script: `function response(flow) assert(flow.response.body.truncated and flow.response.body.size == 5); flow.response.body.text = "x" end`,
			check:  nil, // an error, checked below
		},
		{
			name:  "response fields",
			phase: "responseheaders",
			script: `function responseheaders(flow)
  local r = flow.response
  assert(r.status == 200 and r.reason == "OK" and r.http_version == "HTTP/1.1")
  r.status = 404
  r.headers["Content-Type"] = "application/json"
  flow.marked = true
  flow.comment = "seen by lua"
end`,
			check: func(t *testing.T, f *flowstore.Flow, _ flowstore.Verdict) {
				if f.Response.Status != 404 || f.Response.Reason != "Not Found" || f.Response.Headers.Get("content-type") != "application/json" || !f.Marked || f.Comment != "seen by lua" {
					t.Fatalf("%+v marked %v comment %q", f.Response, f.Marked, f.Comment)
				}
			},
		},
		{
			name:  "respond with a JSON table",
			phase: "request",
			flow:  []flowtest.Option{flowtest.NoResponse()},
			script: `function request(flow)
  assert(flow.response == nil)
  flow:respond(201, {["X-Mock"] = "yes"}, {ok = true, items = json.array({})})
  assert(flow.response.status == 201)
end`,
			check: func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict) {
				r := f.Response
				if v != flowstore.Respond || r.Status != 201 || string(r.Body.Data) != `{"items":[],"ok":true}` ||
					r.Headers.Get("Content-Type") != "application/json" || r.Headers.Get("X-Mock") != "yes" {
					t.Fatalf("%v %+v %q", v, r, r.Body.Data)
				}
			},
		},
		{
			name:   "respond with ordered headers and a string",
			phase:  "requestheaders",
			flow:   []flowtest.Option{flowtest.NoResponse()},
			script: `function requestheaders(flow) flow:respond(403, {{"B", "2"}, {"A", "1"}, {"B", "3"}}, "blocked") end`,
			check: func(t *testing.T, f *flowstore.Flow, v flowstore.Verdict) {
				if v != flowstore.Respond || f.Response.Headers.String() != "B: 2\nA: 1\nB: 3\nContent-Length: 7" || string(f.Response.Body.Data) != "blocked" {
					t.Fatalf("%v %q", v, f.Response.Headers.String())
				}
			},
		},
		{
			name:   "kill",
			phase:  "request",
			script: `function request(flow) flow:kill() end`,
			check: func(t *testing.T, _ *flowstore.Flow, v flowstore.Verdict) {
				if v != flowstore.Kill {
					t.Fatal(v)
				}
			},
		},
		{
			name:   "intercept",
			phase:  "response",
			script: `function response(flow) flow:intercept() end`,
			check: func(t *testing.T, _ *flowstore.Flow, v flowstore.Verdict) {
				if v != flowstore.Intercept {
					t.Fatal(v)
				}
			},
		},
		{
			name:  "done sees the finished flow read-only",
			phase: "done",
			flow:  []flowtest.Option{flowtest.Failed("dial tcp: refused")},
			script: `function done(flow)
  assert(flow.state == "error" and flow.error == "request: dial tcp: refused", flow.error)
  assert(flow.duration_ms == 3 and flow.response == nil, flow.duration_ms)
  local ok, err = pcall(function() flow.request.headers["X"] = "1" end)
  assert(not ok and err:find("cannot be changed in the done phase"), err)
  ok, err = pcall(function() flow:kill() end)
  assert(not ok and err:find("cannot be used in the done phase"), err)
  log.info("done ok")
end`,
		},
		{
			name:  "request is read-only in response phases",
			phase: "response",
			script: `function response(flow)
  local ok, err = pcall(function() flow.request.method = "POST" end)
  assert(not ok and err:find("flow.request cannot be changed in the response phase"), err)
end`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, tc.script)
			f := flowtest.New(tc.flow...)
			if !e.Wants(tc.phase, f) {
				t.Fatalf("Wants(%s) is false", tc.phase)
			}
			before := f.Clone()
			v, err := run(e, tc.phase, f)
			if tc.name == "truncated body is visible and cannot be replaced" {
				if err == nil || !strings.Contains(err.Error(), "larger than the body limit") || !bytes.Equal(f.Response.Body.Data, before.Response.Body.Data) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, f, v)
			}
		})
	}
}

func itoa(n int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + func() string { b := []byte{}; return string(appendInt(b, n)) }())
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// A failing hook leaves no trace: its partial changes are dropped, the
// error names script and line, and the next hook still runs.
func TestFailedHookLeavesFlowUnmodified(t *testing.T) {
	e, _ := engine(t, `
on("request", function(flow)
  flow.request.headers["X-Partial"] = "1"
  flow.ctx.partial = true
  flow.marked = true
  local x = nil
  return x.field
end)
on("request", function(flow)
  assert(flow.request.headers["X-Partial"] == nil and flow.ctx.partial == nil)
  flow.request.headers["X-Second"] = "ran"
end)
`)
	f := flowtest.New()
	v, err := e.Request(bg, f)
	if v != flowstore.Continue || err == nil || !strings.Contains(err.Error(), "test.lua:7: attempt to index") {
		t.Fatalf("verdict %v err %v", v, err)
	}
	if f.Request.Headers.Has("X-Partial") || f.Marked || f.Request.Headers.Get("X-Second") != "ran" {
		t.Fatalf("flow changed by the failed hook: %+v marked %v", f.Request.Headers, f.Marked)
	}
}

// A verdict after an earlier failure survives; the failure goes on the flow.
func TestVerdictAfterFailure(t *testing.T) {
	e, log := engine(t, `
on("request", function(flow) error("first fails") end)
on("request", function(flow) flow:respond(418, nil, "teapot") end)
`)
	f := flowtest.New()
	v, err := e.Request(bg, f)
	if v != flowstore.Respond || err != nil || f.Response.Status != 418 {
		t.Fatalf("%v %v", v, err)
	}
	if len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "test.lua:2: first fails") {
		t.Fatalf("notes %q", f.Notes)
	}
	logged(t, log, "first fails", f.ID)
}

func TestOnFiltersOptionsAndOrder(t *testing.T) {
	e, _ := engine(t, `
function request(flow) flow.request.headers:add("X-Order", "global") end
on("request", "~d api.test", function(flow, o)
  flow.request.headers:add("X-Order", "api:" .. o.tag)
end, {tag = "t1", timeout_ms = 50})
on("request", "~m POST", function(flow, o) flow.request.headers:add("X-Order", "post:" .. o.n) end, {options = {n = 7}})
on("request", nil, function(flow, o) assert(o == nil); flow.request.headers:add("X-Order", "all") end)
`)
	for _, tc := range []struct {
		opts []flowtest.Option
		want string
	}{
		{[]flowtest.Option{flowtest.URL("http://api.test/x")}, "global,api:t1,all"},
		{[]flowtest.Option{flowtest.Method("POST")}, "global,post:7,all"},
		{nil, "global,all"},
	} {
		f := flowtest.New(tc.opts...)
		if _, err := e.Request(bg, f); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(f.Request.Headers.Values("X-Order"), ","); got != tc.want {
			t.Errorf("%s: order %q, want %q", f.Request.URL(), got, tc.want)
		}
	}
}

// Wants says yes to a body phase only when a hook would run, so header-
// and chunk-only scripts never make the engine buffer a body.
func TestWants(t *testing.T) {
	e, _ := engine(t, `
function requestheaders(flow) end
function responsechunk(flow, chunk) return chunk end
on("response", "~d big.test", function(flow) end)
`)
	plain := flowtest.New()
	big := flowtest.New(flowtest.URL("http://big.test/"))
	for _, tc := range []struct {
		phase flowstore.Phase
		f     *flowstore.Flow
		want  bool
	}{
		{flowstore.PhaseRequestHeaders, plain, true},
		{flowstore.PhaseRequest, plain, false},
		{flowstore.PhaseResponseHeaders, plain, false},
		{flowstore.PhaseResponse, plain, false},
		{flowstore.PhaseResponse, big, true},
		{flowstore.PhaseResponseChunk, plain, true},
		{flowstore.PhaseError, plain, false},
		{flowstore.PhaseDone, plain, false},
		{"nonsense", plain, false},
	} {
		if got := e.Wants(tc.phase, tc.f); got != tc.want {
			t.Errorf("Wants(%s, %s) = %v", tc.phase, tc.f.Request.Host, got)
		}
	}
}

// flow.ctx is one table per flow, shared across phases and scripts, and
// dropped when the flow is done.
func TestCtxAcrossPhasesAndScripts(t *testing.T) {
	log := flowstore.NewEventLog(100)
	a := writeScript(t, "a.lua", `function request(flow) flow.ctx.token = flow.request.headers["Authorization"]; flow.ctx.list = {1, 2} end`)
	b := writeScript(t, "b.lua", `
function request(flow) table.insert(flow.ctx.list, 3) end
function response(flow)
  flow.response.headers["X-Token"] = flow.ctx.token
  flow.response.headers["X-List"] = table.concat(flow.ctx.list or {}, ",")
end
function done(flow) log.info("done with", flow.ctx.token) end`)
	e, err := scripting.New(scripting.Options{Paths: []string{a, b}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f := flowtest.New(flowtest.ReqHeader("Authorization", "Bearer xyz"))
	other := flowtest.New()
	for _, fl := range []*flowstore.Flow{f, other} {
		if _, err := e.Request(bg, fl); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Response(bg, f); err != nil {
		t.Fatal(err)
	}
	if f.Response.Headers.Get("X-Token") != "Bearer xyz" || f.Response.Headers.Get("X-List") != "1,2,3" {
		t.Fatalf("%s", f.Response.Headers)
	}
	if _, err := e.Response(bg, other); err != nil || other.Response.Headers.Has("X-Token") {
		t.Fatalf("other flow saw the first flow's ctx: %s %v", other.Response.Headers, err)
	}
	if !e.Wants(flowstore.PhaseDone, f) {
		t.Fatal("Wants(done) must be true while a ctx is held")
	}
	e.Done(bg, f)
	logged(t, log, "done with Bearer xyz")
	// A flow with the same ID later starts from an empty ctx.
	g := flowtest.New()
	g.ID = f.ID
	if _, err := e.Response(bg, g); err != nil || g.Response.Headers.Has("X-Token") || g.Response.Headers.Get("X-List") != "" {
		t.Fatalf("ctx not dropped: %s %v", g.Response.Headers, err)
	}
}

func TestOptionsEnvShared(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  assert(options.mode == "strict" and options.missing == nil)
  assert(env("TOKEN") == "s3cret" and env("NOPE") == nil)
  shared.set("k", {a = 1, list = {"x", "y"}})
  local v = shared.get("k")
  assert(v.a == 1 and v.list[2] == "y")
  v.a = 2
  assert(shared.get("k").a == 1, "shared values are copies")
  assert(shared.incr("n" .. flow.id) == 1 and shared.incr("n" .. flow.id, 5) == 6)
  shared.set("gone", "x", 0.001)
  shared.set("deleted", "x")
  shared.delete("deleted")
  assert(shared.get("deleted") == nil)
  assert(not pcall(shared.set, "bad", function() end))
  flow.request.headers["X-N"] = shared.incr("calls", 1, 60)
end
function response(flow)
  assert(shared.get("gone") == nil, "expired")
end
`, func(o *scripting.Options) {
		o.Set = map[string]string{"mode": "strict"}
		o.Getenv = func(k string) (string, bool) {
			if k == "TOKEN" {
				return "s3cret", true
			}
			return "", false
		}
	})
	for i := 1; i <= 3; i++ {
		f := flowtest.New()
		if _, err := e.Request(bg, f); err != nil {
			t.Fatal(err)
		}
		if got := f.Request.Headers.Get("X-N"); got != itoa(i) {
			t.Fatalf("call %d: X-N %q", i, got)
		}
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := e.Response(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

func TestJSONAndBase64(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  local v = json.decode('{"a": [1, 2.5, "x", null, {"b": true}], "e": [], "o": {}}')
  assert(v.a[1] == 1 and v.a[2] == 2.5 and v.a[3] == "x" and v.a[4] == json.null and v.a[5].b == true)
  assert(json.encode(v) == '{"a":[1,2.5,"x",null,{"b":true}],"e":[],"o":{}}', json.encode(v))
  assert(json.encode({1, 2, 3}) == "[1,2,3]" and json.encode("a\"b\n<>") == '"a\\"b\\n<>"')
  assert(json.encode({x = 1}, "  ") == '{\n  "x": 1\n}')
  assert(not pcall(json.decode, "{bad"))
  assert(not pcall(json.encode, {f = function() end}))
  local cyc = {}; cyc.self = cyc
  assert(not pcall(json.encode, cyc))
  assert(base64.encode("hi\0\255") == "aGkA/w==" and base64.decode("aGkA/w==") == "hi\0\255")
  assert(base64.urlencode("\255\254") == "__4" and base64.urldecode("__4") == "\255\254")
end`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// The sandbox has no way to the file system, processes or new code.
func TestSandbox(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  for _, name in ipairs({"io", "require", "dofile", "loadfile", "load", "loadstring", "module",
                         "collectgarbage", "getfenv", "setfenv", "newproxy", "debug", "package", "channel", "coroutine"}) do
    assert(_G[name] == nil, name .. " is reachable")
  end
  assert(os.execute == nil and os.exit == nil and os.remove == nil and os.getenv == nil and os.rename == nil)
  assert(type(os.time()) == "number" and type(os.date("%Y")) == "string" and type(os.clock()) == "number")
  assert(string.dump == nil)
  assert(getmetatable(flow) == false, "metatables are locked")
  local ok, err = pcall(string.rep, "x", 1e9)
  assert(not ok and err:find("over the limit"), err)
  ok, err = pcall(string.format, "%999d", 1)
  assert(not ok and err:find("too long"), err)
  assert(("x"):rep(3, ",") == "x,x,x")
  assert(string.format("%5.2f|%s|%d", 3.14159, "s", 7) == " 3.14|s|7")
end`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

func TestStringPatterns(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  assert(("hello world"):find("o w") == 5)
  assert(("hello world"):find("l+") == 3)
  local s, e2, cap = ("key=value"):find("(%w+)=")
  assert(s == 1 and e2 == 4 and cap == "key")
  assert(("key=value"):match("(%w+)=(%w+)") == "key")
  assert(select(2, ("key=value"):match("(%w+)=(%w+)")) == "value")
  assert(("  trim  "):match("^%s*(.-)%s*$") == "trim")
  assert(("f(a(b)c)"):match("%b()") == "(a(b)c)")
  assert(("THE (quick) fox"):find("%f[%a]%a+%f[%A]") == 1)
  local words = {}
  for w in ("one two  three"):gmatch("%a+") do words[#words+1] = w end
  assert(table.concat(words, "|") == "one|two|three")
  for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do words[#words+1] = k .. v end
  assert(words[4] == "a1" and words[5] == "b2")
  assert(("hello"):gsub("l", "L") == "heLLo")
  assert(select(2, ("hello"):gsub("l", "L")) == 2)
  assert(("hello world"):gsub("(%w+)", "<%1>") == "<hello> <world>")
  assert(("abc"):gsub("%w", "%0%0") == "aabbcc")
  assert(("abc"):gsub("", "-") == "-a-b-c-")
  assert(("hello world"):gsub("o", {o = "0"}) == "hell0 w0rld")
  assert(("$name is $age"):gsub("%$(%w+)", {name = "bob", age = 3}) == "bob is 3")
  assert(("abc"):gsub("%w", function(c) return c:upper() .. "." end) == "A.B.C.")
  assert(("abc"):gsub("b", "x", 0) == "abc")
  assert(("aaa"):gsub("^a", "b") == "baa")
  assert(("x.y"):gsub("%.", "%%") == "x%y")
  assert(("()"):find("()", 1, true) == 1)
  assert(not pcall(string.find, "x", "[a"))
  assert(not pcall(string.match, "x", "(x"))
  assert(("x"):gsub("(x", "y") == "y")
  -- linear in the subject: no recursion per character
  local big = ("a"):rep(1000000)
  assert(#big:match("^(a*)$") == 1000000)
  assert(select(2, big:gsub("a", "bb")) == 1000000)
end`, func(o *scripting.Options) { o.Timeout = 10 * time.Second })
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// A pattern that backtracks for ever stops when the hook's time is up,
// in the Lua state itself: the state is not abandoned.
func TestRunawayPatternStops(t *testing.T) {
	e, log := engine(t, `
on("request", function(flow)
  flow.request.headers["X-Partial"] = "1"
  local s = ("a"):rep(20000)
  return s:find(".-.-.-.-b$")
end, {timeout_ms = 100})`)
	f := flowtest.New()
	start := time.Now()
	_, err := e.Request(bg, f)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("took %s", took)
	}
	if err == nil || !strings.Contains(err.Error(), "test.lua:5: timed out after 100ms") || f.Request.Headers.Has("X-Partial") {
		t.Fatalf("err %v, headers %s", err, f.Request.Headers)
	}
	_ = log
}

func TestTimeoutLoopAndDisable(t *testing.T) {
	e, log := engine(t, `
function request(flow)
  flow.request.headers["X-Partial"] = "1"
  while true do end
end`, func(o *scripting.Options) {
		o.Timeout = 30 * time.Millisecond
		o.MaxFailures = 3
	})
	for i := 0; i < 3; i++ {
		f := flowtest.New()
		start := time.Now()
		_, err := e.Request(bg, f)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("took %s", took)
		}
		if err == nil || !strings.Contains(err.Error(), "test.lua:4: timed out after 30ms") || f.Request.Headers.Has("X-Partial") {
			t.Fatalf("err %v", err)
		}
	}
	logged(t, log, "disabled after 3 failures in a row", "script:test.lua")
	f := flowtest.New()
	if e.Wants(flowstore.PhaseRequest, f) {
		t.Fatal("a disabled script still wants flows")
	}
	if v, err := e.Request(bg, f); err != nil || v != flowstore.Continue {
		t.Fatal(v, err)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{"function request(flow)\n  local x = = 1\nend", "bad.lua:2: syntax error near '='"},
		{"x = 1\n\nend", "bad.lua:3: syntax error near 'end'"},
		{"local s = 'abc", "bad.lua:1: unterminated string"},
		{"goto nowhere", "no visible label 'nowhere'"},
		{"local x = 1\nerror('top level fails')", "bad.lua:2: top level fails"},
		{"\n\non('request', '~d (', function() end)", "bad.lua:3: on(\"request\", \"~d (\"): bad filter:"},
		{"on('nophase', function() end)", "bad.lua:1: bad argument #1 to on (unknown phase \"nophase\""},
		{"while true do end", "bad.lua:1: the script's top level did not finish within"},
	} {
		p := writeScript(t, "bad.lua", tc.src)
		_, err := scripting.New(scripting.Options{Paths: []string{p}, LoadTimeout: 50 * time.Millisecond})
		var se *scripting.ScriptError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v is not a ScriptError", tc.src, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), p[:len(p)-len("bad.lua")]) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.src, err, tc.want)
		}
	}
	if _, err := scripting.New(scripting.Options{Paths: []string{"/nonexistent/x.lua"}}); err == nil || !strings.Contains(err.Error(), "/nonexistent/x.lua") {
		t.Errorf("missing file: %v", err)
	}
}

func TestOnOnlyWhileLoading(t *testing.T) {
	e, _ := engine(t, `function request(flow) on("request", function() end) end`)
	_, err := e.Request(bg, flowtest.New())
	if err == nil || !strings.Contains(err.Error(), "test.lua:1: on() may only be called while the script loads") {
		t.Fatal(err)
	}
}

// A flow object kept past its hook fails loudly instead of acting on a
// stale copy.
func TestStaleFlowObject(t *testing.T) {
	e, _ := engine(t, `
function request(flow) kept = flow.request.headers end
function response(flow)
  local ok, err = pcall(function() return kept["Host"] end)
  assert(not ok and err:find("used after its hook returned"), err)
end`, func(o *scripting.Options) { o.PoolSize = 1 })
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Response(bg, f); err != nil {
		t.Fatal(err)
	}
}

func TestResponseChunk(t *testing.T) {
	e, _ := engine(t, `
function responsechunk(flow, chunk, last)
  if last then return chunk .. "<end>" end
  return (chunk:gsub("secret", "******"))
end
on("responsechunk", "~d keep.test", function(flow, chunk) return nil end)
on("responsechunk", "~d fail.test", function(flow, chunk) error("chunk hook fails") end)`)
	f := flowtest.New()
	out, err := e.ResponseChunk(bg, f, []byte("a secret b"), false)
	if err != nil || string(out) != "a ****** b" {
		t.Fatalf("%q %v", out, err)
	}
	out, _ = e.ResponseChunk(bg, f, []byte("tail"), true)
	if string(out) != "tail<end>" {
		t.Fatalf("%q", out)
	}
	out, _ = e.ResponseChunk(bg, flowtest.New(flowtest.URL("http://keep.test/")), []byte("secret"), false)
	if string(out) != "******" {
		t.Fatalf("nil return must keep the chunk: %q", out)
	}
	out, err = e.ResponseChunk(bg, flowtest.New(flowtest.URL("http://fail.test/")), []byte("secret"), false)
	if err != nil || string(out) != "******" {
		t.Fatalf("a failing chunk hook must pass its input on: %q %v", out, err)
	}
}

func TestLogAndPrint(t *testing.T) {
	e, log := engine(t, `
print("loaded", 1, nil, true)
function request(flow)
  print("p", flow.request.host)
  log.warn("w", {1} ~= nil)
  log.error("e")
  log.debug("d")
end`)
	logged(t, log, "[script:test.lua] loaded 1 nil true")
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		lvl flowstore.Level
		msg string
	}{{flowstore.LevelInfo, "p example.test"}, {flowstore.LevelWarn, "w true"}, {flowstore.LevelError, "e"}, {flowstore.LevelDebug, "d"}} {
		found := false
		for _, en := range log.Entries() {
			if en.Msg == want.msg && en.FlowID == f.ID && en.Level == want.lvl && en.Source == "script:test.lua" {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s entry %q", want.lvl, want.msg)
		}
	}
}
