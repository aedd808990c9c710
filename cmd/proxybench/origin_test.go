package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// The two origin kinds, asked directly by the load client's two
// transports: what each negotiates, what the origin counts, and the POST
// the post scenario sends.
func TestOriginKinds(t *testing.T) {
	o, err := startOrigin(t.TempDir(), 3<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	ctx := context.Background()
	tests := []struct {
		name   string
		kind   string
		h2     bool // the client offers h2
		q      call
		want   string // upstreamProto of what the origin served
		errHas string
	}{
		{"h1 client, h1 origin", originH1, false, call{method: http.MethodGet, url: pathSmall, want: smallBodySize}, "HTTP/1.1", ""},
		{"h1 client, h2 origin", originH2, false, call{method: http.MethodGet, url: pathSmall, want: smallBodySize}, "HTTP/1.1", ""},
		{"h2 client, h2 origin", originH2, true, call{method: http.MethodGet, url: pathSmall, want: smallBodySize, proto: 2}, "HTTP/2", ""},
		{"h2 client, h1 origin", originH1, true, call{method: http.MethodGet, url: pathSmall, want: smallBodySize, proto: 2}, "HTTP/1.1", "want HTTP/2"},
		{"post, h1 origin", originH1, false, call{method: http.MethodPost, url: pathUpload, body: postBody, want: smallBodySize}, "HTTP/1.1", ""},
		{"post, h2 origin, h2 client", originH2, true, call{method: http.MethodPost, url: pathUpload, body: postBody, want: smallBodySize, proto: 2}, "HTTP/2", ""},
		{"post of the wrong size", originH2, false, call{method: http.MethodPost, url: pathUpload, body: []byte("short"), want: smallBodySize}, "HTTP/1.1", "400"},
		{"download", originH2, false, call{method: http.MethodGet, url: pathBig, want: 3 << 20}, "HTTP/1.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTransport(nil, o.pool, "", 1, true, tt.h2)
			defer tr.CloseIdleConnections()
			q := tt.q
			q.url = "https://" + o.addr(tt.kind) + q.url
			h1, h2 := o.served()
			_, err := q.do(ctx, &http.Client{Transport: tr})
			switch {
			case tt.errHas == "" && err != nil:
				t.Fatal(err)
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Fatalf("err %v, want one saying %q", err, tt.errHas)
			}
			n1, n2 := o.served()
			if got := upstreamProto(n1-h1, n2-h2); got != tt.want {
				t.Errorf("origin served %q, want %q", got, tt.want)
			}
		})
	}
	if got := upstreamProto(3, 2); got != "HTTP/1.1 3, HTTP/2 2" {
		t.Errorf("mixed: %q", got)
	}
}
