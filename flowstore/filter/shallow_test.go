package filter_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func TestShallow(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"", true},
		{"~all", true},
		{"~http", true},
		{"example.test/path", true},
		{`"/a b"`, true},
		{"~u /path", true},
		{"url:/path", true},
		{"~m POST", true},
		{"method:post", true},
		{"~c 404", true},
		{"status:4xx", true},
		{"~q", true},
		{"~s", true},
		{"~e", true},
		{"~marked", true},
		{"~ts json", true},
		{"~a", true},
		{"~m POST & !(~c 2xx | ~e) ~u api", true},

		{"~d example", true}, // unless FlagOddHost says the Host header differs
		{"host:example", true},
		{"~h x-trace", false},
		{"~hq user-agent", false},
		{"~hs content-length", false},
		{"~t json", false}, // the request's Content-Type
		{"~tq json", false},
		{"~b secret", false},
		{"~bq secret", false},
		{"~bs secret", false},
		{"~websocket", false},
		{"~replay", true},
		{"~comment x", false},
		{"~src 10.", false},
		{"~dst 10.", false},
		{"~m GET & ~b secret", false},
		{"~m GET | !~h x", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := mustParse(t, tt.expr).Shallow(); got != tt.want {
				t.Errorf("Shallow(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
	var nilFilter *filter.Filter
	if !nilFilter.Shallow() {
		t.Error("a nil filter matches everything: it is shallow")
	}
}

// TestShallowAgreesWithLite holds Shallow to its promise: a shallow filter
// gives the same answer on a spooled flow's Lite as on the flow.
func TestShallowAgreesWithLite(t *testing.T) {
	flows := []*flowstore.Flow{
		flowtest.New(),
		flowtest.New(flowtest.NoResponse()),
		flowtest.New(flowtest.Failed("connection refused")),
		flowtest.New(errorBeside("body cut short")),
		flowtest.New(flowtest.Marked(), flowtest.Method("POST"), flowtest.Status(201)),
		flowtest.New(flowtest.URL("https://api.example.test:8443/v1/x?q=1"), flowtest.Status(404)),
		flowtest.New(flowtest.RespBody("application/json; charset=utf-8", []byte(`{"a":1}`))),
		flowtest.New(flowtest.RespBody("image/png", []byte("png")), flowtest.Comment("note")),
		flowtest.New(flowtest.ReqBody("application/json", []byte(`{}`)), flowtest.RespBody("text/css", nil)),
		flowtest.New(flowtest.URL("http://127.0.0.1:8080/")),
		flowtest.New(replayOf("abc")),
	}
	exprs := []string{
		"~all", "~http", "~u /path", "~u ^https://api.example.test:8443/", "~u :443", "x\\?q=1",
		"~m get", "~m post|put", "~c 200", "~c 4xx", "~c 201", "~q", "~s", "~e", "!~e", "~marked",
		"~ts json", "~ts text/plain", "~ts .", "~a", "~m POST & !(~c 2xx | ~e) ~u example",
		"~d example", "~d ^api\\.", "~d :8443", "~d other", "~replay", "!~replay",
	}
	for _, expr := range exprs {
		f := mustParse(t, expr)
		if !f.Shallow() {
			t.Errorf("%q: not shallow", expr)
			continue
		}
		for i, fl := range flows {
			sum := flowstore.Summarize(fl)
			sum.Flow = nil // as once spooled
			if sum.Flags.Has(flowstore.FlagOddHost) {
				t.Fatalf("flow %d: its Host header is the authority, yet flagged odd", i)
			}
			if full, lite := f.Match(fl), f.Match(sum.Lite()); full != lite {
				t.Errorf("%q on flow %d: %v on the flow, %v on its Lite", expr, i, full, lite)
			}
		}
	}
}

// A Host header that is neither the host nor the authority is flagged, so
// the list matches ~d on the whole flow.
func TestOddHostIsFlagged(t *testing.T) {
	fl := flowtest.New(flowtest.URL("http://127.0.0.1:8080/"), func(f *flowstore.Flow) { f.Request.Headers.Set("Host", "virtual.example") })
	if !flowstore.Summarize(fl).Flags.Has(flowstore.FlagOddHost) {
		t.Fatal("a Host header naming another host is not flagged")
	}
}

func TestEmpty(t *testing.T) {
	var none *filter.Filter
	if !none.Empty() || !mustParse(t, "").Empty() || !mustParse(t, "  \t").Empty() || mustParse(t, "~q").Empty() {
		t.Fatal("Empty is wrong")
	}
}
