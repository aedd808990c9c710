package har_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// Flows go out as HAR 1.2 and come back with everything HAR can't say
// (ID, marks, exact timestamps) kept in the _flow extension.
func ExampleWrite() {
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f := &flowstore.Flow{
		ID: "a1", State: flowstore.StateDone, Marked: true, Comment: "slow",
		Request: &flowstore.Request{Method: "GET", Scheme: "https", Host: "example.com", Port: 443, Path: "/", Proto: "HTTP/2.0"},
		Response: &flowstore.Response{Status: 200, Proto: "HTTP/2.0",
			Headers: flowstore.Headers{{Name: "content-type", Value: "text/plain"}}, Body: flowstore.NewBody([]byte("hi"))},
		Timings: flowstore.Timings{Start: start, RequestSent: start.Add(time.Millisecond), FirstByte: start.Add(250 * time.Millisecond), End: start.Add(251 * time.Millisecond)},
	}
	var buf bytes.Buffer
	if err := har.Write(&buf, []*flowstore.Flow{f}, har.Creator{Name: "interceptor-tui", Version: "1.0"}); err != nil {
		fmt.Println(err)
		return
	}
	flows, warnings, err := har.Read(&buf)
	fmt.Println(len(flows), len(warnings), err)
	g := flows[0]
	fmt.Println(g.ID, g.Request.Method, g.Request.URL(), g.Response.Status, string(g.Response.Body.Data), g.Marked, g.Comment, g.Timings.Duration())
	// Output:
	// 1 0 <nil>
	// a1 GET https://example.com/ 200 hi true slow 251ms
}

// WriteEntry is "copy as HAR entry".
func ExampleWriteEntry() {
	f := &flowstore.Flow{
		ID: "b2", State: flowstore.StateError, Error: &flowstore.Error{Phase: flowstore.PhaseRequest, Message: "connection refused"},
		Request: &flowstore.Request{Method: "DELETE", Scheme: "http", Host: "localhost", Port: 8080, Path: "/jobs/7", Proto: "HTTP/1.1",
			Headers: flowstore.Headers{{Name: "Host", Value: "localhost:8080"}}},
	}
	if err := har.WriteEntry(os.Stdout, f); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "startedDateTime": "1970-01-01T00:00:00.000Z",
	//   "time": 0,
	//   "request": {
	//     "method": "DELETE",
	//     "url": "http://localhost:8080/jobs/7",
	//     "httpVersion": "HTTP/1.1",
	//     "cookies": [],
	//     "headers": [
	//       {
	//         "name": "Host",
	//         "value": "localhost:8080"
	//       }
	//     ],
	//     "queryString": [],
	//     "headersSize": 49,
	//     "bodySize": 0
	//   },
	//   "response": {
	//     "status": 0,
	//     "statusText": "",
	//     "httpVersion": "",
	//     "cookies": [],
	//     "headers": [],
	//     "content": {
	//       "size": 0,
	//       "mimeType": ""
	//     },
	//     "redirectURL": "",
	//     "headersSize": -1,
	//     "bodySize": -1,
	//     "_error": "connection refused"
	//   },
	//   "cache": {},
	//   "timings": {
	//     "blocked": -1,
	//     "dns": -1,
	//     "connect": -1,
	//     "ssl": -1,
	//     "send": 0,
	//     "wait": 0,
	//     "receive": 0
	//   },
	//   "_flow": {
	//     "id": "b2",
	//     "state": "error",
	//     "error": {
	//       "phase": "request",
	//       "message": "connection refused"
	//     },
	//     "client": {
	//       "addr": ""
	//     },
	//     "timings": {}
	//   }
	// }
}
