// Package editor runs the user's text editor on a message, the way git and
// mitmproxy do: the text goes to a temporary file, $EDITOR (then $VISUAL,
// then vi) edits it with the terminal handed over (tea.ExecProcess), and
// what was saved comes back as a DoneMsg tagged for the root.
//
// The editor variable may hold arguments ("code --wait", "emacs -nw"); it
// is split with shell-word rules (Split), never run through a shell. While
// the editor runs, Bubble Tea's loop waits; the proxy does not, since
// nothing in the proxy waits on the UI.
//
// It knows nothing of HTTP and imports no other component.
package editor

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// DoneMsg is what the editor left in the file. Err is set when the editor
// could not start, exited with an error, or the file could not be read;
// Text is what could be read even then.
type DoneMsg struct {
	Tag     string
	Text    []byte
	Changed bool // Text differs from what was given
	Err     error
}

// Command is the editor to run, split into words: $EDITOR, then $VISUAL,
// then vi. getenv is os.Getenv outside tests.
func Command(getenv func(string) string) ([]string, error) {
	for _, name := range []string{"EDITOR", "VISUAL"} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		words, err := Split(v)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", name, err)
		}
		if len(words) > 0 {
			return words, nil
		}
	}
	return []string{"vi"}, nil
}

// Edit writes text to a new temporary file whose name follows pattern (as
// os.CreateTemp takes it: "request-*.http"), runs the editor on it, and
// returns the result as a DoneMsg carrying tag. The file is private to the
// user and removed afterwards.
func Edit(tag, pattern string, text []byte) tea.Cmd {
	fail := func(err error) tea.Cmd {
		return func() tea.Msg { return DoneMsg{Tag: tag, Text: text, Err: err} }
	}
	argv, err := Command(os.Getenv)
	if err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return fail(fmt.Errorf("temporary file: %w", err))
	}
	path := f.Name()
	_, werr := f.Write(text)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fail(fmt.Errorf("temporary file: %w", werr))
	}
	c := exec.Command(argv[0], append(argv[1:], path)...)
	return tea.ExecProcess(c, func(runErr error) tea.Msg {
		defer os.Remove(path)
		msg := DoneMsg{Tag: tag, Text: text}
		out, rerr := os.ReadFile(path)
		if rerr == nil {
			msg.Text, msg.Changed = out, string(out) != string(text)
		}
		switch {
		case runErr != nil:
			msg.Err = describe(argv[0], runErr)
		case rerr != nil:
			msg.Err = fmt.Errorf("read back the edited file: %w", rerr)
		}
		return msg
	})
}

func describe(name string, err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("the editor (%s) exited with %v", name, ee.ProcessState)
	}
	return fmt.Errorf("cannot run the editor %q (set $EDITOR): %w", name, err)
}

// Split splits a command line into words as a POSIX shell would, without
// any expansion: blanks separate words; 'single quotes' keep everything;
// "double quotes" keep everything but a backslash before " \ $ ` or a
// newline; elsewhere a backslash keeps the next character.
func Split(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	const (
		plain = iota
		single
		double
	)
	state := plain
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch state {
		case single:
			if r == '\'' {
				state = plain
			} else {
				w.WriteRune(r)
			}
		case double:
			switch {
			case r == '"':
				state = plain
			case r == '\\' && i+1 < len(rs) && strings.ContainsRune("\"\\$`\n", rs[i+1]):
				i++
				if rs[i] != '\n' {
					w.WriteRune(rs[i])
				}
			default:
				w.WriteRune(r)
			}
		default:
			switch {
			case r == ' ' || r == '\t' || r == '\n':
				if inWord {
					words = append(words, w.String())
					w.Reset()
					inWord = false
				}
				continue
			case r == '\'':
				state = single
			case r == '"':
				state = double
			case r == '\\':
				if i+1 >= len(rs) {
					return nil, errors.New("a backslash at the end")
				}
				i++
				if rs[i] != '\n' {
					w.WriteRune(rs[i])
				}
			default:
				w.WriteRune(r)
			}
			inWord = true
		}
	}
	switch state {
	case single:
		return nil, errors.New("a single quote is not closed")
	case double:
		return nil, errors.New("a double quote is not closed")
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
