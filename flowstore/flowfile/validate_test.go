package flowfile_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowfile"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// A standing mock whose filter does not parse would stop every mock of
// the file from loading: it is removed from its flow, with a warning, and
// the other mocks and the flow itself stay.
func TestLoadRemovesBadMockFilter(t *testing.T) {
	good := flowtest.New()
	good.Mock = &flowstore.MockRule{Filter: "~d example.test"}
	bad := flowtest.New()
	bad.Mock = &flowstore.MockRule{Filter: "~d (unclosed"}
	flows, warns, err := flowfile.Load(bytes.NewReader(jsonLines(t, good, bad)))
	if err != nil || len(flows) != 2 {
		t.Fatalf("%d flows, err %v", len(flows), err)
	}
	if mocks := flowstore.MocksFrom(flows); len(mocks) != 1 || mocks[0].Filter != "~d example.test" || flows[1].Mock != nil {
		t.Fatalf("mocks %+v", mocks)
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0].String(), "flow "+bad.ID+`: standing mock filter "~d (unclosed" does not parse (`) ||
		!strings.HasSuffix(warns[0].String(), "); the mock is removed, the flow kept") {
		t.Fatalf("warnings %v", warns)
	}
}
