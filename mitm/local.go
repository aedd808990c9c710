package mitm

// The proxy's own pages: interceptor.tui (LocalPages), and the answer to a
// request made to the proxy as if it were a site.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// localRecorder collects what a LocalPages handler writes.
type localRecorder struct {
	h      http.Header
	status int
	body   strings.Builder
}

func (r *localRecorder) Header() http.Header { return r.h }

func (r *localRecorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

func (r *localRecorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// serveLocal answers a request for LocalHost with the LocalPages handler.
func (p *Proxy) serveLocal(r *http.Request) *http.Response {
	if p.opts.LocalPages == nil {
		return textResponse(r, http.StatusNotFound, "interceptor-tui: nothing here\n")
	}
	rec := &localRecorder{h: make(http.Header)}
	p.opts.LocalPages.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.String()
	rec.h.Set("Content-Length", strconv.Itoa(len(body)))
	return &http.Response{
		StatusCode: rec.status, Status: strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rec.h,
		Body: nopCloser{strings.NewReader(body)}, ContentLength: int64(len(body)), Request: r,
	}
}

// serveNonProxy answers a request made to the proxy as if it were a site.
func (p *Proxy) serveNonProxy(cc *conn1, h *head) {
	body := fmt.Sprintf("This is interceptor-tui, an HTTP(S) proxy. Configure it as your proxy (%s) instead of visiting it;\n"+
		"then http://interceptor.tui/ has the CA certificate.\n", p.ListenAddr())
	fmt.Fprintf(cc.bw, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	_ = cc.bw.Flush()
}
