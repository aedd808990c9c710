// Package scripting owns Lua hook scripts (-s/--script): loading and
// reloading them, running their hooks in pooled, sandboxed gopher-lua
// states with a timeout per call, and the API they see (flow, message, on,
// options, env, shared, log, json, base64).
//
// An *Engine implements the engine's one-method phase interfaces and its
// PhaseFilter structurally; cmd registers it with (*mitm.Proxy).AddHook.
// It imports flowstore (and its filter and content packages) and
// gopher-lua, never the engine, the TUI or the terminal: everything a
// script prints goes to the event log.
//
// Each hook call runs on a scratch copy of the flow and is committed only
// when it succeeds, so a hook that errors or runs out of time leaves the
// flow as it was. Hooks are trusted user code: the sandbox (no io, os,
// load or require; every string a call builds, by .. too, checked against
// a size limit per string and per call; a deadline per call) keeps
// mistakes from hurting the proxy, but it is not a security boundary
// (tables grow unchecked until the deadline, and what a script keeps in
// globals or shared outlives the call).
package scripting
