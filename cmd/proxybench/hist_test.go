package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistBucketsCoverEveryValue(t *testing.T) {
	// Every value lands in a bucket whose bounds hold it, and buckets are
	// contiguous: the next one starts right after this one ends.
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 123456, 1 << 40, 1<<40 + 12345} {
		i := histIndex(v)
		lo, hi := histBounds(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
	}
	for i := 0; i < 40*histSub; i++ {
		_, hi := histBounds(i)
		lo, _ := histBounds(i + 1)
		if lo != hi+1 {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, hi, i+1, lo)
		}
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
		tol     float64 // relative
	}{
		{"empty", nil, 0.5, 0, 0},
		{"one sample", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond, 0},
		{"median of 1..100 ms", seq(1, 100, time.Millisecond), 0.5, 50 * time.Millisecond, 0.01},
		{"p99 of 1..100 ms", seq(1, 100, time.Millisecond), 0.99, 99 * time.Millisecond, 0.01},
		{"p100 is the max", seq(1, 100, time.Millisecond), 1, 100 * time.Millisecond, 0},
		{"p0 is the min", seq(1, 100, time.Millisecond), 0, time.Millisecond, 0},
		{"small values are exact", seq(1, 99, time.Nanosecond), 0.5, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, s := range tt.samples {
				h.record(s)
			}
			got := h.quantile(tt.q)
			if diff := float64(got - tt.want); diff > tt.tol*float64(tt.want) || -diff > tt.tol*float64(tt.want) {
				t.Errorf("quantile(%v) = %v, want %v (±%.0f%%)", tt.q, got, tt.want, tt.tol*100)
			}
		})
	}
}

func TestQuantileMatchesSortWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var parts [4]histogram
	var all []time.Duration
	for i := range 20000 {
		// Log-normal-ish latencies from 50µs to seconds.
		d := time.Duration(50e3 * (1 + r.ExpFloat64()*r.ExpFloat64()*100))
		all = append(all, d)
		parts[i%4].record(d)
	}
	var h histogram
	for i := range parts {
		h.merge(&parts[i])
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(q*float64(len(all))+0.999999)-1]
		got := h.quantile(q)
		if rel := float64(got-exact) / float64(exact); rel > 0.008 || rel < -0.008 {
			t.Errorf("q=%v: got %v, exact %v (%.2f%% off)", q, got, exact, rel*100)
		}
	}
	if h.n != int64(len(all)) || h.min != all[0] || h.max != all[len(all)-1] {
		t.Errorf("merged n=%d min=%v max=%v, want %d %v %v", h.n, h.min, h.max, len(all), all[0], all[len(all)-1])
	}
}

func seq(from, to int, unit time.Duration) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*unit)
	}
	return out
}
