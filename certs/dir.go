package certs

import (
	"fmt"
	"os"
	"path/filepath"
)

// HomeEnv overrides the config directory, so tests and several profiles
// can each keep their own CA.
const HomeEnv = "INTERCEPTOR_TUI_HOME"

// DefaultDir returns $INTERCEPTOR_TUI_HOME if it is set and not empty,
// else ~/.interceptor-tui. It does not create the directory.
func DefaultDir() (string, error) {
	if dir := os.Getenv(HomeEnv); dir != "" {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find config directory (set %s to choose one): %w", HomeEnv, err)
	}
	return filepath.Join(home, ".interceptor-tui"), nil
}
