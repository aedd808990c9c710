// Package wire holds the small pieces of HTTP/1 text that the flowstore
// sub-packages (har, export, httptext) share: splitting an absolute URL
// without re-escaping it, rendering a message head as it goes on the wire,
// reading the framing and coding headers.
//
// It is pure: no I/O, no UI. Internal, so its API can follow its users.
package wire
