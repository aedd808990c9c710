package tui_test

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
)

// burst sends runes as one key message, as Bubble Tea makes of several
// characters that arrive in one read (key repeat, SSH, tmux send-keys).
func (h *harness) burst(s string) {
	h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

// lineAfter is the screen line after the first one holding s.
func lineAfter(screen, s string) string {
	ls := strings.Split(screen, "\n")
	for i, l := range ls {
		if strings.Contains(l, s) && i+1 < len(ls) {
			return ls[i+1]
		}
	}
	return ""
}

// TestKeyBurstsActInEveryView: every key of a burst acts, in order, in
// every view; once one opens a text field the rest is its text; a paste
// outside a text field is not taken for keys.
func TestKeyBurstsActInEveryView(t *testing.T) {
	t.Run("flow list", func(t *testing.T) {
		h := start(t, 100, 12, tui.Options{})
		h.waitFor("5 flows")
		h.burst("jjj")
		h.burst("jk") // down and up again: in order
		if out := h.final(); !selectedLine(out, "down.example.org") {
			t.Fatalf("jjj then jk did not put the cursor on the fourth flow:\n%s", out)
		}
	})
	t.Run("flow view", func(t *testing.T) {
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "body line %03d\n", i)
		}
		f := flowtest.New(flowtest.RespBody("text/plain", []byte(b.String())))
		h := start(t, 80, 12, tui.Options{Store: newStore(f)})
		h.waitFor("1 flow")
		h.press("enter", "tab")
		h.waitFor("[Response]", "body line 004")
		h.burst("jjjjj")
		h.waitFor("line 6 of")
		h.burst("qj") // back to the list, then j there: acted on in order
		h.waitFor("METHOD")
		h.final()
	})
	t.Run("event log", func(t *testing.T) {
		lg := flowstore.NewEventLog(100)
		for i := range 30 {
			lg.Add(flowstore.LevelInfo, "proxy", "", fmt.Sprintf("entry %02d", i))
		}
		h := start(t, 100, 12, tui.Options{Log: lg})
		h.press("E")
		h.waitFor("Event log (30)", "entry 29")
		h.burst("gjjj")
		h.waitFor("entry 03")
		if l := lineAfter(h.final(), "Event log (30)"); !strings.Contains(l, "entry 03") {
			t.Fatalf("after gjjj the log starts at %q, want entry 03", l)
		}
	})
	t.Run("help", func(t *testing.T) {
		h := start(t, 100, 12, tui.Options{})
		h.waitFor("5 flows")
		h.press("?")
		h.waitFor("Help: Flow list")
		h.burst("jjj")
		h.waitFor("page up")
		if l := lineAfter(h.final(), "Help: Flow list"); !strings.Contains(l, "page up") {
			t.Fatalf("after jjj help starts at %q, want its fourth line (page up)", l)
		}
	})
	t.Run("breakpoints", func(t *testing.T) {
		s := newStore(sampleFlows()...)
		e := newEngine(s)
		for _, p := range []string{"a", "b", "c", "d", "e"} {
			e.bps = append(e.bps, flowstore.Breakpoint{Filter: "~u /" + p, Request: true, Response: true})
		}
		h := start(t, 100, 16, tui.Options{Store: s, Engine: e})
		h.press("I")
		h.waitFor("Breakpoints (5)")
		h.burst("jjjt") // the fourth, toggled off
		h.waitFor("·    both      ~u /d")
		h.final()
		for i, b := range e.Breakpoints() {
			if b.Disabled != (i == 3) {
				t.Errorf("breakpoint %d %s: disabled %v", i, b.Filter, b.Disabled)
			}
		}
	})
	t.Run("a question answered in the same burst", func(t *testing.T) {
		c := &fakeClip{res: clip.Result{Via: []string{clip.ViaOSC52}}}
		h := start(t, 100, 12, tui.Options{Clipboard: c})
		h.waitFor("5 flows")
		h.burst("jyu") // second flow, copy…, URL
		h.waitFor("sent URL")
		h.final()
		if got := c.Copied(); len(got) != 1 || got[0] != "https://api.example.com/v1/login" {
			t.Fatalf("copied %q", got)
		}
	})
	t.Run("the rest of a burst is a prompt's text", func(t *testing.T) {
		h := start(t, 100, 12, tui.Options{})
		h.waitFor("5 flows")
		h.burst("flogin")
		h.press("enter")
		h.waitFor("1/5 flows", "filter: login")
		h.final()
	})
	t.Run("a paste is not keys", func(t *testing.T) {
		h := start(t, 100, 12, tui.Options{})
		h.waitFor("5 flows")
		h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjdz"), Paste: true})
		h.waitFor("pasted text ignored")
		out := h.final()
		if !strings.Contains(out, "5 flows") || !selectedLine(out, "/v1/users?page=2") {
			t.Fatalf("a paste acted as keys:\n%s", out)
		}
	})
}
