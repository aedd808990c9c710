package tui

import (
	"context"
	"errors"
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// RunOption adjusts the program Run starts (tests and embedding).
type RunOption func(*[]tea.ProgramOption)

// WithIO runs the program on other input and output than the terminal.
func WithIO(in io.Reader, out io.Writer) RunOption {
	return func(o *[]tea.ProgramOption) { *o = append(*o, tea.WithInput(in), tea.WithOutput(out)) }
}

// Run shows the TUI until the user quits or ctx is cancelled (cmd cancels
// it on SIGTERM). It takes the alternate screen and the mouse (cell
// motion), and gives the terminal back as it found it on every way out,
// panics included (Bubble Tea restores it before re-raising). A
// cancelled ctx is a clean exit, not an error.
func Run(ctx context.Context, opts Options, ro ...RunOption) error {
	m, err := New(opts)
	if err != nil {
		return err
	}
	defer m.shutdown()
	po := []tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithContext(ctx)}
	for _, o := range ro {
		o(&po)
	}
	_, err = tea.NewProgram(m, po...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil && !errors.Is(err, tea.ErrProgramPanic) {
		return nil
	}
	return err
}
