package js

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// registration is one on(...) call seen while the top level ran.
type registration struct {
	phase   int
	filter  string
	fn      goja.Callable
	opts    goja.Value
	timeout time.Duration
	line    int
}

// newState builds a runtime and runs the version's sources in it. The
// first runtime of a version decides the version's hooks; later ones must
// register the same hooks in the same order.
func (v *version) newState(first bool) (*state, error) {
	cfg := v.s.cfg
	st := &state{rt: goja.New(), v: v, quiet: !first}
	st.rt.SetMaxCallStackSize(1024)
	st.install()
	st.loading = true
	timeout := max(cfg.Timeout, cfg.LoadTimeout)
	var exports []*goja.Object
	err, timedOut, abandoned := st.exec(timeout, func() error {
		for _, u := range v.units {
			e, err := st.runUnit(u)
			if err != nil {
				return err
			}
			exports = append(exports, e)
		}
		return nil
	})
	st.loading = false
	switch {
	case abandoned:
		return nil, &hook.ScriptError{File: v.s.path, Msg: fmt.Sprintf("the script's top level did not finish within %s", timeout)}
	case timedOut:
		st.close()
		se := st.scriptError(err)
		se.Msg = fmt.Sprintf("the script's top level did not finish within %s", timeout)
		return nil, se
	case err != nil:
		st.close()
		return nil, st.scriptError(err)
	}
	st.exports = exports
	if first {
		if err := v.buildSpecs(st); err != nil {
			st.close()
			return nil, err
		}
	}
	if err := st.bindHooks(); err != nil {
		st.close()
		return nil, err
	}
	st.regs = nil
	return st, nil
}

// runUnit runs one source: a script at the top level (with exports and
// module as globals, for scripts written as modules), a module through
// its wrapper. It returns what the unit exports.
func (st *state) runUnit(u *unit) (*goja.Object, error) {
	rt := st.rt
	exports := rt.NewObject()
	module := rt.NewObject()
	_ = module.Set("exports", exports)
	if !u.module {
		_ = rt.Set("exports", exports)
		_ = rt.Set("module", module)
		if _, err := rt.RunProgram(u.prog); err != nil {
			return nil, err
		}
		return module.Get("exports").ToObject(rt), nil
	}
	wrapper, err := rt.RunProgram(u.prog)
	if err != nil {
		return nil, err
	}
	fn, _ := goja.AssertFunction(wrapper)
	if _, err := fn(goja.Undefined(), exports, module); err != nil {
		return nil, err
	}
	e := module.Get("exports")
	if e == nil || goja.IsUndefined(e) || goja.IsNull(e) {
		return rt.NewObject(), nil
	}
	return e.ToObject(rt), nil
}

// globalHook returns the script's function for a phase: a global
// function of that name, or one it exports.
func (st *state) globalHook(name string) goja.Callable {
	if fn, ok := goja.AssertFunction(st.rt.GlobalObject().Get(name)); ok {
		return fn
	}
	if len(st.exports) > 0 && st.exports[0] != nil {
		if fn, ok := goja.AssertFunction(st.exports[0].Get(name)); ok {
			return fn
		}
	}
	return nil
}

// bindHooks lines the runtime's functions up with the version's specs.
func (st *state) bindHooks() error {
	v := st.v
	if len(st.regs) != v.nregs {
		return &hook.ScriptError{File: v.s.path, Msg: fmt.Sprintf("a new JavaScript runtime registered %d hooks with on(), the first %d: on() must not depend on chance or time", len(st.regs), v.nregs)}
	}
	st.fns = make([]goja.Callable, len(v.specs))
	st.opts = make([]goja.Value, len(v.specs))
	for i, h := range v.specs {
		switch {
		case h.icept != nil:
			fn, err := st.interceptorFunc(h.icept)
			if err != nil {
				return err
			}
			st.fns[i] = fn
			st.opts[i] = st.fromGo(h.icept.options)
		case h.reg < 0:
			fn := st.globalHook(h.name)
			if fn == nil {
				return &hook.ScriptError{File: v.s.path, Msg: "a new JavaScript runtime lacks the function " + h.name}
			}
			st.fns[i] = fn
		default:
			r := st.regs[h.reg]
			if r.phase != h.phase {
				return &hook.ScriptError{File: v.s.path, Line: r.line, Msg: "on() registered a different phase in a new JavaScript runtime"}
			}
			st.fns[i], st.opts[i] = r.fn, r.opts
		}
	}
	return nil
}

// install gives the runtime what hooks may use besides the language:
// console, on, options, env, shared and crypto; takes away code built
// from strings; and checks string building (alloc.go).
func (st *state) install() {
	rt := st.rt
	g := rt.GlobalObject()
	st.errCtor, _ = goja.AssertConstructor(rt.Get("Error"))
	st.typeCtor, _ = goja.AssertConstructor(rt.Get("TypeError"))
	st.u8Ctor, _ = goja.AssertConstructor(rt.Get("Uint8Array"))
	jsonObj := rt.Get("JSON").ToObject(rt)
	st.jsonParse, _ = goja.AssertFunction(jsonObj.Get("parse"))
	st.jsonStr, _ = goja.AssertFunction(jsonObj.Get("stringify"))
	st.installChecks()
	st.installFlowAPI()
	if _, err := rt.RunProgram(noCodeProg); err != nil {
		panic(err)
	}

	console := rt.NewObject()
	for name, lvl := range map[string]flowstore.Level{
		"log": flowstore.LevelInfo, "info": flowstore.LevelInfo, "debug": flowstore.LevelDebug,
		"warn": flowstore.LevelWarn, "error": flowstore.LevelError,
	} {
		_ = console.Set(name, func(fc goja.FunctionCall) goja.Value { st.log(lvl, fc.Arguments); return goja.Undefined() })
	}
	_ = g.Set("console", console)
	_ = g.Set("on", st.on)

	opts := rt.NewObject()
	for k, v := range st.v.s.cfg.Set {
		_ = opts.Set(k, v)
	}
	_ = g.Set("options", opts)
	_ = g.Set("env", func(fc goja.FunctionCall) goja.Value {
		if v, ok := st.v.s.cfg.Getenv(fc.Argument(0).String()); ok {
			return rt.ToValue(v)
		}
		return goja.Undefined()
	})

	shared := rt.NewObject()
	store := st.v.s.cfg.Shared
	_ = shared.Set("get", func(fc goja.FunctionCall) goja.Value {
		st.alive()
		return st.fromGo(store.Get(fc.Argument(0).String()))
	})
	_ = shared.Set("set", func(fc goja.FunctionCall) goja.Value {
		st.alive()
		v, err := st.toGo(fc.Argument(1), 0)
		if err != nil {
			st.throwType("shared.set: " + err.Error())
		}
		if err := store.Set(fc.Argument(0).String(), v, optNumber(fc.Argument(2), 0)); err != nil {
			st.throw(err.Error())
		}
		return goja.Undefined()
	})
	_ = shared.Set("incr", func(fc goja.FunctionCall) goja.Value {
		st.alive()
		n, err := store.Incr(fc.Argument(0).String(), optNumber(fc.Argument(1), 1), optNumber(fc.Argument(2), 0))
		if err != nil {
			st.throw(err.Error())
		}
		return rt.ToValue(n)
	})
	_ = shared.Set("delete", func(fc goja.FunctionCall) goja.Value {
		st.alive()
		_ = store.Set(fc.Argument(0).String(), nil, 0)
		return goja.Undefined()
	})
	_ = g.Set("shared", shared)

	_ = g.Set("btoa", func(fc goja.FunctionCall) goja.Value {
		b, ok := st.bytesOf(fc.Argument(0))
		if !ok || len(b) != st.str(fc.Argument(0)).Length() {
			st.throw("btoa: the string holds characters outside Latin-1")
		}
		st.grow("btoa", int64(base64.StdEncoding.EncodedLen(len(b))))
		return rt.ToValue(base64.StdEncoding.EncodeToString(b))
	})
	_ = g.Set("atob", func(fc goja.FunctionCall) goja.Value {
		in := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' {
				return -1
			}
			return r
		}, fc.Argument(0).String())
		st.grow("atob", int64(len(in)))
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(in, "="))
		if err != nil {
			st.throw("atob: " + err.Error())
		}
		return st.binaryString(b)
	})

	crypto := rt.NewObject()
	_ = crypto.Set("randomUUID", func(goja.FunctionCall) goja.Value { return rt.ToValue(randomUUID()) })
	_ = g.Set("crypto", crypto)
}

// noCodeSrc takes eval and the Function constructors away: code compiled
// at run time would skip the checks on string building (and Lua scripts
// have no load either).
const noCodeSrc = `(function (g) {
  "use strict";
  function noCode() { throw new EvalError("code built from strings is not allowed in hooks"); }
  const FP = Function.prototype;
  Object.defineProperty(noCode, "prototype", { value: FP });
  const protos = [FP, Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {})];
  for (let i = 0; i < protos.length; i++) {
    Object.defineProperty(protos[i], "constructor", { value: noCode, writable: false, configurable: false });
  }
  g.Function = noCode;
  g.eval = noCode;
})(this)`

var noCodeProg = goja.MustCompile("(sandbox)", noCodeSrc, false)

func optNumber(v goja.Value, def float64) float64 {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return def
	}
	return v.ToFloat()
}

// randomUUID is a version 4 UUID, as crypto.randomUUID() returns.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// alive stops a function that keeps running after its hook was abandoned
// from touching anything shared.
func (st *state) alive() {
	if c := st.cur; c != nil && c.dead.Load() {
		st.throw("the hook's time is up")
	}
}

// throw raises a JavaScript Error with msg.
func (st *state) throw(msg string) {
	e, err := st.errCtor(nil, st.rt.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(e)
}

// throwType raises a JavaScript TypeError with msg.
func (st *state) throwType(msg string) {
	e, err := st.typeCtor(nil, st.rt.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(e)
}

// log is console.*: the arguments, space-separated, in the event log.
func (st *state) log(lvl flowstore.Level, args []goja.Value) {
	st.alive()
	if st.loading && st.quiet {
		return // the top level already ran (and logged) in the first runtime
	}
	var b strings.Builder
	cut := 0
	write := func(s string) {
		if room := hook.MaxLogMessage - b.Len(); len(s) > room {
			cut += len(s) - room
			s = s[:room]
		}
		b.WriteString(s)
	}
	for i, a := range args {
		if i > 0 {
			write(" ")
		}
		write(st.display(a))
	}
	if cut > 0 {
		fmt.Fprintf(&b, "… (%d more bytes not logged)", cut)
	}
	id := ""
	if st.cur != nil {
		id = st.cur.f.ID
	}
	st.v.s.cfg.Log.Add(lvl, st.v.s.source, id, b.String())
}

// display is how console.log shows a value: strings as they are, flow
// objects and errors as their text, other objects as JSON.
func (st *state) display(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok {
		return v.String()
	}
	if _, ok := o.Export().(*obj); ok {
		return o.String()
	}
	if _, ok := goja.AssertFunction(o); ok || o.ClassName() == "Error" {
		return o.String()
	}
	s, err := st.jsonStr(goja.Undefined(), o)
	if err != nil || s == nil || goja.IsUndefined(s) {
		return o.String()
	}
	return s.String()
}

// on(phase, [filter,] fn [, opts]) registers a hook for flows matching a
// filter expression. It may only be called while the script loads.
func (st *state) on(fc goja.FunctionCall) goja.Value {
	if !st.loading {
		st.throw("on() may only be called while the script loads, not from a hook")
	}
	name := fc.Argument(0).String()
	ph := hook.PhaseIndex(name)
	if ph < 0 {
		st.throwType(fmt.Sprintf("on(): unknown phase %q (want one of %s)", name, strings.Join(hook.PhaseNames[:], ", ")))
	}
	args := 1
	filterExpr := ""
	switch a := fc.Argument(1); {
	case goja.IsString(a):
		filterExpr = a.String()
		args = 2
	case goja.IsUndefined(a) || goja.IsNull(a):
		args = 2
	}
	fn, ok := goja.AssertFunction(fc.Argument(args))
	if !ok {
		st.throwType("on(): a function expected")
	}
	r := registration{phase: ph, filter: filterExpr, fn: fn, line: st.callerLine()}
	if o, ok := fc.Argument(args + 1).(*goja.Object); ok {
		ms := o.Get("timeout_ms")
		if ms == nil || goja.IsUndefined(ms) {
			ms = o.Get("timeoutMs")
		}
		if ms != nil && !goja.IsUndefined(ms) {
			if !goja.IsNumber(ms) || ms.ToFloat() <= 0 || ms.ToFloat() > 60000 {
				st.throwType("on(): timeout_ms must be a number between 1 and 60000")
			}
			r.timeout = time.Duration(ms.ToFloat() * float64(time.Millisecond))
		}
		r.opts = o
		if inner, ok := o.Get("options").(*goja.Object); ok {
			r.opts = inner
		}
	} else if a := fc.Argument(args + 1); !goja.IsUndefined(a) && !goja.IsNull(a) {
		st.throwType("on(): options must be an object")
	}
	st.regs = append(st.regs, r)
	return goja.Undefined()
}

// callerLine is the line of the script code calling the current Go
// function.
func (st *state) callerLine() int {
	for _, f := range st.rt.CaptureCallStack(8, nil) {
		if st.v.isSource(f.SrcName()) {
			return f.Position().Line
		}
	}
	return 0
}

func (v *version) isSource(name string) bool {
	for _, u := range v.units {
		if u.path == name {
			return true
		}
	}
	return false
}
