package main

import (
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets: exact below 128 ns,
// then 128 buckets per power of two, so any quantile it reports is within
// 0.8% of the true value. The zero value is ready to use; it is not safe for
// concurrent use (each load worker keeps its own and they are merged).
type histogram struct {
	counts   []int64
	n        int64
	min, max time.Duration
}

const histSubBits = 7
const histSub = 1 << histSubBits // buckets per power of two

func histIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) - histSubBits - 1
	return e*histSub + int(v>>e)
}

// histBounds is the smallest and largest value that land in bucket i.
func histBounds(i int) (lo, hi int64) {
	if i < 2*histSub {
		return int64(i), int64(i)
	}
	e := i/histSub - 1
	m := int64(i - e*histSub)
	return m << e, (m+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	i := histIndex(int64(d))
	if i >= len(h.counts) {
		grown := make([]int64, i+1+histSub)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]int64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
}

// quantile returns the value below which a fraction q of the samples lie
// (q=0.5 is the median), as the middle of the bucket holding that rank and
// clamped to the exact minimum and maximum. With no samples it returns 0.
func (h *histogram) quantile(q float64) time.Duration {
	switch {
	case h.n == 0:
		return 0
	case q <= 0:
		return h.min
	case q >= 1:
		return h.max
	}
	rank := int64(q*float64(h.n) + 0.999999)
	rank = max(1, min(rank, h.n))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := histBounds(i)
			v := time.Duration(lo + (hi-lo)/2)
			return max(h.min, min(v, h.max))
		}
	}
	return h.max
}
