package flowfile_test

import (
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowfile"
)

func ExampleDetect() {
	fmt.Println(flowfile.Detect([]byte(`{"id":"3f2a","state":"done","request":{"method":"GET"`)))
	fmt.Println(flowfile.Detect([]byte("{\n  \"log\": {\n    \"version\": \"1.2\",")))
	fmt.Println(flowfile.Detect([]byte("method,url\n")))
	// Output:
	// JSON lines
	// HAR
	// unknown
}

func ExampleLoad() {
	file := `{"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": [
	  {"startedDateTime": "2026-01-02T15:04:05Z", "time": 1, "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
	   "request": {"method": "GET", "url": "https://example.com/a", "httpVersion": "HTTP/1.1", "headers": []},
	   "response": {"status": 204, "statusText": "No Content", "httpVersion": "HTTP/1.1", "headers": [], "content": {"size": 0, "mimeType": ""}}},
	  {"request": {"method": "GET", "url": "about:blank"}, "response": {"status": 200}}
	]}}`
	flows, warnings, err := flowfile.Load(strings.NewReader(file))
	fmt.Println(len(flows), flows[0].Request.URL(), flows[0].Response.Status, err)
	for _, w := range warnings {
		fmt.Println(w)
	}
	// Output:
	// 1 https://example.com/a 204 <nil>
	// line 5: entry 2: bad URL "about:blank": not an absolute URL (want scheme://host/path); skipped
}
