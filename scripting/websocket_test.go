package scripting_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// wsFlow is an accepted WebSocket handshake to chat.test (or url).
func wsFlow(url ...string) *flowstore.Flow {
	u := "http://chat.test/ws"
	if len(url) > 0 {
		u = url[0]
	}
	return flowtest.New(flowtest.URL(u), flowtest.ReqHeader("Connection", "Upgrade"),
		flowtest.ReqHeader("Upgrade", "websocket"), flowtest.Status(101), func(f *flowstore.Flow) {
			f.State = flowstore.StateActive
			f.Response.Headers = flowstore.Headers{{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"}}
			f.Response.Body = flowstore.Body{}
		})
}

var msgTime = time.Unix(1767366245, 500_000_000)

func wsMsg(fromClient bool, kind flowstore.MessageKind, data string) *flowstore.Message {
	return &flowstore.Message{FromClient: fromClient, Time: msgTime, Kind: kind, Data: []byte(data), Size: int64(len(data))}
}

// TestWebSocketMessageAPI drives websocket_message hooks directly, as the
// engine calls them: the Lua side asserts what it reads, the Go side
// checks the message, the drop and the error.
func TestWebSocketMessageAPI(t *testing.T) {
	tests := []struct {
		name   string
		script string
		flow   *flowstore.Flow
		msg    *flowstore.Message
		want   string // the message's data afterwards
		drop   bool
		err    string // in the returned error; "" for none
		logged string // in the event log
		pool1  bool   // one Lua state, so globals carry over between calls
		calls  int    // call this many times (default 1)
		unseen string // not in the event log
	}{
		{
			name: "fields, a text rewrite, the flow read-only",
			script: `function websocket_message(flow, message)
  assert(flow.phase == "websocket_message" and flow.request.host == "chat.test" and flow.response.status == 101)
  assert(message.kind == "text" and message.from_client == true and message.size == 6, message.kind)
  assert(message.text == "fields" and message.data == "fields" and #message == 6 and tostring(message) == "fields")
  assert(math.abs(message.time - 1767366245.5) < 1e-6, message.time)
  local ok, err = pcall(function() flow.marked = true end)
  assert(not ok and err:find("cannot be changed in the websocket_message phase"), err)
  ok, err = pcall(function() flow:kill() end)
  assert(not ok and err:find("cannot be used in the websocket_message phase"), err)
  ok, err = pcall(function() message.kind = "binary" end)
  assert(not ok and err:find("message.kind cannot be set"), err)
  ok, err = pcall(function() message.text = nil end)
  assert(not ok and err:find("must be set to a string"), err)
  message.text = message.text .. " ok"
  assert(message.data == "fields ok" and #message == 9)
end`,
			msg:  wsMsg(true, flowstore.MessageText, "fields"),
			want: "fields ok",
		},
		{
			name: "the example in LUA.md",
			script: `on("websocket_message", "~websocket & ~d chat.example", function(flow, message)
  if message.kind == "text" and message.text == "ping" then
    message:drop()
  elseif message.from_client then
    message.text = message.text:gsub("secret", "******")
  end
end)`,
			flow: wsFlow("http://chat.example/socket"),
			msg:  wsMsg(true, flowstore.MessageText, "a secret, another secret"),
			want: "a ******, another ******",
		},
		{
			name: "binary data, server to client",
			script: `function websocket_message(flow, message)
  assert(message.kind == "binary" and message.from_client == false)
  message.data = message.data:reverse() .. "\255"
end`,
			msg:  wsMsg(false, flowstore.MessageBinary, "\x00\x01\x02"),
			want: "\x02\x01\x00\xff",
		},
		{
			name:   "a text message must stay UTF-8",
			script: `function websocket_message(flow, message) message.text = "\255" end`,
			msg:    wsMsg(true, flowstore.MessageText, "abc"),
			want:   "abc",
			err:    "test.lua:1: a text message must be valid UTF-8",
		},
		{
			name: "hooks chain in order, with filters and options",
			script: `function websocket_message(flow, message) message.text = message.text .. "|global" end
on("websocket_message", "~d chat.test", function(flow, message, o) message.text = message.text .. "|" .. o.tag end, {tag = "chat"})
on("websocket_message", "~d other.test", function(flow, message) message.text = "other" end)
on("websocket_message", nil, function(flow, message) message.text = message.text .. "|all" end)`,
			msg:  wsMsg(true, flowstore.MessageText, "m"),
			want: "m|global|chat|all",
		},
		{
			name: "drop ends the chain",
			script: `on("websocket_message", function(flow, message) message:drop() end)
on("websocket_message", function(flow, message) log.info("second hook ran") end)`,
			msg:    wsMsg(true, flowstore.MessageText, "bye"),
			want:   "bye",
			drop:   true,
			unseen: "second hook ran",
		},
		{
			name:   "an error leaves the message as it was",
			script: "function websocket_message(flow, message)\n  message.text = 'partial'\n  message:drop()\n  error('boom')\nend",
			msg:    wsMsg(false, flowstore.MessageText, "as sent"),
			want:   "as sent",
			err:    "test.lua:4: boom",
		},
		{
			name: "an error after another hook's change: the change stays, the error is logged",
			script: `on("websocket_message", function(flow, message) message.text = "changed" end)
on("websocket_message", function(flow, message) error("second fails") end)`,
			msg:    wsMsg(true, flowstore.MessageText, "orig"),
			want:   "changed",
			logged: "websocket_message hook: ",
		},
		{
			name: "a drop after another hook's error",
			script: `on("websocket_message", function(flow, message) error("first fails") end)
on("websocket_message", function(flow, message) message:drop() end)`,
			msg:    wsMsg(true, flowstore.MessageText, "orig"),
			want:   "orig",
			drop:   true,
			logged: "first fails",
		},
		{
			name:   "a return value is an error, not a drop",
			script: `function websocket_message(flow, message) return false end`,
			msg:    wsMsg(true, flowstore.MessageText, "kept"),
			want:   "kept",
			err:    "test.lua:1: websocket_message returns nothing, not a boolean: assign message.text to change the message, call message:drop() to drop it",
		},
		{
			name: "a timeout leaves the message as it was",
			script: `on("websocket_message", function(flow, message)
  message.text = "partial"
  while true do end
end, {timeout_ms = 30})`,
			msg:  wsMsg(true, flowstore.MessageText, "slow"),
			want: "slow",
			err:  "timed out after 30ms",
		},
		{
			name: "a message kept past its hook fails loudly",
			script: `function websocket_message(flow, message)
  if kept then
    local ok, err = pcall(function() return kept.text end)
    assert(not ok and err:find("used after its hook returned"), err)
    message.text = "checked"
  end
  kept = message
end`,
			msg:   wsMsg(true, flowstore.MessageText, "m"),
			want:  "checked",
			pool1: true,
			calls: 2,
		},
		{
			name: "flow.ctx lasts across the messages of a connection",
			script: `function websocket_message(flow, message)
  flow.ctx.n = (flow.ctx.n or 0) + 1
  message.text = message.text .. flow.ctx.n
end`,
			msg:   wsMsg(true, flowstore.MessageText, "n"),
			want:  "n123",
			calls: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*scripting.Options)
			if tc.pool1 {
				opts = append(opts, func(o *scripting.Options) { o.PoolSize = 1 })
			}
			e, log := engine(t, tc.script, opts...)
			f := tc.flow
			if f == nil {
				f = wsFlow()
			}
			if !e.Wants(flowstore.PhaseWebSocketMessage, f) {
				t.Fatal("Wants(websocket_message) = false")
			}
			m := tc.msg
			calls := max(tc.calls, 1)
			var drop bool
			var err error
			for range calls {
				before := *f
				drop, err = e.WebSocketMessage(bg, f, m)
				if f.Marked != before.Marked || len(f.Notes) != len(before.Notes) {
					t.Fatal("the hook changed the read-only flow")
				}
			}
			if string(m.Data) != tc.want || drop != tc.drop {
				t.Errorf("message %q drop %v; want %q drop %v", m.Data, drop, tc.want, tc.drop)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want %q", err, tc.err)
			}
			if tc.logged != "" {
				logged(t, log, "[script:test.lua]", tc.logged, f.ID)
			}
			if tc.unseen != "" {
				for _, en := range log.Entries() {
					if strings.Contains(en.Msg, tc.unseen) {
						t.Errorf("logged %q", en.Msg)
					}
				}
			}
		})
	}
}

// Wants says yes to websocket_message only for a script that has such a
// hook whose filter matches. At the handshake, before the response, a
// filter is tried on the handshake as the server would accept it, so
// "~websocket" keeps compression off the connections it will rewrite.
func TestWantsWebSocketMessage(t *testing.T) {
	handshake := func(url string) *flowstore.Flow {
		f := wsFlow(url)
		f.Response = nil
		return f
	}
	refused := wsFlow()
	refused.Response.Status = 403
	for _, tc := range []struct {
		name, script string
		f            *flowstore.Flow
		want         bool
	}{
		{"no hook", `function request(flow) end`, wsFlow(), false},
		{"global hook", `function websocket_message(flow, message) end`, wsFlow(), true},
		{"global hook, at the handshake", `function websocket_message(flow, message) end`, handshake("http://chat.test/ws"), true},
		{"on() with a matching filter", `on("websocket_message", "~d chat.test", function() end)`, wsFlow(), true},
		{"on() with another host", `on("websocket_message", "~d other.test", function() end)`, wsFlow(), false},
		{"~websocket, accepted", `on("websocket_message", "~websocket", function() end)`, wsFlow(), true},
		{"~websocket, at the handshake", `on("websocket_message", "~websocket & ~d chat.test", function() end)`, handshake("http://chat.test/ws"), true},
		{"~websocket, another host at the handshake", `on("websocket_message", "~websocket & ~d chat.test", function() end)`, handshake("http://other.test/ws"), false},
		{"~websocket, refused", `on("websocket_message", "~websocket", function() end)`, refused, false},
		{"a response-phase hook only", `on("response", "~websocket", function() end)`, wsFlow(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine(t, tc.script)
			if got := e.Wants(flowstore.PhaseWebSocketMessage, tc.f); got != tc.want {
				t.Fatalf("Wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// wsOrigin accepts a WebSocket, passes each message it receives to got and
// answers it with "server secret: " and the message, in the same type.
func wsOrigin(got chan<- string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionContextTakeover, CompressionThreshold: 1})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			got <- string(data)
			if err := c.Write(r.Context(), typ, append([]byte("server secret: "), data...)); err != nil {
				return
			}
		}
	}
}

// wsDial connects to the rig's origin through the proxy, offering
// compression with context takeover.
func (r *rig) wsDial(ctx context.Context, path string) (*websocket.Conn, *http.Response) {
	r.t.Helper()
	u := "wss" + strings.TrimPrefix(r.srv.URL, "https") + path
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: r.client,
		CompressionMode: websocket.CompressionContextTakeover, CompressionThreshold: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

func wsRead(t *testing.T, ctx context.Context, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	return typ, string(data)
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the origin received nothing in 10s")
		return ""
	}
}

// The acceptance test of Lua WebSocket hooks: a hook rewrites a text
// message and the peer receives the rewritten one, both ways; a dropped
// message never arrives; binary messages the hook leaves alone pass as
// they were; the flow records what happened.
func TestWebSocketHookRewritesBothWaysEndToEnd(t *testing.T) {
	got := make(chan string, 10)
	r := newRig(t, false, wsOrigin(got), script(t, `
on("websocket_message", "~websocket", function(flow, message)
  if message.kind ~= "text" then return end
  if message.text == "drop me" then
    message:drop()
    return
  end
  local side = message.from_client and "[client->server]" or "[server->client]"
  message.text = message.text:gsub("secret", side)
end)`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp := r.wsDial(ctx, "/chat")
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("compression negotiated (%q) although a Lua hook rewrites the messages", ext)
	}

	if err := c.Write(ctx, websocket.MessageText, []byte("drop me")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("my secret")); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != "my [client->server]" {
		t.Fatalf("origin received %q", s)
	}
	if typ, s := wsRead(t, ctx, c); typ != websocket.MessageText || s != "server [server->client]: my [client->server]" {
		t.Fatalf("client received %v %q", typ, s)
	}
	bin := "secret\x00\xff"
	if err := c.Write(ctx, websocket.MessageBinary, []byte(bin)); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != bin {
		t.Fatalf("origin received %q", s)
	}
	if typ, s := wsRead(t, ctx, c); typ != websocket.MessageBinary || s != "server secret: "+bin {
		t.Fatalf("client received %v %q", typ, s)
	}
	select {
	case s := <-got:
		t.Fatalf("the origin received %q, the dropped message?", s)
	default:
	}
	c.Close(websocket.StatusNormalClosure, "")

	f := r.env.WaitFlow(r.url("/chat"))
	var seen []string
	for _, m := range f.Messages {
		if m.Kind == flowstore.MessageText || m.Kind == flowstore.MessageBinary {
			seen = append(seen, m.Note+":"+string(m.Data))
		}
	}
	want := []string{
		"dropped by a hook:drop me",
		"rewritten by a hook:my [client->server]",
		"rewritten by a hook:server [server->client]: my [client->server]",
		":" + bin,
		":server secret: " + bin,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("flow messages:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

// A hook that fails lets the message through as it was; the error, with
// the script's line, goes onto the flow and into the event log.
func TestWebSocketHookErrorPassesMessageEndToEnd(t *testing.T) {
	got := make(chan string, 10)
	r := newRig(t, false, wsOrigin(got), script(t, `
function websocket_message(flow, message)
  message.text = "changed"
  error("hook fails on purpose")
end`))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _ := r.wsDial(ctx, "/fail")
	if err := c.Write(ctx, websocket.MessageText, []byte("as sent")); err != nil {
		t.Fatal(err)
	}
	if s := recv(t, got); s != "as sent" {
		t.Fatalf("origin received %q", s)
	}
	if _, s := wsRead(t, ctx, c); s != "server secret: as sent" {
		t.Fatalf("client received %q", s)
	}
	var f *flowstore.Flow
	waitFor(t, "the error on the flow", func() bool {
		for _, g := range r.env.Store.List() {
			if g.Request.Path == "/fail" && len(g.Notes) >= 2 {
				f = g
				return true
			}
		}
		return false
	})
	if !strings.Contains(f.Notes[0], "websocket_message hook: ") || !strings.Contains(f.Notes[0], "hooks.lua:4: hook fails on purpose") {
		t.Fatalf("notes %q", f.Notes)
	}
	logged(t, r.env.Log, "hooks.lua:4: hook fails on purpose", f.ID)
}

// Without a websocket_message hook that wants the flow, the proxy leaves
// the connection as the peers negotiate it (compressed here).
func TestNoWebSocketHookKeepsCompression(t *testing.T) {
	for name, src := range map[string]string{
		"no websocket hook":       `function request(flow) end`,
		"a hook for another host": `on("websocket_message", "~d other.test", function(flow, message) message:drop() end)`,
	} {
		t.Run(name, func(t *testing.T) {
			got := make(chan string, 10)
			r := newRig(t, false, wsOrigin(got), script(t, src))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, resp := r.wsDial(ctx, "/kept")
			if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Errorf("extensions %q: compression was taken out", ext)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte("plain secret")); err != nil {
				t.Fatal(err)
			}
			if s := recv(t, got); s != "plain secret" {
				t.Fatalf("origin received %q", s)
			}
			if _, s := wsRead(t, ctx, c); s != "server secret: plain secret" {
				t.Fatalf("client received %q", s)
			}
		})
	}
}
