package mitm_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/mitm/mitmtest"
)

func benchProxied(b *testing.B, tlsOrigin bool) {
	body := strings.Repeat("x", 100)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	var srv *httptest.Server
	if tlsOrigin {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	defer srv.Close()
	env := mitmtest.Start(b, trustOrigin(srv))
	tr := env.Transport()
	tr.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(srv.URL + "/bench")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.StopTimer()
	if n := env.Store.Len(); n < b.N {
		b.Fatalf("%d flows captured for %d requests", n, b.N)
	}
}

// BenchmarkProxiedHTTPS: keep-alive HTTPS requests through the MITM proxy,
// every flow captured.
func BenchmarkProxiedHTTPS(b *testing.B) { benchProxied(b, true) }

// BenchmarkProxiedPlain: keep-alive plain HTTP requests through the proxy.
func BenchmarkProxiedPlain(b *testing.B) { benchProxied(b, false) }
