package scripting

import (
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// call is one hook invocation: the flow it works on (a scratch copy in
// the phases that may change it), what it decided, and the Lua objects
// it handed out. Objects are userdata that point back here and check on
// every access that the call is still running, so a flow stashed in a
// global and used later fails loudly instead of touching a stale copy.
type call struct {
	st      *state
	f       *flowstore.Flow
	phase   int // hook.RequestHeaders...
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
		if t := c.st.v.s.eng.ctxs.Get(c.f.ID); t != nil {
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
	c.f.Response = hook.Respond(status, hs, body)
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

// ---- headers ----

// ---- bodies ----
