package flowfile_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowfile"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

func jsonLines(t *testing.T, flows ...*flowstore.Flow) []byte {
	t.Helper()
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	for _, f := range flows {
		if err := s.Save(f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func harFile(t *testing.T, flows ...*flowstore.Flow) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := har.Write(&buf, flows, har.Creator{Name: "t", Version: "0"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "har", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	big := flowtest.New(flowtest.RespBody("application/octet-stream", bytes.Repeat([]byte{0xab}, 200<<10)))
	tests := []struct {
		name string
		in   []byte
		want flowfile.Format
	}{
		{"json_lines", jsonLines(t, flowtest.New(), flowtest.New()), flowfile.JSONLines},
		{"json_lines_first_line_longer_than_prefix", jsonLines(t, big)[:flowfile.DetectSize], flowfile.JSONLines},
		{"our_har", harFile(t, flowtest.New()), flowfile.HAR},
		{"empty_har", harFile(t), flowfile.HAR},
		{"chrome_har", sample(t, "chrome.har"), flowfile.HAR},
		{"charles_har_spaced_colons", sample(t, "charles.har"), flowfile.HAR},
		{"minified_har_with_bom", []byte("\xef\xbb\xbf{\"log\":{\"entries\":[]}}"), flowfile.HAR},
		{"har_with_a_key_before_log", []byte(`{"comment": {"a": [1, {"b": 2}]}, "log": {"entries": []}}`), flowfile.HAR},
		{"har_cut_short", sample(t, "mitmproxy.har")[:40], flowfile.HAR},
		{"empty", nil, flowfile.Unknown},
		{"blank", []byte(" \n\t\n"), flowfile.Unknown},
		{"array", []byte(`[{"log": {}}]`), flowfile.Unknown},
		{"text", []byte("GET / HTTP/1.1\r\n"), flowfile.Unknown},
		{"other_json", []byte(`{"name": "package.json", "version": "1.0.0"}`), flowfile.Unknown},
		{"broken_json", []byte(`{"lo`), flowfile.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flowfile.Detect(tt.in); got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	f1, f2 := flowtest.New(flowtest.Comment("one")), flowtest.New(flowtest.URL("https://b.example.test/x"), flowtest.Marked())
	damagedLines := append(jsonLines(t, f1), []byte("{\"id\": \"half a fl")...)
	tests := []struct {
		name     string
		in       []byte
		wantURLs string
		warns    string
	}{
		{"json_lines", jsonLines(t, f1, f2), "http://example.test/path https://b.example.test/x", ""},
		{"har", harFile(t, f1, f2), "http://example.test/path https://b.example.test/x", ""},
		{"chrome_har_warns_with_line_and_entry", sample(t, "chrome.har"), "", "line 370: entry 7: bad URL"},
		{"damaged_json_lines", damagedLines, "http://example.test/path", "line 2: last line is cut short"},
		{"damaged_har", sample(t, "truncated.har"), "http://192.168.1.20:8080/api/v2/devices/17?force=true", "line 119: the file ends in the middle"},
		{"empty_file", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flows, warns, err := flowfile.Load(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var urls []string
			for _, f := range flows {
				urls = append(urls, f.Request.URL())
			}
			if tt.wantURLs != "" && strings.Join(urls, " ") != tt.wantURLs {
				t.Errorf("loaded %q, want %q", urls, tt.wantURLs)
			}
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.String())
			}
			if got := strings.Join(ws, "\n"); tt.warns == "" && got != "" || !strings.Contains(got, tt.warns) {
				t.Errorf("warnings %q, want one containing %q", got, tt.warns)
			}
		})
	}
	t.Run("har_keeps_flow_fields", func(t *testing.T) {
		flows, _, err := flowfile.Load(bytes.NewReader(harFile(t, f1, f2)))
		if err != nil || len(flows) != 2 || flows[0].ID != f1.ID || flows[0].Comment != "one" || !flows[1].Marked {
			t.Errorf("flows from HAR lost their fields: %v %+v", err, flows)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		_, _, err := flowfile.Load(strings.NewReader("name,url\nx,http://a/\n"))
		if !errors.Is(err, flowfile.ErrUnknownFormat) || !strings.Contains(err.Error(), `"name,url\nx`) {
			t.Errorf("err = %v, want ErrUnknownFormat quoting the start", err)
		}
	})
}
