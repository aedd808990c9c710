package flowstore_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The store is the boundary (DESIGN.md): it depends on none of the packages
// on either side of it, nor on their libraries.
func TestImportBoundaries(t *testing.T) {
	m := flowtest.Module
	flowtest.ForbidImports(t, "./...", append(flowtest.UI, m+"mitm", m+"scripting", m+"certs",
		"github.com/elazarl/goproxy", "github.com/yuin/gopher-lua")...)
}
