package export

import (
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// HTTPie is an HTTPie (http) command for req. It stands alone: a binary body
// is piped in from printf.
func HTTPie(req *flowstore.Request) string {
	cmd, _ := HTTPieCommand(req, Options{})
	return cmd
}

// HTTPieCommand is HTTPie with options; body is non-nil when the command
// reads the request body from opts.BodyFile (through a < redirect).
//
// HTTPie cannot send every request exactly: it always sends a User-Agent and
// an Accept-Encoding (python-urllib3's and "identity" when HTTPie's own are
// removed), puts its default headers first, re-escapes characters a URL
// should not hold, and its item syntax cannot express a header value in
// which a backslash comes right before one of : = @ ; (the backslash is
// dropped). Within those limits, method, URL, headers and body are the
// original's: HTTPie's other defaults (Accept, Connection, a JSON
// Content-Type for a body) are removed when the request did not have them,
// and a value starting with = or @ is escaped so it is not read as JSON or a
// file name.
func HTTPieCommand(req *flowstore.Request, opts Options) (cmd string, body []byte) {
	data := req.Body.Data
	sendBody := len(data) > 0 || req.Headers.Has("Content-Length") || wire.Chunked(req.Headers)

	c := &command{}
	c.add("http")
	pipe := false
	switch {
	case !sendBody:
		c.add("--ignore-stdin")
	case inlineText(data):
		c.add("--ignore-stdin")
		c.add("--raw", quote(string(data)))
	case opts.BodyFile != "":
		pipe = true
		body = data
	default:
		pipe = true
		c.prefix = printfPipe(data)
	}
	if wire.Chunked(req.Headers) {
		c.add("--chunked")
	}
	if hasDotSegment(req.PathOnly()) {
		c.add("--path-as-is")
	}
	c.add(quote(req.Method), quote(req.URL()))

	for _, kv := range req.Headers {
		switch {
		case strings.EqualFold(kv.Name, "Content-Length"), strings.HasPrefix(kv.Name, ":"):
			continue
		case strings.EqualFold(kv.Name, "Transfer-Encoding") && wire.Chunked(req.Headers):
			continue // --chunked
		case strings.EqualFold(kv.Name, "Host") && strings.EqualFold(kv.Value, req.Authority()):
			continue
		case kv.Value == "":
			c.add(quote(kv.Name + ";"))
		case kv.Value[0] == '=' || kv.Value[0] == '@':
			c.add(quote(kv.Name + `:\` + kv.Value))
		default:
			c.add(quote(kv.Name + ":" + kv.Value))
		}
	}
	unset := []string{"Accept", "Accept-Encoding", "Connection", "User-Agent"}
	if sendBody {
		unset = append(unset, "Content-Type")
	}
	for _, name := range unset {
		if !req.Headers.Has(name) {
			c.add(quote(name + ":"))
		}
	}
	if pipe && opts.BodyFile != "" {
		c.add("<", quote(opts.BodyFile))
	}
	return c.String(), body
}
