// Package scripting owns hook scripts (-s/--script): it chooses each
// file's engine by extension (.js, .yaml and .yml to JavaScript in
// scripting/js, the rest to Lua), runs every script's hooks as one chain
// in the order given with one flow.ctx and shared store
// (scripting/internal/hook holds what the engines share), and is the Lua
// engine itself: loading and reloading Lua scripts, running their hooks in
// pooled, sandboxed gopher-lua states with a timeout per call, and the API
// they see (flow, message, on, options, env, shared, log, json, base64).
//
// An *Engine implements the engine's one-method phase interfaces and its
// PhaseFilter structurally; cmd registers it with (*mitm.Proxy).AddHook.
// It imports flowstore (and its filter and content packages), gopher-lua
// and scripting/js, never the engine, the TUI or the terminal: everything
// a script prints goes to the event log.
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
