// Package flowedit is what an edit of a paused flow or a draft changes: the
// text $EDITOR is given for a request, a response or an answer, that text
// read back (Text, Parse), the quick edits (c) — the parts offered, the
// prompt for each with its check, and the change (QuickMenu, QuickPrompt,
// Quick) — and going back to the original (Revert).
//
// The root keeps the rest: text kept between tries, the prompts' tags, the
// store writes and what the status line says. It imports no component but
// prompt's plain data types (Spec, Choice, Problem).
package flowedit

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/httptext"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

// What an edit is of: the paused (or draft) request, the paused response,
// or an answer (R) that replaces the upstream's response.
const (
	Request  = "request"
	Response = "response"
	Answer   = "respond"
)

// Key names the message an edit of f is for: "request:ID" or
// "response:ID".
func Key(f *flowstore.Flow) string {
	if OnResponse(f) {
		return Response + ":" + f.ID
	}
	return Request + ":" + f.ID
}

// OnResponse reports whether an edit of f changes its response: it is
// paused at the response phase.
func OnResponse(f *flowstore.Flow) bool {
	return f.State == flowstore.StatePaused && f.Paused == flowstore.PhaseResponse
}

// Text is f's message to edit as text: its request, its response, or for
// an answer the paused response at the response phase, and a small
// template before.
func Text(f *flowstore.Flow, what string) []byte {
	switch what {
	case Response:
		return httptext.FormatResponse(f.Response)
	case Answer:
		r := f.Response
		if f.Paused != flowstore.PhaseResponse || r == nil {
			r = &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
				Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
				Body:    flowstore.NewBody([]byte("answered by interceptor-tui\n"))}
		}
		return httptext.FormatResponse(r)
	}
	return httptext.FormatRequest(f.Request)
}

// Parse reads edited text back as what it edits of f: a request, or a
// response (for an answer, over the paused response if any).
func Parse(f *flowstore.Flow, what string, text []byte) (*flowstore.Request, *flowstore.Response, error) {
	switch what {
	case Request:
		req, err := httptext.ParseRequest(text, f.Request)
		return req, nil, err
	case Response:
		resp, err := httptext.ParseResponse(text, f.Response)
		return nil, resp, err
	}
	var orig *flowstore.Response
	if f.Paused == flowstore.PhaseResponse {
		orig = f.Response
	}
	resp, err := httptext.ParseResponse(text, orig)
	return nil, resp, err
}

// Revert puts f's original messages back (V), and forgets them.
func Revert(f *flowstore.Flow) {
	if o := f.Original; o != nil {
		if o.Request != nil {
			f.Request = o.Request.Clone()
		}
		if o.Response != nil {
			f.Response = o.Response.Clone()
		}
	}
	f.Original = nil
}

// QuickMenu is the question c asks of f: which part to change.
func QuickMenu(f *flowstore.Flow) (label string, parts []prompt.Choice) {
	label = "quick edit of the request:"
	parts = []prompt.Choice{{Key: "m", Label: "method"}, {Key: "u", Label: "URL"}}
	if OnResponse(f) {
		label = "quick edit of the response:"
		parts = []prompt.Choice{{Key: "s", Label: "status"}}
	}
	parts = append(parts, prompt.Choice{Key: "h", Label: "add/replace header"}, prompt.Choice{Key: "d", Label: "delete header"},
		prompt.Choice{Key: "b", Label: "body"})
	return label, parts
}

// QuickPrompt asks for the new value of a part of f picked from QuickMenu;
// the caller sets the Tag.
func QuickPrompt(f *flowstore.Flow, part string) prompt.Spec {
	var spec prompt.Spec
	hs := f.Request.Headers
	if OnResponse(f) {
		hs = f.Response.Headers
	}
	switch part {
	case "m":
		spec.Label, spec.Value, spec.Validate = "method: ", f.Request.Method, validMethod
	case "u":
		spec.Label, spec.Value, spec.Validate = "URL: ", f.Request.URL(), validURL
	case "s":
		spec.Label, spec.Value, spec.Validate = "status: ", strconv.Itoa(f.Response.Status), validStatus
	case "h":
		spec.Label, spec.Placeholder, spec.Validate = "header: ", "Name: value (replaces a header of that name)", validHeader
	case "b":
		b, hdr := f.Request.Body, f.Request.Headers
		if OnResponse(f) {
			b, hdr = f.Response.Body, f.Response.Headers
		}
		spec.Label, spec.Placeholder = "body: ", "the new body, on one line (e edits a longer one in $EDITOR)"
		if oneLine(b, hdr) {
			spec.Value = string(b.Data)
		}
	case "d":
		var names []string
		for _, h := range hs {
			names = append(names, h.Name)
		}
		spec.Label, spec.Placeholder = "delete header: ", strings.Join(names, ", ")
		spec.Validate = func(s string) *prompt.Problem {
			if s = strings.TrimSpace(s); s != "" && !hs.Has(s) {
				return &prompt.Problem{Pos: -1, Msg: "no header " + s}
			}
			return nil
		}
	}
	return spec
}

// oneLine reports whether a body can be shown in a one-line prompt as it
// is: short, text, one line, not encoded.
func oneLine(b flowstore.Body, h flowstore.Headers) bool {
	return !b.Truncated && len(b.Data) <= 4<<10 && len(content.Encodings(h.Get("Content-Encoding"))) == 0 &&
		utf8.Valid(b.Data) && !strings.ContainsAny(string(b.Data), "\r\n\t") && flowstore.EscapeControl(string(b.Data)) == string(b.Data)
}

// Quick makes a quick edit of f (a copy being written to the store) and
// says what it did; v was checked as typed, and is not empty.
func Quick(f *flowstore.Flow, part, v string) (done string) {
	onResponse := OnResponse(f)
	hs := &f.Request.Headers
	if onResponse {
		hs = &f.Response.Headers
	}
	switch part {
	case "m":
		f.Request.Method = v
		done = "method: " + v
	case "u":
		old := f.Request.Authority()
		if f.Request.SetURL(v) == nil && f.Request.Headers.Get("Host") == old {
			f.Request.Headers.Set("Host", f.Request.Authority())
		}
		done = "URL: " + f.Request.URL()
	case "s":
		n, _ := strconv.Atoi(v)
		f.Response.Status, f.Response.Reason = n, http.StatusText(n)
		done = "status: " + v
	case "h":
		name, value, _ := strings.Cut(v, ":")
		hs.Set(strings.TrimSpace(name), strings.TrimSpace(value))
		done = "header set: " + strings.TrimSpace(name)
	case "d":
		hs.Del(v)
		done = "header deleted: " + v
	case "b":
		body := flowstore.NewBody([]byte(v))
		if onResponse {
			f.Response.Body = body
		} else {
			f.Request.Body = body
		}
		done = "body set (" + flowstore.FormatSize(int64(len(v))) + ")"
		// The text is the body as sent: no encoding left to undo, and
		// the length is the new one.
		if hs.Has("Content-Encoding") {
			hs.Del("Content-Encoding")
			done += "; Content-Encoding removed"
		}
		if hs.Has("Content-Length") {
			hs.Set("Content-Length", strconv.Itoa(len(v)))
			done += "; Content-Length updated"
		}
	}
	return done
}

func validMethod(s string) *prompt.Problem {
	s = strings.TrimSpace(s)
	for i, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return &prompt.Problem{Pos: i, Msg: "not a method name"}
		}
	}
	return nil
}

func validURL(s string) *prompt.Problem {
	var r flowstore.Request
	if err := r.SetURL(strings.TrimSpace(s)); err != nil {
		return &prompt.Problem{Pos: -1, Msg: err.Error()}
	}
	return nil
}

func validStatus(s string) *prompt.Problem {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return &prompt.Problem{Pos: -1, Msg: "a status is a number from 100 to 999"}
	}
	return nil
}

func validHeader(s string) *prompt.Problem {
	name, _, ok := strings.Cut(s, ":")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if !ok {
		return &prompt.Problem{Pos: len(s), Msg: "write Name: value"}
	}
	if n := strings.TrimSpace(name); n == "" || validMethod(n) != nil {
		return &prompt.Problem{Pos: 0, Msg: "not a header name"}
	}
	return nil
}
