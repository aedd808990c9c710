package filter_test

import (
	"errors"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// FuzzParse: Parse never panics, errors are positioned inside the
// expression, and a parsed filter keeps its source and matches any flow
// without panicking. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	flows := []*flowstore.Flow{
		flowtest.New(),
		flowtest.New(flowtest.NoResponse()),
		flowtest.New(flowtest.Failed("refused"), flowtest.Marked(), flowtest.Comment("c")),
		flowtest.New(webSocket()),
		flowtest.New(flowtest.RespBody("image/png", []byte("\x00\xff")), flowtest.RespHeader("Content-Encoding", "gzip")),
		{Request: &flowstore.Request{}}, // the least a flow can be
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := filter.Parse(expr)
		if err != nil {
			var pe *filter.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", expr, err)
			}
			if pe.Pos < 0 || pe.Pos > len(expr) {
				t.Fatalf("Parse(%q) error position %d outside the expression", expr, pe.Pos)
			}
			return
		}
		if flt.String() != expr {
			t.Fatalf("String() = %q, want %q", flt.String(), expr)
		}
		for _, fl := range flows {
			flt.Match(fl)
		}
	})
}
