// Package content owns what a message body means: decoding and re-encoding
// it by Content-Encoding (gzip, deflate, br, zstd) and classifying it by
// Content-Type and by sniffing, for viewers, filters, scripts and exports.
//
// It is pure: no I/O beyond in-memory readers, no UI.
package content

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// DefaultDecodeLimit bounds decoded output so a compression bomb cannot eat
// the process.
const DefaultDecodeLimit = 256 << 20

// ErrTooLarge is returned when decoding would exceed the limit.
var ErrTooLarge = errors.New("decoded body exceeds the size limit")

// ErrUnknownEncoding is returned for a Content-Encoding we cannot decode.
var ErrUnknownEncoding = errors.New("unknown content encoding")

// Encodings splits a Content-Encoding header into its codings in the order
// they were applied, lowercased, "identity" dropped.
func Encodings(header string) []string {
	var out []string
	for _, part := range strings.Split(header, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		if p == "" || p == "identity" {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Decode undoes a Content-Encoding header's codings (last applied first).
// The output is at most limit bytes (limit <= 0 means DefaultDecodeLimit).
// With no coding it returns data itself.
func Decode(data []byte, contentEncoding string, limit int64) ([]byte, error) {
	codings := Encodings(contentEncoding)
	if limit <= 0 {
		limit = DefaultDecodeLimit
	}
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		data, err = decodeOne(data, codings[i], limit)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", codings[i], err)
		}
	}
	return data, nil
}

func decodeOne(data []byte, coding string, limit int64) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		r = zr
	case "deflate":
		// RFC 9110 says zlib-wrapped, but many servers send raw deflate.
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(data))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(data))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownEncoding, coding)
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, ErrTooLarge
	}
	return out, nil
}

// Encode applies a Content-Encoding header's codings in order.
func Encode(data []byte, contentEncoding string) ([]byte, error) {
	for _, c := range Encodings(contentEncoding) {
		var buf bytes.Buffer
		var w io.WriteCloser
		var err error
		switch c {
		case "gzip", "x-gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		case "br":
			w = brotli.NewWriter(&buf)
		case "zstd":
			w, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("encode: %w %q", ErrUnknownEncoding, c)
		}
		if _, err := w.Write(data); err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("encode %s: %w", c, err)
		}
		data = buf.Bytes()
	}
	return data, nil
}

// Kind is how a body is best shown.
type Kind int

const (
	KindEmpty Kind = iota
	KindText
	KindJSON
	KindXML
	KindHTML
	KindForm
	KindMultipart
	KindImage
	KindJavaScript
	KindCSS
	KindBinary
)

var kindNames = [...]string{"empty", "text", "json", "xml", "html", "form", "multipart", "image", "javascript", "css", "binary"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MediaType is the lowercased media type of a Content-Type header, without
// parameters ("application/json").
func MediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// Classify picks a Kind from the media type, falling back to sniffing the
// (decoded) bytes when the type is missing or generic.
func Classify(contentType string, data []byte) Kind {
	if len(data) == 0 {
		return KindEmpty
	}
	mt := MediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-ndjson" || mt == "text/json":
		return KindJSON
	case mt == "text/html" || mt == "application/xhtml+xml":
		return KindHTML
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return KindXML
	case mt == "application/x-www-form-urlencoded":
		return KindForm
	case strings.HasPrefix(mt, "multipart/form-data"):
		return KindMultipart
	case strings.HasPrefix(mt, "image/") && mt != "image/svg+xml":
		return KindImage
	case mt == "text/javascript" || mt == "application/javascript" || mt == "application/x-javascript":
		return KindJavaScript
	case mt == "text/css":
		return KindCSS
	case strings.HasPrefix(mt, "text/"):
		return KindText
	}
	return Sniff(data)
}

// Sniff guesses a Kind from the bytes alone.
func Sniff(data []byte) Kind {
	if len(data) == 0 {
		return KindEmpty
	}
	head := data
	if len(head) > 512 {
		head = head[:512]
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case isImage(head):
		return KindImage
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		if LooksText(head) {
			return KindJSON
		}
	case bytes.HasPrefix(bytes.ToLower(trimmed), []byte("<!doctype html")) || bytes.HasPrefix(bytes.ToLower(trimmed), []byte("<html")):
		return KindHTML
	case bytes.HasPrefix(trimmed, []byte("<?xml")):
		return KindXML
	}
	if LooksText(head) {
		return KindText
	}
	return KindBinary
}

func isImage(b []byte) bool {
	sigs := [][]byte{
		[]byte("\x89PNG\r\n\x1a\n"), []byte("\xff\xd8\xff"), []byte("GIF87a"), []byte("GIF89a"),
		[]byte("BM"), []byte("\x00\x00\x01\x00"),
	}
	for _, s := range sigs {
		if bytes.HasPrefix(b, s) {
			return true
		}
	}
	return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}

// LooksText reports whether b is valid UTF-8 without control bytes other
// than whitespace (a cut-off multi-byte rune at the end is allowed).
func LooksText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(b)-i < utf8.UTFMax && !utf8.FullRune(b[i:])
		}
		i += n
	}
	return true
}
