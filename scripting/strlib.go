package scripting

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/scripting/internal/luapat"
)

// The string functions that can run away are replaced: rep, format,
// gsub, upper, lower and reverse admit their result with grow before
// building it, and find, match, gmatch and gsub use luapat, whose
// recursion is bounded by the pattern and which stops when the hook's
// time is up (gopher-lua's matcher recurses once per character and
// cannot be interrupted: issue #521). gsub also builds its result in
// linear time (gopher-lua's copies the whole string per replacement).
func (st *state) installStringLib(strTable *lua.LTable) {
	origFormat := strTable.RawGetString("format")
	L := st.L
	set := func(name string, fn lua.LGFunction) { strTable.RawSetString(name, L.NewFunction(fn)) }
	set("rep", st.strRep)
	set("find", func(L *lua.LState) int { return st.strFind(L, true) })
	set("match", func(L *lua.LState) int { return st.strFind(L, false) })
	set("gsub", st.strGsub)
	set("gmatch", st.strGmatch)
	set("upper", st.asciiCase(true))
	set("lower", st.asciiCase(false))
	set("reverse", st.strReverse)
	strTable.RawSetString("gfind", strTable.RawGetString("gmatch"))
	if f, ok := origFormat.(*lua.LFunction); ok {
		set("format", func(L *lua.LState) int { return st.strFormat(L, f) })
	}
}

// strFormat is string.format: gopher-lua's hands the format and the values
// to fmt.Sprintf, so the result is bounded (formatBound) and admitted
// before it is built. Values other than strings and numbers are passed as
// their names ("table: 0x..."), which is what %s printed for them anyway:
// other verbs made fmt print a table's every element.
func (st *state) strFormat(L *lua.LState, orig *lua.LFunction) int {
	format := L.CheckString(1)
	top := L.GetTop()
	var buf [8]lua.LValue
	args := buf[:0]
	for i := 2; i <= top; i++ {
		v := L.Get(i)
		switch v.(type) {
		case lua.LString, lua.LNumber:
		default:
			v = lua.LString(v.String())
			L.Replace(i, v)
		}
		args = append(args, v)
	}
	bound, err := formatBound(format, args)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	st.grow(L, "string.format", bound)
	L.Insert(orig, 1)
	L.Call(top, 1)
	if s, ok := L.Get(-1).(lua.LString); ok {
		st.built += int64(len(s)) - bound // count what was built, not the bound
	}
	return 1
}

// formatBound is at most the length of string.format's result. It
// refuses, as C Lua does, widths and precisions of more than two digits
// ("%999999999d" would ask for a gigabyte), and fmt's %[n] and %*, which
// are not Lua's and would let one value be printed many times.
func formatBound(f string, args []lua.LValue) (int64, error) {
	size := int64(len(f))
	// gopher-lua passes as many values as it counts directives; fmt
	// complains about a missing one and prints those left over.
	passed := min(strings.Count(f, "%")-strings.Count(f, "%%"), len(args))
	used := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		width, n := 0, 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			width = width*10 + int(f[i]-'0')
			i++
			n++
		}
		prec, hasPrec := 0, false
		if i < len(f) && f[i] == '.' {
			i++
			hasPrec = true
			m := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				prec = prec*10 + int(f[i]-'0')
				i++
				m++
			}
			n = max(n, m)
		}
		if n > 2 {
			return 0, fmt.Errorf("invalid format (width or precision too long)")
		}
		if i >= len(f) {
			size += 16 // %!(NOVERB)
			break
		}
		if f[i] == '[' || f[i] == '*' {
			return 0, fmt.Errorf("invalid format (%%%c is not Lua's)", f[i])
		}
		if used >= passed {
			size += int64(width) + 16 // %!s(MISSING)
			continue
		}
		size += int64(width) + valueBound(f[i], args[used], prec, hasPrec)
		used++
	}
	for _, v := range args[used:max(used, passed)] {
		size += valueBound('v', v, 0, false) + 32 // %!(EXTRA type=value, ...)
	}
	return size, nil
}

// valueBound is at most the length of one value formatted with verb.
func valueBound(verb byte, v lua.LValue, prec int, hasPrec bool) int64 {
	s, ok := v.(lua.LString)
	if !ok {
		// A number: %f of 1e308 has 309 digits, a precision at most 99.
		return 512
	}
	if verb == 's' || verb == 'v' {
		if hasPrec && prec < len(s) {
			return int64(prec)
		}
		return int64(len(s))
	}
	// %q escapes a byte in four, "% #x" spells it in five; fmt's
	// complaint about a bad verb quotes the value.
	return 5*int64(len(s)) + 32
}

func (st *state) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	sep := L.OptString(3, "")
	if n <= 0 {
		L.Push(lua.LString(""))
		return 1
	}
	total := int64(len(s))*int64(n) + int64(len(sep))*int64(n-1)
	st.grow(L, "string.rep", total)
	if sep == "" {
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
	}
	var b strings.Builder
	b.Grow(int(total))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// check stops pattern matching when the hook's time is up.
func (st *state) check() error {
	if ctx := st.L.Context(); ctx != nil {
		return ctx.Err()
	}
	return nil
}

// patError raises a malformed-pattern error, or the context's error when
// the hook's time ran out mid-match.
func (st *state) patError(L *lua.LState, err error) {
	L.RaiseError("%s", err.Error())
}

// posrelat turns a Lua string position (1-based, negative from the end)
// into a 0-based offset clamped to [0, n].
func posrelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	pos--
	if pos < 0 {
		return 0
	}
	return min(pos, n)
}

func pushCapture(L *lua.LState, m *luapat.Matcher, c luapat.Capture) {
	if c.Len == luapat.CapPosition {
		L.Push(lua.LNumber(c.Start + 1))
		return
	}
	L.Push(lua.LString(m.Text(c)))
}

// strFind is string.find (find) and string.match (!find).
func (st *state) strFind(L *lua.LState, find bool) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	init := posrelat(L.OptInt(3, 1), len(s))
	if find && (lua.LVAsBool(L.Get(4)) || luapat.IsPlain(p)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	m, start, end, err := luapat.Find(s, p, init, st.check)
	if err != nil {
		st.patError(L, err)
	}
	if start < 0 {
		L.Push(lua.LNil)
		return 1
	}
	caps, err := m.Captures(start, end, !find)
	if err != nil {
		st.patError(L, err)
	}
	n := 0
	if find {
		L.Push(lua.LNumber(start + 1))
		L.Push(lua.LNumber(end))
		n = 2
	}
	for _, c := range caps {
		pushCapture(L, m, c)
	}
	return n + len(caps)
}

func (st *state) strGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	pos := 0
	iter := func(L *lua.LState) int {
		for ; pos <= len(s); pos++ {
			m := luapat.New(s, p, st.check)
			e, err := m.Match(pos, 0)
			if err != nil {
				st.patError(L, err)
			}
			if e == -1 {
				continue
			}
			start := pos
			pos = e
			if e == start {
				pos++ // empty match: go on at least one position
			}
			caps, err := m.Captures(start, e, true)
			if err != nil {
				st.patError(L, err)
			}
			for _, c := range caps {
				pushCapture(L, m, c)
			}
			return len(caps)
		}
		return 0
	}
	L.Push(L.NewFunction(iter))
	return 1
}

func (st *state) strGsub(L *lua.LState) int {
	src := L.CheckString(1)
	p := L.CheckString(2)
	repl := L.Get(3)
	switch repl.Type() {
	case lua.LTNumber, lua.LTString, lua.LTTable, lua.LTFunction:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxN := L.OptInt(4, len(src)+1)

	// Plain pattern and plain replacement: a substring replace.
	if rs, ok := repl.(lua.LString); ok && luapat.IsPlain(p) && p != "" && !strings.Contains(string(rs), "%") {
		n := min(strings.Count(src, p), maxN)
		st.grow(L, "string.gsub", int64(len(src))+int64(n)*(int64(len(rs))-int64(len(p))))
		L.Push(lua.LString(strings.Replace(src, p, string(rs), n)))
		L.Push(lua.LNumber(n))
		return 2
	}

	anchor := len(p) > 0 && p[0] == '^'
	pstart := 0
	if anchor {
		pstart = 1
	}
	var b strings.Builder
	// The result grows piece by piece, and a replacement function may
	// build strings of its own meanwhile: each piece is checked against
	// what grow would still admit, and the whole is counted at the end.
	o := &st.v.s.eng.opts
	grow := func(n int) {
		if want := int64(b.Len() + n); want > o.StringLimit || st.built+want > o.AllocLimit {
			st.grow(L, "string.gsub", want)
		}
	}
	n := 0
	s := 0
	m := luapat.New(src, p, st.check)
	for n < maxN {
		e, err := m.Match(s, pstart)
		if err != nil {
			st.patError(L, err)
		}
		if e != -1 {
			n++
			st.gsubAdd(L, &b, grow, m, src, s, e, repl)
		}
		switch {
		case e != -1 && e > s: // non-empty match: skip it
			s = e
		case s < len(src):
			grow(1)
			b.WriteByte(src[s])
			s++
		default:
			goto done
		}
		if anchor {
			break
		}
	}
done:
	grow(len(src) - s)
	b.WriteString(src[s:])
	st.grow(L, "string.gsub", int64(b.Len()))
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

func (st *state) gsubAdd(L *lua.LState, b *strings.Builder, grow func(int), m *luapat.Matcher, src string, s, e int, repl lua.LValue) {
	var val lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		news := lua.LVAsString(r)
		for i := 0; i < len(news); i++ {
			c := news[i]
			if c != '%' {
				grow(1)
				b.WriteByte(c)
				continue
			}
			i++
			if i >= len(news) {
				break
			}
			c = news[i]
			switch {
			case c < '0' || c > '9':
				grow(1)
				b.WriteByte(c)
			case c == '0':
				grow(e - s)
				b.WriteString(src[s:e])
			default:
				cp, err := m.Capture(int(c-'1'), s, e)
				if err != nil {
					st.patError(L, err)
				}
				var t string
				if cp.Len == luapat.CapPosition {
					t = fmt.Sprint(cp.Start + 1)
				} else {
					t = m.Text(cp)
				}
				grow(len(t))
				b.WriteString(t)
			}
		}
		return
	case *lua.LFunction:
		caps, err := m.Captures(s, e, true)
		if err != nil {
			st.patError(L, err)
		}
		L.Push(r)
		for _, c := range caps {
			pushCapture(L, m, c)
		}
		L.Call(len(caps), 1)
		val = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		cp, err := m.Capture(0, s, e)
		if err != nil {
			st.patError(L, err)
		}
		var key lua.LValue = lua.LString(src[s:e])
		if cp.Len == luapat.CapPosition {
			key = lua.LNumber(cp.Start + 1)
		} else {
			key = lua.LString(m.Text(cp))
		}
		val = L.GetTable(r, key)
	}
	switch v := val.(type) {
	case lua.LString:
		grow(len(v))
		b.WriteString(string(v))
	case lua.LNumber:
		t := v.String()
		grow(len(t))
		b.WriteString(t)
	default:
		if !lua.LVAsBool(val) { // nil or false: keep the original text
			grow(e - s)
			b.WriteString(src[s:e])
			return
		}
		L.RaiseError("invalid replacement value (a %s)", val.Type().String())
	}
}
