package export_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func TestRaw(t *testing.T) {
	post := flowtest.New(flowtest.URL("https://api.example.test:8443/v1/items?x=1"), flowtest.Method("POST"),
		flowtest.ReqBody("application/json", []byte(`{"a":1}`)), flowtest.ReqHeader("Content-Length", "7"))
	h2 := &flowstore.Request{Method: "GET", Scheme: "https", Host: "example.test", Port: 443, Path: "/", Proto: "HTTP/2.0",
		Headers: flowstore.Headers{{Name: "accept", Value: "*/*"}}}
	chunked := &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
		Headers:  flowstore.Headers{{Name: "Transfer-Encoding", Value: "chunked"}, {Name: "Trailer", Value: "X-Sum"}},
		Body:     flowstore.NewBody([]byte("hello, world")),
		Trailers: flowstore.Headers{{Name: "X-Sum", Value: "42"}}}
	connect := &flowstore.Request{Method: "CONNECT", Scheme: "https", Host: "example.test", Port: 443, Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Host", Value: "example.test:443"}}}

	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"request", export.RawRequest(post.Request),
			"POST /v1/items?x=1 HTTP/1.1\r\nHost: api.example.test:8443\r\nUser-Agent: flowtest\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"},
		{"http2_request_as_http1_with_host", export.RawRequest(h2),
			"GET / HTTP/1.1\r\nHost: example.test\r\naccept: */*\r\n\r\n"},
		{"connect", export.RawRequest(connect), "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n"},
		{"response", export.RawResponse(flowtest.New().Response),
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"},
		{"chunked_response_with_trailers", export.RawResponse(chunked),
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\nc\r\nhello, world\r\n0\r\nX-Sum: 42\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got:\n%q\nwant:\n%q", tt.got, tt.want)
			}
		})
	}
	if got := export.URL(post.Request); got != "https://api.example.test:8443/v1/items?x=1" {
		t.Errorf("URL = %q", got)
	}
}
