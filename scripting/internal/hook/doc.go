// Package hook owns what scripting's coordinator and its script engines
// (Lua in scripting, JavaScript in scripting/js) share: the phases, one
// hook call's input and output, the interfaces a script and its hooks
// implement, the resolved options, the flow.ctx and shared stores with
// the engine-neutral values they hold, and the error a script that cannot
// load returns.
//
// It must not import an engine (gopher-lua, goja), the proxy engine or
// the TUI: both script engines import it, never each other.
package hook
