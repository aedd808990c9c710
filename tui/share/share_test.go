package share_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
	"github.com/interceptor-tui/interceptor-tui/tui/share"
)

func TestExportNamesAndKinds(t *testing.T) {
	f := flowtest.New(flowtest.URL("https://api.example.com/v1/x"), flowtest.RespBody("application/json", []byte(`{}`)))
	f.ID = "0123456789abcdef"
	var keys []string
	for _, k := range share.Kinds(f, har.Creator{}) {
		keys = append(keys, k.Key)
	}
	if got := strings.Join(keys, ""); got != "uchrsba" {
		t.Fatalf("kinds %q", got)
	}
	for key, name := range map[string]string{"c": "api.example.com-abcdef.sh", "b": "api.example.com-abcdef-response.json", "a": "api.example.com-abcdef.har"} {
		j, err := share.Export(f, key, true, har.Creator{})
		if err != nil || j.Name != name || len(j.Data) == 0 {
			t.Errorf("%s: %+v, %v", key, j, err)
		}
	}
	if j, err := share.Export(f, "?", false, har.Creator{}); j != nil || err != nil {
		t.Errorf("an unknown kind made %+v, %v", j, err)
	}
	// A draft has no exchange for HAR to describe, and no response.
	d := flowtest.New(flowtest.NoResponse())
	d.State = flowstore.StateDraft
	for _, k := range share.Kinds(d, har.Creator{}) {
		if k.Key == "a" || k.Key == "b" {
			t.Errorf("a draft offers %s", k.Label)
		}
	}
}

func TestBodyIsDecoded(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("hello"))
	w.Close()
	f := flowtest.New(flowtest.RespBody("text/plain", gz.Bytes()), flowtest.RespHeader("Content-Encoding", "gzip"))
	j := share.Body(f, false)
	if string(j.Data) != "hello" || !strings.HasSuffix(j.Name, "-response.txt") || j.What != "response body" {
		t.Fatalf("%+v", j)
	}
}

func TestFormatOfAndExpandPath(t *testing.T) {
	for p, want := range map[string]string{"a.HAR": "har", "a.jsonl": "jsonl", "a.ndjson": "jsonl", "a.flows": "jsonl", "a.txt": ""} {
		if got := share.FormatOf(p); got != want {
			t.Errorf("FormatOf(%q) = %q", p, got)
		}
	}
	if got := share.ExpandPath(" out.har ", "/tmp/d"); got != filepath.Join("/tmp/d", "out.har") {
		t.Errorf("relative: %q", got)
	}
	if got := share.ExpandPath("./out.har", "/tmp/d"); got != "./out.har" {
		t.Errorf("./: %q", got)
	}
}

// A file is written whole or not at all, and the message counts the flows
// it holds.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	j := &share.Job{What: "curl", Data: []byte("curl x\n"), Path: filepath.Join(dir, "c.sh")}
	if n, err := j.Write(); err != nil || n != 7 {
		t.Fatalf("wrote %d, %v", n, err)
	}
	if b, _ := os.ReadFile(j.Path); string(b) != "curl x\n" {
		t.Fatalf("file holds %q", b)
	}
	j.Path = filepath.Join(dir, "missing", "c.sh")
	if _, err := j.Write(); err == nil {
		t.Fatal("wrote into a missing directory")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %d entries behind", len(ents))
	}

	s := flowstore.NewStore(0)
	fs := []*flowstore.Flow{flowtest.New(), flowtest.New(), flowtest.New()}
	s.AddAll(fs)
	d := s.Add(&flowstore.Flow{ID: flowstore.NewID(), State: flowstore.StateDraft, Request: fs[0].Request.Clone()})
	j = share.Flows(s, []string{fs[0].ID, fs[1].ID, fs[2].ID, d.ID}, har.Creator{Name: "t"}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if j.Name != "flows-20260102-030405.har" || !j.SavesFlows() || j.Chosen() != 4 {
		t.Fatalf("%+v", j)
	}
	s.Delete(fs[1].ID)
	j.Path, j.Format = filepath.Join(dir, "f.har"), "har"
	n, err := j.Write()
	if err != nil {
		t.Fatal(err)
	}
	want := "wrote 2 flows as HAR to " + j.Path
	if got := j.Wrote(n); !strings.HasPrefix(got, want) || !strings.Contains(got, "1 flow of those chosen had gone") || !strings.Contains(got, "1 unsent draft(s) left out") {
		t.Fatalf("%q", got)
	}
}
