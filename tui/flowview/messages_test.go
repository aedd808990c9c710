package flowview_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview/body"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/muesli/termenv"
)

var msgBase = time.Date(2026, 1, 2, 16, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return msgBase.Add(time.Duration(ms) * time.Millisecond) }

func text(client bool, ms int, s string) flowstore.Message {
	return flowstore.Message{FromClient: client, Time: at(ms), Kind: flowstore.MessageText, Data: []byte(s), Size: int64(len(s))}
}

// wsFlow is a WebSocket flow after its 101, with a conversation.
func wsFlow() *flowstore.Flow {
	f := flowtest.New(flowtest.URL("https://chat.example.com/socket"), flowtest.Status(101),
		flowtest.ReqHeader("Upgrade", "websocket"), flowtest.RespHeader("Upgrade", "websocket"))
	f.ID = "00000000000000ws"
	f.Messages = []flowstore.Message{
		text(true, 0, `{"op":"subscribe","channel":"trades"}`),
		text(false, 12, `{"op":"subscribed","channel":"trades","snapshot":[{"price":101.5,"qty":3},{"price":101.25,"qty":7}]}`),
		{Time: at(20), Kind: flowstore.MessageBinary, Data: []byte{0x00, 0x01, 0xfe, 0xff, 'h', 'i'}, Size: 6},
		{FromClient: true, Time: at(1000), Kind: flowstore.MessagePing, Size: 0},
		{Time: at(1001), Kind: flowstore.MessagePong, Size: 0},
		{Time: at(1500), Kind: flowstore.MessageText, Data: []byte(strings.Repeat("tick ", 300)), Size: 212, Compressed: true},
		{FromClient: true, Time: at(2000), Kind: flowstore.MessageText, Data: []byte("hello\nworld"), Size: 11, Note: "rewritten by a hook"},
		{FromClient: true, Time: at(3000), Kind: flowstore.MessageClose, CloseCode: 1000, Data: []byte("bye"), Size: 5},
		{Time: at(3001), Kind: flowstore.MessageClose, CloseCode: 1001, Size: 2},
	}
	return f
}

func TestMessageRow(t *testing.T) {
	tests := []struct {
		name string
		msg  flowstore.Message
		cols flowview.MessageCols
		sel  bool
		want string
	}{
		{"text from the client", text(true, 123, `{"op":"subscribe"}`), flowview.MessageCols{Width: 80},
			false, `  → 16:00:00.123 text           18B {"op":"subscribe"}`},
		{"text from the server, selected", text(false, 0, "hi"), flowview.MessageCols{Width: 60},
			true, `> ← 16:00:00.000 text            2B hi`},
		{"long preview cut", text(false, 0, strings.Repeat("abc ", 40)), flowview.MessageCols{Width: 70},
			false, `  ← 16:00:00.000 text          160B abc abc abc abc abc abc abc abc a…`},
		{"newlines shown", text(true, 0, "line one\r\nline two\n"), flowview.MessageCols{Width: 70},
			false, `  → 16:00:00.000 text           19B line one↵line two↵`},
		{"binary as hex", flowstore.Message{Time: at(0), Kind: flowstore.MessageBinary, Data: []byte{0, 1, 0xfe, 0xff}, Size: 4},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 binary          4B 00 01 fe ff`},
		{"binary that is text", flowstore.Message{Time: at(0), Kind: flowstore.MessageBinary, Data: []byte("plain"), Size: 5},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 binary          5B plain`},
		{"long binary", flowstore.Message{Time: at(0), Kind: flowstore.MessageBinary, Data: make([]byte, 100), Size: 100},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 binary        100B 00 00 00 00 00 00 00 00 00 …`},
		{"ping", flowstore.Message{FromClient: true, Time: at(0), Kind: flowstore.MessagePing}, flowview.MessageCols{Width: 64},
			false, `  → 16:00:00.000 ping            0B (empty)`},
		{"close with code and reason", flowstore.Message{FromClient: true, Time: at(0), Kind: flowstore.MessageClose, CloseCode: 1000, Data: []byte("bye"), Size: 5},
			flowview.MessageCols{Width: 64}, false, `  → 16:00:00.000 close 1000      5B bye`},
		{"close without reason", flowstore.Message{Time: at(0), Kind: flowstore.MessageClose, CloseCode: 1001, Size: 2},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 close 1001      2B going away`},
		{"compressed, in the flags column", flowstore.Message{Time: at(0), Kind: flowstore.MessageText, Data: []byte("aaaa"), Size: 3, Compressed: true},
			flowview.MessageCols{Width: 70, Flags: 10}, false, `  ← 16:00:00.000 text            3B compressed aaaa`},
		{"no flag, column kept", text(false, 0, "x"), flowview.MessageCols{Width: 70, Flags: 10},
			false, `  ← 16:00:00.000 text            1B            x`},
		{"event with a name", flowstore.Message{Time: at(0), Kind: flowstore.MessageEvent, Event: "price", ID: "7", Data: []byte(`{"p":1}`), Size: 7},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 price           7B {"p":1}`},
		{"event without a name", flowstore.Message{Time: at(0), Kind: flowstore.MessageEvent, Data: []byte("data"), Size: 4},
			flowview.MessageCols{Width: 64}, false, `  ← 16:00:00.000 message         4B data`},
		{"note first", flowstore.Message{FromClient: true, Time: at(0), Kind: flowstore.MessageText, Data: []byte("x"), Size: 1, Note: "dropped by a hook"},
			flowview.MessageCols{Width: 72}, false, `  → 16:00:00.000 text            1B [dropped by a hook] x`},
		{"narrow: no time", text(true, 0, "hello"), flowview.MessageCols{Width: 40},
			false, `  → text            5B hello`},
		{"control bytes cleaned", text(false, 0, "a\x1b[31mred\x07"), flowview.MessageCols{Width: 64},
			false, `  ← 16:00:00.000 text           10B a\x1b[31mred\x07`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := flowview.MessageRow(&tt.msg, tt.cols, tt.sel, st)
			if strings.TrimRight(got, " ") != tt.want {
				t.Errorf("row\n got %q\nwant %q", got, tt.want)
			}
			if w := ansi.StringWidth(got); w != tt.cols.Width {
				t.Errorf("row is %d wide, want %d", w, tt.cols.Width)
			}
		})
	}
}

// Rows stay exactly as wide as asked, in colour too, whatever the data.
func TestMessageRowWidths(t *testing.T) {
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	for _, msg := range wsFlow().Messages {
		for _, w := range []int{20, 41, 59, 60, 80, 200} {
			for _, flags := range []int{0, 10} {
				cols := flowview.MessageCols{Width: w, Flags: flags}
				for _, sel := range []bool{false, true} {
					if got := ansi.StringWidth(flowview.MessageRow(&msg, cols, sel, st)); got != w {
						t.Errorf("%s at %d (flags %d, selected %v): %d wide", msg.Kind, w, flags, sel, got)
					}
				}
				if got := ansi.StringWidth(flowview.MessageHeader(cols, st)); got != w {
					t.Errorf("header at %d: %d wide", w, got)
				}
			}
		}
	}
}

func TestHasMessages(t *testing.T) {
	sse := flowtest.New(flowtest.RespBody("text/event-stream; charset=utf-8", nil))
	upgrade := flowtest.New(flowtest.ReqHeader("Upgrade", "WebSocket"), flowtest.NoResponse())
	dropped := flowtest.New()
	dropped.MessagesDropped = 3
	for _, tc := range []struct {
		name string
		f    *flowstore.Flow
		want bool
	}{
		{"websocket", wsFlow(), true},
		{"event stream", sse, true},
		{"upgrade asked", upgrade, true},
		{"all dropped", dropped, true},
		{"plain", apiFlow(), false},
	} {
		if got := flowview.HasMessages(tc.f); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func messagesTab(t *testing.T, f *flowstore.Flow, w, h int) flowview.Model {
	t.Helper()
	m := open(t, f, w, h)
	m, _ = press(t, m, "tab", "tab")
	if m.Tab() != flowview.TabMessages {
		t.Fatalf("tab twice = %v", m.Tab())
	}
	return m
}

func TestMessagesTab(t *testing.T) {
	m := messagesTab(t, wsFlow(), 90, 16)
	t.Run("list", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })

	m, _ = press(t, m, "g", "j", "enter")
	t.Run("json message", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	if d := m.Doc(2); d == nil || d.Mode != body.JSON {
		t.Fatalf("message not shown as JSON: %+v", d)
	}
	if h := m.KeyMap().Back.Help().Desc; h != "back to messages" {
		t.Errorf("back help in a message = %q", h)
	}
	if m.KeyMap().OpenMessage.Enabled() {
		t.Error("enter enabled inside a message")
	}

	m, out := press(t, m, "q")
	if len(out) != 0 || m.Tab() != flowview.TabMessages {
		t.Fatalf("q in a message left the view: %v", out)
	}
	if v := m.View(); !strings.Contains(v, `> ← 16:00:00.012 text`) {
		t.Fatalf("back on the list, cursor kept:\n%s", v)
	}
	m, _ = press(t, m, "j", "enter")
	if d := m.Doc(2); d == nil || !d.IsHex() {
		t.Fatalf("binary message not in hex: %+v", d)
	}
	m, _ = press(t, m, "esc", "G", "enter")
	if v := m.View(); !strings.Contains(v, "close #9 from the server") || !strings.Contains(v, "1001 (going away)") {
		t.Fatalf("close message:\n%s", v)
	}
	_, out = press(t, m, "esc", "esc")
	if len(out) != 1 || out[0] != (flowview.BackMsg{}) {
		t.Fatalf("esc on the list = %v", out)
	}
}

func TestMessagesTabOnlyWhenItHasMessages(t *testing.T) {
	m := open(t, apiFlow(), 80, 10)
	m, _ = press(t, m, "tab", "tab")
	if m.Tab() != flowview.TabDetails {
		t.Fatalf("a plain flow went to %v", m.Tab())
	}
	if strings.Contains(m.View(), "Messages") {
		t.Fatalf("Messages tab on a plain flow:\n%s", m.View())
	}
	// Left on the Messages tab, a plain flow opens on the request.
	m = messagesTab(t, wsFlow(), 80, 10)
	m.Close()
	m, _ = run(t, m, m.Open(apiFlow()))
	if m.Tab() != flowview.TabRequest {
		t.Fatalf("plain flow opened on %v", m.Tab())
	}
}

func appended(f *flowstore.Flow, ms ...flowstore.Message) *flowstore.Flow {
	g := f.Clone()
	g.Messages = append(g.Messages[:len(g.Messages):len(g.Messages)], ms...)
	return g
}

func TestMessagesLive(t *testing.T) {
	t.Run("follows the newest at the bottom", func(t *testing.T) {
		f := wsFlow()
		m := messagesTab(t, f, 90, 10)
		for i := range 20 {
			f = appended(f, text(false, 4000+i, fmt.Sprintf("update %d", i)))
			m, _ = run(t, m, m.SetFlow(f))
		}
		v := m.View()
		if !strings.Contains(v, "> ← 16:00:04.019 text") || !strings.Contains(v, "message 29 of 29 · following") {
			t.Fatalf("newest not followed:\n%s", v)
		}
	})
	t.Run("stays put when scrolled up", func(t *testing.T) {
		f := wsFlow()
		m := messagesTab(t, f, 90, 10)
		m, _ = press(t, m, "k", "k")
		before := m.View()
		for i := range 20 {
			f = appended(f, text(false, 4000+i, fmt.Sprintf("update %d", i)))
			m, _ = run(t, m, m.SetFlow(f))
		}
		after := m.View()
		cut := func(s string) string { // all but the tab count and the footer
			ls := strings.Split(s, "\n")
			return strings.Join(ls[1:len(ls)-1], "\n")
		}
		if cut(before) != cut(after) {
			t.Fatalf("list moved while messages came:\n%s\n---\n%s", before, after)
		}
		if !strings.Contains(after, "Messages (29)") || !strings.Contains(after, "message 7 of 29") {
			t.Fatalf("count not updated:\n%s", after)
		}
		m, _ = press(t, m, "G")
		if !strings.Contains(m.View(), "following the newest") {
			t.Fatalf("G does not follow:\n%s", m.View())
		}
	})
	t.Run("selection survives the oldest being dropped", func(t *testing.T) {
		f := wsFlow()
		m := messagesTab(t, f, 90, 10)
		m, _ = press(t, m, "g", "j", "j") // the binary message, number 3
		g := f.Clone()
		g.Messages = g.Messages[2:]
		g.MessagesDropped = 2
		m, _ = run(t, m, m.SetFlow(g))
		v := m.View()
		if !strings.Contains(v, "> ← 16:00:00.020 binary") || !strings.Contains(v, "2 older messages dropped") || !strings.Contains(v, "message 3 of 9") {
			t.Fatalf("selection lost on a drop:\n%s", v)
		}
		g2 := g.Clone()
		g2.Messages = g2.Messages[3:]
		g2.MessagesDropped = 5
		m, _ = run(t, m, m.SetFlow(g2))
		if v := m.View(); !strings.Contains(v, "message 6 of 9") {
			t.Fatalf("cursor not moved to the oldest kept:\n%s", v)
		}
	})
	t.Run("an open message stays while the list moves", func(t *testing.T) {
		f := wsFlow()
		m := messagesTab(t, f, 90, 14)
		m, _ = press(t, m, "g", "enter")
		g := appended(f, text(false, 5000, "later"))
		g.Messages = g.Messages[1:]
		g.MessagesDropped = 1
		m, _ = run(t, m, m.SetFlow(g))
		if v := m.View(); !strings.Contains(v, `"op": "subscribe"`) || !strings.Contains(v, "text message #1 from the client") {
			t.Fatalf("open message changed:\n%s", v)
		}
	})
	t.Run("messages arriving in an empty tab", func(t *testing.T) {
		f := wsFlow()
		f.Messages, f.State = nil, flowstore.StateActive
		m := messagesTab(t, f, 90, 10)
		if v := m.View(); !strings.Contains(v, "no messages yet") || m.KeyMap().OpenMessage.Enabled() {
			t.Fatalf("empty tab:\n%s", v)
		}
		m, _ = run(t, m, m.SetFlow(appended(f, text(false, 0, "first"))))
		if v := m.View(); !strings.Contains(v, "> ← 16:00:00.000 text") || !m.KeyMap().OpenMessage.Enabled() {
			t.Fatalf("first message:\n%s", v)
		}
	})
}

func TestMessageSearchAndModes(t *testing.T) {
	m := messagesTab(t, wsFlow(), 90, 16)
	if m.KeyMap().Search.Enabled() || m.KeyMap().Mode.Enabled() {
		t.Fatal("search and view mode enabled on the list of messages")
	}
	m, _ = press(t, m, "g", "j", "enter")
	if !m.KeyMap().Search.Enabled() || !m.KeyMap().Mode.Enabled() {
		t.Fatal("search and view mode disabled in a message")
	}
	m, _ = run(t, m, m.Search("price"))
	if q, n := m.Query(); q != "price" || n != 2 {
		t.Fatalf("search in a message found %d", n)
	}
	m, _ = press(t, m, "m")
	if m.Mode(2) != body.JSON {
		t.Fatalf("m in a message = %v", m.Mode(2))
	}
}

func TestEventStream(t *testing.T) {
	f := flowtest.New(flowtest.URL("https://feed.example.com/events"), flowtest.RespBody("text/event-stream", nil))
	f.Messages = []flowstore.Message{
		{Time: at(0), Kind: flowstore.MessageEvent, Data: []byte("connected"), Size: 9},
		{Time: at(100), Kind: flowstore.MessageEvent, Event: "price", ID: "41", Data: []byte(`{"symbol":"ACME","price":12.5}`), Size: 30},
	}
	m := messagesTab(t, f, 80, 14)
	m, _ = press(t, m, "enter")
	v := m.View()
	for _, want := range []string{"event #2 from the server", "event    price", "id       41", `"symbol": "ACME"`, "view auto: json"} {
		if !strings.Contains(v, want) {
			t.Errorf("event view lacks %q:\n%s", want, v)
		}
	}
}

// BenchmarkMessagesTab: the Messages tab over 100 000 messages, in true
// colour: a key and a frame; a new message arriving (the oldest dropped)
// and a frame.
func BenchmarkMessagesTab(b *testing.B) {
	const n = 100_000
	all := make([]flowstore.Message, 2*n)
	for i := range all {
		all[i] = text(i%2 == 0, i, fmt.Sprintf(`{"seq":%d,"payload":"some data for message %d","ok":true}`, i, i))
	}
	f := wsFlow()
	f.Messages = all[:n]
	m := flowview.New(keys.Default().FlowView, st)
	m.SetSize(200, 60)
	m.Open(f)
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyTab})
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyTab})
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	b.Run("scroll", func(b *testing.B) {
		keys := []tea.KeyMsg{{Type: tea.KeyPgUp}, {Type: tea.KeyUp}, {Type: tea.KeyPgDown}, {Type: tea.KeyDown}}
		i := 0
		for b.Loop() {
			m, _ = m.Update(keys[i/50%len(keys)])
			_ = m.View()
			i++
		}
	})
	b.Run("append", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i = i%n + 1
			g := f.Clone()
			g.Messages, g.MessagesDropped = all[i:i+n], i
			m.SetFlow(g)
			_ = m.View()
		}
	})
}
