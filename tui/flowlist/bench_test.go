package flowlist_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

// bigStore holds n varied flows.
func bigStore(b *testing.B, n int) *flowstore.Store {
	b.Helper()
	s := flowstore.NewStore(0)
	methods := []string{"GET", "POST", "PUT", "DELETE"}
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		fs[i] = flowtest.New(
			flowtest.URL(fmt.Sprintf("https://api%d.example.com/v1/items/%d?q=%d", i%50, i, i%13)),
			flowtest.Method(methods[i%4]), flowtest.Status(200+(i%5)*100), flowtest.At(time.Duration(i)*time.Millisecond))
	}
	s.AddAll(fs)
	return s
}

// colour makes the benchmark pay for styling, as a real terminal does.
func colour(b *testing.B) *theme.Styles {
	lipgloss.SetColorProfile(termenv.TrueColor)
	b.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	return theme.Default().Styles()
}

func BenchmarkView100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m := newList(200, 60)
	m.Reset(s.Summaries())
	m, _ = press(m, "G")
	colour(b)
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkKeyAndView100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m := newList(200, 60)
	m.Reset(s.Summaries())
	colour(b)
	down, up := tea.KeyMsg{Type: tea.KeyDown}, tea.KeyMsg{Type: tea.KeyUp}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		k := down
		if i%200 >= 100 {
			k = up
		}
		i++
		m, _ = m.Update(k)
		_ = m.View()
	}
}

func BenchmarkFilterFunc100k(b *testing.B) {
	s := bigStore(b, 100_000)
	all := s.Summaries()
	m := newList(200, 60)
	match := func(f *flowstore.Summary) bool { return strings.Contains(f.Host, "api7") }
	b.ResetTimer()
	for b.Loop() {
		m.SetFilter(match, all)
	}
}

func BenchmarkReorder100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m := newList(200, 60)
	m.Reset(s.Summaries())
	b.ResetTimer()
	for b.Loop() {
		m, _ = press(m, "o")
	}
}

// BenchmarkApplyBatch is one coalesced drain under 2 000 flows/s: about 66
// new flows and 66 updated ones per 33 ms frame, over 100 000 shown flows.
func BenchmarkApplyBatch(b *testing.B) {
	s := bigStore(b, 100_000)
	sub := s.Subscribe()
	m := newList(200, 60)
	m.Reset(s.Summaries())
	all := s.Summaries()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		for j := range 66 {
			s.Add(flowtest.New(flowtest.NoResponse()))
			s.Update(all[(i*66+j)%len(all)].ID, func(f *flowstore.Flow) { f.Comment = "x" })
		}
		evs, _ := sub.Drain()
		b.StartTimer()
		m.Apply(evs)
	}
}

// BenchmarkPageAndView100k is the worst frame: every row on screen is new,
// so none comes from the row cache.
func BenchmarkPageAndView100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m := newList(200, 60)
	m.Reset(s.Summaries())
	colour(b)
	pg := tea.KeyMsg{Type: tea.KeyPgDown}
	for b.Loop() {
		m, _ = m.Update(pg)
		_ = m.View()
	}
}
