// Package rules owns declarative rules: what a rule is (a matcher and the
// actions it takes), its YAML form, mitmproxy's four option spellings
// (--map-remote, --map-local, --modify-headers, --modify-body), templates
// and capture stores, and applying a rule set to a flow's request and
// response as data.
//
// A rule matches with the filter language (package filter) and, for the
// file form, Imposter-style fields: path with * wildcards, method, and
// request headers with operators (EqualTo, NotEqualTo, Exists, NotExists,
// Contains, NotContains, Matches, NotMatches). Its actions run in order:
// respond, map-local, map-remote, set-header, remove-header, replace,
// block, delay, throttle, capture.
//
// In each phase (the request, then the response) the rules that act in it
// are tried in order, each against the flow as the rules before it left it
// (at the response phase with the response as the hooks left it): every
// matching rule applies, up to and including the first that is not
// passthrough. An answer (respond, map-local, a block) ends the request
// phase. This is mitmproxy's order for its four options: each sees what
// the ones before it did.
//
// A Set is an immutable compiled list: the engine swaps whole sets, so a
// flow sees one set from its request to its response. What needs the wire
// (waiting, pacing bytes, closing or resetting a connection) is left to the
// engine: Apply says what to do, and the engine does it.
//
// Rules files are read and watched by a Loader; a file that fails to parse
// leaves its previous rules in effect and the error names file:line.
//
// This package must not import the proxy engine, the TUI or the scripting
// runtime.
package rules
