package hook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// The flow API's rules for changing a request line, a status line and
// headers, the same in every engine: each setter checks the value and
// applies it, or says what is wrong with it.

// SetMethod sets a request's method.
func SetMethod(q *flowstore.Request, m string) error {
	if !ValidToken(m) {
		return errors.New("not a valid method")
	}
	q.Method = m
	return nil
}

// SetURL sets a request's whole URL.
func SetURL(q *flowstore.Request, u string) error {
	if err := q.SetURL(u); err != nil {
		return err
	}
	fixHost(q)
	return nil
}

// SetScheme sets http or https; a default port follows the scheme.
func SetScheme(q *flowstore.Request, s string) error {
	s = strings.ToLower(s)
	if s != "http" && s != "https" {
		return errors.New(`scheme must be "http" or "https"`)
	}
	if q.Port == flowstore.DefaultPort(q.Scheme) {
		q.Port = flowstore.DefaultPort(s)
	}
	q.Scheme = s
	fixHost(q)
	return nil
}

// SetHost sets the host a request goes to.
func SetHost(q *flowstore.Request, h string) error {
	if h == "" || strings.ContainsAny(h, "/ \r\n") {
		return errors.New("not a valid host")
	}
	q.Host = strings.Trim(h, "[]")
	fixHost(q)
	return nil
}

// SetPort sets the port a request goes to.
func SetPort(q *flowstore.Request, n int) error {
	if n <= 0 || n > 65535 {
		return errors.New("port must be between 1 and 65535")
	}
	q.Port = n
	fixHost(q)
	return nil
}

// SetPath sets the path, with its query.
func SetPath(q *flowstore.Request, p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \r\n") {
		return errors.New(`path must start with "/" and hold no spaces`)
	}
	q.Path = p
	return nil
}

// SetQuery sets the query (without "?"; empty removes it).
func SetQuery(q *flowstore.Request, s string) error {
	if strings.ContainsAny(s, " #\r\n") {
		return errors.New("query must be encoded (no spaces or #)")
	}
	q.Path = q.PathOnly()
	if s = strings.TrimPrefix(s, "?"); s != "" {
		q.Path += "?" + s
	}
	return nil
}

// SetStatus sets a response's status; a standard reason follows it.
func SetStatus(p *flowstore.Response, n int) error {
	if n < 100 || n > 999 {
		return errors.New("status must be between 100 and 999")
	}
	if p.Reason == http.StatusText(p.Status) {
		p.Reason = http.StatusText(n)
	}
	p.Status = n
	return nil
}

// SetReason sets a response's reason phrase.
func SetReason(p *flowstore.Response, s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("reason must be one line")
	}
	p.Reason = s
	return nil
}

// fixHost keeps a Host header in step with the request's authority.
func fixHost(q *flowstore.Request) {
	if q.Headers.Has("Host") {
		q.Headers.Set("Host", q.Authority())
	}
}

// CheckHeader says what is wrong with a header line, if anything.
func CheckHeader(name, value string) error {
	if !ValidToken(name) {
		return errors.New("not a valid header name: " + strconv.Quote(name))
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return errors.New("header value must not contain line breaks or NUL")
	}
	return nil
}

// ValidToken: an HTTP token (RFC 9110), as header names and methods are.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Respond is the response flow.respond() makes: Content-Length follows
// the body.
func Respond(status int, hs flowstore.Headers, body []byte) *flowstore.Response {
	hs.Del("Content-Length")
	hs.Add("Content-Length", strconv.Itoa(len(body)))
	return &flowstore.Response{
		Status: status, Reason: http.StatusText(status), Proto: "HTTP/1.1",
		Headers: hs, Body: flowstore.NewBody(body),
	}
}
