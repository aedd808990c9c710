package main

import (
	"io"
	"os"
	"path/filepath"
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
