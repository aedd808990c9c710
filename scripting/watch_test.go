package scripting_test

import (
	"os"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/scripting"
)

// A script disabled for failing runs again once its file is saved, and a
// file that goes away leaves the loaded version running.
func TestWatchReenablesAndSurvivesRemoval(t *testing.T) {
	log := flowstore.NewEventLog(1000)
	p := writeScript(t, "flaky.lua", `function request(flow) error("broken") end`)
	e, err := scripting.New(scripting.Options{Paths: []string{p}, Log: log, MaxFailures: 2, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := testContext(t)
	defer cancel()
	go e.Watch(ctx)
	for range 2 {
		e.Request(bg, flowtest.New())
	}
	logged(t, log, "disabled after 2 failures in a row")
	if e.Wants(flowstore.PhaseRequest, flowtest.New()) {
		t.Fatal("still enabled")
	}
	if err := os.WriteFile(p, []byte(`function request(flow) flow.request.headers["X-Fixed"] = "1" end`), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the fixed script", func() bool { return e.Wants(flowstore.PhaseRequest, flowtest.New()) })
	f := flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Fixed") != "1" {
		t.Fatal(err, f.Request.Headers)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	f = flowtest.New()
	if _, err := e.Request(bg, f); err != nil || f.Request.Headers.Get("X-Fixed") != "1" {
		t.Fatal("a removed file stopped the script", err)
	}
}
