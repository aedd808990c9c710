package httptext_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/httptext"
)

// FuzzParseRequest: parsing never panics; an error is a *ParseError whose
// line is inside the text; a parsed message formats to text that parses back
// to the same message (so what the editor shows is what is sent). Seeds are
// in testdata/fuzz/FuzzParseRequest; which picks the original message.
func FuzzParseRequest(f *testing.F) {
	post := jsonPost(f)
	corrupt := flowtest.New(flowtest.Method("POST"), flowtest.ReqBody("text/plain", []byte("x")), flowtest.ReqHeader("Content-Encoding", "gzip")).Request
	origs := []*flowstore.Request{nil, flowtest.New().Request, post, corrupt}
	gz := flowtest.New(flowtest.RespBody("text/html", mustEncode(f, "<p>hi</p>", "gzip")), flowtest.RespHeader("Content-Encoding", "gzip")).Response
	origResps := []*flowstore.Response{nil, flowtest.New().Response, gz}

	f.Add(httptext.FormatRequest(post), uint8(2))
	f.Add([]byte("GET /p HTTP/1.1\r\nHost: [::1]:81\r\n\r\n"), uint8(0))
	f.Add([]byte("HTTP/1.1 200 OK\nContent-Encoding: gzip\n\n<p>bye</p>\n"), uint8(2))
	f.Fuzz(func(t *testing.T, text []byte, which uint8) {
		lines := bytes.Count(text, []byte("\n")) + 1
		checkErr := func(err error) {
			t.Helper()
			var pe *httptext.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *ParseError", err, err)
			}
			if pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error line %d outside the text's %d lines: %v", pe.Line, lines, err)
			}
		}

		orig := origs[int(which)%len(origs)]
		if req, err := httptext.ParseRequest(text, orig); err != nil {
			checkErr(err)
		} else {
			again, err := httptext.ParseRequest(httptext.FormatRequest(req), req)
			if err != nil {
				t.Fatalf("formatted request does not parse: %v\n%q", err, httptext.FormatRequest(req))
			}
			if !reflect.DeepEqual(again, req) {
				t.Fatalf("format and parse changed the request:\n got %+v\nwant %+v", again, req)
			}
		}

		origResp := origResps[int(which)%len(origResps)]
		if resp, err := httptext.ParseResponse(text, origResp); err != nil {
			checkErr(err)
		} else {
			again, err := httptext.ParseResponse(httptext.FormatResponse(resp), resp)
			if err != nil {
				t.Fatalf("formatted response does not parse: %v\n%q", err, httptext.FormatResponse(resp))
			}
			if !reflect.DeepEqual(again, resp) {
				t.Fatalf("format and parse changed the response:\n got %+v\nwant %+v", again, resp)
			}
		}
	})
}
