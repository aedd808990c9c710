package js

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
	"github.com/dop251/goja/unistring"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// goja has no heap limit, and its + operator builds strings inside the
// VM, where nothing of ours runs: `s = s + s` doubles a string thirty
// times in as many instructions and holds a gigabyte before the deadline
// can interrupt it. So, as for Lua's .., every + and += and every
// template literal is rewritten, before the script is compiled, into a
// call of a checked function that admits a string before building it (no
// string over StringLimit characters, no more than AllocLimit in one hook
// call), and the built-ins that multiply a string's size (repeat,
// padStart, padEnd, concat, join) and those that allocate byte buffers
// (ArrayBuffer and the typed arrays) check too. What is left unchecked:
// arrays and objects growing element by element (stopped by the deadline),
// and the results of replace, replaceAll and JSON.stringify.

// Hidden global names of the checked functions. They are not JavaScript
// identifiers, so no script can name, declare or shadow them, and they are
// read-only properties of the global object.
const (
	addName   = "(add)"
	addToName = "(addTo)"
	tplName   = "(template)"
)

// compile parses src, rewrites its string building and compiles it. A
// module is wrapped in a function of exports and module on its first line,
// so line numbers stay those of the file.
func compile(path, src string, module bool) (*unit, error) {
	text := src
	if module {
		text = "(function (exports, module) {" + src + "\n})"
	}
	prg, err := parser.ParseFile(nil, path, text, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			// At the end of a module the wrapper's closing line is not the
			// file's: the error is on the file's last line.
			line := min(list[0].Position.Line, strings.Count(src, "\n")+1)
			return nil, &hook.ScriptError{File: path, Line: line, Msg: "SyntaxError: " + list[0].Message}
		}
		return nil, &hook.ScriptError{File: path, Msg: err.Error()}
	}
	u := &unit{path: path, module: module, lines: functionLines(prg)}
	rewrite(prg)
	p, err := goja.CompileAST(prg, false)
	if err != nil {
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) && ce.File != nil {
			return nil, &hook.ScriptError{File: path, Line: ce.File.Position(ce.Offset).Line, Msg: "SyntaxError: " + ce.Message}
		}
		return nil, &hook.ScriptError{File: path, Msg: err.Error()}
	}
	u.prog = p
	return u, nil
}

// functionLines finds where the functions a script may name as hooks are
// defined: top-level declarations and exports.NAME or module.exports.NAME
// assignments. Errors point at those lines when no frame of the script
// says better.
func functionLines(prg *ast.Program) map[string]int {
	lines := map[string]int{}
	pos := func(i file.Idx) int { return prg.File.Position(int(i) - 1).Line }
	var walk func(ss []ast.Statement)
	walk = func(ss []ast.Statement) {
		for _, s := range ss {
			switch x := s.(type) {
			case *ast.FunctionDeclaration:
				if x.Function.Name != nil {
					lines[string(x.Function.Name.Name)] = pos(x.Function.Function)
				}
			case *ast.ExpressionStatement:
				if call, ok := x.Expression.(*ast.CallExpression); ok { // a module's wrapper
					if fn, ok := call.Callee.(*ast.FunctionLiteral); ok && fn.Body != nil {
						walk(fn.Body.List)
					}
				}
				if fn, ok := x.Expression.(*ast.FunctionLiteral); ok && fn.Body != nil {
					walk(fn.Body.List)
				}
				a, ok := x.Expression.(*ast.AssignExpression)
				if !ok {
					continue
				}
				if d, ok := a.Left.(*ast.DotExpression); ok {
					if _, isFn := a.Right.(*ast.FunctionLiteral); isFn {
						lines[string(d.Identifier.Name)] = pos(a.Right.Idx0())
					} else if _, isArrow := a.Right.(*ast.ArrowFunctionLiteral); isArrow {
						lines[string(d.Identifier.Name)] = pos(a.Right.Idx0())
					}
				}
			}
		}
	}
	walk(prg.Body)
	return lines
}

var exprType = reflect.TypeFor[ast.Expression]()

// rewrite replaces string building in a parsed program with calls of the
// checked functions. It walks every node by reflection, children first,
// so no node type is missed when goja adds one.
func rewrite(prg *ast.Program) {
	w := &rewriter{seen: map[uintptr]bool{}}
	w.walk(reflect.ValueOf(prg))
}

type rewriter struct{ seen map[uintptr]bool }

func (w *rewriter) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem())
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[file.File]() {
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				w.slot(f)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			w.slot(v.Index(i))
		}
	}
}

// slot visits what a settable field or element holds, then replaces an
// expression there that builds strings.
func (w *rewriter) slot(f reflect.Value) {
	w.walk(f)
	if f.Type() != exprType || f.IsNil() {
		return
	}
	if repl := rewriteExpr(f.Interface().(ast.Expression)); repl != nil {
		f.Set(reflect.ValueOf(repl))
	}
}

func callOf(name string, at file.Idx, args ...ast.Expression) *ast.CallExpression {
	return &ast.CallExpression{Callee: &ast.Identifier{Name: unistring.String(name), Idx: at}, LeftParenthesis: at, ArgumentList: args, RightParenthesis: at}
}

func rewriteExpr(e ast.Expression) ast.Expression {
	switch x := e.(type) {
	case *ast.BinaryExpression:
		if x.Operator == token.PLUS {
			return callOf(addName, x.Idx0(), x.Left, x.Right)
		}
	case *ast.AssignExpression:
		if x.Operator != token.PLUS {
			return nil
		}
		at := x.Idx0()
		switch l := x.Left.(type) {
		case *ast.Identifier:
			ref := *l
			return &ast.AssignExpression{Operator: token.ASSIGN, Left: l, Right: callOf(addName, at, &ref, x.Right)}
		case *ast.DotExpression:
			switch l.Left.(type) {
			case *ast.Identifier, *ast.ThisExpression:
				ref := *l // reading the object twice has no side effect
				return &ast.AssignExpression{Operator: token.ASSIGN, Left: l, Right: callOf(addName, at, &ref, x.Right)}
			}
			key := &ast.StringLiteral{Idx: l.Identifier.Idx, Literal: strconv.Quote(string(l.Identifier.Name)), Value: l.Identifier.Name}
			return callOf(addToName, at, l.Left, key, x.Right)
		case *ast.BracketExpression:
			return callOf(addToName, at, l.Left, l.Member, x.Right)
		}
		// super.x += and this.#x += are left as they are.
	case *ast.TemplateLiteral:
		if x.Tag != nil {
			return nil
		}
		args := make([]ast.Expression, 0, len(x.Elements)+len(x.Expressions))
		for i, el := range x.Elements {
			args = append(args, &ast.StringLiteral{Idx: el.Idx, Literal: strconv.Quote(string(el.Parsed)), Value: el.Parsed})
			if i < len(x.Expressions) {
				args = append(args, x.Expressions[i])
			}
		}
		return callOf(tplName, x.OpenQuote, args...)
	}
	return nil
}

// grow admits n characters (or bytes, for a buffer) that the hook is
// about to build, or throws.
func (st *state) grow(what string, n int64) {
	cfg := st.v.s.cfg
	if c := st.cur; c != nil && c.dead.Load() {
		st.throw("the hook's time is up")
	}
	if n > cfg.StringLimit {
		st.throw(fmt.Sprintf("%s: result of %d characters is over the limit of %d", what, n, cfg.StringLimit))
	}
	if st.built+n > cfg.AllocLimit {
		hint := ""
		if what == "concatenation" {
			hint = " (build a big string once, with join, not by adding to it piece by piece)"
		}
		st.throw(fmt.Sprintf("%s: the hook built over %s of strings in this call, the limit%s", what, flowstore.FormatSize(cfg.AllocLimit), hint))
	}
	st.built += n
}

// growF is grow for a size computed in floating point (a count times a
// length), which may be huge or not a number.
func (st *state) growF(what string, n float64) {
	if math.IsNaN(n) || n <= 0 {
		return
	}
	if n > float64(math.MaxInt64/2) {
		n = float64(math.MaxInt64 / 2)
	}
	st.grow(what, int64(n))
}

// plainPrimitive: a value + turns into a string without calling script
// code or throwing (not an object, not a symbol).
func plainPrimitive(v goja.Value) bool {
	switch v.(type) {
	case *goja.Object, *goja.Symbol:
		return false
	}
	return true
}

// add is the + operator.
func (st *state) add(fc goja.FunctionCall) goja.Value {
	a, b := fc.Argument(0), fc.Argument(1)
	as, aStr := a.(goja.String)
	bs, bStr := b.(goja.String)
	switch {
	case aStr && bStr:
		return st.concat(as, bs)
	case goja.IsNumber(a) && goja.IsNumber(b):
		return st.rt.ToValue(a.ToFloat() + b.ToFloat())
	case aStr && plainPrimitive(b):
		return st.concat(as, st.str(b))
	case bStr && plainPrimitive(a):
		return st.concat(st.str(a), bs)
	}
	v, err := st.slowAdd(goja.Undefined(), a, b)
	if err != nil {
		panic(err)
	}
	return v
}

func (st *state) concat(a, b goja.String) goja.Value {
	st.grow("concatenation", int64(a.Length())+int64(b.Length()))
	return a.Concat(b)
}

// addTo is o[k] += v where reading o or k twice could have side effects.
func (st *state) addTo(fc goja.FunctionCall) goja.Value {
	o := fc.Argument(0).ToObject(st.rt)
	k := fc.Argument(1)
	var cur goja.Value
	if sym, ok := k.(*goja.Symbol); ok {
		cur = o.GetSymbol(sym)
	} else {
		cur = o.Get(k.String())
	}
	if cur == nil {
		cur = goja.Undefined()
	}
	r := st.add(goja.FunctionCall{This: goja.Undefined(), Arguments: []goja.Value{cur, fc.Argument(2)}})
	var err error
	if sym, ok := k.(*goja.Symbol); ok {
		err = o.SetSymbol(sym, r)
	} else {
		err = o.Set(k.String(), r)
	}
	if err != nil {
		panic(err)
	}
	return r
}

// template is an untagged template literal: its strings and values.
func (st *state) template(fc goja.FunctionCall) goja.Value {
	parts := make([]goja.String, len(fc.Arguments))
	n := int64(0)
	for i, a := range fc.Arguments {
		s, ok := a.(goja.String)
		if !ok {
			s = st.str(a)
		}
		parts[i] = s
		n += int64(s.Length())
	}
	st.grow("template literal", n)
	var b goja.StringBuilder
	b.Grow(int(n))
	for _, s := range parts {
		b.WriteString(s)
	}
	return b.String()
}

// slowAddSrc is + for objects (turned into primitives as the language
// says), symbols and bigints; strings it builds are admitted by check.
// It is compiled without the rewrite, and takes what it needs before any
// script runs, so a script cannot change it.
const slowAddSrc = `(function (check) {
  "use strict";
  const toPrimitive = Symbol.toPrimitive, apply = Reflect.apply, TE = TypeError, methods = ["valueOf", "toString"];
  function prim(o) {
    const ex = o[toPrimitive];
    if (ex !== undefined && ex !== null) {
      const r = apply(ex, o, ["default"]);
      if (r === null || (typeof r !== "object" && typeof r !== "function")) return r;
      throw new TE("Cannot convert object to primitive value");
    }
    for (let i = 0; i < 2; i++) {
      const f = o[methods[i]];
      if (typeof f === "function") {
        const r = apply(f, o, []);
        if (r === null || (typeof r !== "object" && typeof r !== "function")) return r;
      }
    }
    throw new TE("Cannot convert object to primitive value");
  }
  return function (a, b) {
    if (a !== null && (typeof a === "object" || typeof a === "function")) a = prim(a);
    if (b !== null && (typeof b === "object" || typeof b === "function")) b = prim(b);
    if ((typeof a === "string" || typeof b === "string") && typeof a !== "symbol" && typeof b !== "symbol") {
      const x = typeof a === "string" ? a : "" + a, y = typeof b === "string" ? b : "" + b;
      check(x.length + y.length);
      return x + y;
    }
    return a + b;
  };
})`

// buffersSrc wraps the constructors of byte buffers so that their size is
// admitted first: new Uint8Array(1e10) would otherwise take 10 GB at once.
const buffersSrc = `(function (g, check) {
  "use strict";
  const construct = Reflect.construct, names = ["ArrayBuffer", "SharedArrayBuffer", "Int8Array", "Uint8Array",
    "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array",
    "BigInt64Array", "BigUint64Array"];
  for (let i = 0; i < names.length; i++) {
    const C = g[names[i]];
    if (typeof C !== "function") continue;
    const per = C.BYTES_PER_ELEMENT || 1;
    g[names[i]] = new Proxy(C, {
      construct(t, args, nt) {
        const a = args[0];
        if (typeof a === "number") check(a * per);
        else if (a !== null && typeof a === "object" && typeof a.length === "number") check(a.length * per);
        return construct(t, args, nt);
      },
    });
  }
})`

var (
	slowAddProg = goja.MustCompile("(add)", slowAddSrc, true)
	buffersProg = goja.MustCompile("(buffers)", buffersSrc, true)
)

// installChecks defines the checked operators and replaces the built-ins
// that multiply a string's size.
func (st *state) installChecks() {
	rt := st.rt
	g := rt.GlobalObject()
	def := func(name string, fn func(goja.FunctionCall) goja.Value) {
		_ = g.DefineDataProperty(name, rt.ToValue(fn), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	}
	def(addName, st.add)
	def(addToName, st.addTo)
	def(tplName, st.template)
	check := func(what string) goja.Value {
		return rt.ToValue(func(fc goja.FunctionCall) goja.Value {
			st.growF(what, fc.Argument(0).ToFloat())
			return goja.Undefined()
		})
	}
	mk, err := rt.RunProgram(slowAddProg)
	if err != nil {
		panic(err)
	}
	mkFn, _ := goja.AssertFunction(mk)
	slow, err := mkFn(goja.Undefined(), check("concatenation"))
	if err != nil {
		panic(err)
	}
	st.slowAdd, _ = goja.AssertFunction(slow)
	wrap, err := rt.RunProgram(buffersProg)
	if err != nil {
		panic(err)
	}
	wrapFn, _ := goja.AssertFunction(wrap)
	if _, err := wrapFn(goja.Undefined(), g, check("buffer")); err != nil {
		panic(err)
	}

	strProto := rt.Get("String").ToObject(rt).Get("prototype").ToObject(rt)
	wrapMethod(rt, strProto, "repeat", func(orig goja.Callable, fc goja.FunctionCall) {
		st.growF("repeat", float64(st.str(fc.This).Length())*fc.Argument(0).ToFloat())
	})
	pad := func(orig goja.Callable, fc goja.FunctionCall) {
		st.growF("pad", fc.Argument(0).ToFloat())
	}
	wrapMethod(rt, strProto, "padStart", pad)
	wrapMethod(rt, strProto, "padEnd", pad)
	_ = strProto.Set("concat", func(fc goja.FunctionCall) goja.Value {
		if goja.IsUndefined(fc.This) || goja.IsNull(fc.This) {
			panic(rt.NewTypeError("String.prototype.concat called on null or undefined"))
		}
		s := st.str(fc.This)
		parts := []goja.String{s}
		n := int64(s.Length())
		for _, a := range fc.Arguments {
			p := st.str(a)
			parts = append(parts, p)
			n += int64(p.Length())
		}
		st.grow("concat", n)
		var b goja.StringBuilder
		b.Grow(int(n))
		for _, p := range parts {
			b.WriteString(p)
		}
		return b.String()
	})
	arrProto := rt.Get("Array").ToObject(rt).Get("prototype").ToObject(rt)
	_ = arrProto.Set("join", st.join)
}

// wrapMethod replaces o[name] with a function that runs before (which
// may throw) and then the original.
func wrapMethod(rt *goja.Runtime, o *goja.Object, name string, before func(orig goja.Callable, fc goja.FunctionCall)) {
	orig, ok := goja.AssertFunction(o.Get(name))
	if !ok {
		return
	}
	_ = o.Set(name, func(fc goja.FunctionCall) goja.Value {
		if goja.IsUndefined(fc.This) || goja.IsNull(fc.This) {
			panic(rt.NewTypeError("String.prototype." + name + " called on null or undefined"))
		}
		before(orig, fc)
		v, err := orig(fc.This, fc.Arguments...)
		if err != nil {
			panic(err)
		}
		return v
	})
}

// join is Array.prototype.join, admitting its result as it grows and
// stopping when the hook's time is up (it runs as one builtin).
func (st *state) join(fc goja.FunctionCall) goja.Value {
	rt := st.rt
	o := fc.This.ToObject(rt)
	n := int64(o.Get("length").ToInteger())
	sep := goja.String(nil)
	if s := fc.Argument(0); !goja.IsUndefined(s) {
		sep = st.str(s)
	} else {
		sep = rt.ToValue(",").(goja.String)
	}
	if n <= 0 {
		return rt.ToValue("")
	}
	limit := st.v.s.cfg.StringLimit
	size := int64(sep.Length()) * (n - 1)
	if size > limit {
		st.grow("join", size)
	}
	parts := make([]goja.String, 0, min(n, 1<<16))
	for i := int64(0); i < n; i++ {
		if i&1023 == 1023 {
			if c := st.cur; c != nil && c.dead.Load() {
				st.throw("the hook's time is up")
			}
		}
		e := o.Get(strconv.FormatInt(i, 10))
		var s goja.String
		if e == nil || goja.IsUndefined(e) || goja.IsNull(e) {
			s = rt.ToValue("").(goja.String)
		} else {
			s = st.str(e)
		}
		size += int64(s.Length())
		if size > limit {
			st.grow("join", size)
		}
		parts = append(parts, s)
	}
	st.grow("join", size)
	var b goja.StringBuilder
	b.Grow(int(size))
	for i, p := range parts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// str is ToString(v) as a goja.String (goja hands numbers back as they
// are).
func (st *state) str(v goja.Value) goja.String {
	if s, ok := v.(goja.String); ok {
		return s
	}
	if s, ok := v.ToString().(goja.String); ok {
		return s
	}
	return st.rt.ToValue(v.String()).(goja.String)
}
