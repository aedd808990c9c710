package main

// The TUI in a person's hands (issue 20): the real binary in tmux, driven
// the way people drive it: keys typed together, quitting, copying.

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// flowsFile writes n finished flows, GET http://site.test/n0 … /n(n-1),
// as a JSON lines file to load.
func flowsFile(t *testing.T, n int) string {
	t.Helper()
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		fs[i] = flowtest.New(flowtest.URL(fmt.Sprintf("http://site.test/n%d", i)))
	}
	return saveFlows(t, fs...)
}

// saveFlows writes flows as a JSON lines file to load.
func saveFlows(t *testing.T, fs ...*flowstore.Flow) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flows.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := flowstore.NewSaver(f)
	for _, fl := range fs {
		if err := s.Save(fl); err != nil {
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

// TestTmuxResumeAndQuit: with a flow paused on a breakpoint for both
// phases, ctrl+c then r resumes it and quits once it has finished: the
// origin sees the request, the client gets the whole response (not an
// empty reply, curl's 52), and the program exits cleanly.
func TestTmuxResumeAndQuit(t *testing.T) {
	needTmux(t)
	curl := needCurl(t)
	body := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB
	seen := make(chan string, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.URL.Path
		fmt.Fprint(w, body)
	}))
	defer origin.Close()
	s := startTmux(t, t.TempDir(), "--intercept", "~u /pause")
	addr := s.waitFor(`(127\.0\.0\.1:\d+) │`)[1]
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := exec.Command(curl, "-sS", "--max-time", "30", "--proxy", "http://"+addr, origin.URL+"/pause").Output()
		done <- result{out, err}
	}()
	s.waitFor(`/pause\s+‖req`)
	s.keys("C-c")
	s.waitFor(`Quit\? 1 paused flow\(s\) wait`)
	s.keys("r")
	select {
	case r := <-done:
		if r.err != nil || string(r.out) != body {
			t.Fatalf("curl: %v, %d bytes of %d", r.err, len(r.out), len(body))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("curl did not complete")
	}
	if got := <-seen; got != "/pause" {
		t.Fatalf("origin saw %q", got)
	}
	s.waitFor(`EXIT=0`)
}

// TestTmuxCopy: y inside tmux with set-clipboard on leaves the text in
// tmux's paste buffer, where prefix ] pastes it: through tmux load-buffer,
// and, without a tmux program to run, through the OSC 52 sequence tmux's
// set-clipboard takes. The status line says which, and that an OSC 52 alone
// gets no answer.
func TestTmuxCopy(t *testing.T) {
	needTmux(t)
	for _, tc := range []struct {
		name string
		env  []string
		says string
	}{
		{"tmux buffer", nil, `copied URL \(\d+B\) to the terminal \(OSC 52\) and the tmux paste buffer`},
		{"OSC 52 alone", []string{"PATH=" + t.TempDir()}, `sent URL \(\d+B\) to the terminal's clipboard with OSC 52`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTmuxEnv(t, t.TempDir(), tc.env, "--load", flowsFile(t, 3))
			s.tmux("set-option", "-g", "set-clipboard", "on")
			s.waitFor(`/n2\s`)
			s.keys("j")
			s.waitFor(`>\s+\S+\s+GET\s+\S+\s+/n1\s`)
			s.keys("y")
			s.waitFor(`copy: u URL`)
			s.keys("u")
			s.waitFor(tc.says)
			if got, want := s.tmux("show-buffer"), "http://site.test/n1"; got != want {
				t.Fatalf("tmux show-buffer = %q, want %q", got, want)
			}
			s.keys("Q")
			s.waitFor(`EXIT=0`)
		})
	}
}

// TestTmuxSearchPrompt: / opens empty (what is typed is not appended to
// the last query), up brings the last query back, and the search stays
// with its flow until n asks for it in another.
func TestTmuxSearchPrompt(t *testing.T) {
	needTmux(t)
	one := flowtest.New(flowtest.URL("http://site.test/one"), flowtest.RespBody("text/plain", []byte("a\nuser1999\nb\n")))
	two := flowtest.New(flowtest.URL("http://site.test/two"), flowtest.RespBody("text/plain", []byte("user1999\nc\nuser1999\n")))
	s := startTmux(t, t.TempDir(), "--load", saveFlows(t, one, two))
	s.waitFor(`/two\s`)
	s.keys("Enter")
	s.waitFor(`\[Request\]`)
	s.keys("Tab")
	s.waitFor(`\[Response\]`)
	s.keys("/")
	s.waitFor(`search:`)
	s.keys("user1999", "Enter")
	s.waitFor(`/user1999 1 of 1`)
	s.keys("/")
	s.waitFor(`search: text to find`)
	s.keys("x")
	s.waitFor(`search: x\s*\n`)
	s.keys("BSpace", "Up")
	s.waitFor(`search: user1999\s*\n`)
	s.keys("Escape") // alone: ESC and q in one read are alt+q to a terminal
	s.waitFor(`/user1999 1 of 1`)
	s.keys("q", "j", "Enter")
	s.waitFor(`GET http://site\.test/two`)
	if scr := s.screen(); strings.Contains(scr, "/user1999") {
		t.Fatalf("the search followed to another flow:\n%s", scr)
	}
	s.keys("n")
	s.waitFor(`/user1999 1 of 2`)
	s.keys("Q")
	s.waitFor(`EXIT=0`)
}

// TestLoadedDraftsAreCountedApart: --load of a JSON lines file holding an
// unsent draft says "loaded 2 flows and 1 unsent draft(s)", prints the two
// flows, and --har writes those two, not the draft as a status-0 entry.
func TestLoadedDraftsAreCountedApart(t *testing.T) {
	draft := flowtest.New(flowtest.URL("http://site.test/draft"), flowtest.NoResponse())
	draft.State = flowstore.StateDraft
	file := saveFlows(t, flowtest.New(flowtest.URL("http://site.test/a")), draft, flowtest.New(flowtest.URL("http://site.test/b")))
	out := filepath.Join(t.TempDir(), "out.har")
	p := startHeadless(t, t.TempDir(), "--load", file, "--har", out)
	lines := p.waitLines(2)
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, l := range lines {
		if strings.Contains(l, "/draft") {
			t.Errorf("the draft was printed: %q", l)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.errText(), "wrote 2 flows to "+out) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	errs := p.errText()
	for _, want := range []string{"loaded 2 flows and 1 unsent draft(s)", "wrote 2 flows to " + out} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"startedDateTime"`); n != 2 || strings.Contains(string(data), "/draft") {
		t.Fatalf("the HAR holds %d entries (or the draft):\n%s", n, data)
	}
}

// TestTmuxDraftLeftOutOfHAR: D makes a draft; w saves every flow as HAR,
// which leaves the draft out and says so.
func TestTmuxDraftLeftOutOfHAR(t *testing.T) {
	needTmux(t)
	out := filepath.Join(t.TempDir(), "saved.har")
	s := startTmuxEnv(t, t.TempDir(), []string{"EDITOR=true"}, "--load", flowsFile(t, 2))
	s.waitFor(`/n1\s`)
	s.keys("D")
	s.waitFor(`/n0\s+NEW`)
	s.keys("w")
	s.waitFor(`save flows: a all \(3\)`)
	s.keys("a")
	s.waitFor(`save 3 flows to`)
	s.keys("C-u")
	s.keys(out, "Enter")
	s.waitFor(`wrote 2 flows as HAR to .*1 unsent draft\(s\) left out`)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"startedDateTime"`); n != 2 {
		t.Fatalf("the HAR holds %d entries, want 2", n)
	}
	s.keys("Q")
	s.waitFor(`EXIT=0`)
}

// TestTmuxCAScreenNamesTheConfdir: C shows how to trust the CA with the
// commands naming the directory the running proxy uses.
func TestTmuxCAScreenNamesTheConfdir(t *testing.T) {
	needTmux(t)
	dir := filepath.Join(t.TempDir(), "conf")
	s := startTmux(t, t.TempDir(), "--confdir", dir)
	s.waitFor(`\d+ flows`)
	s.keys("C")
	s.waitFor(`trust it`)
	scr := strings.Join(strings.Fields(s.screen()), " ") // the hint wraps
	for _, want := range []string{"interceptor-tui ca install --nss --confdir " + dir, "sudo interceptor-tui ca install --system --confdir " + dir} {
		if !strings.Contains(scr, want) {
			t.Errorf("the CA screen lacks %q:\n%s", want, s.screen())
		}
	}
	s.keys("Q")
	s.waitFor(`EXIT=0`)
}

// TestTmuxBrowserWithoutDisplay: B with a Chromium that cannot start (no
// display) says so, with the line that says why, not "browser started";
// the event log says what to do instead. Run with a stand-in that fails as
// Debian's Chromium does, and with the real one when it is installed.
func TestTmuxBrowserWithoutDisplay(t *testing.T) {
	needTmux(t)
	cases := []struct {
		name string
		env  []string
	}{{"stand-in", []string{"PATH=" + failingChromium(t, chromiumWithoutDisplay) + string(os.PathListSeparator) + os.Getenv("PATH")}}}
	if _, err := exec.LookPath("chromium"); err == nil {
		cases = append(cases, struct {
			name string
			env  []string
		}{"real Chromium", []string{"DISPLAY=", "WAYLAND_DISPLAY="}})
	} else {
		t.Log("chromium not found (Debian package chromium): only the stand-in runs")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startTmuxEnv(t, t.TempDir(), tc.env)
			s.waitFor(`\d+ flows`)
			s.keys("B")
			// At once; or, on a machine so busy that Chromium took longer
			// than the wait, as soon as it exits.
			s.waitFor(`browser: Chromium exited .*(at once|after [\d.]+m?s): Missing X server or \$DISPLAY`)
			s.keys("E")
			s.waitFor(`It\s+needs\s+a\s+display:\s+start\s+interceptor-tui\s+in\s+a\s+desktop\s+session`) // the event log wraps where the width says
			s.keys("Q")
			s.waitFor(`EXIT=0`)
		})
	}
}

// TestNoTerminalSuggestsHeadless: without a terminal the program does not
// fail with Bubble Tea's "could not open a new TTY" but says to use
// --headless, before it listens or makes a CA.
func TestNoTerminalSuggestsHeadless(t *testing.T) {
	t.Run("output to a pipe", func(t *testing.T) {
		home := t.TempDir()
		cmd := exec.Command(binary, "--listen", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "INTERCEPTOR_TUI_HOME="+home)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal either
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exit: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "use --headless") || strings.Contains(string(out), "TTY") {
			t.Fatalf("no --headless suggestion:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(home, "ca.pem")); err == nil {
			t.Error("a CA was made before the terminal was checked")
		}
	})
	t.Run("a terminal to draw on, none to read keys from", func(t *testing.T) {
		needTmux(t)
		if _, err := exec.LookPath("setsid"); err != nil {
			t.Skip("setsid not found: install Debian package util-linux")
		}
		s := &tmuxSession{t: t, name: "itui", sock: filepath.Join(t.TempDir(), "tmux.sock")}
		script := fmt.Sprintf("INTERCEPTOR_TUI_HOME='%s' setsid '%s' --listen 127.0.0.1:0 </dev/null; echo EXIT=$?; sleep 60", t.TempDir(), binary)
		if out, err := exec.Command("tmux", "-S", s.sock, "new-session", "-d", "-s", s.name, "-x", "120", "-y", "30", script).CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v\n%s", err, out)
		}
		t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
		s.waitFor(`needs a terminal to read keys from[\s\S]*use --headless[\s\S]*EXIT=1`)
	})
}
