package body

import (
	"bytes"
	"context"
	"sort"
)

// Match is a search hit: byte offsets in Doc.Searchable.
type Match struct{ Start, End int }

// MaxMatches bounds how many hits a search keeps; Search still counts them all.
const MaxMatches = 100_000

// Search finds every occurrence of q in the whole document, not only what
// is on screen. A query without upper-case letters ignores case (ASCII),
// as vim's smartcase does. It returns the kept matches and the total.
func Search(ctx context.Context, d *Doc, q string) ([]Match, int, error) {
	if q == "" || d == nil {
		return nil, 0, nil
	}
	hay := d.Searchable()
	needle := []byte(q)
	fold := !bytes.ContainsAny(needle, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	var out []Match
	total := 0
	add := func(at int) {
		total++
		if len(out) < MaxMatches {
			out = append(out, Match{at, at + len(needle)})
		}
	}
	if !fold || !hasLetter(needle) {
		for i := 0; ; {
			j := bytes.Index(hay[i:], needle)
			if j < 0 {
				break
			}
			add(i + j)
			i += j + max(len(needle), 1)
			if total&1023 == 0 && ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
		}
		return out, total, nil
	}
	// Fold ASCII in chunks so a 100 MiB body needs no 100 MiB copy; the
	// chunks overlap by len(q)-1 so no hit is lost at a seam.
	const chunk = 1 << 20
	buf := make([]byte, 0, chunk+len(needle))
	next := 0 // hits before this offset were already counted
	for base := 0; base < len(hay); base += chunk {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		end := min(base+chunk+len(needle)-1, len(hay))
		buf = lowerASCII(buf[:0], hay[base:end])
		for i := 0; ; {
			j := bytes.Index(buf[i:], needle)
			if j < 0 {
				break
			}
			at := base + i + j
			if at >= next {
				add(at)
				next = at + len(needle)
			}
			i += j + 1
		}
	}
	return out, total, nil
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

func lowerASCII(dst, src []byte) []byte {
	for _, c := range src {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// MatchesIn returns the matches that overlap [start, end), found by binary
// search in ms (sorted by Start), and the index of the first.
func MatchesIn(ms []Match, start, end int) ([]Match, int) {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].End > start })
	j := i
	for j < len(ms) && ms[j].Start < end {
		j++
	}
	return ms[i:j], i
}
