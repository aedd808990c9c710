package tui_test

import (
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui"
)

const wsID = "00000000000000ws"

func wsMsg(client bool, after time.Duration, kind flowstore.MessageKind, data string) flowstore.Message {
	return flowstore.Message{FromClient: client, Time: flowtest.Base.Add(10*time.Second + after), Kind: kind,
		Data: []byte(data), Size: int64(len(data))}
}

// wsStore is the sample flows and, newest, a live WebSocket to a trading
// feed with a few messages each way.
func wsStore() *flowstore.Store {
	ws := flowtest.New(flowtest.URL("wss://feed.example.com/v2/stream"), flowtest.Status(101),
		flowtest.ReqHeader("Upgrade", "websocket"), flowtest.RespHeader("Upgrade", "websocket"),
		flowtest.At(10*time.Second))
	ws.ID, ws.State = wsID, flowstore.StateActive
	ws.Response.Reason = "Switching Protocols"
	ws.Messages = []flowstore.Message{
		wsMsg(true, 0, flowstore.MessageText, `{"op":"subscribe","channels":["trades"]}`),
		wsMsg(false, 40*time.Millisecond, flowstore.MessageText, `{"op":"subscribed","channels":["trades"]}`),
		wsMsg(false, 250*time.Millisecond, flowstore.MessageBinary, "\x00\x02\x9a\xff"),
		wsMsg(true, time.Second, flowstore.MessagePing, ""),
		wsMsg(false, time.Second+3*time.Millisecond, flowstore.MessagePong, ""),
	}
	return newStore(append(sampleFlows(), ws)...)
}

// openMessages opens the WebSocket flow (the newest, at the bottom) on its
// Messages tab.
func openMessages(t *testing.T, h *harness) {
	t.Helper()
	h.waitFor("6 flows")
	h.press("G", "enter")
	h.waitFor("[Request]", "Messages (5)")
	h.press("tab", "tab")
	h.waitFor("[Messages (5)]", `{"op":"subscribe","channels":["trades"]}`, "00 02 9a ff", "message 5 of 5")
}

// trade is the message that arrives while the tab is open.
func trade(h *harness) {
	h.store.Update(wsID, func(f *flowstore.Flow) {
		f.Messages = append(f.Messages, wsMsg(false, 2*time.Second,
			flowstore.MessageText, `{"type":"trade","symbol":"ACME","price":101.75,"qty":3,"side":"buy"}`))
	})
}

func TestMessagesTab(t *testing.T) {
	t.Run("live", func(t *testing.T) {
		h := start(t, 100, 16, tui.Options{Store: wsStore()})
		openMessages(t, h)
		trade(h)
		h.waitFor("[Messages (6)]", `{"type":"trade"`, "message 6 of 6 · following the newest")
		out := h.final()
		if !selectedLine(out, `"type":"trade"`) {
			t.Fatalf("the newest message is not followed:\n%s", out)
		}
		golden.RequireEqual(t, []byte(out))
	})
	t.Run("enter opens json", func(t *testing.T) {
		h := start(t, 100, 20, tui.Options{Store: wsStore()})
		openMessages(t, h)
		trade(h)
		h.waitFor(`{"type":"trade"`)
		h.press("enter")
		h.waitFor("text message #6 from the server", "view auto: json", `"symbol": "ACME"`, "back to messages")
		golden.RequireEqual(t, []byte(h.final()))
	})
	t.Run("back to the list where it was", func(t *testing.T) {
		h := start(t, 100, 16, tui.Options{Store: wsStore()})
		openMessages(t, h)
		h.press("g", "enter")
		h.waitFor("text message #1 from the client", `"op": "subscribe"`)
		h.press("q")
		h.waitFor("message 1 of 5")
		h.press("esc")
		h.waitFor("METHOD")
		if out := h.final(); !selectedLine(out, "feed.example.com") {
			t.Fatalf("not back in the list on the flow:\n%s", out)
		}
	})
}
