package har_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

var creator = har.Creator{Name: "interceptor-tui", Version: "test"}

func id(s string) flowtest.Option { return func(f *flowstore.Flow) { f.ID = s } }

func encoded(t testing.TB, data, ce string) []byte {
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

// sampleFlows cover what an export must carry: every body kind, failures,
// truncation, HTTP/2, TLS, full timings, flags and links.
func sampleFlows(t testing.TB) []*flowstore.Flow {
	b := flowtest.Base
	tlsFlow := flowtest.New(id("f3"), flowtest.URL("https://api.example.test/v1/items?page=2&q=caf%C3%A9+au+lait"), flowtest.Method("POST"),
		flowtest.ReqHeader("Cookie", "sid=abc; theme=dark"),
		flowtest.ReqBody("application/json", []byte(`{"name":"Widget <b>&</b>","price":9.5}`)),
		flowtest.RespBody("application/json", encoded(t, `{"id":7,"name":"Widget"}`, "gzip")),
		flowtest.RespHeader("Content-Encoding", "gzip"),
		flowtest.RespHeader("Set-Cookie", "sid=def; Path=/; Expires=Sat, 03 Jan 2026 15:04:05 GMT; Secure; HttpOnly"),
		flowtest.Marked(), flowtest.Comment("the one that broke"))
	tlsFlow.Response.Status, tlsFlow.Response.Reason = 201, "Created"
	tlsFlow.Client = flowstore.Client{Addr: "127.0.0.1:50123", TLS: &flowstore.TLSInfo{Version: "TLS 1.3", SNI: "api.example.test", ALPN: "http/1.1"}}
	tlsFlow.Server = flowstore.Server{Addr: "api.example.test:443", IP: "[2001:db8::1]:443", TLS: &flowstore.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", CertSubject: "CN=api.example.test"}}
	tlsFlow.Timings = flowstore.Timings{Start: b, DNSStart: b.Add(100 * time.Microsecond), DNSDone: b.Add(2100 * time.Microsecond),
		ConnectStart: b.Add(2200 * time.Microsecond), ConnectDone: b.Add(5 * time.Millisecond), TLSStart: b.Add(5 * time.Millisecond),
		TLSDone: b.Add(12345678 * time.Nanosecond), RequestSent: b.Add(13 * time.Millisecond), FirstByte: b.Add(40 * time.Millisecond), End: b.Add(41500 * time.Microsecond)}
	tlsFlow.BytesIn, tlsFlow.BytesOut = 321, 654

	h2 := flowtest.New(id("f4"), flowtest.URL("https://cdn.example.test/logo.png"), flowtest.RespBody("image/png", []byte(mustDecode64(pngBase64))), flowtest.At(50*time.Millisecond))
	h2.Request.Proto, h2.Response.Proto, h2.Response.Reason = "HTTP/2.0", "HTTP/2.0", ""
	h2.Request.Headers = flowstore.Headers{{Name: "user-agent", Value: "curl/8"}, {Name: "accept", Value: "*/*"}}

	binaryUpload := flowtest.New(id("f5"), flowtest.Method("PUT"), flowtest.ReqBody("application/octet-stream", allBytes()), flowtest.At(60*time.Millisecond))
	binaryUpload.Request.Trailers = flowstore.Headers{{Name: "X-Checksum", Value: "abc"}}

	failed := flowtest.New(id("f6"), flowtest.URL("http://down.example.test:8080/"), flowtest.Failed("dial tcp 10.0.0.9:8080: connect: connection refused"), flowtest.At(70*time.Millisecond))
	fs := failed.Timings.Start // DNS 1ms, then the connect is refused 2ms later
	failed.Timings = flowstore.Timings{Start: fs, DNSStart: fs, DNSDone: fs.Add(time.Millisecond), ConnectStart: fs.Add(time.Millisecond), End: fs.Add(3 * time.Millisecond)}

	truncated := flowtest.New(id("f7"), flowtest.RespBody("text/plain", []byte("first bytes only")), flowtest.At(80*time.Millisecond))
	truncated.Response.Body.Truncated, truncated.Response.Body.Size = true, 10<<20

	truncatedGzip := flowtest.New(id("f8"), flowtest.RespBody("text/html", encoded(t, "<p>long page</p>", "gzip")[:12]), flowtest.RespHeader("Content-Encoding", "gzip"), flowtest.At(90*time.Millisecond))
	truncatedGzip.Response.Body.Truncated, truncatedGzip.Response.Body.Size = true, 4096

	corrupt := flowtest.New(id("f9"), flowtest.RespBody("text/plain", []byte("this is not brotli")), flowtest.RespHeader("Content-Encoding", "br"), flowtest.At(100*time.Millisecond))

	form := flowtest.New(id("f10"), flowtest.Method("POST"), flowtest.ReqBody("application/x-www-form-urlencoded", []byte("a=1&b=two+words&c=%E2%82%AC&flag")),
		flowtest.Status(302), flowtest.RespHeader("Location", "/done"), flowtest.At(110*time.Millisecond))
	form.Response.Reason, form.Response.Body = "Found", flowstore.Body{}
	form.ReplayOf = "f3"
	form.Notes = []string{"hook tag: timeout"}

	paused := flowtest.New(id("f11"), flowtest.NoResponse(), flowtest.At(120*time.Millisecond))
	errorBeside := flowtest.New(id("f12"), flowtest.At(130*time.Millisecond))
	errorBeside.Error = &flowstore.Error{Phase: flowstore.PhaseResponse, Message: "body cut short: unexpected EOF"}

	return []*flowstore.Flow{flowtest.New(id("f1")), flowtest.New(id("f2"), flowtest.At(10*time.Millisecond)), tlsFlow, h2, binaryUpload,
		failed, truncated, truncatedGzip, corrupt, form, paused, errorBeside}
}

func writeHAR(t *testing.T, flows []*flowstore.Flow) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := har.Write(&buf, flows, creator); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestWrite(t *testing.T) {
	t.Run("flows", func(t *testing.T) { golden.RequireEqual(t, writeHAR(t, sampleFlows(t))) })
	t.Run("empty", func(t *testing.T) { golden.RequireEqual(t, writeHAR(t, nil)) })
}

// TestWriteIsValidHAR: every export passes the HAR 1.2 checker.
func TestWriteIsValidHAR(t *testing.T) {
	for name, flows := range map[string][]*flowstore.Flow{"samples": sampleFlows(t), "none": nil} {
		if errs := validateHAR(writeHAR(t, flows)); len(errs) > 0 {
			t.Errorf("%s: export is not valid HAR 1.2:\n%s", name, strings.Join(errs, "\n"))
		}
	}
	// Imported browser and proxy files exported again are valid too.
	for _, file := range []string{"chrome.har", "firefox.har", "mitmproxy.har", "charles.har"} {
		flows, _ := readSample(t, file)
		if errs := validateHAR(writeHAR(t, flows)); len(errs) > 0 {
			t.Errorf("%s re-exported is not valid HAR 1.2:\n%s", file, strings.Join(errs, "\n"))
		}
	}
}

// TestRoundTrip: export → import gives back the same flows, and export →
// import → export the same bytes.
func TestRoundTrip(t *testing.T) {
	flows := sampleFlows(t)
	first := writeHAR(t, flows)
	back, warns, err := har.Read(bytes.NewReader(first))
	if err != nil || len(warns) > 0 {
		t.Fatalf("Read: %v %v", err, warns)
	}
	if len(back) != len(flows) {
		t.Fatalf("read %d flows, wrote %d", len(back), len(flows))
	}
	for i := range flows {
		want, _ := flowstore.MarshalLine(flows[i])
		got, _ := flowstore.MarshalLine(back[i])
		if !bytes.Equal(got, want) {
			t.Errorf("flow %s changed:\n got %s\nwant %s", flows[i].ID, got, want)
		}
	}
	if second := writeHAR(t, back); !bytes.Equal(second, first) {
		t.Errorf("export → import → export is not byte-stable")
	}

	// A foreign file: the first import fills in what it must (IDs, timings
	// laid end to end, re-encoded bodies); from then on it is stable.
	for _, file := range []string{"chrome.har", "firefox.har", "mitmproxy.har", "charles.har"} {
		flows, _ := readSample(t, file)
		a := writeHAR(t, flows)
		again, warns, err := har.Read(bytes.NewReader(a))
		if err != nil || len(warns) > 0 || len(again) != len(flows) {
			t.Fatalf("%s: re-import: %d flows, %v, %v", file, len(again), warns, err)
		}
		if b := writeHAR(t, again); !bytes.Equal(a, b) {
			t.Errorf("%s: import → export → import → export is not byte-stable", file)
		}
	}
}

func TestWriteEntry(t *testing.T) {
	flows := sampleFlows(t)
	var whole har.HAR
	if err := json.Unmarshal(writeHAR(t, flows), &whole); err != nil {
		t.Fatal(err)
	}
	for i, f := range flows {
		var buf bytes.Buffer
		if err := har.WriteEntry(&buf, f); err != nil {
			t.Fatal(err)
		}
		var one har.Entry
		if err := json.Unmarshal(buf.Bytes(), &one); err != nil {
			t.Fatalf("WriteEntry output is not an entry: %v", err)
		}
		a, _ := json.Marshal(one)
		b, _ := json.Marshal(whole.Log.Entries[i])
		if !bytes.Equal(a, b) {
			t.Errorf("flow %s: WriteEntry differs from the entry in Write", f.ID)
		}
	}
	if err := har.WriteEntry(&bytes.Buffer{}, &flowstore.Flow{ID: "x"}); err == nil {
		t.Error("a flow without a request was written")
	}
}

// TestDraftsAreLeftOut: a draft (an unsent request made with D) is no
// exchange, and a HAR log holds none: not as an entry with status 0, which
// read back would be a failed request.
func TestDraftsAreLeftOut(t *testing.T) {
	sent := flowtest.New(flowtest.URL("https://api.example.com/sent"))
	draft := flowtest.New(flowtest.URL("https://api.example.com/draft"), flowtest.NoResponse())
	draft.State = flowstore.StateDraft
	var doc har.HAR
	if err := json.Unmarshal(writeHAR(t, []*flowstore.Flow{sent, draft}), &doc); err != nil {
		t.Fatal(err)
	}
	if n := len(doc.Log.Entries); n != 1 || doc.Log.Entries[0].Request.URL != "https://api.example.com/sent" {
		t.Fatalf("HAR holds %d entries: %+v", n, doc.Log.Entries)
	}
	if err := har.WriteEntry(&bytes.Buffer{}, draft); err == nil {
		t.Error("a draft was written as an entry")
	}
	if !har.Holds(sent) || har.Holds(draft) {
		t.Error("Holds disagrees with what Write writes")
	}
}

// TestEntryContent checks the body fields of an export the way another
// tool reads them.
func TestEntryContent(t *testing.T) {
	flows := sampleFlows(t)
	entry := func(i int) har.Entry {
		e, err := har.EntryOf(flows[i])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	gz := entry(2)
	if c := gz.Response.Content; c.Text != `{"id":7,"name":"Widget"}` || c.Size != 24 || c.Compression == nil || *c.Compression != 24-int64(len(flows[2].Response.Body.Data)) || c.RawBody == "" {
		t.Errorf("gzip content: %+v", c)
	}
	if gz.Response.BodySize != int64(len(flows[2].Response.Body.Data)) {
		t.Errorf("bodySize %d, want the encoded length", gz.Response.BodySize)
	}
	if len(gz.Request.Cookies) != 2 || gz.Request.Cookies[1].Name != "theme" || gz.Response.Cookies[0].Expires != "2026-01-03T15:04:05.000Z" || !gz.Response.Cookies[0].HTTPOnly {
		t.Errorf("cookies: %+v %+v", gz.Request.Cookies, gz.Response.Cookies)
	}
	if q := gz.Request.QueryString; len(q) != 2 || q[1].Value != "café au lait" {
		t.Errorf("queryString %+v", q)
	}
	if gz.ServerIPAddress != "2001:db8::1" || gz.Connection != "50123" {
		t.Errorf("server %q connection %q", gz.ServerIPAddress, gz.Connection)
	}
	if tm := gz.Timings; tm.Blocked != 0.1 || tm.DNS != 2 || tm.Connect != 10.146 || tm.SSL != 7.346 || tm.Send != 0.654 || tm.Wait != 27 || tm.Receive != 1.5 || gz.Time != 41.4 {
		t.Errorf("timings %+v time %v", tm, gz.Time)
	}
	if c := entry(3).Response.Content; c.Encoding != "base64" || c.Text != pngBase64 || c.RawBody != "" {
		t.Errorf("png content: %+v", c)
	}
	if pd := entry(4).Request.PostData; pd == nil || pd.Encoding != "base64" || mustDecode64(pd.Text) != string(allBytes()) {
		t.Errorf("binary postData: %+v", pd)
	}
	if e := entry(5); e.Response.Status != 0 || e.Response.Error == "" || e.Timings.Connect != 2 {
		t.Errorf("failed flow: status %d error %q connect %v (a refused connect lasts until the failure)", e.Response.Status, e.Response.Error, e.Timings.Connect)
	}
	if c := entry(7).Response.Content; !c.Truncated || c.Text != "" || c.RawBody == "" || c.Size != 4096 {
		t.Errorf("truncated gzip content: %+v", c)
	}
	if c := entry(8).Response.Content; c.Text != "" || c.RawBody == "" {
		t.Errorf("undecodable content: %+v", c)
	}
	if pd := entry(9).Request.PostData; pd == nil || len(pd.Params) != 4 || pd.Params[1].Value != "two words" || pd.Params[2].Value != "€" {
		t.Errorf("form params: %+v", pd)
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	ws := flowtest.New(flowtest.URL("https://ws.example.test/socket"), flowtest.Status(101))
	ws.Messages = []flowstore.Message{
		{FromClient: true, Time: at, Kind: flowstore.MessageText, Data: []byte("hello"), Size: 5},
		{Time: at.Add(time.Millisecond), Kind: flowstore.MessageBinary, Data: []byte{0, 255, 1}, Size: 3, Compressed: true},
		{Time: at.Add(2 * time.Millisecond), Kind: flowstore.MessageClose, Data: []byte("bye"), Size: 5, CloseCode: 1001},
	}
	sse := flowtest.New(flowtest.URL("https://ws.example.test/events"), flowtest.RespBody("text/event-stream", []byte("data: x\n\n")))
	sse.Messages = []flowstore.Message{{Time: at, Kind: flowstore.MessageEvent, Data: []byte("x\ny"), Event: "tick", ID: "7", Size: 20}}
	var buf bytes.Buffer
	if err := har.Write(&buf, []*flowstore.Flow{ws, sse}, har.Creator{Name: "t", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"_webSocketMessages"`)) {
		t.Fatal("no _webSocketMessages in the export")
	}
	got, warns, err := har.Read(&buf)
	if err != nil || len(warns) > 0 || len(got) != 2 {
		t.Fatalf("read: %v %v %d", err, warns, len(got))
	}
	for i, want := range []*flowstore.Flow{ws, sse} {
		g, w := got[i].Messages, want.Messages
		if len(g) != len(w) {
			t.Fatalf("flow %d: %d messages back, want %d", i, len(g), len(w))
		}
		for j := range w {
			if !g[j].Time.Equal(w[j].Time) || g[j].Kind != w[j].Kind || !bytes.Equal(g[j].Data, w[j].Data) || g[j].FromClient != w[j].FromClient ||
				g[j].CloseCode != w[j].CloseCode || g[j].Compressed != w[j].Compressed || g[j].Event != w[j].Event || g[j].ID != w[j].ID || g[j].Size != w[j].Size {
				t.Errorf("flow %d message %d:\n got %+v\nwant %+v", i, j, g[j], w[j])
			}
		}
	}
}
