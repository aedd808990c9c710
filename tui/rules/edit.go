package rules

import (
	"slices"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Edit changes a list of breakpoints; the root gives the engine's list (a
// copy) and hands the result back to the engine. An index past the end
// changes nothing.
type Edit func([]flowstore.Breakpoint) []flowstore.Breakpoint

// NextPhase moves breakpoint i on: both phases, the request only, the
// response only, both again.
func NextPhase(i int) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		if i < len(bps) {
			b := &bps[i]
			switch b.Phases() {
			case "both":
				b.Request, b.Response = true, false
			case "request":
				b.Request, b.Response = false, true
			default:
				b.Request, b.Response = true, true
			}
		}
		return bps
	}
}

// Toggle turns breakpoint i off, or on again.
func Toggle(i int) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		if i < len(bps) {
			bps[i].Disabled = !bps[i].Disabled
		}
		return bps
	}
}

// Delete removes breakpoint i.
func Delete(i int) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		if i < len(bps) {
			return slices.Delete(bps, i, i+1)
		}
		return bps
	}
}

// Add appends b.
func Add(b flowstore.Breakpoint) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint { return append(bps, b) }
}

// Refilter gives breakpoint i the filter f.
func Refilter(i int, f string) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		if i < len(bps) {
			bps[i].Filter = strings.TrimSpace(f)
		}
		return bps
	}
}

// Main is the index of the intercept filter (i, mitmproxy's intercept):
// the first breakpoint for both phases, or -1.
func Main(bps []flowstore.Breakpoint) int {
	for i, b := range bps {
		if b.Request && b.Response {
			return i
		}
	}
	return -1
}

// SetMain sets, replaces (and turns on) or, given "", removes the
// intercept filter.
func SetMain(f string) Edit {
	return func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		switch j := Main(bps); {
		case f == "" && j < 0:
		case f == "":
			bps = slices.Delete(bps, j, j+1)
		case j < 0:
			bps = append([]flowstore.Breakpoint{{Filter: f, Request: true, Response: true}}, bps...)
		default:
			bps[j].Filter, bps[j].Disabled = f, false
		}
		return bps
	}
}

// Active describes the breakpoints that are on, for the status line: the
// filter, and the phase when it is not both.
func Active(bps []flowstore.Breakpoint) []string {
	var out []string
	for _, b := range bps {
		if b.Disabled {
			continue
		}
		d := b.Filter
		if ph := b.Phases(); ph != "both" {
			d += " (" + ph + ")"
		}
		out = append(out, d)
	}
	return out
}
