package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
)

// RunOption adjusts the program Run starts (tests and embedding).
type RunOption func(*runConfig)

type runConfig struct {
	in  io.Reader
	out io.Writer
}

// WithIO runs the program on other input and output than the terminal.
func WithIO(in io.Reader, out io.Writer) RunOption {
	return func(c *runConfig) { c.in, c.out = in, out }
}

// termOut is the terminal with its writes serialized: Bubble Tea's
// renderer writes each frame in one Write, and the clipboard's OSC 52
// sequence goes through the same lock, so neither lands inside the other.
// It is still a term.File, so Bubble Tea sees the terminal it is.
type termOut struct {
	*os.File
	mu sync.Mutex
}

func (t *termOut) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.File.Write(p)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Run shows the TUI until the user quits or ctx is cancelled (cmd cancels
// it on SIGTERM). It takes the alternate screen and the mouse (cell
// motion), and gives the terminal back as it found it on every way out,
// panics included (Bubble Tea restores it before re-raising). A
// cancelled ctx is a clean exit, not an error. Without a Clipboard in opts
// it copies with OSC 52 to the terminal (and the desktop clipboard when
// one is local).
func Run(ctx context.Context, opts Options, ro ...RunOption) error {
	var rc runConfig
	for _, o := range ro {
		o(&rc)
	}
	var out io.Writer
	terminal := false
	if rc.out == nil {
		out = &termOut{File: os.Stdout}
		terminal = isTerminal(os.Stdout)
	} else {
		out = &lockedWriter{w: rc.out}
	}
	if opts.Clipboard == nil {
		opts.Clipboard = clip.Auto(out, terminal, os.Getenv)
	}
	m, err := New(opts)
	if err != nil {
		return err
	}
	defer m.shutdown()
	m.mouse = true
	po := []tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx), tea.WithOutput(out)}
	if rc.in != nil {
		po = append(po, tea.WithInput(rc.in))
	}
	_, err = tea.NewProgram(m, po...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic) {
		return nil
	}
	return err
}
