package scripting

// Header lists in Lua (flow.request.headers and the others): indexed by
// name case-insensitively, in wire order, with methods to add, set, remove
// and iterate.

import (
	"sort"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
	lua "github.com/yuin/gopher-lua"
)

func (st *state) headers(L *lua.LState, r *ref) *flowstore.Headers {
	f := r.c.f
	switch r.kind {
	case refReqHeaders:
		return &f.Request.Headers
	case refReqTrailers:
		return &f.Request.Trailers
	case refRespHeaders:
		return &st.response(L, r.c).Headers
	case refRespTrailers:
		return &st.response(L, r.c).Trailers
	}
	L.ArgError(1, "headers expected")
	return nil
}

func (st *state) headersWritable(L *lua.LState, r *ref) {
	c := r.c
	switch r.kind {
	case refReqHeaders:
		c.mustWrite(L, c.requestWritable(), "flow.request.headers")
	case refRespHeaders:
		c.mustWrite(L, c.flowWritable(), "flow.response.headers")
	default:
		L.RaiseError("trailers are read-only")
	}
}

func (st *state) headersIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	key := L.CheckString(2)
	var m *lua.LFunction
	switch key {
	case "get":
		m = st.methods.hGet
	case "get_all":
		m = st.methods.hGetAll
	case "add":
		m = st.methods.hAdd
	case "set":
		m = st.methods.hSet
	case "remove":
		m = st.methods.hRemove
	case "iterate":
		m = st.methods.hIterate
	case "has":
		m = st.methods.hHas
	}
	if m != nil {
		L.Push(m)
		return 1
	}
	st.pushHeader(L, r, key)
	return 1
}

// pushHeader pushes the first value of name. An HTTP/2 request carries its
// host as :authority, not as a header line; headers["host"] is that host
// all the same, as a script written for HTTP/1 expects.
func (st *state) pushHeader(L *lua.LState, r *ref, name string) {
	h := *st.headers(L, r)
	if r.kind == refReqHeaders && strings.EqualFold(name, "host") && !h.Has("Host") {
		if q := r.c.f.Request; q.Host != "" {
			L.Push(lua.LString(q.Authority()))
			return
		}
	}
	pushHeader(L, h, name)
}

func pushHeader(L *lua.LState, h flowstore.Headers, name string) {
	for _, kv := range h {
		if strings.EqualFold(kv.Name, name) {
			L.Push(lua.LString(kv.Value))
			return
		}
	}
	L.Push(lua.LNil)
}

func (st *state) headersNewIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	st.headersWritable(L, r)
	name := L.CheckString(2)
	h := st.headers(L, r)
	st.assignHeader(L, h, name, 3)
	return 0
}

// assignHeader is h[name] = value: nil removes, a string (or number)
// replaces, a list of strings replaces with one line each.
func (st *state) assignHeader(L *lua.LState, h *flowstore.Headers, name string, i int) {
	if !validToken(name) {
		L.ArgError(i-1, "not a valid header name: "+strconv.Quote(name))
	}
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
		h.Del(name)
	case *lua.LTable:
		h.Del(name)
		n := v.Len()
		for j := 1; j <= n; j++ {
			h.Add(name, headerValue(L, v.RawGetInt(j), i))
		}
	default:
		h.Set(name, headerValue(L, v, i))
	}
}

func headerValue(L *lua.LState, v lua.LValue, i int) string {
	var s string
	switch x := v.(type) {
	case lua.LString:
		s = string(x)
	case lua.LNumber:
		s = x.String()
	case lua.LBool:
		s = x.String()
	default:
		L.ArgError(i, "header value must be a string, got "+v.Type().String())
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		L.ArgError(i, "header value must not contain line breaks or NUL")
	}
	return s
}

func (st *state) headersGet(L *lua.LState) int {
	r := st.ref(L, 1)
	st.pushHeader(L, r, L.CheckString(2))
	return 1
}

func (st *state) headersHas(L *lua.LState) int {
	r := st.ref(L, 1)
	L.Push(lua.LBool(st.headers(L, r).Has(L.CheckString(2))))
	return 1
}

func (st *state) headersGetAll(L *lua.LState) int {
	r := st.ref(L, 1)
	vs := st.headers(L, r).Values(L.CheckString(2))
	t := L.CreateTable(len(vs), 0)
	for _, v := range vs {
		t.Append(lua.LString(v))
	}
	L.Push(t)
	return 1
}

func (st *state) headersAdd(L *lua.LState) int {
	r := st.ref(L, 1)
	st.headersWritable(L, r)
	name := L.CheckString(2)
	if !validToken(name) {
		L.ArgError(2, "not a valid header name: "+strconv.Quote(name))
	}
	h := st.headers(L, r)
	h.Add(name, headerValue(L, L.Get(3), 3))
	return 0
}

func (st *state) headersSet(L *lua.LState) int {
	r := st.ref(L, 1)
	st.headersWritable(L, r)
	st.assignHeader(L, st.headers(L, r), L.CheckString(2), 3)
	return 0
}

func (st *state) headersRemove(L *lua.LState) int {
	r := st.ref(L, 1)
	st.headersWritable(L, r)
	st.headers(L, r).Del(L.CheckString(2))
	return 0
}

// headersIterate returns an iterator over the lines in wire order:
// for name, value in h:iterate() do ... end
func (st *state) headersIterate(L *lua.LState) int {
	r := st.ref(L, 1)
	lines := st.headers(L, r).Clone()
	i := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if i >= len(lines) {
			return 0
		}
		kv := lines[i]
		i++
		L.Push(lua.LString(kv.Name))
		L.Push(lua.LString(kv.Value))
		return 2
	}))
	return 1
}

func (st *state) headersLen(L *lua.LState) int {
	r := st.ref(L, 1)
	L.Push(lua.LNumber(len(*st.headers(L, r))))
	return 1
}

func (st *state) headersString(L *lua.LState) int {
	h := *st.headers(L, st.ref(L, 1))
	// A hook can add a big value many times: admit the text first.
	size := int64(0)
	for _, kv := range h {
		size += int64(len(kv.Name)) + int64(len(kv.Value)) + 3
	}
	st.grow(L, "tostring(headers)", size)
	L.Push(lua.LString(h.String()))
	return 1
}

// headersFromLua reads a headers table: either a list of {name, value}
// pairs (kept in order) or a map of name = value or name = {values}
// (sorted by name, as a Lua table has no order).
func (st *state) headersFromLua(L *lua.LState, i int) flowstore.Headers {
	var hs flowstore.Headers
	switch t := L.Get(i).(type) {
	case *lua.LNilType:
		return hs
	case *lua.LUserData:
		if r, ok := t.Value.(*ref); ok {
			switch r.kind {
			case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
				return st.headers(L, r).Clone()
			}
		}
	case *lua.LTable:
		if n := t.Len(); n > 0 {
			for j := 1; j <= n; j++ {
				pair, ok := t.RawGetInt(j).(*lua.LTable)
				if !ok {
					L.ArgError(i, "headers list must hold {name, value} pairs")
				}
				name := lua.LVAsString(pair.RawGetInt(1))
				if !validToken(name) {
					L.ArgError(i, "not a valid header name: "+strconv.Quote(name))
				}
				hs = append(hs, flowstore.Header{Name: name, Value: headerValue(L, pair.RawGetInt(2), i)})
			}
			return hs
		}
		type kv struct {
			k string
			v lua.LValue
		}
		var kvs []kv
		t.ForEach(func(k, v lua.LValue) {
			ks, ok := k.(lua.LString)
			if !ok {
				L.ArgError(i, "header names must be strings")
			}
			kvs = append(kvs, kv{string(ks), v})
		})
		sort.Slice(kvs, func(a, b int) bool { return kvs[a].k < kvs[b].k })
		for _, e := range kvs {
			if !validToken(e.k) {
				L.ArgError(i, "not a valid header name: "+strconv.Quote(e.k))
			}
			if vt, ok := e.v.(*lua.LTable); ok {
				for j := 1; j <= vt.Len(); j++ {
					hs = append(hs, flowstore.Header{Name: e.k, Value: headerValue(L, vt.RawGetInt(j), i)})
				}
				continue
			}
			hs = append(hs, flowstore.Header{Name: e.k, Value: headerValue(L, e.v, i)})
		}
		return hs
	}
	L.ArgError(i, "headers must be a table")
	return nil
}

// validToken: an HTTP token (RFC 9110), as header names and methods are.
func validToken(s string) bool { return hook.ValidToken(s) }
