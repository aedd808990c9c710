package scripting_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/interceptor-tui/interceptor-tui/scripting"
)

func example(name string) []string { return []string{filepath.Join("examples", name)} }

func set(kv ...string) func(*scripting.Options) {
	return func(o *scripting.Options) {
		o.Set = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			o.Set[kv[i]] = kv[i+1]
		}
	}
}

// Every example runs end to end through the proxy against a real origin,
// in Lua and in JavaScript, with the same assertions.
func TestExamples(t *testing.T) {
	for _, ext := range []string{".lua", ".js"} {
		t.Run(ext, func(t *testing.T) { testExamples(t, ext) })
	}
}

func testExamples(t *testing.T, ext string) {
	tested := map[string]bool{"redact_stream" + ext: true} // TestResponseChunkRedacts100MiB(JS)
	run := func(name string, fn func(t *testing.T)) {
		tested[name+ext] = true
		t.Run(name, fn)
	}
	run("add_header", func(t *testing.T) {
		r := newRig(t, false, nil, example("add_header"+ext), set("header", "X-Debug", "value", "1"))
		got := r.get("/a")
		if s, _ := r.lastSeen("/a"); s.Header.Get("X-Debug") != "1" || got.header.Get("X-Seen-By-Proxy") != "yes" {
			t.Fatalf("origin %v client %v", s.Header, got.header)
		}
	})

	run("block_hosts", func(t *testing.T) {
		r := newRig(t, false, nil, example("block_hosts"+ext), set("block", "ads.example, tracker.example"))
		for _, u := range []string{"https://ads.example/banner.js", "https://cdn.ads.example/x", "http://tracker.example/p"} {
			resp, err := r.client.Get(u)
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 403 || string(b) != "blocked by interceptor-tui\n" {
				t.Fatalf("%s: %d %q", u, resp.StatusCode, b)
			}
		}
		if got := r.get("/allowed"); got.status != 200 || got.body != "origin says hi" {
			t.Fatalf("a host not on the list: %+v", got)
		}
		logged(t, r.env.Log, "[script:block_hosts"+ext+"] blocked https://ads.example/banner.js")
	})

	run("mock_endpoint", func(t *testing.T) {
		r := newRig(t, false, nil, example("mock_endpoint"+ext))
		got := r.get("/api/user/42")
		var user struct {
			ID    int      `json:"id"`
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
		}
		if err := json.Unmarshal([]byte(got.body), &user); err != nil || got.status != 200 ||
			user.ID != 42 || user.Name != "Mock User 42" || len(user.Roles) != 1 ||
			got.header.Get("Content-Type") != "application/json" || got.header.Get("X-Mock") != "mock_endpoint"+ext {
			t.Fatalf("%+v %v", got, err)
		}
		if _, ok := r.lastSeen("/api/user/42"); ok {
			t.Fatal("the origin saw the mocked request")
		}
		if got := r.get("/api/user/42/photos"); got.body != "origin says hi" {
			t.Fatalf("unmocked path: %+v", got)
		}
	})

	run("rewrite_json", func(t *testing.T) {
		r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, `{"user": "ann", "features": {"beta": false, "dark": true}}`)
			zw.Close()
		}, example("rewrite_json"+ext))
		got := r.get("/config")
		var data map[string]any
		if err := json.Unmarshal([]byte(got.body), &data); err != nil {
			t.Fatalf("%v: %q", err, got.body)
		}
		features, _ := data["features"].(map[string]any)
		if data["user"] != "ann" || data["rewritten_by"] != "rewrite_json"+ext || features["beta"] != true || features["dark"] != true {
			t.Fatalf("%v", data)
		}
	})

	run("strip_cookies", func(t *testing.T) {
		r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Add("Set-Cookie", "session=abc")
			w.Header().Add("Set-Cookie", "theme=dark")
			io.WriteString(w, "ok")
		}, example("strip_cookies"+ext))
		got := r.get("/c", "Cookie", "session=old")
		s, _ := r.lastSeen("/c")
		if s.Header.Get("Cookie") != "" || got.header.Get("Set-Cookie") != "" || got.header.Get("X-Cookies-Stripped") != "2" {
			t.Fatalf("origin cookie %q, client %v", s.Header.Get("Cookie"), got.header)
		}
	})

	run("rate_limit", func(t *testing.T) {
		// A window of years, so the test never straddles two windows.
		r := newRig(t, false, nil, example("rate_limit"+ext), set("limit", "3", "window", "100000000"))
		var codes []string
		for range 5 {
			got := r.get("/limited")
			codes = append(codes, fmt.Sprint(got.status))
			if got.status == 429 && got.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if strings.Join(codes, ",") != "200,200,200,429,429" {
			t.Fatalf("statuses %v", codes)
		}
	})

	run("access_log", func(t *testing.T) {
		r := newRig(t, false, nil, example("access_log"+ext))
		r.get("/logged")
		f := r.env.WaitFlow(r.url("/logged"))
		en := logged(t, r.env.Log, "[script:access_log"+ext+"]", fmt.Sprintf("GET %s 200 %d ", r.url("/logged"), f.BytesOut), "ms", f.ID)
		if !strings.HasPrefix(en.Msg, "127.0.0.1:") {
			t.Fatalf("%q", en.Msg)
		}
	})

	run("capture_token", func(t *testing.T) {
		r := newRig(t, false, nil, example("capture_token"+ext))
		got := r.get("/t", "X-Request-Id", "req-123")
		if got.header.Get("X-Request-Id") != "req-123" || got.header.Get("X-Proxy-Ms") == "" {
			t.Fatalf("%v", got.header)
		}
	})

	run("websocket_redact", func(t *testing.T) {
		got := make(chan string, 10)
		r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
			c, err := websocket.Accept(w, req, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				_, data, err := c.Read(req.Context())
				if err != nil {
					return
				}
				got <- string(data)
				c.Write(req.Context(), websocket.MessageText, []byte(`{"session": {"token": "t-123", "user": "ann"}, "ok": true}`))
			}
		}, example("websocket_redact"+ext), set("keys", "password,token", "drop", "^heartbeat$"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, _ := r.wsDial(ctx, "/socket")
		for _, m := range []string{"heartbeat", `{"user": "ann", "password": "hunter2"}`, "not json, password=x"} {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		var sent map[string]any
		if s := recv(t, got); json.Unmarshal([]byte(s), &sent) != nil || sent["password"] != "***" || sent["user"] != "ann" {
			t.Fatalf("origin received %q", s)
		}
		if s := recv(t, got); s != "not json, password=x" {
			t.Fatalf("origin received %q (the heartbeat should be dropped)", s)
		}
		for range 2 {
			_, s := wsRead(t, ctx, c)
			var back struct {
				Session map[string]string `json:"session"`
				OK      bool              `json:"ok"`
			}
			if json.Unmarshal([]byte(s), &back) != nil || back.Session["token"] != "***" || back.Session["user"] != "ann" || !back.OK {
				t.Fatalf("client received %q", s)
			}
		}
		c.Close(websocket.StatusNormalClosure, "")
		f := r.env.WaitFlow(r.url("/socket"))
		logged(t, r.env.Log, "[script:websocket_redact"+ext+"] "+r.url("/socket")+": 3 values redacted, 1 messages dropped", f.ID)
	})

	entries, err := os.ReadDir("examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) && !tested[e.Name()] {
			t.Errorf("examples/%s has no test", e.Name())
		}
	}
}
