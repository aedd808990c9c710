// Package httptext owns the text form of an HTTP message that a person
// edits in $EDITOR: at a breakpoint (edit a paused request or response), for
// edit-and-send of a duplicated request, and for a response written by hand.
//
// The form is HTTP/1 text with LF line endings:
//
//	POST https://api.example.com/v1/items?x=1 HTTP/1.1
//	Host: api.example.com
//	Content-Type: application/json
//	Content-Encoding: gzip
//
//	{"name": "new"}
//
// The request line carries the absolute URL, so scheme and host can be
// changed as easily as the path; an origin-form target ("GET /path") with a
// Host header is accepted too, and CONNECT takes host:port. A #fragment is
// dropped: it is never sent. A space in the URL must be written %20. Responses start with a status line
// ("HTTP/1.1 200 OK"). Headers keep their wire order, case and repeats. The
// parser accepts LF or CRLF line endings.
//
// # Bodies
//
// The body is shown as content: decoded from its Content-Encoding (gzip,
// deflate, br, zstd) when it was encoded, and encoded again on the way back
// with whatever Content-Encoding the edited headers name — so deleting the
// Content-Encoding line sends the body plain, and changing it re-encodes.
// A body that cannot be decoded (an unknown coding, corrupt data) or was
// kept only in part (Body.Truncated) is shown as its wire bytes and taken
// back as wire bytes, never re-encoded.
//
// The text is bytes, not a string: a binary body is written raw and, left
// alone, comes back byte for byte. A body the person did not change (with
// an unchanged Content-Encoding) keeps the original bytes exactly, so editing
// one header of a gzip response does not recompress it; its framing headers
// are left as written. A changed body gets a Content-Length of its new length
// (added when the message has a body or had the header) and loses "chunked"
// from Transfer-Encoding, since the edited body is complete.
//
// Editors add a newline at the end of a file (vi does by default). So when
// the original body did not end with a line break, one final "\n" (or "\r\n"
// in a file whose head uses CRLF) is dropped from the edited body. A new
// message (no original) follows the same rule with an empty original body:
// to send a body that ends in a newline, end the text with two.
//
// Trailers are not part of the text; a parsed message keeps the original's.
//
// Parse errors are *ParseError values carrying the 1-based line number.
//
// It is pure: no I/O, no UI.
package httptext
