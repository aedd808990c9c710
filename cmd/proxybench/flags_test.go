package main

import (
	"io"
	"slices"
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
