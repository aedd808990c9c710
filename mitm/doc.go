// Package mitm owns the capture engine: an HTTP and HTTPS proxy that
// intercepts TLS with certificates from package certs and records every
// exchange as a flow in a flowstore.Store.
//
// A request's way, file by file, in the order it takes them:
//
//	proxy.go      the Proxy: Serve accepts clients, Close ends everything
//	client1.go    an HTTP/1 client connection: read a request (http1.go,
//	              chunked.go), refuse what cannot be read, hand it on
//	connect.go    CONNECT: TLS terminated with a leaf for the client's SNI,
//	              the tunnel served as HTTP/1 (client1.go) or handed to
//	              goproxy for HTTP/2 (h2client.go); anything else blind
//	exchange.go   one flow in flight: begin, when it enters the store, timings
//	request.go    the request phase: rules, hooks, breakpoints, edits
//	pause.go      a flow held at a breakpoint; killing one
//	roundtrip.go  where the request goes and over what; the answer's head
//	origin1.go    HTTP/1 to origins, on connections kept per originKey
//	origin2.go    HTTP/2 to origins (for HTTP/2 clients), likewise
//	upstream.go   dialling origins; what a failure tells the client
//	response.go   the response phase: hooks, rules, breakpoints, edits,
//	              answers written by a rule, a hook or a person
//	deliver.go    the body captured as it streams (capture.go), the end
//	answer1.go    the answer written to an HTTP/1 client; 1xx; upgrades
//	watch.go      noticing a client that hangs up while its flow waits
//	websocket.go  WebSocket frames, sse.go Server-Sent Events, as they pass
//	replay.go     a flow's request sent again
//	rules.go      declarative rules (flowstore/rules): the set in effect,
//	              and what they ask of the wire (waits, paced bodies, resets)
//	hooks.go, breakpoints.go, serverreplay.go   what else may act on a flow
//	local.go      the proxy's own pages (interceptor.tui)
//
// The phases, in order: rules (standing mocks are respond rules), request
// headers hooks, request hooks, request breakpoint; a rule's delay; the
// round trip; response headers hooks, response hooks, rules, response
// breakpoint; a rule's delay; response chunk hooks while the body streams
// (paced by a rule's throttle); error and done hooks at the end.
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
