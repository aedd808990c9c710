package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is a load to generate: conns workers calling do, each waiting for
// its previous request before it starts the next, either until duration has
// passed or until total requests have been made.
type loadSpec struct {
	conns    int
	duration time.Duration
	total    int64
	// do makes request number i and returns the body bytes it received.
	do func(ctx context.Context, i int64) (int64, error)
}

type loadResult struct {
	hist     histogram
	n        int64 // requests that succeeded
	errs     int64
	firstErr string
	bytes    int64
	elapsed  time.Duration
}

// made counts the requests tried, failed ones included.
func (r *loadResult) made() int64 { return r.n + r.errs }

func (r *loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

// runLoad runs spec. A request in flight when the time is up is let finish
// and counted; the elapsed time runs until the last one has.
func runLoad(ctx context.Context, spec loadSpec) *loadResult {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		wg       sync.WaitGroup
		out      = &loadResult{}
		start    = time.Now()
		deadline = start.Add(spec.duration)
	)
	for w := 0; w < max(1, spec.conns); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				h               histogram
				n, errs, nbytes int64
				firstErr        string
			)
			for ctx.Err() == nil {
				if spec.duration > 0 && time.Now().After(deadline) {
					break
				}
				i := next.Add(1) - 1
				if spec.total > 0 && i >= spec.total {
					break
				}
				t0 := time.Now()
				got, err := spec.do(ctx, i)
				d := time.Since(t0)
				nbytes += got
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					time.Sleep(time.Millisecond) // a dead proxy must not spin us
					continue
				}
				n++
				h.record(d)
			}
			mu.Lock()
			out.hist.merge(&h)
			out.n += n
			out.errs += errs
			out.bytes += nbytes
			if out.firstErr == "" {
				out.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

// newTransport is the load client's transport, through proxy unless it is
// nil, trusting pool. It speaks HTTP/1.1 unless h2 is set; then it offers
// h2 and http/1.1 in ALPN (inside the CONNECT tunnel when proxied), as Go
// programs do by default, and multiplexes its requests over HTTP/2 where
// the other side chose it.
func newTransport(proxy *url.URL, pool *x509.CertPool, serverName string, conns int, keepAlive, h2 bool) *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: serverName},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableCompression:  true,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: max(conns, 2),
		IdleConnTimeout:     90 * time.Second,
	}
	if h2 {
		// A TLS config of our own turns HTTP/2 off unless forced; an empty
		// TLSNextProto turns it off even then.
		tr.TLSNextProto = nil
		tr.ForceAttemptHTTP2 = true
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return tr
}

// call is one request the load client makes, over and over.
type call struct {
	method string
	url    string
	host   string // Host header when not empty
	body   []byte // request body, for POST
	want   int64  // response body bytes expected
	proto  int    // HTTP major version the answer must come in, 0 for any
}

// do makes the request, reads the whole body and checks it is a 200 of
// c.want bytes in the HTTP version asked for.
func (q call) do(ctx context.Context, c *http.Client) (int64, error) {
	var body io.Reader
	if q.body != nil {
		body = bytes.NewReader(q.body)
	}
	req, err := http.NewRequestWithContext(ctx, q.method, q.url, body)
	if err != nil {
		return 0, err
	}
	if q.host != "" {
		req.Host = q.host
	}
	if q.body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return int64(len(b)), fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if q.proto != 0 && resp.ProtoMajor != q.proto {
		return 0, fmt.Errorf("answered in %s, want HTTP/%d", resp.Proto, q.proto)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if n != q.want {
		return n, fmt.Errorf("got %d body bytes, want %d", n, q.want)
	}
	return n, nil
}

// get fetches url (with Host set to host when not empty), reads the whole
// body and checks it is a 200 of want bytes.
func get(ctx context.Context, c *http.Client, url, host string, want int64) (int64, error) {
	return call{method: http.MethodGet, url: url, host: host, want: want}.do(ctx, c)
}
