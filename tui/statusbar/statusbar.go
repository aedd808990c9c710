// Package statusbar draws the two bottom lines: what the proxy is doing
// (listen address, flows shown of total, filter, breakpoints, paused flows,
// order) and, under it, a hint of the main keys of the current view, which
// a notice or an error replaces for a few seconds.
//
// It holds no state of the program: the root hands it an Info each frame
// (ReadMemory samples the memory part of it).
// It imports no other component.
package statusbar

import (
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// How long a flash stays.
const (
	NoticeTTL = 3 * time.Second
	ErrorTTL  = 8 * time.Second
)

// Info is what the status line shows.
type Info struct {
	ListenAddr  string
	Shown       int
	Total       int
	Filter      string
	MarkedOnly  bool
	Breakpoints []string // the active ones, described
	// InterceptOff: breakpoints exist but interception is switched off.
	InterceptOff bool
	Mocks        int // standing mocks that are on
	Paused       int
	PausedFor    time.Duration // how long the oldest paused flow has waited
	Marked       int
	Follow       bool
	Order        string
	Reverse      bool

	// Memory, when a spool is on: the process's memory against its
	// budget, and what the spool holds on disk.
	Memory *Memory
}

// Memory is how much memory the program uses and what it spooled.
type Memory struct {
	Used, Budget int64 // bytes
	Spool        int64 // bytes on disk
	Spooled      int   // flows in the spool
}

// String is "mem 212M/512M · spool 1.2G (840k)".
func (m Memory) String() string {
	s := "mem " + flowstore.FormatSize(m.Used) + "/" + flowstore.FormatSize(m.Budget)
	if m.Spooled > 0 || m.Spool > 0 {
		s += " · spool " + flowstore.FormatSize(m.Spool) + " (" + Count(m.Spooled) + ")"
	}
	return s
}

// ReadMemory reads what the status line says of memory: the Go runtime's
// memory (what the OS has given it, less what the heap has given back)
// against the store's budget, and the spool's use; nil without a spool.
func ReadMemory(st flowstore.Stats) *Memory {
	if !st.DiskUsed {
		return nil
	}
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	var used int64
	if samples[0].Value.Kind() == metrics.KindUint64 && samples[1].Value.Kind() == metrics.KindUint64 {
		used = int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
	}
	return &Memory{Used: used, Budget: st.Budget, Spool: st.Spool, Spooled: st.Spooled}
}

type clearMsg struct{ id int }

// Model is the status bar.
type Model struct {
	st     *theme.Styles
	width  int
	info   Info
	hints  []key.Binding
	help   help.Model
	flash  string
	isErr  bool
	flashN int

	// How long flashes stay; NoticeTTL and ErrorTTL by default.
	NoticeFor, ErrorFor time.Duration
}

// New returns a status bar.
func New(st *theme.Styles) Model {
	h := help.New()
	h.Styles.ShortKey = st.HelpKey
	h.Styles.ShortDesc = st.Muted
	h.Styles.ShortSeparator = st.Muted
	h.Styles.Ellipsis = st.Muted
	h.ShortSeparator = " · "
	return Model{st: st, help: h, NoticeFor: NoticeTTL, ErrorFor: ErrorTTL}
}

// SetWidth sets the screen width.
func (m *Model) SetWidth(w int) {
	m.width = w
	m.help.Width = max(w-1, 0)
}

// SetInfo sets what the status line shows.
func (m *Model) SetInfo(i Info) { m.info = i }

// SetHints sets the keys the hint line shows.
func (m *Model) SetHints(bs []key.Binding) { m.hints = bs }

// Flash shows a notice (or an error, which stays longer) in place of the
// hints; the returned command clears it later.
func (m *Model) Flash(text string, isErr bool) tea.Cmd {
	m.flashN++
	m.flash, m.isErr = text, isErr
	id, ttl := m.flashN, m.NoticeFor
	if isErr {
		ttl = m.ErrorFor
	}
	return tea.Tick(ttl, func(time.Time) tea.Msg { return clearMsg{id} })
}

// Flashing is the text of the notice or error shown, if any.
func (m Model) Flashing() string { return m.flash }

// Update clears an expired flash.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if c, ok := msg.(clearMsg); ok && c.id == m.flashN {
		m.flash = ""
	}
	return m, nil
}

// Height is the number of lines View takes.
func (m Model) Height() int { return 2 }

// StatusLine renders the first line.
func (m Model) StatusLine() string {
	i := m.info
	parts := []string{}
	if i.ListenAddr != "" {
		parts = append(parts, i.ListenAddr)
	}
	noun := " flows"
	if i.Total == 1 {
		noun = " flow"
	}
	count := Thousands(i.Total) + noun
	if i.Shown != i.Total {
		count = Thousands(i.Shown) + "/" + Thousands(i.Total) + noun
	}
	parts = append(parts, count)
	// Paused flows come first: someone is waiting on them.
	if i.Paused > 0 {
		p := "‖ " + Thousands(i.Paused) + " paused"
		if i.PausedFor >= time.Second {
			p += " " + flowstore.FormatDuration(i.PausedFor.Truncate(time.Second))
		}
		parts = append(parts, p)
	}
	if i.Filter != "" {
		parts = append(parts, "filter: "+i.Filter)
	}
	if i.MarkedOnly {
		parts = append(parts, "marked only")
	}
	switch {
	case i.InterceptOff:
		parts = append(parts, "break: off")
	case len(i.Breakpoints) > 0:
		parts = append(parts, "break: "+strings.Join(i.Breakpoints, " | "))
	}
	if i.Mocks > 0 {
		parts = append(parts, "◆ "+Thousands(i.Mocks)+" mock"+plural(i.Mocks))
	}
	if i.Marked > 0 {
		parts = append(parts, "● "+Thousands(i.Marked)+" marked")
	}
	if i.Follow {
		parts = append(parts, "follow")
	}
	if i.Order != "" {
		arrow := "▲"
		if i.Reverse {
			arrow = "▼"
		}
		parts = append(parts, "order: "+i.Order+arrow)
	}
	line := " " + flowstore.EscapeControl(strings.Join(parts, " │ "))
	line = ansi.Truncate(line, m.width, "…")
	w := ansi.StringWidth(line)
	if i.Memory != nil {
		// Right-aligned, and only where it fits after everything else:
		// on a narrow screen the flows and the filter matter more.
		if mem := i.Memory.String() + " "; w+3+ansi.StringWidth(mem) <= m.width {
			line += strings.Repeat(" ", m.width-w-ansi.StringWidth(mem)) + mem
			w = m.width
		}
	}
	if w < m.width {
		line += strings.Repeat(" ", m.width-w)
	}
	return m.st.StatusBar.Render(line)
}

// HintLine renders the second line: a flash, or the key hints.
func (m Model) HintLine() string {
	if m.flash != "" {
		// A flash may quote a URL or a reason phrase: escaped, never obeyed.
		text := " " + flowstore.EscapeControl(m.flash)
		text = ansi.Truncate(text, m.width, "…")
		if m.isErr {
			return m.st.ErrorBar.Render(text)
		}
		return m.st.Notice.Render(text)
	}
	return " " + m.help.ShortHelpView(m.hints)
}

// View renders both lines.
func (m Model) View() string { return m.StatusLine() + "\n" + m.HintLine() }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Count formats n in at most four cells: 999, 8.4k, 840k, 1.2M.
func Count(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n)
	case n < 10_000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	case n < 1_000_000:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.FormatFloat(float64(n)/1_000_000, 'f', 1, 64) + "M"
}

// Thousands formats n with commas: 100,000.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
