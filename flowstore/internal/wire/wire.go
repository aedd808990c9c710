package wire

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// ErrNotAbsolute is returned by SplitURL for a URL without scheme://host.
var ErrNotAbsolute = errors.New("not an absolute URL (want scheme://host/path)")

// SplitURL splits an absolute http(s) or ws(s) URL into the parts of a
// flowstore.Request. Unlike net/url it keeps the path and query exactly as
// written, so what a person typed (or a file held) is what is sent. The
// fragment is dropped (it is never sent); an empty path becomes "/".
func SplitURL(raw string) (scheme, host string, port int, path string, err error) {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return "", "", 0, "", ErrNotAbsolute
	}
	scheme = strings.ToLower(raw[:i])
	switch scheme {
	case "http", "https", "ws", "wss":
	default:
		return "", "", 0, "", fmt.Errorf("unsupported scheme %q (want http or https)", raw[:i])
	}
	rest := raw[i+3:]
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest = rest[:j]
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	path = rest[end:]
	if path == "" || path[0] == '?' {
		path = "/" + path
	}
	if i := strings.IndexFunc(path, isCtl); i >= 0 {
		return "", "", 0, "", fmt.Errorf("control character %q in URL path", path[i])
	}
	host, port, err = SplitAuthority(authority, flowstore.DefaultPort(scheme))
	if err != nil {
		return "", "", 0, "", err
	}
	return scheme, host, port, path, nil
}

// SplitAuthority splits host[:port] (IPv6 literals in brackets), checking
// both parts; def is the port when none is given.
func SplitAuthority(authority string, def int) (host string, port int, err error) {
	if authority == "" {
		return "", 0, errors.New("no host")
	}
	if strings.Contains(authority, "@") {
		return "", 0, errors.New("user:password@ in the URL is not sent; use an Authorization header")
	}
	host, portStr := authority, ""
	if authority[0] == '[' {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("bad host %q: missing ]", authority)
		}
		host = authority[1:end]
		switch rest := authority[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			portStr = rest[1:]
		default:
			return "", 0, fmt.Errorf("bad host %q", authority)
		}
		addr, _, _ := strings.Cut(host, "%") // a zone may follow: [fe80::1%25eth0]
		if !strings.Contains(addr, ":") || strings.Trim(addr, "0123456789abcdefABCDEF:.") != "" {
			return "", 0, fmt.Errorf("bad IPv6 address %q", host)
		}
	} else {
		if i := strings.LastIndexByte(authority, ':'); i >= 0 {
			host, portStr = authority[:i], authority[i+1:]
		}
		if host == "" {
			return "", 0, errors.New("no host")
		}
		for _, c := range []byte(host) {
			if !isRegNameByte(c) {
				return "", 0, fmt.Errorf("bad host %q", host)
			}
		}
	}
	port = def
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n <= 0 || n > 65535 || portStr[0] == '+' {
			return "", 0, fmt.Errorf("bad port %q", portStr)
		}
		port = n
	}
	return host, port, nil
}

// isRegNameByte: RFC 3986 reg-name characters (unreserved, sub-delims,
// percent), plus bytes >= 0x80 for international names typed as is.
func isRegNameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c >= 0x80:
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=%", c) >= 0
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// HTTP1Proto is p when it is an HTTP/1.x version, HTTP/1.1 otherwise: the
// text form of an HTTP/2 or HTTP/3 message is written as HTTP/1.1.
func HTTP1Proto(p string) string {
	if strings.HasPrefix(p, "HTTP/1.") {
		return p
	}
	return "HTTP/1.1"
}

// IsHTTP1 reports whether p is an HTTP/1.x version (an empty Proto counts
// as HTTP/1.1).
func IsHTTP1(p string) bool { return p == "" || strings.HasPrefix(p, "HTTP/1.") }

// RequestTarget is the request-target of the request line: host:port for
// CONNECT (the port always written, RFC 9110 9.3.6), "/" for an empty path,
// the path and query otherwise.
func RequestTarget(r *flowstore.Request) string {
	if strings.EqualFold(r.Method, "CONNECT") {
		return net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	}
	if r.Path == "" {
		return "/"
	}
	return r.Path
}

// AppendRequestHead appends the HTTP/1 head of r: request line, headers in
// wire order, blank line, each line ending in CRLF. A message that was not
// HTTP/1 is written as HTTP/1.1, with a Host header first when it has none
// (HTTP/2 carries the authority in a pseudo-header instead).
func AppendRequestHead(b []byte, r *flowstore.Request) []byte {
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, RequestTarget(r)...)
	b = append(b, ' ')
	b = append(b, HTTP1Proto(r.Proto)...)
	b = append(b, "\r\n"...)
	if !IsHTTP1(r.Proto) && !r.Headers.Has("Host") {
		b = appendHeader(b, "Host", r.Authority())
	}
	return appendHeaders(b, r.Headers)
}

// AppendResponseHead appends the HTTP/1 head of r: status line, headers,
// blank line, each line ending in CRLF.
func AppendResponseHead(b []byte, r *flowstore.Response) []byte {
	b = append(b, HTTP1Proto(r.Proto)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ' ')
	b = append(b, r.Reason...)
	b = append(b, "\r\n"...)
	return appendHeaders(b, r.Headers)
}

func appendHeaders(b []byte, h flowstore.Headers) []byte {
	for _, kv := range h {
		b = appendHeader(b, kv.Name, kv.Value)
	}
	return append(b, "\r\n"...)
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// Chunked reports whether a Transfer-Encoding header ends in chunked.
func Chunked(h flowstore.Headers) bool {
	v := h.Values("Transfer-Encoding")
	if len(v) == 0 {
		return false
	}
	codings := strings.Split(v[len(v)-1], ",")
	return strings.EqualFold(strings.TrimSpace(codings[len(codings)-1]), "chunked")
}

// MaxCodings bounds the Content-Encoding codings these packages undo or
// apply. Real traffic uses one (rarely two); a header listing thousands
// would make each decode or encode run thousands of times.
const MaxCodings = 4

// ContentEncoding joins every Content-Encoding line of h into one list,
// and reports whether this package family handles it: at most MaxCodings
// codings. An empty list is fine.
func ContentEncoding(h flowstore.Headers) (ce string, ok bool) {
	vs := h.Values("Content-Encoding")
	ce = strings.Join(vs, ", ")
	return ce, strings.Count(ce, ",") < MaxCodings
}
