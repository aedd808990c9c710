package har_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// FuzzRead: Read never panics; it fails only with ErrNotHAR; warnings point
// inside the file; every flow it returns exports, and that export imports
// back without warnings to the same bytes (so anything loaded can be saved
// and loaded again). Seeds are in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		flows, warns, err := har.Read(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, har.ErrNotHAR) {
				t.Fatalf("error %v is not ErrNotHAR", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, w := range warns {
			if w.Line < 1 || w.Line > lines || w.Entry < 0 {
				t.Fatalf("warning outside the file's %d lines: %v", lines, w)
			}
		}
		for _, fl := range flows {
			if fl.ID == "" || fl.Request == nil {
				t.Fatalf("flow without ID or request: %+v", fl)
			}
		}
		var out bytes.Buffer
		if err := har.Write(&out, flows, har.Creator{Name: "fuzz", Version: "0"}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		back, warns, err := har.Read(bytes.NewReader(out.Bytes()))
		if err != nil || len(warns) > 0 || len(back) != len(flows) {
			t.Fatalf("re-import: %d of %d flows, warnings %v, error %v", len(back), len(flows), warns, err)
		}
		var again bytes.Buffer
		if err := har.Write(&again, back, har.Creator{Name: "fuzz", Version: "0"}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("export → import → export is not stable")
		}
	})
}
