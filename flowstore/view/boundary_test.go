package view_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The View is the TUI's window onto the store, yet none of the TUI: it is
// tested, and could serve another front end, without Bubble Tea.
func TestImportBoundaries(t *testing.T) {
	m := flowtest.Module
	flowtest.ForbidImports(t, ".", append(flowtest.UI, m+"mitm", m+"scripting", m+"certs")...)
}
