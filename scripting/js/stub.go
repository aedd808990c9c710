// Package js will run JavaScript hook scripts; until it does, Handles
// claims no file, so every script still goes to Lua.
package js

import (
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// Handles reports whether path is a JavaScript script.
func Handles(path string) bool { return false }

// Load loads a JavaScript script.
func Load(path, source string, cfg *hook.Config) (hook.Script, error) {
	return nil, &hook.ScriptError{File: path, Msg: "JavaScript is not wired yet"}
}
