package scripting_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/mitm"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// Interface guards: *Engine implements every phase interface of the
// engine, and its PhaseFilter.
var _ interface {
	mitm.RequestHeadersHook
	mitm.RequestHook
	mitm.ResponseHeadersHook
	mitm.ResponseHook
	mitm.ResponseChunkHook
	mitm.WebSocketMessageHook
	mitm.ErrorHook
	mitm.DoneHook
	mitm.PhaseFilter
} = (*scripting.Engine)(nil)

// The script from the design documents, unchanged.
const designScript = `function request(flow)
  local h = flow.request.headers
  print(h["host"])
  h["X-Trace"] = "abc123"
  flow.request.body.text = flow.request.body.text .. " appended from Lua"
end
function response(flow)
  local h = flow.response.headers
  h["Server"] = "LuaProxy"
  flow.response.body.text = "overwritten response"
end
`

func TestDesignScript(t *testing.T) {
	for _, kind := range []string{"https", "http", "h2 client"} {
		t.Run(kind, func(t *testing.T) {
			plain := kind == "http"
			r := newRig(t, plain, nil, script(t, designScript))
			if kind == "h2 client" {
				// An HTTP/2 request has no Host line; headers["host"] is its
				// :authority all the same.
				r.client = r.env.ClientH2()
			}
			got := r.do("POST", "/design", "hello")
			if got.err != nil || got.status != 200 || got.body != "overwritten response" || got.header.Get("Server") != "LuaProxy" {
				t.Fatalf("client got %+v", got)
			}
			s, _ := r.lastSeen("/design")
			if s.Header.Get("X-Trace") != "abc123" || s.Body != "hello appended from Lua" {
				t.Fatalf("origin got %+v", s)
			}
			host := strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "https://"), "http://")
			f := r.env.WaitFlow(r.url("/design"))
			if kind == "h2 client" && (f.Request.Proto != "HTTP/2.0" || f.Request.Headers.Has("Host")) {
				t.Fatalf("the client's request was %s with headers %q, want HTTP/2 without a Host line", f.Request.Proto, f.Request.Headers)
			}
			en := logged(t, r.env.Log, "[script:hooks.lua] "+host, f.ID)
			if en.Level != flowstore.LevelInfo {
				t.Fatalf("%+v", en)
			}
			if !f.Edited() || f.Response.Headers.Get("Server") != "LuaProxy" {
				t.Fatalf("the flow does not show the edit: %+v", f.Response)
			}
		})
	}
}

// Every phase and API call once through the real proxy.
func TestPhasesEndToEnd(t *testing.T) {
	src := `
function requestheaders(flow)
  flow.request.headers["X-Phase"] = "requestheaders"
  if flow.request.path == "/early" then
    flow:respond(200, {["Content-Type"] = "text/plain"}, "answered in requestheaders")
  end
end
function request(flow)
  local h = flow.request.headers
  h["X-Phase"] = h["X-Phase"] .. ",request"
  if flow.request.path == "/kill" then flow:kill() end
  if flow.request.path == "/reroute" then flow.request.path = "/rerouted"; flow.request.method = "PUT" end
  if flow.request.path == "/pause" then flow:intercept() end
  if flow.request.path == "/gzip" then
    flow.request.body.text = flow.request.body.text:upper()
    flow.request.query = "q=" .. base64.encode(flow.request.body.raw:sub(1, 2))
  end
  flow.ctx.seen = "ctx from request"
end
function responseheaders(flow)
  flow.response.headers["X-Resp"] = "responseheaders"
  flow.marked = true
end
function response(flow)
  flow.response.headers["X-Ctx"] = flow.ctx.seen
  if flow.request.path == "/binary" then
    flow.response.body.raw = flow.response.body.raw:reverse()
  end
  if flow.request.path == "/json" then
    local data = json.decode(flow.response.body.text)
    data.added = "by lua"
    flow.response.body.text = json.encode(data)
  end
  flow.comment = "response ran"
end
on("responsechunk", "~u /stream", function(flow, chunk) return chunk:upper() end)
function error(flow)
  log.warn("error hook:", flow.error)
end
function done(flow)
  log.info("done", flow.request.path, flow.response and flow.response.status or "-", flow.state)
end
`
	r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/gzip":
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			b, _ := io.ReadAll(zr)
			fmt.Fprintf(w, "%s %s %s", req.URL.RawQuery, req.Header.Get("Content-Length"), b)
		case "/binary":
			w.Write([]byte{0, 1, 2, 0xff})
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": 7}`)
		case "/stream":
			fl := w.(http.Flusher)
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "part %d;", i)
				fl.Flush()
			}
		default:
			fmt.Fprintf(w, "origin %s %s", req.Method, req.URL.Path)
		}
	}, script(t, src))

	t.Run("request and response phases", func(t *testing.T) {
		got := r.do("POST", "/plain", "body")
		if got.err != nil || got.header.Get("X-Resp") != "responseheaders" || got.header.Get("X-Ctx") != "ctx from request" || got.body != "origin POST /plain" {
			t.Fatalf("%+v", got)
		}
		if s, _ := r.lastSeen("/plain"); s.Header.Get("X-Phase") != "requestheaders,request" {
			t.Fatalf("origin saw %q", s.Header.Get("X-Phase"))
		}
		f := r.env.WaitFlow(r.url("/plain"))
		if !f.Marked || f.Comment != "response ran" {
			t.Fatalf("marked %v comment %q", f.Marked, f.Comment)
		}
		logged(t, r.env.Log, "done /plain 200 done", f.ID)
	})
	t.Run("respond in requestheaders", func(t *testing.T) {
		got := r.get("/early")
		if got.status != 200 || got.body != "answered in requestheaders" {
			t.Fatalf("%+v", got)
		}
		if _, ok := r.lastSeen("/early"); ok {
			t.Fatal("the origin was contacted")
		}
	})
	t.Run("kill", func(t *testing.T) {
		if got := r.do("POST", "/kill", "x"); got.err == nil {
			t.Fatalf("killed flow answered: %+v", got)
		}
		f := r.env.WaitFlow(r.url("/kill"))
		if f.State != flowstore.StateKilled {
			t.Fatalf("state %v", f.State)
		}
		logged(t, r.env.Log, "error hook:", f.ID)
	})
	t.Run("rewrite the request line", func(t *testing.T) {
		got := r.get("/reroute")
		if got.body != "origin PUT /rerouted" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("rewrite a JSON body", func(t *testing.T) {
		got := r.get("/json")
		if got.body != `{"added":"by lua","id":7}` || got.header.Get("Content-Length") != fmt.Sprint(len(got.body)) {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("gzip request body, query", func(t *testing.T) {
		zipped := gz(t, "make me loud")
		got := r.do("POST", "/gzip", string(zipped), "Content-Encoding", "gzip")
		// The new body is gzip again (the query shows its magic bytes) and
		// its length is what the origin was told.
		if !strings.HasPrefix(got.body, "q=H4s= ") || !strings.HasSuffix(got.body, " MAKE ME LOUD") {
			t.Fatalf("%+v", got)
		}
		s, _ := r.lastSeen("/gzip?q=H4s=")
		if fmt.Sprint(len(s.Body)) != s.Header.Get("Content-Length") && s.Header.Get("Content-Length") != "" {
			t.Fatalf("origin got %d bytes, Content-Length %s", len(s.Body), s.Header.Get("Content-Length"))
		}
	})
	t.Run("binary body", func(t *testing.T) {
		if got := r.get("/binary"); got.body != "\xff\x02\x01\x00" {
			t.Fatalf("%q", got.body)
		}
	})
	t.Run("error phase on an upstream failure", func(t *testing.T) {
		resp, err := r.client.Get("http://127.0.0.1:1/down")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 502 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		f := r.env.WaitFlow("http://127.0.0.1:1/down")
		logged(t, r.env.Log, "error hook: request:", f.ID)
		logged(t, r.env.Log, "done /down - error", f.ID)
	})
	t.Run("responsechunk", func(t *testing.T) {
		got := r.get("/stream")
		if got.body != "PART 0;PART 1;PART 2;" {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("intercept", func(t *testing.T) {
		ch := make(chan reply, 1)
		go func() { ch <- r.get("/pause") }()
		var id string
		waitFor(t, "a paused flow", func() bool {
			for _, f := range r.env.Store.List() {
				if f.State == flowstore.StatePaused && f.Request.Path == "/pause" {
					id = f.ID
					return true
				}
			}
			return false
		})
		if err := r.env.Proxy.Resume(id); err != nil {
			t.Fatal(err)
		}
		if got := <-ch; got.status != 200 || got.body != "origin GET /pause" {
			t.Fatalf("%+v", got)
		}
	})
}

// 100 flows at once, each writing its own value into flow.ctx in request
// (one script) and reading it in response (another): none sees another's.
func TestConcurrentCtx(t *testing.T) {
	w := writeScript(t, "write.lua", `
function request(flow)
  flow.ctx.id = flow.request.headers["X-Id"]
  flow.ctx.trail = {flow.request.headers["X-Id"]}
end`)
	rd := writeScript(t, "read.lua", `
function responseheaders(flow) table.insert(flow.ctx.trail, "rh") end
function response(flow)
  flow.response.headers["X-Ctx-Id"] = flow.ctx.id
  flow.response.headers["X-Trail"] = table.concat(flow.ctx.trail, ",")
end`)
	r := newRig(t, false, func(w http.ResponseWriter, req *http.Request) {
		time.Sleep(time.Millisecond) // keep the flows overlapping
		io.WriteString(w, "ok")
	}, []string{w, rd}, func(o *scripting.Options) {
		// This is about ctx, not timeouts: a hundred flows at once under
		// the race detector on a loaded machine can take a call past 200ms.
		o.Timeout = 10 * time.Second
	})
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("flow-", i)
			got := r.get("/ctx", "X-Id", id)
			if got.err != nil || got.header.Get("X-Ctx-Id") != id || got.header.Get("X-Trail") != id+",rh" {
				errs <- fmt.Sprintf("%s: %v ctx %q trail %q", id, got.err, got.header.Get("X-Ctx-Id"), got.header.Get("X-Trail"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	r.env.WaitFlows(n)
	if t.Failed() {
		for _, en := range r.env.Log.Entries() {
			if en.Level >= flowstore.LevelWarn {
				t.Log(en)
			}
		}
	}
}

// A hook that never ends: its flow completes unmodified within the
// timeout and a margin, other flows keep being served meanwhile, and the
// event log names the script and line.
func TestInfiniteLoopEndToEnd(t *testing.T) {
	r := newRig(t, false, nil, script(t, `
function request(flow)
  flow.request.headers["X-Partial"] = "yes"
  if flow.request.path == "/loop" then
    while true do end
  end
end`))
	const timeout = 200 * time.Millisecond // the default
	var loopDone atomic.Bool
	var loopTook time.Duration
	var loopReply reply
	go func() {
		start := time.Now()
		loopReply = r.get("/loop")
		loopTook = time.Since(start)
		loopDone.Store(true)
	}()
	// Meanwhile, other flows are served.
	served := 0
	for !loopDone.Load() {
		got := r.get("/fast")
		if got.err != nil || got.status != 200 {
			t.Fatalf("a flow failed while another looped: %+v", got)
		}
		served++
	}
	if loopReply.err != nil || loopReply.status != 200 || loopReply.body != "origin says hi" {
		t.Fatalf("the looping flow: %+v", loopReply)
	}
	if margin := 2 * time.Second; loopTook > timeout+margin {
		t.Fatalf("the looping flow took %s", loopTook)
	}
	if served == 0 {
		t.Fatal("no other flow was served while one looped")
	}
	if s, _ := r.lastSeen("/loop"); s.Header.Get("X-Partial") != "" {
		t.Fatal("the timed-out hook's change reached the origin")
	}
	if s, _ := r.lastSeen("/fast"); s.Header.Get("X-Partial") != "yes" {
		t.Fatal("other flows lost the hook")
	}
	f := r.env.WaitFlow(r.url("/loop"))
	logged(t, r.env.Log, "hooks.lua:5: timed out after 200ms", f.ID)
	if len(f.Notes) == 0 || !strings.HasPrefix(f.Notes[0], "request hook: ") || !strings.Contains(f.Notes[0], "hooks.lua:5: timed out after 200ms") {
		t.Fatalf("notes %q", f.Notes)
	}
	t.Logf("looping flow took %s; %d other flows served meanwhile", loopTook, served)
}

// Changing a script while traffic flows: new flows see the new version,
// no flow fails, and a broken edit leaves the last good version running.
func TestReloadWhileTrafficFlows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "live.lua")
	write := func(src string) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	version := func(n int) string {
		return fmt.Sprintf("function response(flow) flow.response.headers[\"X-Version\"] = \"%d\" end\n", n)
	}
	write(version(1))
	r := newRig(t, false, nil, []string{path}, func(o *scripting.Options) { o.PollInterval = 10 * time.Millisecond })
	ctx, cancel := testContext(t)
	go r.eng.Watch(ctx)

	var (
		mu       sync.Mutex
		versions = map[string]int{}
		failures []string
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got := r.get("/live")
				mu.Lock()
				if got.err != nil || got.status != 200 {
					failures = append(failures, fmt.Sprintf("%+v", got))
				}
				versions[got.header.Get("X-Version")]++
				mu.Unlock()
			}
		}()
	}
	latest := func() string {
		got := r.get("/live")
		return got.header.Get("X-Version")
	}
	waitFor(t, "version 1", func() bool { return latest() == "1" })
	write(version(2))
	waitFor(t, "version 2", func() bool { return latest() == "2" })
	logged(t, r.env.Log, "reloaded "+path)
	write("function response(flow)\n  flow.response.headers[\"X-Version\"] = = 3\nend\n")
	logged(t, r.env.Log, path+":2: syntax error", "the previous version keeps running")
	for range 20 {
		if v := latest(); v != "2" {
			t.Fatalf("after a broken edit the version is %q", v)
		}
	}
	write(version(4))
	waitFor(t, "version 4", func() bool { return latest() == "4" })
	stop.Store(true)
	wg.Wait()
	cancel()
	if len(failures) > 0 {
		t.Fatalf("%d flows failed during reloads, first: %s", len(failures), failures[0])
	}
	if versions[""] > 0 || versions["3"] > 0 {
		t.Fatalf("versions seen: %v", versions)
	}
	t.Logf("versions seen under load: %v", versions)
}
