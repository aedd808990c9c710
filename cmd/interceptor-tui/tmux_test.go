package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession runs the real binary in a detached tmux session, as a person
// would in a terminal, and reads the screen with capture-pane.
type tmuxSession struct {
	t    *testing.T
	name string
	sock string
}

func needTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found: install Debian package tmux")
	}
}

func startTmux(t *testing.T, home string, args ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, name: "itui", sock: filepath.Join(t.TempDir(), "tmux.sock")}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	// After the program exits the shell prints its status and lingers, so
	// the test can see both the status and what the terminal shows.
	script := fmt.Sprintf("INTERCEPTOR_TUI_HOME='%s' '%s' --listen 127.0.0.1:0 %s; echo EXIT=$?; sleep 60",
		home, binary, strings.Join(quoted, " "))
	cmd := exec.Command("tmux", "-S", s.sock, "new-session", "-d", "-s", s.name, "-x", "120", "-y", "30", script)
	cmd.Env = append(cmd.Environ(), "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "-S", s.sock, "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	args := append([]string{"-S", s.sock, "send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
}

// waitFor waits until the screen matches re and returns the match.
func (s *tmuxSession) waitFor(re string) []string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		scr := s.screen()
		if m := rx.FindStringSubmatch(scr); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never matched %q; it shows:\n%s", re, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTUIInTmux(t *testing.T) {
	needTmux(t)
	curl := needCurl(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"greeting":"hello from the origin"}`)
	}))
	defer origin.Close()
	home := t.TempDir()
	s := startTmux(t, home)
	addr := s.waitFor(`(127\.0\.0\.1:\d+) │`)[1]

	out, err := exec.Command(curl, "-sS", "--proxy", "http://"+addr, origin.URL+"/api/hello").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	s.waitFor(`GET\s+127\.0\.0\.1:\d+\s+/api/hello\s+200`)
	s.keys("Enter") // open the flow
	s.waitFor(`\[Request\]`)
	s.keys("Tab") // the response tab
	s.waitFor(`"greeting": "hello from the origin"`)
	s.keys("q") // back to the list
	s.waitFor(`TIME`)
	s.keys("q") // quit: nothing would be lost, so no question
	s.waitFor(`EXIT=0`)
	if scr := s.screen(); strings.Contains(scr, "/api/hello") {
		t.Fatalf("the terminal was not restored (the alternate screen is still shown):\n%s", scr)
	}
}
