package export

import (
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// Options adjust the command builders.
type Options struct {
	// BodyFile is a path for a body that cannot go on the command line
	// (binary, or more than 64 KiB). When set, the command reads the body
	// from it and the Command function returns the bytes for the caller to
	// write there. When empty, such a body is piped in from printf, so the
	// command stands alone.
	BodyFile string
}

// URL is the request's absolute URL.
func URL(req *flowstore.Request) string { return req.URL() }

// Curl is a curl command that sends req as it was sent: method, URL,
// headers in order and case, and body byte for byte. It stands alone: a
// binary body is piped in from printf.
func Curl(req *flowstore.Request) string {
	cmd, _ := CurlCommand(req, Options{})
	return cmd
}

// CurlCommand is Curl with options. body is non-nil when the command reads
// the request body from opts.BodyFile: the caller writes body there.
//
// What it writes, and why:
//   - -X only when curl would not pick the method itself (GET without a
//     body, POST with one); --head for HEAD.
//   - -H for each header in order, except Content-Length (curl computes it),
//     HTTP/2 pseudo-headers, and Host when it equals the URL's authority.
//     An empty value is written "Name;", curl's way of sending one.
//   - -H 'Accept:', -H 'User-Agent:' and, for a body, -H 'Content-Type:'
//     when the request had no such header, so curl does not add its own;
//     -H 'Expect:' for a body over 1 KiB, which older curls announce.
//   - --compressed when Accept-Encoding names gzip, br, deflate or zstd, so
//     the output is readable; the header itself is kept as it was.
//   - --http1.0 for an HTTP/1.0 request; --http2 for HTTP/2 over https
//     (curl negotiates it with ALPN). Plain-http HTTP/2 (h2c) gets no flag:
//     --http2 there would add Upgrade headers the original did not have.
//   - --globoff when the URL has [ ] { } (curl's URL globbing), and
//     --path-as-is when the path has dot segments curl would squash.
//   - The body with --data-binary, or --data-raw for text starting with @
//     (which --data-binary would read as a file name).
func CurlCommand(req *flowstore.Request, opts Options) (cmd string, body []byte) {
	data := req.Body.Data
	sendBody := len(data) > 0 || req.Headers.Has("Content-Length") || wire.Chunked(req.Headers)

	c := &command{}
	first := []string{"curl"}
	switch m := req.Method; {
	case sendBody && m == "POST", !sendBody && m == "GET":
	case !sendBody && m == "HEAD":
		first = append(first, "--head")
	default:
		first = append(first, "-X", quote(m))
	}
	url := req.URL()
	c.add(append(first, quote(url))...)
	if strings.ContainsAny(url, "[]{}") {
		c.add("--globoff")
	}
	if hasDotSegment(req.PathOnly()) {
		c.add("--path-as-is")
	}
	switch {
	case req.Proto == "HTTP/1.0":
		c.add("--http1.0")
	case strings.HasPrefix(req.Proto, "HTTP/2") && req.Scheme == "https":
		c.add("--http2")
	}

	for _, kv := range req.Headers {
		switch {
		case strings.EqualFold(kv.Name, "Content-Length"), strings.HasPrefix(kv.Name, ":"):
			continue
		case strings.EqualFold(kv.Name, "Host") && strings.EqualFold(kv.Value, req.Authority()):
			continue
		case kv.Value == "":
			c.add("-H", quote(kv.Name+";"))
		default:
			c.add("-H", quote(kv.Name+": "+kv.Value))
		}
	}
	unset := []string{"Accept", "User-Agent"}
	if sendBody {
		unset = append(unset, "Content-Type")
		if len(data) > 1024 {
			unset = append(unset, "Expect")
		}
	}
	for _, name := range unset {
		if !req.Headers.Has(name) {
			c.add("-H", quote(name+":"))
		}
	}
	if acceptsCompressed(req.Headers) {
		c.add("--compressed")
	}

	switch {
	case !sendBody:
	case inlineText(data) && strings.HasPrefix(string(data), "@"):
		c.add("--data-raw", quote(string(data)))
	case inlineText(data):
		c.add("--data-binary", quote(string(data)))
	case opts.BodyFile != "":
		c.add("--data-binary", quote("@"+opts.BodyFile))
		body = data
	default:
		c.prefix = printfPipe(data)
		c.add("--data-binary", "@-")
	}
	return c.String(), body
}

// acceptsCompressed reports whether Accept-Encoding names a coding curl
// can undo with --compressed.
func acceptsCompressed(h flowstore.Headers) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c, _, _ = strings.Cut(c, ";")
			switch strings.ToLower(strings.TrimSpace(c)) {
			case "gzip", "br", "deflate", "zstd":
				return true
			}
		}
	}
	return false
}

// hasDotSegment reports whether a path has a "." or ".." segment, which
// curl and HTTPie would remove before sending.
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
