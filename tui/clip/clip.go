// Package clip puts text on the user's clipboard, the two ways a terminal
// program can: the terminal's own OSC 52 sequence (it works over SSH, and
// inside tmux when wrapped for it), and the desktop's clipboard through
// github.com/atotto/clipboard when a local desktop session is likely. It
// reports which ways were used and why the others were not, so the status
// bar can say so and the root can offer a file instead.
//
// OSC 52 gets no answer from the terminal: "sent" is all that can be known.
// It knows nothing of flows and imports no component.
package clip

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/atotto/clipboard"
)

// MaxOSC52 is the most text sent with OSC 52; some terminals drop longer
// sequences (the base64 form is a third longer).
const MaxOSC52 = 100_000

// Ways of copying, as Result names them.
const (
	ViaOSC52  = "terminal (OSC 52)"
	ViaNative = "system clipboard"
)

// Result says where a copy went and why it did not go elsewhere.
type Result struct {
	Via      []string
	Problems []string
	TooBig   bool // past MaxOSC52: the terminal was not asked
}

// OK reports whether the text went anywhere.
func (r Result) OK() bool { return len(r.Via) > 0 }

// OSC52 is the sequence asking the terminal to put text on its clipboard:
// ESC ] 52 ; c ; base64 BEL. Inside tmux it is wrapped in tmux's DCS
// passthrough, with the ESC inside doubled (tmux needs allow-passthrough or
// set-clipboard for it to reach the outer terminal).
func OSC52(text []byte, tmux bool) []byte {
	b64 := base64.StdEncoding.EncodeToString(text)
	seq := "\x1b]52;c;" + b64 + "\x07"
	if tmux {
		seq = "\x1bPtmux;\x1b" + seq + "\x1b\\"
	}
	return []byte(seq)
}

// System copies with OSC 52 to Out and with Native.
type System struct {
	// Out is the terminal the program draws on; nil when it is not a
	// terminal. One Write per sequence.
	Out  io.Writer
	Tmux bool // wrap for tmux
	// Native writes the desktop clipboard; nil when there is none.
	Native func(string) error
	// NoNative says why Native is nil.
	NoNative string
	Max      int // 0: MaxOSC52
}

// Auto is the clipboard for a program drawing on out: OSC 52 when out is a
// terminal (tmux-wrapped when $TMUX is set), and the desktop clipboard when
// DISPLAY or WAYLAND_DISPLAY is set and the session is not over SSH.
func Auto(out io.Writer, terminal bool, getenv func(string) string) *System {
	s := &System{Tmux: getenv("TMUX") != ""}
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
		if _, err := s.Out.Write(OSC52(text, s.Tmux)); err != nil {
			r.Problems = append(r.Problems, "terminal: "+err.Error())
		} else {
			r.Via = append(r.Via, ViaOSC52)
		}
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
