package flowlist

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// Layout is the width of each column for one screen width; 0 hides a
// column. It is a pure function of the width, so every row of a frame and
// the header line up.
type Layout struct {
	Width                                             int
	Time, Method, Host, Path, Status, Type, Size, Dur int
}

// Fixed columns: cursor (1) and flags (2) come first, then the rest
// separated by one space.
const (
	cursorW = 1
	flagsW  = 2
)

// NewLayout fits the columns into width. Host and path share what is left
// after the fixed columns; below 80 columns the least useful ones go first.
func NewLayout(width int) Layout {
	l := Layout{Width: width, Time: 8, Method: 6, Status: 4, Type: 10, Size: 5, Dur: 5}
	switch {
	case width < 90: // the host, with its scheme, matters more
		l.Type = 0
	case width < 100:
		l.Type = 5
	}
	if width < 72 {
		l.Time = 0
	}
	if width < 60 {
		l.Dur = 0
	}
	if width < 44 {
		l.Size = 0
	}
	fixed := cursorW + flagsW
	for _, w := range []int{l.Time, l.Method, l.Status, l.Type, l.Size, l.Dur} {
		if w > 0 {
			fixed += w + 1
		}
	}
	rest := width - fixed - 2 // the spaces before host and path
	if rest < 2 {
		rest = 2
	}
	l.Host = min(max(rest*11/20, 1), 34) // scheme://host
	l.Path = rest - l.Host
	return l
}

// Row renders one flow's summary as a line exactly l.Width cells wide. It
// is pure: the same summary, layout, selection and time always give the
// same string; now only matters to a paused flow, whose duration column
// counts how long it has been paused.
func Row(f *flowstore.Summary, l Layout, st *theme.Styles, selected bool, now time.Time) string {
	var b strings.Builder
	b.Grow(l.Width + 64)
	plain := selected
	rowStyle, styled := rowStyle(f, st)
	if plain {
		styled = false
	}
	cell := func(s string, w int, right bool, style *lipgloss.Style) {
		if w <= 0 {
			return
		}
		b.WriteByte(' ')
		s = fit(s, w, right)
		if style != nil && !plain && !styled && s != "" {
			s = style.Render(s)
		}
		b.WriteString(s)
	}

	if selected {
		b.WriteString(">")
	} else {
		b.WriteString(" ")
	}
	mark, kind := flagGlyphs(f)
	switch {
	case plain || styled:
		b.WriteString(mark)
		b.WriteString(kind)
	default:
		if f.Marked() {
			mark = st.Marked.Render(mark)
		}
		if kind != " " {
			kind = st.Flag.Render(kind)
		}
		b.WriteString(mark)
		b.WriteString(kind)
	}

	if l.Time > 0 {
		cell(TimeCell(f), l.Time, false, &st.Muted)
	}
	ms := st.MethodStyle(f.Method)
	cell(f.Method, l.Method, false, &ms)
	cell(HostCell(f, l.Host), l.Host, false, nil)
	cell(Middle(flowstore.EscapeControl(f.Path), l.Path), l.Path, false, nil)
	status, sstyle := StatusCell(f, st)
	cell(status, l.Status, true, &sstyle)
	cell(TypeCell(f, l.Type), l.Type, false, &st.Muted)
	size := "" // no response yet
	if f.HasResponse() {
		size = flowstore.FormatSize(f.Size)
	}
	cell(size, l.Size, true, nil)
	if f.State == flowstore.StatePaused {
		cell(PausedCell(f, now), l.Dur, true, &st.Paused)
	} else {
		cell(DurationCell(f), l.Dur, true, &st.Muted)
	}

	s := b.String()
	switch {
	case selected:
		return st.Selected.Render(s)
	case styled:
		return rowStyle.Render(s)
	}
	return s
}

// rowStyle is the style of a whole row that stands out: paused or failed.
func rowStyle(f *flowstore.Summary, st *theme.Styles) (lipgloss.Style, bool) {
	switch f.State {
	case flowstore.StatePaused:
		return st.Paused, true
	case flowstore.StateError, flowstore.StateKilled:
		return st.Error, true
	}
	return lipgloss.Style{}, false
}

func flagGlyphs(f *flowstore.Summary) (mark, kind string) {
	mark, kind = " ", " "
	if f.Marked() {
		mark = "●"
	}
	switch {
	case f.Flags.Has(flowstore.FlagMock):
		kind = "◆"
	case f.Flags.Has(flowstore.FlagReplay):
		kind = "↻"
	case f.Flags.Has(flowstore.FlagEdited):
		kind = "✎"
	case f.Flags.Has(flowstore.FlagComment):
		kind = "¶"
	}
	return mark, kind
}

// Header renders the column titles; the ordered column carries ▲ or ▼.
func Header(l Layout, order view.Order, reverse bool, st *theme.Styles) string {
	var b strings.Builder
	b.WriteString("   ")
	arrow := "▲"
	if reverse {
		arrow = "▼"
	}
	title := func(name string, o view.Order, w int, right bool) {
		if w <= 0 {
			return
		}
		sep := " "
		if o == order && o != view.OrderNone {
			switch {
			case len(name) >= w:
				sep = arrow // in the space before: the label stays whole
			case right:
				name = arrow + name
			default:
				name += arrow
			}
		}
		b.WriteString(sep)
		b.WriteString(fit(name, w, right))
	}
	title("TIME", view.OrderTime, l.Time, false)
	title("METHOD", view.OrderMethod, l.Method, false)
	title("HOST", view.OrderURL, l.Host, false)
	title("PATH", view.OrderNone, l.Path, false)
	title("CODE", view.OrderStatus, l.Status, true)
	title("TYPE", view.OrderNone, l.Type, false)
	title("SIZE", view.OrderSize, l.Size, true)
	title("DUR", view.OrderDuration, l.Dur, true)
	return st.Header.Render(fit(b.String(), l.Width, false))
}

// HostCell is scheme://host[:port] in w cells, HTTP told from HTTPS as
// mitmproxy's list does; a long host loses its middle, never the scheme.
func HostCell(f *flowstore.Summary, w int) string {
	a := flowstore.EscapeControl(f.Authority())
	sc := f.Scheme()
	if sc == "" {
		return Middle(a, w)
	}
	sc += "://"
	if w-len(sc) < 10 && width(sc+a) > w { // no room for both: the host matters more
		return Middle(a, w)
	}
	return sc + Middle(a, w-len(sc))
}

// TimeCell is the local wall-clock time the flow started.
func TimeCell(f *flowstore.Summary) string {
	if f.Start == 0 {
		return ""
	}
	return f.StartTime().Local().Format("15:04:05")
}

// StatusCell is the status column: the code, or what the flow is doing.
func StatusCell(f *flowstore.Summary, st *theme.Styles) (string, lipgloss.Style) {
	failed := f.Flags.Has(flowstore.FlagError)
	switch f.State {
	case flowstore.StatePaused:
		// A paused flow is never spooled: its summary keeps the snapshot.
		if f.Flow != nil && f.Flow.Paused == flowstore.PhaseResponse {
			return "‖res", st.Paused
		}
		return "‖req", st.Paused
	case flowstore.StateKilled:
		return "KILL", st.Error
	case flowstore.StateDraft:
		return "NEW", st.Muted
	}
	if f.Status > 0 {
		code := int(f.Status)
		if failed {
			return strconv.Itoa(code), st.Error
		}
		return strconv.Itoa(code), st.StatusStyle(code)
	}
	if f.State == flowstore.StateError || failed {
		return "ERR", st.Error
	}
	return "…", st.Pending
}

// TypeCell is a short name of the response content type.
func TypeCell(f *flowstore.Summary, w int) string {
	if !f.HasResponse() {
		return ""
	}
	mt := content.MediaType(f.ContentType())
	if mt == "" {
		return ""
	}
	_, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return mt
	}
	if i := strings.LastIndexByte(sub, '+'); i >= 0 {
		sub = sub[i+1:] // "vnd.api+json" → "json"
	}
	switch sub {
	case "javascript", "x-javascript", "ecmascript":
		sub = "js"
	case "x-www-form-urlencoded":
		sub = "form"
	case "octet-stream":
		sub = "bin"
	case "plain":
		sub = "text"
	case "form-data":
		sub = "multi"
	}
	if w >= 10 && strings.HasPrefix(mt, "image/") {
		sub = "img/" + sub
	}
	return sub
}

// DurationCell is how long the flow took, empty while it runs.
func DurationCell(f *flowstore.Summary) string {
	d := f.Duration()
	if d <= 0 {
		return ""
	}
	return Duration(d)
}

// PausedCell is how long a paused flow has been held, as of now.
func PausedCell(f *flowstore.Summary, now time.Time) string {
	if f.Flow == nil { // not paused: a paused flow is never spooled
		return ""
	}
	since := f.Flow.Since
	if since.IsZero() || now.IsZero() || now.Before(since) {
		return ""
	}
	return Duration(now.Sub(since))
}

// Duration formats d in at most 5 cells: 7ms, 1.23s, 12.3s, 123s, 16m.
func Duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < 100*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < 1000*time.Second:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < 100*time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Hour)) + "h"
}

// Middle shortens s to w cells by cutting out its middle: the start of a
// path and its end (last segment, query) are what tell requests apart.
func Middle(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	tail := (w - 1) / 2
	head := w - 1 - tail
	return takeHead(s, head) + "…" + takeTail(s, tail)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func width(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return ansi.StringWidth(s)
}

func takeHead(s string, w int) string {
	if isASCII(s) {
		return s[:min(w, len(s))]
	}
	return ansi.Truncate(s, w, "")
}

func takeTail(s string, w int) string {
	if isASCII(s) {
		return s[len(s)-min(w, len(s)):]
	}
	return ansi.TruncateLeft(s, ansi.StringWidth(s)-w, "")
}

// fit pads or truncates s (plain text) to exactly w cells, control bytes
// escaped (\x1b) so a hostile method or host cannot drive the terminal.
func fit(s string, w int, right bool) string {
	s = flowstore.EscapeControl(s)
	n := width(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = width(s)
	}
	if n == w {
		return s
	}
	pad := strings.Repeat(" ", w-n)
	if right {
		return pad + s
	}
	return s + pad
}
