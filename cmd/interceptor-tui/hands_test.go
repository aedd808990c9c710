package main

// The TUI in a person's hands (issue 20): the real binary in tmux, driven
// the way people drive it: keys typed together, quitting, copying.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// flowsFile writes n finished flows, GET http://site.test/n0 … /n(n-1),
// as a JSON lines file to load.
func flowsFile(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flows.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := flowstore.NewSaver(f)
	for i := range n {
		if err := s.Save(flowtest.New(flowtest.URL(fmt.Sprintf("http://site.test/n%d", i)))); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestTmuxKeysTypedTogether: "jjj" sent to the pane in one write moves the
// cursor three rows, and "jk" down and up again.
func TestTmuxKeysTypedTogether(t *testing.T) {
	needTmux(t)
	s := startTmux(t, t.TempDir(), "--load", flowsFile(t, 6))
	s.waitFor(`/n5\s`)
	s.waitFor(`>\s+\S+\s+GET\s+\S+\s+/n0\s`)
	s.keys("jjj")
	s.waitFor(`>\s+\S+\s+GET\s+\S+\s+/n3\s`)
	s.keys("jk")
	s.keys("j")
	s.waitFor(`>\s+\S+\s+GET\s+\S+\s+/n4\s`)
	s.keys("Q")
	s.waitFor(`EXIT=0`)
}

// TestTmuxQuitAsks: q in the list asks before ending the session; n keeps
// it, y ends it; the terminal is given back.
func TestTmuxQuitAsks(t *testing.T) {
	needTmux(t)
	s := startTmux(t, t.TempDir(), "--load", flowsFile(t, 2))
	s.waitFor(`/n1\s`)
	s.keys("Enter")
	s.waitFor(`\[Request\]`)
	s.keys("q") // back
	s.waitFor(`TIME`)
	s.keys("q")
	s.waitFor(`Quit interceptor-tui\? \(y/n\)`)
	s.keys("n")
	s.waitFor(`enter open flow`)
	s.keys("q")
	s.waitFor(`Quit interceptor-tui\? \(y/n\)`)
	s.keys("y")
	s.waitFor(`EXIT=0`)
}
