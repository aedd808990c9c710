package scripting

import (
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// wsMessage is the message a websocket_message call works on: a copy of
// the message as the hook received it (read-only; a state abandoned in a
// builtin may still read it), and what the hook decided, which reaches the
// engine's message only when the call succeeds.
type wsMessage struct {
	m    flowstore.Message
	data lua.LString // the payload as Lua sees it; valid once read or set
	read bool
	set  bool // data was assigned
	drop bool // message:drop() was called
}

func (st *state) installMessageAPI() {
	L := st.L
	t := L.NewTable()
	t.RawSetString("__index", L.NewFunction(st.messageIndex))
	t.RawSetString("__newindex", L.NewFunction(st.messageNewIndex))
	t.RawSetString("__len", L.NewFunction(st.messageLen))
	t.RawSetString("__tostring", L.NewFunction(st.messageString))
	t.RawSetString("__metatable", lua.LFalse)
	st.mt.message = t
	st.methods.mDrop = L.NewFunction(st.messageDrop)
}

// message checks argument i is the live message of a websocket_message call.
func (st *state) message(L *lua.LState, i int) *wsMessage {
	r := st.ref(L, i)
	if r.kind != refMessage || r.c.msg == nil {
		L.ArgError(i, "message expected")
	}
	return r.c.msg
}

func (st *state) payload(L *lua.LState, w *wsMessage) lua.LString {
	if !w.read && !w.set {
		st.grow(L, "message.text", int64(len(w.m.Data)))
		w.data, w.read = lua.LString(w.m.Data), true
	}
	return w.data
}

func (st *state) messageIndex(L *lua.LState) int {
	w := st.message(L, 1)
	var v lua.LValue = lua.LNil
	switch L.ToString(2) {
	case "data", "text":
		v = st.payload(L, w)
	case "from_client":
		v = lua.LBool(w.m.FromClient)
	case "kind":
		v = lua.LString(w.m.Kind)
	case "size":
		v = lua.LNumber(w.m.Size)
	case "time":
		if !w.m.Time.IsZero() {
			v = lua.LNumber(float64(w.m.Time.UnixMicro()) / 1e6)
		}
	case "drop":
		v = st.methods.mDrop
	}
	L.Push(v)
	return 1
}

func (st *state) messageNewIndex(L *lua.LState) int {
	w := st.message(L, 1)
	switch key := L.CheckString(2); key {
	case "data", "text":
		var s lua.LString
		switch x := L.Get(3).(type) {
		case lua.LString:
			s = x
		case lua.LNumber:
			s = lua.LString(x.String())
		default:
			L.RaiseError("message.%s must be set to a string, got %s", key, L.Get(3).Type().String())
		}
		if w.m.Kind == flowstore.MessageText && !utf8.ValidString(string(s)) {
			L.RaiseError("a text message must be valid UTF-8 (the peer would close the connection)")
		}
		w.data, w.set = s, true
	default:
		L.RaiseError("message.%s cannot be set (only .text or .data; message:drop() drops it)", key)
	}
	return 0
}

// messageDrop is message:drop(): the message is not sent on, and the
// later websocket_message hooks do not see it.
func (st *state) messageDrop(L *lua.LState) int {
	st.message(L, 1).drop = true
	return 0
}

func (st *state) messageLen(L *lua.LState) int {
	w := st.message(L, 1)
	n := len(w.m.Data)
	if w.set {
		n = len(w.data)
	}
	L.Push(lua.LNumber(n))
	return 1
}

func (st *state) messageString(L *lua.LState) int {
	L.Push(st.payload(L, st.message(L, 1)))
	return 1
}
