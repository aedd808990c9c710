package flowstore_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// Flows as the proxy records them pass untouched.
func TestValidateLoadedKeepsGoodFlows(t *testing.T) {
	ws := flowtest.New(flowtest.Status(101))
	ws.Messages = []flowstore.Message{
		{FromClient: true, Time: flowtest.Base, Kind: flowstore.MessageText, Data: []byte("hi"), Size: 2},
		{Time: flowtest.Base, Kind: flowstore.MessageClose, Size: 2, CloseCode: 1000},
	}
	edited := flowtest.New(flowtest.Comment("edited"))
	edited.KeepOriginal()
	edited.Response.Status = 418
	truncated := flowtest.New()
	truncated.Response.Body = flowstore.Body{Data: []byte("abc"), Size: 5 << 30, Truncated: true}
	for name, f := range map[string]*flowstore.Flow{
		"done":      flowtest.New(),
		"failed":    flowtest.New(flowtest.Failed("connection refused"), flowtest.Marked()),
		"post":      flowtest.New(flowtest.Method("POST"), flowtest.ReqBody("text/plain", []byte("x=1"))),
		"https v6":  flowtest.New(flowtest.URL("https://[::1]:8443/a?b=c")),
		"websocket": ws,
		"edited":    edited,
		"truncated": truncated,
		"escapes":   flowtest.New(flowtest.Method("GE\x1bT"), flowtest.RespHeader("X", "a\x07b")),
	} {
		t.Run(name, func(t *testing.T) {
			before := normalize(f)
			notes, keep := flowstore.ValidateLoaded(f)
			if !keep || len(notes) > 0 {
				t.Fatalf("keep %v, notes %q", keep, notes)
			}
			if after := normalize(f); after != before {
				t.Fatalf("changed:\n%s\n%s", before, after)
			}
		})
	}
}

// Each impossible value is named with what was wrong and what was done,
// and the flow either keeps a true value or is dropped.
func TestValidateLoadedRepairsOrDrops(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*flowstore.Flow)
		note  string
		keep  bool
		check func(*flowstore.Flow) bool
	}{
		{"port", func(f *flowstore.Flow) { f.Request.Port = 99999999999 },
			"request port 99999999999 is out of range (1-65535); flow dropped", false, nil},
		{"negative port", func(f *flowstore.Flow) { f.Request.Port = -1 }, "request port -1 is out of range", false, nil},
		{"no method", func(f *flowstore.Flow) { f.Request.Method = "" }, "request has no method; flow dropped", false, nil},
		{"scheme", func(f *flowstore.Flow) { f.Request.Scheme = "gopher" }, `request scheme "gopher" is not http, https, ws or wss; flow dropped`, false, nil},
		{"scheme case", func(f *flowstore.Flow) { f.Request.Scheme = "HTTPS" }, `request scheme "HTTPS"; set to "https"`, true,
			func(f *flowstore.Flow) bool { return f.Request.Scheme == "https" }},
		{"host with a path", func(f *flowstore.Flow) { f.Request.Host = "bank.test/login?x=" },
			`request host "bank.test/login?x=" is not a host name or an IP address; flow dropped`, false, nil},
		{"host with user info", func(f *flowstore.Flow) { f.Request.Host = "bank.test@evil.test" }, "is not a host name", false, nil},
		{"host colon not IPv6", func(f *flowstore.Flow) { f.Request.Host = "a:b" }, "is not a host name", false, nil},
		{"no host", func(f *flowstore.Flow) { f.Request.Host = "" }, `request host "" is not a host name`, false, nil},
		{"path", func(f *flowstore.Flow) { f.Request.Path = "x" }, `request path "x" does not start with /; a / was put before it`, true,
			func(f *flowstore.Flow) bool { return f.Request.URL() == "http://example.test/x" }},
		{"proto", func(f *flowstore.Flow) { f.Request.Proto = "SPDY/3" }, `request version "SPDY/3" is not an HTTP version; set to HTTP/1.1`, true,
			func(f *flowstore.Flow) bool { return f.Request.Proto == "HTTP/1.1" }},
		{"status", func(f *flowstore.Flow) { f.Response.Status = 99999999999 },
			"response status 99999999999 is not an HTTP status (100-999); the response is dropped", true,
			func(f *flowstore.Flow) bool {
				return f.Response == nil && f.State == flowstore.StateError &&
					strings.Contains(f.Error.Error(), "response: the loaded file's response had status 99999999999")
			}},
		{"status 0", func(f *flowstore.Flow) { f.Response.Status = 0 }, "response status 0 is not an HTTP status", true,
			func(f *flowstore.Flow) bool { return f.Response == nil }},
		{"body size", func(f *flowstore.Flow) { f.Response.Body.Size = 1e18 },
			"response body size 1000000000000000000 is more than 1 TiB; set to the 5 bytes kept", true,
			func(f *flowstore.Flow) bool { return f.Response.Body.Size == 5 }},
		{"body size below data", func(f *flowstore.Flow) { f.Response.Body.Size = -3 },
			"response body size -3 is less than the 5 bytes kept; set to 5", true,
			func(f *flowstore.Flow) bool { return f.Response.Body.Size == 5 }},
		{"body size untruncated", func(f *flowstore.Flow) { f.Response.Body.Size = 900 },
			"response body size 900, but 5 bytes are kept and it is not marked truncated; set to 5", true,
			func(f *flowstore.Flow) bool { return f.Response.Body.Size == 5 }},
		{"request body", func(f *flowstore.Flow) { f.Request.Body = flowstore.Body{Size: 1 << 62, Truncated: true} },
			"request body size 4611686018427387904 is more than 1 TiB; set to the 0 bytes kept", true,
			func(f *flowstore.Flow) bool { return f.Request.Body.Size == 0 && f.Request.Body.Truncated }},
		{"bytes in", func(f *flowstore.Flow) { f.BytesIn = -7 }, "bytes_in -7 is out of range (0 to 1 TiB); cleared", true,
			func(f *flowstore.Flow) bool { return f.BytesIn == 0 }},
		{"bytes out", func(f *flowstore.Flow) { f.BytesOut = 1e18 }, "bytes_out 1000000000000000000 is out of range", true,
			func(f *flowstore.Flow) bool { return f.BytesOut == 0 }},
		{"end before start", func(f *flowstore.Flow) { f.Timings.End = f.Timings.Start.Add(-time.Hour) },
			"end time 2026-01-02T14:04:05Z is before the start 2026-01-02T15:04:05Z; cleared", true,
			func(f *flowstore.Flow) bool { return f.Timings.End.IsZero() && f.Timings.Duration() == 0 }},
		{"phase after end", func(f *flowstore.Flow) { f.Timings.FirstByte = f.Timings.End.Add(time.Second) },
			"first_byte time is after the end; cleared", true, func(f *flowstore.Flow) bool { return f.Timings.FirstByte.IsZero() }},
		{"year 9999", func(f *flowstore.Flow) { f.Timings.Start = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) },
			"start time 9999-01-01T00:00:00Z is outside 1970-2262; cleared", true, func(f *flowstore.Flow) bool { return f.Timings.Start.IsZero() }},
		{"client address", func(f *flowstore.Flow) { f.Client.Addr = "1.2.3.4:99999999999" },
			`client address "1.2.3.4:99999999999" is not host:port; cleared`, true, func(f *flowstore.Flow) bool { return f.Client.Addr == "" }},
		{"server ip", func(f *flowstore.Flow) { f.Server.IP = "nonsense" }, `server IP "nonsense" is not host:port; cleared`, true, nil},
		{"header without a name", func(f *flowstore.Flow) {
			f.Response.Headers = append(f.Response.Headers, flowstore.Header{Value: "v"})
		}, "1 response header(s) without a name; removed", true, func(f *flowstore.Flow) bool { return len(f.Response.Headers) == 2 }},
		{"error phase", func(f *flowstore.Flow) { f.Error = &flowstore.Error{Phase: "lunch", Message: "m"} },
			`error phase "lunch" is unknown; cleared`, true, func(f *flowstore.Flow) bool { return f.Error.Error() == "m" }},
		{"paused phase", func(f *flowstore.Flow) { f.Paused = "coffee" }, `paused phase "coffee" is unknown; cleared`, true, nil},
		{"message kind", func(f *flowstore.Flow) {
			f.Messages = []flowstore.Message{{Kind: "smoke"}, {Kind: flowstore.MessageText, Data: []byte("ok"), Size: 2}}
		}, `message 1: kind "smoke" is unknown; message dropped`, true,
			func(f *flowstore.Flow) bool { return len(f.Messages) == 1 && string(f.Messages[0].Data) == "ok" }},
		{"message size", func(f *flowstore.Flow) {
			f.Messages = []flowstore.Message{{Kind: flowstore.MessageClose, Data: []byte("bye"), Size: -1, CloseCode: 99999}}
		}, "message 1: size -1 is out of range (0 to 1 TiB); set to the 3 bytes kept", true,
			func(f *flowstore.Flow) bool { return f.Messages[0].Size == 3 && f.Messages[0].CloseCode == 0 }},
		{"messages dropped", func(f *flowstore.Flow) { f.MessagesDropped = -5 }, "messages_dropped -5 is negative; cleared", true, nil},
		{"original", func(f *flowstore.Flow) {
			f.KeepOriginal()
			f.Original.Request.Port = 70000
		}, "original request port 70000 is out of range (1-65535); the original messages before the edit are dropped", true,
			func(f *flowstore.Flow) bool { return f.Original == nil && f.Request.Port == 80 }},
		{"no request", func(f *flowstore.Flow) { f.Request = nil }, "no request; flow dropped", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := flowtest.New()
			tc.mod(f)
			notes, keep := flowstore.ValidateLoaded(f)
			if keep != tc.keep || !strings.Contains(strings.Join(notes, "\n"), tc.note) {
				t.Fatalf("keep %v, notes %q; want keep %v and %q", keep, notes, tc.keep, tc.note)
			}
			if tc.check != nil && !tc.check(f) {
				t.Fatalf("not repaired: %s", normalize(f))
			}
			if keep {
				// What is kept is valid: checking it again finds nothing.
				if again, _ := flowstore.ValidateLoaded(f); len(again) > 0 {
					t.Fatalf("a repaired flow still has problems: %q", again)
				}
			}
		})
	}
}

// The file: impossible numbers in a file of good flows. Each bad
// value is reported with its line, flow, field and what was done; the
// good flows load unchanged; nothing panics.
func TestReadLinesValidatesValues(t *testing.T) {
	good := []*flowstore.Flow{flowtest.New(), flowtest.New(flowtest.Method("POST")), flowtest.New()}
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	s.Save(good[0])
	bad := func(id string, mod func(m map[string]any)) {
		f := flowtest.New()
		f.ID = id
		line, _ := flowstore.MarshalLine(f)
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		mod(m)
		b, _ := json.Marshal(m)
		buf.Write(append(b, '\n'))
	}
	bad("status", func(m map[string]any) { m["response"].(map[string]any)["status"] = json.Number("99999999999") })
	s.Save(good[1])
	bad("port", func(m map[string]any) { m["request"].(map[string]any)["port"] = json.Number("99999999999") })
	bad("size", func(m map[string]any) {
		m["response"].(map[string]any)["body"].(map[string]any)["size"] = json.Number("1000000000000000000")
	})
	bad("float", func(m map[string]any) {
		m["response"].(map[string]any)["body"].(map[string]any)["size"] = json.Number("1e18")
	})
	s.Save(good[2])

	flows, warns, err := flowstore.ReadLines(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"line 2: flow status: response status 99999999999 is not an HTTP status (100-999); the response is dropped",
		"line 4: flow port: request port 99999999999 is out of range (1-65535); flow dropped",
		"line 5: flow size: response body size 1000000000000000000 is more than 1 TiB; set to the 5 bytes kept",
		"line 6: json: cannot unmarshal number 1e18 into Go struct field Body.response.body.size of type int64; skipped",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ids := map[string]*flowstore.Flow{}
	for _, f := range flows {
		ids[f.ID] = f
	}
	if len(flows) != 5 || ids["port"] != nil {
		t.Fatalf("loaded %d flows: %v", len(flows), ids)
	}
	for _, g := range good {
		if f := ids[g.ID]; f == nil || normalize(f) != normalize(g) {
			t.Errorf("good flow %s lost or changed", g.ID)
		}
	}
	if f := ids["status"]; f.Response != nil || f.State != flowstore.StateError {
		t.Errorf("the flow with status 99999999999: %s", normalize(f))
	}
	if f := ids["size"]; f.Response.Body.Size != 5 {
		t.Errorf("the flow with size 1e18: %d", f.Response.Body.Size)
	}
}

// A note quotes at most a short piece of a bad value: a file with a
// megabyte host does not make a megabyte warning.
func TestValidateLoadedNotesStayShort(t *testing.T) {
	f := flowtest.New()
	f.Request.Host = strings.Repeat("a/", 1<<20)
	notes, keep := flowstore.ValidateLoaded(f)
	if keep || len(notes) != 1 || len(notes[0]) > 200 || !strings.HasPrefix(notes[0], `request host "a/a/a/`) {
		t.Fatalf("keep %v, notes %q", keep, notes)
	}
}
