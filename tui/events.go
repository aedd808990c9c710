package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

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
