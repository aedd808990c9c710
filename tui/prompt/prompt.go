// Package prompt is the one-line input at the bottom of the screen: the
// filter prompt (validated as you type, the error shown under its column,
// with history), the comment prompt, and yes/no questions.
//
// It knows nothing of what it asks for: the root opens it with a Spec and
// gets a SubmitMsg or CancelMsg back, tagged with the Spec's Tag. It
// imports no other component.
package prompt

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Problem is why a value is not acceptable; Pos is the byte offset it
// concerns, or -1.
type Problem struct {
	Pos int
	Msg string
}

// Choice is one answer of a question answered with one key.
type Choice struct {
	Key   string // the key that picks it, and SubmitMsg.Value
	Label string
}

// Spec says what to ask.
type Spec struct {
	Tag         string // given back in SubmitMsg and CancelMsg
	Label       string // "filter: ", or the question of a confirmation
	Value       string // initial text
	Placeholder string
	// Validate is called on every change; while it returns a problem the
	// value cannot be submitted.
	Validate func(string) *Problem
	History  bool // remember submitted values of this Tag, offered with up/down
	Confirm  bool // a yes/no question answered with one key
	// Choices make a question answered with one of their keys (esc
	// cancels); SubmitMsg.Value is the key picked.
	Choices []Choice
}

// SubmitMsg carries an accepted value ("y" for a confirmation).
type SubmitMsg struct{ Tag, Value string }

// CancelMsg says the prompt was dismissed.
type CancelMsg struct{ Tag string }

// Model is the prompt.
type Model struct {
	keys    keys.Prompt
	st      *theme.Styles
	input   textinput.Model
	spec    Spec
	open    bool
	width   int
	problem *Problem
	hist    map[string][]string
	hidx    int    // position in history while browsing; len(hist) = the draft
	draft   string // what was typed before browsing history
}

// New returns a closed prompt.
func New(km keys.Prompt, st *theme.Styles) Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.PlaceholderStyle = st.Muted
	// The prompt's own keys take up/down; the input must not use them.
	ti.KeyMap.NextSuggestion.SetEnabled(false)
	ti.KeyMap.PrevSuggestion.SetEnabled(false)
	// Pastes arrive from the terminal as keys; reading the clipboard
	// ourselves would shell out (xclip) from a command.
	ti.KeyMap.Paste.SetEnabled(false)
	return Model{keys: km, st: st, input: ti, hist: map[string][]string{}}
}

// Open shows the prompt.
func (m *Model) Open(s Spec) {
	// A question may quote a flow's method or URL: escaped, never obeyed.
	// (The input drops control characters itself.)
	s.Label = flowstore.EscapeControl(s.Label)
	s.Choices = slices.Clone(s.Choices)
	for i := range s.Choices {
		s.Choices[i].Label = flowstore.EscapeControl(s.Choices[i].Label)
	}
	m.spec, m.open = s, true
	m.input.Reset()
	m.input.SetValue(s.Value)
	m.input.CursorEnd()
	m.input.Placeholder = s.Placeholder
	m.input.Focus()
	m.hidx = len(m.hist[s.Tag])
	m.validate()
	m.SetWidth(m.width)
}

// Close hides the prompt without an answer.
func (m *Model) Close() {
	m.open = false
	m.problem = nil
	m.input.Blur()
}

// Active reports whether the prompt is open.
func (m Model) Active() bool { return m.open }

// Typing reports whether the prompt is open for text (not a question
// answered with one key): runes typed are its text, not keys.
func (m Model) Typing() bool { return m.open && !m.spec.Confirm && len(m.spec.Choices) == 0 }

// Tag is the tag of the open prompt.
func (m Model) Tag() string { return m.spec.Tag }

// Value is the current text.
func (m Model) Value() string { return m.input.Value() }

// Problem is the current validation problem, if any.
func (m Model) Problem() *Problem { return m.problem }

// History returns the remembered values of a tag, oldest first.
func (m Model) History(tag string) []string { return m.hist[tag] }

// KeyMap is the prompt's key map.
func (m Model) KeyMap() keys.Prompt { return m.keys }

// SetWidth sets the screen width.
func (m *Model) SetWidth(w int) {
	m.width = w
	m.input.Width = max(w-ansi.StringWidth(m.spec.Label)-1, 1)
}

// Height is how many lines View takes: two while a problem is shown.
func (m Model) Height() int {
	if !m.open {
		return 0
	}
	if m.problem != nil {
		return 2
	}
	return 1
}

func (m *Model) validate() {
	m.problem = nil
	if m.spec.Validate != nil {
		m.problem = m.spec.Validate(m.input.Value())
	}
}

// AddHistory remembers a value for a tag's history, as a submit does.
func (m *Model) AddHistory(tag, v string) {
	if strings.TrimSpace(v) == "" {
		return
	}
	h := m.hist[tag]
	if n := len(h); n > 0 && h[n-1] == v {
		return
	}
	h = append(h, v)
	if len(h) > 100 {
		h = h[len(h)-100:]
	}
	m.hist[tag] = h
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// Update handles keys while the prompt is open.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if !m.open {
		return m, nil
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	tag := m.spec.Tag
	if len(m.spec.Choices) > 0 {
		if key.Matches(k, m.keys.Cancel) {
			m.Close()
			return m, emit(CancelMsg{Tag: tag})
		}
		for _, c := range m.spec.Choices {
			if k.String() == c.Key {
				m.Close()
				return m, emit(SubmitMsg{Tag: tag, Value: c.Key})
			}
		}
		return m, nil
	}
	if m.spec.Confirm {
		switch k.String() {
		case "y", "Y", "enter":
			m.Close()
			return m, emit(SubmitMsg{Tag: tag, Value: "y"})
		case "n", "N", "esc", "q":
			m.Close()
			return m, emit(CancelMsg{Tag: tag})
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Submit):
		if m.problem != nil {
			return m, nil
		}
		v := m.input.Value()
		if m.spec.History {
			m.AddHistory(tag, v)
		}
		m.Close()
		return m, emit(SubmitMsg{Tag: tag, Value: v})
	case key.Matches(k, m.keys.Cancel):
		m.Close()
		return m, emit(CancelMsg{Tag: tag})
	case key.Matches(k, m.keys.HistoryPrev), key.Matches(k, m.keys.HistoryNext):
		if !m.spec.History {
			return m, nil
		}
		h := m.hist[tag]
		if m.hidx == len(h) {
			m.draft = m.input.Value()
		}
		if key.Matches(k, m.keys.HistoryPrev) {
			m.hidx = max(m.hidx-1, 0)
		} else {
			m.hidx = min(m.hidx+1, len(h))
		}
		v := m.draft
		if m.hidx < len(h) {
			v = h[m.hidx]
		}
		m.input.SetValue(v)
		m.input.CursorEnd()
		m.validate()
		return m, nil
	}
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	if m.input.Value() != before {
		m.validate()
	}
	return m, cmd
}

// View renders the prompt line and, under a problem, a caret at its column.
func (m Model) View() string {
	if !m.open {
		return ""
	}
	label := m.st.Bold.Render(m.spec.Label)
	if m.spec.Confirm {
		return ansi.Truncate(label+m.st.Muted.Render(" (y/n)"), m.width, "…")
	}
	if len(m.spec.Choices) > 0 {
		parts := make([]string, 0, len(m.spec.Choices)+1)
		for _, c := range m.spec.Choices {
			parts = append(parts, m.st.HelpKey.Render(c.Key)+" "+c.Label)
		}
		parts = append(parts, m.st.Muted.Render(keys.Label(m.keys.Cancel.Keys())+" cancel"))
		return ansi.Truncate(label+" "+strings.Join(parts, m.st.Muted.Render(" · ")), m.width, "…")
	}
	line := label + m.input.View()
	if m.problem == nil {
		return line
	}
	v := m.input.Value()
	labelW := ansi.StringWidth(m.spec.Label)
	msg := m.problem.Msg
	pos := m.problem.Pos
	var caret string
	switch {
	case pos < 0:
		caret = strings.Repeat(" ", labelW) + msg
	case labelW+ansi.StringWidth(v)+1 <= m.width:
		col := labelW + ansi.StringWidth(v[:min(pos, len(v))])
		text := "^ " + msg
		if col+ansi.StringWidth(text) > m.width && col >= ansi.StringWidth(msg)+1 {
			text = msg + " ^" // no room on the right: put the message left of the caret
			col -= ansi.StringWidth(msg) + 1
		}
		caret = strings.Repeat(" ", col) + text
	default:
		caret = strings.Repeat(" ", labelW) + msg + " (at column " + strconv.Itoa(pos+1) + ")"
	}
	return line + "\n" + m.st.Error.Render(ansi.Truncate(caret, m.width, "…"))
}
