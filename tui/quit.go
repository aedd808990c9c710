package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

// DefaultResumeWait is how long "resume them and quit" waits, at most, for
// the flows it resumed to finish before the program ends.
const DefaultResumeWait = 5 * time.Second

// resumedDoneMsg ends the wait of "resume them and quit"; left flows had
// not finished by then.
type resumedDoneMsg struct{ left int }

// requestQuit quits at once unless something would be lost or always is
// set, and asks then: with flows paused, whether to resume them all or kill
// them all.
func (m *Model) requestQuit(always bool) tea.Cmd {
	paused := len(m.flows.Paused()) // the last wake-up may be a frame old
	var lost []string
	if n := m.flows.Counts().Marked; n > 0 {
		lost = append(lost, fmt.Sprintf("%d marked flow(s) will be lost", n))
	}
	if n := paused; n > 0 && m.engine != nil {
		label := fmt.Sprintf("Quit? %d paused flow(s) wait", n)
		if len(lost) > 0 {
			label += "; " + strings.Join(lost, ", ")
		}
		m.prompt.Open(prompt.Spec{Tag: tagQuitPaused, Label: label + ":", Choices: []prompt.Choice{
			{Key: "r", Label: "resume them and quit"}, {Key: "k", Label: "kill them and quit"}}})
		return nil
	}
	if len(lost) == 0 && !always {
		return m.quit()
	}
	label := "Quit interceptor-tui?"
	if len(lost) > 0 {
		label = "Quit? " + strings.Join(lost, ", ") + "."
	}
	m.prompt.Open(prompt.Spec{Tag: tagQuit, Confirm: true, Label: label})
	return nil
}

// resumeAndQuit resumes every paused flow and quits once they have
// finished, or after the bounded wait: quitting at once would stop the
// proxy under them, and their clients would get nothing.
func (m *Model) resumeAndQuit() tea.Cmd {
	ids := m.flows.Paused()
	// A breakpoint on both phases would pause a resumed flow again at its
	// response, and the exit would kill it there: breakpoints go off first.
	m.engine.SetIntercepting(false)
	n := m.engine.ResumeAll()
	m.quitting = true
	eng, store, ctx, limit := m.engine, m.store, m.ctx, m.resumeWait
	wait := func() tea.Msg { return resumedDoneMsg{left: waitFinished(ctx, store, eng, ids, limit)} }
	text := fmt.Sprintf("resumed %d flow(s); quitting when they have finished (at most %s; ctrl+c quits now)…", n, flowstore.FormatDuration(limit))
	m.status.Flash(text, false) // its clearing is not armed: it stays until the end
	return wait
}

// waitFinished waits, at most limit, until none of the flows ids is still
// in flight, and says how many still are. A flow that pauses again (it was
// past its breakpoint check when the breakpoints went off) is resumed again.
func waitFinished(ctx context.Context, store *flowstore.Store, eng Engine, ids []string, limit time.Duration) int {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		left, paused := 0, false
		for _, id := range ids {
			f, sum, ok := store.Peek(id)
			var st flowstore.State
			switch {
			case !ok:
				continue // gone from the store: nothing to wait for
			case f != nil:
				st = f.State
			default:
				st = sum.State
			}
			if st.Final() {
				continue
			}
			left++
			paused = paused || st == flowstore.StatePaused
		}
		if left == 0 {
			return 0
		}
		if paused {
			eng.ResumeAll()
		}
		select {
		case <-ctx.Done():
			return left
		case <-deadline.C:
			return left
		case <-poll.C:
		}
	}
}
