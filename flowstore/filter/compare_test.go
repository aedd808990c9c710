package filter_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// mitmproxyPython finds a Python that can import mitmproxy's filter module
// (Debian's package installs into the system Python, which may not be the
// first python3 on PATH).
func mitmproxyPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import mitmproxy.flowfilter, mitmproxy.test.tflow").Run() == nil {
			return path
		}
	}
	t.Skip("install Debian package mitmproxy to compare with mitmproxy's filter implementation")
	return ""
}

// The fields of a flow that mitmproxy_compare.py turns into a mitmproxy flow.
type pyResponse struct {
	Status  int         `json:"status"`
	Reason  string      `json:"reason"`
	Headers [][2]string `json:"headers"`
	Body    []byte      `json:"body"`
}

type pyFlow struct {
	Method     string      `json:"method"`
	Scheme     string      `json:"scheme"`
	Host       string      `json:"host"`
	Port       int         `json:"port"`
	Path       string      `json:"path"`
	ReqHeaders [][2]string `json:"req_headers"`
	ReqBody    []byte      `json:"req_body"`
	Resp       *pyResponse `json:"resp"`
	Error      string      `json:"error"`
	Marked     bool        `json:"marked"`
	Comment    string      `json:"comment"`
	Replay     bool        `json:"replay"`
	WebSocket  bool        `json:"websocket"`
	Client     []any       `json:"client"`
	Server     []any       `json:"server"`
}

func pairs(h flowstore.Headers) [][2]string {
	out := [][2]string{}
	for _, kv := range h {
		out = append(out, [2]string{kv.Name, kv.Value})
	}
	return out
}

func addr(a string) []any {
	if a == "" {
		return nil
	}
	host, port := flowstore.SplitHostPort(a, 0)
	return []any{host, port}
}

// toPy describes f to mitmproxy. WebSocket is the one field that is not
// copied but derived: mitmproxy records WebSocket data when the handshake
// succeeds, which is what the flow shows.
func toPy(f *flowstore.Flow) pyFlow {
	r := f.Request
	p := pyFlow{
		Method: r.Method, Scheme: r.Scheme, Host: r.Host, Port: r.Port, Path: r.Path,
		ReqHeaders: pairs(r.Headers), ReqBody: r.Body.Data,
		Marked: f.Marked, Comment: f.Comment, Replay: f.ReplayOf != "",
		Client: addr(f.Client.Addr), Server: addr(f.Server.Addr),
	}
	if f.Response != nil {
		p.Resp = &pyResponse{Status: f.Response.Status, Reason: f.Response.Reason, Headers: pairs(f.Response.Headers), Body: f.Response.Body.Data}
		p.WebSocket = f.Response.Status == 101 && r.Headers.Get("Upgrade") == "websocket"
	}
	if f.Error != nil {
		p.Error = f.Error.Message
	}
	return p
}

func encoded(t *testing.T, enc, s string) []byte {
	t.Helper()
	b, err := content.Encode([]byte(s), enc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareFlows are varied flows, with data in the case the expressions
// use: Debian's mitmproxy 8.1.1 is case-sensitive for most operators.
func compareFlows(t *testing.T) []*flowstore.Flow {
	withEncoding := func(enc string) flowtest.Option {
		return flowtest.RespHeader("Content-Encoding", enc)
	}
	set := func(fn func(f *flowstore.Flow)) flowtest.Option { return fn }
	return []*flowstore.Flow{
		// 0: the default GET answered 200 text/plain "hello".
		flowtest.New(),
		// 1: a JSON POST answered 201 with a gzip body.
		flowtest.New(
			flowtest.URL("https://api.shop.test/v1/orders?id=7"), flowtest.Method("POST"),
			flowtest.ReqHeader("authorization", "Bearer abc"),
			flowtest.ReqBody("application/json", []byte(`{"sku": "A-1", "qty": 2}`)),
			flowtest.Status(201),
			flowtest.RespBody("application/json", encoded(t, "gzip", `{"order": 991, "state": "created"}`)),
			withEncoding("gzip"),
			clientAddr("10.1.2.3:40000"), serverAddr("api.shop.test:443", "10.9.9.9:443"),
		),
		// 2: a PUT to a non-default port, 404 HTML.
		flowtest.New(
			flowtest.URL("http://api.shop.test:8080/v1/items/3"), flowtest.Method("PUT"),
			flowtest.Status(404), flowtest.RespBody("text/html; charset=utf-8", []byte("<h1>not found</h1>")),
			serverAddr("api.shop.test:8080", ""),
		),
		// 3: a script asset.
		flowtest.New(
			flowtest.URL("https://cdn.static.test/app.js"),
			flowtest.RespBody("application/javascript", []byte("console.log('flow')")),
			serverAddr("cdn.static.test:443", ""),
		),
		// 4: an image asset.
		flowtest.New(
			flowtest.URL("https://cdn.static.test/logo.png"),
			flowtest.RespBody("image/png", []byte("\x89PNG\r\n\x1a\nflow")),
			serverAddr("cdn.static.test:443", ""),
		),
		// 5: the upstream refused: an error and no response.
		flowtest.New(flowtest.URL("http://down.test/"), flowtest.Failed("connection refused"), serverAddr("down.test:80", "")),
		// 6: waiting for its response.
		flowtest.New(flowtest.URL("https://api.shop.test/v1/items/3"), flowtest.Method("DELETE"), flowtest.NoResponse(),
			serverAddr("api.shop.test:443", "")),
		// 7: a WebSocket handshake.
		flowtest.New(flowtest.URL("http://chat.test/ws"), webSocket(), serverAddr("chat.test:80", "")),
		// 8: marked, commented, replayed, 500 with a br body and an error beside it.
		flowtest.New(
			flowtest.URL("https://api.shop.test/v1/items/9"), flowtest.Method("PATCH"),
			flowtest.Marked(), flowtest.Comment("suspicious retry"), replayOf("f1"),
			flowtest.Status(500), flowtest.RespBody("text/plain", encoded(t, "br", "internal error\ntrace id 42")),
			withEncoding("br"), errorBeside("body cut short"),
			serverAddr("api.shop.test:443", ""),
		),
		// 9: a redirect with no body and a zstd request body.
		flowtest.New(
			flowtest.URL("http://example.test/search?q=flow"), flowtest.Method("POST"),
			flowtest.ReqBody("text/plain", encoded(t, "zstd", "query=flow&page=2")),
			flowtest.ReqHeader("content-encoding", "zstd"),
			flowtest.Status(302), flowtest.RespHeader("location", "/results"),
			set(func(f *flowstore.Flow) { f.Response.Body = flowstore.Body{} }),
			clientAddr("10.1.2.3:40001"),
		),
	}
}

// compareExprs are valid for both. Left out on purpose: a quoted backslash
// before a letter (in "\d" mitmproxy drops the backslash, we keep it for RE2)
// and !(...), which Debian's 8.1.1 rejects.
var compareExprs = []string{
	// No argument.
	"~all", "~http", "~q", "~s", "~e", "~marked", "~replay", "~websocket", "~a",
	// Regex and int.
	"~u /v1/", "~u ^https://", `~u "id=\\d+"`, "~u :8080/", "~u search\\?q=",
	"~d shop", `~d ^cdn\.`, "~d example.test", "~m POST", "~m put|patch", "~m DELETE",
	"~c 404", "~c 101", "~c 201", "!~c 200",
	`~h "Content-Type: application/json"`, "~h User-Agent", "~hq authorization", "~hs location", "~hq location",
	"~t json", "~tq json", "~ts html", "~t image/png", "~ts text/plain",
	"~b order", "~b 991", "~bq sku", "~bs trace", `~bs "not found"`, "~b flow", "~bq page=2", `~b "error.trace"`,
	`~src 10\.1\.2\.3`, "~src :50000", "~dst :443", "~dst shop", "~dst :80$",
	"~comment suspicious", "~comment ^sus",
	// Combinators, precedence, bare words, quoting.
	"~m POST ~c 201 | ~c 404", "~m POST & ~c 201 | ~c 404", "!~s | ~e", "(~d shop | ~d cdn) & !~a",
	"shop.test", `"v1/items"`, "'/v1/items/\\\\d'", "~q & ~m DELETE", "!~q & !~e", "~d shop ~m PUT|PATCH",
	"!~a !~q", "~s & !~c 200 & !~c 302", "~e ~s", "~u app.js | ~u logo.png", "~c 200|~c 404",
	`~h "Content-Type: text/(plain|html)"`, "~d shop & (~m POST | ~m PATCH) ~s",
}

func TestCompareWithMitmproxy(t *testing.T) {
	py := mitmproxyPython(t)
	flows := compareFlows(t)
	in := struct {
		Exprs []string `json:"exprs"`
		Flows []pyFlow `json:"flows"`
	}{Exprs: compareExprs}
	for _, f := range flows {
		in.Flows = append(in.Flows, toPy(f))
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "compare.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "mitmproxy_compare.py"), file)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("mitmproxy_compare.py: %v", err)
	}
	var out struct {
		Version string    `json:"version"`
		URLs    []string  `json:"urls"`
		Results [][]bool  `json:"results"`
		Errors  []*string `json:"errors"`
	}
	if err := json.Unmarshal(outb, &out); err != nil {
		t.Fatalf("mitmproxy_compare.py output: %v\n%s", err, outb)
	}
	t.Logf("mitmproxy %s: %d expressions × %d flows", out.Version, len(compareExprs), len(flows))

	// The flows must mean the same on both sides before answers can be compared.
	for i, f := range flows {
		if out.URLs[i] != f.Request.URL() {
			t.Errorf("flow %d: mitmproxy sees URL %q, we have %q", i, out.URLs[i], f.Request.URL())
		}
	}
	for i, expr := range compareExprs {
		t.Run(expr, func(t *testing.T) {
			if out.Errors[i] != nil {
				t.Fatalf("mitmproxy rejects %q: %s", expr, *out.Errors[i])
			}
			flt, err := filter.Parse(expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", expr, err)
			}
			matched := 0
			for j, f := range flows {
				got, want := flt.Match(f), out.Results[i][j]
				if want {
					matched++
				}
				if got != want {
					t.Errorf("flow %d (%s %s): we say %v, mitmproxy says %v", j, f.Request.Method, f.Request.URL(), got, want)
				}
			}
			t.Logf("mitmproxy matches %d of %d flows", matched, len(flows))
		})
	}
}
