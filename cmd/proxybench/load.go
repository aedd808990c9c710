package main

import (
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

// newTransport is the load client's transport: HTTP/1.1 (as the origin
// speaks it), through proxy unless it is nil, trusting pool.
func newTransport(proxy *url.URL, pool *x509.CertPool, serverName string, conns int, keepAlive bool) *http.Transport {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: serverName},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		DisableCompression:  true,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: max(conns, 2),
		IdleConnTimeout:     90 * time.Second,
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return tr
}

// get fetches url (with Host set to host when not empty), reads the whole
// body and checks it is a 200 of want bytes.
func get(ctx context.Context, c *http.Client, url, host string, want int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if host != "" {
		req.Host = host
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
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if n != want {
		return n, fmt.Errorf("got %d body bytes, want %d", n, want)
	}
	return n, nil
}
