// Package js owns JavaScript hook scripts on goja: a .js file given to
// -s (global phase functions, on(...), or exports), and a .yaml/.yml
// file listing Plenum-style interceptor modules. It loads and reloads
// them, runs their hooks in pooled goja runtimes with a timeout per call
// (goja's Interrupt; a runtime interrupted inside a Go builtin that does
// not stop is abandoned), and gives them the flow API in JavaScript
// style, the twin of the Lua one in package scripting.
//
// It implements hook.Script and hook.Hook, so the coordinator in package
// scripting runs its hooks in one chain with Lua's, sharing flow.ctx and
// shared. It imports flowstore, scripting/internal/hook and goja; it must
// not import gopher-lua, the proxy engine, the TUI or the terminal, and
// gives scripts no filesystem, network or process access (goja has none
// unless given: no require, no timers, no I/O).
//
// goja has no heap limit. What the API hands out and what scripts build
// as strings (+, +=, template literals, repeat, padStart, padEnd, concat,
// join) is admitted before it is built, per string and per call, as Lua's
// strings are; arrays and objects grow unchecked until the deadline.
package js
