package tui

import (
	"context"
	"errors"
	"io"
	"os"

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
	// The clipboard writes to the same terminal: one lock for both.
	var out io.Writer
	terminal := false
	if rc.out == nil {
		out, terminal = clip.Terminal(os.Stdout)
	} else {
		out = clip.Locked(rc.out)
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
