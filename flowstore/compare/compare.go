// Package compare sets two flows side by side: each is written as a text
// (request line, headers, body; status line, headers, body) in which bodies
// that have a structure are normalised first — JSON with its keys sorted
// and indented, a form one field per line in order of name, compressed
// bodies decoded — and the two texts are diffed line by line. The TUI's
// compare view and the `diff` command both read it.
//
// It is pure: no I/O, no UI.
package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// maxDecoded bounds a decoded body: a compressed bomb is compared as it
// came.
const maxDecoded = 64 << 20

// Text writes f as the text that is compared.
func Text(f *flowstore.Flow) string {
	var b strings.Builder
	if q := f.Request; q != nil {
		fmt.Fprintf(&b, "%s %s %s\n", q.Method, q.URL(), q.Proto)
		writeHeaders(&b, q.Headers)
		writeBody(&b, q.Headers, q.Body)
	}
	if r := f.Response; r != nil {
		b.WriteString("\n")
		fmt.Fprintf(&b, "%s %d %s\n", r.Proto, r.Status, r.Reason)
		writeHeaders(&b, r.Headers)
		writeBody(&b, r.Headers, r.Body)
	}
	if f.Error != nil {
		fmt.Fprintf(&b, "\nerror (%s): %s\n", f.Error.Phase, f.Error.Message)
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, hs flowstore.Headers) {
	for _, h := range hs {
		b.WriteString(flowstore.EscapeControl(h.Name))
		b.WriteString(": ")
		b.WriteString(flowstore.EscapeControl(h.Value))
		b.WriteByte('\n')
	}
}

func writeBody(b *strings.Builder, hs flowstore.Headers, body flowstore.Body) {
	if body.Size == 0 {
		return
	}
	b.WriteString("\n")
	data := body.Data
	if ce := hs.Get("Content-Encoding"); ce != "" && !body.Truncated {
		if d, err := content.Decode(data, ce, maxDecoded); err == nil {
			data = d
		}
	}
	b.WriteString(Normalize(hs.Get("Content-Type"), data))
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	if body.Truncated {
		fmt.Fprintf(b, "[… %s of %s kept]\n", flowstore.FormatSize(int64(len(body.Data))), flowstore.FormatSize(body.Size))
	}
}

// Normalize writes a body so that two bodies that mean the same read the
// same: JSON indented with its object keys sorted, a form one name=value
// per line sorted by name, text as it is, other bytes as a hex dump.
func Normalize(contentType string, data []byte) string {
	mt := content.MediaType(contentType)
	switch {
	case strings.Contains(mt, "json") || (mt == "" || mt == "text/plain") && json.Valid(bytes.TrimSpace(data)):
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber() // 1.0 and 1 are different bytes; keep them so
		if dec.Decode(&v) == nil {
			// encoding/json writes object keys sorted.
			if out, err := json.MarshalIndent(v, "", "  "); err == nil {
				return string(out)
			}
		}
	case mt == "application/x-www-form-urlencoded":
		if vals, err := url.ParseQuery(string(data)); err == nil {
			var lines []string
			for k, vs := range vals {
				for _, v := range vs {
					lines = append(lines, flowstore.EscapeControl(k)+"="+flowstore.EscapeControl(v))
				}
			}
			slices.Sort(lines)
			return strings.Join(lines, "\n")
		}
	}
	if strings.HasPrefix(mt, "text/") || content.LooksText(data) {
		return flowstore.EscapeControl(string(data))
	}
	return hexDump(data)
}

func hexDump(data []byte) string {
	var b strings.Builder
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		fmt.Fprintf(&b, "%08x  % x\n", off, line)
	}
	return b.String()
}

// Diff is the comparison of two flows.
type Diff struct {
	A, B   string       // the texts compared
	Edits  []udiff.Edit // what changes A into B
	Same   bool
	header [2]string
}

// Flows compares a and b; nameA and nameB head the unified form.
func Flows(a, b *flowstore.Flow, nameA, nameB string) *Diff {
	d := &Diff{A: Text(a), B: Text(b), header: [2]string{nameA, nameB}}
	d.Edits = udiff.Strings(d.A, d.B)
	d.Same = len(d.Edits) == 0
	return d
}

// Unified is the diff as diff -u writes it, with context lines around each
// change and long equal stretches folded away.
func (d *Diff) Unified(context int) string {
	if d.Same {
		return ""
	}
	u, err := udiff.ToUnifiedDiff(d.header[0], d.header[1], d.A, d.Edits, context)
	if err != nil {
		return err.Error()
	}
	return u.String()
}

// Line is one row of a side-by-side view: a line of A, of B, or both.
type Line struct {
	A, B   string
	HasA   bool
	HasB   bool
	Change bool // the two sides differ here
}

// SideBySide lays the texts out row by row, equal lines beside each other
// and changed ones beside their counterparts.
func (d *Diff) SideBySide() []Line {
	u, err := udiff.ToUnifiedDiff("", "", d.A, d.Edits, 1<<30)
	if err != nil || d.Same {
		var out []Line
		for _, l := range strings.SplitAfter(strings.TrimSuffix(d.A, "\n"), "\n") {
			l = strings.TrimSuffix(l, "\n")
			out = append(out, Line{A: l, B: l, HasA: true, HasB: true})
		}
		return out
	}
	var out []Line
	var dels, adds []string
	flush := func() {
		for i := 0; i < max(len(dels), len(adds)); i++ {
			l := Line{Change: true}
			if i < len(dels) {
				l.A, l.HasA = dels[i], true
			}
			if i < len(adds) {
				l.B, l.HasB = adds[i], true
			}
			out = append(out, l)
		}
		dels, adds = dels[:0], adds[:0]
	}
	for _, h := range u.Hunks {
		for _, l := range h.Lines {
			text := strings.TrimSuffix(l.Content, "\n")
			switch l.Kind {
			case udiff.Delete:
				dels = append(dels, text)
			case udiff.Insert:
				adds = append(adds, text)
			default:
				flush()
				out = append(out, Line{A: text, B: text, HasA: true, HasB: true})
			}
		}
	}
	flush()
	return out
}
