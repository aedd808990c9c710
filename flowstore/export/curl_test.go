package export_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// replayCase is a request to send to the origin with a generated command.
// "{host}" in a header value stands for the origin's host:port.
type replayCase struct {
	name     string
	method   string
	target   string // path and query
	proto    string
	headers  []string // name, value pairs
	body     []byte
	bodyFile bool // use Options.BodyFile
}

func (c replayCase) request(t *testing.T, base string) *flowstore.Request {
	t.Helper()
	req := &flowstore.Request{Method: c.method, Proto: c.proto, Body: flowstore.NewBody(c.body)}
	if req.Proto == "" {
		req.Proto = "HTTP/1.1"
	}
	if err := req.SetURL(base + "/"); err != nil {
		t.Fatal(err)
	}
	req.Path = c.target
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Headers.Add(c.headers[i], strings.ReplaceAll(c.headers[i+1], "{host}", req.Authority()))
	}
	return req
}

// replayCases cover what a copied command must get right: every method
// shape, hostile header values, bodies of every kind.
func replayCases() []replayCase {
	long := bytes.Repeat([]byte("0123456789abcdef\n"), 200<<10/17)
	return []replayCase{
		{name: "browser_get", method: "GET", target: "/search?q=a%20b&lang=de&empty=",
			headers: []string{"Host", "{host}", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/125.0",
				"Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Accept-Language", "de,en-US;q=0.7",
				"Accept-Encoding", "gzip, deflate, br", "Cookie", `sid=abc123; pref="two words"`, "Connection", "keep-alive"}},
		{name: "hostile_header_values", method: "GET", target: "/h",
			headers: []string{"Host", "{host}",
				"X-Quotes", `it's "quoted" and 'single'`, "X-Dollar", "$HOME ${PATH} $(id) `id` $'x'", "X-Backslash", `a\b\\c\`,
				"X-Glob", "* ? [a-z] ~ ! # & ; | < > ( ) { }", "X-Unicode", "héllo — 日本語 🎉", "X-Tab", "a\tb",
				"X-Empty", "", "X-Obs-Text", "caf\xe9", "X-Bidi", "abc\u202edef", "x-lower-case", "v", "X-MiXeD-CaSe", "v",
				"X-Dup", "1", "X-Dup", "2", "X-Leading-Dash", "-H x"}},
		{name: "post_json", method: "POST", target: "/api/items?dry_run=1",
			headers: []string{"Host", "{host}", "User-Agent", "app/1.0", "Accept", "application/json", "Content-Type", "application/json; charset=utf-8", "Content-Length", "0"},
			body:    []byte("{\"name\": \"it's \\\"x\\\" $HOME `id`\",\n \"emoji\": \"🎉\", \"path\": \"C:\\\\tmp\"}\n")},
		{name: "put_every_byte_piped", method: "PUT", target: "/upload",
			headers: []string{"Host", "{host}", "Content-Type", "application/octet-stream", "Content-Length", "256"}, body: allBytes()},
		{name: "put_every_byte_from_file", method: "PUT", target: "/upload",
			headers: []string{"Host", "{host}", "Content-Type", "application/octet-stream"}, body: allBytes(), bodyFile: true},
		{name: "binary_starting_with_dash_and_percent", method: "POST", target: "/b",
			headers: []string{"Host", "{host}"}, body: []byte("-%s%%\\n\\\x00'\"\x1b[31m")},
		{name: "get_with_body", method: "GET", target: "/g", headers: []string{"Host", "{host}"}, body: []byte("x=1")},
		{name: "post_empty_content_length_0", method: "POST", target: "/e", headers: []string{"Host", "{host}", "Content-Length", "0"}},
		{name: "delete", method: "DELETE", target: "/items/7", headers: []string{"Host", "{host}", "Authorization", "Bearer abc.def"}},
		{name: "options", method: "OPTIONS", target: "/", headers: []string{"Host", "{host}", "Origin", "https://app.example", "Access-Control-Request-Method", "PUT"}},
		{name: "patch", method: "PATCH", target: "/items/7", headers: []string{"Host", "{host}", "Content-Type", "application/merge-patch+json"}, body: []byte(`{"a":null}`)},
		{name: "custom_method", method: "PURGE", target: "/cache/x", headers: []string{"Host", "{host}"}},
		{name: "head", method: "HEAD", target: "/h", headers: []string{"Host", "{host}", "Accept", "*/*"}},
		{name: "body_starting_with_at", method: "POST", target: "/at", headers: []string{"Host", "{host}", "Content-Type", "text/plain"}, body: []byte("@/etc/passwd")},
		{name: "odd_url", method: "GET", target: "/a/../b/./c[1]{2}?q='x'&y=$z&w=`id`&v=a|b",
			headers: []string{"Host", "{host}"}},
		{name: "host_differs_from_url", method: "GET", target: "/v", headers: []string{"Host", "virtual.example.test"}},
		{name: "chunked", method: "POST", target: "/chunked", headers: []string{"Host", "{host}", "Transfer-Encoding", "chunked", "Content-Type", "text/plain"}, body: []byte("chunky body")},
		{name: "multipart_crlf", method: "POST", target: "/form",
			headers: []string{"Host", "{host}", "Content-Type", "multipart/form-data; boundary=XyZ"},
			body:    []byte("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nline\twith tab\r\n--XyZ--\r\n")},
		{name: "text_200k", method: "POST", target: "/big", headers: []string{"Host", "{host}", "Content-Type", "text/plain"}, body: long},
		{name: "text_2k_no_expect", method: "PUT", target: "/mid", headers: []string{"Host", "{host}", "Content-Type", "text/plain"}, body: long[:2000]},
		{name: "http_1_0", method: "GET", target: "/old", proto: "HTTP/1.0", headers: []string{"Host", "{host}", "User-Agent", "old"}},
	}
}

func needCurl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found: install Debian package curl")
	}
	return path
}

// TestCurlReproducesRequest runs each generated command with real curl,
// under /bin/sh and bash, and checks the origin got the original request:
// method, target, version, every header in order with its case, and the
// body byte for byte.
func TestCurlReproducesRequest(t *testing.T) {
	needCurl(t)
	origin := newRawOrigin(t)
	for _, sh := range shells(t) {
		for _, tc := range replayCases() {
			t.Run(filepath.Base(sh)+"/"+tc.name, func(t *testing.T) {
				req := tc.request(t, origin.URL())
				dir := t.TempDir()
				var opts export.Options
				if tc.bodyFile {
					opts.BodyFile = "body.bin"
				}
				cmd, body := export.CurlCommand(req, opts)
				if tc.bodyFile != (body != nil) {
					t.Fatalf("body file bytes returned: %v, want %v", body != nil, tc.bodyFile)
				}
				writeBodyFile(t, dir, "body.bin", body)
				runShell(t, sh, dir, strings.Replace(cmd, "curl ", "curl -sS --max-time 10 ", 1))
				got := origin.next(t)
				checkReceived(t, got, req, true)
				if t.Failed() {
					t.Logf("command:\n%s", clip(cmd))
				}
			})
		}
	}
}

// checkReceived compares what the origin got with the request. exact asks
// for the same header list in order; otherwise each original header must
// be there with its value.
func checkReceived(t *testing.T, got received, want *flowstore.Request, exact bool) {
	t.Helper()
	if got.Method != want.Method {
		t.Errorf("method %q, want %q", got.Method, want.Method)
	}
	if got.Target != want.Path {
		t.Errorf("target %q, want %q", got.Target, want.Path)
	}
	if wantProto := wire.HTTP1Proto(want.Proto); got.Proto != wantProto {
		t.Errorf("version %q, want %q", got.Proto, wantProto)
	}
	if !bytes.Equal(got.Body, want.Body.Data) {
		t.Errorf("body (%d bytes) %q\nwant (%d bytes) %q", len(got.Body), clip(string(got.Body)), len(want.Body.Data), clip(string(want.Body.Data)))
	}
	wantHost := want.Headers.Get("Host")
	if wantHost == "" {
		wantHost = want.Authority()
	}
	if h := got.Headers.Get("Host"); h != wantHost {
		t.Errorf("Host %q, want %q", h, wantHost)
	}
	framed := len(want.Body.Data) > 0 || want.Headers.Has("Content-Length")
	if cl := got.Headers.Get("Content-Length"); !wire.Chunked(want.Headers) && framed && cl != strconv.Itoa(len(want.Body.Data)) {
		t.Errorf("Content-Length %q, want %d", cl, len(want.Body.Data))
	}
	gotH, wantH := withoutFraming(got.Headers), withoutFraming(want.Headers)
	if exact {
		if gotH.String() != wantH.String() {
			t.Errorf("headers:\n%s\nwant:\n%s", gotH, wantH)
		}
		return
	}
	for _, kv := range wantH {
		found := false
		for _, g := range gotH {
			found = found || strings.EqualFold(g.Name, kv.Name) && g.Value == kv.Value
		}
		if !found {
			t.Errorf("header %s: %q missing; got:\n%s", kv.Name, kv.Value, gotH)
		}
	}
}

func withoutFraming(h flowstore.Headers) flowstore.Headers {
	h = h.Clone()
	h.Del("Host")
	h.Del("Content-Length")
	return h
}

func TestCurlCommand(t *testing.T) {
	tests := []struct {
		name   string
		req    *flowstore.Request
		opts   export.Options
		want   string
		wantBF bool
	}{
		{
			name: "get_skips_host_and_unsets_curl_defaults",
			req:  &flowstore.Request{Method: "GET", Scheme: "https", Host: "example.com", Port: 443, Path: "/a?b=c", Proto: "HTTP/1.1", Headers: flowstore.Headers{{Name: "Host", Value: "example.com"}}},
			want: "curl 'https://example.com/a?b=c' \\\n  -H 'Accept:' \\\n  -H 'User-Agent:'",
		},
		{
			name: "http2_over_https",
			req: &flowstore.Request{Method: "GET", Scheme: "https", Host: "example.com", Port: 443, Path: "/", Proto: "HTTP/2.0",
				Headers: flowstore.Headers{{Name: "user-agent", Value: "x"}, {Name: "accept", Value: "*/*"}, {Name: "accept-encoding", Value: "br;q=1, gzip;q=0.8"}}},
			want: "curl 'https://example.com/' \\\n  --http2 \\\n  -H 'user-agent: x' \\\n  -H 'accept: */*' \\\n  -H 'accept-encoding: br;q=1, gzip;q=0.8' \\\n  --compressed",
		},
		{
			name: "quote_in_body_and_unprintable_header",
			req: &flowstore.Request{Method: "PUT", Scheme: "http", Host: "::1", Port: 8080, Path: "/", Proto: "HTTP/1.1",
				Headers: flowstore.Headers{{Name: "X-Esc", Value: "a\x1bb"}, {Name: "Accept", Value: "*/*"}, {Name: "User-Agent", Value: "u"}, {Name: "Content-Type", Value: "text/plain"}},
				Body:    flowstore.NewBody([]byte("it's"))},
			want: "curl -X 'PUT' 'http://[::1]:8080/' \\\n  --globoff \\\n  -H 'X-Esc: a'\"$(printf '\\033')\"'b' \\\n  -H 'Accept: */*' \\\n  -H 'User-Agent: u' \\\n  -H 'Content-Type: text/plain' \\\n  --data-binary 'it'\\''s'",
		},
		{
			name: "binary_body_to_file",
			req: &flowstore.Request{Method: "POST", Scheme: "http", Host: "h", Port: 80, Path: "/", Proto: "HTTP/1.1",
				Headers: flowstore.Headers{{Name: "Accept", Value: "*/*"}, {Name: "User-Agent", Value: "u"}, {Name: "Content-Type", Value: "image/png"}},
				Body:    flowstore.NewBody([]byte("\x89PNG\x00"))},
			opts:   export.Options{BodyFile: "/tmp/it's body.png"},
			want:   "curl 'http://h/' \\\n  -H 'Accept: */*' \\\n  -H 'User-Agent: u' \\\n  -H 'Content-Type: image/png' \\\n  --data-binary '@/tmp/it'\\''s body.png'",
			wantBF: true,
		},
		{
			name: "binary_body_piped",
			req: &flowstore.Request{Method: "POST", Scheme: "http", Host: "h", Port: 80, Path: "/", Proto: "HTTP/1.1",
				Headers: flowstore.Headers{{Name: "Accept", Value: "*/*"}, {Name: "User-Agent", Value: "u"}, {Name: "Content-Type", Value: "image/png"}},
				Body:    flowstore.NewBody([]byte("\x89PNG\r\n\x00%'\\"))},
			want: "printf '\\211PNG\\r\\n\\000%%'\\''\\\\' | curl 'http://h/' \\\n  -H 'Accept: */*' \\\n  -H 'User-Agent: u' \\\n  -H 'Content-Type: image/png' \\\n  --data-binary @-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bf := export.CurlCommand(tt.req, tt.opts)
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if (bf != nil) != tt.wantBF || bf != nil && !bytes.Equal(bf, tt.req.Body.Data) {
				t.Errorf("body file bytes %q, want them: %v", bf, tt.wantBF)
			}
		})
	}
}
