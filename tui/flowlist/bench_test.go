package flowlist_test

import (
	"fmt"
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
	m, _ := newList(s, 200, 60)
	m, _ = press(m, "G")
	colour(b)
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkKeyAndView100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m, _ := newList(s, 200, 60)
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

func BenchmarkReorder100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m, _ := newList(s, 200, 60)
	b.ResetTimer()
	for b.Loop() {
		m, _ = press(m, "o")
	}
}

// BenchmarkPageAndView100k is the worst frame: every row on screen is new,
// so none comes from the row cache.
func BenchmarkPageAndView100k(b *testing.B) {
	s := bigStore(b, 100_000)
	m, _ := newList(s, 200, 60)
	colour(b)
	pg := tea.KeyMsg{Type: tea.KeyPgDown}
	for b.Loop() {
		m, _ = m.Update(pg)
		_ = m.View()
	}
}
