// Package mitm owns the capture engine: an HTTP and HTTPS proxy that
// intercepts TLS with certificates from package certs and records every
// exchange as a flow in a flowstore.Store.
//
// A request's way, file by file:
//
//	proxy.go      the listener: Serve accepts clients, Close ends everything
//	client1.go    an HTTP/1 client connection: read a request (http1.go), run
//	              its exchange, write the answer; limits, refusals, 1xx, upgrades
//	connect.go    CONNECT: TLS terminated with a leaf for the client's SNI, the
//	              tunnel served as HTTP/1 (client1.go) or handed to goproxy for
//	              HTTP/2; anything else tunnelled blind
//	exchange.go   one flow in flight: begin, the round trip, the answer's head,
//	              deliver (capture as it streams), the end
//	pipeline.go   the request and response phases: hooks, mocks, breakpoints,
//	              edits; replay
//	origin1.go    HTTP/1 to origins, on connections kept per originKey
//	origin2.go    HTTP/2 to origins (for HTTP/2 clients), likewise kept
//	upstream.go   dialling origins, and what a failure tells the client
//	http1.go      the HTTP/1 codec: heads in wire order, strict framing
//	capture.go    capped copies of bodies as they stream
//	websocket.go  WebSocket frames and Server-Sent Events, seen as they pass
//	hooks.go, breakpoints.go, serverreplay.go   what may act on a flow
//
// The engine passes messages on as they were sent: HTTP/1 is read and
// written here, not by net/http, so header order, case and repeats survive
// and nothing is added; goproxy serves HTTP/2 clients. Bodies stream; the
// engine keeps a capped copy. Upstream failures become flows with an error
// and a 502/504 to the client that says why. Nothing here writes to the
// terminal: goproxy's logs go to the event log.
//
// The engine must not import the TUI or the scripting runtime. It declares
// the small interfaces hooks implement, and the TUI declares the interface
// it drives the engine through.
package mitm
