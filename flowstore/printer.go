package flowstore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// What headless mode prints: a line per finished flow (Printer) and the
// event log (EventLog.PrintTo).

// printEvery is how long the printer lets finished flows gather before it
// writes them: a person still sees each line at once, and a busy proxy
// does one write for many flows (see FollowEvery).
const printEvery = 20 * time.Millisecond

// Printer writes FormatLine's line for each finished flow that its match
// accepts, in the order they finish.
type Printer struct {
	sub   *Subscription
	out   *bufio.Writer
	match func(*Flow) bool
}

// NewPrinter subscribes to store's finished flows at once, so that none
// that finishes before Run starts is missed. match picks the flows to print
// (nil: all). If whoever reads w falls so far behind that flows are
// dropped, log (if not nil) says how many.
func NewPrinter(store *Store, w io.Writer, match func(*Flow) bool, log *EventLog) *Printer {
	sub := store.SubscribeTo(EventFinished)
	if log != nil {
		sub.Lost = func(n int) {
			log.Add(LevelWarn, "headless", "", fmt.Sprintf("%d finished flows were not printed: whoever reads the output fell too far behind (they are still in the store)", n))
		}
	}
	return &Printer{sub: sub, out: bufio.NewWriter(w), match: match}
}

// Run prints until ctx is done, then prints what is left and returns.
func (p *Printer) Run(ctx context.Context) {
	var line []byte
	p.sub.FollowEvery(ctx, printEvery, func(batch []*Flow) {
		for _, f := range batch {
			if p.match == nil || p.match(f) {
				line = append(AppendLine(line[:0], f), '\n')
				_, _ = p.out.Write(line)
			}
		}
		// Flush per batch: whoever reads sees each line within moments,
		// with one write for many flows.
		_ = p.out.Flush()
	})
}

// PrintTo makes every entry of the log at level least or above go to w too,
// one line each (LogEntry.String, control bytes escaped), one entry at a
// time however many goroutines log.
func (l *EventLog) PrintTo(w io.Writer, least Level) {
	var mu sync.Mutex
	l.Tee(func(e LogEntry) {
		if e.Level < least {
			return
		}
		mu.Lock()
		fmt.Fprintln(w, e.String())
		mu.Unlock()
	})
}
