package mitm_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

// wsEcho echoes each message back prefixed with "echo:", then closes with
// a code and reason when told "bye".
func wsEcho(mode websocket.CompressionMode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if string(data) == "bye" {
				c.Close(websocket.StatusGoingAway, "see you")
				return
			}
			if err := c.Write(ctx, typ, append([]byte("echo:"), data...)); err != nil {
				return
			}
		}
	})
}

func TestWebSocketMessagesCaptured(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode websocket.CompressionMode
	}{
		{"plain", websocket.CompressionDisabled},
		{"compressed, context takeover", websocket.CompressionContextTakeover},
		{"compressed, no context takeover", websocket.CompressionNoContextTakeover},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(wsEcho(tc.mode))
			defer srv.Close()
			env := mitmtest.Start(t, trustOrigin(srv))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			u := "wss" + strings.TrimPrefix(srv.URL, "https") + "/ws"
			c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: env.Client(), CompressionMode: tc.mode, CompressionThreshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			big := strings.Repeat("compressible text ", 200)
			binMsg := []byte{0, 1, 2, 255, 254}
			send := func(typ websocket.MessageType, parts ...[]byte) {
				w, err := c.Writer(ctx, typ)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range parts { // each Write becomes a frame: a fragmented message
					w.Write(p)
				}
				w.Close()
			}
			expect := func(want string) {
				_, got, err := c.Read(ctx)
				if err != nil || string(got) != want {
					t.Fatalf("client read %q, %v; want %q", got, err, want)
				}
			}
			send(websocket.MessageText, []byte("hello"))
			expect("echo:hello")
			send(websocket.MessageBinary, binMsg)
			expect("echo:" + string(binMsg))
			send(websocket.MessageText, []byte("frag"), []byte("mented-"), []byte("message"))
			expect("echo:fragmented-message")
			send(websocket.MessageText, []byte(big))
			expect("echo:" + big)
			send(websocket.MessageText, []byte("hello")) // again: the window carries over
			expect("echo:hello")
			send(websocket.MessageText, []byte("bye"))
			if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("close: %v", err)
			}

			f := env.WaitFlow(srv.URL + "/ws")
			type seen struct {
				client bool
				kind   flowstore.MessageKind
				data   string
			}
			want := []seen{
				{true, "text", "hello"}, {false, "text", "echo:hello"},
				{true, "binary", string(binMsg)}, {false, "binary", "echo:" + string(binMsg)},
				{true, "text", "fragmented-message"}, {false, "text", "echo:fragmented-message"},
				{true, "text", big}, {false, "text", "echo:" + big},
				{true, "text", "hello"}, {false, "text", "echo:hello"},
				{true, "text", "bye"}, {false, "close", "see you"},
			}
			var got []seen
			for _, m := range f.Messages {
				if m.Kind == flowstore.MessageClose && m.FromClient {
					continue // the client's answering close
				}
				got = append(got, seen{m.FromClient, m.Kind, string(m.Data)})
				if m.Note != "" {
					t.Errorf("message %q: %s", m.Data, m.Note)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("messages\n got %v\nwant %v", got, want)
			}
			for _, m := range f.Messages {
				if m.Kind == flowstore.MessageClose && !m.FromClient && m.CloseCode != int(websocket.StatusGoingAway) {
					t.Fatalf("close code %d", m.CloseCode)
				}
			}
			if tc.mode != websocket.CompressionDisabled {
				compressed := false
				for _, m := range f.Messages {
					compressed = compressed || m.Compressed
				}
				if !compressed {
					t.Fatal("no message was recorded as compressed")
				}
			}
		})
	}
}

// redactHook rewrites "secret" in text messages and drops "drop me".
var redactHook = mitm.WebSocketMessageFunc(func(_ context.Context, _ *flowstore.Flow, m *flowstore.Message) (bool, error) {
	if string(m.Data) == "drop me" {
		return true, nil
	}
	m.Data = bytes.ReplaceAll(m.Data, []byte("secret"), []byte("[redacted]"))
	return false, nil
})

func TestWebSocketHookRewritesAndDrops(t *testing.T) {
	received := make(chan string, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionContextTakeover})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			received <- string(data)
			c.Write(r.Context(), websocket.MessageText, []byte("server secret too"))
		}
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	if err := env.Proxy.AddHook(redactHook); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/hook", &websocket.DialOptions{HTTPClient: env.Client(), CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Errorf("compression negotiated (%q) although a hook may rewrite messages", ext)
	}
	c.Write(ctx, websocket.MessageText, []byte("drop me"))
	c.Write(ctx, websocket.MessageText, []byte("my secret"))
	if got := <-received; got != "my [redacted]" {
		t.Fatalf("server received %q", got)
	}
	_, back, err := c.Read(ctx)
	if err != nil || string(back) != "server [redacted] too" {
		t.Fatalf("client received %q %v", back, err)
	}
	select {
	case extra := <-received:
		t.Fatalf("the dropped message arrived: %q", extra)
	default:
	}
}

func TestServerSentEventsArriveAsTheyCome(t *testing.T) {
	sent := make(chan time.Time, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "id: %d\nevent: tick\ndata: tick %d\ndata: second line\n\n", i, i)
			w.(http.Flusher).Flush()
			sent <- time.Now()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer srv.Close()
	env := mitmtest.Start(t, trustOrigin(srv))
	resp, err := env.Client().Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var pending string
	for i := 0; i < 5; i++ {
		for !strings.Contains(pending, "\n\n") {
			n, err := resp.Body.Read(buf)
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			pending += string(buf[:n])
		}
		got := time.Now()
		at := <-sent
		if lag := got.Sub(at); lag > 300*time.Millisecond { // a buffered stream would hold it for 500ms
			t.Errorf("event %d reached the client %v after the origin sent it", i, lag)
		}
		pending = pending[strings.Index(pending, "\n\n")+2:]
		// The flow shows the event as it comes, not when the stream ends.
		var msgs []flowstore.Message
		if !mitmtest.Within(time.Second, func() bool {
			for _, f := range env.Store.List() {
				msgs = f.Messages
			}
			return len(msgs) > i
		}) {
			t.Fatalf("event %d not on the flow while the stream is open", i)
		}
		if m := msgs[i]; m.Kind != flowstore.MessageEvent || m.Event != "tick" || m.ID != fmt.Sprint(i) || string(m.Data) != fmt.Sprintf("tick %d\nsecond line", i) {
			t.Fatalf("event %d recorded as %+v", i, m)
		}
	}
}
