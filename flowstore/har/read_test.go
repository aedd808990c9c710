package har_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

const pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="

func readSample(t *testing.T, name string) ([]*flowstore.Flow, []har.Warning) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flows, warns, err := har.Read(f)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return flows, warns
}

// summary is one line per flow: what a user would check first.
func summary(f *flowstore.Flow) string {
	s := fmt.Sprintf("%s %s %s", f.Request.Method, f.Request.URL(), f.Request.Proto)
	if f.Response == nil {
		return s + " -> " + f.State.String() + ": " + f.Error.Message
	}
	body := decoded(nil, f.Response)
	if f.Response.Body.Truncated {
		return fmt.Sprintf("%s -> %d %s, body not kept (%d bytes)", s, f.Response.Status, f.Response.Proto, f.Response.Body.Size)
	}
	return fmt.Sprintf("%s -> %d %s, %d-byte body", s, f.Response.Status, f.Response.Proto, len(body))
}

// decoded is a response body as a user reads it: Content-Encoding undone.
func decoded(t *testing.T, r *flowstore.Response) string {
	b, err := content.Decode(r.Body.Data, strings.Join(r.Headers.Values("Content-Encoding"), ","), 0)
	if err != nil {
		if t != nil {
			t.Fatalf("decode response body: %v", err)
		}
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func mustDecode64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// contentLengthTrue checks that a Content-Length header, when there is
// one, matches the body the flow holds.
func contentLengthTrue(t *testing.T, f *flowstore.Flow) {
	t.Helper()
	for _, m := range []struct {
		h flowstore.Headers
		b flowstore.Body
	}{{f.Request.Headers, f.Request.Body}, {respHeaders(f), respBody(f)}} {
		if cl := m.h.Get("Content-Length"); cl != "" && !m.b.Truncated && cl != strconv.Itoa(len(m.b.Data)) {
			t.Errorf("%s: Content-Length %s but the body has %d bytes", f.Request.URL(), cl, len(m.b.Data))
		}
	}
}

func respHeaders(f *flowstore.Flow) flowstore.Headers {
	if f.Response == nil {
		return nil
	}
	return f.Response.Headers
}

func respBody(f *flowstore.Flow) flowstore.Body {
	if f.Response == nil {
		return flowstore.Body{}
	}
	return f.Response.Body
}

func TestReadSamples(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	tests := []struct {
		file  string
		want  []string
		warns []string
		check func(t *testing.T, fs []*flowstore.Flow)
	}{
		{
			file: "chrome.har",
			want: []string{
				"GET https://www.example.com/?utm_source=test&q=caf%C3%A9 HTTP/2.0 -> 200 HTTP/2.0, 213-byte body",
				"GET https://www.example.com/img/dot.png HTTP/2.0 -> 200 HTTP/2.0, 70-byte body",
				"POST https://api.example.com/v1/login?next=%2Fhome HTTP/2.0 -> 201 HTTP/2.0, 25-byte body",
				"POST https://www.example.com/search HTTP/2.0 -> 302 HTTP/2.0, 0-byte body",
				"GET https://tracker.invalid/collect?v=1 HTTP/1.1 -> error: net::ERR_NAME_NOT_RESOLVED",
				"GET wss://ws.example.com/socket HTTP/1.1 -> 101 HTTP/1.1, 0-byte body",
				"GET https://www.example.com/app.js HTTP/2.0 -> 200 HTTP/2.0, body not kept (13200 bytes)",
			},
			warns: []string{`line 370: entry 7: bad URL "chrome-extension://abcdefghijklmnopabcdefghijklmnop/content.js": unsupported scheme "chrome-extension" (want http or https); skipped`},
			check: func(t *testing.T, fs []*flowstore.Flow) {
				doc := fs[0]
				if got := doc.Request.Headers.String(); strings.Contains(got, ":authority") || !strings.HasPrefix(got, "accept: text/html") {
					t.Errorf("request headers kept pseudo-headers or lost order:\n%s", got)
				}
				if got := doc.Request.Headers.Get("cookie"); got != "session=abc123; theme=dark" {
					t.Errorf("cookie header %q", got)
				}
				if body := decoded(t, doc.Response); !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, "“quoted”") {
					t.Errorf("brotli body not restored: %q", body)
				}
				if doc.Response.Headers.Get("content-encoding") != "br" {
					t.Errorf("content-encoding changed: %v", doc.Response.Headers)
				}
				if want := "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443"; doc.Server.IP != want {
					t.Errorf("server IP %q, want %q", doc.Server.IP, want)
				}
				tm := doc.Timings
				if want := time.Date(2026, 1, 2, 15, 4, 5, 123e6, time.UTC); !tm.Start.Equal(want) {
					t.Errorf("start %v, want %v", tm.Start, want)
				}
				if got := tm.DNSStart.Sub(tm.Start); got != ms(3.245) {
					t.Errorf("blocked %v", got)
				}
				if got := tm.TLSDone.Sub(tm.TLSStart); got != ms(31.5) {
					t.Errorf("ssl %v", got)
				}
				if got, want := tm.Duration(), ms(3.245+12.1+52.75+0.41+110.014+9); got-want > time.Microsecond || want-got > time.Microsecond {
					t.Errorf("duration %v, want %v", got, want)
				}
				if got := string(fs[1].Response.Body.Data); got != mustDecode64(pngBase64) {
					t.Errorf("png body %q", got)
				}
				if got := string(fs[2].Request.Body.Data); got != `{"user":"ana","password":"p@ss \"w0rd\""}` {
					t.Errorf("login body %q", got)
				}
				if got := string(fs[3].Request.Body.Data); got != "q=caf%C3%A9+au+lait&page=2" {
					t.Errorf("form body %q", got)
				}
				if fs[4].State != flowstore.StateError || fs[4].Response != nil {
					t.Errorf("failed request: state %v, response %v", fs[4].State, fs[4].Response)
				}
				ws := fs[5]
				if ws.Request.Scheme != "wss" || ws.Request.Port != 443 || len(ws.Messages) != 3 {
					t.Fatalf("websocket flow: %s port %d, %d messages", ws.Request.Scheme, ws.Request.Port, len(ws.Messages))
				}
				m := ws.Messages
				if !m[0].FromClient || m[0].Kind != flowstore.MessageText || string(m[0].Data) != `{"op":"subscribe","channel":"prices"}` ||
					m[1].FromClient || string(m[1].Data) != `{"op":"ack"}` ||
					m[2].Kind != flowstore.MessageBinary || string(m[2].Data) != "\x00\x01\x02\x03" {
					t.Errorf("websocket messages %+v", m)
				}
			},
		},
		{
			file: "firefox.har",
			want: []string{
				"GET https://shop.example.org/api/items?page=1&sort=price HTTP/2.0 -> 200 HTTP/2.0, 71-byte body",
				"POST https://shop.example.org/cart/add HTTP/2.0 -> 303 HTTP/2.0, 0-byte body",
				"GET https://cdn.example.org/fonts/sans.woff2 HTTP/1.1 -> 200 HTTP/1.1, 48-byte body",
			},
			check: func(t *testing.T, fs []*flowstore.Flow) {
				if got := decoded(t, fs[0].Response); got != `{"items":[{"id":1,"name":"Widget"},{"id":2,"name":"Gadget"}],"total":2}` {
					t.Errorf("gzip JSON body %q", got)
				}
				if _, off := fs[0].Timings.Start.Zone(); off != 3600 {
					t.Errorf("start %v lost its +01:00 offset", fs[0].Timings.Start)
				}
				if got := string(fs[1].Request.Body.Data); got != "item=1&qty=2&note=gift+wrap%2C+please" {
					t.Errorf("form body %q", got)
				}
				if got := fs[1].Response.Headers.Get("Location"); got != "https://shop.example.org/cart" {
					t.Errorf("Location %q", got)
				}
				if got := fs[2].Response.Body.Data; !bytes.HasPrefix(got, []byte("wOF2")) {
					t.Errorf("font body %q", got)
				}
			},
		},
		{
			file: "mitmproxy.har",
			want: []string{
				"PUT http://192.168.1.20:8080/api/v2/devices/17?force=true HTTP/1.1 -> 200 HTTP/1.1, 39-byte body",
				"GET https://images.example.net/a.png HTTP/2.0 -> 200 HTTP/2.0, 70-byte body",
				"DELETE http://backend.internal:9000/jobs/42 HTTP/1.1 -> error: no response",
			},
			check: func(t *testing.T, fs []*flowstore.Flow) {
				put := fs[0]
				if got := string(put.Request.Body.Data); got != "{\"name\": \"lamp\", \"on\": false}\n" {
					t.Errorf("PUT body %q", got)
				}
				if put.Timings.Start.Nanosecond() != 123456000 {
					t.Errorf("start %v lost its microseconds", put.Timings.Start)
				}
				if got := put.Timings.ConnectDone.Sub(put.Timings.ConnectStart); got.Round(time.Microsecond) != 2131*time.Microsecond {
					t.Errorf("connect %v", got)
				}
				if put.Server.IP != "192.168.1.20:8080" || put.Server.Addr != "192.168.1.20:8080" {
					t.Errorf("server %+v", put.Server)
				}
				if got := fs[1].Server.IP; got != "[2001:db8::7]:443" {
					t.Errorf("server IP %q", got)
				}
				if got := fs[2].Timings.Duration(); got != ms(3001.25) {
					t.Errorf("failed DELETE lasted %v, want 3001.25ms", got)
				}
			},
		},
		{
			file: "charles.har",
			want: []string{
				"POST https://mobile-api.example.io/graphql HTTP/1.1 -> 200 HTTP/1.1, 41-byte body",
				"GET http://legacy.example.io/status.cgi?id=1&verbose HTTP/1.0 -> 500 HTTP/1.0, 6-byte body",
				"GET https://slow.example.io/report.pdf HTTP/1.1 -> error: no response",
			},
			check: func(t *testing.T, fs []*flowstore.Flow) {
				if got := decoded(t, fs[0].Response); got != `{"data":{"me":{"id":"u1","name":"Zoé"}}}` {
					t.Errorf("graphql body %q", got)
				}
				if got := fs[0].Request.Headers.Get("X-App-Version"); got != "5.12.0 (5120)" {
					t.Errorf("X-App-Version %q", got)
				}
				if fs[1].Comment != "flaky endpoint, ask backend team" || string(fs[1].Response.Body.Data) != "boom\r\n" {
					t.Errorf("comment %q body %q", fs[1].Comment, fs[1].Response.Body.Data)
				}
				if fs[0].Comment != "" || fs[0].Server.IP != "198.51.100.44:443" || fs[1].Server.IP != "" {
					t.Errorf("empty strings should read as nothing: comment %q, servers %q %q", fs[0].Comment, fs[0].Server.IP, fs[1].Server.IP)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			flows, warns := readSample(t, tt.file)
			var got []string
			for _, f := range flows {
				got = append(got, summary(f))
				contentLengthTrue(t, f)
				if f.ID == "" || f.Request == nil {
					t.Errorf("flow without ID or request: %+v", f)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if gw := warningStrings(warns); strings.Join(gw, "\n") != strings.Join(tt.warns, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(gw, "\n"), strings.Join(tt.warns, "\n"))
			}
			if len(flows) == len(tt.want) && tt.check != nil {
				tt.check(t, flows)
			}
		})
	}
}

func warningStrings(ws []har.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestReadDamaged(t *testing.T) {
	t.Run("cut_short", func(t *testing.T) {
		flows, warns := readSample(t, "truncated.har")
		if len(flows) != 1 || flows[0].Request.Method != "PUT" {
			t.Fatalf("got %d flows, want the PUT before the cut", len(flows))
		}
		want := "line 119: the file ends in the middle (cut short?); stopped reading after 1 flows"
		if gw := warningStrings(warns); len(gw) != 1 || gw[0] != want {
			t.Errorf("warnings %q, want %q", gw, want)
		}
	})
	t.Run("bad_entries", func(t *testing.T) {
		flows, warns := readSample(t, "bad_entries.har")
		var urls []string
		for _, f := range flows {
			urls = append(urls, f.Request.URL())
		}
		if want := "https://ok.example/first https://ok.example/typed https://ok.example/last"; strings.Join(urls, " ") != want {
			t.Errorf("loaded %q, want %q", urls, want)
		}
		want := []string{
			`line 12: entry 2: bad URL "ht!tp://bad url": unsupported scheme "ht!tp" (want http or https); skipped`,
			`line 18: entry 3: not an entry object: json: cannot unmarshal number into Go value of type har.Entry; skipped`,
			`line 19: entry 4: request has no method; skipped`,
			`line 25: entry 5: request.headersSize: string where int64 belongs; left empty`,
			`line 25: entry 5: request body: bad base64 (illegal base64 data at input byte 3); left empty`,
			`line 25: entry 5: response body kept decoded and Content-Encoding removed: encode: unknown content encoding "compress"`,
			`line 25: entry 5: bad startedDateTime "yesterday"; the flow has no times`,
		}
		if gw := warningStrings(warns); strings.Join(gw, "\n") != strings.Join(want, "\n") {
			t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(gw, "\n"), strings.Join(want, "\n"))
		}
		if len(flows) == 3 {
			typed := flows[1]
			if typed.Response.Headers.Has("Content-Encoding") || string(typed.Response.Body.Data) != "hello" {
				t.Errorf("typed entry response: %v %q", typed.Response.Headers, typed.Response.Body.Data)
			}
		}
	})
	t.Run("byte_order_mark", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "charles.har"))
		if err != nil {
			t.Fatal(err)
		}
		flows, _, err := har.Read(bytes.NewReader(append([]byte("\xef\xbb\xbf"), b...)))
		if err != nil || len(flows) != 3 {
			t.Errorf("with a BOM: %d flows, %v", len(flows), err)
		}
	})
}

func TestReadNotHAR(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"empty", "", "not a HAR file: want a JSON object"},
		{"text", "hello", "not a HAR file: want a JSON object"},
		{"array", "[]", "not a HAR file: want a JSON object"},
		{"no_log", `{"version": "1.2"}`, `no "log" object`},
		{"no_entries", `{"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}}}`, `the log has no "entries"`},
		{"json_lines", `{"id":"a","state":"done","request":{"method":"GET"}}` + "\n" + `{"id":"b"}`, `no "log" object`},
		{"cut_before_entries", "{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": {\"na", "line 4: the file ends in the middle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, _, err := har.Read(strings.NewReader(tt.in))
			if !errors.Is(err, har.ErrNotHAR) || !strings.Contains(err.Error(), tt.msg) || flows != nil {
				t.Errorf("Read(%q) = %d flows, %v; want ErrNotHAR containing %q", tt.in, len(flows), err, tt.msg)
			}
		})
	}
}
