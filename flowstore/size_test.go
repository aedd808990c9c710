package flowstore_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "16g": 16 << 30, "0": 0, "1.5k": 1536, "1GiB": 1 << 30, "256MiB": 256 << 20,
		"64k": 64 << 10, "1000": 1000, "0.5g": 1 << 29, "64KB": 64 << 10, " 8 MiB ": 8 << 20, "1500B": 1500,
	} {
		if got, err := flowstore.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "b", "-1", "-1m", "nan", "inf", "+Inf", "1e30g", "lots"} {
		if got, err := flowstore.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSizeExact(t *testing.T) {
	for n, want := range map[int64]string{1 << 30: "1GiB", 3 << 20: "3MiB", 64 << 10: "64KiB", 1536: "1536B", 1000: "1000B", 0: "0B"} {
		if got := flowstore.FormatSizeExact(n); got != want {
			t.Errorf("FormatSizeExact(%d) = %q, want %q", n, got, want)
		}
	}
	// What it writes, ParseSize reads back to the same number.
	for _, n := range []int64{512 << 20, 16 << 30, 8 << 20, 1536, 1500, 0, 1 << 62} {
		if got, err := flowstore.ParseSize(flowstore.FormatSizeExact(n)); err != nil || got != n {
			t.Errorf("FormatSizeExact(%d) = %q reads back as %d, %v", n, flowstore.FormatSizeExact(n), got, err)
		}
	}
}
