package scripting

// flow.request and flow.response in Lua: what the two share (headers,
// trailers, body, version) is served once, from the sides table; each
// one's own fields apart.

import (
	"net/http"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
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

// setRequestField sets one of the request's own fields from argument 3.
func setRequestField(L *lua.LState, q *flowstore.Request, key string) bool {
	switch key {
	case "method":
		m := L.CheckString(3)
		if !validToken(m) {
			L.ArgError(3, "not a valid method")
		}
		q.Method = m
	case "url":
		if err := q.SetURL(L.CheckString(3)); err != nil {
			L.ArgError(3, err.Error())
		}
		fixHost(q)
	case "scheme":
		s := strings.ToLower(L.CheckString(3))
		if s != "http" && s != "https" {
			L.ArgError(3, `scheme must be "http" or "https"`)
		}
		if q.Port == flowstore.DefaultPort(q.Scheme) {
			q.Port = flowstore.DefaultPort(s)
		}
		q.Scheme = s
		fixHost(q)
	case "host":
		h := L.CheckString(3)
		if h == "" || strings.ContainsAny(h, "/ \r\n") {
			L.ArgError(3, "not a valid host")
		}
		q.Host = strings.Trim(h, "[]")
		fixHost(q)
	case "port":
		n := L.CheckInt(3)
		if n <= 0 || n > 65535 {
			L.ArgError(3, "port must be between 1 and 65535")
		}
		q.Port = n
		fixHost(q)
	case "path":
		p := L.CheckString(3)
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \r\n") {
			L.ArgError(3, `path must start with "/" and hold no spaces`)
		}
		q.Path = p
	case "query":
		s := optString(L, 3)
		if strings.ContainsAny(s, " #\r\n") {
			L.ArgError(3, "query must be encoded (no spaces or #)")
		}
		q.Path = q.PathOnly()
		if s = strings.TrimPrefix(s, "?"); s != "" {
			q.Path += "?" + s
		}
	default:
		return false
	}
	return true
}

// setResponseField sets one of the response's own fields from argument 3.
func setResponseField(L *lua.LState, p *flowstore.Response, key string) bool {
	switch key {
	case "status":
		n := L.CheckInt(3)
		if n < 100 || n > 999 {
			L.ArgError(3, "status must be between 100 and 999")
		}
		if p.Reason == http.StatusText(p.Status) {
			p.Reason = http.StatusText(n)
		}
		p.Status = n
	case "reason":
		s := optString(L, 3)
		if strings.ContainsAny(s, "\r\n") {
			L.ArgError(3, "reason must be one line")
		}
		p.Reason = s
	default:
		return false
	}
	return true
}

// fixHost keeps a Host header in step with the request's authority.
func fixHost(q *flowstore.Request) {
	if q.Headers.Has("Host") {
		q.Headers.Set("Host", q.Authority())
	}
}
