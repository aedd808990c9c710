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
		if d, ok := msg.(passDoneMsg); ok {
			m.passDone(d)
		}
	}
	m.saveFlows("", "s")
	if m.job == nil || m.job.Chosen() != m.flows.Len() || m.flows.Len() != 2000 {
		t.Fatalf("save shown after the pass: job %+v, %d rows", m.job, m.flows.Len())
	}
}
