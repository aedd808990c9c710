package scripting

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// installAPI adds what scripts get besides the Lua libraries: print and
// log (to the event log), on, options, env, shared, json and base64.
func (st *state) installAPI() {
	L := st.L
	e := st.v.s.eng
	st.installFlowAPI()

	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int { return st.log(L, flowstore.LevelInfo) }))
	logT := L.NewTable()
	for name, lvl := range map[string]flowstore.Level{
		"debug": flowstore.LevelDebug, "info": flowstore.LevelInfo,
		"warn": flowstore.LevelWarn, "error": flowstore.LevelError,
	} {
		logT.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return st.log(L, lvl) }))
	}
	L.SetGlobal("log", logT)

	L.SetGlobal("on", L.NewFunction(st.on))

	opts := L.NewTable()
	for k, v := range e.opts.Set {
		opts.RawSetString(k, lua.LString(v))
	}
	L.SetGlobal("options", opts)

	L.SetGlobal("env", L.NewFunction(func(L *lua.LState) int {
		if v, ok := e.opts.Getenv(L.CheckString(1)); ok {
			L.Push(lua.LString(v))
		} else {
			L.Push(lua.LNil)
		}
		return 1
	}))

	st.null = L.NewUserData()
	st.null.Metatable = L.NewTable()
	st.null.Metatable.(*lua.LTable).RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	st.null.Metatable.(*lua.LTable).RawSetString("__metatable", lua.LFalse)
	st.arrayMT = L.NewTable()
	st.arrayMT.RawSetString("__jsontype", lua.LString("array"))

	L.SetGlobal("shared", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"get":    st.sharedGet,
		"set":    st.sharedSet,
		"incr":   st.sharedIncr,
		"delete": st.sharedDelete,
	}))
	jsonT := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"encode": func(L *lua.LState) int {
			L.Push(lua.LString(st.jsonEncode(L, L.Get(1), L.OptString(2, ""), "json.encode")))
			return 1
		},
		"decode": func(L *lua.LState) int {
			s := L.CheckString(1)
			st.grow(L, "json.decode", int64(len(s))) // its strings, at most as long as the text
			v, err := st.jsonDecode(s)
			if err != nil {
				L.RaiseError("json.decode: %s", err.Error())
			}
			L.Push(v)
			return 1
		},
		"array": func(L *lua.LState) int {
			t := L.OptTable(1, nil)
			if t == nil {
				t = L.NewTable()
			}
			t.Metatable = st.arrayMT
			L.Push(t)
			return 1
		},
	})
	jsonT.RawSetString("null", st.null)
	L.SetGlobal("json", jsonT)
	for name, fn := range testGlobals {
		L.SetGlobal(name, L.NewFunction(fn))
	}
	L.SetGlobal("base64", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"encode":    func(L *lua.LState) int { return st.b64encode(L, "base64.encode", base64.StdEncoding) },
		"urlencode": func(L *lua.LState) int { return st.b64encode(L, "base64.urlencode", base64.RawURLEncoding) },
		"decode":    func(L *lua.LState) int { return st.b64decode(L, "base64.decode") },
		"urldecode": func(L *lua.LState) int { return st.b64decode(L, "base64.urldecode") },
	}))
}

// testGlobals are extra functions for this package's tests (a builtin
// that blocks, to test abandoning a state); nil otherwise.
var testGlobals map[string]lua.LGFunction

// alive stops a Lua function that keeps running after its hook was
// abandoned from touching anything shared.
func (st *state) alive(L *lua.LState) {
	if c := st.cur; c != nil && c.dead.Load() {
		L.RaiseError("the hook's time is up")
	}
}

func (st *state) log(L *lua.LState, lvl flowstore.Level) int {
	st.alive(L)
	if st.loading && st.quiet {
		return 0 // the top level already ran (and logged) in the first state
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
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			write(" ")
		}
		write(luaToString(L, L.Get(i)))
	}
	if cut > 0 {
		fmt.Fprintf(&b, "… (%d more bytes not logged)", cut)
	}
	id := ""
	if st.cur != nil {
		id = st.cur.f.ID
	}
	st.v.s.eng.log.Add(lvl, st.v.s.source, id, b.String())
	return 0
}

// luaToString is tostring(v), honouring __tostring.
func luaToString(L *lua.LState, v lua.LValue) string {
	if fn := L.GetMetaField(v, "__tostring"); fn != lua.LNil {
		L.Push(fn)
		L.Push(v)
		L.Call(1, 1)
		s := L.Get(-1)
		L.Pop(1)
		return lua.LVAsString(s)
	}
	return v.String()
}

// on(phase, [filter,] fn [, opts]) registers a hook for flows matching a
// filter expression. It may only be called while the script loads.
func (st *state) on(L *lua.LState) int {
	if !st.loading {
		L.RaiseError("on() may only be called while the script loads, not from a hook")
	}
	phase := L.CheckString(1)
	if phaseIndex(phase) < 0 {
		L.ArgError(1, fmt.Sprintf("unknown phase %q (want one of %s)", phase, strings.Join(phaseNames[:], ", ")))
	}
	args := 2
	filterExpr := ""
	switch v := L.Get(2).(type) {
	case lua.LString:
		filterExpr = string(v)
		args = 3
	case *lua.LNilType:
		args = 3
	}
	fn, ok := L.Get(args).(*lua.LFunction)
	if !ok {
		L.ArgError(args, "function expected")
	}
	r := registration{phase: phase, filter: filterExpr, fn: fn, opts: lua.LNil, line: currentLine(L)}
	if o, ok := L.Get(args + 1).(*lua.LTable); ok {
		switch ms := o.RawGetString("timeout_ms").(type) {
		case lua.LNumber:
			if ms <= 0 || ms > 60000 {
				L.ArgError(args+1, "timeout_ms must be between 1 and 60000")
			}
			r.timeout = time.Duration(float64(ms) * float64(time.Millisecond))
		case *lua.LNilType:
		default:
			L.ArgError(args+1, "timeout_ms must be a number")
		}
		r.opts = o
		if inner, ok := o.RawGetString("options").(*lua.LTable); ok {
			r.opts = inner
		}
	} else if L.Get(args+1) != lua.LNil {
		L.ArgError(args+1, "options must be a table")
	}
	st.regs = append(st.regs, r)
	return 0
}

// currentLine is the line of the Lua code calling the current Go function.
func currentLine(L *lua.LState) int {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("l", dbg, lua.LNil); err == nil {
			return dbg.CurrentLine
		}
	}
	return 0
}

// ---- shared ----

func (st *state) sharedGet(L *lua.LState) int {
	st.alive(L)
	L.Push(toLua(L, st.v.s.eng.shared.Get(L.CheckString(1)), st.null))
	return 1
}

func (st *state) sharedSet(L *lua.LState) int {
	st.alive(L)
	k := L.CheckString(1)
	v, err := toGo(L.Get(2), st.null, 0)
	if err != nil {
		L.ArgError(2, err.Error())
	}
	ttl := float64(L.OptNumber(3, 0))
	if err := st.v.s.eng.shared.Set(k, v, ttl); err != nil {
		L.RaiseError("%s", err.Error())
	}
	return 0
}

func (st *state) sharedIncr(L *lua.LState) int {
	st.alive(L)
	k := L.CheckString(1)
	by := float64(L.OptNumber(2, 1))
	ttl := float64(L.OptNumber(3, 0))
	n, err := st.v.s.eng.shared.Incr(k, by, ttl)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	L.Push(lua.LNumber(n))
	return 1
}

func (st *state) sharedDelete(L *lua.LState) int {
	st.alive(L)
	_ = st.v.s.eng.shared.Set(L.CheckString(1), nil, 0)
	return 0
}

// ---- base64 ----

func (st *state) b64encode(L *lua.LState, what string, enc *base64.Encoding) int {
	s := L.CheckString(1)
	st.grow(L, what, int64(enc.EncodedLen(len(s))))
	L.Push(lua.LString(enc.EncodeToString([]byte(s))))
	return 1
}

// b64decode accepts the standard and the URL alphabets, padded or not.
func (st *state) b64decode(L *lua.LState, what string) int {
	in := L.CheckString(1)
	st.grow(L, what, int64(len(in))) // the input less spaces, then what it decodes to
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, in)
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		L.RaiseError("%s: %s", what, err.Error())
	}
	L.Push(lua.LString(b))
	return 1
}

// ---- json ----

// jsonEncode encodes v, indented with indent per level (as json.Indent
// would) when indent is not empty. The output is checked as it grows and
// admitted with grow at the end, so a table that holds one big string many
// times fails before it is all written out. what names the caller in the
// error.
func (st *state) jsonEncode(L *lua.LState, v lua.LValue, indent, what string) string {
	o := &st.v.s.eng.opts
	e := &jsonEncoder{st: st, indent: indent, room: min(o.StringLimit, o.AllocLimit-st.built)}
	if err := e.value(v, 0); err != nil {
		if err == errJSONTooBig {
			st.grow(L, what, e.need) // raises: over StringLimit or AllocLimit
		}
		L.RaiseError("%s: %s", what, err.Error())
	}
	st.grow(L, what, int64(e.b.Len()))
	return e.b.String()
}

type jsonEncoder struct {
	st     *state
	b      bytes.Buffer
	indent string
	room   int64 // the most the output may grow to
	need   int64 // what it would have grown to, past room
}

var errJSONTooBig = errors.New("result too big")

// newline starts a line at nesting depth, when indenting.
func (e *jsonEncoder) newline(depth int) error {
	if e.indent == "" {
		return nil
	}
	if need := int64(e.b.Len()) + 1 + int64(depth)*int64(len(e.indent)); need > e.room {
		e.need = need
		return errJSONTooBig
	}
	e.b.WriteByte('\n')
	for range depth {
		e.b.WriteString(e.indent)
	}
	return nil
}

func (e *jsonEncoder) value(v lua.LValue, depth int) error {
	b := &e.b
	if int64(b.Len()) > e.room {
		e.need = int64(b.Len())
		return errJSONTooBig
	}
	switch x := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		b.WriteString(strconv.FormatBool(bool(x)))
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("cannot encode %v", f)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			b.WriteString(strconv.FormatInt(int64(f), 10))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case lua.LString:
		return e.str(string(x))
	case *lua.LUserData:
		if x == e.st.null {
			b.WriteString("null")
			return nil
		}
		return fmt.Errorf("cannot encode a userdata")
	case *lua.LTable:
		if depth >= 100 {
			return fmt.Errorf("tables nested more than 100 deep (a cycle?)")
		}
		n := x.Len()
		isArray := x.Metatable == e.st.arrayMT
		if !isArray && n > 0 {
			isArray = true
			x.ForEach(func(k, _ lua.LValue) {
				if kn, ok := k.(lua.LNumber); !ok || float64(kn) != math.Trunc(float64(kn)) || kn < 1 || int(kn) > n {
					isArray = false
				}
			})
		}
		if isArray {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				if err := e.newline(depth + 1); err != nil {
					return err
				}
				if err := e.value(x.RawGetInt(i), depth+1); err != nil {
					return err
				}
			}
			if n > 0 {
				if err := e.newline(depth); err != nil {
					return err
				}
			}
			b.WriteByte(']')
			return nil
		}
		type kv struct {
			k string
			v lua.LValue
		}
		var kvs []kv
		var kerr error
		x.ForEach(func(k, val lua.LValue) {
			switch kk := k.(type) {
			case lua.LString:
				kvs = append(kvs, kv{string(kk), val})
			case lua.LNumber:
				kvs = append(kvs, kv{kk.String(), val})
			default:
				kerr = fmt.Errorf("cannot encode a table key of type %s", k.Type())
			}
		})
		if kerr != nil {
			return kerr
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b.WriteByte('{')
		for i, kv := range kvs {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := e.newline(depth + 1); err != nil {
				return err
			}
			if err := e.str(kv.k); err != nil {
				return err
			}
			b.WriteByte(':')
			if e.indent != "" {
				b.WriteByte(' ')
			}
			if err := e.value(kv.v, depth+1); err != nil {
				return err
			}
		}
		if len(kvs) > 0 {
			if err := e.newline(depth); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode a %s", v.Type())
	}
	return nil
}

// str writes s as a JSON string, stopping once the output is over room
// (an escaped string can be six times its size).
func (e *jsonEncoder) str(s string) error {
	const hex = "0123456789abcdef"
	b := &e.b
	b.WriteByte('"')
	for i := 0; i < len(s); {
		if int64(b.Len()) > e.room {
			e.need = int64(b.Len())
			return errJSONTooBig
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return nil
}

func (st *state) jsonDecode(s string) (lua.LValue, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := st.decodeValue(d, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", d.InputOffset())
	}
	return v, nil
}

func (st *state) decodeValue(d *json.Decoder, depth int) (lua.LValue, error) {
	if depth > 200 {
		return nil, fmt.Errorf("nested more than 200 deep")
	}
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("%v at offset %d", err, d.InputOffset())
	}
	L := st.L
	switch t := tok.(type) {
	case nil:
		return st.null, nil
	case bool:
		return lua.LBool(t), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, err
		}
		return lua.LNumber(f), nil
	case string:
		return lua.LString(t), nil
	case json.Delim:
		switch t {
		case '[':
			arr := L.NewTable()
			arr.Metatable = st.arrayMT
			for d.More() {
				v, err := st.decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				arr.Append(v)
			}
			_, _ = d.Token()
			return arr, nil
		case '{':
			obj := L.NewTable()
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := st.decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				obj.RawSetString(k.(string), v)
			}
			_, _ = d.Token()
			return obj, nil
		}
	}
	return nil, fmt.Errorf("unexpected %v", tok)
}
