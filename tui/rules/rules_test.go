package rules_test

import (
	"os"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func press(m rules.Model, k string) (rules.Model, tea.Msg) {
	m, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	if cmd == nil {
		return m, nil
	}
	return m, cmd()
}

func sample() rules.Model {
	m := rules.New(keys.Default().Rules, theme.Default().Styles())
	m.SetSize(80, 14)
	m.SetRules(true, []flowstore.Breakpoint{
		{Filter: "~u /pause", Request: true, Response: true},
		{Filter: "~d api & ~m POST", Request: true},
		{Filter: "~c 500", Response: true, Disabled: true},
	}, []flowstore.Mock{
		{Method: "GET", URL: "https://api.example.com/v1/users", Hits: 3, FlowID: "f1",
			Response: &flowstore.Response{Status: 200, Body: flowstore.NewBody([]byte(`{"users":[]}`))}},
		{Filter: "~d ads", Disabled: true, FlowID: "f2", Response: &flowstore.Response{Status: 204}},
	})
	return m
}

func TestView(t *testing.T) {
	m := sample()
	t.Run("rules and mocks", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
	m.SetRules(false, nil, nil)
	t.Run("empty and off", func(t *testing.T) { golden.RequireEqual(t, []byte(m.View())) })
}

func TestIntents(t *testing.T) {
	m := sample()
	tests := []struct {
		keys []string
		want tea.Msg
	}{
		{[]string{"a"}, rules.AddMsg{}},
		{[]string{"s"}, rules.SwitchMsg{On: false}},
		{[]string{"t"}, rules.ToggleMsg{Kind: rules.KindBreakpoint, Index: 0}},
		{[]string{"j", "p"}, rules.PhaseMsg{Index: 1}},
		{[]string{"j", "e"}, rules.EditMsg{Index: 1, Filter: "~d api & ~m POST"}},
		{[]string{"G", "d"}, rules.DeleteMsg{Kind: rules.KindMock, Index: 1}},
		{[]string{"j", "j", "j", "t"}, rules.ToggleMsg{Kind: rules.KindMock, Index: 0}},
		{[]string{"G", "p"}, nil}, // a mock has no phase
		{[]string{"q"}, rules.BackMsg{}},
	}
	for _, tt := range tests {
		mm := m
		mm.Select(rules.KindBreakpoint, 0)
		var got tea.Msg
		for _, k := range tt.keys {
			mm, got = press(mm, k)
		}
		if got != tt.want {
			t.Errorf("%v: got %#v, want %#v", tt.keys, got, tt.want)
		}
	}
}
