package tui

import (
	"context"
	"fmt"
	"sync/atomic"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// A filter that reads headers or bodies must read spooled flows back from
// disk: a million of them take tens of seconds. That reading runs off the
// UI goroutine (deepPass), and its answers are kept (deepCache) so that
// everything after it — the list's rebuilds for a mark toggle, a clear, a
// reset — asks the disk nothing. A spooled flow's summary never changes
// while it stays spooled, so an answer holds until the flow is spooled
// again (a spill event forgets it) or the filter changes.

// deepCache holds a deep filter's answers for spooled flows, by sequence
// number: two bits a flow.
type deepCache struct {
	known, yes bitset
}

type bitset []uint64

func (b bitset) has(i uint64) bool { return i/64 < uint64(len(b)) && b[i/64]&(1<<(i%64)) != 0 }

func (b *bitset) put(i uint64, v bool) {
	for uint64(len(*b)) <= i/64 {
		*b = append(*b, 0)
	}
	if v {
		(*b)[i/64] |= 1 << (i % 64)
	} else {
		(*b)[i/64] &^= 1 << (i % 64)
	}
}

func (c *deepCache) get(seq uint64) (match, ok bool) {
	if c == nil || !c.known.has(seq) {
		return false, false
	}
	return c.yes.has(seq), true
}

func (c *deepCache) put(seq uint64, match bool) {
	c.known.put(seq, true)
	c.yes.put(seq, match)
}

func (c *deepCache) forget(seq uint64) {
	if c != nil && c.known.has(seq) {
		c.known.put(seq, false)
	}
}

// deepDoneMsg brings a finished pass's answers.
type deepDoneMsg struct {
	gen   uint64
	cache *deepCache
	read  int
	err   int // flows that could not be read back
}

// deepPass reads every spooled flow among all back and matches it, on its
// own goroutine, reporting progress in done.
func deepPass(ctx context.Context, gen uint64, flt *filter.Filter, store *flowstore.Store, all []*flowstore.Summary, done *atomic.Int64) tea.Cmd {
	return func() tea.Msg {
		c := &deepCache{}
		msg := deepDoneMsg{gen: gen, cache: c}
		shallow := flt.Shallow()
		for _, s := range all {
			if !readsSpool(shallow, s) {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			f, ok := store.Get(s.ID)
			if !ok {
				if _, _, there := store.Peek(s.ID); !there {
					continue // deleted, cleared or evicted meanwhile: no error
				}
				msg.err++
			}
			c.put(s.Seq, ok && flt.Match(f))
			msg.read++
			done.Add(1)
		}
		return msg
	}
}

// readsSpool reports whether matching a filter (shallow or not) against
// a flow needs the flow read back from the spool.
func readsSpool(shallow bool, s *flowstore.Summary) bool {
	return s.Flow == nil && !(shallow && s.LiteExact())
}

// spooledToRead counts the spooled flows a filter would read back.
func spooledToRead(flt *filter.Filter, all []*flowstore.Summary) int {
	shallow, n := flt.Shallow(), 0
	for _, s := range all {
		if readsSpool(shallow, s) {
			n++
		}
	}
	return n
}

// applyFilter sets the list's filter: at once when it needs nothing from
// the spool, else after a pass over the spool in the background, keeping
// the list as it is meanwhile.
func (m *Model) applyFilter(f *filter.Filter) tea.Cmd {
	m.filter = f
	m.deepGen++
	if m.deepCancel != nil {
		m.deepCancel()
		m.deepCancel = nil
	}
	m.deepRead, m.deepTotal, m.deepDirty = nil, 0, nil
	m.deep = &deepCache{} // filled as the list asks, on this goroutine
	m.list.SetEmptyText(m.emptyText())
	all := m.store.Summaries()
	if !f.Empty() {
		if n := spooledToRead(f, all); n > 0 {
			ctx, cancel := context.WithCancel(m.ctx)
			m.deepCancel = cancel
			m.deepTotal, m.deepRead = n, &atomic.Int64{}
			m.deepDirty = map[uint64]bool{}
			return tea.Batch(
				m.status.Flash(fmt.Sprintf("filter: %s: reading %d older flows back…", f, n), false),
				deepPass(ctx, m.deepGen, f, m.store, all, m.deepRead))
		}
	}
	m.list.SetFilter(m.matcher(), all)
	if f.Empty() {
		return m.status.Flash("filter cleared", false)
	}
	return m.status.Flash(fmt.Sprintf("filter: %s (%d of %d flows)", f, m.list.Len(), m.store.Len()), false)
}

// deepDone applies a finished pass, unless the filter changed since.
func (m *Model) deepDone(msg deepDoneMsg) tea.Cmd {
	if msg.gen != m.deepGen {
		return nil
	}
	// Flows spooled anew while the pass ran may have changed since it read
	// them: what was learnt of them meanwhile wins, or nothing is known.
	for seq := range m.deepDirty {
		if match, ok := m.deep.get(seq); ok {
			msg.cache.put(seq, match)
		} else {
			msg.cache.forget(seq)
		}
	}
	m.deepCancel, m.deepRead, m.deepTotal, m.deepDirty = nil, nil, 0, nil
	m.deep = msg.cache
	m.list.SetFilter(m.matcher(), m.store.Summaries())
	note := ""
	if msg.err > 0 {
		note = fmt.Sprintf("; %d spooled flows could not be read", msg.err)
	}
	return m.status.Flash(fmt.Sprintf("filter: %s (%d of %d flows%s)", m.filter, m.list.Len(), m.store.Len(), note), msg.err > 0)
}

// deepProgress is the running pass's progress for the status line, "" when
// none runs.
func (m *Model) deepProgress() string {
	if m.deepRead == nil || m.deepTotal == 0 {
		return ""
	}
	return fmt.Sprintf("filtering %d%%", m.deepRead.Load()*100/int64(m.deepTotal))
}

// noteSpooled keeps the deep filter's answers right for a flow that is now
// spooled: the snapshot that went to the spool is usually still at hand in
// the event, and matching it now spares a read from disk later (a mark
// toggle or a clear rebuilds the whole list).
func (m *Model) noteSpooled(ev flowstore.Event) {
	if m.deep == nil || m.filter.Empty() {
		return
	}
	seq := ev.Summary.Seq
	if m.deepDirty != nil {
		m.deepDirty[seq] = true
	}
	if ev.Flow != nil {
		m.deep.put(seq, m.filter.Match(ev.Flow))
	} else {
		m.deep.forget(seq)
	}
}

// refilter starts a fresh pass when the store had to be re-read (events
// were dropped) under a filter that reads spooled flows: answers may be
// stale and missing, and reading them on this goroutine would freeze it.
// It reports false when the list can simply be rebuilt.
func (m *Model) refilter(all []*flowstore.Summary) (tea.Cmd, bool) {
	if m.filter.Empty() || spooledToRead(m.filter, all) == 0 {
		return nil, false
	}
	return m.applyFilter(m.filter), true
}
