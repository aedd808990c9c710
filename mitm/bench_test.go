package mitm_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore/rules"
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

// nonMatchingRules are n rules of every kind of matcher (filter, path,
// method, request headers), acting on requests and on responses, none of
// which matches the benchmark's requests.
func nonMatchingRules(n int) []rules.Rule {
	var rs []rules.Rule
	for i := range n {
		r := rules.Rule{Name: fmt.Sprintf("r%d", i)}
		set := rules.Action{SetHeader: &rules.SetHeader{Name: "X-Rule", Value: strconv.Itoa(i)}}
		switch i % 5 {
		case 0:
			r.Match.Filter = fmt.Sprintf("~d api-%d.example.com", i)
		case 1:
			r.Match.Path, r.Match.Method = fmt.Sprintf("/v1/service-%d/*", i), "POST"
		case 2:
			r.Match.Filter = fmt.Sprintf("~u /static/%d/ & ~m GET", i)
		case 3:
			r.Match.RequestHeaders = []rules.HeaderMatch{{Name: fmt.Sprintf("X-Debug-%d", i), Operator: rules.Exists}}
		case 4:
			r.Match.Filter = fmt.Sprintf("~d cdn-%d.example & ~c 500", i)
			set.SetHeader.In = rules.Response
		}
		r.Actions = []rules.Action{set}
		rs = append(rs, r)
	}
	return rs
}

// BenchmarkRulesNotMatching: keep-alive HTTPS through the proxy with no
// rules and with 50 rules that match none of the requests (issue 24: rules
// cost nothing on flows they do not match; within 5%). Compare the two with
// -count, which alternates them: go test -run XXX -bench RulesNotMatching -count 10 ./mitm/
func BenchmarkRulesNotMatching(b *testing.B) {
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, strings.Repeat("x", 100)) }))
			defer srv.Close()
			env := mitmtest.Start(b, trustOrigin(srv))
			if err := env.Proxy.SetRules(nonMatchingRules(n)); err != nil {
				b.Fatal(err)
			}
			tr := env.Transport()
			tr.MaxIdleConnsPerHost = 256
			client := &http.Client{Transport: tr}
			defer tr.CloseIdleConnections()
			b.ResetTimer()
			cpu := processCPU()
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
			// CPU per request (proxy, client and origin together, the same
			// work but the rules): on a shared machine it moves less than the
			// wall clock, and with the CPUs busy throughput follows it.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
			for _, s := range env.Proxy.Rules() {
				if s.Hits != 0 {
					b.Fatalf("rule %s matched %d flows", s.Name, s.Hits)
				}
			}
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
