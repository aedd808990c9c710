package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Preset is a named network, as Charles's throttle presets: bandwidth
// each way and the round-trip latency added before a response starts.
type Preset struct {
	Name    string
	Down    int64 // bits per second
	Up      int64
	Latency time.Duration
}

// Presets are the networks a throttle can name, slowest first. The figures
// are typical of each network, not a measurement of any.
var Presets = []Preset{
	{Name: "56k", Down: 56_000, Up: 48_000, Latency: 200 * time.Millisecond},
	{Name: "3g", Down: 2_000_000, Up: 1_000_000, Latency: 100 * time.Millisecond},
	{Name: "slow-wifi", Down: 4_000_000, Up: 2_000_000, Latency: 40 * time.Millisecond},
	{Name: "4g", Down: 20_000_000, Up: 10_000_000, Latency: 50 * time.Millisecond},
	{Name: "wifi", Down: 30_000_000, Up: 15_000_000, Latency: 10 * time.Millisecond},
}

// LookupPreset finds a preset by name, ignoring case, spaces and dashes
// ("3G", "Slow Wi-Fi").
func LookupPreset(name string) (Preset, bool) {
	norm := func(s string) string {
		return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(s))
	}
	n := norm(name)
	for _, p := range Presets {
		if norm(p.Name) == n {
			return p, true
		}
	}
	return Preset{}, false
}

func presetNames() string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Effective is the throttle with its preset's values filling the fields
// left zero.
func (t Throttle) Effective() Throttle {
	if p, ok := LookupPreset(t.Preset); ok {
		if t.Down == 0 {
			t.Down = p.Down
		}
		if t.Up == 0 {
			t.Up = p.Up
		}
		if t.Latency == 0 {
			t.Latency = p.Latency
		}
	}
	return t
}

var rateUnits = []struct {
	suffix string
	bits   float64 // per unit
}{
	// Longest first, so "kbit" is not read as "bit" after a "k".
	{"KiB", 8 << 10}, {"MiB", 8 << 20}, {"GiB", 8 << 30},
	{"kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}, {"kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9},
	{"KB", 8e3}, {"kB", 8e3}, {"MB", 8e6}, {"GB", 8e9},
	{"bit", 1}, {"bps", 1}, {"B", 8},
}

// ParseRate reads a bandwidth ("1.5Mbit", "256kbps", "100KB/s", "1MiB/s")
// into bits per second. Bits are written bit or bps, bytes B.
func ParseRate(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) || v*u.bits > 1e13 {
				break
			}
			return int64(math.Round(v * u.bits)), nil
		}
	}
	return 0, fmt.Errorf("bad bandwidth %q (want a number and a unit: 512kbit, 1.5Mbit, 100KB/s)", s)
}

// FormatRate writes bits per second the way ParseRate reads them back.
func FormatRate(bits int64) string {
	switch {
	case bits%1_000_000 == 0:
		return strconv.FormatInt(bits/1_000_000, 10) + "Mbit"
	case bits%1000 == 0:
		return strconv.FormatInt(bits/1000, 10) + "kbit"
	}
	return strconv.FormatInt(bits, 10) + "bit"
}
