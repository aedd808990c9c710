package scripting_test

import (
	"os/exec"
	"strings"
	"testing"
)

// scripting implements the engine's hook interfaces without importing the
// engine, and never reaches the terminal UI.
func TestImportBoundaries(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/interceptor-tui/interceptor-tui/"
	for _, p := range strings.Fields(string(out)) {
		for _, banned := range []string{mod + "mitm", mod + "tui", mod + "cmd", mod + "certs",
			"github.com/elazarl/goproxy", "github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("scripting depends on %s", p)
			}
		}
	}
}
