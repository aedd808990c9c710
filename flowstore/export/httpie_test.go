package export_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
)

// TestHTTPieReproducesRequest runs each generated command with real HTTPie.
// HTTPie cannot be exact (see HTTPieCommand): it always sends a User-Agent
// and an Accept-Encoding, orders its defaults first, and re-escapes URL
// characters; so here each original header must arrive with its value and
// nothing else may be added. Method, target and body are exact.
func TestHTTPieReproducesRequest(t *testing.T) {
	if _, err := exec.LookPath("http"); err != nil {
		t.Skip("HTTPie not found: install Debian package httpie")
	}
	origin := newRawOrigin(t)
	sh := shells(t)[0]
	for _, tc := range replayCases() {
		switch tc.name {
		case "http_1_0": // HTTPie speaks HTTP/1.1 only
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			req := tc.request(t, origin.URL())
			req.Headers.Del("X-Obs-Text") // HTTPie refuses a header value that is not UTF-8
			dir := t.TempDir()
			var opts export.Options
			if tc.bodyFile {
				opts.BodyFile = "body.bin"
			}
			cmd, body := export.HTTPieCommand(req, opts)
			writeBodyFile(t, dir, "body.bin", body)
			runShell(t, sh, dir, strings.Replace(cmd, "http ", "http --print= --timeout=10 ", 1))
			got := origin.next(t)
			if tc.name == "odd_url" {
				// requests escapes ` ' | { } in the URL; the path's dot
				// segments must still be there.
				if !strings.HasPrefix(got.Target, "/a/../b/./c") {
					t.Errorf("target %q lost its dot segments", got.Target)
				}
				got.Target = req.Path
			}
			checkReceived(t, got, req, false)
			for _, kv := range got.Headers {
				switch {
				case req.Headers.Has(kv.Name), strings.EqualFold(kv.Name, "Content-Length"), strings.EqualFold(kv.Name, "Host"):
				case strings.EqualFold(kv.Name, "User-Agent"), strings.EqualFold(kv.Name, "Accept-Encoding") && kv.Value == "identity":
				case strings.EqualFold(kv.Name, "Transfer-Encoding") && req.Headers.Has("Transfer-Encoding"):
				default:
					t.Errorf("HTTPie added %s: %s", kv.Name, kv.Value)
				}
			}
			if t.Failed() {
				t.Logf("command:\n%s", clip(cmd))
			}
		})
	}
}

func TestHTTPieCommand(t *testing.T) {
	req := &flowstore.Request{Method: "POST", Scheme: "https", Host: "api.example.com", Port: 443, Path: "/v1/x", Proto: "HTTP/2.0",
		Headers: flowstore.Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-file", Value: "@/etc/passwd"},
			{Name: "x-json", Value: "=1"}, {Name: "x-empty", Value: ""}, {Name: "user-agent", Value: "app"}},
		Body: flowstore.NewBody([]byte(`{"a":1}`))}
	want := "http \\\n  --ignore-stdin \\\n  --raw '{\"a\":1}' \\\n  'POST' 'https://api.example.com/v1/x' \\\n" +
		"  'content-type:application/json' \\\n  'x-file:\\@/etc/passwd' \\\n  'x-json:\\=1' \\\n  'x-empty;' \\\n  'user-agent:app' \\\n" +
		"  'Accept:' \\\n  'Accept-Encoding:' \\\n  'Connection:'"
	if got := export.HTTPie(req); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	bin := &flowstore.Request{Method: "PUT", Scheme: "http", Host: "h", Port: 80, Path: "/", Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Content-Type", Value: "image/png"}}, Body: flowstore.NewBody([]byte{0x89, 'P', 0})}
	got, body := export.HTTPieCommand(bin, export.Options{BodyFile: "/tmp/b.png"})
	if !strings.HasSuffix(got, "  < '/tmp/b.png'") || strings.Contains(got, "--ignore-stdin") || string(body) != string(bin.Body.Data) {
		t.Errorf("binary body to file:\n%s\nbody %q", got, body)
	}
}
