package scripting

// flow.request and flow.response in Lua: what the two share (headers,
// trailers, body, version) is served once, from the sides table; each
// one's own fields apart.

import (
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
	lua "github.com/yuin/gopher-lua"
)

// side names the Lua objects a request or a response holds: what the two
// have in common is served once, from this table.
type side struct{ headers, trailers, body refKind }

var sides = [numRefs]side{
	refRequest:  {refReqHeaders, refReqTrailers, refReqBody},
	refResponse: {refRespHeaders, refRespTrailers, refRespBody},
}

func (st *state) msgIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	c, f := r.c, r.c.f
	sd := sides[r.kind]
	key := L.ToString(2)
	var v lua.LValue = lua.LNil
	switch key {
	case "headers":
		v = c.ud(sd.headers)
	case "trailers":
		v = c.ud(sd.trailers)
	case "body":
		v = c.ud(sd.body)
	case "http_version":
		if r.kind == refRequest {
			v = lua.LString(f.Request.Proto)
		} else {
			v = lua.LString(st.response(L, c).Proto)
		}
	default:
		if r.kind == refRequest {
			v = requestField(f.Request, key)
		} else {
			v = responseField(st.response(L, c), key)
		}
	}
	L.Push(v)
	return 1
}

func requestField(q *flowstore.Request, key string) lua.LValue {
	switch key {
	case "method":
		return lua.LString(q.Method)
	case "url":
		return lua.LString(q.URL())
	case "scheme":
		return lua.LString(q.Scheme)
	case "host":
		return lua.LString(q.Host)
	case "port":
		return lua.LNumber(q.Port)
	case "path":
		return lua.LString(q.Path)
	case "query":
		return lua.LString(q.Query())
	}
	return lua.LNil
}

func responseField(p *flowstore.Response, key string) lua.LValue {
	switch key {
	case "status":
		return lua.LNumber(p.Status)
	case "reason":
		return lua.LString(p.Reason)
	}
	return lua.LNil
}

func (st *state) response(L *lua.LState, c *call) *flowstore.Response {
	if c.f.Response == nil {
		L.RaiseError("the flow has no response (yet)")
	}
	return c.f.Response
}

func (st *state) msgNewIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	c := r.c
	sd := sides[r.kind]
	key := L.CheckString(2)
	what := "flow.response"
	if r.kind == refRequest {
		what = "flow.request"
		c.mustWrite(L, c.requestWritable(), what)
	} else {
		c.mustWrite(L, c.flowWritable(), what)
	}
	switch key {
	case "headers":
		*st.headers(L, c.ud(sd.headers).Value.(*ref)) = st.headersFromLua(L, 3)
	case "body":
		st.setBody(L, c.ud(sd.body).Value.(*ref), L.Get(3), true)
	default:
		ok := false
		if r.kind == refRequest {
			ok = setRequestField(L, c.f.Request, key)
		} else {
			ok = setResponseField(L, st.response(L, c), key)
		}
		if !ok {
			L.RaiseError("%s.%s cannot be set", what, key)
		}
	}
	return 0
}

// setRequestField sets one of the request's own fields from argument 3,
// by hook's rules (the same as JavaScript's).
func setRequestField(L *lua.LState, q *flowstore.Request, key string) bool {
	var err error
	switch key {
	case "method":
		err = hook.SetMethod(q, L.CheckString(3))
	case "url":
		err = hook.SetURL(q, L.CheckString(3))
	case "scheme":
		err = hook.SetScheme(q, L.CheckString(3))
	case "host":
		err = hook.SetHost(q, L.CheckString(3))
	case "port":
		err = hook.SetPort(q, L.CheckInt(3))
	case "path":
		err = hook.SetPath(q, L.CheckString(3))
	case "query":
		err = hook.SetQuery(q, optString(L, 3))
	default:
		return false
	}
	if err != nil {
		L.ArgError(3, err.Error())
	}
	return true
}

// setResponseField sets one of the response's own fields from argument 3.
func setResponseField(L *lua.LState, p *flowstore.Response, key string) bool {
	var err error
	switch key {
	case "status":
		err = hook.SetStatus(p, L.CheckInt(3))
	case "reason":
		err = hook.SetReason(p, optString(L, 3))
	default:
		return false
	}
	if err != nil {
		L.ArgError(3, err.Error())
	}
	return true
}
