package help_test

import (
	"os"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func TestView(t *testing.T) {
	km := keys.Default()
	fl := km.FlowList
	fl.Open.SetEnabled(false) // as on an empty list
	m := help.New(km.Help, theme.Default().Styles())
	m.SetSize(60, 14)
	m.Show("Flow list", []keys.Context{{Name: keys.CtxFlowList, Title: "Flow list", Actions: fl.Actions()}},
		help.Section{Title: "Filter expressions", Rows: [][2]string{{"~d regex", "domain"}, {"!", "not"}}})
	t.Run("top", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	t.Run("bottom", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	if cmd == nil || cmd() != (help.BackMsg{}) {
		t.Error("q does not close help")
	}
}
