package js_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The JavaScript engine implements hook's interfaces without importing
// the Lua engine (nor, so, package scripting, which imports gopher-lua),
// the proxy engine or the terminal UI; hook imports neither script engine.
func TestImportBoundaries(t *testing.T) {
	m := flowtest.Module
	flowtest.ForbidImports(t, ".", append(flowtest.UI, "github.com/yuin/gopher-lua", m+"mitm", m+"cmd", m+"certs", "github.com/elazarl/goproxy")...)
	flowtest.ForbidImports(t, "../internal/hook", "github.com/yuin/gopher-lua", "github.com/dop251/goja")
}
