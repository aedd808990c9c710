package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
)

// Events in: the store's and the event log's news, coalesced to one
// wake-up a frame at most and folded into the View, the list and the open
// flow; and a one-second tick while flows are paused, a spool is on or a
// filter's pass runs.

// frame is the shortest time between two wake-ups from the store: no more
// than ~30 repaints a second come from traffic, however fast flows arrive.
const frame = 33 * time.Millisecond

// wakeMsg carries what changed since the last wake-up.
type wakeMsg struct {
	events []flowstore.Event
	reset  bool // too many events piled up: re-read the store
	log    bool // the event log has new entries
	at     time.Time
}

// waitForChanges returns a command that blocks until the store or the
// event log has news, waits out the rest of the frame since last so bursts
// coalesce, drains, and returns one message. Update re-arms it. Writers are
// never blocked: the store and the log only set a flag for us.
func waitForChanges(ctx context.Context, sub *flowstore.Subscription, lg *flowstore.EventLog, last time.Time) tea.Cmd {
	return func() tea.Msg {
		logC := lg.C()
		gotLog := false
		select {
		case <-ctx.Done():
			return nil
		case <-sub.C:
		case <-logC:
			gotLog = true
		}
		if d := time.Until(last.Add(frame)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		// Take the wake-up tokens before reading, so a change made while
		// we read leaves a token for the next round.
		select {
		case <-sub.C:
		default:
		}
		select {
		case <-logC:
			gotLog = true
		default:
		}
		evs, reset := sub.Drain()
		return wakeMsg{events: evs, reset: reset, log: gotLog, at: time.Now()}
	}
}

// wake folds a batch of store changes into the list, the open flow and the
// counters, and re-arms the wait.
func (m *Model) wake(msg wakeMsg) tea.Cmd {
	var cmds []tea.Cmd
	if msg.reset {
		if p := m.flows.Resync(m.ctx); p != nil {
			cmds = append(cmds, m.filterPass(p))
		} else {
			m.list.Rebuilt()
		}
	} else {
		m.list.Applied(m.flows.Apply(msg.events))
	}
	if f := m.view.Flow(); f != nil {
		// The view keeps the flow it shows; when that one is spooled it is
		// still the latest, and reading it back each frame would be waste.
		if g, _, ok := m.store.Peek(f.ID); ok && g != nil && g != f {
			cmds = append(cmds, m.view.SetFlow(g))
		}
	}
	cmds = append(cmds, m.noteRepaused())
	if msg.log {
		cmds = append(cmds, m.readLog())
	}
	if m.focus == focusRules {
		m.refreshRules() // hit counts move as mocks answer
	}
	cmds = append(cmds, m.armTick())
	cmds = append(cmds, waitForChanges(m.ctx, m.sub, m.log, msg.at))
	return tea.Batch(cmds...)
}

// readLog shows new event log entries and flashes the newest error.
func (m *Model) readLog() tea.Cmd {
	es := m.log.Entries()
	m.elog.SetEntries(es)
	var cmd tea.Cmd
	for _, e := range es {
		if e.Seq > m.logSeq && e.Level == flowstore.LevelError {
			cmd = m.status.Flash(e.Source+": "+e.Msg, true)
		}
	}
	if n := len(es); n > 0 {
		m.logSeq = es[n-1].Seq
	}
	return cmd
}

// tickMsg moves the clock paused flows count with, and samples memory.
type tickMsg struct{}

// tick samples memory and says how far a filter's pass has read.
func (m *Model) tick() tea.Cmd {
	m.ticking = false
	m.mem = statusbar.ReadMemory(m.store.Stats())
	var cmd tea.Cmd
	if p := m.filtering(); p != "" {
		_, total := m.flows.Progress()
		cmd = m.status.Flash(p+" of "+statusbar.Thousands(total)+" older flows…", false)
	}
	return tea.Batch(cmd, m.armTick())
}

// armTick starts a one-second tick while flows are paused or a spool is
// on, and none is armed; each tick re-arms it while either holds.
func (m *Model) armTick() tea.Cmd {
	_, filtering := m.flows.Progress()
	paused := m.flows.Counts().Paused > 0
	if !paused && m.mem == nil && filtering == 0 { // mem: sampled since New
		return nil
	}
	if paused {
		m.nowT = m.clock()
		m.list.SetNow(m.nowT)
		m.view.SetNow(m.nowT)
	}
	if m.ticking {
		return nil
	}
	m.ticking = true
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}
