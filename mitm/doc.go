// Package mitm owns the capture engine: an HTTP and HTTPS proxy built on
// goproxy that intercepts TLS with certificates from package certs and
// records every exchange as a flow in a flowstore.Store.
//
// Bodies stream; the engine keeps a capped copy. Upstream failures become
// flows with an error and a 502/504 to the client that says why. Nothing
// here writes to the terminal: goproxy's and net/http's logs go to the
// event log.
//
// The engine must not import the TUI or the scripting runtime. It declares
// the small interfaces hooks implement, and the TUI declares the interface
// it drives the engine through.
package mitm
