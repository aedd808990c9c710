package mitm

// HTTP/2 clients are served by goproxy (in tunnels handed to it, see
// reenter); these are its entry into the exchange.

import (
	"errors"
	"net/http"
	"strings"

	"github.com/elazarl/goproxy"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

type roundTripper struct{ p *Proxy }

// onRequest runs for every request of an HTTP/2 client, which goproxy
// serves: it records the flow and routes the round trip through us.
func (p *Proxy) onRequest(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	tun, _ := ctx.UserData.(*tunnel)
	if tun != nil {
		// goproxy sees a decrypted stream as plain HTTP; the tunnel knows better.
		r.URL.Scheme = "http"
		if tun.clientTLS != nil {
			r.URL.Scheme = "https"
		}
		if r.URL.Host == "" {
			r.URL.Host = tun.target
		}
		if tun.scheme != "" {
			// A reverse listener's: the origin's.
			r.URL.Scheme, r.URL.Host = tun.scheme, tun.authority
			if !p.opts.KeepHostHeader {
				r.Host = tun.authority
			}
		}
	}
	req := requestFromHTTP(r)
	if strings.EqualFold(req.Host, LocalHost) {
		return r, p.serveLocal(r)
	}
	req.Headers = flowstore.FromHTTP(r.Header)
	headSize := estimateHeadSize(len(r.Method)+len(r.RequestURI)+len(r.Proto)+2, req.Headers)
	ex := p.begin(r, tun, req, headSize, nil)
	ctx.UserData = ex
	ctx.RoundTripper = roundTripper{p}
	return r, nil
}

func (rt roundTripper) RoundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	ex, ok := ctx.UserData.(*exchange)
	if !ok {
		return nil, errors.New("interceptor-tui: a request without its flow")
	}
	resp, err := ex.roundTrip(req)
	if resp != nil {
		// Go's HTTP/2 server adds a Date, and a Content-Type it guesses from
		// the body, to an answer without them; a name present without a
		// value stops it and is not sent. (The flow has the headers already.)
		if resp.Header == nil {
			resp.Header = make(http.Header)
		}
		// HTTP/2 has no connection headers (RFC 9113 §8.2.2): an HTTP/1
		// origin's go no further, and its "Connection: close" is about its
		// own connection, not the client's (Go's server would end that).
		for _, name := range resp.Header["Connection"] {
			for _, n := range strings.Split(name, ",") {
				resp.Header.Del(strings.TrimSpace(n))
			}
		}
		for _, name := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"} {
			resp.Header.Del(name)
		}
		for _, name := range []string{"Date", "Content-Type"} {
			if _, ok := resp.Header[name]; !ok {
				resp.Header[name] = []string{}
			}
		}
	}
	return resp, err
}
