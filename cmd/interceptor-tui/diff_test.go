package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// `interceptor-tui diff FILE#N FILE#M` prints the unified diff of two
// saved flows; exit status 1 when they differ, 0 when they do not, 2 on a
// bad reference.
func TestDiffCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.jsonl")
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	for _, body := range []string{`{"user":"ann","id":7,"age":30}`, `{"id":7, "age":31, "user":"ann"}`, `{"user":"ann","id":7,"age":30}`} {
		f := flowtest.New(flowtest.URL("https://api.test/users/7"), flowtest.RespBody("application/json", []byte(body)))
		if err := s.Save(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"diff", path + "#1", path + "#2"}, nil, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1 (different); stderr %s", code, errOut.String())
	}
	golden.RequireEqual(t, []byte(strings.ReplaceAll(out.String(), dir, "DIR")))
	out.Reset()
	if code := run([]string{"diff", path + "#1", path + "#3"}, nil, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Fatalf("the same flows: exit %d, output %q", code, out.String())
	}
	for _, bad := range []string{path, path + "#0", path + "#9", path + "#x", filepath.Join(dir, "none.jsonl#1")} {
		errOut.Reset()
		if code := run([]string{"diff", bad, path + "#1"}, nil, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a reason", bad, code, errOut.String())
		}
	}
}
