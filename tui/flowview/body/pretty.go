package body

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeConfig for GIF
	_ "image/jpeg" // DecodeConfig for JPEG
	_ "image/png"  // DecodeConfig for PNG
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/mattn/go-runewidth"
)

// prettyJSON indents a JSON document, or each value of a stream of them
// (NDJSON), keeping key order and number text as they were.
func prettyJSON(ctx context.Context, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) + len(data)/2)
	if err := json.Indent(&buf, data, "", "  "); err == nil {
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
	buf.Reset()
	dec := json.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) && n > 0 {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if err := json.Indent(&buf, v, "", "  "); err != nil {
			return nil, err
		}
		buf.WriteByte('\n')
	}
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

var rawTextElements = map[string]bool{"script": true, "style": true, "textarea": true, "pre": true}

// indentMarkup puts each tag of an XML or HTML document on its own line,
// indented by depth. It is a display aid, not a parser: it never fails on
// bad markup, only on text with no tags at all.
func indentMarkup(ctx context.Context, data []byte, html bool) ([]byte, error) {
	if bytes.IndexByte(data, '<') < 0 {
		return nil, errors.New("no tags")
	}
	var out bytes.Buffer
	out.Grow(len(data) + len(data)/4)
	level := 0
	line := func(s []byte) {
		for range level {
			out.WriteString("  ")
		}
		out.Write(s)
		out.WriteByte('\n')
	}
	n := len(data)
	for i, next := 0, 1<<20; i < n; {
		if i > next {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			next += 1 << 20
		}
		if data[i] != '<' {
			j := bytes.IndexByte(data[i:], '<')
			if j < 0 {
				j = n - i
			}
			if t := bytes.TrimSpace(data[i : i+j]); len(t) > 0 {
				line(t)
			}
			i += j
			continue
		}
		end := tagEnd(data, i)
		tag := data[i:end]
		name, closing, selfClosing := tagName(tag)
		if html {
			name = strings.ToLower(name)
		}
		switch {
		case closing:
			level = max(level-1, 0)
			line(tag)
		case selfClosing || name == "" || (html && voidElements[name]):
			line(tag)
		default:
			// <b>short text</b> stays on one line.
			if t, after, ok := inlineText(data, end, name); ok {
				line(append(append(append([]byte{}, tag...), t...), data[after-len(name)-3:after]...))
				i = after
				continue
			}
			line(tag)
			level++
			if html && rawTextElements[name] {
				close := indexFold(data[end:], []byte("</"+name))
				if close < 0 {
					close = n - end
				}
				for _, l := range bytes.Split(data[end:end+close], []byte("\n")) {
					if l = bytes.TrimRight(l, " \t\r"); len(bytes.TrimSpace(l)) > 0 {
						line(l)
					}
				}
				end += close
			}
		}
		i = end
	}
	return out.Bytes(), nil
}

// tagEnd is the offset just past the tag, comment or declaration at i.
func tagEnd(data []byte, i int) int {
	for _, d := range [][2]string{{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}} {
		if bytes.HasPrefix(data[i:], []byte(d[0])) {
			if j := bytes.Index(data[i+len(d[0]):], []byte(d[1])); j >= 0 {
				return i + len(d[0]) + j + len(d[1])
			}
			return len(data)
		}
	}
	var quote byte
	for j := i + 1; j < len(data); j++ {
		c := data[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j + 1
		case c == '<':
			return j // a stray "<": end the tag here
		}
	}
	return len(data)
}

// tagName parses "<name ...>", "</name>" or "<name/>". Comments and
// declarations have no name.
func tagName(tag []byte) (name string, closing, selfClosing bool) {
	t := tag[1:]
	if len(t) > 0 && (t[0] == '!' || t[0] == '?') {
		return "", false, true
	}
	if len(t) > 0 && t[0] == '/' {
		closing = true
		t = t[1:]
	}
	j := 0
	for j < len(t) && t[j] != ' ' && t[j] != '>' && t[j] != '/' && t[j] != '\t' && t[j] != '\n' && t[j] != '\r' {
		j++
	}
	name = string(t[:j])
	selfClosing = bytes.HasSuffix(tag, []byte("/>"))
	return name, closing, selfClosing
}

// inlineText reports whether the tag ending at end is followed by short
// text and its own closing tag; after is the offset past that tag.
func inlineText(data []byte, end int, name string) (text []byte, after int, ok bool) {
	j := bytes.IndexByte(data[end:], '<')
	if j < 0 || j > 120 {
		return nil, 0, false
	}
	closeTag := "</" + name + ">"
	if !bytes.HasPrefix(data[end+j:], []byte(closeTag)) {
		return nil, 0, false
	}
	t := data[end : end+j]
	if bytes.ContainsAny(t, "\n") {
		return nil, 0, false
	}
	return t, end + j + len(closeTag), true
}

func indexFold(s, sep []byte) int {
	for i := 0; i+len(sep) <= len(s); i++ {
		j := bytes.IndexByte(s[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if i+len(sep) <= len(s) && bytes.EqualFold(s[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}

type row struct{ k, v string }

// table renders rows as "name  value" lines with the names padded to one
// width (at most 32 cells). It returns the text and the name column width.
func table(rows []row) ([]byte, int) {
	w := 0
	for _, r := range rows {
		w = max(w, runewidth.StringWidth(r.k))
	}
	w = min(w, 32)
	var b bytes.Buffer
	for _, r := range rows {
		k := r.k
		if kw := runewidth.StringWidth(k); kw < w {
			k += strings.Repeat(" ", w-kw)
		}
		b.WriteString(k)
		b.WriteString("  ")
		b.WriteString(oneLine(r.v))
		b.WriteByte('\n')
	}
	return b.Bytes(), w
}

func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\r\n`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// formTable lists the fields of an urlencoded form, in order, repeats kept.
func formTable(data []byte) ([]byte, int, error) {
	s := strings.TrimSpace(string(data))
	// A form encodes spaces, quotes and braces; a body with them, or
	// without a single name=value, is something else shown as a table.
	if s == "" || strings.ContainsAny(s, " \t\r\n\x00\"{}<>") || !strings.Contains(s, "=") {
		return nil, 0, errors.New("not an urlencoded form (name=value&…)")
	}
	var rows []row
	for _, pair := range strings.Split(s, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		rows = append(rows, row{k, v})
	}
	t, w := table(rows)
	return t, w, nil
}

// multipartTable lists the parts of a multipart body: field name, then the
// value (short text) or what the file is.
func multipartTable(data []byte, contentType string) ([]byte, int, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, 0, errors.New("no multipart boundary in Content-Type")
	}
	r := multipart.NewReader(bytes.NewReader(data), params["boundary"])
	var rows []row
	var perr error
	for {
		p, err := r.NextPart()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				perr = err
			}
			break
		}
		b, err := io.ReadAll(io.LimitReader(p, 64<<20))
		if err != nil {
			perr = err
		}
		name := p.FormName()
		if name == "" {
			name = "(part)"
		}
		ct := p.Header.Get("Content-Type")
		var v string
		switch {
		case p.FileName() != "" || (ct != "" && !strings.HasPrefix(ct, "text/")) || !content.LooksText(head(b)):
			parts := []string{}
			if p.FileName() != "" {
				parts = append(parts, fmt.Sprintf("file %q", p.FileName()))
			}
			if ct != "" {
				parts = append(parts, ct)
			}
			parts = append(parts, flowstore.FormatSize(int64(len(b))))
			v = strings.Join(parts, " · ")
		default:
			v = string(b)
			if len(v) > 4096 {
				v = v[:4096] + "… (" + flowstore.FormatSize(int64(len(b))) + ")"
			}
		}
		rows = append(rows, row{name, v})
		if perr != nil {
			break
		}
	}
	if len(rows) == 0 {
		if perr == nil {
			perr = errors.New("no parts")
		}
		return nil, 0, perr
	}
	if perr != nil {
		rows = append(rows, row{"(error)", perr.Error()})
	}
	t, w := table(rows)
	return t, w, nil
}

// imageInfo describes an image: format, dimensions (when the standard
// library can read them cheaply) and size.
func imageInfo(data []byte, contentType string) ([]byte, int, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		format = sniffImage(data)
		if format == "" {
			mt := content.MediaType(contentType)
			if !strings.HasPrefix(mt, "image/") {
				return nil, 0, errors.New("not a known image format")
			}
			format = strings.TrimPrefix(mt, "image/")
		}
	}
	rows := []row{{"format", strings.ToUpper(format)}}
	if err == nil {
		rows = append(rows, row{"dimensions", fmt.Sprintf("%d × %d pixels", cfg.Width, cfg.Height)})
	}
	rows = append(rows, row{"size", flowstore.FormatSize(int64(len(data)))})
	if ct := content.MediaType(contentType); ct != "" {
		rows = append(rows, row{"content type", ct})
	}
	t, w := table(rows)
	return t, w, nil
}

func sniffImage(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(b, []byte("BM")):
		return "bmp"
	case bytes.HasPrefix(b, []byte("\x00\x00\x01\x00")):
		return "ico"
	case len(b) >= 12 && string(b[4:8]) == "ftyp" && (string(b[8:12]) == "avif" || string(b[8:12]) == "heic"):
		return string(b[8:12])
	}
	return ""
}
