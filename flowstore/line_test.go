package flowstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// rawControl reports the first byte a terminal would act on, if any.
func rawControl(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return c, true
		}
	}
	if strings.ContainsAny(s, "\u0080\u0085\u009b\u009d") {
		return 0x80, true
	}
	return 0, false
}

// hostileFlow has terminal escapes wherever an origin or a loaded file can
// put text that the headless line shows.
func hostileFlow() *flowstore.Flow {
	f := flowtest.New(flowtest.Method("GE\x1b[2JT"))
	f.Client.Addr = "127.0.0.1:5\x07"
	f.Request.Host = "evil\x1b]0;host\x07.test"
	f.Request.Path = "/p\x1b[31m\u009b1m?q=\x07"
	f.Response.Reason = "OK\x1b]0;owned\x07\x1b[2J"
	f.Error = &flowstore.Error{Phase: "response", Message: "origin said \x1b[5m\xff"}
	return f
}

func TestFormatLineEscapesControlBytes(t *testing.T) {
	line := flowstore.FormatLine(hostileFlow())
	if c, ok := rawControl(line); ok {
		t.Fatalf("raw control %#x in %q", c, line)
	}
	for _, want := range []string{
		`127.0.0.1:5\x07`, `GE\x1b[2JT http://evil\x1b]0;host\x07.test/p\x1b[31m\u009b1m?q=\x07`,
		`200 OK\x1b]0;owned\x07\x1b[2J`, `!! origin said \x1b[5m\xff`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
}

// The printer runs per flow: text with nothing to escape is returned as it
// is, without an allocation, and non-ASCII text is kept.
func TestAppendLineCleanIsUntouched(t *testing.T) {
	f := flowtest.New(flowtest.URL("http://exämple.test/"))
	f.Request.Path = "/日本?q=é"
	f.Response.Reason = "Bien reçu"
	line := flowstore.FormatLine(f)
	if !strings.Contains(line, "GET http://exämple.test/日本?q=é 200 Bien reçu") {
		t.Fatalf("line %q", line)
	}
	for _, clean := range []string{line, "plain ASCII", ""} {
		if n := testing.AllocsPerRun(100, func() { _ = flowstore.EscapeControl(clean) }); n != 0 {
			t.Fatalf("EscapeControl(%q): %v allocations", clean, n)
		}
	}
}

func TestLogEntryStringEscapesControlBytes(t *testing.T) {
	e := flowstore.LogEntry{Time: time.Unix(0, 0), Level: flowstore.LevelWarn, Source: "script:a\x1b.lua",
		FlowID: "f1", Msg: "reason OK\x1b]0;owned\x07 and\nnewline"}
	s := e.String()
	if c, ok := rawControl(s); ok {
		t.Fatalf("raw control %#x in %q", c, s)
	}
	if !strings.Contains(s, `[script:a\x1b.lua] reason OK\x1b]0;owned\x07 and\nnewline (flow f1)`) {
		t.Fatalf("got %q", s)
	}
}

// A killed flow's line says "killed" once: the engine's reason "killed by
// the user" already says it; a reason that does not is prefixed.
func TestLineOfAKilledFlow(t *testing.T) {
	for reason, want := range map[string]string{
		"killed by the user": " !! killed by the user",
		"the proxy stopped":  " !! killed: the proxy stopped",
		"":                   " !! killed",
	} {
		f := flowtest.New()
		f.Response = nil
		f.State = flowstore.StateKilled
		if reason != "" {
			f.Error = &flowstore.Error{Phase: flowstore.PhaseRequest, Message: reason}
		}
		if line := flowstore.FormatLine(f); !strings.HasSuffix(line, want) {
			t.Errorf("reason %q: line %q, want it to end in %q", reason, line, want)
		}
	}
}
