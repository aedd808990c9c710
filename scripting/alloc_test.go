package scripting_test

import (
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// allocated is how many bytes the process has allocated so far.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Every way a hook can build a string stops at the string limit (1 MiB
// here) or at the per-call limit (4 MiB), with an error naming the
// function and the line, before the memory is taken: the call allocates
// little more than the limits, ends at once, and leaves the flow as it was.
func TestRunawayStringsStopAtTheLimits(t *testing.T) {
	const (
		strLimit   = 1 << 20
		allocLimit = 4 << 20
	)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"doubling with ..", `local s = "x"
  for i = 1, 24 do s = s .. s end`, "test.lua:4: concatenation: result of 2097152 bytes is over the limit of 1048576"},
		{"one long chain", `local s = ("x"):rep(300000)
  local u = s .. s .. s .. s`, "test.lua:4: concatenation: result of 1200000 bytes"},
		{"a number one byte over", `local s = ("x"):rep(1048575)
  local u = s .. 12`, "test.lua:4: concatenation: result of 1048577 bytes"},
		{"many strings in a table", `local s = ("x"):rep(500000)
  local t = {}
  for i = 1, 1e6 do t[i] = s .. i end`, "test.lua:5: concatenation: the hook built over 4.0M of strings in this call"},
		{"table.concat", `local s = ("x"):rep(500000)
  local t = {}
  for i = 1, 64 do t[i] = s end
  local u = table.concat(t, ",")`, "test.lua:6: table.concat: result of 32000063 bytes"},
		{"string.format %s", `local s = ("x"):rep(500000)
  local u = string.format("%s%s%s", s, s, s)`, "test.lua:4: string.format: result of"},
		{"string.format %q", `local s = ("\0"):rep(300000)
  local u = string.format("%q", s)`, "string.format: result of"},
		{"string.format %[n]", `local s = ("x"):rep(500000)
  local u = string.format(("%[1]s"):rep(100), s)`, "invalid format (%[ is not Lua's)"},
		{"string.rep", `local u = ("x"):rep(1e9)`, "string.rep: result of 1000000000 bytes"},
		{"string.gsub", `local s = ("x"):rep(600000)
  local u = s:gsub("x", "yy")`, "string.gsub: result of"},
		{"string.gsub with a function", `local s = ("x"):rep(20000)
  local u = s:gsub("x", function(c) return ("y"):rep(100) end)`, "string.gsub: result of"},
		{"string.upper in a loop", `local s = ("x"):rep(1000000)
  local t = {}
  for i = 1, 100 do t[i] = s:upper() end`, "string.upper: the hook built over 4.0M"},
		{"string.reverse in a loop", `local s = ("x"):rep(1000000)
  local t = {}
  for i = 1, 100 do t[i] = s:reverse() end`, "string.reverse: the hook built over 4.0M"},
		{"json.encode", `local s = ("x"):rep(500000)
  local u = json.encode({s, s, s, s})`, "json.encode: result of"},
		{"json.encode indented", `local t = {}
  for i = 1, 2000 do t[i] = {1} end
  local u = json.encode(t, ("\t"):rep(400))`, "json.encode: result of"},
		{"base64.encode", `local s = ("x"):rep(1000000)
  local u = base64.encode(s)`, "base64.encode: result of 1333336 bytes"},
		{"os.date", `local u = os.date(("%c"):rep(100000))`, "os.date: result of"},
		{"body.raw in a loop", `local t = {}
  for i = 1, 100 do t[i] = flow.response.body.raw end`, "body.raw: the hook built over 4.0M"},
		{"tostring(headers)", `local h = flow.response.headers
  local s = ("x"):rep(100000)
  for i = 1, 20 do h:add("X-Big", s) end
  local u = tostring(h)`, "tostring(headers): result of 2000"},
		{"setting a body in a loop", `local s = ("x"):rep(1000000)
  for i = 1, 100 do flow.response.body.raw = s end`, "body: the hook built over 4.0M"},
		{"json.decode in a loop", `local s = json.encode({("x"):rep(900000)})
  local t = {}
  for i = 1, 100 do t[i] = json.decode(s) end`, "json.decode: the hook built over 4.0M"},
		{"flow:respond in a loop", `local s = ("x"):rep(1000000)
  for i = 1, 100 do flow:respond(200, {}, s) end`, "flow:respond: the hook built over 4.0M"},
		{"body .. body", `local b = flow.response.body
  local t = {}
  for i = 1, 100 do t[i] = b .. "x" end`, "concatenation: the hook built over 4.0M"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, "function response(flow)\n  flow.response.headers[\"X-Partial\"] = \"1\"\n  "+tc.body+"\nend",
				func(o *scripting.Options) {
					o.StringLimit = strLimit
					o.AllocLimit = allocLimit
					o.Timeout = time.Second // the limits must stop it, not the clock
				})
			f := flowtest.New(flowtest.RespBody("application/octet-stream", []byte(strings.Repeat("b", 700000))))
			before := allocated()
			start := time.Now()
			_, err := e.Response(bg, f)
			took, grew := time.Since(start), allocated()-before
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if f.Response.Headers.Has("X-Partial") {
				t.Fatal("the failed hook's change was kept")
			}
			if took > 2*time.Second {
				t.Fatalf("took %s", took)
			}
			// The limits plus the builders' slack, a copy of the body
			// and the flow's scratch copy.
			if max := uint64(3*allocLimit + 4*strLimit); grew > max {
				t.Fatalf("the call allocated %d bytes, more than %d", grew, max)
			}
			t.Logf("stopped after %s, %.1f MiB allocated: %v", took.Round(time.Millisecond), float64(grew)/(1<<20), err)
		})
	}
}

// The default limit bounds the script: s = s .. s stops at 16 MiB
// (given the time: on a loaded machine the 200 ms deadline may come first).
func TestDoublingStopsAtTheDefaultLimit(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  local s = "x"
  for i = 1, 40 do s = s .. s end
end`, func(o *scripting.Options) { o.Timeout = 10 * time.Second })
	before := allocated()
	_, err := e.Request(bg, flowtest.New())
	grew := allocated() - before
	if err == nil || !strings.Contains(err.Error(), "test.lua:4: concatenation: result of 33554432 bytes is over the limit of 16777216") {
		t.Fatalf("err %v", err)
	}
	if grew > 64<<20 {
		t.Fatalf("the call allocated %d MiB", grew>>20)
	}
}

// The .. that scripts see behaves as Lua's: numbers, chains, metamethods
// (ours on bodies and a script's own), errors with their line, and ..
// in every place an expression can be (a .. left unchecked would make the
// script fail to load).
func TestConcatSemantics(t *testing.T) {
	e, _ := engine(t, `
local up = "u" .. 1
local T = setmetatable({}, {__concat = function(a, b)
  local x = type(a) == "table" and "T" or a
  local y = type(b) == "table" and "T" or b
  return "<" .. x .. y .. ">"
end})
local function f(a, ...) return a .. select("#", ...) end
function request(flow)
  assert(up == "u1")
  assert("a" .. "b" .. "c" == "abc")
  assert(1 .. 2 == "12" and 1.5 .. "" == "1.5" and -0.25 .. "x" == "-0.25x")
  assert(("a" .. "b") .. ("c" .. "d") == "abcd")
  assert("x" .. T == "<xT>" and T .. "y" == "<Ty>")
  assert("a" .. "b" .. T .. "c" .. "d" == "ab<T" .. "cd>", "a" .. "b" .. T .. "c" .. "d")
  local t = {["k" .. 1] = "v" .. 1, "e" .. 1}
  assert(t.k1 == "v1" and t[1] == "e1")
  assert(f("n" .. 1, "x" .. 1) == "n11")
  local i = 0
  while "s" .. i ~= "s3" do i = i + 1 end
  repeat i = i + 1 until "r" .. i == "r5"
  for j = #("ab" .. "c"), 3 do i = i + j end
  for k, v in pairs({a = "x" .. "y"}) do assert(k .. v == "axy") end
  if "i" .. "f" == "if" then i = i + 1 else error("x" .. "y") end
  local obj = {name = "o"}
  function obj:greet(p) return p .. self.name end
  assert(obj:greet("hi " .. "there ") == "hi there o")
  assert(tostring(flow.request.body .. "!") == "!" or true)
  assert(#(flow.response.body .. "!") == #flow.response.body.text + 1)
  local ok, err = pcall(function() return "a" .. nil end)
  assert(not ok and err:find("test.lua:30: attempt to concatenate a nil value", 1, true), err)
  ok, err = pcall(function() return {} .. "a" end)
  assert(not ok and err:find("attempt to concatenate a table value", 1, true), err)
  assert(not pcall(function() return true .. "" end))
  return (function() return "done" .. "" end)()
end`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// What the new string functions keep of Lua's behaviour.
func TestStringFunctionsKeepLuaBehaviour(t *testing.T) {
	e, _ := engine(t, `
function request(flow)
  assert(("abcXYZ 1é\255"):upper() == "ABCXYZ 1é\255", "upper is byte-wise ASCII")
  assert(("ABCxyz 1É\255"):lower() == "abcxyz 1É\255")
  assert(("abc"):reverse() == "cba" and (""):reverse() == "")
  assert(table.concat({1, "a", 2.5}, "-") == "1-a-2.5")
  assert(table.concat({"a", "b", "c"}, ",", 2) == "b,c" and table.concat({"a", "b", "c"}, ",", 2, 2) == "b")
  assert(table.concat({}) == "" and table.concat({"a"}, ",", 5) == "")
  assert(not pcall(table.concat, {"a", {}, "c"}))
  assert(string.format("%s=%d (%5.1f) %q %x", "k", 42, 3.14159, "a\"b", 255) == 'k=42 (  3.1) "a\\"b" ff')
  assert(string.format("%3s|%-3s|%.2s", "a", "b", "xyz") == "  a|b  |xy")
  assert(string.format("%d%%", 50) == "50%")
  assert(string.format("%s", {}):find("^table: "))
  assert(#string.format("%d", {("x"):rep(1000), ("y"):rep(1000)}) < 100, "a table is not dumped")
  assert(json.encode({a = {1, {}}, b = {}}, "  ") == '{\n  "a": [\n    1,\n    {}\n  ],\n  "b": {}\n}')
  assert(json.encode(json.array({}), "  ") == "[]")
  assert(os.date("!%Y-%m-%d", 0) == "1970-01-01")
  assert(base64.decode(" aGk= ") == "hi")
end`)
	if _, err := e.Request(bg, flowtest.New()); err != nil {
		t.Fatal(err)
	}
}

// A hook's print keeps at most 64 KiB in the event log, which holds
// thousands of entries for the whole run.
func TestPrintIsCapped(t *testing.T) {
	e, log := engine(t, `function request(flow) print("head", ("x"):rep(1000000)) end`)
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

// Through the proxy, with the default limits: the hook (s = s .. s
// in a loop) fails its call with the error on the flow and in the event
// log, the flow goes on unmodified, and the proxy keeps serving meanwhile.
// The hook has time enough that the limit, not the clock, stops it.
func TestRunawayConcatEndToEnd(t *testing.T) {
	r := newRig(t, false, nil, script(t, `
on("request", function(flow)
  flow.request.headers["X-Partial"] = "yes"
  if flow.request.path == "/grow" then
    local s = "x"
    while true do s = s .. s end
  end
end, {timeout_ms = 10000})`))
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
	const want = "hooks.lua:6: concatenation: result of 33554432 bytes is over the limit of 16777216"
	f := r.env.WaitFlow(r.url("/grow"))
	logged(t, r.env.Log, want, f.ID)
	if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "request hook: ") || !strings.Contains(f.Notes[0], want) {
		t.Fatalf("notes %q", f.Notes)
	}
	// Strings of 1 to 16 MiB were built (32 MiB), and 21 small flows served.
	if grew := allocated() - before; grew > 128<<20 {
		t.Fatalf("%d MiB allocated", grew>>20)
	}
	t.Logf("the hook was stopped and its flow answered in %s", took)
}
