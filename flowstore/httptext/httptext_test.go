package httptext_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/httptext"
)

// These goldens are compared byte for byte: x/exp/golden (used elsewhere)
// folds CRLF into LF, and a raw message's line ends and a binary body's
// bytes are what these tests are about.
var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "__")+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func mustEncode(t testing.TB, data, ce string) []byte {
	t.Helper()
	b, err := content.Encode([]byte(data), ce)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// jsonPost is a POST whose JSON body went out gzip-encoded.
func jsonPost(t testing.TB) *flowstore.Request {
	f := flowtest.New(flowtest.URL("https://api.example.test/v1/items?x=1"), flowtest.Method("POST"),
		flowtest.ReqHeader("Content-Type", "application/json"),
		flowtest.ReqHeader("Content-Encoding", "gzip"),
		flowtest.ReqHeader("Content-Length", "999"))
	f.Request.Body = flowstore.NewBody(mustEncode(t, `{"name":"old"}`, "gzip"))
	return f.Request
}

func TestFormat(t *testing.T) {
	truncated := flowtest.New(flowtest.RespBody("text/html", []byte("\x1f\x8b\x08\x00 partial")), flowtest.RespHeader("Content-Encoding", "gzip")).Response
	truncated.Body.Truncated, truncated.Body.Size = true, 4096
	h2 := flowtest.New(flowtest.RespBody("text/plain", []byte("no reason phrase"))).Response
	h2.Proto, h2.Reason = "HTTP/2.0", ""

	tests := []struct {
		name string
		msg  any
	}{
		{"get", flowtest.New().Request},
		{"gzip_json_post_is_decoded", jsonPost(t)},
		{"ipv6_port", flowtest.New(flowtest.URL("http://[::1]:8080/a?b=c")).Request},
		{"binary_body_raw", flowtest.New(flowtest.Method("PUT"), flowtest.ReqBody("application/octet-stream", allBytes())).Request},
		{"response", flowtest.New(flowtest.RespHeader("Set-Cookie", "a=1; Path=/"), flowtest.RespHeader("Set-Cookie", "b=2")).Response},
		{"truncated_gzip_response_is_raw", truncated},
		{"http2_response_without_reason", h2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch m := tt.msg.(type) {
			case *flowstore.Request:
				golden(t, httptext.FormatRequest(m))
			case *flowstore.Response:
				golden(t, httptext.FormatResponse(m))
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	get := flowtest.New().Request // GET http://example.test/path, Host, User-Agent
	post := jsonPost(t)
	binary := flowtest.New(flowtest.Method("PUT"), flowtest.ReqBody("application/octet-stream", allBytes())).Request
	endsInNewline := flowtest.New(flowtest.Method("POST"), flowtest.ReqBody("text/plain", []byte("line\n"))).Request
	corrupt := flowtest.New(flowtest.Method("POST"), flowtest.ReqBody("text/plain", []byte("not gzip")), flowtest.ReqHeader("Content-Encoding", "gzip")).Request
	chunked := flowtest.New(flowtest.Method("POST"), flowtest.ReqBody("text/plain", []byte("abc")), flowtest.ReqHeader("Transfer-Encoding", "chunked")).Request
	withTrailers := flowtest.New().Request
	withTrailers.Trailers = flowstore.Headers{{Name: "X-Checksum", Value: "1"}}

	type want struct {
		method, scheme, host, path, proto string
		port                              int
		headers                           string // Headers.String()
		body                              string // wire bytes
		decoded                           string // body after undoing Content-Encoding, when it has one
	}
	tests := []struct {
		name string
		text string
		orig *flowstore.Request
		want want
		same bool // the body must be the original's bytes (not re-encoded)
	}{
		{
			name: "unchanged_get",
			text: string(httptext.FormatRequest(get)), orig: get,
			want: want{method: "GET", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest"},
		},
		{
			name: "crlf",
			text: "GET http://example.test/p?q=1 HTTP/1.1\r\nHost: example.test\r\nX-A: 1\r\n\r\n",
			want: want{method: "GET", scheme: "http", host: "example.test", port: 80, path: "/p?q=1", proto: "HTTP/1.1",
				headers: "Host: example.test\nX-A: 1"},
		},
		{
			name: "origin_form_with_host_header",
			text: "DELETE /items/7 HTTP/1.1\nHost: api.example.test:8443\n\n", orig: post,
			want: want{method: "DELETE", scheme: "https", host: "api.example.test", port: 8443, path: "/items/7", proto: "HTTP/1.1",
				headers: "Host: api.example.test:8443"},
		},
		{
			name: "origin_form_without_host_keeps_the_original_host",
			text: "GET /other HTTP/1.1\nAccept: */*\n\n", orig: post,
			want: want{method: "GET", scheme: "https", host: "api.example.test", port: 443, path: "/other", proto: "HTTP/1.1",
				headers: "Accept: */*"},
		},
		{
			name: "new_host_in_url_moves_host_header",
			text: "GET https://staging.example.test:444/path HTTP/1.1\nHost: example.test\nUser-Agent: flowtest\n\n", orig: get,
			want: want{method: "GET", scheme: "https", host: "staging.example.test", port: 444, path: "/path", proto: "HTTP/1.1",
				headers: "Host: staging.example.test:444\nUser-Agent: flowtest"},
		},
		{
			name: "host_header_edited_by_hand_is_kept",
			text: "GET http://127.0.0.1:8080/path HTTP/1.1\nHost: virtual.example.test\n\n", orig: get,
			want: want{method: "GET", scheme: "http", host: "127.0.0.1", port: 8080, path: "/path", proto: "HTTP/1.1",
				headers: "Host: virtual.example.test"},
		},
		{
			name: "ipv6_and_http2_and_no_path",
			text: "GET http://[::1]:9000?x HTTP/2\n\n",
			want: want{method: "GET", scheme: "http", host: "::1", port: 9000, path: "/?x", proto: "HTTP/2.0"},
		},
		{
			name: "no_version_takes_the_original",
			text: "OPTIONS http://example.test/x\n",
			orig: &flowstore.Request{Proto: "HTTP/1.0"},
			want: want{method: "OPTIONS", scheme: "http", host: "example.test", port: 80, path: "/x", proto: "HTTP/1.0"},
		},
		{
			name: "new_body_gets_content_length",
			text: "POST http://example.test/ HTTP/1.1\nContent-Type: text/plain\n\nhello\n",
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/", proto: "HTTP/1.1",
				headers: "Content-Type: text/plain\nContent-Length: 5", body: "hello"},
		},
		{
			name: "gzip_body_unchanged_keeps_original_bytes",
			text: string(httptext.FormatRequest(post)) + "\n", orig: post, same: true,
			want: want{method: "POST", scheme: "https", host: "api.example.test", port: 443, path: "/v1/items?x=1", proto: "HTTP/1.1",
				headers: "Host: api.example.test\nUser-Agent: flowtest\nContent-Type: application/json\nContent-Encoding: gzip\nContent-Length: 999",
				decoded: `{"name":"old"}`},
		},
		{
			name: "gzip_body_edited_is_reencoded",
			text: strings.Replace(string(httptext.FormatRequest(post)), "old", "new", 1) + "\n", orig: post,
			want: want{method: "POST", scheme: "https", host: "api.example.test", port: 443, path: "/v1/items?x=1", proto: "HTTP/1.1",
				headers: "Host: api.example.test\nUser-Agent: flowtest\nContent-Type: application/json\nContent-Encoding: gzip\nContent-Length: LEN",
				decoded: `{"name":"new"}`},
		},
		{
			name: "content_encoding_removed_sends_plain",
			text: strings.Replace(string(httptext.FormatRequest(post)), "Content-Encoding: gzip\n", "", 1), orig: post,
			want: want{method: "POST", scheme: "https", host: "api.example.test", port: 443, path: "/v1/items?x=1", proto: "HTTP/1.1",
				headers: "Host: api.example.test\nUser-Agent: flowtest\nContent-Type: application/json\nContent-Length: 14",
				body:    `{"name":"old"}`},
		},
		{
			name: "content_encoding_changed_to_br",
			text: strings.Replace(string(httptext.FormatRequest(post)), "Content-Encoding: gzip", "Content-Encoding: br", 1), orig: post,
			want: want{method: "POST", scheme: "https", host: "api.example.test", port: 443, path: "/v1/items?x=1", proto: "HTTP/1.1",
				headers: "Host: api.example.test\nUser-Agent: flowtest\nContent-Type: application/json\nContent-Encoding: br\nContent-Length: LEN",
				decoded: `{"name":"old"}`},
		},
		{
			name: "body_that_ends_in_newline_keeps_it",
			text: string(httptext.FormatRequest(endsInNewline)) + "more\n", orig: endsInNewline,
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest\nContent-Type: text/plain\nContent-Length: 10", body: "line\nmore\n"},
		},
		{
			name: "crlf_file_drops_editor_crlf",
			text: "POST http://example.test/ HTTP/1.1\r\nContent-Length: 1\r\n\r\na=1&b=2\r\n",
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/", proto: "HTTP/1.1",
				headers: "Content-Length: 7", body: "a=1&b=2"},
		},
		{
			name: "binary_body_with_editor_newline_is_byte_exact",
			text: string(httptext.FormatRequest(binary)) + "\n", orig: binary, same: true,
			want: want{method: "PUT", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest\nContent-Type: application/octet-stream", body: string(allBytes())},
		},
		{
			name: "undecodable_body_is_edited_as_wire_bytes",
			text: strings.Replace(string(httptext.FormatRequest(corrupt)), "not gzip", "still not gzip", 1), orig: corrupt,
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest\nContent-Type: text/plain\nContent-Encoding: gzip\nContent-Length: 14",
				body:    "still not gzip"},
		},
		{
			name: "changed_body_drops_chunked",
			text: strings.Replace(string(httptext.FormatRequest(chunked)), "abc", "abcdef", 1), orig: chunked,
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest\nContent-Type: text/plain\nContent-Length: 6", body: "abcdef"},
		},
		{
			name: "unchanged_body_keeps_chunked",
			text: string(httptext.FormatRequest(chunked)), orig: chunked, same: true,
			want: want{method: "POST", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest\nContent-Type: text/plain\nTransfer-Encoding: chunked", body: "abc"},
		},
		{
			name: "leading_blank_lines_and_spaces_in_values",
			text: "\n\nGET   http://example.test/   HTTP/1.1\nX-Spaced:   a b  \n",
			want: want{method: "GET", scheme: "http", host: "example.test", port: 80, path: "/", proto: "HTTP/1.1",
				headers: "X-Spaced: a b"},
		},
		{
			name: "trailers_are_kept",
			text: string(httptext.FormatRequest(withTrailers)), orig: withTrailers,
			want: want{method: "GET", scheme: "http", host: "example.test", port: 80, path: "/path", proto: "HTTP/1.1",
				headers: "Host: example.test\nUser-Agent: flowtest"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httptext.ParseRequest([]byte(tt.text), tt.orig)
			if err != nil {
				t.Fatalf("ParseRequest: %v\ntext:\n%s", err, tt.text)
			}
			w := tt.want
			if got.Method != w.method || got.Scheme != w.scheme || got.Host != w.host || got.Port != w.port || got.Path != w.path || got.Proto != w.proto {
				t.Errorf("got %s %s://%s:%d%s %s, want %s %s://%s:%d%s %s", got.Method, got.Scheme, got.Host, got.Port, got.Path, got.Proto,
					w.method, w.scheme, w.host, w.port, w.path, w.proto)
			}
			checkBody(t, got.Headers, got.Body, w.headers, w.body, w.decoded)
			if tt.same && !sameBytes(got.Body.Data, tt.orig.Body.Data) {
				t.Errorf("body was rebuilt; want the original's bytes kept")
			}
			if tt.orig != nil && !reflect.DeepEqual(got.Trailers, tt.orig.Trailers) {
				t.Errorf("trailers = %v, want %v", got.Trailers, tt.orig.Trailers)
			}
		})
	}
}

// checkBody compares headers (with LEN standing for the body's length),
// the wire body, or the body decoded by its Content-Encoding.
func checkBody(t *testing.T, h flowstore.Headers, b flowstore.Body, wantHeaders, wantBody, wantDecoded string) {
	t.Helper()
	wantHeaders = strings.ReplaceAll(wantHeaders, "LEN", strconv.Itoa(len(b.Data)))
	if h.String() != wantHeaders {
		t.Errorf("headers:\n%s\nwant:\n%s", h.String(), wantHeaders)
	}
	if b.Size != int64(len(b.Data)) {
		t.Errorf("body size %d, len %d", b.Size, len(b.Data))
	}
	if wantDecoded != "" {
		dec, err := content.Decode(b.Data, h.Get("Content-Encoding"), 0)
		if err != nil {
			t.Fatalf("decode body: %v", err)
		}
		if string(dec) != wantDecoded {
			t.Errorf("decoded body %q, want %q", dec, wantDecoded)
		}
		return
	}
	if string(b.Data) != wantBody {
		t.Errorf("body %q, want %q", b.Data, wantBody)
	}
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		orig *flowstore.Request
		line int
		msg  string
	}{
		{"empty", "", nil, 1, "empty message"},
		{"only_blank_lines", "\n\n \n", nil, 3, "empty message"},
		{"no_url", "GET\n", nil, 1, "needs a method and a URL"},
		{"bad_method", "GE(T http://x/ HTTP/1.1\n", nil, 1, `bad method "GE(T"`},
		{"header_without_colon", "GET http://x/ HTTP/1.1\nHost: x\nBad header\n\n", nil, 3, "header without a colon"},
		{"folded_header", "GET http://x/ HTTP/1.1\nA: b\n c\n", nil, 3, "folded header"},
		{"empty_header_name", "GET http://x/ HTTP/1.1\n: v\n", nil, 2, "empty name"},
		{"space_in_header_name", "GET http://x/ HTTP/1.1\nX Y: v\n", nil, 2, `bad header name "X Y"`},
		{"control_char_in_value", "GET http://x/ HTTP/1.1\nA: b\x00c\n", nil, 2, "control character"},
		{"line_count_skips_leading_blanks", "\n\nGET http://x/ HTTP/1.1\nno colon\n", nil, 4, "header without a colon"},
		{"ftp", "GET ftp://x/ HTTP/1.1\n", nil, 1, `unsupported scheme "ftp"`},
		{"bad_port", "GET http://x:99999/ HTTP/1.1\n", nil, 1, `bad port "99999"`},
		{"no_host", "GET http:///p HTTP/1.1\n", nil, 1, "no host"},
		{"userinfo", "GET http://u:p@x/ HTTP/1.1\n", nil, 1, "Authorization header"},
		{"relative", "GET p HTTP/1.1\n", nil, 1, "not an absolute URL"},
		{"path_without_host", "GET /p HTTP/1.1\nAccept: */*\n", nil, 1, "add a Host header"},
		{"bad_host_header", "GET /p HTTP/1.1\nAccept: */*\nHost: a b\n", nil, 3, "bad Host header"},
		{"bad_version", "GET http://x/ HTTP/1.1.1\n", nil, 1, `bad HTTP version "HTTP/1.1.1"`},
		{"space_in_url", "GET http://x/a b HTTP/1.1\n", nil, 1, "a space in the URL is written %20"},
		{"space_in_url_no_version", "GET http://x/a b\n", nil, 1, "a space in the URL is written %20"},
		{"unknown_encoding", "POST http://x/ HTTP/1.1\nA: b\nContent-Encoding: compress\n\nbody", nil, 3, `cannot encode the body`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := httptext.ParseRequest([]byte(tt.text), tt.orig)
			var pe *httptext.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRequest(%q) error = %v, want *ParseError", tt.text, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error %q, want line %d containing %q", err, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("Error() = %q, want it to start with the line", err)
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	// A HEAD response: Content-Length names the GET body, there is none.
	head := &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/html"}, {Name: "Content-Length", Value: "1234"}}}
	gz := flowtest.New(flowtest.RespBody("text/html", mustEncode(t, "<p>hi</p>", "gzip")), flowtest.RespHeader("Content-Encoding", "gzip")).Response

	tests := []struct {
		name                  string
		text                  string
		orig                  *flowstore.Response
		status                int
		reason, proto         string
		headers, body, decode string
	}{
		{"ok", "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nhello\n", nil, 200, "OK", "HTTP/1.1", "Content-Type: text/plain\nContent-Length: 5", "hello", ""},
		{"reason_with_spaces", "HTTP/1.0 404 Not Found Here\n\n", nil, 404, "Not Found Here", "HTTP/1.0", "", "", ""},
		{"http2_no_reason", "HTTP/2 204\n\n", nil, 204, "", "HTTP/2.0", "", "", ""},
		{"lowercase_version", "http/1.1 500 Oops\r\n\r\n", nil, 500, "Oops", "HTTP/1.1", "", "", ""},
		{"head_response_keeps_content_length", string(httptext.FormatResponse(head)), head, 200, "OK", "HTTP/1.1", "Content-Type: text/html\nContent-Length: 1234", "", ""},
		{"status_edited_body_unchanged", strings.Replace(string(httptext.FormatResponse(gz)), "200 OK", "503 Service Unavailable", 1) + "\n", gz, 503, "Service Unavailable", "HTTP/1.1",
			"Content-Type: text/html\nContent-Encoding: gzip", string(gz.Body.Data), ""},
		{"gzip_body_edited", strings.Replace(string(httptext.FormatResponse(gz)), "hi", "bye", 1), gz, 200, "OK", "HTTP/1.1",
			"Content-Type: text/html\nContent-Encoding: gzip\nContent-Length: LEN", "", "<p>bye</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httptext.ParseResponse([]byte(tt.text), tt.orig)
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if got.Status != tt.status || got.Reason != tt.reason || got.Proto != tt.proto {
				t.Errorf("status line %s %d %q, want %s %d %q", got.Proto, got.Status, got.Reason, tt.proto, tt.status, tt.reason)
			}
			checkBody(t, got.Headers, got.Body, tt.headers, tt.body, tt.decode)
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		text string
		line int
		msg  string
	}{
		{"200 OK\n", 1, "must start with an HTTP version"},
		{"HTTP/1.1 20 OK\n", 1, `bad status code "20"`},
		{"HTTP/1.1 abc OK\n", 1, `bad status code "abc"`},
		{"HTTP/1.1 099\n", 1, "bad status code"},
		{"HTTP/x 200 OK\n", 1, "bad HTTP version"},
		{"HTTP/1.1 200 OK\nContent-Type text/plain\n", 2, "header without a colon"},
	}
	for _, tt := range tests {
		_, err := httptext.ParseResponse([]byte(tt.text), nil)
		var pe *httptext.ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("ParseResponse(%q) = %v, want line %d containing %q", tt.text, err, tt.line, tt.msg)
		}
	}
}

// vi writes a final newline unless the file already ends in one.
func vi(text []byte) []byte {
	if bytes.HasSuffix(text, []byte("\n")) {
		return text
	}
	return append(text, '\n')
}

// TestRoundTrip: formatting a message and parsing the text back, untouched
// or saved by an editor that ends files with a newline, gives the same
// message.
func TestRoundTrip(t *testing.T) {
	flows := []*flowstore.Flow{
		flowtest.New(),
		flowtest.New(flowtest.URL("https://example.test:8443/a%20b/c?d=e&f"), flowtest.Method("PATCH"), flowtest.ReqBody("application/json", []byte(`{"a":"ü"}`))),
		flowtest.New(flowtest.ReqBody("application/octet-stream", allBytes()), flowtest.RespBody("image/png", allBytes())),
		flowtest.New(flowtest.RespBody("text/html", mustEncode(t, "<p>x</p>\n", "br")), flowtest.RespHeader("Content-Encoding", "br")),
		flowtest.New(flowtest.URL("http://[2001:db8::1]/"), flowtest.ReqHeader("X-Dup", "1"), flowtest.ReqHeader("x-dup", "2")),
	}
	for i, f := range flows {
		for _, save := range []func([]byte) []byte{func(b []byte) []byte { return b }, vi} {
			text := save(httptext.FormatRequest(f.Request))
			req, err := httptext.ParseRequest(text, f.Request)
			if err != nil {
				t.Fatalf("flow %d: ParseRequest: %v\n%s", i, err, text)
			}
			if !reflect.DeepEqual(req, f.Request) {
				t.Errorf("flow %d request:\n got %+v\nwant %+v\ntext:\n%q", i, req, f.Request, text)
			}
			text = save(httptext.FormatResponse(f.Response))
			resp, err := httptext.ParseResponse(text, f.Response)
			if err != nil {
				t.Fatalf("flow %d: ParseResponse: %v", i, err)
			}
			if !reflect.DeepEqual(resp, f.Response) {
				t.Errorf("flow %d response:\n got %+v\nwant %+v\ntext:\n%q", i, resp, f.Response, text)
			}
		}
	}
}
