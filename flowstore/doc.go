// Package flowstore owns the Flow model and the Store that holds every
// captured exchange: in memory, and past a memory budget in a spool on disk
// (EnableSpool), with a compact Summary of each spooled flow kept for lists.
//
// A Flow is a plain value: no live *http.Request or connection hangs off it,
// so it can be read from any goroutine, copied, serialised and loaded back.
// Writers (the proxy engine, a loader) change flows only through
// Store.Update, which swaps in a modified copy; readers always see whole
// snapshots and never a half-applied change.
//
// Text from the network or a loaded file is shown to a person through
// EscapeControl (the headless line, the event log's text), so that a
// terminal shows control bytes and never obeys them; saved files keep the
// real bytes. Flows read from files are checked value by value
// (ValidateLoaded) before they join the store.
//
// The Store publishes coalesced change notifications to subscribers. A slow
// subscriber never slows a writer: it is told "something changed" at most
// once until it drains, and it drains a bounded, de-duplicated set of events.
// Two subscribers live here: the headless Printer (line.go's one line per
// flow) and the FileSaver (--save, JSON lines; saver.go).
//
// Beside it: filter (the language), view (the window a UI renders),
// compare (two flows side by side), har, flowfile, export, httptext and
// content (the formats), flowtest (the test kit).
//
// This package must not import the proxy engine, the TUI or the scripting
// runtime; they all import it.
package flowstore
