package flowstore_test

import (
	"bytes"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// FuzzReadLines: any bytes load without a panic; whatever loads saves and
// loads again to the same number of flows.
func FuzzReadLines(f *testing.F) {
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	s.Save(flowtest.New())
	s.Save(flowtest.New(flowtest.Failed("refused"), flowtest.Marked()))
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte("{}\n{\"request\":null}\nnot json\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		flows, _, err := flowstore.ReadLines(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err) // only I/O fails, and a bytes.Reader does not
		}
		var out bytes.Buffer
		sv := flowstore.NewSaver(&out)
		for _, fl := range flows {
			if err := sv.Save(fl); err != nil {
				t.Fatalf("a loaded flow does not save: %v", err)
			}
		}
		again, warns, _ := flowstore.ReadLines(&out)
		if len(again) != len(flows) || len(warns) != 0 {
			t.Fatalf("%d flows saved, %d loaded back, warnings %v", len(flows), len(again), warns)
		}
	})
}
