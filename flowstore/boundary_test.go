package flowstore_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The engine, the store, the CA and the scripting runtime never depend on
// the TUI or its libraries, and the store depends on none of the others:
// the store is the boundary (DESIGN.md).
func TestImportBoundaries(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	const mod = "github.com/interceptor-tui/interceptor-tui/"
	ui := []string{mod + "tui", "github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss", "github.com/charmbracelet/bubbles"}
	rules := map[string][]string{
		mod + "mitm/...":      ui,
		mod + "certs/...":     append(ui, mod+"mitm", mod+"flowstore", mod+"scripting"),
		mod + "scripting/...": append(ui, mod+"mitm", "github.com/elazarl/goproxy"),
		mod + "flowstore/...": append(ui, mod+"mitm", mod+"scripting", mod+"certs", "github.com/elazarl/goproxy", "github.com/yuin/gopher-lua"),
	}
	for pattern, banned := range rules {
		out, err := exec.Command("go", "list", "-deps", pattern).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "matched no packages") {
				continue
			}
			t.Fatalf("go list -deps %s: %v\n%s", pattern, err, out)
		}
		for _, p := range strings.Fields(string(out)) {
			for _, b := range banned {
				if p == b || strings.HasPrefix(p, b+"/") {
					t.Errorf("%s depends on %s", pattern, p)
				}
			}
		}
	}
}
