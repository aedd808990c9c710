// Package clip puts text on the user's clipboard, every way a terminal
// program can: the terminal's own OSC 52 sequence (it works over SSH);
// inside tmux, tmux's paste buffer (tmux load-buffer -w, which also hands
// the text on to the outer terminal as tmux's set-clipboard allows) and an
// OSC 52 that tmux's set-clipboard takes; inside GNU screen, OSC 52 in
// screen's passthrough; and the desktop's clipboard through
// github.com/atotto/clipboard when a local desktop session is likely. It
// reports which ways were used, which of them are known to have worked,
// and why the others were not, so the status bar can say so and the root
// can offer a file instead.
//
// OSC 52 gets no answer from the terminal: "sent" is all that can be known.
// The terminal is shared with Bubble Tea's renderer; Terminal and Locked
// serialize the writes of both. It knows nothing of flows and imports no
// component.
package clip

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/atotto/clipboard"
)

// MaxOSC52 is the most text sent with OSC 52; some terminals drop longer
// sequences (the base64 form is a third longer).
const MaxOSC52 = 100_000

// Ways of copying, as Result names them.
const (
	ViaOSC52  = "terminal (OSC 52)"
	ViaTmux   = "tmux paste buffer"
	ViaNative = "system clipboard"
)

// Multiplexers the program may run inside: OSC 52 is written for them.
const (
	MuxNone   = ""
	MuxTmux   = "tmux"
	MuxScreen = "screen"
)

// Result says where a copy went and why it did not go elsewhere.
type Result struct {
	Via      []string
	Problems []string
	TooBig   bool // past MaxOSC52: the terminal was not asked
}

// OK reports whether the text went anywhere.
func (r Result) OK() bool { return len(r.Via) > 0 }

// Sure reports whether the text is known to be somewhere (tmux's buffer,
// the system clipboard), not only sent to a terminal that gives no answer.
func (r Result) Sure() bool {
	for _, v := range r.Via {
		if v != ViaOSC52 {
			return true
		}
	}
	return false
}

// OSC52 is the sequence asking the terminal to put text on its clipboard:
// ESC ] 52 ; c ; base64 BEL. Inside tmux it goes as it is: tmux's
// set-clipboard option takes it (into a paste buffer, and on to the outer
// terminal); wrapped in tmux's passthrough instead, tmux drops it unless
// allow-passthrough is on. Inside screen it is wrapped in DCS passthrough,
// in pieces of 76 bytes, which screen can hold.
func OSC52(text []byte, mux string) []byte {
	b64 := base64.StdEncoding.EncodeToString(text)
	if mux != MuxScreen {
		return []byte("\x1b]52;c;" + b64 + "\x07")
	}
	var b strings.Builder
	b.WriteString("\x1bP\x1b]52;c;")
	for i := 0; i < len(b64); i += 76 {
		if i > 0 {
			b.WriteString("\x1b\\\x1bP")
		}
		b.WriteString(b64[i:min(i+76, len(b64))])
	}
	b.WriteString("\x07\x1b\\")
	return []byte(b.String())
}

// System copies with OSC 52 to Out, into tmux's buffer, and with Native.
type System struct {
	// Out is the terminal the program draws on; nil when it is not a
	// terminal. One Write per sequence.
	Out io.Writer
	Mux string // MuxTmux, MuxScreen or MuxNone: how OSC 52 is written
	// TmuxBuffer puts text in tmux's paste buffer; nil outside tmux.
	TmuxBuffer func([]byte) error
	// Native writes the desktop clipboard; nil when there is none.
	Native func(string) error
	// NoNative says why Native is nil.
	NoNative string
	Max      int // 0: MaxOSC52
}

// Auto is the clipboard for a program drawing on out: OSC 52 when out is a
// terminal (written for tmux when $TMUX is set, for screen when $STY is),
// tmux's paste buffer inside tmux, and the desktop clipboard when DISPLAY
// or WAYLAND_DISPLAY is set and the session is not over SSH.
func Auto(out io.Writer, terminal bool, getenv func(string) string) *System {
	s := &System{}
	switch {
	case getenv("TMUX") != "":
		s.Mux = MuxTmux
		if path, err := exec.LookPath("tmux"); err == nil {
			s.TmuxBuffer = func(text []byte) error { return tmuxLoad(path, text) }
		}
	case getenv("STY") != "":
		s.Mux = MuxScreen
	}
	if terminal {
		s.Out = out
	}
	switch {
	case !LocalDesktop(getenv):
		s.NoNative = "no local desktop clipboard (no DISPLAY, or over SSH)"
	case clipboard.Unsupported:
		s.NoNative = "no clipboard program (install wl-clipboard, xclip or xsel)"
	default:
		s.Native = clipboard.WriteAll
	}
	return s
}

// tmuxLoad runs tmux load-buffer with text on its standard input; -w
// (tmux 3.2 and later) also hands it on to the outer terminal's clipboard.
// tmux finds its server from $TMUX.
func tmuxLoad(path string, text []byte) error {
	run := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, args...)
		cmd.Stdin = bytes.NewReader(text)
		out, err := cmd.CombinedOutput()
		if err != nil {
			if msg := strings.TrimSpace(string(out)); msg != "" {
				return fmt.Errorf("%w: %s", err, msg)
			}
		}
		return err
	}
	if err := run("load-buffer", "-w", "-"); err != nil {
		if run("load-buffer", "-") == nil { // an older tmux, without -w
			return nil
		}
		return err
	}
	return nil
}

// LocalDesktop reports whether a desktop session on this machine is likely:
// a display is set and the session did not come in over SSH (where the
// desktop clipboard would be the remote host's, or none).
func LocalDesktop(getenv func(string) string) bool {
	display := getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
	ssh := getenv("SSH_CONNECTION") != "" || getenv("SSH_TTY") != ""
	return display && !ssh
}

// Copy puts text on every clipboard it can reach.
func (s *System) Copy(text []byte) Result {
	var r Result
	max := s.Max
	if max <= 0 {
		max = MaxOSC52
	}
	switch {
	case s.Out == nil:
		r.Problems = append(r.Problems, "the output is not a terminal (no OSC 52)")
	case len(text) > max:
		r.TooBig = true
		r.Problems = append(r.Problems, fmt.Sprintf("too large for the terminal clipboard (%d bytes; OSC 52 takes up to %d)", len(text), max))
	default:
		if _, err := s.Out.Write(OSC52(text, s.Mux)); err != nil {
			r.Problems = append(r.Problems, "terminal: "+err.Error())
		} else {
			r.Via = append(r.Via, ViaOSC52)
		}
	}
	switch {
	case s.TmuxBuffer != nil:
		if err := s.TmuxBuffer(text); err != nil {
			r.Problems = append(r.Problems, "tmux load-buffer: "+err.Error())
		} else {
			r.Via = append(r.Via, ViaTmux)
		}
	case s.Mux == MuxTmux:
		r.Problems = append(r.Problems, "inside tmux, but no tmux program to load its buffer with")
	}
	switch {
	case s.Native == nil:
		if s.NoNative != "" {
			r.Problems = append(r.Problems, s.NoNative)
		}
	default:
		if err := s.Native(string(text)); err != nil {
			r.Problems = append(r.Problems, "system clipboard: "+err.Error())
		} else {
			r.Via = append(r.Via, ViaNative)
		}
	}
	return r
}
