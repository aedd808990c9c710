package mitm_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The engine never depends on the TUI or on the scripting runtime: it
// declares the hook interfaces, which scripting implements (DESIGN.md).
func TestImportBoundaries(t *testing.T) {
	flowtest.ForbidImports(t, "./...", append(flowtest.UI, flowtest.Module+"scripting", "github.com/yuin/gopher-lua")...)
}
