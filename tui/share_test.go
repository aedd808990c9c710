package tui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
	"github.com/interceptor-tui/interceptor-tui/tui"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
)

// id is the ID of the nth sample flow.
func id(n int) string { return fmt.Sprintf("%016x", n) }

func TestReplaySingleAndMarked(t *testing.T) {
	h := start(t, 140, 14, tui.Options{})
	h.waitFor("5 flows")
	h.press("j", "r")
	h.waitFor("replaying POST https://api.example.com/v1/login as a new flow", "6 flows", "↻")
	if rs := h.eng.Replays(); len(rs) != 1 || rs[0].ReplayOf != id(2) {
		t.Fatalf("replays: %+v", rs)
	}
	// With flows marked, r replays all of them, in the order they came.
	h.press("G", "m", "g", "m", "r") // the replay (last), then the first flow
	h.waitFor("replaying 2 marked flow(s) in order")
	rs := h.eng.Replays()
	if len(rs) != 3 || rs[1].ReplayOf != id(1) || rs[2].ReplayOf != rs[0].ID {
		t.Fatalf("marked replays: %s", h.eng.Calls())
	}
	h.final()
}

// D duplicates a flow as a draft and opens it in a real $EDITOR at once,
// r sends it, again and again; the draft keeps its edits, and e edits it
// again.
func TestDuplicateEditAndSend(t *testing.T) {
	useEditor(t, `sed -i -e 's#/v1/login#/v1/login?debug=1#' -e 's/secret/hunter2/' "$1"`)
	h := start(t, 140, 14, tui.Options{})
	h.waitFor("5 flows")
	h.press("j", "D")
	h.waitFor("NEW", "6 flows", "request edited: r sends it")
	var draft *flowstore.Flow
	for _, f := range h.store.List() {
		if f.State == flowstore.StateDraft {
			draft = f
		}
	}
	if draft == nil || draft.Request.URL() != "https://api.example.com/v1/login?debug=1" || draft.Response != nil || draft.Original == nil {
		t.Fatalf("draft: %+v", draft)
	}
	h.press("r")
	h.waitFor("replaying POST https://api.example.com/v1/login?debug=1")
	h.press("r")
	h.waitFor("8 flows")
	rs := h.eng.Replays()
	if len(rs) != 2 {
		t.Fatalf("sends: %s", h.eng.Calls())
	}
	for _, r := range rs {
		if r.ReplayOf != draft.ID || r.Request.URL() != "https://api.example.com/v1/login?debug=1" ||
			string(r.Request.Body.Data) != `{"user":"ada","password":"hunter2"}` {
			t.Errorf("sent %s %q (replay of %s)", r.Request.URL(), r.Request.Body.Data, r.ReplayOf)
		}
	}
	if d := h.flow(draft.ID); d.State != flowstore.StateDraft || d.Request.Query() != "debug=1" {
		t.Errorf("the draft did not keep its edits: %v %s", d.State, d.Request.URL())
	}
	h.final()
}

// editedResponse is a finished flow whose response was edited at a breakpoint.
func editedResponse(path string) *flowstore.Flow {
	f := flowtest.New(flowtest.URL("https://api.example.com"+path), flowtest.RespBody("application/json", []byte(`{"ok":true}`)), flowtest.At(6*time.Second))
	f.KeepOriginal()
	f.Response = f.Response.Clone()
	f.Response.Status, f.Response.Reason = 503, "Service Unavailable"
	f.Response.Body = flowstore.NewBody([]byte(`{"ok":false}`))
	return f
}

func TestKeepEditedResponseAsMock(t *testing.T) {
	a, b := editedResponse("/v1/flags"), editedResponse("/v1/other")
	h := start(t, 140, 16, tui.Options{Store: newStore(append(sampleFlows(), a, b)...)})
	h.waitFor("7 flows")
	h.press("K") // the first flow was never edited
	h.waitFor("K keeps an edited response")
	h.press("j", "j", "j", "j", "j", "K")
	h.waitFor("Answer every GET https://api.example.com/v1/flags with this 503 response from now on? y yes · f match a filter instead")
	h.press("y")
	h.waitFor("standing mock: GET https://api.example.com/v1/flags answered with 503 from now on", "◆ 1 mock")
	ms := h.eng.Mocks()
	if len(ms) != 1 || ms[0].FlowID != a.ID || ms[0].Method != "GET" || ms[0].URL != "https://api.example.com/v1/flags" || ms[0].Response.Status != 503 {
		t.Fatalf("mocks: %+v", ms)
	}
	if f := h.flow(a.ID); f.Mock == nil || f.Mock.Filter != "" {
		t.Fatalf("the flow does not carry the mock: %+v", f.Mock)
	}
	// Or by a filter the user confirms.
	h.press("j", "K", "f")
	h.waitFor("mock filter: ~m GET & ~d api.example.com & ~u /v1/other")
	h.press("enter")
	h.waitFor("◆ 2 mocks")
	if ms := h.eng.Mocks(); len(ms) != 2 || ms[1].Filter != "~m GET & ~d api.example.com & ~u /v1/other" {
		t.Fatalf("mocks: %+v", ms)
	}
	// Both in the breakpoint list, where they can be disabled and removed.
	h.eng.mu.Lock()
	h.eng.mocks[0].Hits = 3
	h.eng.mu.Unlock()
	h.press("I")
	h.waitFor("Standing mocks (2)", "3  503 12B       GET https://api.example.com/v1/flags", "filter ~m GET & ~d api.example.com")
	h.press("t")
	h.waitFor("standing mock off: GET https://api.example.com/v1/flags")
	if ms := h.eng.Mocks(); !ms[0].Disabled || !h.flow(a.ID).Mock.Disabled {
		t.Fatalf("toggle: engine %+v, flow %+v", ms[0], h.flow(a.ID).Mock)
	}
	h.press("j", "d")
	h.waitFor("standing mock removed")
	if ms := h.eng.Mocks(); len(ms) != 1 || h.flow(b.ID).Mock != nil {
		t.Fatalf("remove: %+v", ms)
	}
	h.final()
}

// safeBuffer is a terminal standing in for the program's output.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCopy(t *testing.T) {
	fs := sampleFlows()
	t.Run("choices", func(t *testing.T) {
		c := &fakeClip{res: clip.Result{Via: []string{clip.ViaOSC52}}}
		h := start(t, 140, 12, tui.Options{Clipboard: c})
		h.waitFor("5 flows")
		h.press("j", "y")
		h.waitFor("copy: u URL · c curl · h httpie · r raw request · s raw response · b response body · a HAR · esc cancel")
		h.press("c")
		h.waitFor("sent curl", "to the terminal's clipboard with OSC 52", "if it did not, x writes a file")
		for _, k := range []string{"u URL", "h httpie", "r raw request", "s raw response", "b response body", "a HAR"} {
			h.press("y", k[:1])
			h.waitFor("sent " + k[2:])
		}
		got := c.Copied()
		req := fs[1].Request
		want := []string{export.Curl(req), req.URL(), export.HTTPie(req), string(export.RawRequest(req)),
			string(export.RawResponse(fs[1].Response)), "hello"}
		if len(got) != 7 {
			t.Fatalf("copied %d times: %q", len(got), got)
		}
		for i, w := range want {
			if got[i] != w {
				t.Errorf("copy %d = %q, want %q", i, got[i], w)
			}
		}
		if !strings.Contains(got[6], `"url": "https://api.example.com/v1/login"`) || !strings.HasPrefix(got[6], "{") {
			t.Errorf("HAR entry: %s", got[6])
		}
		h.final()
	})
	t.Run("OSC 52 bytes", func(t *testing.T) {
		var term safeBuffer
		h := start(t, 140, 12, tui.Options{Clipboard: &clip.System{Out: &term}})
		h.waitFor("5 flows")
		h.press("y", "u")
		h.waitFor("sent URL (39B) to the terminal's clipboard with OSC 52")
		if got, want := term.String(), "\x1b]52;c;aHR0cHM6Ly9hcGkuZXhhbXBsZS5jb20vdjEvdXNlcnM/cGFnZT0y\x07"; got != want {
			t.Errorf("terminal got %q, want %q", got, want)
		}
		h.final()
	})
	t.Run("known to have worked", func(t *testing.T) {
		c := &fakeClip{res: clip.Result{Via: []string{clip.ViaOSC52, clip.ViaTmux}}}
		h := start(t, 140, 12, tui.Options{Clipboard: c})
		h.waitFor("5 flows")
		h.press("y", "u")
		h.waitFor("copied URL (39B) to the terminal (OSC 52) and the tmux paste buffer")
		h.final()
	})
	t.Run("nowhere to copy: a file instead", func(t *testing.T) {
		dir := t.TempDir()
		c := &fakeClip{res: clip.Result{Problems: []string{"the output is not a terminal (no OSC 52)"}}}
		h := start(t, 140, 12, tui.Options{Clipboard: c, Dir: dir})
		h.waitFor("5 flows")
		h.press("y", "c")
		want := filepath.Join(dir, "api.example.com-000001.sh")
		h.waitFor("not copied (no clipboard reachable); write curl to: " + want)
		h.press("enter")
		h.waitFor("wrote curl to " + want)
		data, err := os.ReadFile(want)
		if err != nil || string(data) != export.Curl(fs[0].Request) {
			t.Fatalf("file: %q %v", data, err)
		}
		h.final()
	})
}

func TestExportAndSaveBody(t *testing.T) {
	dir := t.TempDir()
	h := start(t, 140, 12, tui.Options{Dir: dir})
	h.waitFor("5 flows")
	h.press("j", "x")
	h.waitFor("export to a file: u URL · c curl")
	h.press("h")
	httpie := filepath.Join(dir, "api.example.com-000002.sh")
	h.waitFor("write httpie to: " + httpie)
	h.press("enter")
	h.waitFor("wrote httpie to " + httpie)
	if data, _ := os.ReadFile(httpie); string(data) != export.HTTPie(sampleFlows()[1].Request)+"\n" {
		t.Errorf("httpie file: %q", data)
	}
	h.press("x", "a", "enter")
	harPath := filepath.Join(dir, "api.example.com-000002.har")
	h.waitFor("wrote HAR to " + harPath)
	hf, err := os.Open(harPath)
	if err != nil {
		t.Fatal(err)
	}
	flows, _, err := har.Read(hf)
	hf.Close()
	if err != nil || len(flows) != 1 || flows[0].Request.URL() != "https://api.example.com/v1/login" {
		t.Fatalf("HAR export reads back as %d flows, %v", len(flows), err)
	}
	// b: the login flow has two bodies, so it asks.
	h.press("b")
	h.waitFor("save which body: q request · s response")
	h.press("q", "enter")
	body := filepath.Join(dir, "api.example.com-000002-request.json")
	h.waitFor("wrote request body to " + body)
	if data, _ := os.ReadFile(body); string(data) != `{"user":"ada","password":"secret"}` {
		t.Errorf("body file: %q", data)
	}
	// An existing file is not replaced without asking.
	h.press("b", "q", "enter")
	h.waitFor("exists. Replace it?")
	h.press("n")
	h.final()
}

// TestDraftsInSavedFiles: a HAR file leaves an unsent draft out, and says
// so (an entry with status 0 would read back as a failed request); JSON
// lines keeps it as a draft; y offers no HAR entry for one.
func TestDraftsInSavedFiles(t *testing.T) {
	useEditor(t, "true")
	dir := t.TempDir()
	h := start(t, 140, 12, tui.Options{Dir: dir})
	h.waitFor("5 flows")
	h.press("j", "D")
	h.waitFor("6 flows", "NEW")
	h.press("y")
	h.waitFor("copy: u URL · c curl · h httpie · r raw request · esc cancel")
	h.press("esc")
	harPath, jl := filepath.Join(dir, "all.har"), filepath.Join(dir, "all.jsonl")
	h.press("w", "a", "ctrl+u")
	h.typeText(harPath)
	h.press("enter")
	h.waitFor("wrote 5 flows as HAR to "+harPath, "1 unsent draft(s) left out")
	h.press("w", "a", "ctrl+u")
	h.typeText(jl)
	h.press("enter")
	h.waitFor("wrote 6 flows as JSON lines to " + jl)
	h.final()

	f, err := os.Open(harPath)
	if err != nil {
		t.Fatal(err)
	}
	flows, _, err := har.Read(f)
	f.Close()
	if err != nil || len(flows) != 5 {
		t.Fatalf("HAR holds %d flows (%v), want the 5 sent ones", len(flows), err)
	}
	logins := 0
	for _, fl := range flows {
		if fl.Request.URL() == "https://api.example.com/v1/login" {
			logins++
		}
	}
	if logins != 1 {
		t.Errorf("HAR holds %d /v1/login entries, want 1 (the sent one, not its draft)", logins)
	}
	f, err = os.Open(jl)
	if err != nil {
		t.Fatal(err)
	}
	flows, _, err = flowstore.ReadLines(f)
	f.Close()
	drafts := 0
	for _, fl := range flows {
		if fl.State == flowstore.StateDraft {
			drafts++
		}
	}
	if err != nil || len(flows) != 6 || drafts != 1 {
		t.Fatalf("JSON lines hold %d flows, %d drafts (%v)", len(flows), drafts, err)
	}
}

func TestSaveFlows(t *testing.T) {
	dir := t.TempDir()
	h := start(t, 140, 12, tui.Options{Dir: dir})
	h.waitFor("5 flows")
	h.press("w")
	h.waitFor("save flows: a all (5) · t this flow · esc cancel")
	h.press("a")
	def := filepath.Join(dir, "flows-20260102-160000.har")
	h.waitFor("save 5 flows to (.har or .jsonl): " + def)
	h.press("enter")
	h.waitFor("wrote 5 flows as HAR to " + def)
	f, err := os.Open(def)
	if err != nil {
		t.Fatal(err)
	}
	flows, warns, err := har.Read(f)
	f.Close()
	if err != nil || len(warns) != 0 || len(flows) != 5 {
		t.Fatalf("HAR reads back as %d flows, %v, %v", len(flows), warns, err)
	}

	jl := filepath.Join(dir, "shown.jsonl")
	h.press("f")
	h.typeText("~d api")
	h.press("enter")
	h.waitFor("3/5 flows")
	h.press("w", "s", "ctrl+u")
	h.typeText(jl)
	h.press("enter")
	h.waitFor("wrote 3 flows as JSON lines to " + jl)
	f, err = os.Open(jl)
	if err != nil {
		t.Fatal(err)
	}
	flows, lw, err := flowstore.ReadLines(f)
	f.Close()
	if err != nil || len(lw) != 0 || len(flows) != 3 || flows[0].ID != id(1) {
		t.Fatalf("JSON lines read back as %d flows, %v, %v", len(flows), lw, err)
	}

	// No telling extension: it asks.
	other := filepath.Join(dir, "capture.out")
	h.press("w", "a", "ctrl+u")
	h.typeText(other)
	h.press("enter")
	h.waitFor("save capture.out as: h HAR 1.2 · j JSON lines")
	h.press("j")
	h.waitFor("wrote 5 flows as JSON lines to " + other)

	// A directory that cannot be written: the error, and the prompt again.
	bad := filepath.Join(dir, "no", "such", "dir", "x.har")
	h.press("w", "a", "ctrl+u")
	h.typeText(bad)
	h.press("enter")
	h.waitFor("cannot write: no such file or directory; save 5 flows to (.har or .jsonl): " + bad)
	h.press("esc")
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a file appeared")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".interceptor-tui-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	h.final()
}

func TestCAInfoAndBrowser(t *testing.T) {
	started := make(chan struct{}, 1)
	h := start(t, 120, 20, tui.Options{
		CA: &tui.CAInfo{CertPath: "/home/u/.interceptor-tui/ca.pem",
			SHA256:      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
			InstallPage: "http://interceptor.tui/", Hint: "interceptor-tui ca install --nss"},
		Browser: func(context.Context) (string, error) {
			started <- struct{}{}
			return "browser started (pid 42)", nil
		},
	})
	h.waitFor("5 flows")
	h.press("C")
	h.waitFor("CA certificate", "/home/u/.interceptor-tui/ca.pem", "SHA-256", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
		"http://interceptor.tui/", "interceptor-tui ca install --nss", "B starts Chromium")
	h.press("q")
	h.waitFor("METHOD")
	h.press("B")
	h.waitFor("browser started (pid 42)")
	select {
	case <-started:
	default:
		t.Fatal("the browser launcher was not called")
	}
	h.final()
}

// TestBrowserThatExitsAtOnce: a launcher that reports an early exit (no
// display) is shown as an error with its reason, never as started.
func TestBrowserThatExitsAtOnce(t *testing.T) {
	h := start(t, 140, 12, tui.Options{
		Browser: func(context.Context) (string, error) {
			return "", errors.New("Chromium exited (exit status 1) at once: Missing X server or $DISPLAY. It needs a display; E (event log) says what else to do")
		},
	})
	h.waitFor("5 flows")
	h.press("B")
	h.waitFor("browser: Chromium exited (exit status 1) at once: Missing X server or $DISPLAY")
	if out := h.final(); strings.Contains(out, "started") {
		t.Fatalf("says started:\n%s", out)
	}
}
