package scripting

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// call is one hook invocation: the flow it works on (a scratch copy in
// the phases that may change it), what it decided, and the Lua objects
// it handed out. Objects are userdata that point back here and check on
// every access that the call is still running, so a flow stashed in a
// global and used later fails loudly instead of touching a stale copy.
type call struct {
	st      *state
	f       *flowstore.Flow
	phase   int
	ro      bool
	verdict flowstore.Verdict
	dead    atomic.Bool
	ctx     *lua.LTable // flow.ctx, once read
	uds     [numRefs]*lua.LUserData
	text    [2]textCache // decoded bodies: request, response
	msg     *wsMessage   // the message of a websocket_message call
}

type textCache struct {
	data []byte
	ce   string
	text lua.LString
}

type refKind uint8

const (
	refFlow refKind = iota
	refRequest
	refResponse
	refReqHeaders
	refRespHeaders
	refReqTrailers
	refRespTrailers
	refReqBody
	refRespBody
	refMessage
	numRefs
)

// ref is the Go side of every flow object handed to Lua.
type ref struct {
	c    *call
	kind refKind
}

type metatables struct {
	flow, request, response, headers, body, message *lua.LTable
}

type methods struct {
	respond, kill, intercept                           *lua.LFunction
	hGet, hGetAll, hAdd, hSet, hRemove, hIterate, hHas *lua.LFunction
	mDrop                                              *lua.LFunction
}

func (st *state) installFlowAPI() {
	L := st.L
	mt := func(index, newindex lua.LGFunction, extra map[string]lua.LGFunction) *lua.LTable {
		t := L.NewTable()
		t.RawSetString("__index", L.NewFunction(index))
		t.RawSetString("__newindex", L.NewFunction(newindex))
		t.RawSetString("__metatable", lua.LFalse)
		for k, fn := range extra {
			t.RawSetString(k, L.NewFunction(fn))
		}
		return t
	}
	st.mt.flow = mt(st.flowIndex, st.flowNewIndex, map[string]lua.LGFunction{"__tostring": st.flowString})
	st.mt.request = mt(st.msgIndex, st.msgNewIndex, nil)
	st.mt.response = mt(st.msgIndex, st.msgNewIndex, nil)
	st.mt.headers = mt(st.headersIndex, st.headersNewIndex, map[string]lua.LGFunction{
		"__len": st.headersLen, "__tostring": st.headersString,
	})
	st.mt.body = mt(st.bodyIndex, st.bodyNewIndex, map[string]lua.LGFunction{
		"__len": st.bodyLen, "__tostring": st.bodyString, "__concat": st.bodyConcat,
	})
	m := &st.methods
	m.respond = L.NewFunction(st.flowRespond)
	m.kill = L.NewFunction(st.flowKill)
	m.intercept = L.NewFunction(st.flowIntercept)
	m.hGet = L.NewFunction(st.headersGet)
	m.hGetAll = L.NewFunction(st.headersGetAll)
	m.hAdd = L.NewFunction(st.headersAdd)
	m.hSet = L.NewFunction(st.headersSet)
	m.hRemove = L.NewFunction(st.headersRemove)
	m.hIterate = L.NewFunction(st.headersIterate)
	m.hHas = L.NewFunction(st.headersHas)
	st.installMessageAPI()
}

// ud returns (creating once per call) the userdata for one object.
func (c *call) ud(kind refKind) *lua.LUserData {
	if u := c.uds[kind]; u != nil {
		return u
	}
	st := c.st
	u := st.L.NewUserData()
	u.Value = &ref{c: c, kind: kind}
	var mt *lua.LTable
	switch kind {
	case refFlow:
		mt = st.mt.flow
	case refRequest:
		mt = st.mt.request
	case refResponse:
		mt = st.mt.response
	case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
		mt = st.mt.headers
	case refMessage:
		mt = st.mt.message
	default:
		mt = st.mt.body
	}
	u.Metatable = mt
	c.uds[kind] = u
	return u
}

// ref checks argument i is a live flow object.
func (st *state) ref(L *lua.LState, i int) *ref {
	ud, ok := L.Get(i).(*lua.LUserData)
	if !ok {
		L.ArgError(i, "flow object expected, got "+L.Get(i).Type().String())
	}
	r, ok := ud.Value.(*ref)
	if !ok {
		L.ArgError(i, "flow object expected")
	}
	if r.c.dead.Load() {
		L.RaiseError("a flow object was used after its hook returned (keep values in flow.ctx, not flow objects)")
	}
	return r
}

// The phases in which the request, the response and the flow's own
// fields may change; elsewhere the engine would not apply the change.
func (c *call) requestWritable() bool {
	return c.phase == phRequestHeaders || c.phase == phRequest
}

func (c *call) flowWritable() bool { return !c.ro }

func (c *call) mustWrite(L *lua.LState, ok bool, what string) {
	if !ok {
		L.RaiseError("%s cannot be changed in the %s phase", what, phaseNames[c.phase])
	}
}

// ---- flow ----

func (st *state) flowIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	c, f := r.c, r.c.f
	var v lua.LValue = lua.LNil
	switch L.ToString(2) {
	case "id":
		v = lua.LString(f.ID)
	case "request":
		if f.Request != nil {
			v = c.ud(refRequest)
		}
	case "response":
		if f.Response != nil {
			v = c.ud(refResponse)
		}
	case "ctx":
		v = c.ctxTable(L)
	case "marked":
		v = lua.LBool(f.Marked)
	case "comment":
		v = lua.LString(f.Comment)
	case "error":
		if f.Error != nil {
			v = lua.LString(f.Error.Error())
		}
	case "state":
		v = lua.LString(f.State.String())
	case "phase":
		v = lua.LString(phaseNames[c.phase])
	case "duration":
		if d := f.Timings.Duration(); d > 0 {
			v = lua.LNumber(d.Seconds())
		}
	case "duration_ms":
		if d := f.Timings.Duration(); d > 0 {
			v = lua.LNumber(float64(d.Microseconds()) / 1000)
		}
	case "started":
		if !f.Timings.Start.IsZero() {
			v = lua.LNumber(float64(f.Timings.Start.UnixMicro()) / 1e6)
		}
	case "bytes_in":
		v = lua.LNumber(f.BytesIn)
	case "bytes_out":
		v = lua.LNumber(f.BytesOut)
	case "client_addr":
		v = lua.LString(f.Client.Addr)
	case "server_addr":
		v = lua.LString(f.Server.Addr)
	case "respond":
		v = st.methods.respond
	case "kill":
		v = st.methods.kill
	case "intercept":
		v = st.methods.intercept
	}
	L.Push(v)
	return 1
}

func (st *state) flowNewIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	c, f := r.c, r.c.f
	key := L.CheckString(2)
	switch key {
	case "marked":
		c.mustWrite(L, c.flowWritable(), "flow.marked")
		f.Marked = lua.LVAsBool(L.Get(3))
	case "comment":
		c.mustWrite(L, c.flowWritable(), "flow.comment")
		f.Comment = optString(L, 3)
	case "ctx":
		t, ok := L.Get(3).(*lua.LTable)
		if !ok {
			L.ArgError(3, "flow.ctx must be a table")
		}
		c.ctx = t
	case "request", "response":
		L.RaiseError("flow.%s cannot be replaced; change its fields, or use flow:respond(status, headers, body)", key)
	default:
		L.RaiseError("flow.%s cannot be set", key)
	}
	return 0
}

func (st *state) flowString(L *lua.LState) int {
	r := st.ref(L, 1)
	f := r.c.f
	s := "flow " + f.ID
	if f.Request != nil {
		s += " " + f.Request.Method + " " + f.Request.URL()
	}
	L.Push(lua.LString(s))
	return 1
}

func (c *call) ctxTable(L *lua.LState) *lua.LTable {
	if c.ctx == nil {
		if t := c.st.v.s.eng.ctxs.get(c.f.ID); t != nil {
			c.ctx = toLua(L, t, c.st.null).(*lua.LTable)
		} else {
			c.ctx = L.NewTable()
		}
	}
	return c.ctx
}

func optString(L *lua.LState, i int) string {
	switch v := L.Get(i).(type) {
	case *lua.LNilType:
		return ""
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	L.ArgError(i, "string expected, got "+L.Get(i).Type().String())
	return ""
}

func (st *state) flowRespond(L *lua.LState) int {
	r := st.ref(L, 1)
	c := r.c
	if c.ro {
		L.RaiseError("flow:respond() cannot be used in the %s phase", phaseNames[c.phase])
	}
	status := L.CheckInt(2)
	if status < 100 || status > 999 {
		L.ArgError(2, "status must be between 100 and 999")
	}
	hs := st.headersFromLua(L, 3)
	var body []byte
	switch b := L.Get(4).(type) {
	case *lua.LNilType:
	case lua.LString:
		st.grow(L, "flow:respond", int64(len(b)))
		body = []byte(b)
	case lua.LNumber:
		body = []byte(b.String())
	case *lua.LTable:
		body = []byte(st.jsonEncode(L, b, "", "flow:respond"))
		if !hs.Has("Content-Type") {
			hs.Add("Content-Type", "application/json")
		}
	case *lua.LUserData:
		if br, ok := b.Value.(*ref); ok && (br.kind == refReqBody || br.kind == refRespBody) {
			body = st.bodyOf(L, br).Data
			break
		}
		L.ArgError(4, "body must be a string or a table")
	default:
		L.ArgError(4, "body must be a string or a table")
	}
	hs.Del("Content-Length")
	hs.Add("Content-Length", strconv.Itoa(len(body)))
	c.f.Response = &flowstore.Response{
		Status: status, Reason: http.StatusText(status), Proto: "HTTP/1.1",
		Headers: hs, Body: flowstore.NewBody(body),
	}
	c.verdict = flowstore.Respond
	return 0
}

func (st *state) flowKill(L *lua.LState) int { return st.setVerdict(L, "kill", flowstore.Kill) }

func (st *state) flowIntercept(L *lua.LState) int {
	return st.setVerdict(L, "intercept", flowstore.Intercept)
}

// setVerdict backs flow:kill() and flow:intercept(), which only the phases
// that may change the flow can use.
func (st *state) setVerdict(L *lua.LState, name string, v flowstore.Verdict) int {
	c := st.ref(L, 1).c
	if c.ro {
		L.RaiseError("flow:%s() cannot be used in the %s phase", name, phaseNames[c.phase])
	}
	c.verdict = v
	return 0
}

// ---- request and response ----

func (st *state) msgIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	c, f := r.c, r.c.f
	key := L.ToString(2)
	var v lua.LValue = lua.LNil
	if r.kind == refRequest {
		q := f.Request
		switch key {
		case "method":
			v = lua.LString(q.Method)
		case "url":
			v = lua.LString(q.URL())
		case "scheme":
			v = lua.LString(q.Scheme)
		case "host":
			v = lua.LString(q.Host)
		case "port":
			v = lua.LNumber(q.Port)
		case "path":
			v = lua.LString(q.Path)
		case "query":
			v = lua.LString(q.Query())
		case "http_version":
			v = lua.LString(q.Proto)
		case "headers":
			v = c.ud(refReqHeaders)
		case "trailers":
			v = c.ud(refReqTrailers)
		case "body":
			v = c.ud(refReqBody)
		}
		L.Push(v)
		return 1
	}
	p := st.response(L, c)
	switch key {
	case "status":
		v = lua.LNumber(p.Status)
	case "reason":
		v = lua.LString(p.Reason)
	case "http_version":
		v = lua.LString(p.Proto)
	case "headers":
		v = c.ud(refRespHeaders)
	case "trailers":
		v = c.ud(refRespTrailers)
	case "body":
		v = c.ud(refRespBody)
	}
	L.Push(v)
	return 1
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
	key := L.CheckString(2)
	val := L.Get(3)
	if r.kind == refRequest {
		c.mustWrite(L, c.requestWritable(), "flow.request")
		q := c.f.Request
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
		case "headers":
			q.Headers = st.headersFromLua(L, 3)
		case "body":
			st.setBody(L, c.ud(refReqBody).Value.(*ref), val, true)
		default:
			L.RaiseError("flow.request.%s cannot be set", key)
		}
		return 0
	}
	c.mustWrite(L, c.flowWritable(), "flow.response")
	p := st.response(L, c)
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
	case "headers":
		p.Headers = st.headersFromLua(L, 3)
	case "body":
		st.setBody(L, c.ud(refRespBody).Value.(*ref), val, true)
	default:
		L.RaiseError("flow.response.%s cannot be set", key)
	}
	return 0
}

// fixHost keeps a Host header in step with the request's authority.
func fixHost(q *flowstore.Request) {
	if q.Headers.Has("Host") {
		q.Headers.Set("Host", q.Authority())
	}
}

// ---- headers ----

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
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ---- bodies ----

func (st *state) bodyOf(L *lua.LState, r *ref) *flowstore.Body {
	if r.kind == refReqBody {
		return &r.c.f.Request.Body
	}
	return &st.response(L, r.c).Body
}

func (st *state) headersOfBody(L *lua.LState, r *ref) *flowstore.Headers {
	if r.kind == refReqBody {
		return &r.c.f.Request.Headers
	}
	return &st.response(L, r.c).Headers
}

// text decodes a body by its Content-Encoding, caching the result for
// the call (a script often reads .text twice).
func (st *state) text(L *lua.LState, r *ref) lua.LString {
	b := st.bodyOf(L, r)
	ce := st.headersOfBody(L, r).Get("Content-Encoding")
	tc := &r.c.text[0]
	if r.kind == refRespBody {
		tc = &r.c.text[1]
	}
	if tc.data != nil && sameBytes(tc.data, b.Data) && tc.ce == ce {
		return tc.text
	}
	data, err := content.Decode(b.Data, ce, st.v.s.eng.opts.StringLimit)
	if err != nil {
		L.RaiseError("cannot decode the body (Content-Encoding %q): %v; .raw has the bytes as sent", ce, err)
	}
	st.grow(L, "body.text", int64(len(data)))
	*tc = textCache{data: b.Data, ce: ce, text: lua.LString(data)}
	return tc.text
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (st *state) bodyIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	var v lua.LValue = lua.LNil
	switch L.ToString(2) {
	case "text":
		v = st.text(L, r)
	case "raw":
		data := st.bodyOf(L, r).Data
		st.grow(L, "body.raw", int64(len(data)))
		v = lua.LString(data)
	case "size":
		v = lua.LNumber(st.bodyOf(L, r).Size)
	case "truncated":
		v = lua.LBool(st.bodyOf(L, r).Truncated)
	}
	L.Push(v)
	return 1
}

func (st *state) bodyNewIndex(L *lua.LState) int {
	r := st.ref(L, 1)
	switch key := L.CheckString(2); key {
	case "text":
		st.setBody(L, r, L.Get(3), true)
	case "raw":
		st.setBody(L, r, L.Get(3), false)
	default:
		L.RaiseError("body.%s cannot be set (use .text or .raw)", key)
	}
	return 0
}

// setBody replaces a body: as text (encoded again with the message's
// Content-Encoding) or raw; a Content-Length header follows the new size.
func (st *state) setBody(L *lua.LState, r *ref, v lua.LValue, encode bool) {
	c := r.c
	if r.kind == refReqBody {
		c.mustWrite(L, c.requestWritable(), "flow.request.body")
	} else {
		c.mustWrite(L, c.flowWritable(), "flow.response.body")
	}
	b := st.bodyOf(L, r)
	if b.Truncated {
		L.RaiseError("the body is larger than the body limit (%d of %d bytes kept), so it cannot be replaced", len(b.Data), b.Size)
	}
	var text string
	switch x := v.(type) {
	case *lua.LNilType:
	case lua.LString:
		text = string(x)
	case lua.LNumber:
		text = x.String()
	case *lua.LUserData:
		if br, ok := x.Value.(*ref); ok && (br.kind == refReqBody || br.kind == refRespBody) {
			text = string(st.text(L, br))
			break
		}
		L.RaiseError("a body must be set to a string")
	default:
		L.RaiseError("a body must be set to a string, got %s", v.Type().String())
	}
	st.grow(L, "body", int64(len(text))) // the body keeps its own copy
	var data []byte
	if text != "" {
		data = []byte(text)
	}
	h := st.headersOfBody(L, r)
	if encode {
		if ce := h.Get("Content-Encoding"); ce != "" {
			enc, err := content.Encode(data, ce)
			if err != nil {
				L.RaiseError("cannot encode the new body with Content-Encoding %q: %v; set .raw instead", ce, err)
			}
			data = enc
		}
	}
	*b = flowstore.NewBody(data)
	if h.Has("Content-Length") {
		h.Set("Content-Length", strconv.Itoa(len(data)))
	}
}

func (st *state) bodyLen(L *lua.LState) int {
	r := st.ref(L, 1)
	L.Push(lua.LNumber(len(st.bodyOf(L, r).Data)))
	return 1
}

func (st *state) bodyString(L *lua.LState) int {
	r := st.ref(L, 1)
	L.Push(st.text(L, r))
	return 1
}

func (st *state) bodyConcat(L *lua.LState) int {
	part := func(i int) string {
		if ud, ok := L.Get(i).(*lua.LUserData); ok {
			if r, ok := ud.Value.(*ref); ok && (r.kind == refReqBody || r.kind == refRespBody) {
				return string(st.text(L, st.ref(L, i)))
			}
		}
		switch v := L.Get(i).(type) {
		case lua.LString:
			return string(v)
		case lua.LNumber:
			return v.String()
		}
		L.RaiseError("attempt to concatenate a %s value", L.Get(i).Type().String())
		return ""
	}
	a, b := part(1), part(2)
	st.grow(L, "concatenation", int64(len(a))+int64(len(b)))
	L.Push(lua.LString(a + b))
	return 1
}
