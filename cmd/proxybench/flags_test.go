package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBaselineJoinsTheProxies(t *testing.T) {
	cfg, err := parseFlags([]string{"--proxies", "goproxy,interceptor-tui", "--baseline", "/old/interceptor-tui"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{proxyGoproxy, proxyBaseline, proxyOurs}; !slices.Equal(cfg.proxies, want) {
		t.Fatalf("proxies %v, want %v", cfg.proxies, want)
	}
	cfg, err = parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if has(cfg.proxies, proxyBaseline) {
		t.Fatalf("the default proxies include the baseline without --baseline: %v", cfg.proxies)
	}
	if _, err := parseFlags([]string{"--proxies", "baseline,interceptor-tui"}, io.Discard); err == nil {
		t.Fatal("the baseline proxy without --baseline was accepted")
	}
}

// A binary named without a directory is the one in the current directory,
// not one exec would find in PATH.
func TestBinariesAreTakenFromHere(t *testing.T) {
	cfg, err := parseFlags([]string{"--binary", "interceptor-tui", "--baseline", "old/interceptor-tui"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if cfg.binary != filepath.Join(wd, "interceptor-tui") || cfg.baseline != filepath.Join(wd, "old", "interceptor-tui") {
		t.Fatalf("binary %q, baseline %q", cfg.binary, cfg.baseline)
	}
}

func TestOriginKindsAndCases(t *testing.T) {
	tests := []struct {
		args    []string
		want    []benchCase
		dropped int
	}{
		{
			args: nil, // every scenario, both origin kinds
			want: []benchCase{
				{scHTTPS, originH1}, {scHTTPS, originH2},
				{scPost, originH1}, {scPost, originH2},
				{scH2, originH2},
				{scLatency, originH1}, {scLatency, originH2},
				{scHTTP, originPlain},
				{scHandshakes, originH1}, {scHandshakes, originH2},
				{scDownload, originH1}, {scDownload, originH2},
				{scFlows, originH1}, {scFlows, originH2},
			},
		},
		{
			args: []string{"--only", "download,post,https", "--origin", "h2"},
			want: []benchCase{{scHTTPS, originH2}, {scPost, originH2}, {scDownload, originH2}},
		},
		{
			// The HTTP/2 client runs against an origin that offers h2 only.
			args:    []string{"--only", "h2,https", "--origin", "h1"},
			want:    []benchCase{{scHTTPS, originH1}},
			dropped: 1,
		},
		{
			args: []string{"--only", "http", "--origin", "h2"},
			want: []benchCase{{scHTTP, originPlain}},
		},
		{
			args: []string{"--origin", "h2,h1", "--only", "h2"},
			want: []benchCase{{scH2, originH2}},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cfg, err := parseFlags(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.cases, tt.want) {
				t.Errorf("cases %v, want %v", cfg.cases, tt.want)
			}
			if len(cfg.dropped) != tt.dropped {
				t.Errorf("dropped %q, want %d", cfg.dropped, tt.dropped)
			}
		})
	}
	for _, bad := range [][]string{
		{"--origin", "h3"},
		{"--origin", ""},
		{"--only", "h2", "--origin", "h1"}, // nothing left to run
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
