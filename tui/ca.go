package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
)

// The CA's details (C), shown on the help screen, and a browser that trusts
// the CA (B), started off the UI goroutine.

type browserMsg struct {
	text string
	err  error
}

// showCA shows where the CA is, its fingerprint and how to trust it, on the
// help screen.
func (m *Model) showCA() tea.Cmd {
	if m.ca == nil {
		return m.status.Flash("no CA here: only viewing loaded flows", true)
	}
	ca := m.ca
	fp := ca.SHA256
	var rows [][2]string
	add := func(term, value string) {
		for i, l := range wrap(value, max(m.width-20, 30)) {
			if i > 0 {
				term = ""
			}
			rows = append(rows, [2]string{term, l})
		}
	}
	add("certificate", ca.CertPath)
	if len(fp) > 48 { // 32 colon-separated bytes: two lines of 16
		add("SHA-256", fp[:48])
		add("", fp[48:])
	} else {
		add("SHA-256", fp)
	}
	add("install page", ca.InstallPage+" (open it in a browser that uses the proxy)")
	if ca.Hint != "" {
		add("trust it", ca.Hint)
	}
	if m.browser != nil {
		add("or", "B starts Chromium with a fresh profile that trusts it; nothing is installed")
	}
	m.back = m.focus
	m.help.Show("CA certificate", nil, help.Section{Title: "The proxy's certificate authority", Rows: rows})
	m.focus = focusHelp
	return nil
}

// wrap breaks s at spaces into lines of at most w bytes (words longer than
// w stay whole).
func wrap(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > w {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(out, line)
}

// startBrowser starts a browser that trusts the CA, off the UI goroutine.
func (m *Model) startBrowser() tea.Cmd {
	if m.browser == nil {
		return m.status.Flash("no browser launcher here (it needs the running proxy and its CA)", true)
	}
	launch, ctx := m.browser, m.ctx
	return tea.Batch(m.status.Flash("starting a browser…", false), func() tea.Msg {
		text, err := launch(ctx)
		return browserMsg{text: text, err: err}
	})
}
