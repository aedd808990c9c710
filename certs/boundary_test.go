package certs_test

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// The CA depends on nothing of ours: the engine and the command use it.
func TestImportBoundaries(t *testing.T) {
	m := flowtest.Module
	flowtest.ForbidImports(t, "./...", append(flowtest.UI, m+"mitm", m+"flowstore", m+"scripting")...)
}
