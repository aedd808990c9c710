package scripting

import (
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// gopher-lua has no heap limit, and its .. operator (OP_CONCAT) builds its
// result inside the VM, where nothing of ours runs: `s = s .. s` doubles a
// string thirty times in as many instructions and holds a gigabyte before
// the per-instruction deadline check can see it. So every place a script
// can build a string goes through grow first, which admits a string of n
// bytes before it is built: no string over StringLimit, no more than
// AllocLimit of strings in one hook call, and none of any size once the
// call's time is up. The .. operator is reached by rewriting the script
// before it is compiled (rewriteConcat); table.concat, string.format, rep,
// gsub, upper, lower, reverse, json, base64 and body reads call grow
// themselves.

// concatName names the hidden local that holds the checked .. function.
// It is not a Lua identifier, so no script can name, shadow or replace it.
const concatName = "(concat)"

// grow admits a string of n bytes that the hook is about to build.
func (st *state) grow(L *lua.LState, what string, n int64) {
	o := &st.v.s.eng.opts
	if n > o.StringLimit {
		L.RaiseError("%s: result of %d bytes is over the limit of %d", what, n, o.StringLimit)
	}
	if st.built+n > o.AllocLimit {
		hint := ""
		if what == "concatenation" {
			hint = " (build a big string once, with table.concat, not by adding to it piece by piece)"
		}
		L.RaiseError("%s: the hook built over %s of strings in this call, the limit%s", what, flowstore.FormatSize(o.AllocLimit), hint)
	}
	// The VM checks the deadline before each instruction; a builtin that
	// copies megabytes is one instruction, so it checks too.
	if n >= 64<<10 {
		if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
			L.RaiseError("%s", ctx.Err().Error())
		}
	}
	st.built += n
	// Copying counts as work: a hook that built megabytes by its deadline
	// was busy, not starved, and gets no extra time (see exec). One
	// instruction for every 256 bytes: 25 MiB is busyInstructions.
	st.pctx.n += n >> 8
	st.pctx.seen.Store(st.pctx.n)
}

// concat is the .. operator: rewriteConcat turns `a .. b .. c` into a call
// of this function with (a, b, c). It does what OP_CONCAT does (strings and
// numbers join; otherwise a __concat metamethod of either operand is
// called, right to left) but admits each result with grow before building it.
func (st *state) concat(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if n == 2 { // the common case, with one allocation
		a, aok := L.Get(1).(lua.LString)
		b, bok := L.Get(2).(lua.LString)
		if aok && bok {
			st.grow(L, "concatenation", int64(len(a))+int64(len(b)))
			L.Push(a + b)
			return 1
		}
	}
	rhs := L.Get(n)
	for i := n - 1; i >= 1; {
		lhs := L.Get(i)
		if !lua.LVCanConvToString(lhs) || !lua.LVCanConvToString(rhs) {
			rhs = st.metaConcat(L, lhs, rhs)
			i--
			continue
		}
		// Join the run of strings and numbers that ends with rhs.
		last := lua.LVAsString(rhs)
		size := int64(len(last))
		lo := i
		for ; lo >= 1 && lua.LVCanConvToString(L.Get(lo)); lo-- {
			size += int64(len(lua.LVAsString(L.Get(lo))))
		}
		st.grow(L, "concatenation", size)
		var b strings.Builder
		b.Grow(int(size))
		for k := lo + 1; k <= i; k++ {
			b.WriteString(lua.LVAsString(L.Get(k)))
		}
		b.WriteString(last)
		rhs = lua.LString(b.String())
		i = lo
	}
	L.Push(rhs)
	return 1
}

func (st *state) metaConcat(L *lua.LState, lhs, rhs lua.LValue) lua.LValue {
	op := L.GetMetaField(lhs, "__concat")
	if op == lua.LNil {
		op = L.GetMetaField(rhs, "__concat")
	}
	if op.Type() != lua.LTFunction {
		bad := lhs
		if lua.LVCanConvToString(lhs) {
			bad = rhs
		}
		L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
	}
	L.Push(op)
	L.Push(lhs)
	L.Push(rhs)
	L.Call(2, 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}

// rewriteConcat replaces every .. in a chunk with a call of the checked
// concat function, which the chunk's first statement copies from the
// global of the same hidden name into a local: the state sets that global
// just before the chunk runs, and every function of the script reaches
// the local as an upvalue.
func rewriteConcat(chunk []ast.Stmt) []ast.Stmt {
	for _, s := range chunk {
		rwStmt(s)
	}
	decl := &ast.LocalAssignStmt{Names: []string{concatName}, Exprs: []ast.Expr{&ast.IdentExpr{Value: concatName}}}
	decl.SetLine(1)
	decl.SetLastLine(1)
	return append([]ast.Stmt{decl}, chunk...)
}

func rwStmts(ss []ast.Stmt) {
	for _, s := range ss {
		rwStmt(s)
	}
}

func rwExprs(es []ast.Expr) {
	for i := range es {
		es[i] = rwExpr(es[i])
	}
}

func rwStmt(s ast.Stmt) {
	switch x := s.(type) {
	case *ast.AssignStmt:
		rwExprs(x.Lhs)
		rwExprs(x.Rhs)
	case *ast.LocalAssignStmt:
		rwExprs(x.Exprs)
	case *ast.FuncCallStmt:
		x.Expr = rwExpr(x.Expr)
	case *ast.DoBlockStmt:
		rwStmts(x.Stmts)
	case *ast.WhileStmt:
		x.Condition = rwExpr(x.Condition)
		rwStmts(x.Stmts)
	case *ast.RepeatStmt:
		x.Condition = rwExpr(x.Condition)
		rwStmts(x.Stmts)
	case *ast.IfStmt:
		x.Condition = rwExpr(x.Condition)
		rwStmts(x.Then)
		rwStmts(x.Else)
	case *ast.NumberForStmt:
		x.Init = rwExpr(x.Init)
		x.Limit = rwExpr(x.Limit)
		x.Step = rwExpr(x.Step)
		rwStmts(x.Stmts)
	case *ast.GenericForStmt:
		rwExprs(x.Exprs)
		rwStmts(x.Stmts)
	case *ast.FuncDefStmt:
		if x.Name != nil {
			x.Name.Func = rwExpr(x.Name.Func)
			x.Name.Receiver = rwExpr(x.Name.Receiver)
		}
		rwExpr(x.Func)
	case *ast.ReturnStmt:
		rwExprs(x.Exprs)
	case *ast.BreakStmt, *ast.LabelStmt, *ast.GotoStmt, nil:
	default:
		// A statement gopher-lua added after this was written: the
		// compiled-code check in compile refuses any .. left in it.
	}
}

func rwExpr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		// a .. b .. c is right-nested; one call takes the whole chain, as
		// one OP_CONCAT would.
		args := []ast.Expr{rwExpr(x.Lhs)}
		rhs := x.Rhs
		for {
			c, ok := rhs.(*ast.StringConcatOpExpr)
			if !ok {
				break
			}
			args = append(args, rwExpr(c.Lhs))
			rhs = c.Rhs
		}
		args = append(args, rwExpr(rhs))
		fn := &ast.IdentExpr{Value: concatName}
		fn.SetLine(x.Line())
		fn.SetLastLine(x.LastLine())
		call := &ast.FuncCallExpr{Func: fn, Args: args}
		call.SetLine(x.Line())
		call.SetLastLine(x.LastLine())
		return call
	case *ast.AttrGetExpr:
		x.Object = rwExpr(x.Object)
		x.Key = rwExpr(x.Key)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			f.Key = rwExpr(f.Key)
			f.Value = rwExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		x.Func = rwExpr(x.Func)
		x.Receiver = rwExpr(x.Receiver)
		rwExprs(x.Args)
	case *ast.LogicalOpExpr:
		x.Lhs = rwExpr(x.Lhs)
		x.Rhs = rwExpr(x.Rhs)
	case *ast.RelationalOpExpr:
		x.Lhs = rwExpr(x.Lhs)
		x.Rhs = rwExpr(x.Rhs)
	case *ast.ArithmeticOpExpr:
		x.Lhs = rwExpr(x.Lhs)
		x.Rhs = rwExpr(x.Rhs)
	case *ast.UnaryMinusOpExpr:
		x.Expr = rwExpr(x.Expr)
	case *ast.UnaryNotOpExpr:
		x.Expr = rwExpr(x.Expr)
	case *ast.UnaryLenOpExpr:
		x.Expr = rwExpr(x.Expr)
	case *ast.FunctionExpr:
		rwStmts(x.Stmts)
	}
	return e
}

// hasConcat reports whether compiled code still holds an OP_CONCAT, which
// would build strings unchecked.
func hasConcat(p *lua.FunctionProto) bool {
	for _, inst := range p.Code {
		if int(inst>>26) == lua.OP_CONCAT {
			return true
		}
	}
	for _, c := range p.FunctionPrototypes {
		if hasConcat(c) {
			return true
		}
	}
	return false
}

// tableConcat is table.concat(t [, sep [, i [, j]]]) with its result
// admitted before it is built (gopher-lua's pushes every element on the
// stack and joins them unchecked). Bounds follow gopher-lua's.
func (st *state) tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := t.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if L.GetTop() == 3 && (i > n || i < 1) {
		L.Push(lua.LString(""))
		return 1
	}
	i = max(min(i, n), 1)
	j = min(j, n)
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	size := int64(len(sep)) * int64(j-i)
	for k := i; k <= j; k++ {
		v := t.RawGetInt(k)
		if !lua.LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), k)
		}
		size += int64(len(lua.LVAsString(v)))
	}
	st.grow(L, "table.concat", size)
	var b strings.Builder
	b.Grow(int(size))
	for k := i; k <= j; k++ {
		if k > i {
			b.WriteString(sep)
		}
		b.WriteString(lua.LVAsString(t.RawGetInt(k)))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// asciiCase is string.upper (up) or string.lower as Lua has them: byte by
// byte, ASCII letters only, so the result is as long as the subject and a
// binary body stays binary (gopher-lua maps Unicode, which turns each
// invalid UTF-8 byte into three).
func (st *state) asciiCase(up bool) lua.LGFunction {
	name, lo, hi := "string.lower", byte('A'), byte('Z')
	if up {
		name, lo, hi = "string.upper", 'a', 'z'
	}
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		i := 0
		for i < len(s) && (s[i] < lo || s[i] > hi) {
			i++
		}
		if i == len(s) {
			L.Push(lua.LString(s))
			return 1
		}
		st.grow(L, name, int64(len(s)))
		b := []byte(s)
		for ; i < len(b); i++ {
			if c := b[i]; c >= lo && c <= hi {
				b[i] = c ^ 0x20
			}
		}
		L.Push(lua.LString(b))
		return 1
	}
}

func (st *state) strReverse(L *lua.LState) int {
	s := L.CheckString(1)
	st.grow(L, "string.reverse", int64(len(s)))
	b := make([]byte, len(s))
	for i := range b {
		b[i] = s[len(s)-1-i]
	}
	L.Push(lua.LString(b))
	return 1
}

// osDate is os.date with its result admitted first: each byte of the
// format can become at most twelve ("%c" is 24 characters).
func (st *state) osDate(L *lua.LState, orig *lua.LFunction) int {
	bound := 12*int64(len(L.OptString(1, "%c"))) + 32
	st.grow(L, "os.date", bound)
	L.Insert(orig, 1)
	L.Call(L.GetTop()-1, 1)
	if s, ok := L.Get(-1).(lua.LString); ok {
		st.built += int64(len(s)) - bound
	}
	return 1
}

// errConcatLeft is a script whose compiled code still has an unchecked ..
// (a syntax form rewriteConcat does not know).
var errConcatLeft = errors.New("internal error: an unchecked .. is left in the compiled script; please report it")
