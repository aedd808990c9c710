package flowtest

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is this module's import path, with its slash.
const Module = "github.com/interceptor-tui/interceptor-tui/"

// UI is what only the terminal interface may import.
var UI = []string{Module + "tui", "github.com/charmbracelet/bubbletea", "github.com/charmbracelet/lipgloss", "github.com/charmbracelet/bubbles"}

// ForbidImports fails t when a package that pattern matches depends, even
// indirectly, on one of banned (or a package below one): each package's
// boundary test calls it for itself, so the arrows of DESIGN.md stay
// pointing one way.
func ForbidImports(t testing.TB, pattern string, banned ...string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command("go", "list", "-deps", pattern).CombinedOutput()
	if err != nil {
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
