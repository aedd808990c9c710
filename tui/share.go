package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/tui/clip"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/share"
)

// What leaves the program: copy (y) and export (x) of one flow, a body (b),
// flows saved as HAR or JSON lines (w). What is written, and how, is
// package share's; here are the prompts and what the status line says. When a file cannot be
// written the path prompt comes back to try another: nothing is lost.

type (
	copiedMsg struct {
		job *share.Job
		res clip.Result
	}
	writtenMsg struct {
		job *share.Job
		n   int64
		err error
	}
)

// askExport asks what to copy (or export to a file) of f.
func (m *Model) askExport(f *flowstore.Flow, toFile bool) tea.Cmd {
	var cs []prompt.Choice
	for _, k := range share.Kinds(f, m.creator) {
		cs = append(cs, prompt.Choice{Key: k.Key, Label: k.Label})
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
	job, err := share.Export(f, choice, toFile, m.creator)
	switch {
	case err != nil:
		return m.status.Flash(err.Error(), true)
	case job == nil:
		return nil
	case toFile:
		return m.askPath(job, "")
	case m.clip == nil:
		return m.askPath(job, "not copied (no clipboard here)")
	}
	c := m.clip
	return func() tea.Msg { return copiedMsg{job: job, res: c.Copy(job.Data)} }
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
	size := flowstore.FormatSize(int64(len(j.Data)))
	if !r.Sure() {
		// OSC 52 has no answer: say what was done, and the way to a file.
		x := keys.Label(m.keys.FlowList.Flow.Export.Keys())
		return m.status.Flash(fmt.Sprintf("sent %s (%s) to the terminal's clipboard with OSC 52%s; the terminal does not say whether it took it: if it did not, %s writes a file",
			j.What, size, j.Note, x), false)
	}
	text := fmt.Sprintf("copied %s (%s) to the %s%s", j.What, size, strings.Join(r.Via, " and the "), j.Note)
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
	return m.askPath(share.Body(f, request), "")
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

// saveFlows asks where to save the flows chosen.
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
	return m.askPath(share.Flows(m.store, ids, m.creator, m.clock()), "")
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
func (m *Model) askPath(j *share.Job, note string) tea.Cmd {
	m.job = j
	v := j.Path
	if v == "" {
		v = j.Name
		if m.dir != "" {
			v = filepath.Join(m.dir, j.Name)
		}
	}
	label := "write " + j.What + " to: "
	if j.SavesFlows() {
		label = "save " + j.What + " to (.har or .jsonl): "
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

func (m *Model) pathChosen(v string) tea.Cmd {
	j := m.job
	if j == nil {
		return nil
	}
	j.Path = share.ExpandPath(v, "")
	if j.SavesFlows() {
		if j.Format = share.FormatOf(j.Path); j.Format == "" {
			m.prompt.Open(prompt.Spec{Tag: tagFormat, Label: "save " + filepath.Base(j.Path) + " as:", Choices: []prompt.Choice{
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
	m.job.Format = "har"
	if v == "j" {
		m.job.Format = "jsonl"
	}
	return m.checkExists()
}

func (m *Model) checkExists() tea.Cmd {
	if fi, err := os.Stat(m.job.Path); err == nil {
		if fi.IsDir() {
			return m.askPath(m.job, "that is a directory")
		}
		m.prompt.Open(prompt.Spec{Tag: tagOverwrite, Confirm: true, Label: m.job.Path + " exists. Replace it?"})
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
		n, err := j.Write()
		return writtenMsg{job: j, n: n, err: err}
	}
}

func (m *Model) written(msg writtenMsg) tea.Cmd {
	j := msg.job
	if msg.err != nil {
		m.log.Add(flowstore.LevelWarn, "save", "", fmt.Sprintf("cannot write %s: %v", j.Path, msg.err))
		return m.askPath(j, "cannot write: "+msg.err.Error())
	}
	if m.job == j {
		m.job = nil
	}
	return m.status.Flash(j.Wrote(msg.n), false)
}
