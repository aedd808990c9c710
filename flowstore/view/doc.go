// Package view is the window a user looks at the store through, after
// mitmproxy's view addon (mitmproxy/addons/view.py): the flows a filter lets
// through, in the order asked for, and counted.
//
// A View holds a flowstore.Summary per shown flow, never a whole flow of its
// own: a summary of a flow in memory points at the store's snapshot, and
// once the store spools the flow the View swaps in the store's compact
// summary, so the flow's bodies can be collected. It is updated
// incrementally from a subscription's drained events (Apply), which it
// first brings up to the store's current state, so an event drained a
// moment ago never undoes a newer write.
//
// It knows the spool. A filter that reads headers or bodies must read
// spooled flows back from disk; that reading is a Pass the caller runs off
// its own goroutine, and its answers are kept so that later rebuilds (a
// mark, marked-only, a clear) ask the disk nothing. It keeps the counters a
// status line shows (shown, total, paused, marked; and how many flows
// resumed at their request paused again at their response) and reads back
// the one spooled flow a cursor rests on (Flow).
//
// A View is not safe for concurrent use: one goroutine (the UI's) owns it;
// only a Pass runs elsewhere. Where the rows go on a screen, the cursor and
// the scrolling are the caller's. This package must not import the TUI or
// its libraries, the proxy engine or the scripting runtime.
package view
