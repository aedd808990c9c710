package js

// The flow API in JavaScript: flow, flow.request and flow.response, their
// headers (fetch-style methods, and bracket access as in Lua) and bodies
// (.text, .json, .bytes), and a WebSocket message. Each object is a goja
// DynamicObject over the call, so reading a field reads the flow and
// nothing is copied until asked for.

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

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

// obj is the Go side of every flow object handed to a script.
type obj struct {
	c    *call
	kind refKind
}

// protos are the methods of flow objects, made once per runtime.
type protos struct {
	respond, kill, intercept, toString                    goja.Value
	hGet, hGetAll, hSet, hAppend, hDelete, hHas, hEntries goja.Value
	hKeys, hValues, hForEach                              goja.Value
	drop                                                  goja.Value
}

type textCache struct {
	data []byte
	ce   string
	text goja.Value
}

// wsMessage is the message a websocket_message call works on: a copy as
// the hook received it, and what the hook decided, which reaches the
// engine only when the call succeeds.
type wsMessage struct {
	m    flowstore.Message
	data []byte // the new payload, once set
	set  bool
	drop bool
}

func (st *state) installFlowAPI() {
	rt := st.rt
	fn := func(f func(o *obj, fc goja.FunctionCall) goja.Value) goja.Value {
		return rt.ToValue(func(fc goja.FunctionCall) goja.Value { return f(st.self(fc.This), fc) })
	}
	p := &st.protos
	p.respond = fn(st.flowRespond)
	p.kill = fn(func(o *obj, _ goja.FunctionCall) goja.Value { return st.setVerdict(o, "kill", flowstore.Kill) })
	p.intercept = fn(func(o *obj, _ goja.FunctionCall) goja.Value {
		return st.setVerdict(o, "intercept", flowstore.Intercept)
	})
	p.toString = fn(st.objString)
	p.hGet = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		if v := st.header(o, fc.Argument(0).String()); v != nil {
			return v
		}
		return goja.Null()
	})
	p.hGetAll = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		vs := st.headers(o).Values(fc.Argument(0).String())
		items := make([]any, len(vs))
		for i, v := range vs {
			items[i] = v
		}
		return rt.NewArray(items...)
	})
	p.hSet = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		st.headersWritable(o)
		st.assignHeader(st.headers(o), fc.Argument(0).String(), fc.Argument(1))
		return goja.Undefined()
	})
	p.hAppend = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		st.headersWritable(o)
		name, value := fc.Argument(0).String(), st.headerValue(fc.Argument(1))
		st.checkHeader(name, value)
		st.headers(o).Add(name, value)
		return goja.Undefined()
	})
	p.hDelete = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		st.headersWritable(o)
		st.headers(o).Del(fc.Argument(0).String())
		return goja.Undefined()
	})
	p.hHas = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		return rt.ToValue(st.header(o, fc.Argument(0).String()) != nil)
	})
	p.hEntries = fn(func(o *obj, _ goja.FunctionCall) goja.Value {
		h := *st.headers(o)
		items := make([]any, len(h))
		for i, kv := range h {
			items[i] = rt.NewArray(kv.Name, kv.Value)
		}
		return rt.NewArray(items...)
	})
	p.hKeys = fn(func(o *obj, _ goja.FunctionCall) goja.Value {
		h := *st.headers(o)
		items := make([]any, len(h))
		for i, kv := range h {
			items[i] = kv.Name
		}
		return rt.NewArray(items...)
	})
	p.hValues = fn(func(o *obj, _ goja.FunctionCall) goja.Value {
		h := *st.headers(o)
		items := make([]any, len(h))
		for i, kv := range h {
			items[i] = kv.Value
		}
		return rt.NewArray(items...)
	})
	p.hForEach = fn(func(o *obj, fc goja.FunctionCall) goja.Value {
		cb, ok := goja.AssertFunction(fc.Argument(0))
		if !ok {
			st.throwType("headers.forEach: a function expected")
		}
		for _, kv := range st.headers(o).Clone() {
			if _, err := cb(fc.Argument(1), rt.ToValue(kv.Value), rt.ToValue(kv.Name)); err != nil {
				panic(err)
			}
		}
		return goja.Undefined()
	})
	p.drop = fn(func(o *obj, _ goja.FunctionCall) goja.Value {
		st.message(o).drop = true
		return goja.Undefined()
	})
}

// object returns (creating once per call) the object of one kind.
func (c *call) object(kind refKind) *goja.Object {
	if o := c.objs[kind]; o != nil {
		return o
	}
	o := c.st.rt.NewDynamicObject(&obj{c: c, kind: kind})
	c.objs[kind] = o
	return o
}

// self checks this is a live flow object.
func (st *state) self(this goja.Value) *obj {
	o, ok := this.Export().(*obj)
	if !ok {
		st.throwType("a flow object expected")
	}
	o.live()
	return o
}

func (o *obj) live() {
	if o.c.dead.Load() {
		o.c.st.throw("a flow object was used after its hook returned (keep values in flow.ctx, not flow objects)")
	}
}

// The phases in which the request, the response and the flow's own
// fields may change; elsewhere the engine would not apply the change.
func (c *call) requestWritable() bool {
	return c.phase == hook.RequestHeaders || c.phase == hook.Request
}

func (st *state) mustWrite(c *call, ok bool, what string) {
	if !ok {
		st.throwType(what + " cannot be changed in the " + hook.PhaseNames[c.phase] + " phase")
	}
}

// ---- the DynamicObject methods, by kind ----

func (o *obj) Get(key string) goja.Value {
	o.live()
	st := o.c.st
	switch o.kind {
	case refFlow:
		return st.flowGet(o, key)
	case refRequest, refResponse:
		return st.msgGet(o, key)
	case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
		return st.headersGet(o, key)
	case refReqBody, refRespBody:
		return st.bodyGet(o, key)
	case refMessage:
		return st.messageGet(o, key)
	}
	return nil
}

func (o *obj) Set(key string, v goja.Value) bool {
	o.live()
	st := o.c.st
	switch o.kind {
	case refFlow:
		st.flowSet(o, key, v)
	case refRequest, refResponse:
		st.msgSet(o, key, v)
	case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
		st.headersWritable(o)
		st.assignHeader(st.headers(o), key, v)
	case refReqBody, refRespBody:
		st.bodySet(o, key, v)
	case refMessage:
		st.messageSet(o, key, v)
	}
	return true
}

func (o *obj) Has(key string) bool {
	if o.kind >= refReqHeaders && o.kind <= refRespTrailers {
		o.live()
		return o.c.st.header(o, key) != nil
	}
	return o.Get(key) != nil
}

func (o *obj) Delete(key string) bool {
	o.live()
	st := o.c.st
	switch o.kind {
	case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
		st.headersWritable(o)
		st.headers(o).Del(key)
		return true
	}
	st.throwType(key + " cannot be deleted")
	return false
}

var (
	flowKeys     = []string{"id", "request", "response", "marked", "comment", "error", "state", "phase", "duration", "durationMs", "started", "bytesIn", "bytesOut", "clientAddr", "serverAddr"}
	requestKeys  = []string{"method", "url", "scheme", "host", "port", "path", "query", "httpVersion", "headers", "body", "trailers"}
	responseKeys = []string{"status", "reason", "httpVersion", "headers", "body", "trailers"}
	bodyKeys     = []string{"text", "size", "truncated"}
	messageKeys  = []string{"text", "kind", "fromClient", "size", "time"}
)

func (o *obj) Keys() []string {
	o.live()
	switch o.kind {
	case refFlow:
		return flowKeys
	case refRequest:
		return requestKeys
	case refResponse:
		return responseKeys
	case refReqBody, refRespBody:
		return bodyKeys
	case refMessage:
		return messageKeys
	}
	var names []string
	seen := map[string]bool{}
	for _, kv := range *o.c.st.headers(o) {
		if k := strings.ToLower(kv.Name); !seen[k] {
			seen[k] = true
			names = append(names, kv.Name)
		}
	}
	return names
}

func (st *state) objString(o *obj, _ goja.FunctionCall) goja.Value {
	switch o.kind {
	case refFlow:
		f := o.c.f
		s := "flow " + f.ID
		if f.Request != nil {
			s += " " + f.Request.Method + " " + f.Request.URL()
		}
		return st.rt.ToValue(s)
	case refReqHeaders, refRespHeaders, refReqTrailers, refRespTrailers:
		h := *st.headers(o)
		size := int64(0)
		for _, kv := range h {
			size += int64(len(kv.Name)) + int64(len(kv.Value)) + 3
		}
		st.grow("headers.toString", size)
		return st.rt.ToValue(h.String())
	case refReqBody, refRespBody:
		return st.text(o)
	case refMessage:
		return st.payloadText(st.message(o))
	case refRequest:
		return st.rt.ToValue(o.c.f.Request.Method + " " + o.c.f.Request.URL())
	case refResponse:
		r := st.response(o.c)
		return st.rt.ToValue(strconv.Itoa(r.Status) + " " + r.Reason)
	}
	return st.rt.ToValue("[object]")
}

// ---- flow ----

func (st *state) flowGet(o *obj, key string) goja.Value {
	c, f, rt := o.c, o.c.f, st.rt
	switch key {
	case "id":
		return rt.ToValue(f.ID)
	case "request":
		if f.Request != nil {
			return c.object(refRequest)
		}
		return goja.Null()
	case "response":
		if f.Response != nil {
			return c.object(refResponse)
		}
		return goja.Null()
	case "ctx":
		return st.ctxObject(c)
	case "marked":
		return rt.ToValue(f.Marked)
	case "comment":
		return rt.ToValue(f.Comment)
	case "error":
		if f.Error != nil {
			return rt.ToValue(f.Error.Error())
		}
		return goja.Null()
	case "state":
		return rt.ToValue(f.State.String())
	case "phase":
		return rt.ToValue(hook.PhaseNames[c.phase])
	case "duration":
		if d := f.Timings.Duration(); d > 0 {
			return rt.ToValue(d.Seconds())
		}
		return goja.Null()
	case "durationMs":
		if d := f.Timings.Duration(); d > 0 {
			return rt.ToValue(float64(d.Microseconds()) / 1000)
		}
		return goja.Null()
	case "started":
		if !f.Timings.Start.IsZero() {
			return rt.ToValue(float64(f.Timings.Start.UnixMicro()) / 1e6)
		}
		return goja.Null()
	case "bytesIn":
		return rt.ToValue(f.BytesIn)
	case "bytesOut":
		return rt.ToValue(f.BytesOut)
	case "clientAddr":
		return rt.ToValue(f.Client.Addr)
	case "serverAddr":
		return rt.ToValue(f.Server.Addr)
	case "respond":
		return st.protos.respond
	case "kill":
		return st.protos.kill
	case "intercept":
		return st.protos.intercept
	case "toString":
		return st.protos.toString
	}
	return nil
}

func (st *state) flowSet(o *obj, key string, v goja.Value) {
	c, f := o.c, o.c.f
	switch key {
	case "marked":
		st.mustWrite(c, !c.ro, "flow.marked")
		f.Marked = v.ToBoolean()
	case "comment":
		st.mustWrite(c, !c.ro, "flow.comment")
		f.Comment = optString(v)
	case "ctx":
		t, ok := v.(*goja.Object)
		if !ok || t.ClassName() != "Object" {
			st.throwType("flow.ctx must be an object")
		}
		c.ctx = t
	case "request", "response":
		st.throwType("flow." + key + " cannot be replaced; change its fields, or use flow.respond(status, headers, body)")
	default:
		st.throwType("flow." + key + " cannot be set")
	}
}

// ctxObject is flow.ctx: a copy of what the flow's hooks kept, made when
// the call first reads it.
func (st *state) ctxObject(c *call) *goja.Object {
	if c.ctx == nil {
		if t := st.v.s.cfg.Ctxs.Get(c.f.ID); t != nil {
			if o, ok := st.fromGo(t).(*goja.Object); ok && o.ClassName() == "Object" {
				c.ctx = o
			} else if ok {
				// a Lua list: keep its elements under "1", "2"...
				c.ctx = st.rt.NewObject()
				for i, e := range t.Arr {
					_ = c.ctx.Set(strconv.Itoa(i+1), st.fromGo(e))
				}
			}
		}
		if c.ctx == nil {
			c.ctx = st.rt.NewObject()
		}
	}
	return c.ctx
}

func optString(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return v.String()
}

// flowRespond is flow.respond(status, headers, body), or
// flow.respond({status, headers, body}).
func (st *state) flowRespond(o *obj, fc goja.FunctionCall) goja.Value {
	c := o.c
	if c.ro {
		st.throwType("flow.respond() cannot be used in the " + hook.PhaseNames[c.phase] + " phase")
	}
	status, hv, bv := fc.Argument(0), fc.Argument(1), fc.Argument(2)
	if a, ok := status.(*goja.Object); ok && !goja.IsNumber(status) {
		status, hv, bv = a.Get("status"), a.Get("headers"), a.Get("body")
		if status == nil || goja.IsUndefined(status) {
			status = st.rt.ToValue(200)
		}
	}
	c.f.Response = st.response4(status, hv, bv)
	c.verdict = flowstore.Respond
	return goja.Undefined()
}

// response4 builds the response flow.respond (and an interceptor's
// respond action) makes: a body may be a string, bytes or an object sent
// as JSON.
func (st *state) response4(status, hv, bv goja.Value) *flowstore.Response {
	n := int(status.ToInteger())
	if !goja.IsNumber(status) || n < 100 || n > 999 {
		st.throwType("respond: status must be a number between 100 and 999")
	}
	hs := st.headersFromJS(hv)
	var body []byte
	switch {
	case bv == nil || goja.IsUndefined(bv) || goja.IsNull(bv):
	case goja.IsString(bv) || goja.IsNumber(bv):
		s := bv.String()
		st.grow("respond", int64(len(s)))
		body = []byte(s)
	default:
		if b, ok := st.bufferBytes(bv); ok {
			body = append([]byte(nil), b...)
			break
		}
		if bo, ok := bv.Export().(*obj); ok && (bo.kind == refReqBody || bo.kind == refRespBody) {
			bo.live()
			body = st.bodyOf(bo).Data
			break
		}
		s, err := st.jsonStr(goja.Undefined(), bv)
		if err != nil {
			panic(err)
		}
		body = []byte(s.String())
		if !hs.Has("Content-Type") {
			hs.Add("Content-Type", "application/json")
		}
	}
	return hook.Respond(n, hs, body)
}

func (st *state) setVerdict(o *obj, name string, v flowstore.Verdict) goja.Value {
	if o.c.ro {
		st.throwType("flow." + name + "() cannot be used in the " + hook.PhaseNames[o.c.phase] + " phase")
	}
	o.c.verdict = v
	return goja.Undefined()
}

// ---- request and response ----

func (st *state) response(c *call) *flowstore.Response {
	if c.f.Response == nil {
		st.throwType("the flow has no response (yet)")
	}
	return c.f.Response
}

// sides: the objects a request or a response holds.
type side struct{ headers, trailers, body refKind }

var sides = [numRefs]side{
	refRequest:  {refReqHeaders, refReqTrailers, refReqBody},
	refResponse: {refRespHeaders, refRespTrailers, refRespBody},
}

func (st *state) msgGet(o *obj, key string) goja.Value {
	c, rt := o.c, st.rt
	sd := sides[o.kind]
	switch key {
	case "headers":
		return c.object(sd.headers)
	case "trailers":
		return c.object(sd.trailers)
	case "body":
		return c.object(sd.body)
	case "toString":
		return st.protos.toString
	}
	if o.kind == refRequest {
		q := c.f.Request
		switch key {
		case "method":
			return rt.ToValue(q.Method)
		case "url":
			return rt.ToValue(q.URL())
		case "scheme":
			return rt.ToValue(q.Scheme)
		case "host":
			return rt.ToValue(q.Host)
		case "port":
			return rt.ToValue(q.Port)
		case "path":
			return rt.ToValue(q.Path)
		case "query":
			return rt.ToValue(q.Query())
		case "httpVersion":
			return rt.ToValue(q.Proto)
		}
		return nil
	}
	p := st.response(c)
	switch key {
	case "status":
		return rt.ToValue(p.Status)
	case "reason":
		return rt.ToValue(p.Reason)
	case "httpVersion":
		return rt.ToValue(p.Proto)
	}
	return nil
}

func (st *state) msgSet(o *obj, key string, v goja.Value) {
	c := o.c
	sd := sides[o.kind]
	what := "flow.response"
	if o.kind == refRequest {
		what = "flow.request"
		st.mustWrite(c, c.requestWritable(), what)
	} else {
		st.mustWrite(c, !c.ro, what)
	}
	var err error
	switch key {
	case "headers":
		*st.headers(c.object(sd.headers).Export().(*obj)) = st.headersFromJS(v)
		return
	case "body":
		st.setBodyValue(c.object(sd.body).Export().(*obj), v)
		return
	}
	if o.kind == refRequest {
		q := c.f.Request
		switch key {
		case "method":
			err = hook.SetMethod(q, v.String())
		case "url":
			err = hook.SetURL(q, v.String())
		case "scheme":
			err = hook.SetScheme(q, v.String())
		case "host":
			err = hook.SetHost(q, v.String())
		case "port":
			err = hook.SetPort(q, int(v.ToInteger()))
		case "path":
			err = hook.SetPath(q, v.String())
		case "query":
			err = hook.SetQuery(q, optString(v))
		default:
			st.throwType(what + "." + key + " cannot be set")
		}
	} else {
		p := st.response(c)
		switch key {
		case "status":
			err = hook.SetStatus(p, int(v.ToInteger()))
		case "reason":
			err = hook.SetReason(p, optString(v))
		default:
			st.throwType(what + "." + key + " cannot be set")
		}
	}
	if err != nil {
		st.throwType(what + "." + key + ": " + err.Error())
	}
}

// ---- headers ----

func (st *state) headers(o *obj) *flowstore.Headers {
	f := o.c.f
	switch o.kind {
	case refReqHeaders:
		return &f.Request.Headers
	case refReqTrailers:
		return &f.Request.Trailers
	case refRespHeaders:
		return &st.response(o.c).Headers
	case refRespTrailers:
		return &st.response(o.c).Trailers
	}
	st.throwType("headers expected")
	return nil
}

func (st *state) headersWritable(o *obj) {
	c := o.c
	switch o.kind {
	case refReqHeaders:
		st.mustWrite(c, c.requestWritable(), "flow.request.headers")
	case refRespHeaders:
		st.mustWrite(c, !c.ro, "flow.response.headers")
	default:
		st.throwType("trailers are read-only")
	}
}

func (st *state) headersGet(o *obj, key string) goja.Value {
	p := &st.protos
	switch key {
	case "get":
		return p.hGet
	case "getAll":
		return p.hGetAll
	case "set":
		return p.hSet
	case "append":
		return p.hAppend
	case "delete":
		return p.hDelete
	case "has":
		return p.hHas
	case "entries":
		return p.hEntries
	case "keys":
		return p.hKeys
	case "values":
		return p.hValues
	case "forEach":
		return p.hForEach
	case "toString":
		return p.toString
	}
	return st.header(o, key)
}

// header is the value of a header, its lines joined with ", " as fetch's
// Headers.get does, or nil. An HTTP/2 request carries its host as
// :authority, not as a header line; host is that all the same, as a
// script written for HTTP/1 expects.
func (st *state) header(o *obj, name string) goja.Value {
	h := *st.headers(o)
	if o.kind == refReqHeaders && strings.EqualFold(name, "host") && !h.Has("Host") {
		if q := o.c.f.Request; q.Host != "" {
			return st.rt.ToValue(q.Authority())
		}
	}
	vs := h.Values(name)
	if len(vs) == 0 {
		return nil
	}
	return st.rt.ToValue(strings.Join(vs, ", "))
}

// assignHeader is h[name] = value: null or undefined removes, an array
// sets one line each, anything else replaces every line of that name.
func (st *state) assignHeader(h *flowstore.Headers, name string, v goja.Value) {
	if !hook.ValidToken(name) {
		st.throwType("not a valid header name: " + strconv.Quote(name))
	}
	switch {
	case v == nil || goja.IsUndefined(v) || goja.IsNull(v):
		h.Del(name)
	default:
		if a, ok := v.(*goja.Object); ok && a.ClassName() == "Array" {
			vals := st.stringList(a)
			h.Del(name)
			for _, s := range vals {
				st.checkHeader(name, s)
				h.Add(name, s)
			}
			return
		}
		s := st.headerValue(v)
		st.checkHeader(name, s)
		h.Set(name, s)
	}
}

func (st *state) stringList(a *goja.Object) []string {
	n := a.Get("length").ToInteger()
	out := make([]string, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, st.headerValue(a.Get(strconv.FormatInt(i, 10))))
	}
	return out
}

func (st *state) headerValue(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		st.throwType("a header value must be a string")
	}
	if _, ok := v.(*goja.Object); ok {
		st.throwType("a header value must be a string, not an object")
	}
	return v.String()
}

func (st *state) checkHeader(name, value string) {
	if err := hook.CheckHeader(name, value); err != nil {
		st.throwType(err.Error())
	}
}

// headersFromJS reads headers given as an object ({name: value} or
// {name: [values]}, in the object's order; null skips), a list of
// [name, value] pairs, or another headers object.
func (st *state) headersFromJS(v goja.Value) flowstore.Headers {
	var hs flowstore.Headers
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return hs
	}
	o, ok := v.(*goja.Object)
	if !ok {
		st.throwType("headers must be an object")
	}
	if ho, ok := o.Export().(*obj); ok && ho.kind >= refReqHeaders && ho.kind <= refRespTrailers {
		ho.live()
		return st.headers(ho).Clone()
	}
	add := func(name string, v goja.Value) {
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return
		}
		if a, ok := v.(*goja.Object); ok && a.ClassName() == "Array" {
			for _, s := range st.stringList(a) {
				st.checkHeader(name, s)
				hs.Add(name, s)
			}
			return
		}
		s := st.headerValue(v)
		st.checkHeader(name, s)
		hs.Add(name, s)
	}
	if o.ClassName() == "Array" {
		n := o.Get("length").ToInteger()
		for i := int64(0); i < n; i++ {
			pair, ok := o.Get(strconv.FormatInt(i, 10)).(*goja.Object)
			if !ok {
				st.throwType("a headers list must hold [name, value] pairs")
			}
			add(pair.Get("0").String(), pair.Get("1"))
		}
		return hs
	}
	for _, k := range o.Keys() {
		add(k, o.Get(k))
	}
	return hs
}

// ---- bodies ----

func (st *state) bodyOf(o *obj) *flowstore.Body {
	if o.kind == refReqBody {
		return &o.c.f.Request.Body
	}
	return &st.response(o.c).Body
}

func (st *state) headersOfBody(o *obj) *flowstore.Headers {
	if o.kind == refReqBody {
		return &o.c.f.Request.Headers
	}
	return &st.response(o.c).Headers
}

// text decodes a body by its Content-Encoding, caching the result for
// the call (a script often reads .text twice).
func (st *state) text(o *obj) goja.Value {
	b := st.bodyOf(o)
	ce := st.headersOfBody(o).Get("Content-Encoding")
	tc := &o.c.text[0]
	if o.kind == refRespBody {
		tc = &o.c.text[1]
	}
	if tc.text != nil && sameBytes(tc.data, b.Data) && tc.ce == ce {
		return tc.text
	}
	data, err := content.Decode(b.Data, ce, st.v.s.cfg.StringLimit)
	if err != nil {
		st.throw("cannot decode the body (Content-Encoding " + strconv.Quote(ce) + "): " + err.Error() + "; .bytes has the bytes as sent")
	}
	st.grow("body.text", int64(len(data)))
	*tc = textCache{data: b.Data, ce: ce, text: st.rt.ToValue(string(data))}
	return tc.text
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (st *state) bodyGet(o *obj, key string) goja.Value {
	switch key {
	case "text":
		return st.text(o)
	case "json":
		v, err := st.jsonParse(goja.Undefined(), st.text(o))
		if err != nil {
			panic(err)
		}
		return v
	case "bytes":
		data := st.bodyOf(o).Data
		st.grow("body.bytes", int64(len(data)))
		return st.uint8Array(data)
	case "size":
		return st.rt.ToValue(st.bodyOf(o).Size)
	case "truncated":
		return st.rt.ToValue(st.bodyOf(o).Truncated)
	case "toString":
		return st.protos.toString
	}
	return nil
}

func (st *state) bodySet(o *obj, key string, v goja.Value) {
	switch key {
	case "text":
		st.setBodyValue(o, v)
	case "json":
		s, err := st.jsonStr(goja.Undefined(), v)
		if err != nil {
			panic(err)
		}
		st.setBody(o, []byte(s.String()), true)
	case "bytes":
		b, ok := st.bytesOf(v)
		if !ok {
			st.throwType("body.bytes must be set to a Uint8Array, an ArrayBuffer or a string")
		}
		st.setBody(o, b, false)
	default:
		st.throwType("body." + key + " cannot be set (use .text, .json or .bytes)")
	}
}

// setBodyValue is body.text = v (and message.body = v): a string, or
// another body's text.
func (st *state) setBodyValue(o *obj, v goja.Value) {
	switch {
	case v == nil || goja.IsUndefined(v) || goja.IsNull(v):
		st.setBody(o, nil, true)
	case goja.IsString(v) || goja.IsNumber(v):
		st.setBody(o, []byte(v.String()), true)
	default:
		if bo, ok := v.Export().(*obj); ok && (bo.kind == refReqBody || bo.kind == refRespBody) {
			bo.live()
			st.setBody(o, []byte(st.text(bo).String()), true)
			return
		}
		if b, ok := st.bufferBytes(v); ok {
			st.setBody(o, append([]byte(nil), b...), false)
			return
		}
		st.throwType("a body must be set to a string")
	}
}

// setBody replaces a body: as text (encoded again with the message's
// Content-Encoding) or raw; a Content-Length header follows the new size.
func (st *state) setBody(o *obj, data []byte, encode bool) {
	c := o.c
	if o.kind == refReqBody {
		st.mustWrite(c, c.requestWritable(), "flow.request.body")
	} else {
		st.mustWrite(c, !c.ro, "flow.response.body")
	}
	b := st.bodyOf(o)
	if b.Truncated {
		st.throw("the body is larger than the body limit (" + strconv.Itoa(len(b.Data)) + " of " + strconv.FormatInt(b.Size, 10) + " bytes kept), so it cannot be replaced")
	}
	st.grow("body", int64(len(data))) // the body keeps its own copy
	if len(data) == 0 {
		data = nil
	}
	h := st.headersOfBody(o)
	if encode {
		if ce := h.Get("Content-Encoding"); ce != "" {
			enc, err := content.Encode(data, ce)
			if err != nil {
				st.throw("cannot encode the new body with Content-Encoding " + strconv.Quote(ce) + ": " + err.Error() + "; set .bytes instead")
			}
			data = enc
		}
	}
	*b = flowstore.NewBody(data)
	if h.Has("Content-Length") {
		h.Set("Content-Length", strconv.Itoa(len(data)))
	}
}

// ---- bytes ----

// uint8Array is a new Uint8Array holding a copy of b.
func (st *state) uint8Array(b []byte) goja.Value {
	buf := st.rt.NewArrayBuffer(append([]byte(nil), b...))
	a, err := st.u8Ctor(nil, st.rt.ToValue(buf))
	if err != nil {
		panic(err)
	}
	return a
}

// bufferBytes are the bytes of an ArrayBuffer or a typed array (not a
// copy).
func (st *state) bufferBytes(v goja.Value) ([]byte, bool) {
	switch x := v.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes(), true
	case []byte:
		return x, true
	}
	return nil, false
}

// bytesOf reads bytes from a buffer or a string: a string of characters
// up to U+00FF is one byte each (as responsechunk hands chunks out), any
// other string is UTF-8.
func (st *state) bytesOf(v goja.Value) ([]byte, bool) {
	if b, ok := st.bufferBytes(v); ok {
		return append([]byte(nil), b...), true
	}
	s, ok := v.(goja.String)
	if !ok {
		return nil, false
	}
	n := s.Length()
	out := make([]byte, n)
	for i := 0; i < n; i++ {
		ch := s.CharAt(i)
		if ch > 0xff {
			return []byte(s.String()), true
		}
		out[i] = byte(ch)
	}
	return out, true
}

// binaryString is b as a string of one character per byte, so that a
// chunk split inside a UTF-8 sequence goes through a hook unharmed.
func (st *state) binaryString(b []byte) goja.Value {
	st.grow("chunk", int64(len(b)))
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return st.rt.ToValue(string(b))
	}
	u := make([]uint16, len(b))
	for i, c := range b {
		u[i] = uint16(c)
	}
	return goja.StringFromUTF16(u)
}

// ---- WebSocket message ----

func (st *state) message(o *obj) *wsMessage {
	if o.kind != refMessage || o.c.msg == nil {
		st.throwType("a message expected")
	}
	return o.c.msg
}

func (w *wsMessage) payload() []byte {
	if w.set {
		return w.data
	}
	return w.m.Data
}

func (st *state) payloadText(w *wsMessage) goja.Value {
	p := w.payload()
	st.grow("message.text", int64(len(p)))
	return st.rt.ToValue(string(p))
}

func (st *state) messageGet(o *obj, key string) goja.Value {
	w := st.message(o)
	rt := st.rt
	switch key {
	case "text":
		return st.payloadText(w)
	case "bytes":
		p := w.payload()
		st.grow("message.bytes", int64(len(p)))
		return st.uint8Array(p)
	case "fromClient":
		return rt.ToValue(w.m.FromClient)
	case "kind":
		return rt.ToValue(string(w.m.Kind))
	case "size":
		return rt.ToValue(w.m.Size)
	case "time":
		if !w.m.Time.IsZero() {
			return rt.ToValue(float64(w.m.Time.UnixMicro()) / 1e6)
		}
		return goja.Null()
	case "drop":
		return st.protos.drop
	case "toString":
		return st.protos.toString
	}
	return nil
}

func (st *state) messageSet(o *obj, key string, v goja.Value) {
	w := st.message(o)
	var data []byte
	switch key {
	case "text":
		if !goja.IsString(v) && !goja.IsNumber(v) {
			st.throwType("message.text must be set to a string, not a " + typeOf(v))
		}
		data = []byte(v.String())
	case "bytes":
		b, ok := st.bufferBytes(v)
		if !ok {
			st.throwType("message.bytes must be set to a Uint8Array or an ArrayBuffer")
		}
		data = append([]byte(nil), b...)
	default:
		st.throwType("message." + key + " cannot be set (only .text or .bytes; message.drop() drops it)")
	}
	if w.m.Kind == flowstore.MessageText && !utf8.Valid(data) {
		st.throwType("a text message must be valid UTF-8 (the peer would close the connection)")
	}
	st.grow("message", int64(len(data)))
	w.data, w.set = data, true
}
