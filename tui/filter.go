package tui

import (
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

// The list's filter (f). The View applies it; a filter that must read
// spooled flows back does so in a pass run here off the UI goroutine,
// while the list keeps its rows and the status line its progress.

// passDoneMsg brings a finished pass's answers to the View.
type passDoneMsg struct{ r *view.Result }

// applyFilter sets the list's filter: at once when it needs nothing from
// the spool, else after a pass over the spool in the background.
func (m *Model) applyFilter(f *filter.Filter) tea.Cmd {
	if p := m.flows.SetFilter(m.ctx, f); p != nil {
		return m.filterPass(p)
	}
	m.list.SetEmptyText(m.emptyText())
	m.list.Rebuilt()
	if f.Empty() {
		return m.status.Flash("filter cleared", false)
	}
	c := m.flows.Counts()
	return m.status.Flash(fmt.Sprintf("filter: %s (%d of %d flows)", f, c.Shown, c.Total), false)
}

// filterPass runs a pass off the UI goroutine, saying so.
func (m *Model) filterPass(p *view.Pass) tea.Cmd {
	m.list.SetEmptyText(m.emptyText())
	run := func() tea.Msg {
		if r := p.Run(); r != nil {
			return passDoneMsg{r}
		}
		return nil
	}
	return tea.Batch(m.status.Flash(fmt.Sprintf("filter: %s: reading %d older flows back…", m.flows.Filter(), p.Total), false), run)
}

// passDone applies a finished pass, unless the filter changed since.
func (m *Model) passDone(msg passDoneMsg) tea.Cmd {
	if !m.flows.Finish(msg.r) {
		return nil
	}
	m.list.Rebuilt()
	note := ""
	if n := msg.r.Unreadable; n > 0 {
		note = fmt.Sprintf("; %d spooled flows could not be read", n)
	}
	c := m.flows.Counts()
	return m.status.Flash(fmt.Sprintf("filter: %s (%d of %d flows%s)", m.flows.Filter(), c.Shown, c.Total, note), msg.r.Unreadable > 0)
}

// filtering is the running pass's progress for the status line, "" when
// none runs.
func (m *Model) filtering() string {
	read, total := m.flows.Progress()
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("filtering %d%%", read*100/total)
}

func validateFilter(s string) *prompt.Problem {
	_, err := filter.Parse(s)
	if err == nil {
		return nil
	}
	var pe *filter.ParseError
	if errors.As(err, &pe) {
		return &prompt.Problem{Pos: pe.Pos, Msg: pe.Msg}
	}
	return &prompt.Problem{Pos: -1, Msg: err.Error()}
}
