package tui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui"
)

const pausedID = "00000000000000aa"

// pausedStore is the sample flows and a POST paused at the request
// breakpoint for 12 seconds, last in the list.
func pausedStore(phase flowstore.Phase) *flowstore.Store {
	p := flowtest.New(flowtest.Method("POST"), flowtest.URL("https://api.example.com/pause/me"),
		flowtest.ReqBody("application/json", []byte(`{"name":"old"}`)), flowtest.At(5*time.Second))
	if phase == flowstore.PhaseRequest {
		flowtest.NoResponse()(p)
	}
	p.ID = pausedID
	p.State, p.Paused, p.Since = flowstore.StatePaused, phase, clock.Add(-12*time.Second)
	return newStore(append(sampleFlows(), p)...)
}

// useEditor makes $EDITOR a shell script with body, run on the file.
func useEditor(t *testing.T, body string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nset -e\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDITOR", p)
	t.Setenv("VISUAL", "")
}

func (h *harness) flow(id string) *flowstore.Flow {
	h.t.Helper()
	f, ok := h.store.Get(id)
	if !ok {
		h.t.Fatalf("flow %s is gone", id)
	}
	return f
}

func (h *harness) wantCalls(want ...string) {
	h.t.Helper()
	got := h.eng.Calls()
	for _, w := range want {
		if !strings.Contains(got, w) {
			h.t.Errorf("engine calls lack %q:\n%s", w, got)
		}
	}
}

func TestPausedShownThenResumed(t *testing.T) {
	h := start(t, 120, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	// Marked in the list with how long it has waited; counted in the status line.
	h.waitFor("‖req", "12.0s", "‖ 1 paused 12.0s")
	h.press("a") // the first flow is not paused: the status bar says why
	h.waitFor("this flow is not paused")
	h.press("G", "a")
	h.waitFor("resumed")
	h.wantCalls("resume " + pausedID)
	if f := h.flow(pausedID); f.State != flowstore.StateDone {
		t.Errorf("state after resume = %v", f.State)
	}
	if out := h.final(); strings.Contains(out, "paused") || strings.Contains(out, "‖req") {
		t.Errorf("still shown as paused:\n%s", out)
	}
}

func TestResumeAllFromTheFlowView(t *testing.T) {
	h := start(t, 120, 14, tui.Options{Store: pausedStore(flowstore.PhaseResponse)})
	h.waitFor("‖res")
	h.press("G", "enter")
	h.waitFor("‖ paused at the response for 12.0s")
	h.press("A")
	h.waitFor("resumed 1 paused flow(s)")
	h.wantCalls("resume_all", "resume "+pausedID)
	h.final()
}

func TestKill(t *testing.T) {
	h := start(t, 120, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "X")
	h.waitFor("killed: the client's connection is closed", "KILL")
	h.wantCalls("kill " + pausedID)
	h.final()
}

func TestAnswerWithEditor(t *testing.T) {
	useEditor(t, `sed -i -e 's/^HTTP\/1.1 200 OK$/HTTP\/1.1 418 I am a teapot/' -e 's/answered by interceptor-tui/short and stout/' "$1"`)
	h := start(t, 120, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "R")
	h.waitFor("answered with 418 I am a teapot; the upstream was not contacted")
	h.wantCalls("respond " + pausedID + " 418")
	h.eng.mu.Lock()
	r := h.eng.responded[pausedID]
	h.eng.mu.Unlock()
	if r == nil || string(r.Body.Data) != "short and stout" || r.Headers.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("response given to the engine: %+v", r)
	}
	h.final()
}

// The editor path with a real $EDITOR: a script that edits the file.
func TestEditPausedRequestInEditor(t *testing.T) {
	useEditor(t, `sed -i -e '/^Host:/a X-Edited: yes' -e 's/"old"/"renamed"/' "$1"`)
	h := start(t, 120, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "e")
	h.waitFor("request edited: a sends it on")
	f := h.flow(pausedID)
	if f.State != flowstore.StatePaused || f.Original == nil {
		t.Fatalf("after the edit: state %v, original %v", f.State, f.Original)
	}
	if got := f.Request.Headers.Get("X-Edited"); got != "yes" {
		t.Errorf("X-Edited = %q; headers %v", got, f.Request.Headers)
	}
	if got := string(f.Request.Body.Data); got != `{"name":"renamed"}` || f.Request.Headers.Get("Content-Length") != "18" {
		t.Errorf("body = %q, Content-Length %q", got, f.Request.Headers.Get("Content-Length"))
	}
	if string(f.Original.Request.Body.Data) != `{"name":"old"}` {
		t.Errorf("original lost: %q", f.Original.Request.Body.Data)
	}
	h.press("a")
	h.waitFor("resumed with your edits")
	h.wantCalls("resume " + pausedID)
	h.final()
}

func TestMalformedEditStaysPausedAndIsKept(t *testing.T) {
	useEditor(t, `sed -i -e 's/^Host: /Host /' "$1"`)
	h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "e")
	h.waitFor("request not applied: line 2: header without a colon; the flow stays paused, e reopens your text")
	if f := h.flow(pausedID); f.State != flowstore.StatePaused || f.Original != nil || f.Request.Headers.Get("Host") != "api.example.com" {
		t.Fatalf("a bad edit changed the flow: %v %+v", f.State, f.Request.Headers)
	}
	if !strings.Contains(h.eng.Calls(), "") || strings.Contains(h.eng.Calls(), "resume") {
		t.Fatalf("the flow was released: %s", h.eng.Calls())
	}
	// The next e reopens the text as it was left (the script fails otherwise).
	useEditor(t, `grep -q '^Host api.example.com$' "$1"
sed -i -e 's/^Host /Host: /' -e 's/"old"/"fixed"/' "$1"`)
	h.press("e")
	h.waitFor("request edited")
	f := h.flow(pausedID)
	if f.State != flowstore.StatePaused || string(f.Request.Body.Data) != `{"name":"fixed"}` {
		t.Fatalf("the fixed edit was not applied: %v %q", f.State, f.Request.Body.Data)
	}
	h.final()
}

func TestEditorThatFails(t *testing.T) {
	useEditor(t, `exit 3`)
	h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "e")
	h.waitFor("exited with exit status 3; nothing was applied")
	if f := h.flow(pausedID); f.State != flowstore.StatePaused || f.Original != nil {
		t.Fatal("a failed editor changed the flow")
	}
	h.final()
}

func TestEditPausedResponse(t *testing.T) {
	useEditor(t, `sed -i -e 's/^HTTP\/1.1 200 OK$/HTTP\/1.1 503 Service Unavailable/' -e 's/^hello$/down for maintenance/' "$1"`)
	h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseResponse)})
	h.waitFor("‖res")
	h.press("G", "e")
	h.waitFor("response edited")
	f := h.flow(pausedID)
	if f.Response.Status != 503 || string(f.Response.Body.Data) != "down for maintenance" || f.Original.Response.Status != 200 {
		t.Fatalf("response after edit: %d %q", f.Response.Status, f.Response.Body.Data)
	}
	h.final()
}

// TestQuickEditBody: c b changes a paused message's body without leaving
// the TUI: the one-line body is offered to change, Content-Length follows
// and Content-Encoding goes (the text is the body as sent).
func TestQuickEditBody(t *testing.T) {
	s := pausedStore(flowstore.PhaseRequest)
	s.Update(pausedID, func(f *flowstore.Flow) {
		f.Request.Headers.Set("Content-Length", "15")
		f.Request.Headers.Set("Content-Encoding", "identity")
	})
	h := start(t, 140, 16, tui.Options{Store: s})
	h.waitFor("‖req")
	h.press("G", "c", "b")
	h.waitFor(`body: {"name":"old"}`)
	h.press("ctrl+u")
	h.typeText(`{"name":"new one"}`)
	h.press("enter")
	h.waitFor("body set (18B); Content-Encoding removed; Content-Length updated")
	f := h.flow(pausedID)
	r := f.Request
	if string(r.Body.Data) != `{"name":"new one"}` || r.Headers.Get("Content-Length") != "18" || r.Headers.Has("Content-Encoding") || f.Original == nil {
		t.Fatalf("after c b: %q %v", r.Body.Data, r.Headers)
	}
	h.final()
}

// TestResumeSaysWhenAFlowPausesAgain: A on flows held by a breakpoint for
// both phases says when they pause again at their response, rather than
// "resumed" beside a status bar that still counts them paused.
func TestResumeSaysWhenAFlowPausesAgain(t *testing.T) {
	for _, k := range []string{"A", "a"} {
		t.Run(k, func(t *testing.T) {
			s := pausedStore(flowstore.PhaseRequest)
			e := newEngine(s)
			e.pauseResponses = true
			e.bps = []flowstore.Breakpoint{{Filter: "~u /pause", Request: true, Response: true}}
			h := start(t, 160, 12, tui.Options{Store: s, Engine: e})
			h.waitFor("‖req")
			h.press("G", k)
			h.waitFor("1 resumed flow(s) paused again, at the response")
			h.final()
		})
	}
}

// TestDeleteSaysWhat: d says which flow it deleted, and does not delete
// one that a client is waiting on.
func TestDeleteSaysWhat(t *testing.T) {
	h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("6 flows")
	h.press("j", "d")
	h.waitFor("deleted flow POST https://api.example.com/v1/login", "5 flows")
	h.press("G", "d")
	h.waitFor("this flow is paused and its client waits")
	if out := h.final(); !strings.Contains(out, "5 flows") {
		t.Fatalf("the paused flow was deleted:\n%s", out)
	}
	if _, ok := h.store.Get(pausedID); !ok {
		t.Fatal("the paused flow is gone from the store")
	}
}

func TestQuickEditsOriginalAndRevert(t *testing.T) {
	h := start(t, 120, 16, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
	h.waitFor("‖req")
	h.press("G", "c")
	h.waitFor("quick edit of the request: m method · u URL · h add/replace header · d delete header · b body")
	h.press("m")
	h.waitFor("method: POST")
	h.press("backspace", "backspace", "backspace", "backspace")
	h.typeText("PUT")
	h.press("enter")
	h.waitFor("method: PUT")
	h.press("c", "u", "ctrl+u")
	h.typeText("https://staging.example.com:8443/pause/me?x=1")
	h.press("enter")
	h.waitFor("URL: https://staging.example.com:8443/pause/me?x=1")
	h.press("c", "h")
	h.typeText("no colon")
	h.waitFor("write Name: value")
	h.press("ctrl+u")
	h.typeText("X-Quick: 1")
	h.press("enter")
	h.waitFor("header set: X-Quick")
	h.press("c", "d")
	h.typeText("User-Agent")
	h.press("enter")
	h.waitFor("header deleted: User-Agent")
	f := h.flow(pausedID)
	r := f.Request
	if r.Method != "PUT" || r.URL() != "https://staging.example.com:8443/pause/me?x=1" || r.Headers.Get("Host") != "staging.example.com:8443" ||
		r.Headers.Get("X-Quick") != "1" || r.Headers.Has("User-Agent") || f.Original == nil || f.State != flowstore.StatePaused {
		t.Fatalf("after quick edits: %s %s %v", r.Method, r.URL(), r.Headers)
	}
	// The flow view toggles between the original and the edited request.
	h.press("enter")
	h.waitFor("[edited]", "X-Quick")
	h.press("o")
	h.waitFor("[ORIGINAL]", "POST https://api.example.com/pause/me")
	h.press("o", "q")
	h.press("V")
	h.waitFor("reverted to the original")
	if f := h.flow(pausedID); f.Request.Method != "POST" || f.Original != nil || f.Request.Headers.Has("X-Quick") {
		t.Fatalf("after revert: %s %v", f.Request.Method, f.Request.Headers)
	}
	h.final()
}

// TestResumeAndQuitLetsFlowsFinish: "r resume them and quit" turns the
// breakpoints off, resumes, and quits once the resumed flows have finished:
// a flow paused on a breakpoint for both phases is not paused again at its
// response and killed by the exit. One that pauses again anyway is resumed
// again; one that never finishes is waited for a bounded time.
func TestResumeAndQuitLetsFlowsFinish(t *testing.T) {
	quitResuming := func(t *testing.T, e *fakeEngine, s *flowstore.Store, wait time.Duration) *harness {
		t.Helper()
		e.bps = []flowstore.Breakpoint{{Filter: "~u /pause", Request: true, Response: true}}
		h := start(t, 140, 12, tui.Options{Store: s, Engine: e, ResumeWait: wait})
		h.waitFor("‖req")
		h.press("ctrl+c")
		h.waitFor("Quit? 1 paused flow(s) wait")
		h.press("r")
		h.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
		return h
	}
	t.Run("both phases", func(t *testing.T) {
		s := pausedStore(flowstore.PhaseRequest)
		e := newEngine(s)
		e.pauseResponses = true
		h := quitResuming(t, e, s, 0)
		if f := h.flow(pausedID); f.State != flowstore.StateDone {
			t.Fatalf("the resumed flow is %v at the exit, want done", f.State)
		}
		c := h.eng.Calls()
		if off, all := strings.Index(c, "set_intercepting false"), strings.Index(c, "resume_all"); off < 0 || all < off {
			t.Fatalf("breakpoints not turned off before resuming:\n%s", c)
		}
	})
	t.Run("paused again anyway", func(t *testing.T) {
		s := pausedStore(flowstore.PhaseRequest)
		e := newEngine(s)
		e.late = 1
		h := quitResuming(t, e, s, 0)
		if f := h.flow(pausedID); f.State != flowstore.StateDone {
			t.Fatalf("the resumed flow is %v at the exit, want done", f.State)
		}
		if n := strings.Count(h.eng.Calls(), "resume_all"); n != 2 {
			t.Fatalf("resume_all called %d times, want 2 (once more for the flow paused again):\n%s", n, h.eng.Calls())
		}
	})
	t.Run("never finishes: the wait is bounded", func(t *testing.T) {
		s := pausedStore(flowstore.PhaseRequest)
		e := newEngine(s)
		e.stall = true
		h := quitResuming(t, e, s, 100*time.Millisecond)
		var msgs []string
		for _, en := range h.log.Entries() {
			msgs = append(msgs, en.Msg)
		}
		if got := strings.Join(msgs, "\n"); !strings.Contains(got, "1 resumed flow(s) had not finished") {
			t.Fatalf("the event log does not say a flow was cut off:\n%s", got)
		}
	})
}

func TestQuitWithPausedFlowsAsks(t *testing.T) {
	for _, tc := range []struct{ key, call string }{{"k", "kill_all"}, {"r", "resume_all"}} {
		t.Run(tc.call, func(t *testing.T) {
			h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
			h.waitFor("‖req")
			h.press("q")
			h.waitFor("Quit? 1 paused flow(s) wait: r resume them and quit · k kill them and quit · esc cancel")
			h.press(tc.key)
			h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
			h.wantCalls(tc.call)
		})
	}
	t.Run("esc stays", func(t *testing.T) {
		h := start(t, 140, 12, tui.Options{Store: pausedStore(flowstore.PhaseRequest)})
		h.waitFor("‖req")
		h.press("q")
		h.waitFor("Quit? 1 paused flow(s) wait")
		h.press("esc", "G", "a")
		h.waitFor("resumed")
		h.final()
		if c := h.eng.Calls(); strings.Contains(c, "_all") {
			t.Fatalf("esc resolved the paused flows: %s", c)
		}
	})
}

func TestInterceptFilterAndBreakpointList(t *testing.T) {
	h := start(t, 120, 20, tui.Options{})
	h.waitFor("5 flows")
	h.press("i")
	h.waitFor("intercept: ")
	h.typeText("~u /pause")
	h.press("enter")
	h.waitFor("intercepting ~u /pause", "break: ~u /pause")
	bps := func() []flowstore.Breakpoint { return h.eng.Breakpoints() }
	if b := bps(); len(b) != 1 || b[0] != (flowstore.Breakpoint{Filter: "~u /pause", Request: true, Response: true}) {
		t.Fatalf("after i: %+v", b)
	}
	h.press("I")
	h.waitFor("Breakpoints and standing mocks", "Interception ON", "both      ~u /pause")
	h.press("a")
	h.waitFor("new breakpoint: ")
	h.typeText("~zz")
	h.press("enter") // refused: it does not parse
	h.press("ctrl+u")
	h.typeText("~m POST")
	h.press("enter")
	h.waitFor("pause ~m POST at: b both · q request · s response")
	h.press("s")
	h.waitFor("breakpoint added: ~m POST (response)")
	if b := bps(); len(b) != 2 || b[1] != (flowstore.Breakpoint{Filter: "~m POST", Response: true}) {
		t.Fatalf("after add: %+v", b)
	}
	h.press("j", "t") // off
	h.waitFor("·    response  ~m POST")
	if b := bps(); !b[1].Disabled {
		t.Fatalf("toggle: %+v", b)
	}
	h.press("t", "p") // on, then response → both
	h.waitFor("✓    both      ~m POST")
	h.press("e", "ctrl+u")
	h.typeText("~m POST & ~d api")
	h.press("enter")
	h.waitFor("breakpoint changed")
	if b := bps(); b[1] != (flowstore.Breakpoint{Filter: "~m POST & ~d api", Request: true, Response: true}) {
		t.Fatalf("after phase and edit: %+v", b)
	}
	h.press("s")
	h.waitFor("Interception OFF", "interception off: no flow will pause", "break: off")
	if h.eng.Intercepting() {
		t.Fatal("the switch did not turn interception off")
	}
	h.press("s")
	h.waitFor("Interception ON")
	h.press("k", "d")
	h.waitFor("breakpoint deleted")
	if b := bps(); len(b) != 1 || b[0].Filter != "~m POST & ~d api" {
		t.Fatalf("after delete: %+v", b)
	}
	h.press("q")
	h.waitFor("METHOD")
	// i with nothing clears the intercept filter.
	h.press("i", "ctrl+u", "enter")
	h.waitFor("intercept filter cleared")
	if b := bps(); len(b) != 0 {
		t.Fatalf("after clearing: %+v", b)
	}
	h.final()
}
