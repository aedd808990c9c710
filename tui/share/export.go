package share

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
)

// Kind is one form y copies and x exports a flow in.
type Kind struct {
	Key, Label, Ext string
	make            func(f *flowstore.Flow, file bool) ([]byte, string, error) // bytes, and a note
}

// Kinds are the forms f can be copied and exported in, keyed for a prompt.
func Kinds(f *flowstore.Flow, creator har.Creator) []Kind {
	line := func(s string, file bool) []byte {
		if file {
			s += "\n"
		}
		return []byte(s)
	}
	ks := []Kind{
		{"u", "URL", ".txt", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.URL(f.Request), file), "", nil
		}},
		{"c", "curl", ".sh", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.Curl(f.Request), file), truncNote(f.Request.Body), nil
		}},
		{"h", "httpie", ".sh", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.HTTPie(f.Request), file), truncNote(f.Request.Body), nil
		}},
		{"r", "raw request", ".http", func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
			return export.RawRequest(f.Request), truncNote(f.Request.Body), nil
		}},
	}
	if f.Response != nil {
		ks = append(ks,
			Kind{"s", "raw response", ".http", func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
				return export.RawResponse(f.Response), truncNote(f.Response.Body), nil
			}},
			Kind{"b", "response body", bodyExt(f.Response.Headers), func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
				b, note := decoded(f.Response.Body, f.Response.Headers)
				return b, note, nil
			}})
	}
	if !har.Holds(f) { // a draft: no exchange to describe yet
		return ks
	}
	return append(ks, Kind{"a", "HAR", ".har", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
		var buf bytes.Buffer
		var err error
		if file { // a whole HAR log, which other tools open
			err = har.Write(&buf, []*flowstore.Flow{f}, creator)
		} else { // the entry, to paste into one
			err = har.WriteEntry(&buf, f)
		}
		return buf.Bytes(), "", err
	}})
}

// Export makes f in the form keyed key (see Kinds), for a file or for the
// clipboard; nil for a key it does not offer.
func Export(f *flowstore.Flow, key string, file bool, creator har.Creator) (*Job, error) {
	for _, k := range Kinds(f, creator) {
		if k.Key != key {
			continue
		}
		data, note, err := k.make(f, file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Label, err)
		}
		name := stem(f) + k.Ext
		if k.Key == "b" || k.Key == "s" {
			name = stem(f) + "-response" + k.Ext
		}
		return &Job{What: k.Label, Name: name, Data: data, Note: note}, nil
	}
	return nil, nil
}

// Body is f's request or response body as its content, to write to a file.
func Body(f *flowstore.Flow, request bool) *Job {
	b, h, side := f.Request.Body, f.Request.Headers, "request"
	if !request && f.Response != nil {
		b, h, side = f.Response.Body, f.Response.Headers, "response"
	}
	data, note := decoded(b, h)
	return &Job{What: side + " body", Name: stem(f) + "-" + side + bodyExt(h), Data: data, Note: note}
}

func truncNote(b flowstore.Body) string {
	if !b.Truncated {
		return ""
	}
	return fmt.Sprintf("; the body was cut at the body limit (%s of %s kept)", flowstore.FormatSize(int64(len(b.Data))), flowstore.FormatSize(b.Size))
}

// decoded is a body as its content: Content-Encoding undone where it can be.
func decoded(b flowstore.Body, h flowstore.Headers) ([]byte, string) {
	note := truncNote(b)
	ce := h.Get("Content-Encoding")
	if ce == "" || b.Truncated {
		return b.Data, note
	}
	d, err := content.Decode(b.Data, ce, 0)
	if err != nil {
		return b.Data, note + "; kept " + ce + "-encoded: " + err.Error()
	}
	return d, note
}

func bodyExt(h flowstore.Headers) string {
	mt := content.MediaType(h.Get("Content-Type"))
	switch {
	case strings.HasSuffix(mt, "json"):
		return ".json"
	case mt == "text/html":
		return ".html"
	case strings.HasSuffix(mt, "xml"):
		return ".xml"
	case mt == "text/css":
		return ".css"
	case strings.HasSuffix(mt, "javascript"):
		return ".js"
	case strings.HasPrefix(mt, "text/"):
		return ".txt"
	case mt == "application/x-www-form-urlencoded":
		return ".form"
	case strings.HasPrefix(mt, "image/"):
		sub := strings.TrimPrefix(mt, "image/")
		if i := strings.IndexByte(sub, '+'); i >= 0 {
			sub = sub[:i]
		}
		return "." + strings.TrimPrefix(sub, "x-")
	case mt == "application/pdf":
		return ".pdf"
	}
	return ".bin"
}

// stem is the start of a file name for a flow: host-id.
func stem(f *flowstore.Flow) string {
	host := "flow"
	if f.Request != nil && f.Request.Host != "" {
		host = f.Request.Host
	}
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, host)
	id := f.ID
	if len(id) > 6 {
		id = id[len(id)-6:]
	}
	return host + "-" + id
}
