package scripting_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// scripting implements the engine's hook interfaces without importing the
// engine, and never reaches the terminal UI.
func TestImportBoundaries(t *testing.T) {
	m := flowtest.Module
	flowtest.ForbidImports(t, "./...", append(flowtest.UI, m+"mitm", m+"cmd", m+"certs", "github.com/elazarl/goproxy")...)
}
