// Package body turns a message body into a document the flow view can
// scroll through without ever holding it as one big styled string: it
// decodes (gzip, deflate, br, zstd), picks a view by content type or by
// hand (JSON, XML, HTML, form, multipart, image, text, hex, raw),
// pretty-prints, and indexes the result into screen lines. Lines are
// styled only when they are drawn, by small line-local lexers.
//
// Everything here is pure and may run off the UI goroutine; long loops
// watch a context so stale work stops early. It knows nothing of Bubble Tea.
package body

import (
	"context"
	"sort"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/mattn/go-runewidth"
)

// Mode is how a body is shown.
type Mode int

const (
	Auto Mode = iota
	JSON
	XML
	HTML
	Form
	Multipart
	Image
	Text
	Hex
	Raw // the bytes as they were on the wire, not decoded
	numModes
)

var modeNames = [...]string{"auto", "json", "xml", "html", "form", "multipart", "image", "text", "hex", "raw"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "unknown"
}

// Next is the mode after m in the cycle the mode key walks.
func (m Mode) Next() Mode { return (m + 1) % numModes }

// ParseMode is the inverse of Mode.String.
func ParseMode(s string) (Mode, bool) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), true
		}
	}
	return Auto, false
}

// Lang says which lexer colours a document's lines.
type Lang int

const (
	LangNone  Lang = iota
	LangJSON       // pretty-printed JSON
	LangXML        // XML and HTML tags
	LangTable      // "name  value" rows: the name column is a key
)

// TabWidth is how many cells a tab takes.
const TabWidth = 4

// Doc is a rendered body: the text that is shown and searched, cut into
// screen lines of at most Width cells; or, for a hex dump, the bytes.
type Doc struct {
	Mode  Mode     // what is shown (never Auto)
	Asked Mode     // what was asked for
	Info  string   // one line: kind, sizes, encoding
	Notes []string // why the view is not what was asked, truncation...
	Lang  Lang
	KeyW  int // LangTable: width of the name column in bytes

	Width  int
	text   []byte // text documents
	starts []int  // byte offset of each line in text
	hex    []byte // hex documents
}

// HexRow is how many bytes one hex dump line shows.
const HexRow = 16

// IsHex reports whether the document is a hex dump.
func (d *Doc) IsHex() bool { return d.hex != nil }

// Lines is the number of screen lines.
func (d *Doc) Lines() int {
	if d == nil {
		return 0
	}
	if d.hex != nil {
		return (len(d.hex) + HexRow - 1) / HexRow
	}
	return len(d.starts)
}

// Searchable is the byte string searches run over: the text, or the
// dumped bytes.
func (d *Doc) Searchable() []byte {
	if d.hex != nil {
		return d.hex
	}
	return d.text
}

// Line returns line i's bytes (text documents: without the newline) and
// the offset of its first byte in Searchable.
func (d *Doc) Line(i int) ([]byte, int) {
	if d.hex != nil {
		start := i * HexRow
		return d.hex[start:min(start+HexRow, len(d.hex))], start
	}
	start := d.starts[i]
	end := len(d.text)
	if i+1 < len(d.starts) {
		end = d.starts[i+1]
	}
	b := d.text[start:end]
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b, start
}

// LineOf is the line that holds byte offset off of Searchable.
func (d *Doc) LineOf(off int) int {
	if d.hex != nil {
		return off / HexRow
	}
	i := sort.Search(len(d.starts), func(i int) bool { return d.starts[i] > off })
	return max(i-1, 0)
}

// newText makes a text document of t wrapped at width.
func newText(ctx context.Context, t []byte, width int) (*Doc, error) {
	d := &Doc{text: t, Width: width}
	starts, err := wrap(ctx, t, width)
	if err != nil {
		return nil, err
	}
	d.starts = starts
	return d, nil
}

// Rewrap returns the document cut for another width; hex dumps and
// documents already that wide are returned as they are.
func (d *Doc) Rewrap(ctx context.Context, width int) (*Doc, error) {
	if d.hex != nil || d.Width == width {
		return d, nil
	}
	starts, err := wrap(ctx, d.text, width)
	if err != nil {
		return nil, err
	}
	c := *d
	c.starts, c.Width = starts, width
	return &c, nil
}

// wrap returns the start offsets of the lines of t, cut at newlines and
// wherever a line would pass width cells.
func wrap(ctx context.Context, t []byte, width int) ([]int, error) {
	width = max(width, 8)
	starts := make([]int, 1, len(t)/64+1)
	col := 0
	for i := 0; i < len(t); {
		if i&(1<<20-1) == 0 && i > 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c := t[i]
		if c == '\n' {
			i++
			if i < len(t) {
				starts = append(starts, i)
			}
			col = 0
			continue
		}
		w, n := 1, 1
		switch {
		case c == '\t':
			w = TabWidth
		case c < 0x20 || c == 0x7f:
			w = flowstore.EscapedWidth(c) // shown escaped: \x1b
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(t[i:])
			n = size
			switch {
			case r == utf8.RuneError && size == 1:
				w = 4 // \xff
			case r < 0xa0:
				w = 6 // \u009b
			default:
				w = runewidth.RuneWidth(r)
			}
		}
		if col+w > width && col > 0 {
			starts = append(starts, i)
			col = 0
		}
		col += w
		i += n
	}
	return starts, nil
}
