package flowstore

import (
	"testing"
	"time"
)

func smallFlow() *Flow {
	now := time.Now()
	return &Flow{
		ID: NewID(), State: StateDone,
		Client: Client{Addr: "127.0.0.1:50312", TLS: &TLSInfo{Version: "TLS 1.3", SNI: "api.test", ALPN: "http/1.1", Cipher: "TLS_AES_128_GCM_SHA256"}},
		Server: Server{Addr: "api.test:443", IP: "127.0.0.1:443", TLS: &TLSInfo{Version: "TLS 1.3", SNI: "api.test", ALPN: "http/1.1", CertSubject: "CN=api.test"}},
		Request: &Request{Method: "GET", Scheme: "https", Host: "api.test", Port: 443, Path: "/v1/items?page=2", Proto: "HTTP/1.1",
			Headers: Headers{{"Host", "api.test"}, {"User-Agent", "Go-http-client/1.1"}, {"Accept", "*/*"}, {"Accept-Encoding", "gzip"}}},
		Response: &Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
			Headers: Headers{{"Content-Type", "application/json"}, {"Content-Length", "100"}, {"Date", "Mon, 23 Nov 2026 15:00:00 GMT"}},
			Body:    NewBody(make([]byte, 100))},
		Timings:  Timings{Start: now, RequestSent: now, FirstByte: now, End: now},
		BytesIn:  120,
		BytesOut: 230,
	}
}

func BenchmarkEncodeRecord(b *testing.B) {
	f := smallFlow()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeRecord(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRecord(b *testing.B) {
	rec, _ := encodeRecord(smallFlow())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}
