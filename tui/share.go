package tui

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
)

// What leaves the program: copy (y) and export (x) of one flow, a body (b),
// flows saved as HAR or JSON lines (w), the CA's details (C) and a browser
// that trusts it (B). Files are written through a temporary file in the
// same directory and renamed, so a failure (read-only directory, full
// disk) leaves no half file, and the prompt comes back with the path to
// try another: nothing is lost.

type (
	copiedMsg struct {
		job *writeJob
		res clip.Result
	}
	writtenMsg struct {
		job *writeJob
		n   int64
		err error
	}
	browserMsg struct {
		text string
		err  error
	}
)

// writeJob is something to write to a file once a path is chosen.
type writeJob struct {
	what   string                    // "curl command", "3 flows"
	name   string                    // default file name
	data   []byte                    // the bytes, or nil for flows
	flows  iter.Seq[*flowstore.Flow] // flows to save (w), read as they are written
	format string                    // for flows: "har" or "jsonl"; "" until known
	path   string                    // the path chosen
	note   string                    // said after writing

	creator har.Creator // for HAR
	chosen  int         // flows chosen; fewer are written when some go meanwhile
	written int         // flows written, counted by flows as it yields them
	drafts  int         // of those, drafts a HAR file leaves out
}

// exportKind is one thing y copies and x exports.
type exportKind struct {
	key, label, ext string
	make            func(f *flowstore.Flow, file bool) ([]byte, string, error) // bytes, and a note
}

func exportKinds(f *flowstore.Flow, creator har.Creator) []exportKind {
	line := func(s string, file bool) []byte {
		if file {
			s += "\n"
		}
		return []byte(s)
	}
	ks := []exportKind{
		{"u", "URL", ".txt", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.URL(f.Request), file), "", nil
		}},
		{"c", "curl", ".sh", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.Curl(f.Request), file), truncNote(f.Request.Body), nil
		}},
		{"h", "httpie", ".sh", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
			return line(export.HTTPie(f.Request), file), truncNote(f.Request.Body), nil
		}},
		{"r", "raw request", ".http", func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
			return export.RawRequest(f.Request), truncNote(f.Request.Body), nil
		}},
	}
	if f.Response != nil {
		ks = append(ks,
			exportKind{"s", "raw response", ".http", func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
				return export.RawResponse(f.Response), truncNote(f.Response.Body), nil
			}},
			exportKind{"b", "response body", bodyExt(f.Response.Headers), func(f *flowstore.Flow, _ bool) ([]byte, string, error) {
				b, note := decoded(f.Response.Body, f.Response.Headers)
				return b, note, nil
			}})
	}
	if !har.Holds(f) { // a draft: no exchange to describe yet
		return ks
	}
	return append(ks, exportKind{"a", "HAR", ".har", func(f *flowstore.Flow, file bool) ([]byte, string, error) {
		var buf bytes.Buffer
		var err error
		if file { // a whole HAR log, which other tools open
			err = har.Write(&buf, []*flowstore.Flow{f}, creator)
		} else { // the entry, to paste into one
			err = har.WriteEntry(&buf, f)
		}
		return buf.Bytes(), "", err
	}})
}

func truncNote(b flowstore.Body) string {
	if !b.Truncated {
		return ""
	}
	return fmt.Sprintf("; the body was cut at the body limit (%s of %s kept)", flowstore.FormatSize(int64(len(b.Data))), flowstore.FormatSize(b.Size))
}

// decoded is a body as its content: Content-Encoding undone where it can be.
func decoded(b flowstore.Body, h flowstore.Headers) ([]byte, string) {
	note := truncNote(b)
	ce := h.Get("Content-Encoding")
	if ce == "" || b.Truncated {
		return b.Data, note
	}
	d, err := content.Decode(b.Data, ce, 0)
	if err != nil {
		return b.Data, note + "; kept " + ce + "-encoded: " + err.Error()
	}
	return d, note
}

func bodyExt(h flowstore.Headers) string {
	mt := content.MediaType(h.Get("Content-Type"))
	switch {
	case strings.HasSuffix(mt, "json"):
		return ".json"
	case mt == "text/html":
		return ".html"
	case strings.HasSuffix(mt, "xml"):
		return ".xml"
	case mt == "text/css":
		return ".css"
	case strings.HasSuffix(mt, "javascript"):
		return ".js"
	case strings.HasPrefix(mt, "text/"):
		return ".txt"
	case mt == "application/x-www-form-urlencoded":
		return ".form"
	case strings.HasPrefix(mt, "image/"):
		sub := strings.TrimPrefix(mt, "image/")
		if i := strings.IndexByte(sub, '+'); i >= 0 {
			sub = sub[:i]
		}
		return "." + strings.TrimPrefix(sub, "x-")
	case mt == "application/pdf":
		return ".pdf"
	}
	return ".bin"
}

// stem is the start of a file name for a flow: host-id.
func stem(f *flowstore.Flow) string {
	host := "flow"
	if f.Request != nil && f.Request.Host != "" {
		host = f.Request.Host
	}
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, host)
	id := f.ID
	if len(id) > 6 {
		id = id[len(id)-6:]
	}
	return host + "-" + id
}

// askExport asks what to copy (or export to a file) of f.
func (m *Model) askExport(f *flowstore.Flow, toFile bool) tea.Cmd {
	var cs []prompt.Choice
	for _, k := range exportKinds(f, m.creator) {
		cs = append(cs, prompt.Choice{Key: k.key, Label: k.label})
	}
	tag, label := tagCopy+f.ID, "copy:"
	if toFile {
		tag, label = tagExport+f.ID, "export to a file:"
	}
	m.prompt.Open(prompt.Spec{Tag: tag, Label: label, Choices: cs})
	return nil
}

func (m *Model) export(id, choice string, toFile bool) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	for _, k := range exportKinds(f, m.creator) {
		if k.key != choice {
			continue
		}
		data, note, err := k.make(f, toFile)
		if err != nil {
			return m.status.Flash(k.label+": "+err.Error(), true)
		}
		name := stem(f) + k.ext
		if k.key == "b" || k.key == "s" {
			name = stem(f) + "-response" + k.ext
		}
		job := &writeJob{what: k.label, name: name, data: data, note: note}
		if toFile {
			return m.askPath(job, "")
		}
		if m.clip == nil {
			return m.askPath(job, "not copied (no clipboard here)")
		}
		c := m.clip
		return func() tea.Msg { return copiedMsg{job: job, res: c.Copy(data)} }
	}
	return nil
}

// copied says where a copy went, or offers a file when it went nowhere.
func (m *Model) copied(msg copiedMsg) tea.Cmd {
	j, r := msg.job, msg.res
	if !r.OK() {
		m.log.Add(flowstore.LevelInfo, "copy", "", "not copied: "+strings.Join(r.Problems, "; "))
		why := "no clipboard reachable"
		if r.TooBig {
			why = "too large for the terminal clipboard"
		}
		return m.askPath(j, "not copied ("+why+")")
	}
	size := flowstore.FormatSize(int64(len(j.data)))
	if !r.Sure() {
		// OSC 52 has no answer: say what was done, and the way to a file.
		x := keys.Label(m.keys.FlowList.Flow.Export.Keys())
		return m.status.Flash(fmt.Sprintf("sent %s (%s) to the terminal's clipboard with OSC 52%s; the terminal does not say whether it took it: if it did not, %s writes a file",
			j.what, size, j.note, x), false)
	}
	text := fmt.Sprintf("copied %s (%s) to the %s%s", j.what, size, strings.Join(r.Via, " and the "), j.note)
	if r.TooBig {
		text += "; too large for the terminal clipboard"
	}
	return m.status.Flash(text, false)
}

// askBody asks which body to save when there are two; in the flow view the
// tab shown says which.
func (m *Model) askBody(f *flowstore.Flow) tea.Cmd {
	hasReq := len(f.Request.Body.Data) > 0
	hasResp := f.Response != nil && len(f.Response.Body.Data) > 0
	if m.focus == focusView && m.view.Flow() != nil && m.view.Flow().ID == f.ID {
		if req := m.view.Tab() == 0; (req && hasReq) || (!req && hasResp) {
			return m.saveBody(f.ID, req)
		}
	}
	if hasReq && hasResp {
		m.prompt.Open(prompt.Spec{Tag: tagBody + f.ID, Label: "save which body:", Choices: []prompt.Choice{
			{Key: "q", Label: "request"}, {Key: "s", Label: "response"}}})
		return nil
	}
	return m.saveBody(f.ID, hasReq)
}

func (m *Model) saveBody(id string, request bool) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	b, h, side := f.Request.Body, f.Request.Headers, "request"
	if !request && f.Response != nil {
		b, h, side = f.Response.Body, f.Response.Headers, "response"
	}
	data, note := decoded(b, h)
	return m.askPath(&writeJob{what: side + " body", name: stem(f) + "-" + side + bodyExt(h), data: data, note: note}, "")
}

// askSave asks which flows w saves.
func (m *Model) askSave(f *flowstore.Flow) tea.Cmd {
	cs := []prompt.Choice{{Key: "a", Label: fmt.Sprintf("all (%d)", m.store.Len())}}
	c := m.flows.Counts()
	if c.Shown != c.Total {
		cs = append(cs, prompt.Choice{Key: "s", Label: fmt.Sprintf("shown (%d)", c.Shown)})
	}
	if n := c.Marked; n > 0 {
		cs = append(cs, prompt.Choice{Key: "m", Label: fmt.Sprintf("marked (%d)", n)})
	}
	id := ""
	if f != nil {
		id = f.ID
		cs = append(cs, prompt.Choice{Key: "t", Label: "this flow"})
	}
	m.prompt.Open(prompt.Spec{Tag: tagSave + id, Label: "save flows:", Choices: cs})
	return nil
}

// saveFlows asks where to save the flows chosen. They are read from the
// store one at a time while the file is written, since whole flows of a
// long session do not fit in memory together (most are spooled).
func (m *Model) saveFlows(id, choice string) tea.Cmd {
	var ids []string
	switch choice {
	case "a":
		ids = idsOf(m.store.Summaries(), nil)
	case "s":
		if p := m.filtering(); p != "" {
			// The rows are the previous filter's until the pass ends.
			return m.status.Flash("the new filter is still being applied ("+p+"): save the shown flows once it is done", true)
		}
		ids = idsOf(m.flows.Flows(), nil)
	case "m":
		ids = idsOf(m.store.Summaries(), (*flowstore.Summary).Marked)
	case "t":
		if _, _, ok := m.store.Peek(id); ok {
			ids = []string{id}
		}
	}
	if len(ids) == 0 {
		return m.status.Flash("no flows to save", true)
	}
	store := m.store
	j := &writeJob{what: countFlows(len(ids)), chosen: len(ids), creator: m.creator}
	j.name = "flows-" + m.clock().Format("20060102-150405") + ".har"
	j.flows = func(yield func(*flowstore.Flow) bool) {
		j.written = 0
		for _, id := range ids {
			f, ok := store.Get(id)
			if !ok {
				continue // deleted or evicted since: left out, and counted out
			}
			j.written++
			if !yield(f) {
				return
			}
		}
	}
	return m.askPath(j, "")
}

func countFlows(n int) string {
	if n == 1 {
		return "1 flow"
	}
	return fmt.Sprintf("%d flows", n)
}

// idsOf is the IDs of the summaries keep accepts (all for nil).
func idsOf(ss []*flowstore.Summary, keep func(*flowstore.Summary) bool) []string {
	ids := make([]string, 0, len(ss))
	for _, s := range ss {
		if keep == nil || keep(s) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// askPath asks where to write j, offering the default name (or the path
// tried last); note, when given, leads the question: why a file is
// offered, or why the last path did not work.
func (m *Model) askPath(j *writeJob, note string) tea.Cmd {
	m.job = j
	v := j.path
	if v == "" {
		v = j.name
		if m.dir != "" {
			v = filepath.Join(m.dir, j.name)
		}
	}
	label := "write " + j.what + " to: "
	if j.flows != nil {
		label = "save " + j.what + " to (.har or .jsonl): "
	}
	if note != "" {
		label = note + "; " + label
	}
	m.prompt.Open(prompt.Spec{Tag: tagPath, Label: label, Value: v, Validate: func(s string) *prompt.Problem {
		if strings.TrimSpace(s) == "" {
			return &prompt.Problem{Pos: -1, Msg: "a file name, please"}
		}
		return nil
	}})
	return nil
}

// expandPath resolves ~/ and makes a relative path relative to dir.
func expandPath(p, dir string) string {
	p = strings.TrimSpace(p)
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(p) && dir != "" && !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") {
		return filepath.Join(dir, p)
	}
	return p
}

func (m *Model) pathChosen(v string) tea.Cmd {
	j := m.job
	if j == nil {
		return nil
	}
	j.path = expandPath(v, "")
	if j.flows != nil {
		switch strings.ToLower(filepath.Ext(j.path)) {
		case ".har":
			j.format = "har"
		case ".jsonl", ".ndjson", ".flows":
			j.format = "jsonl"
		default:
			m.prompt.Open(prompt.Spec{Tag: tagFormat, Label: "save " + filepath.Base(j.path) + " as:", Choices: []prompt.Choice{
				{Key: "h", Label: "HAR 1.2"}, {Key: "j", Label: "JSON lines"}}})
			return nil
		}
	}
	return m.checkExists()
}

func (m *Model) formatChosen(v string) tea.Cmd {
	if m.job == nil {
		return nil
	}
	m.job.format = "har"
	if v == "j" {
		m.job.format = "jsonl"
	}
	return m.checkExists()
}

func (m *Model) checkExists() tea.Cmd {
	if fi, err := os.Stat(m.job.path); err == nil {
		if fi.IsDir() {
			return m.askPath(m.job, "that is a directory")
		}
		m.prompt.Open(prompt.Spec{Tag: tagOverwrite, Confirm: true, Label: m.job.path + " exists. Replace it?"})
		return nil
	}
	return m.write()
}

// write writes the job off the UI goroutine.
func (m *Model) write() tea.Cmd {
	j := m.job
	if j == nil {
		return nil
	}
	return func() tea.Msg {
		n, err := writeFile(j)
		return writtenMsg{job: j, n: n, err: err}
	}
}

func (m *Model) written(msg writtenMsg) tea.Cmd {
	j := msg.job
	if msg.err != nil {
		m.log.Add(flowstore.LevelWarn, "save", "", fmt.Sprintf("cannot write %s: %v", j.path, msg.err))
		return m.askPath(j, "cannot write: "+msg.err.Error())
	}
	if m.job == j {
		m.job = nil
	}
	what, note := j.what, j.note
	if j.flows != nil {
		// The file holds the flows still there when it was written.
		what = countFlows(j.written-j.drafts) + map[string]string{"har": " as HAR", "jsonl": " as JSON lines"}[j.format]
		if gone := j.chosen - j.written; gone > 0 {
			note += fmt.Sprintf("; %s of those chosen had gone meanwhile (past --max-flows, or cleared)", countFlows(gone))
		}
		if j.drafts > 0 {
			note += fmt.Sprintf("; %d unsent draft(s) left out (HAR holds exchanges; JSON lines keeps drafts)", j.drafts)
		}
	}
	return m.status.Flash(fmt.Sprintf("wrote %s to %s (%s)%s", what, j.path, flowstore.FormatSize(msg.n), note), false)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeFile writes a job through a temporary file renamed into place.
func writeFile(j *writeJob) (int64, error) {
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, ".interceptor-tui-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return 0, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 64<<10)
	cw := &countWriter{w: bw}
	switch {
	case j.flows == nil:
		_, err = cw.Write(j.data)
	case j.format == "har":
		j.drafts = 0
		err = har.WriteSeq(cw, func(yield func(*flowstore.Flow) bool) {
			for f := range j.flows {
				if !har.Holds(f) {
					j.drafts++
				}
				if !yield(f) {
					return
				}
			}
		}, j.creator)
	default:
		s := flowstore.NewSaver(cw)
		for f := range j.flows {
			if err = s.Save(f); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.path)
	}
	return cw.n, err
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
