package flowedit_test

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/flowedit"
)

func paused(phase flowstore.Phase) *flowstore.Flow {
	f := flowtest.New(flowtest.URL("https://api.example.com/v1/x"), flowtest.RespBody("text/plain", []byte("hi")),
		flowtest.RespHeader("Content-Encoding", "gzip"), flowtest.RespHeader("Content-Length", "2"))
	f.ID, f.State, f.Paused = "f1", flowstore.StatePaused, phase
	return f
}

func TestKeyTextParse(t *testing.T) {
	req, resp := paused(flowstore.PhaseRequest), paused(flowstore.PhaseResponse)
	if flowedit.Key(req) != "request:f1" || flowedit.Key(resp) != "response:f1" {
		t.Fatalf("keys %q %q", flowedit.Key(req), flowedit.Key(resp))
	}
	// An answer before the response phase starts from a template.
	if a := string(flowedit.Text(req, flowedit.Answer)); !strings.HasPrefix(a, "HTTP/1.1 200 OK") || !strings.Contains(a, "answered by interceptor-tui") {
		t.Fatalf("answer template:\n%s", a)
	}
	text := strings.Replace(string(flowedit.Text(req, flowedit.Request)), "GET ", "PUT ", 1)
	r, _, err := flowedit.Parse(req, flowedit.Request, []byte(text))
	if err != nil || r.Method != "PUT" {
		t.Fatalf("parsed %+v, %v", r, err)
	}
	if _, _, err := flowedit.Parse(resp, flowedit.Response, []byte("not http")); err == nil {
		t.Fatal("nonsense parsed")
	}
}

func TestQuick(t *testing.T) {
	f := paused(flowstore.PhaseResponse)
	label, parts := flowedit.QuickMenu(f)
	if label != "quick edit of the response:" || len(parts) != 4 || parts[0].Key != "s" {
		t.Fatalf("%q %v", label, parts)
	}
	if p := flowedit.QuickPrompt(f, "s"); p.Validate("99") == nil || p.Validate("404") != nil || p.Value != "200" {
		t.Fatalf("status prompt %+v", p)
	}
	if p := flowedit.QuickPrompt(f, "h"); p.Validate("X-A: 1") != nil || p.Validate("no colon") == nil {
		t.Fatal("header check")
	}
	done := flowedit.Quick(f, "b", "hello")
	if string(f.Response.Body.Data) != "hello" || f.Response.Headers.Has("Content-Encoding") || f.Response.Headers.Get("Content-Length") != "5" {
		t.Fatalf("body edit left %+v", f.Response)
	}
	if done != "body set (5B); Content-Encoding removed; Content-Length updated" {
		t.Fatalf("said %q", done)
	}
	g := paused(flowstore.PhaseRequest)
	if done := flowedit.Quick(g, "u", "http://other.test:8080/p"); done != "URL: http://other.test:8080/p" || g.Request.Headers.Get("Host") != "other.test:8080" {
		t.Fatalf("URL edit: %q, Host %q", done, g.Request.Headers.Get("Host"))
	}
}

func TestRevert(t *testing.T) {
	f := paused(flowstore.PhaseRequest)
	f.KeepOriginal()
	flowedit.Quick(f, "m", "PUT")
	flowedit.Revert(f)
	if f.Request.Method != "GET" || f.Original != nil || f.Edited() {
		t.Fatalf("after revert: %s, original %v", f.Request.Method, f.Original)
	}
}
