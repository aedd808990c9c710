package tui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/httptext"
	"github.com/interceptor-tui/interceptor-tui/tui/editor"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
)

// Breakpoints: editing paused flows and drafts (in $EDITOR or with quick
// prompts), answering them, keeping an edited response as a standing mock,
// and the intercept rules. Edits go to the store; the engine takes them
// from there when the flow is resumed (or, for a draft, sent).

// editKey names the message e edits for f: "request:ID" or "response:ID".
func editKey(f *flowstore.Flow) string {
	if f.State == flowstore.StatePaused && f.Paused == flowstore.PhaseResponse {
		return "response:" + f.ID
	}
	return "request:" + f.ID
}

// edit opens the paused message, or a draft's request, in $EDITOR; text
// that did not parse last time is reopened as it was left.
func (m *Model) edit(f *flowstore.Flow) tea.Cmd {
	k := editKey(f)
	text, ok := m.kept[k]
	switch {
	case ok:
	case strings.HasPrefix(k, "response:"):
		text = httptext.FormatResponse(f.Response)
	default:
		text = httptext.FormatRequest(f.Request)
	}
	what, _, _ := strings.Cut(k, ":")
	return editor.Edit(tagEdit+k, what+"-*.http", text)
}

// respond opens a response to answer a paused flow with: the paused
// response itself at the response phase, a small template before.
func (m *Model) respond(f *flowstore.Flow) tea.Cmd {
	k := "respond:" + f.ID
	text, ok := m.kept[k]
	if !ok {
		r := f.Response
		if f.Paused != flowstore.PhaseResponse || r == nil {
			r = &flowstore.Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
				Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
				Body:    flowstore.NewBody([]byte("answered by interceptor-tui\n"))}
		}
		text = httptext.FormatResponse(r)
	}
	return editor.Edit(tagEdit+k, "response-*.http", text)
}

// edited takes back what the editor left: parsed and applied, or, when it
// does not parse, kept for the next e with the error and its line shown;
// the flow stays paused either way.
func (m *Model) edited(msg editor.DoneMsg) tea.Cmd {
	k := strings.TrimPrefix(msg.Tag, tagEdit)
	what, id, _ := strings.Cut(k, ":")
	_, reopened := m.kept[k]
	if msg.Err != nil {
		if msg.Changed {
			m.kept[k] = msg.Text
		}
		return m.status.Flash(msg.Err.Error()+"; nothing was applied", true)
	}
	if !msg.Changed && !reopened && what != "respond" {
		return m.status.Flash("no change", false)
	}
	f, ok := m.store.Get(id)
	want := flowstore.PhaseRequest
	if what == "response" {
		want = flowstore.PhaseResponse
	}
	switch {
	case !ok:
		delete(m.kept, k)
		return m.status.Flash("the flow is gone; the edit was not applied", true)
	case what == "request" && f.State == flowstore.StateDraft:
	case f.State != flowstore.StatePaused || (what != "respond" && f.Paused != want):
		delete(m.kept, k)
		return m.status.Flash(fmt.Sprintf("the flow was released while you edited (it is %s now); the edit was not applied", f.State), true)
	}
	var req *flowstore.Request
	var resp *flowstore.Response
	var err error
	switch what {
	case "request":
		req, err = httptext.ParseRequest(msg.Text, f.Request)
	case "response":
		resp, err = httptext.ParseResponse(msg.Text, f.Response)
	default:
		var orig *flowstore.Response
		if f.Paused == flowstore.PhaseResponse {
			orig = f.Response
		}
		resp, err = httptext.ParseResponse(msg.Text, orig)
	}
	if err != nil {
		m.kept[k] = msg.Text
		again := keys.Label(m.keys.FlowList.Flow.Edit.Keys())
		if what == "respond" {
			again = keys.Label(m.keys.FlowList.Flow.Respond.Keys())
		}
		stays := "the flow stays paused"
		if f.State == flowstore.StateDraft {
			stays = "the draft is unchanged"
		}
		text := fmt.Sprintf("%s not applied: %v; %s, %s reopens your text", what, err, stays, again)
		m.log.Add(flowstore.LevelWarn, "edit", id, text)
		return m.status.Flash(text, true)
	}
	delete(m.kept, k)
	switch what {
	case "request":
		cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.KeepOriginal(); f.Request = req })
		next := "a sends it on"
		if f.State == flowstore.StateDraft {
			next = "r sends it"
		}
		return tea.Batch(cmd, m.status.Flash("request edited: "+next, false))
	case "response":
		cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.KeepOriginal(); f.Response = resp })
		return tea.Batch(cmd, m.status.Flash("response edited: a sends it to the client, K keeps it as a standing mock", false))
	}
	if err := m.engine.Respond(id, resp); err != nil {
		m.kept[k] = msg.Text
		return m.status.Flash("answer: "+err.Error(), true)
	}
	m.answered[id] = true
	m.forget(id)
	return m.status.Flash(fmt.Sprintf("answered with %d %s; the upstream was not contacted", resp.Status, resp.Reason), false)
}

// quickEdit asks which part to change without leaving the TUI.
func (m *Model) quickEdit(f *flowstore.Flow) tea.Cmd {
	label := "quick edit of the request:"
	cs := []prompt.Choice{{Key: "m", Label: "method"}, {Key: "u", Label: "URL"}}
	if strings.HasPrefix(editKey(f), "response:") {
		label = "quick edit of the response:"
		cs = []prompt.Choice{{Key: "s", Label: "status"}}
	}
	cs = append(cs, prompt.Choice{Key: "h", Label: "add/replace header"}, prompt.Choice{Key: "d", Label: "delete header"},
		prompt.Choice{Key: "b", Label: "body"})
	m.prompt.Open(prompt.Spec{Tag: tagQuick + f.ID, Label: label, Choices: cs})
	return nil
}

func (m *Model) askQuickValue(id, part string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	spec := prompt.Spec{Tag: tagQuickValue + part + ":" + id}
	hs := f.Request.Headers
	if strings.HasPrefix(editKey(f), "response:") {
		hs = f.Response.Headers
	}
	switch part {
	case "m":
		spec.Label, spec.Value, spec.Validate = "method: ", f.Request.Method, validateMethod
	case "u":
		spec.Label, spec.Value, spec.Validate = "URL: ", f.Request.URL(), validateURL
	case "s":
		spec.Label, spec.Value, spec.Validate = "status: ", strconv.Itoa(f.Response.Status), validateStatus
	case "h":
		spec.Label, spec.Placeholder, spec.Validate = "header: ", "Name: value (replaces a header of that name)", validateHeader
	case "b":
		b, hdr := f.Request.Body, f.Request.Headers
		if strings.HasPrefix(editKey(f), "response:") {
			b, hdr = f.Response.Body, f.Response.Headers
		}
		spec.Label, spec.Placeholder = "body: ", "the new body, on one line (e edits a longer one in $EDITOR)"
		if oneLine(b, hdr) {
			spec.Value = string(b.Data)
		}
	case "d":
		var names []string
		for _, h := range hs {
			names = append(names, h.Name)
		}
		spec.Label, spec.Placeholder = "delete header: ", strings.Join(names, ", ")
		spec.Validate = func(s string) *prompt.Problem {
			if s = strings.TrimSpace(s); s != "" && !hs.Has(s) {
				return &prompt.Problem{Pos: -1, Msg: "no header " + s}
			}
			return nil
		}
	}
	m.prompt.Open(spec)
	return nil
}

// oneLine reports whether a body can be shown in a one-line prompt as it
// is: short, text, one line, not encoded.
func oneLine(b flowstore.Body, h flowstore.Headers) bool {
	return !b.Truncated && len(b.Data) <= 4<<10 && len(content.Encodings(h.Get("Content-Encoding"))) == 0 &&
		utf8.Valid(b.Data) && !strings.ContainsAny(string(b.Data), "\r\n\t") && flowstore.EscapeControl(string(b.Data)) == string(b.Data)
}

// applyQuick makes a quick edit; the values were validated as typed. An
// empty value changes nothing (e empties a body).
func (m *Model) applyQuick(id, part, v string) tea.Cmd {
	if part != "b" { // a body's spaces are its own
		v = strings.TrimSpace(v)
	}
	if v == "" {
		return nil
	}
	f, ok := m.store.Get(id)
	if !ok || (f.State != flowstore.StatePaused && f.State != flowstore.StateDraft) {
		return m.status.Flash("the flow is no longer paused; nothing changed", true)
	}
	onResponse := strings.HasPrefix(editKey(f), "response:")
	var done string
	cmd := m.updateFlow(id, func(f *flowstore.Flow) {
		f.KeepOriginal()
		hs := &f.Request.Headers
		if onResponse {
			hs = &f.Response.Headers
		}
		switch part {
		case "m":
			f.Request.Method = v
			done = "method: " + v
		case "u":
			old := f.Request.Authority()
			if f.Request.SetURL(v) == nil && f.Request.Headers.Get("Host") == old {
				f.Request.Headers.Set("Host", f.Request.Authority())
			}
			done = "URL: " + f.Request.URL()
		case "s":
			n, _ := strconv.Atoi(v)
			f.Response.Status, f.Response.Reason = n, http.StatusText(n)
			done = "status: " + v
		case "h":
			name, value, _ := strings.Cut(v, ":")
			hs.Set(strings.TrimSpace(name), strings.TrimSpace(value))
			done = "header set: " + strings.TrimSpace(name)
		case "d":
			hs.Del(v)
			done = "header deleted: " + v
		case "b":
			body := flowstore.NewBody([]byte(v))
			if onResponse {
				f.Response.Body = body
			} else {
				f.Request.Body = body
			}
			done = "body set (" + flowstore.FormatSize(int64(len(v))) + ")"
			// The text is the body as sent: no encoding left to undo, and
			// the length is the new one.
			if hs.Has("Content-Encoding") {
				hs.Del("Content-Encoding")
				done += "; Content-Encoding removed"
			}
			if hs.Has("Content-Length") {
				hs.Set("Content-Length", strconv.Itoa(len(v)))
				done += "; Content-Length updated"
			}
		}
	})
	return tea.Batch(cmd, m.status.Flash(done, false))
}

func validateMethod(s string) *prompt.Problem {
	s = strings.TrimSpace(s)
	for i, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return &prompt.Problem{Pos: i, Msg: "not a method name"}
		}
	}
	return nil
}

func validateURL(s string) *prompt.Problem {
	var r flowstore.Request
	if err := r.SetURL(strings.TrimSpace(s)); err != nil {
		return &prompt.Problem{Pos: -1, Msg: err.Error()}
	}
	return nil
}

func validateStatus(s string) *prompt.Problem {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 999 {
		return &prompt.Problem{Pos: -1, Msg: "a status is a number from 100 to 999"}
	}
	return nil
}

func validateHeader(s string) *prompt.Problem {
	name, _, ok := strings.Cut(s, ":")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if !ok {
		return &prompt.Problem{Pos: len(s), Msg: "write Name: value"}
	}
	if n := strings.TrimSpace(name); n == "" || validateMethod(n) != nil {
		return &prompt.Problem{Pos: 0, Msg: "not a header name"}
	}
	return nil
}

// askKeep confirms a standing mock, showing what it will match.
func (m *Model) askKeep(f *flowstore.Flow) tea.Cmd {
	m.prompt.Open(prompt.Spec{Tag: tagKeep + f.ID,
		Label:   fmt.Sprintf("Answer every %s %s with this %d response from now on?", f.Request.Method, f.Request.URL(), f.Response.Status),
		Choices: []prompt.Choice{{Key: "y", Label: "yes"}, {Key: "f", Label: "match a filter instead"}}})
	return nil
}

func (m *Model) askKeepFilter(id string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok {
		return m.status.Flash("that flow is gone", true)
	}
	r := f.Request
	m.prompt.Open(prompt.Spec{Tag: tagKeepFilter + id, Label: "mock filter: ", History: true,
		Value:    fmt.Sprintf("~m %s & ~d %s & ~u %s", r.Method, r.Host, r.PathOnly()),
		Validate: validateRule})
	return nil
}

// keep makes f a standing mock: the flow carries the rule (so it is saved
// and loaded with the flows) and the engine gets the new list. Mocks whose
// flows were deleted from the list stay in the engine until removed in I.
func (m *Model) keep(id, flt string) tea.Cmd {
	f, ok := m.store.Get(id)
	if !ok || f.Response == nil {
		return m.status.Flash("that flow is gone", true)
	}
	g := f.Clone()
	g.Mock = &flowstore.MockRule{Filter: strings.TrimSpace(flt)}
	ms := m.mocksWithout(id)
	mk := flowstore.MocksFrom([]*flowstore.Flow{g})
	if err := m.engine.SetMocks(append(ms, mk...)); err != nil {
		return m.status.Flash("standing mock: "+err.Error(), true)
	}
	cmd := m.updateFlow(id, func(f *flowstore.Flow) { f.Mock = g.Mock })
	return tea.Batch(cmd, m.status.Flash(fmt.Sprintf("standing mock: %s answered with %d from now on (I lists it)", mk[0].Describe(), f.Response.Status), false))
}

func (m *Model) mocksWithout(flowID string) []flowstore.Mock {
	var out []flowstore.Mock
	for _, mk := range m.engine.Mocks() {
		if mk.FlowID != flowID {
			out = append(out, mk)
		}
	}
	return out
}

// openRules shows the breakpoint list.
func (m *Model) openRules() tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	m.refreshRules()
	m.focus = focusRules
	return nil
}

func (m *Model) refreshRules() {
	if m.engine != nil {
		m.rules.SetRules(m.engine.Intercepting(), m.engine.Breakpoints(), m.engine.Mocks())
	}
}

func (m *Model) ruleIntent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case rules.AddMsg:
		m.prompt.Open(prompt.Spec{Tag: tagBPAdd, Label: "new breakpoint: ", History: true, Validate: validateRule,
			Placeholder: "~u /api & ~m POST"})
	case rules.EditMsg:
		m.prompt.Open(prompt.Spec{Tag: tagBPEdit + strconv.Itoa(msg.Index), Label: "breakpoint: ", Value: msg.Filter,
			History: true, Validate: validateRule})
	case rules.PhaseMsg:
		return m.changeBreakpoints(func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
			if msg.Index < len(bps) {
				b := &bps[msg.Index]
				switch b.Phases() {
				case "both":
					b.Request, b.Response = true, false
				case "request":
					b.Request, b.Response = false, true
				default:
					b.Request, b.Response = true, true
				}
			}
			return bps
		}, "")
	case rules.ToggleMsg:
		if msg.Kind == rules.KindMock {
			return m.changeMock(msg.Index, false)
		}
		return m.changeBreakpoints(func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
			if msg.Index < len(bps) {
				bps[msg.Index].Disabled = !bps[msg.Index].Disabled
			}
			return bps
		}, "")
	case rules.DeleteMsg:
		if msg.Kind == rules.KindMock {
			return m.changeMock(msg.Index, true)
		}
		return m.changeBreakpoints(func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
			if msg.Index < len(bps) {
				return append(bps[:msg.Index:msg.Index], bps[msg.Index+1:]...)
			}
			return bps
		}, "breakpoint deleted")
	case rules.SwitchMsg:
		m.engine.SetIntercepting(msg.On)
		m.refreshRules()
		if msg.On {
			return m.status.Flash("interception on: breakpoints pause flows again", false)
		}
		return m.status.Flash("interception off: no flow will pause (s turns it back on)", false)
	}
	return nil
}

// changeBreakpoints applies change to a copy of the rules and gives them
// to the engine; say is flashed when it took.
func (m *Model) changeBreakpoints(change func([]flowstore.Breakpoint) []flowstore.Breakpoint, say string) tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	bps := change(append([]flowstore.Breakpoint(nil), m.engine.Breakpoints()...))
	if err := m.engine.SetBreakpoints(bps); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	m.refreshRules()
	if say == "" {
		return nil
	}
	return m.status.Flash(say, false)
}

func (m *Model) editBreakpoint(index, v string) tea.Cmd {
	i, _ := strconv.Atoi(index)
	return m.changeBreakpoints(func(bps []flowstore.Breakpoint) []flowstore.Breakpoint {
		if i < len(bps) {
			bps[i].Filter = strings.TrimSpace(v)
		}
		return bps
	}, "breakpoint changed")
}

// changeMock disables/enables or removes a standing mock, in the engine and
// on the flow that carries it.
func (m *Model) changeMock(i int, remove bool) tea.Cmd {
	ms := m.engine.Mocks()
	if i >= len(ms) {
		return nil
	}
	mk := ms[i]
	say := "standing mock removed: " + mk.Describe()
	if remove {
		ms = append(ms[:i:i], ms[i+1:]...)
	} else {
		ms[i].Disabled = !ms[i].Disabled
		say = "standing mock on: " + mk.Describe()
		if ms[i].Disabled {
			say = "standing mock off: " + mk.Describe()
		}
	}
	if err := m.engine.SetMocks(ms); err != nil {
		return m.status.Flash("standing mock: "+err.Error(), true)
	}
	cmd := m.updateFlow(mk.FlowID, func(f *flowstore.Flow) {
		switch {
		case remove:
			f.Mock = nil
		case f.Mock != nil:
			f.Mock.Disabled = ms[i].Disabled
		}
	})
	m.refreshRules()
	return tea.Batch(cmd, m.status.Flash(say, false))
}

// validateRule accepts a filter that parses and is not empty.
func validateRule(s string) *prompt.Problem {
	if strings.TrimSpace(s) == "" {
		return &prompt.Problem{Pos: -1, Msg: "write a filter (~all pauses everything)"}
	}
	return validateFilter(s)
}

// mainRule is the index of the intercept filter (i): the first rule for
// both phases, or -1.
func mainRule(bps []flowstore.Breakpoint) int {
	for i, b := range bps {
		if b.Request && b.Response {
			return i
		}
	}
	return -1
}

// openIntercept asks for the intercept filter, mitmproxy's i.
func (m *Model) openIntercept() tea.Cmd {
	if m.engine == nil {
		return m.status.Flash(noEngine, true)
	}
	v := ""
	if bps := m.engine.Breakpoints(); mainRule(bps) >= 0 {
		v = bps[mainRule(bps)].Filter
	}
	m.prompt.Open(prompt.Spec{Tag: tagIntercept, Label: "intercept: ", Value: v, History: true, Validate: validateFilter,
		Placeholder: "~u /api & ~m POST   (pauses requests and responses; empty: none)"})
	return nil
}

// setIntercept sets, replaces or (given nothing) removes the intercept
// filter, and turns interception on for a new one.
func (m *Model) setIntercept(v string) tea.Cmd {
	v = strings.TrimSpace(v)
	if _, err := filter.Parse(v); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	bps := append([]flowstore.Breakpoint(nil), m.engine.Breakpoints()...)
	j := mainRule(bps)
	switch {
	case v == "" && j < 0:
		return nil
	case v == "":
		bps = append(bps[:j:j], bps[j+1:]...)
	case j < 0:
		bps = append([]flowstore.Breakpoint{{Filter: v, Request: true, Response: true}}, bps...)
	default:
		bps[j].Filter, bps[j].Disabled = v, false
	}
	if err := m.engine.SetBreakpoints(bps); err != nil {
		return m.status.Flash(err.Error(), true)
	}
	m.refreshRules()
	if v == "" {
		msg := "intercept filter cleared"
		if len(bps) > 0 {
			msg += fmt.Sprintf("; %d other breakpoint(s) remain (I)", len(bps))
		}
		return m.status.Flash(msg, false)
	}
	m.engine.SetIntercepting(true)
	return m.status.Flash("intercepting "+v+" (requests and responses); a resumes, I lists breakpoints", false)
}
