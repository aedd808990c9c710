package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
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
	t    testing.TB
	name string
	sock string
}

func needTmux(t testing.TB) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found: install Debian package tmux")
	}
}

func startTmux(t testing.TB, home string, args ...string) *tmuxSession {
	t.Helper()
	return startTmuxEnv(t, home, nil, args...)
}

// startTmuxEnv is startTmux with NAME=value settings for the program.
func startTmuxEnv(t testing.TB, home string, env []string, args ...string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, name: "itui", sock: filepath.Join(t.TempDir(), "tmux.sock")}
	quote := func(a string) string { return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" }
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = quote(a)
	}
	settings := ""
	for _, e := range env {
		name, value, _ := strings.Cut(e, "=")
		settings += name + "=" + quote(value) + " "
	}
	// After the program exits the shell prints its status and lingers, so
	// the test can see both the status and what the terminal shows.
	script := fmt.Sprintf("%sINTERCEPTOR_TUI_HOME='%s' '%s' --listen 127.0.0.1:0 %s; echo EXIT=$?; sleep 60",
		settings, home, binary, strings.Join(quoted, " "))
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

// tmux runs a tmux command on the session's server and returns its output.
func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v %s", strings.Join(args, " "), err, out)
	}
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
	s.waitFor(`GET\s+http://127\.0\.0\.1:\d+\s+/api/hello\s+200`)
	s.keys("Enter") // open the flow
	s.waitFor(`\[Request\]`)
	s.keys("Tab") // the response tab
	s.waitFor(`"greeting": "hello from the origin"`)
	s.keys("q") // back to the list
	s.waitFor(`TIME`)
	s.keys("q") // quit: q in the list asks
	s.waitFor(`Quit interceptor-tui\? \(y/n\)`)
	s.keys("y")
	s.waitFor(`EXIT=0`)
	if scr := s.screen(); strings.Contains(scr, "/api/hello") {
		t.Fatalf("the terminal was not restored (the alternate screen is still shown):\n%s", scr)
	}
}

// curlResult is how a curl run in the background ended.
type curlResult struct {
	out string
	err error
}

func curlInBackground(curl, proxy, url string) <-chan curlResult {
	done := make(chan curlResult, 1)
	go func() {
		out, err := exec.Command(curl, "-sS", "--max-time", "30", "--proxy", "http://"+proxy, url).CombinedOutput()
		done <- curlResult{string(out), err}
	}()
	return done
}

func waitCurl(t *testing.T, done <-chan curlResult, want string) {
	t.Helper()
	select {
	case r := <-done:
		if r.err != nil || r.out != want {
			t.Fatalf("curl: %v %q, want %q", r.err, r.out, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("curl did not complete")
	}
}

func stillWaiting(t *testing.T, done <-chan curlResult) {
	t.Helper()
	select {
	case r := <-done:
		t.Fatalf("curl completed while its flow was paused: %v %q", r.err, r.out)
	case <-time.After(300 * time.Millisecond):
	}
}

// Issue 4's acceptance in a real terminal: a request matching --intercept
// pauses on screen with the client waiting; a resumes it (at the request,
// then at the response: the filter pauses both) and curl completes. Then
// e runs a real $EDITOR on a paused request, through the TUI, and the
// origin receives the edit; R answers one without the origin; X kills one.
func TestTUIInterceptInTmux(t *testing.T) {
	needTmux(t)
	curl := needCurl(t)
	edited := make(chan string, 4)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edited <- r.URL.Path + " X-Edited=" + r.Header.Get("X-Edited")
		fmt.Fprint(w, "origin says hi")
	}))
	defer origin.Close()
	script := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nset -e\nsed -i -e '/^Host:/a X-Edited: yes' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	s := startTmuxEnv(t, home, []string{"EDITOR=" + script}, "--intercept", "~u /pause")
	addr := s.waitFor(`(127\.0\.0\.1:\d+) │`)[1]
	s.waitFor(`break: ~u /pause`)

	done := curlInBackground(curl, addr, origin.URL+"/pause")
	s.waitFor(`GET\s+http://127\.0\.0\.1:\d+\s+/pause\s+‖req`)
	s.waitFor(`‖ 1 paused`)
	stillWaiting(t, done)
	s.keys("a")                // the cursor is on the only flow
	s.waitFor(`/pause\s+‖res`) // through the origin, paused again at the response
	if got := <-edited; got != "/pause X-Edited=" {
		t.Fatalf("origin saw %q", got)
	}
	stillWaiting(t, done)
	s.keys("a")
	waitCurl(t, done, "origin says hi")
	s.waitFor(`/pause\s+200`)

	done = curlInBackground(curl, addr, origin.URL+"/pause/edit")
	s.waitFor(`/pause/edit\s+‖req`)
	s.keys("G") // the newest flow
	s.waitFor(`>\s+\S+\s+GET\s+http://127\.0\.0\.1:\d+\s+/pause/edit`)
	s.keys("e") // in $EDITOR, the terminal handed over and back
	s.waitFor(`request edited: a sends it on`)
	s.waitFor(`✎ .*/pause/edit`)
	s.keys("a")
	s.waitFor(`/pause/edit\s+‖res`)
	if got := <-edited; got != "/pause/edit X-Edited=yes" {
		t.Fatalf("origin saw %q", got)
	}
	s.keys("a")
	waitCurl(t, done, "origin says hi")

	// R answers from the editor's text; the origin never sees the request.
	done = curlInBackground(curl, addr, origin.URL+"/pause/answer")
	s.waitFor(`/pause/answer\s+‖req`)
	s.keys("G")
	s.waitFor(`>\s+\S+\s+GET\s+http://127\.0\.0\.1:\d+\s+/pause/answer`)
	s.keys("R") // the template, saved as it is (the script changes no Host line)
	s.waitFor(`answered with 200 OK`)
	waitCurl(t, done, "answered by interceptor-tui") // an answer is not paused again
	s.waitFor(`/pause/answer\s+200`)

	// X kills: the client's connection is closed.
	done = curlInBackground(curl, addr, origin.URL+"/pause/kill")
	s.waitFor(`/pause/kill\s+‖req`)
	s.keys("G")
	s.waitFor(`>\s+\S+\s+GET\s+http://127\.0\.0\.1:\d+\s+/pause/kill`)
	s.keys("X")
	select {
	case r := <-done:
		if r.err == nil {
			t.Fatalf("curl of a killed flow succeeded: %q", r.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("curl of a killed flow did not end")
	}
	s.waitFor(`/pause/kill\s+KILL`)
	select {
	case got := <-edited:
		t.Fatalf("the origin was contacted: %s", got)
	default:
	}
	s.keys("Q") // nothing paused, nothing marked: quits at once
	s.waitFor(`EXIT=0`)
}
