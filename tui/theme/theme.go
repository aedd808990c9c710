// Package theme owns the TUI's semantic colours (method, status class,
// paused, error, selection, muted, syntax) and turns them into lipgloss
// styles once. Components receive a *Styles; nothing here is global.
//
// Colours are the terminal's own 16 ANSI colours, so the user's palette
// decides how they look on a light or dark background. With NO_COLOR (or
// any non-colour profile) lipgloss drops them; components therefore never
// rely on colour alone to say something (the selected row has a cursor
// glyph, the active tab has brackets).
package theme

import "github.com/charmbracelet/lipgloss"

// Theme is the palette, by meaning.
type Theme struct {
	Fg, Muted, Accent lipgloss.TerminalColor
	OK, Info, Warn    lipgloss.TerminalColor
	Error             lipgloss.TerminalColor
	Paused            lipgloss.TerminalColor
	Marked            lipgloss.TerminalColor
	Flag              lipgloss.TerminalColor // replayed / edited markers

	MethodGet, MethodPost, MethodPut, MethodDelete, MethodOther lipgloss.TerminalColor

	Status1xx, Status2xx, Status3xx, Status4xx, Status5xx lipgloss.TerminalColor

	SyntaxKey, SyntaxString, SyntaxNumber, SyntaxLiteral lipgloss.TerminalColor
	SyntaxTag, SyntaxAttr, SyntaxComment                 lipgloss.TerminalColor

	MatchFg, MatchBg, CurrentMatchBg lipgloss.TerminalColor
}

// Default is the standard palette.
func Default() Theme {
	c := func(s string) lipgloss.TerminalColor { return lipgloss.Color(s) }
	return Theme{
		Fg: lipgloss.NoColor{}, Muted: c("8"), Accent: c("12"),
		OK: c("2"), Info: c("6"), Warn: c("3"), Error: c("1"),
		Paused: c("11"), Marked: c("13"), Flag: c("14"),

		MethodGet: c("12"), MethodPost: c("2"), MethodPut: c("3"), MethodDelete: c("1"), MethodOther: c("5"),

		Status1xx: c("8"), Status2xx: c("2"), Status3xx: c("6"), Status4xx: c("3"), Status5xx: c("1"),

		SyntaxKey: c("12"), SyntaxString: c("2"), SyntaxNumber: c("6"), SyntaxLiteral: c("5"),
		SyntaxTag: c("12"), SyntaxAttr: c("6"), SyntaxComment: c("8"),

		MatchFg: c("0"), MatchBg: c("3"), CurrentMatchBg: c("11"),
	}
}

// Styles are the lipgloss styles every component draws with, built once
// from a Theme.
type Styles struct {
	Plain, Bold, Muted, Accent lipgloss.Style
	OK, Info, Warn, Error      lipgloss.Style

	Header    lipgloss.Style // column headers, table heads
	Selected  lipgloss.Style // the row under the cursor
	Paused    lipgloss.Style // a flow held at a breakpoint
	Pending   lipgloss.Style // a flow still in progress
	Marked    lipgloss.Style // the mark glyph
	Flag      lipgloss.Style // replayed / edited / comment glyphs
	StatusBar lipgloss.Style // the status line
	Notice    lipgloss.Style
	ErrorBar  lipgloss.Style

	TabActive, TabInactive lipgloss.Style
	Title                  lipgloss.Style

	MethodGet, MethodPost, MethodPut, MethodDelete, MethodOther lipgloss.Style
	Status                                                      [6]lipgloss.Style // index = status/100; 0 = unknown

	SyntaxKey, SyntaxString, SyntaxNumber, SyntaxLiteral lipgloss.Style
	SyntaxTag, SyntaxAttr, SyntaxComment, SyntaxPunct    lipgloss.Style

	Match, CurrentMatch lipgloss.Style

	HelpKey, HelpDesc, HelpDisabled lipgloss.Style
}

// Styles builds the styles of a theme.
func (t Theme) Styles() *Styles {
	fg := func(c lipgloss.TerminalColor) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	s := &Styles{
		Plain:  lipgloss.NewStyle(),
		Bold:   lipgloss.NewStyle().Bold(true),
		Muted:  fg(t.Muted),
		Accent: fg(t.Accent),
		OK:     fg(t.OK), Info: fg(t.Info), Warn: fg(t.Warn), Error: fg(t.Error),

		Header:    lipgloss.NewStyle().Bold(true).Foreground(t.Muted),
		Selected:  lipgloss.NewStyle().Reverse(true),
		Paused:    lipgloss.NewStyle().Bold(true).Foreground(t.Paused),
		Pending:   fg(t.Muted),
		Marked:    lipgloss.NewStyle().Bold(true).Foreground(t.Marked),
		Flag:      fg(t.Flag),
		StatusBar: lipgloss.NewStyle().Reverse(true),
		Notice:    lipgloss.NewStyle().Bold(true).Foreground(t.Info),
		ErrorBar:  lipgloss.NewStyle().Bold(true).Foreground(t.Error),

		TabActive:   lipgloss.NewStyle().Bold(true).Underline(true).Foreground(t.Accent),
		TabInactive: fg(t.Muted),
		Title:       lipgloss.NewStyle().Bold(true),

		MethodGet: fg(t.MethodGet), MethodPost: fg(t.MethodPost), MethodPut: fg(t.MethodPut),
		MethodDelete: fg(t.MethodDelete), MethodOther: fg(t.MethodOther),

		SyntaxKey: fg(t.SyntaxKey), SyntaxString: fg(t.SyntaxString), SyntaxNumber: fg(t.SyntaxNumber),
		SyntaxLiteral: fg(t.SyntaxLiteral), SyntaxTag: fg(t.SyntaxTag), SyntaxAttr: fg(t.SyntaxAttr),
		SyntaxComment: fg(t.SyntaxComment), SyntaxPunct: lipgloss.NewStyle(),

		Match:        lipgloss.NewStyle().Foreground(t.MatchFg).Background(t.MatchBg),
		CurrentMatch: lipgloss.NewStyle().Bold(true).Foreground(t.MatchFg).Background(t.CurrentMatchBg),

		HelpKey:      lipgloss.NewStyle().Bold(true).Foreground(t.Accent),
		HelpDesc:     lipgloss.NewStyle(),
		HelpDisabled: fg(t.Muted),
	}
	s.Status = [6]lipgloss.Style{fg(t.Muted), fg(t.Status1xx), fg(t.Status2xx), fg(t.Status3xx), fg(t.Status4xx), fg(t.Status5xx)}
	return s
}

// MethodStyle picks the style of an HTTP method.
func (s *Styles) MethodStyle(m string) lipgloss.Style {
	switch m {
	case "GET", "HEAD":
		return s.MethodGet
	case "POST":
		return s.MethodPost
	case "PUT", "PATCH":
		return s.MethodPut
	case "DELETE":
		return s.MethodDelete
	}
	return s.MethodOther
}

// StatusStyle picks the style of a status code by class.
func (s *Styles) StatusStyle(code int) lipgloss.Style {
	c := code / 100
	if c < 1 || c > 5 {
		c = 0
	}
	return s.Status[c]
}
