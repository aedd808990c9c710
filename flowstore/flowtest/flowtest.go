// Package flowtest makes flows for tests: a finished GET with a response by
// default, adjusted with options. It is the test kit of flowstore and of
// every package that reads flows (after mitmproxy's test/tflow.py).
package flowtest

import (
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Base is the fixed start time of every test flow, so goldens are stable.
var Base = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// Option adjusts a flow under construction.
type Option func(*flowstore.Flow)

// New returns a done flow: GET http://example.test/path answered 200 with
// a small text body, unless options say otherwise.
func New(opts ...Option) *flowstore.Flow {
	f := &flowstore.Flow{
		ID:     flowstore.NewID(),
		State:  flowstore.StateDone,
		Client: flowstore.Client{Addr: "127.0.0.1:50000"},
		Server: flowstore.Server{Addr: "example.test:80", IP: "127.0.0.1:80"},
		Request: &flowstore.Request{
			Method: "GET", Scheme: "http", Host: "example.test", Port: 80, Path: "/path",
			Proto:   "HTTP/1.1",
			Headers: flowstore.Headers{{Name: "Host", Value: "example.test"}, {Name: "User-Agent", Value: "flowtest"}},
		},
		Response: &flowstore.Response{
			Status: 200, Reason: "OK", Proto: "HTTP/1.1",
			Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "5"}},
			Body:    flowstore.NewBody([]byte("hello")),
		},
		Timings: flowstore.Timings{Start: Base, RequestSent: Base.Add(time.Millisecond), FirstByte: Base.Add(5 * time.Millisecond), End: Base.Add(7 * time.Millisecond)},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// URL sets the request URL (absolute); it panics on a bad URL, as tests want.
func URL(u string) Option {
	return func(f *flowstore.Flow) {
		if err := f.Request.SetURL(u); err != nil {
			panic(err)
		}
		f.Request.Headers.Set("Host", f.Request.Authority())
	}
}

// Method sets the request method.
func Method(m string) Option { return func(f *flowstore.Flow) { f.Request.Method = m } }

// Status sets the response status (creating a response if there is none).
func Status(code int) Option {
	return func(f *flowstore.Flow) {
		if f.Response == nil {
			f.Response = &flowstore.Response{Proto: "HTTP/1.1"}
		}
		f.Response.Status = code
	}
}

// ReqHeader adds a request header.
func ReqHeader(name, value string) Option {
	return func(f *flowstore.Flow) { f.Request.Headers.Add(name, value) }
}

// RespHeader adds a response header.
func RespHeader(name, value string) Option {
	return func(f *flowstore.Flow) { f.Response.Headers.Add(name, value) }
}

// ReqBody sets the request body and its Content-Type.
func ReqBody(contentType string, b []byte) Option {
	return func(f *flowstore.Flow) {
		f.Request.Body = flowstore.NewBody(b)
		if contentType != "" {
			f.Request.Headers.Set("Content-Type", contentType)
		}
	}
}

// RespBody sets the response body and its Content-Type.
func RespBody(contentType string, b []byte) Option {
	return func(f *flowstore.Flow) {
		f.Response.Body = flowstore.NewBody(b)
		f.Response.Headers.Set("Content-Type", contentType)
		f.Response.Headers.Del("Content-Length")
	}
}

// NoResponse leaves the flow waiting for its response.
func NoResponse() Option {
	return func(f *flowstore.Flow) {
		f.Response = nil
		f.State = flowstore.StateActive
		f.Timings.FirstByte, f.Timings.End = time.Time{}, time.Time{}
	}
}

// Failed gives the flow an error and no response, as an upstream failure does.
func Failed(msg string) Option {
	return func(f *flowstore.Flow) {
		f.Response = nil
		f.Fail(flowstore.PhaseRequest, msg, Base.Add(3*time.Millisecond))
	}
}

// Marked marks the flow.
func Marked() Option { return func(f *flowstore.Flow) { f.Marked = true } }

// Comment sets the comment.
func Comment(c string) Option { return func(f *flowstore.Flow) { f.Comment = c } }

// At sets the start time offset from Base.
func At(d time.Duration) Option {
	return func(f *flowstore.Flow) {
		shift := Base.Add(d).Sub(f.Timings.Start)
		t := &f.Timings
		for _, p := range []*time.Time{&t.Start, &t.RequestSent, &t.FirstByte, &t.End} {
			if !p.IsZero() {
				*p = p.Add(shift)
			}
		}
	}
}
