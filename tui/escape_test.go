package tui_test

import (
	"bytes"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui"
)

// hostile is what an origin or a loaded file can put where the TUI shows
// text: a reason phrase that retitles and clears the terminal, ESC in a
// method and a host, colours in headers, bodies, comments and errors.
const hostile = "\x1b]0;owned\x07\x1b[2J"

func hostileFlows() []*flowstore.Flow {
	a := flowtest.New(flowtest.Method("GE\x1b[5mT"),
		flowtest.ReqHeader("X-Evil", "a"+hostile+"b"),
		flowtest.ReqBody("text/plain", []byte("request body "+hostile+" and C1 \u009b31m\n")),
		flowtest.RespBody("text/plain", []byte("response body "+hostile+"\n")),
		flowtest.RespHeader("X-Colour", "\x1b[31mred"),
		flowtest.Comment("comment "+hostile))
	a.ID = "00000000000000a1"
	a.Request.Host = "evil\x1b]0;owned\x07.test"
	a.Request.Path = "/p\x1b[31m"
	a.Response.Reason = "OK" + hostile
	b := flowtest.New(flowtest.URL("https://down.example/"), flowtest.Failed("dial: "+hostile), flowtest.At(1))
	b.ID = "00000000000000b2"
	return []*flowstore.Flow{a, b}
}

// TestHostileFlowIsShownEscaped: every view that shows a hostile flow's
// text (list rows, the request, response and details tabs, bodies, the
// event log, a status message) shows it escaped, and not one of its
// control bytes reaches the terminal.
func TestHostileFlowIsShownEscaped(t *testing.T) {
	h := start(t, 120, 30, tui.Options{Store: newStore(hostileFlows()...)})
	h.waitFor(`GE\x1…`, `/p\x1b[31m`, `evil\x1b]0;owned\x07.test`)
	h.press("enter")
	h.waitFor("[Request]", `X-Evil`, `a\x1b]0;owned\x07\x1b[2Jb`, `request body \x1b]0;owned\x07\x1b[2J and C1 \u009b31m`)
	h.press("tab")
	h.waitFor("[Response]", `OK\x1b]0;owned\x07\x1b[2J`, `\x1b[31mred`, `response body \x1b]0;owned\x07\x1b[2J`)
	h.press("tab")
	h.waitFor("[Details]", `comment       comment \x1b]0;owned\x07\x1b[2J`)
	h.press("r") // replay: the status message quotes the method and URL
	h.waitFor(`replaying GE\x1b[5mT http://evil\x1b]0;owned\x07.test`)
	h.press("q", "j", "enter") // opens on the tab last used: Details
	h.waitFor(`dial: \x1b]0;owned\x07\x1b[2J`)
	h.log.Add(flowstore.LevelError, "proxy", "", "upstream said "+hostile)
	h.waitFor(`proxy: upstream said \x1b]0;owned\x07\x1b[2J`) // flashed
	h.press("E")
	h.waitFor(`[proxy] upstream said \x1b]0;owned\x07\x1b[2J`)
	h.final()
	for _, raw := range []string{"\x1b]0;", "\x07", "\x1b[5m", "\x1b[31m", "\u009b", "\x1b[2Jb"} {
		if i := bytes.Index(h.seen, []byte(raw)); i >= 0 {
			t.Errorf("the terminal got %q raw, at byte %d: %q", raw, i, h.seen[max(i-40, 0):min(i+40, len(h.seen))])
		}
	}
}
