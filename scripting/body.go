package scripting

// Bodies in Lua: .text decoded as the content encoding says, .bytes as
// sent, .json; setting one re-encodes it.

import (
	"strconv"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	lua "github.com/yuin/gopher-lua"
)

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
