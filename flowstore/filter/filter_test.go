package filter_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// Options the flowtest kit does not have.
func clientAddr(a string) flowtest.Option { return func(f *flowstore.Flow) { f.Client.Addr = a } }
func serverAddr(addr, ip string) flowtest.Option {
	return func(f *flowstore.Flow) { f.Server.Addr, f.Server.IP = addr, ip }
}
func replayOf(id string) flowtest.Option { return func(f *flowstore.Flow) { f.ReplayOf = id } }
func errorBeside(msg string) flowtest.Option {
	return func(f *flowstore.Flow) { f.Error = &flowstore.Error{Phase: flowstore.PhaseResponse, Message: msg} }
}
func reqHost(h string) flowtest.Option { return func(f *flowstore.Flow) { f.Request.Host = h } }

// webSocket is a successful WebSocket handshake.
func webSocket() flowtest.Option {
	return func(f *flowstore.Flow) {
		f.Request.Headers.Add("Connection", "Upgrade")
		f.Request.Headers.Add("Upgrade", "websocket")
		f.Response.Status, f.Response.Reason = 101, "Switching Protocols"
		f.Response.Body = flowstore.Body{}
	}
}

func mustParse(t *testing.T, expr string) *filter.Filter {
	t.Helper()
	f, err := filter.Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return f
}

func TestOperators(t *testing.T) {
	// flowtest.New(): GET http://example.test/path, Host and User-Agent
	// headers, answered 200 text/plain "hello"; client 127.0.0.1:50000,
	// server example.test:80 (127.0.0.1:80).
	tests := []struct {
		name string
		expr string
		opts []flowtest.Option
		want bool
	}{
		{"all", "~all", nil, true},
		{"all without response", "~all", []flowtest.Option{flowtest.NoResponse()}, true},
		{"http", "~http", nil, true},

		{"websocket handshake", "~websocket", []flowtest.Option{webSocket()}, true},
		{"websocket not for plain GET", "~websocket", nil, false},
		{"websocket upgrade refused", "~websocket", []flowtest.Option{flowtest.ReqHeader("Upgrade", "websocket")}, false},
		{"websocket 101 to another protocol", "~websocket", []flowtest.Option{flowtest.ReqHeader("Upgrade", "h2c"), flowtest.Status(101)}, false},
		{"websocket upgrade in a list", "~websocket", []flowtest.Option{flowtest.ReqHeader("Upgrade", "foo, WebSocket"), flowtest.Status(101)}, true},
		{"websocket waiting for response", "~websocket", []flowtest.Option{flowtest.ReqHeader("Upgrade", "websocket"), flowtest.NoResponse()}, false},

		{"q no response", "~q", []flowtest.Option{flowtest.NoResponse()}, true},
		{"q has response", "~q", nil, false},
		{"q failed flow", "~q", []flowtest.Option{flowtest.Failed("connection refused")}, true},
		{"s has response", "~s", nil, true},
		{"s no response", "~s", []flowtest.Option{flowtest.NoResponse()}, false},
		{"s failed flow", "~s", []flowtest.Option{flowtest.Failed("connection refused")}, false},
		{"e failed flow", "~e", []flowtest.Option{flowtest.Failed("connection refused")}, true},
		{"e error beside a response", "~e", []flowtest.Option{errorBeside("body cut short")}, true},
		{"e ok flow", "~e", nil, false},
		{"marked", "~marked", []flowtest.Option{flowtest.Marked()}, true},
		{"marked not", "~marked", nil, false},
		{"replay", "~replay", []flowtest.Option{replayOf("abc")}, true},
		{"replay not", "~replay", nil, false},

		{"a javascript", "~a", []flowtest.Option{flowtest.RespBody("application/javascript; charset=utf-8", []byte("x()"))}, true},
		{"a x-javascript", "~a", []flowtest.Option{flowtest.RespBody("application/x-javascript", nil)}, true},
		{"a text/javascript", "~a", []flowtest.Option{flowtest.RespBody("text/javascript", nil)}, true},
		{"a css", "~a", []flowtest.Option{flowtest.RespBody("text/css", nil)}, true},
		{"a image", "~a", []flowtest.Option{flowtest.RespBody("image/png", nil)}, true},
		{"a font", "~a", []flowtest.Option{flowtest.RespBody("font/woff2", nil)}, true},
		{"a application/font", "~a", []flowtest.Option{flowtest.RespBody("application/font-woff", nil)}, true},
		{"a html is not", "~a", []flowtest.Option{flowtest.RespBody("text/html", nil)}, false},
		{"a json is not", "~a", []flowtest.Option{flowtest.RespBody("application/json", nil)}, false},
		{"a request type does not count", "~a", []flowtest.Option{flowtest.ReqBody("text/css", nil), flowtest.RespBody("text/html", nil)}, false},
		{"a no response", "~a", []flowtest.Option{flowtest.NoResponse()}, false},

		{"u path", "~u /path", nil, true},
		{"u scheme and host", "~u ^http://example\\.test/", nil, true},
		{"u query", "~u q=1", []flowtest.Option{flowtest.URL("https://example.test/s?q=1")}, true},
		{"u non-default port", "~u example.test:8443/", []flowtest.Option{flowtest.URL("https://example.test:8443/")}, true},
		{"u default port left out", "~u :443", []flowtest.Option{flowtest.URL("https://example.test:443/")}, false},
		{"u no", "~u /other", nil, false},
		{"d host", "~d example", nil, true},
		{"d anchored", "~d ^example\\.test$", nil, true},
		{"d Host header", "~d virtual", []flowtest.Option{reqHost("10.0.0.1"), func(f *flowstore.Flow) { f.Request.Headers.Set("Host", "virtual.test") }}, true},
		{"d no", "~d other", nil, false},
		{"d is not the path", "~d path", nil, false},
		{"m", "~m GET", nil, true},
		{"m regex", "~m put|patch", []flowtest.Option{flowtest.Method("PATCH")}, true},
		{"m no", "~m POST", nil, false},
		{"c equal", "~c 200", nil, true},
		{"c leading zero", "~c 0200", nil, true},
		{"c other", "~c 404", nil, false},
		{"c no response", "~c 200", []flowtest.Option{flowtest.NoResponse()}, false},
		{"c class", "~c 4xx", []flowtest.Option{flowtest.Status(418)}, true},
		{"c class other", "~c 4xx", nil, false},

		{"h request line", `~h "user-agent: flowtest"`, nil, true},
		{"h response line", `~h "content-type: text/plain"`, nil, true},
		{"h name only", "~h x-trace", []flowtest.Option{flowtest.RespHeader("X-Trace", "1")}, true},
		{"h multiline anchors", "~h ^host:", nil, true},
		{"h value is not the body", "~h hello", nil, false},
		{"hq request", "~hq user-agent", nil, true},
		{"hq not response", "~hq content-length", nil, false},
		{"hs response", "~hs content-length", nil, true},
		{"hs not request", "~hs user-agent", nil, false},
		{"hs no response", "~hs .", []flowtest.Option{flowtest.NoResponse()}, false},

		{"t response", "~t text/plain", nil, true},
		{"t request", "~t json", []flowtest.Option{flowtest.ReqBody("application/json", []byte(`{}`))}, true},
		{"t no", "~t json", nil, false},
		{"tq request", "~tq json", []flowtest.Option{flowtest.ReqBody("application/json", []byte(`{}`))}, true},
		{"tq not response", "~tq text/plain", nil, false},
		{"ts response", "~ts text/plain", nil, true},
		{"ts not request", "~ts json", []flowtest.Option{flowtest.ReqBody("application/json", []byte(`{}`))}, false},
		{"ts no response", "~ts .", []flowtest.Option{flowtest.NoResponse()}, false},

		{"b response", "~b hel+o", nil, true},
		{"b request", "~b secret", []flowtest.Option{flowtest.ReqBody("text/plain", []byte("a secret"))}, true},
		{"b dotall", "~b a.b", []flowtest.Option{flowtest.RespBody("text/plain", []byte("a\nb"))}, true},
		{"b no", "~b goodbye", nil, false},
		{"b empty body never matches", "~b .*", []flowtest.Option{flowtest.RespBody("text/plain", nil)}, false},
		{"bq request", "~bq secret", []flowtest.Option{flowtest.ReqBody("text/plain", []byte("a secret"))}, true},
		{"bq not response", "~bq hello", nil, false},
		{"bs response", "~bs hello", nil, true},
		{"bs not request", "~bs secret", []flowtest.Option{flowtest.ReqBody("text/plain", []byte("a secret"))}, false},

		{"src", "~src ^127\\.0\\.0\\.1:50000$", nil, true},
		{"src no", "~src 10\\.", nil, false},
		{"src empty address", "~src .*", []flowtest.Option{clientAddr("")}, false},
		{"mode of a flow from before modes", "~mode ^regular$", nil, true},
		{"mode", "~mode ^reverse:", []flowtest.Option{func(f *flowstore.Flow) { f.Client.Mode = "reverse:https://api.test@8081" }}, true},
		{"mode no", "~mode socks5", []flowtest.Option{func(f *flowstore.Flow) { f.Client.Mode = "regular" }}, false},
		{"dst dialled address", "~dst example.test:80", nil, true},
		{"dst resolved address", "~dst 93\\.184", []flowtest.Option{serverAddr("example.test:443", "93.184.216.34:443")}, true},
		{"dst no", "~dst other", nil, false},
		{"comment", "~comment suspicious", []flowtest.Option{flowtest.Comment("looks suspicious")}, true},
		{"comment multiline", "~comment ^second", []flowtest.Option{flowtest.Comment("first\nsecond")}, true},
		{"comment no", "~comment suspicious", nil, false},

		{"bare word is url", "example.test/path", nil, true},
		{"bare word no", "/nowhere", nil, false},
		{"quoted string is url", `"/pa th|/path"`, nil, true},
		{"bare word with colon is url", "http://example", nil, true},
		{"bare https word no", "https://", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.expr)
			if got := f.Match(flowtest.New(tt.opts...)); got != tt.want {
				t.Errorf("%q matched %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestShorthand(t *testing.T) {
	tests := []struct {
		expr string
		opts []flowtest.Option
		want bool
	}{
		{"host:example", nil, true},
		{"host:other", nil, false},
		{`host:"example\.test"`, nil, true},
		{"status:200", nil, true},
		{"status:404", nil, false},
		{"status:4xx", []flowtest.Option{flowtest.Status(404)}, true},
		{"status:4XX", []flowtest.Option{flowtest.Status(499)}, true},
		{"status:5xx", []flowtest.Option{flowtest.Status(404)}, false},
		{"status:2xx", []flowtest.Option{flowtest.NoResponse()}, false},
		{"method:GET", nil, true},
		{"method:post", nil, false},
		{"Method:get", nil, true},
		{"type:plain", nil, true},
		{"type:json", nil, false},
		{"url:example.test/path", nil, true},
		{"path:/path", nil, true},
		{"path:/other", nil, false},
		{"body:hello", nil, true},
		{"body:bye", nil, false},
		{"header:user-agent", nil, true},
		{"header:x-none", nil, false},
		{"host:example method:GET status:2xx", nil, true},
		{"host:example | method:POST", nil, true},
		{"!status:2xx", nil, false},
		// Unknown fields stay URL regexes.
		{"http://example.test", nil, true},
		{"port:80", nil, false},
		{"https://example.test", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			f := mustParse(t, tt.expr)
			if got := f.Match(flowtest.New(tt.opts...)); got != tt.want {
				t.Errorf("%q matched %v, want %v (tree %s)", tt.expr, got, tt.want, filter.Tree(f))
			}
		})
	}
}

// TestTree pins how expressions group and how words are cut into tokens.
func TestTree(t *testing.T) {
	tests := []struct{ expr, want string }{
		// Precedence: ! then & then | then side by side.
		{"~q & ~s | ~e", "or(and(~q, ~s), ~e)"},
		{"~q | ~s & ~e", "or(~q, and(~s, ~e))"},
		{"!~q & ~s", "and(not(~q), ~s)"},
		{"!~q | ~s", "or(not(~q), ~s)"},
		{"!!~q", "not(not(~q))"},
		{"~m POST ~c 201 | ~c 404", `and(~m "POST", or(~c 201, ~c 404))`},
		{"~q ~s ~e | ~a & ~b x", `and(~q, ~s, or(~e, and(~a, ~b "x")))`},
		{"x & (y | z) w", `and(~u "x", or(~u "y", ~u "z"), ~u "w")`},
		// Parentheses.
		{"!(~q | ~s)", "not(or(~q, ~s))"},
		{"(~q)", "~q"},
		{"((~q))", "~q"},
		{"(~m x) | ~d y", `or(~m "x", ~d "y")`},
		{"(a b) | c", `or(and(~u "a", ~u "b"), ~u "c")`},
		{"~m POST & (~c 201 | ~c 404)", `and(~m "POST", or(~c 201, ~c 404))`},
		{"(~d x)(~d y)", `and(~d "x", ~d "y")`},
		// Bare words run to a space or ( ) ~ ' ".
		{"~m put|patch", `~m "put|patch"`},
		{"foo|bar", `~u "foo|bar"`},
		{"foo&bar", `~u "foo&bar"`},
		{"foo!bar", `~u "foo!bar"`},
		{"~b &page=2", `~b "&page=2"`},
		{"~m !x", `~m "!x"`},
		{`~u a\.b`, `~u "a\\.b"`},
		{"~d a|~d b", `or(~d "a", ~d "b")`},
		{"~d a&~m b", `and(~d "a", ~m "b")`},
		{"~m GET~d x", `and(~m "GET", ~d "x")`},
		{"aéb", `~u "aéb"`},
		// Operator names end at an operator character.
		{"~q|~s", "or(~q, ~s)"},
		{"~q&~s", "and(~q, ~s)"},
		{"~q!~s", "and(~q, not(~s))"},
		{`~d"x y"`, `~d "x y"`},
		// ~c reads digits.
		{"~c 200|~c 300", "or(~c 200, ~c 300)"},
		{"~c 200~q", "and(~c 200, ~q)"},
		{"~c 20 0", `and(~c 20, ~u "0")`},
		// Quoting.
		{`"a b"`, `~u "a b"`},
		{`'a b'`, `~u "a b"`},
		{`~h 'it\'s'`, `~h "it's"`},
		{`~h "say \"hi\""`, `~h "say \"hi\""`},
		{`~u "a\\b"`, `~u "a\\b"`},
		{`~u "api\.example"`, `~u "api\\.example"`},
		{`~u ''`, `~u ""`},
		{`"(x|y)" ~q`, `and(~u "(x|y)", ~q)`},
		{`~u "~user"`, `~u "~user"`},
		// Shorthand.
		{"host:api", `~d "api"`},
		{"status:404", "~c 404"},
		{"status:5xx", "~c 500-599"},
		{"url:http://x", `~u "http://x"`},
		{`host:"a b"`, `~d "a b"`},
		{"http://x", `~u "http://x"`},
		{`"host:api"`, `~u "host:api"`},
		// Whitespace.
		{"  ~q \t\n", "~q"},
		{"", "all"},
		{"   ", "all"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := filter.Tree(mustParse(t, tt.expr)); got != tt.want {
				t.Errorf("Tree(%q) = %s, want %s", tt.expr, got, tt.want)
			}
		})
	}
}

// TestPrecedence checks grouping by what users see: which flows match.
func TestPrecedence(t *testing.T) {
	post201 := flowtest.New(flowtest.Method("POST"), flowtest.Status(201))
	post404 := flowtest.New(flowtest.Method("POST"), flowtest.Status(404))
	get404 := flowtest.New(flowtest.Status(404))
	get200 := flowtest.New()
	flows := map[string]*flowstore.Flow{"POST 201": post201, "POST 404": post404, "GET 404": get404, "GET 200": get200}
	tests := []struct {
		expr string
		want []string // names of the flows that match
	}{
		// Side by side binds looser than |.
		{"~m POST ~c 201 | ~c 404", []string{"POST 201", "POST 404"}},
		// & binds tighter than |.
		{"~m POST & ~c 201 | ~c 404", []string{"POST 201", "POST 404", "GET 404"}},
		{"~c 404 | ~m POST & ~c 201", []string{"POST 201", "POST 404", "GET 404"}},
		// ! binds tighter than &.
		{"!~m POST & ~c 404", []string{"GET 404"}},
		{"!(~m POST & ~c 404)", []string{"POST 201", "GET 404", "GET 200"}},
		{"!~c 200", []string{"POST 201", "POST 404", "GET 404"}},
		{"(~m POST ~c 201) | ~c 404", []string{"POST 201", "POST 404", "GET 404"}},
		{"~m GET | ~c 201 !~c 404", []string{"POST 201", "GET 200"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			f := mustParse(t, tt.expr)
			var got []string
			for _, name := range []string{"POST 201", "POST 404", "GET 404", "GET 200"} {
				if f.Match(flows[name]) {
					got = append(got, name)
				}
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("%q matched [%s], want [%s] (tree %s)", tt.expr, strings.Join(got, ", "), strings.Join(tt.want, ", "), filter.Tree(f))
			}
		})
	}
}

func TestCaseInsensitive(t *testing.T) {
	fl := flowtest.New(
		flowtest.URL("https://API.Example.Test/Users?ID=7"),
		flowtest.Method("POST"),
		flowtest.ReqHeader("X-Trace-Id", "ABC"),
		flowtest.ReqBody("Application/JSON", []byte(`{"Name":"Alice"}`)),
		flowtest.RespBody("TEXT/HTML", []byte("<TITLE>Hi</TITLE>")),
		flowtest.Comment("Looks Odd"),
		serverAddr("API.Example.Test:443", ""),
	)
	for _, expr := range []string{
		"~u api.example.test/users", "~u ID=7", "~d API.EXAMPLE", "~d api.example", "~m post", "~m Post",
		`~h "x-trace-id: abc"`, "~hq X-TRACE", "~t application/json", "~tq json", "~ts text/html",
		"~b alice", "~bq NAME", "~bs <title>", `~comment "looks odd"`, "~dst api.example", "users",
		"host:API", "method:post", "type:JSON", "body:ALICE", "header:X-TRACE-ID",
	} {
		t.Run(expr, func(t *testing.T) {
			if !mustParse(t, expr).Match(fl) {
				t.Errorf("%q did not match regardless of case", expr)
			}
		})
	}
	t.Run("inline flag can turn it off", func(t *testing.T) {
		if mustParse(t, `~m "(?-i)post"`).Match(fl) {
			t.Error(`~m "(?-i)post" matched POST`)
		}
	})
}

func TestEncodedBodies(t *testing.T) {
	// The repeated run compresses away, so only the decoded body holds it.
	plain := []byte("{\"token\": \"s3cr3t\",\n \"user\": \"alice\", \"pad\": \"" + strings.Repeat("ab", 500) + "\"}")
	for _, enc := range []string{"gzip", "br", "zstd", "deflate", "gzip, br"} {
		t.Run(enc, func(t *testing.T) {
			data, err := content.Encode(plain, enc)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) == string(plain) {
				t.Fatalf("Encode(%q) left the body as it was", enc)
			}
			resp := flowtest.New(flowtest.RespBody("application/json", data), flowtest.RespHeader("Content-Encoding", enc))
			req := flowtest.New(flowtest.ReqBody("application/json", data), flowtest.ReqHeader("Content-Encoding", enc))
			for _, c := range []struct {
				expr string
				fl   *flowstore.Flow
				want bool
			}{
				{`~b "token.*alice"`, resp, true},
				{"~bs s3cr3t", resp, true},
				{"~bq s3cr3t", resp, false},
				{"~b S3CR3T", req, true},
				{"~bq s3cr3t", req, true},
				{"~b bob", resp, false},
				{"body:alice", resp, true},
				{`~bs "(ab){400}"`, resp, true},
				{`~bq "(ab){400}"`, req, true},
				// Without its Content-Encoding the same bytes are not decoded.
				{`~b "(ab){400}"`, flowtest.New(flowtest.RespBody("application/json", data)), false},
			} {
				if got := mustParse(t, c.expr).Match(c.fl); got != c.want {
					t.Errorf("%q matched %v, want %v", c.expr, got, c.want)
				}
			}
		})
	}
	t.Run("undecodable body matches raw bytes", func(t *testing.T) {
		fl := flowtest.New(flowtest.RespBody("text/plain", []byte("not really gzip")), flowtest.RespHeader("Content-Encoding", "gzip"))
		if !mustParse(t, "~bs really").Match(fl) {
			t.Error("~bs did not fall back to the raw body")
		}
		fl = flowtest.New(flowtest.RespBody("text/plain", []byte("odd coding")), flowtest.RespHeader("Content-Encoding", "x-custom"))
		if !mustParse(t, "~bs odd").Match(fl) {
			t.Error("~bs did not fall back to the raw body for an unknown coding")
		}
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		pos     int
		msgPart string
	}{
		{"unknown operator", "~zz", 0, "unknown operator ~zz"},
		{"unknown operator later", "~q & ~zz foo", 5, "unknown operator ~zz"},
		{"operator glued to letters", "~qs", 0, "unknown operator ~qs"},
		{"lone tilde", "~q ~ x", 3, "operator name"},
		{"word with tilde", "/~user", 1, "unknown operator ~user"},
		{"missing argument", "~d", 0, "~d needs a regex argument"},
		{"missing argument before operator", "~m POST ~d", 8, "~d needs a regex argument"},
		{"missing argument before &", "~d & ~q", 0, "~d needs a regex argument"},
		{"argument starting with paren", "~u (a|b)", 0, "quote a regex that starts with ("},
		{"missing argument before ~", "~h ~q", 0, "~h needs a regex argument"},
		{"missing int", "~c", 0, "~c needs a status code"},
		{"unbalanced (", "(~q | ~s", 0, "unclosed ("},
		{"unbalanced inner (", "~q (~s (~e)", 3, "unclosed ("},
		{"stray )", "~q)", 2, "unmatched )"},
		{"stray ) after group", "(~q) | ~s)", 9, "unmatched )"},
		{"empty parens", "~q ()", 3, "empty ( )"},
		{"dangling & at end", "~q &", 3, "& needs an expression after it"},
		{"dangling & at start", "& ~q", 0, "& needs an expression before it"},
		{"dangling | at start", "| ~q", 0, "| needs an expression before it"},
		{"dangling | at end", "~q |", 3, "| needs an expression after it"},
		{"double &", "~q & & ~s", 3, "& needs an expression after it"},
		{"& before )", "(~q &)", 4, "& needs an expression after it"},
		{"dangling !", "~q !", 3, "! needs an expression after it"},
		{"bad int", "~c abc", 3, `got "abc"`},
		{"bad int suffix", "~c 20x", 3, `got "20x"`},
		{"negative int", "~c 1 ~c -1", 8, `got "-1"`},
		{"int overflow", "~c 99999999999999999999", 3, "integer"},
		{"bad status shorthand", "status:abc", 7, `got "abc"`},
		{"empty shorthand", "host:", 0, "host: needs a value"},
		{"bad regex", "~u '(x'", 3, "missing closing )"},
		{"bad regex bare", "~m POST ~d a[", 11, "missing closing ]"},
		{"python lookahead", `~u "foo(?=bar)"`, 3, "invalid or unsupported Perl syntax"},
		{"bad regex in shorthand", "host:a[", 5, "missing closing ]"},
		{"unterminated quote", `~u "abc`, 3, `unterminated " string`},
		{"unterminated single quote", `'abc`, 0, `unterminated ' string`},
		{"escaped closing quote", `"abc\"`, 0, "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := filter.Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.expr, filter.Tree(f))
			}
			var pe *filter.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T %v, want *ParseError", tt.expr, err, err)
			}
			if pe.Pos != tt.pos {
				t.Errorf("Parse(%q) error at %d (%q), want %d (%q): %v", tt.expr, pe.Pos, tt.expr[pe.Pos:], tt.pos, tt.expr[tt.pos:], err)
			}
			if !strings.Contains(pe.Msg, tt.msgPart) {
				t.Errorf("Parse(%q) message %q does not say %q", tt.expr, pe.Msg, tt.msgPart)
			}
			if want := "col " + strconv.Itoa(tt.pos+1) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestDeepNesting(t *testing.T) {
	for _, expr := range []string{strings.Repeat("(", 100000) + "~q", strings.Repeat("!", 100000) + "~q"} {
		if _, err := filter.Parse(expr); err == nil {
			t.Errorf("Parse of %d-deep nesting succeeded, want an error", len(expr))
		}
	}
	f := mustParse(t, strings.Repeat("(", 100)+"~q"+strings.Repeat(")", 100))
	if f.Match(flowtest.New()) {
		t.Error("nested ~q matched a flow with a response")
	}
}

func TestEmptyMatchesEverything(t *testing.T) {
	for _, expr := range []string{"", "   ", "\t\n"} {
		f := mustParse(t, expr)
		for _, fl := range []*flowstore.Flow{flowtest.New(), flowtest.New(flowtest.NoResponse()), flowtest.New(flowtest.Failed("x"))} {
			if !f.Match(fl) {
				t.Errorf("%q did not match a flow", expr)
			}
		}
		if f.String() != expr {
			t.Errorf("String() = %q, want %q", f.String(), expr)
		}
	}
	var nilFilter *filter.Filter
	if !nilFilter.Match(flowtest.New()) || nilFilter.String() != "" {
		t.Error("a nil *Filter should match everything and print as \"\"")
	}
}

func TestString(t *testing.T) {
	for _, expr := range []string{"~d example & !~c 200", "  ~q  ", `~h "a b"`, "host:api"} {
		if got := mustParse(t, expr).String(); got != expr {
			t.Errorf("String() = %q, want %q", got, expr)
		}
	}
}

func TestMustParse(t *testing.T) {
	if !filter.MustParse("~q").Match(flowtest.New(flowtest.NoResponse())) {
		t.Error("MustParse(~q) did not match a flow without response")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "unknown operator") {
			t.Errorf("MustParse(~zz) panic = %v, want one naming the error", r)
		}
	}()
	filter.MustParse("~zz")
}

func TestHelp(t *testing.T) {
	help := filter.Help()
	seen := map[string]bool{}
	for _, h := range help {
		if strings.TrimSpace(h.Help) == "" {
			t.Errorf("%s has no help text", h.Op)
		}
		if seen[h.Op] {
			t.Errorf("%s appears twice", h.Op)
		}
		seen[h.Op] = true
		// Every operator the help shows parses with an argument of its kind.
		var expr string
		switch {
		case strings.HasPrefix(h.Op, "~") || strings.HasSuffix(h.Op, ":"):
			sep := " "
			if strings.HasSuffix(h.Op, ":") {
				sep = ""
			}
			switch {
			case h.Arg == "":
				expr = h.Op
			case strings.HasPrefix(h.Arg, "int"):
				expr = h.Op + sep + "200"
			default:
				expr = h.Op + sep + "x"
			}
			if _, err := filter.Parse(expr); err != nil {
				t.Errorf("help lists %s %s but %q does not parse: %v", h.Op, h.Arg, expr, err)
			}
		}
	}
	for _, op := range []string{"~all", "~http", "~websocket", "~q", "~s", "~e", "~marked", "~replay", "~a",
		"~u", "~d", "~m", "~h", "~hq", "~hs", "~t", "~tq", "~ts", "~b", "~bq", "~bs", "~src", "~dst", "~mode", "~rule", "~comment", "~c",
		"host:", "status:", "method:", "type:", "url:", "path:", "body:", "header:", "!", "&", "|"} {
		if !seen[op] {
			t.Errorf("help does not list %s", op)
		}
	}
	help[0].Op = "changed"
	if filter.Help()[0].Op == "changed" {
		t.Error("Help returned shared state")
	}
}

func TestConcurrentMatch(t *testing.T) {
	f := mustParse(t, `~d example & (~m GET | ~b hello) & !~h x-none`)
	fl := flowtest.New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if !f.Match(fl) {
					t.Error("concurrent Match failed")
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLiteralFastPath: plain words are matched by a substring search, not
// the regex engine; the answers must be the regex engine's, Unicode case
// folding included.
func TestLiteralFastPath(t *testing.T) {
	patterns := []string{"k", "s", "ab", "AB", "x-trace", "X-Trace: 1", "é", "/api/", "a.b", "(?-i)Ab", "ß", "trace\\n",
		"api.example.com", "x-tr.ce", "(?-i)Api.exa", "^/api/v\\d+/", "trace.*\\d", "kss.x"}
	texts := []string{"", "ab", "xAbx", "\u212a", "\u017f", "X-TRACE: 1", "x-trace", "caf\u00c9", "/API/v1", "Ab", "aXb", "a.b", "\xff\xfeab", "ss", "trace\nx",
		"API-EXAMPLE.com", "api.example.org", "x-trace: 7", "/api/v12/x", "\u212ass.x", "kss-x"}
	for _, p := range patterns {
		want := regexp.MustCompile("(?im)" + p)
		comment := mustParse(t, "~comment "+strconv.Quote(p))
		header := mustParse(t, "~hq "+strconv.Quote(p))
		for _, s := range texts {
			if got := comment.Match(flowtest.New(flowtest.Comment(s))); got != want.MatchString(s) {
				t.Errorf("~comment %q on %q: %v, the regex engine says %v", p, s, got, !got)
			}
			fl := flowtest.New(func(f *flowstore.Flow) {
				f.Request.Headers = flowstore.Headers{{Name: "X-Trace", Value: s}, {Name: s, Value: "v"}}
			})
			if got, w := header.Match(fl), want.MatchString(fl.Request.Headers.String()); got != w {
				t.Errorf("~hq %q on headers %q: %v, the regex engine says %v", p, fl.Request.Headers.String(), got, w)
			}
		}
	}
}

func TestMatchedText(t *testing.T) {
	for _, u := range []string{"http://example.test/", "https://example.test:8443/a?b=c", "http://[::1]:8080/x", "https://[2001:db8::1]/", "http://h:80/p"} {
		r := flowtest.New(flowtest.URL(u)).Request
		if got := string(filter.AppendURL([]byte("junk"), r)); got != "junk"+r.URL() {
			t.Errorf("AppendURL = %q, want %q", got, "junk"+r.URL())
		}
	}
	for _, h := range []flowstore.Headers{nil, {{Name: "A", Value: "1"}}, {{Name: "A", Value: "1"}, {Name: "b", Value: ""}, {Name: "A", Value: "x: y"}}} {
		if got := string(filter.AppendHeaders(nil, h)); got != h.String() {
			t.Errorf("AppendHeaders = %q, want %q", got, h.String())
		}
	}
}

func TestBodyOperatorsSearchMessages(t *testing.T) {
	f := flowtest.New()
	f.Messages = []flowstore.Message{
		{FromClient: true, Kind: flowstore.MessageText, Data: []byte(`{"op":"subscribe"}`)},
		{Kind: flowstore.MessageText, Data: []byte(`{"price":42}`)},
	}
	for expr, want := range map[string]bool{
		"~b subscribe": true, "~bq subscribe": true, "~bs subscribe": false,
		"~b price": true, "~bs price": true, "~bq price": false, "~b nothing": false,
	} {
		if got := filter.MustParse(expr).Match(f); got != want {
			t.Errorf("%s: %v, want %v", expr, got, want)
		}
	}
}

// ~rule matches flows a rule acted on, by the rule's name (a regex, as
// every argument); a flow no rule touched has none.
func TestRuleOperator(t *testing.T) {
	touched := flowtest.New(func(f *flowstore.Flow) {
		f.Rules = []flowstore.RuleHit{{Rule: "staging-header", Did: []string{"request header X-Env: staging"}}, {Rule: "slow 3G"}}
	})
	plain := flowtest.New()
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"~rule staging", true}, {"~rule ^staging-header$", true}, {`~rule "slow 3G"`, true}, {"~rule STAGING", true},
		{"~rule ^header", false}, {"!~rule .", false},
	} {
		if got := mustParse(t, tc.expr).Match(touched); got != tc.want {
			t.Errorf("%s on a touched flow = %v, want %v", tc.expr, got, tc.want)
		}
	}
	if mustParse(t, "~rule .").Match(plain) {
		t.Error("~rule . matched a flow no rule acted on")
	}
}

// ReadsBody tells a rule engine to read bodies before matching.
func TestReadsBody(t *testing.T) {
	for expr, want := range map[string]bool{
		"": false, "~d x": false, "~bq x": true, "~d x & !(~m GET | ~bs y)": true, "~b x": true, "~h b": false,
	} {
		if got := mustParse(t, expr).ReadsBody(); got != want {
			t.Errorf("%q.ReadsBody() = %v, want %v", expr, got, want)
		}
	}
	var nilFilter *filter.Filter
	if nilFilter.ReadsBody() {
		t.Error("a nil filter reads a body")
	}
}
