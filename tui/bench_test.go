package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/muesli/termenv"
)

// benchModel is the whole TUI over 100 000 varied flows, on a 200×60
// screen, drawing in true colour as a real terminal would.
func benchModel(b *testing.B) (*Model, *flowstore.Store) {
	b.Helper()
	s := flowstore.NewStore(0)
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	types := []string{"application/json", "text/html", "image/png", "text/plain"}
	fs := make([]*flowstore.Flow, 100_000)
	for i := range fs {
		fs[i] = flowtest.New(
			flowtest.URL(fmt.Sprintf("https://api%d.example.com/v1/items/%d?q=%d", i%50, i, i%13)),
			flowtest.Method(methods[i%4]), flowtest.Status(200+(i%5)*100),
			flowtest.RespBody(types[i%4], []byte(fmt.Sprintf(`{"id":%d,"name":"item %d"}`, i, i))),
			flowtest.At(time.Duration(i)*time.Millisecond))
	}
	s.AddAll(fs)
	m, err := New(Options{Store: s})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.shutdown)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	lipgloss.SetColorProfile(termenv.TrueColor)
	b.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	return m, s
}

// BenchmarkView100k: one frame of the flow list with 100 000 flows.
func BenchmarkView100k(b *testing.B) {
	m, _ := benchModel(b)
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkFilter100k: applying a filter typed at the prompt, over 100 000
// flows: parse, match every flow, rebuild the list's view.
func BenchmarkFilter100k(b *testing.B) {
	for _, expr := range []string{"~d api7 & ~m GET", "~u items/9 | ~c 404", "!~t json", "~bs \"item 4\"", ""} {
		b.Run(expr, func(b *testing.B) {
			m, _ := benchModel(b)
			for b.Loop() {
				m.Update(prompt.SubmitMsg{Tag: tagFilter, Value: expr})
			}
		})
	}
}

// BenchmarkKeyDuringTraffic: a frame under 2 000 flows/s of traffic (66
// new and 66 finished flows folded in) plus a key press and its repaint.
func BenchmarkKeyDuringTraffic(b *testing.B) {
	m, s := benchModel(b)
	sub := s.Subscribe()
	defer sub.Close()
	var live []string
	down := tea.KeyMsg{Type: tea.KeyDown}
	for b.Loop() {
		b.StopTimer()
		for _, id := range live {
			s.Update(id, func(f *flowstore.Flow) { f.State = flowstore.StateDone; f.Response = &flowstore.Response{Status: 200} })
		}
		live = live[:0]
		for range 66 {
			live = append(live, s.Add(flowtest.New(flowtest.NoResponse())).ID)
		}
		evs, _ := sub.Drain()
		b.StartTimer()
		m.Update(wakeMsg{events: evs, at: time.Now()})
		m.Update(down)
		_ = m.View()
	}
}
