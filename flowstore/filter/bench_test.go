package filter_test

import (
	"fmt"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// benchFlows are n flows with varied hosts, methods, statuses and headers.
func benchFlows(n int) []*flowstore.Flow {
	hosts := []string{"example.test", "api.example.test", "cdn.static.test", "auth.login.test", "tracker.ads.test", "shop.test", "10.0.0.7"}
	methods := []string{"GET", "GET", "POST", "PUT", "DELETE"} // a length prime to the others
	statuses := []int{200, 200, 200, 201, 204, 301, 304, 404, 500}
	paths := []string{"/", "/api/v1/users", "/static/app.js", "/login", "/api/v2/orders?id=", "/img/logo.png"}
	flows := make([]*flowstore.Flow, n)
	for i := range flows {
		opts := []flowtest.Option{
			flowtest.URL(fmt.Sprintf("https://%s%s%d", hosts[i%len(hosts)], paths[i%len(paths)], i)),
			flowtest.Method(methods[i%len(methods)]),
			flowtest.ReqHeader("Accept", "*/*"),
			flowtest.ReqHeader("Accept-Encoding", "gzip, br"),
		}
		if i%13 == 0 {
			opts = append(opts, flowtest.ReqHeader("X-Trace", fmt.Sprint(i)))
		}
		if i%17 == 0 {
			opts = append(opts, flowtest.NoResponse())
		} else {
			opts = append(opts, flowtest.Status(statuses[i%len(statuses)]), flowtest.RespHeader("Server", "bench"))
		}
		flows[i] = flowtest.New(opts...)
	}
	return flows
}

// BenchmarkMatch100k: one op is one filter applied to 100 000 flows.
func BenchmarkMatch100k(b *testing.B) {
	flows := benchFlows(100_000)
	for _, expr := range []string{"~d example & ~m POST", "!~c 200", "~u /api/ | ~h x-trace"} {
		f := filter.MustParse(expr)
		b.Run(expr, func(b *testing.B) {
			b.ReportAllocs()
			matched := 0
			for b.Loop() {
				matched = 0
				for _, fl := range flows {
					if f.Match(fl) {
						matched++
					}
				}
			}
			b.ReportMetric(float64(matched), "matched")
		})
	}
}
