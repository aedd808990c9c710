package tui_test

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/interceptor-tui/interceptor-tui/"

// The TUI never reaches into the proxy engine or its libraries, and its
// components never import each other: the root wires them.
func TestImportBoundaries(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, banned := range []string{mod + "mitm", mod + "scripting", mod + "certs", "github.com/elazarl/goproxy", "github.com/yuin/gopher-lua"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("tui depends on %s", p)
			}
		}
	}

	components := []string{"flowlist", "flowview", "prompt", "eventlog", "help", "statusbar", "rules", "editor"}
	out, err = exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		own := ""
		for _, c := range components {
			if pkg == mod+"tui/"+c || strings.HasPrefix(pkg, mod+"tui/"+c+"/") {
				own = c
			}
		}
		if own == "" {
			continue
		}
		for _, imp := range imports {
			for _, c := range components {
				if c != own && (imp == mod+"tui/"+c || strings.HasPrefix(imp, mod+"tui/"+c+"/")) {
					t.Errorf("component %s imports component %s", pkg, imp)
				}
			}
		}
	}
}
