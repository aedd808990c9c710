package har_test

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// Entries with numbers no exchange can have: each is reported with its
// line and entry, what was wrong and what was done, and the good entry
// loads as it was.
func TestReadValidatesValues(t *testing.T) {
	entry := func(url, resp, extra string) string {
		return `{"startedDateTime": "2026-01-02T15:04:05Z", "time": 7,
  "request": {"method": "GET", "url": "` + url + `", "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
  "response": ` + resp + `,
  "cache": {}, "timings": {"send": 1, "wait": 5, "receive": 1}` + extra + `}`
	}
	ok := `{"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [], "content": {"size": 2, "mimeType": "text/plain", "text": "hi"}, "redirectURL": "", "headersSize": -1, "bodySize": 2}`
	file := `{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [
` + strings.Join([]string{
		entry("http://good.test/", ok, ""),
		entry("http://status.test/", strings.Replace(ok, `"status": 200`, `"status": 99999999999`, 1), ""),
		entry("http://size.test/", strings.Replace(strings.Replace(ok, `"bodySize": 2`, `"bodySize": 1000000000000000000`, 1), `"text": "hi"`, `"text": "hi", "_truncated": true`, 1), ""),
		entry("http://flow.test/", ok, `, "_flow": {"id": "f5", "state": "done", "client": {"addr": "1.2.3.4:99999999999"}, "bytes_in": 1000000000000000000,
    "timings": {"start": "2026-01-02T15:04:05Z", "end": "2026-01-02T15:04:04Z"}}`),
		entry("http://port.test:99999999999/", ok, ""),
		strings.Replace(entry("http://time.test/", ok, ""), `"receive": 1`, `"receive": 1e300`, 1),
	}, ",\n") + `]}}`
	flows, warns, err := har.Read(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"line 6: entry 2: response status 99999999999 is not an HTTP status (100-999); the response is dropped",
		"line 10: entry 3: response body size 1000000000000000000 is more than 1 TiB; set to the 2 bytes kept",
		`line 14: entry 4: client address "1.2.3.4:99999999999" is not host:port; cleared`,
		"line 14: entry 4: end time 2026-01-02T15:04:04Z is before the start 2026-01-02T15:04:05Z; cleared",
		"line 14: entry 4: bytes_in 1000000000000000000 is out of range (0 to 1 TiB); cleared",
		`line 19: entry 5: bad URL "http://port.test:99999999999/": bad port "99999999999"; skipped`,
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant first:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The absurd receive time puts the end out of range or before the start:
	// either way it is cleared, and said so.
	if rest := strings.Join(got[len(want):], "\n"); !strings.HasPrefix(rest, "line 23: entry 6: end time") || !strings.HasSuffix(rest, "cleared") {
		t.Fatalf("entry 6 warnings: %q", rest)
	}
	hosts := map[string]*flowstore.Flow{}
	for _, f := range flows {
		hosts[f.Request.Host] = f
	}
	if len(flows) != 5 || hosts["port.test"] != nil {
		t.Fatalf("%d flows: %v", len(flows), hosts)
	}
	if f := hosts["good.test"]; f.Response.Status != 200 || string(f.Response.Body.Data) != "hi" || f.Timings.Duration() <= 0 {
		t.Errorf("the good entry: %+v", f)
	}
	if f := hosts["status.test"]; f.Response != nil || f.State != flowstore.StateError {
		t.Errorf("status 99999999999 kept a response or state %s", f.State)
	}
	if f := hosts["size.test"]; f.Response.Body.Size != 2 || !f.Response.Body.Truncated {
		t.Errorf("size: %+v", f.Response.Body)
	}
	if f := hosts["flow.test"]; f.BytesIn != 0 || f.Client.Addr != "" || !f.Timings.End.IsZero() {
		t.Errorf("_flow values kept: %+v", f)
	}
	if f := hosts["time.test"]; f.Timings.Duration() < 0 {
		t.Errorf("negative duration %s", f.Timings.Duration())
	}
}
