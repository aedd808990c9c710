package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

var pad = strings.Repeat(".", 10<<10)

func spoolStore(t testing.TB) *flowstore.Store {
	s := flowstore.NewStore(0)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addFlows(s *flowstore.Store, from, n int, text string) []*flowstore.Flow {
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		fs[i] = flowtest.New(flowtest.URL(fmt.Sprintf("https://api.example.com/item/%d", from+i)),
			flowtest.RespBody("text/plain", []byte(text+"\n"+pad)))
	}
	s.AddAll(fs)
	return fs
}

func waitSpooled(t testing.TB, s *flowstore.Store, id string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, _, ok := s.Peek(id); ok && f == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow %s not spooled: %+v", id, s.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// spooledModel is a TUI over 2 000 flows, the first of them spooled.
func spooledModel(t testing.TB) (*Model, *flowstore.Store, []*flowstore.Flow) {
	s := spoolStore(t)
	fs := addFlows(s, 0, 2000, "x")
	waitSpooled(t, s, fs[0].ID)
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return m, s, fs
}

func drainInto(m *Model) {
	evs, reset := m.sub.Drain()
	m.wake(wakeMsg{events: evs, reset: reset})
}

// runBatch runs a command and every command a batch holds, returning the
// messages.
func runBatch(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runBatch(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// A deep filter's pass is cancelled by a shallow filter or a clear; its
// progress goes with it.
func TestDeepPassProgressGoesWithCancel(t *testing.T) {
	m, _, _ := spooledModel(t)
	m.status.SetWidth(200)
	_ = m.applyFilter(filter.MustParse("~bs needle")) // pass starts (not run here)
	_ = m.applyFilter(filter.MustParse(""))           // user clears the filter
	if p := m.deepProgress(); p != "" {
		m.update(tickMsg{})
		t.Fatalf("after the pass was cancelled the status still says %q; flash now: %q", p, m.status.Flashing())
	}
}

// A clear during a pass is no error: flows that are gone are not
// unreadable.
func TestDeepPassClearIsNoError(t *testing.T) {
	m, _, _ := spooledModel(t)
	m.status.SetWidth(200)
	cmd := m.applyFilter(filter.MustParse("~bs needle"))
	m.submit(promptSubmit(tagClear, ""))
	for _, msg := range runBatch(cmd) {
		if d, ok := msg.(deepDoneMsg); ok {
			m.deepDone(d)
			if d.err > 0 {
				t.Fatalf("cleared flows reported as unreadable: %q", m.status.Flashing())
			}
		}
	}
}

// A flow the pass read, then marked (brought home) and spooled again before
// the pass ended, is judged as it is now, not by the pass's answer.
func TestDeepPassAnswerForAFlowChangedMeanwhile(t *testing.T) {
	m, s, fs := spooledModel(t)
	x := fs[0].ID
	cmd := m.applyFilter(filter.MustParse("~marked | ~bs needle"))
	var done deepDoneMsg
	for _, msg := range runBatch(cmd) { // the pass reads x now, unmarked
		if d, ok := msg.(deepDoneMsg); ok {
			done = d
		}
	}
	m.intent(flowlist.MarkMsg{ID: x, Marked: true}) // brings x home, marked
	addFlows(s, 2000, 300, "y")                     // traffic: x is spooled again
	waitSpooled(t, s, x)
	drainInto(m)
	m.deepDone(done)
	for _, sm := range m.list.Flows() {
		if sm.ID == x {
			return
		}
	}
	t.Fatalf("marked flow %s is hidden by filter ~marked|… (list has %d flows)", x, m.list.Len())
}

// Flows spooled after a deep filter took effect get their answers from the
// snapshot that went to the spool, so the next rebuild (M, a clear, a
// reset) reads nothing back on the UI goroutine.
func TestDeepFilterKnowsFlowsSpooledLater(t *testing.T) {
	s := spoolStore(t)
	m, err := New(Options{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.applyFilter(filter.MustParse("~bs needle")) // nothing spooled: no pass
	const n = 20000
	fs := addFlows(s, 0, n, "x")
	drainInto(m) // the list sees the flows while they are in memory
	waitSpooled(t, s, fs[n/2].ID)
	// Hand the UI the spill events, as its wake-ups would, until the
	// spiller has finished: on a loaded machine it can rest longer than
	// any fixed pause, so the test waits for the cache, not for a quiet
	// moment. A cache that spill events do not fill never catches up.
	miss := 0
	for deadline := time.Now().Add(20 * time.Second); ; {
		time.Sleep(100 * time.Millisecond)
		drainInto(m)
		miss = 0
		for _, sm := range s.Summaries() {
			if sm.Flow == nil {
				if _, ok := m.deep.get(sm.Seq); !ok {
					miss++
				}
			}
		}
		if miss == 0 || time.Now().After(deadline) {
			break
		}
	}
	t0 := time.Now()
	m.intent(flowlist.MarkedOnlyMsg{On: true})
	m.intent(flowlist.MarkedOnlyMsg{On: false})
	t.Logf("spooled flows unknown to the cache: %d; M M took %v on the UI goroutine", miss, time.Since(t0))
	if miss > 0 {
		t.Fatalf("%d spooled flows will be read back synchronously by the next rebuild", miss)
	}
}

func promptSubmit(tag, v string) prompt.SubmitMsg { return prompt.SubmitMsg{Tag: tag, Value: v} }

// A flow marked and spooled again before the pass starts shows.
func TestDeepPassAfterAMark(t *testing.T) {
	m, s, fs := spooledModel(t)
	x := fs[0].ID
	m.intent(flowlist.MarkMsg{ID: x, Marked: true})
	addFlows(s, 2000, 300, "y")
	waitSpooled(t, s, x)
	drainInto(m)
	for _, msg := range runBatch(m.applyFilter(filter.MustParse("~marked | ~bs needle"))) {
		if d, ok := msg.(deepDoneMsg); ok {
			m.deepDone(d)
		}
	}
	if m.list.Len() != 1 {
		t.Fatalf("control: list has %d", m.list.Len())
	}
}

// While a deep filter's pass runs the list still shows the previous
// filter's rows: saving "shown" then would save the wrong flows.
func TestSaveShownWaitsForTheDeepPass(t *testing.T) {
	m, _, _ := spooledModel(t)
	m.status.SetWidth(200)
	cmd := m.applyFilter(filter.MustParse("~bs x")) // pass started, not finished
	m.saveFlows("", "s")
	if m.job != nil || !strings.Contains(m.status.Flashing(), "still being applied") {
		t.Fatalf("save shown during the pass: job %+v, flash %q", m.job, m.status.Flashing())
	}
	for _, msg := range runBatch(cmd) {
		if d, ok := msg.(deepDoneMsg); ok {
			m.deepDone(d)
		}
	}
	m.saveFlows("", "s")
	if m.job == nil || m.job.chosen != m.list.Len() || m.list.Len() != 2000 {
		t.Fatalf("save shown after the pass: job %+v, %d rows", m.job, m.list.Len())
	}
}
