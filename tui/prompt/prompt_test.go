package prompt_test

import (
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func newPrompt() prompt.Model {
	p := prompt.New(keys.Default().Prompt, theme.Default().Styles())
	p.SetWidth(60)
	return p
}

func typeText(p prompt.Model, s string) prompt.Model {
	for _, r := range s {
		p, _ = p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return p
}

func send(p prompt.Model, t tea.KeyType) (prompt.Model, tea.Msg) {
	p, cmd := p.Update(tea.KeyMsg{Type: t})
	if cmd == nil {
		return p, nil
	}
	return p, cmd()
}

// noAmp is a stand-in validator: a trailing "&" is an error at its offset.
func noAmp(s string) *prompt.Problem {
	if i := strings.LastIndex(s, "&"); i >= 0 && strings.TrimSpace(s[i+1:]) == "" {
		return &prompt.Problem{Pos: i, Msg: "expected an expression after &"}
	}
	return nil
}

func TestValidationCaret(t *testing.T) {
	p := newPrompt()
	p.Open(prompt.Spec{Tag: "filter", Label: "filter: ", Validate: noAmp, History: true})
	p = typeText(p, "~m POST &")
	if p.Problem() == nil || p.Height() != 2 {
		t.Fatalf("no problem shown: %+v", p.Problem())
	}
	golden.RequireEqual(t, []byte(p.View()))
	// Enter does nothing while the value is bad.
	p, msg := send(p, tea.KeyEnter)
	if msg != nil || !p.Active() {
		t.Fatalf("bad value submitted: %v", msg)
	}
	p = typeText(p, " ~c 200")
	if p.Problem() != nil {
		t.Fatalf("problem stays: %+v", p.Problem())
	}
	p, msg = send(p, tea.KeyEnter)
	if msg != (prompt.SubmitMsg{Tag: "filter", Value: "~m POST & ~c 200"}) || p.Active() {
		t.Fatalf("submit = %v, active %v", msg, p.Active())
	}
}

func TestHistory(t *testing.T) {
	p := newPrompt()
	for _, v := range []string{"one", "two"} {
		p.Open(prompt.Spec{Tag: "filter", Label: "filter: ", History: true})
		p = typeText(p, v)
		p, _ = send(p, tea.KeyEnter)
	}
	p.Open(prompt.Spec{Tag: "filter", Label: "filter: ", History: true})
	p = typeText(p, "dra")
	var seen []string
	for _, k := range []tea.KeyType{tea.KeyUp, tea.KeyUp, tea.KeyUp, tea.KeyDown, tea.KeyDown} {
		p, _ = send(p, k)
		seen = append(seen, p.Value())
	}
	if got := strings.Join(seen, ","); got != "two,one,one,two,dra" {
		t.Errorf("history walk = %s", got)
	}
	if h := p.History("filter"); strings.Join(h, ",") != "one,two" {
		t.Errorf("history = %v", h)
	}
	if len(p.History("comment")) != 0 {
		t.Error("history leaked to another tag")
	}
}

func TestConfirm(t *testing.T) {
	p := newPrompt()
	p.Open(prompt.Spec{Tag: "quit", Label: "Quit? 2 flows are paused.", Confirm: true})
	if got := p.View(); got != "Quit? 2 flows are paused. (y/n)" {
		t.Errorf("view = %q", got)
	}
	p, cmd := p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")})
	if cmd != nil || !p.Active() {
		t.Fatal("other keys answer a confirmation")
	}
	p, cmd = p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("y")})
	if cmd == nil || cmd() != (prompt.SubmitMsg{Tag: "quit", Value: "y"}) {
		t.Fatal("y did not confirm")
	}
	p.Open(prompt.Spec{Tag: "quit", Label: "Quit?", Confirm: true})
	_, msg := send(p, tea.KeyEsc)
	if msg != (prompt.CancelMsg{Tag: "quit"}) {
		t.Fatalf("esc = %v", msg)
	}
}

func TestChoices(t *testing.T) {
	p := newPrompt()
	p.Open(prompt.Spec{Tag: "copy", Label: "copy:", Choices: []prompt.Choice{{Key: "u", Label: "URL"}, {Key: "c", Label: "curl"}}})
	if got := p.View(); got != "copy: u URL · c curl · esc cancel" {
		t.Errorf("view = %q", got)
	}
	p = typeText(p, "z") // not a choice: nothing happens
	if !p.Active() {
		t.Fatal("a key that is no choice closed the prompt")
	}
	p, cmd := p.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("c")})
	if p.Active() || cmd == nil {
		t.Fatal("a choice did not answer")
	}
	if msg := cmd(); msg != (prompt.SubmitMsg{Tag: "copy", Value: "c"}) {
		t.Errorf("answer = %#v", msg)
	}
	p.Open(prompt.Spec{Tag: "copy", Label: "copy:", Choices: []prompt.Choice{{Key: "u", Label: "URL"}}})
	_, msg := send(p, tea.KeyEsc)
	if msg != (prompt.CancelMsg{Tag: "copy"}) {
		t.Errorf("esc = %#v", msg)
	}
}
