package export

import (
	"strconv"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/internal/wire"
)

// RawRequest is req as HTTP/1 bytes on the wire: request line (origin-form
// target), headers in order with CRLF, a blank line, the body as it was
// sent (still content-encoded). A chunked body is written as one chunk
// followed by the trailers. An HTTP/2 or HTTP/3 request is written as
// HTTP/1.1, with a Host header first if it had none, so the text can be sent
// as is (with nc, or pasted into Burp's Repeater).
func RawRequest(req *flowstore.Request) []byte {
	b := wire.AppendRequestHead(make([]byte, 0, 256+len(req.Body.Data)), req)
	return appendBody(b, req.Headers, req.Body.Data, req.Trailers)
}

// RawResponse is resp as HTTP/1 bytes on the wire, in the same way.
func RawResponse(resp *flowstore.Response) []byte {
	b := wire.AppendResponseHead(make([]byte, 0, 256+len(resp.Body.Data)), resp)
	return appendBody(b, resp.Headers, resp.Body.Data, resp.Trailers)
}

func appendBody(b []byte, h flowstore.Headers, data []byte, trailers flowstore.Headers) []byte {
	if !wire.Chunked(h) {
		return append(b, data...)
	}
	if len(data) > 0 {
		b = strconv.AppendInt(b, int64(len(data)), 16)
		b = append(b, "\r\n"...)
		b = append(b, data...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "0\r\n"...)
	for _, kv := range trailers {
		b = append(b, kv.Name...)
		b = append(b, ": "...)
		b = append(b, kv.Value...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}
