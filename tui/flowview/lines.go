package flowview

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// The pure parts of the flow view: a flow and a width in, lines out.

// clean escapes control bytes (\x1b) so a hostile header cannot drive the
// terminal and the person sees what was sent.
func clean(s string) string { return flowstore.EscapeControl(s) }

// cut splits s into pieces of at most w cells.
func cut(s string, w int) []string {
	w = max(w, 1)
	var out []string
	for ansi.StringWidth(s) > w {
		head := ansi.Truncate(s, w, "")
		if head == "" { // a rune wider than w
			head = string([]rune(s)[:1])
		}
		out = append(out, head)
		s = s[len(head):]
	}
	return append(out, s)
}

// HeaderLines renders headers as a two-column table, long values wrapped
// under the value column.
func HeaderLines(hs flowstore.Headers, width int, st *theme.Styles) []string {
	nameW := 0
	for _, h := range hs {
		nameW = max(nameW, ansi.StringWidth(clean(h.Name)))
	}
	nameW = min(nameW, 28, max(width/3, 8))
	valW := max(width-nameW-3, 8)
	var out []string
	for _, h := range hs {
		name := clean(h.Name)
		if ansi.StringWidth(name) > nameW {
			name = ansi.Truncate(name, nameW, "…")
		}
		pad := strings.Repeat(" ", nameW-ansi.StringWidth(name))
		for i, part := range cut(clean(h.Value), valW) {
			if i == 0 {
				out = append(out, " "+st.SyntaxKey.Render(name)+pad+"  "+part)
			} else {
				out = append(out, " "+strings.Repeat(" ", nameW+2)+part)
			}
		}
	}
	return out
}

// RequestHead is the request line and headers.
func RequestHead(f *flowstore.Flow, width int, st *theme.Styles) []string {
	r := f.Request
	if r == nil {
		return []string{st.Muted.Render(" no request")}
	}
	first := st.MethodStyle(r.Method).Bold(true).Render(clean(r.Method)) + " " + clean(r.URL()) + " " + st.Muted.Render(r.Proto)
	out := wrapStyled(first, width)
	out = append(out, HeaderLines(r.Headers, width, st)...)
	if len(r.Trailers) > 0 {
		out = append(out, st.Muted.Render(" trailers"))
		out = append(out, HeaderLines(r.Trailers, width, st)...)
	}
	return out
}

// ResponseHead is the status line and headers, or why there is none.
func ResponseHead(f *flowstore.Flow, width int, st *theme.Styles) []string {
	var out []string
	if f.Error != nil {
		out = append(out, wrapStyled(st.Error.Render(" ✗ "+clean(f.Error.Error())), width)...)
	}
	r := f.Response
	if r == nil {
		switch {
		case f.State == flowstore.StatePaused:
			out = append(out, st.Paused.Render(" paused at the "+string(f.Paused)+" breakpoint"))
		case f.State == flowstore.StateDraft:
			out = append(out, st.Muted.Render(" not sent yet: e edits the request, r sends it"))
		case f.Error == nil && !f.State.Final():
			out = append(out, st.Muted.Render(" waiting for the response…"))
		case f.Error == nil:
			out = append(out, st.Muted.Render(" no response"))
		}
		return out
	}
	first := " " + st.Muted.Render(r.Proto) + " " + st.StatusStyle(r.Status).Bold(true).Render(fmt.Sprint(r.Status)) + " " + clean(r.Reason)
	out = append(out, wrapStyled(first, width)...)
	out = append(out, HeaderLines(r.Headers, width, st)...)
	if len(r.Trailers) > 0 {
		out = append(out, st.Muted.Render(" trailers"))
		out = append(out, HeaderLines(r.Trailers, width, st)...)
	}
	return out
}

func wrapStyled(s string, width int) []string {
	if !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	if ansi.StringWidth(s) <= width {
		return []string{s}
	}
	return strings.Split(ansi.Hardwrap(s, width, false), "\n")
}

// Details is the details tab: connection, TLS, timings, sizes, error,
// comment and notes.
func Details(f *flowstore.Flow, width int, st *theme.Styles) []string {
	var out []string
	kv := func(k, v string) {
		if v == "" {
			return
		}
		out = append(out, wrapStyled(" "+st.SyntaxKey.Render(fmt.Sprintf("%-13s", k))+" "+clean(v), width)...)
	}
	title := func(t string) {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, " "+st.Title.Render(t))
	}
	title("Flow")
	kv("id", f.ID)
	state := f.State.String()
	if f.State == flowstore.StatePaused {
		state += " at " + string(f.Paused)
		if !f.Since.IsZero() {
			state += " since " + f.Since.Local().Format("15:04:05")
		}
	}
	kv("state", state)
	if HasMessages(f) {
		n := thousands(f.MessagesDropped + len(f.Messages))
		if f.MessagesDropped > 0 {
			n += " (the oldest " + thousands(f.MessagesDropped) + " dropped: over the per-flow cap)"
		}
		kv("messages", n)
	}
	if f.Error != nil {
		out = append(out, wrapStyled(" "+st.Error.Render(fmt.Sprintf("%-13s %s", "error", clean(f.Error.Error()))), width)...)
	}
	kv("replay of", f.ReplayOf)
	if f.Original != nil {
		kv("edited", "yes (the original is kept: o shows it, V reverts to it)")
	}
	if f.Mock != nil {
		how := "method and URL"
		if f.Mock.Filter != "" {
			how = "filter " + f.Mock.Filter
		}
		if f.Mock.Disabled {
			how += " (disabled)"
		}
		kv("standing mock", "answers requests matching "+how)
	}
	if f.Marked {
		kv("marked", "yes")
	}
	kv("comment", f.Comment)
	for i, n := range f.Notes {
		k := ""
		if i == 0 {
			k = "notes"
		}
		out = append(out, wrapStyled(" "+st.SyntaxKey.Render(fmt.Sprintf("%-13s", k))+" "+st.Warn.Render(clean(n)), width)...)
	}

	title("Client")
	kv("address", f.Client.Addr)
	kv("tls", tlsLine(f.Client.TLS))
	title("Server")
	kv("address", f.Server.Addr)
	kv("ip", f.Server.IP)
	kv("tls", tlsLine(f.Server.TLS))
	if f.Server.TLS != nil {
		kv("certificate", f.Server.TLS.CertSubject)
	}
	title("Bytes")
	kv("from client", sizeOrDash(f.BytesIn))
	kv("from server", sizeOrDash(f.BytesOut))
	if f.Request != nil {
		kv("request body", bodySize(f.Request.Body))
	}
	if f.Response != nil {
		kv("response body", bodySize(f.Response.Body))
	}
	title("Timings")
	out = append(out, TimingLines(f.Timings, width, st)...)
	return out
}

func tlsLine(t *flowstore.TLSInfo) string {
	if t == nil {
		return "none (plain HTTP)"
	}
	var parts []string
	for _, p := range [][2]string{{"", t.Version}, {"SNI ", t.SNI}, {"ALPN ", t.ALPN}, {"", t.Cipher}} {
		if p[1] != "" {
			parts = append(parts, p[0]+p[1])
		}
	}
	return strings.Join(parts, " · ")
}

func sizeOrDash(n int64) string {
	if n <= 0 {
		return "–"
	}
	return flowstore.FormatSize(n)
}

func bodySize(b flowstore.Body) string {
	s := flowstore.FormatSize(b.Size)
	if b.Truncated {
		s += fmt.Sprintf(" (%s kept)", flowstore.FormatSize(int64(len(b.Data))))
	}
	return s
}

type phase struct {
	name       string
	start, end time.Time
}

// TimingLines draws each phase as a bar placed on one time axis, so where
// the time went is seen at a glance.
func TimingLines(t flowstore.Timings, width int, st *theme.Styles) []string {
	if t.Start.IsZero() {
		return []string{st.Muted.Render(" no timings")}
	}
	end := t.End
	for _, x := range []time.Time{t.FirstByte, t.RequestSent, t.TLSDone, t.ConnectDone, t.DNSDone} {
		if end.IsZero() {
			end = x
		}
	}
	sent := t.Start
	for _, x := range []time.Time{t.TLSDone, t.ConnectDone, t.DNSDone} {
		if !x.IsZero() && x.After(sent) {
			sent = x
		}
	}
	phases := []phase{
		{"dns", t.DNSStart, t.DNSDone},
		{"connect", t.ConnectStart, t.ConnectDone},
		{"tls", t.TLSStart, t.TLSDone},
		{"request", sent, t.RequestSent},
		{"wait", t.RequestSent, t.FirstByte},
		{"receive", t.FirstByte, t.End},
	}
	total := end.Sub(t.Start)
	barW := min(max(width-30, 10), 50)
	var out []string
	for _, p := range phases {
		if p.start.IsZero() || p.end.IsZero() || p.end.Before(p.start) {
			continue
		}
		d := p.end.Sub(p.start)
		bar := strings.Repeat("·", barW)
		if total > 0 {
			a := int(int64(p.start.Sub(t.Start)) * int64(barW) / int64(total))
			b := int(int64(p.end.Sub(t.Start)) * int64(barW) / int64(total))
			a = min(max(a, 0), barW-1)
			b = min(max(b, a+1), barW)
			bar = strings.Repeat("·", a) + st.Accent.Render(strings.Repeat("█", b-a)) + strings.Repeat("·", barW-b)
		}
		out = append(out, fmt.Sprintf(" %-13s %s %s", p.name, bar, fmtDur(d)))
	}
	tot := "in progress"
	if !t.End.IsZero() {
		tot = fmtDur(total)
	}
	out = append(out, fmt.Sprintf(" %-13s %s", "total", tot))
	out = append(out, fmt.Sprintf(" %-13s %s", "started", t.Start.Local().Format("2006-01-02 15:04:05.000")))
	return out
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
