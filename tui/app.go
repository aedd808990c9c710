package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/har"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/eventlog"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/flowview"
	"github.com/interceptor-tui/interceptor-tui/tui/help"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
	"github.com/interceptor-tui/interceptor-tui/tui/prompt"
	"github.com/interceptor-tui/interceptor-tui/tui/rules"
	"github.com/interceptor-tui/interceptor-tui/tui/share"
	"github.com/interceptor-tui/interceptor-tui/tui/statusbar"
	"github.com/interceptor-tui/interceptor-tui/tui/theme"
)

// focus is the view that has the screen and the keys.
type focus int

const (
	focusList focus = iota
	focusView
	focusLog
	focusHelp
	focusRules
)

// Model is the root model: it owns focus, layout and routing, and turns
// the components' intents into store reads and writes. What the list
// shows, and the counters, it asks of the View (flows).
type Model struct {
	store  *flowstore.Store
	flows  *view.View
	log    *flowstore.EventLog
	engine Engine
	sub    *flowstore.Subscription
	ctx    context.Context
	cancel context.CancelFunc

	keys *keys.Map
	st   *theme.Styles

	list   flowlist.Model
	view   flowview.Model
	elog   eventlog.Model
	help   help.Model
	prompt prompt.Model
	status statusbar.Model
	rules  rules.Model

	focus, back   focus // back: where help returns to
	width, height int

	logSeq  uint64 // newest event log entry seen
	startup []string

	clip    Clipboard
	ca      *CAInfo
	browser func(context.Context) (string, error)
	clock   func() time.Time
	dir     string
	nowT    time.Time // the clock at the last tick, for paused times
	ticking bool      // a tick is armed

	mem *statusbar.Memory // memory and spool use, sampled each tick; nil without a spool

	kept     map[string][]byte // text of edits that did not parse, by flowedit.Key
	answered map[string]bool   // flows answered with R: K may keep them
	job      *share.Job        // what the file prompt writes
	creator  har.Creator       // us, in HAR files
	mouse    bool              // the program reports the mouse (Run)

	resumeWait time.Duration // how long "resume them and quit" waits
	quitting   bool          // resumed flows are finishing; then the program ends
}

// New builds the root model over a store. It subscribes to the store at
// once; the subscription ends when the program quits.
func New(opts Options) (*Model, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("tui: no flow store")
	}
	f, err := filter.Parse(opts.Filter)
	if err != nil {
		return nil, fmt.Errorf("tui: filter %q: %w", opts.Filter, err)
	}
	th := theme.Default()
	if opts.Theme != nil {
		th = *opts.Theme
	}
	st := th.Styles()
	km := keys.Default()
	probs, err := keys.Load(opts.ConfDir, km)
	if err != nil {
		return nil, err
	}
	lg := opts.Log
	if lg == nil {
		lg = flowstore.NewEventLog(1000)
	}
	for _, p := range probs {
		lg.Add(flowstore.LevelError, "tui", "", "key binding not applied: "+p.String())
	}
	m := &Model{
		store: opts.Store, log: lg, engine: opts.Engine, keys: km, st: st,
		view: flowview.New(km.FlowView, st),
		elog: eventlog.New(km.EventLog, st), help: help.New(km.Help, st),
		prompt: prompt.New(km.Prompt, st), status: statusbar.New(st), rules: rules.New(km.Rules, st),
		clip: opts.Clipboard, ca: opts.CA, browser: opts.Browser, clock: opts.Now, dir: opts.Dir,
		kept: map[string][]byte{}, answered: map[string]bool{},
		creator: har.Creator{Name: "interceptor-tui", Version: opts.Version},
	}
	if m.clock == nil {
		m.clock = time.Now
	}
	m.resumeWait = opts.ResumeWait
	if m.resumeWait <= 0 {
		m.resumeWait = DefaultResumeWait
	}
	if len(probs) > 0 {
		m.startup = append(m.startup, fmt.Sprintf("%d key binding(s) in %s not applied; see the event log (E)", len(probs), keys.FileName))
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.sub = m.store.Subscribe() // before reading, so nothing falls between
	m.flows = view.New(m.store, f)
	m.list = flowlist.New(km.FlowList, st, m.flows)
	m.prompt.AddHistory(tagFilter, opts.Filter)
	m.list.SetEmptyText(m.emptyText())
	m.elog.SetEntries(lg.Entries())
	m.mem = statusbar.ReadMemory(m.store.Stats())
	if last, ok := lg.Last(); ok {
		m.logSeq = last.Seq
	}
	return m, nil
}

// Init starts listening for store changes.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitForChanges(m.ctx, m.sub, m.log, time.Time{}), m.armTick()}
	for _, s := range m.startup {
		cmds = append(cmds, m.status.Flash(s, true))
	}
	return tea.Batch(cmds...)
}

// shutdown stops the store subscription and work in flight; the screen
// stays as it was.
func (m *Model) shutdown() {
	m.cancel()
	m.sub.Close()
	m.view.Stop()
}

func (m *Model) quit() tea.Cmd {
	m.shutdown()
	return tea.Quit
}

// Update routes a message: data and sizes to everyone, keys to the global
// map first and then to the focused component, intents to the handlers.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.layout()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.status.SetWidth(msg.Width)
		m.prompt.SetWidth(msg.Width)
		return m.view.SetSize(msg.Width, m.mainHeight()) // before layout: a new width re-cuts bodies
	case wakeMsg:
		return m.wake(msg)
	case tickMsg:
		return m.tick()
	case passDoneMsg:
		return m.passDone(msg)
	case tea.KeyMsg:
		return m.keyIn(msg)
	case tea.MouseMsg:
		if msg.Y >= m.mainHeight() || m.prompt.Active() {
			return nil
		}
		return m.toFocused(msg)
	}
	if cmd, ok := m.intent(msg); ok {
		return cmd
	}
	// Results of work done off the UI goroutine, and timers.
	var c1, c2 tea.Cmd
	m.view, c1 = m.view.Update(msg)
	m.status, c2 = m.status.Update(msg)
	return tea.Batch(c1, c2)
}

// keyIn takes a key message as the terminal's reader made it. Keys that
// arrive together (key repeat under load, typing over SSH, tmux send-keys
// jjj) come as one message with several runes, which no binding matches:
// outside a text field each rune is a key of its own, acted on in order,
// and once one opens a text field the rest is its text. A bracketed paste
// is text, never keys: outside a text field it is dropped, with a word.
func (m *Model) keyIn(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || m.prompt.Typing() {
		return m.key(msg)
	}
	if msg.Paste {
		return m.status.Flash("pasted text ignored: no text field is open (f filters, / searches a body)", true)
	}
	if len(msg.Runes) < 2 {
		return m.key(msg)
	}
	var cmds []tea.Cmd
	for i, r := range msg.Runes {
		if m.ctx.Err() != nil {
			break // one of them quit
		}
		if m.prompt.Typing() {
			rest := msg
			rest.Runes = msg.Runes[i:]
			cmds = append(cmds, m.key(rest))
			break
		}
		cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		m.layout() // as between two messages: a prompt may have opened
	}
	return tea.Batch(cmds...)
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	g := m.keys.Global
	if key.Matches(msg, g.Quit) {
		if m.quitting || m.prompt.Active() && (m.prompt.Tag() == tagQuit || m.prompt.Tag() == tagQuitPaused) {
			return m.quit() // asked twice
		}
		return m.requestQuit(false)
	}
	if m.quitting {
		// Resumed flows are finishing before the program ends: Q and
		// ctrl+c quit now, other keys wait with it.
		if key.Matches(msg, g.QuitNow) {
			return m.quit()
		}
		return nil
	}
	if m.prompt.Active() {
		var cmd tea.Cmd
		m.prompt, cmd = m.prompt.Update(msg)
		if !m.prompt.Active() {
			// Answered: act at once, for an answer may open the next
			// question and the keys typed next belong to it.
			return m.now(cmd)
		}
		return cmd
	}
	switch {
	case key.Matches(msg, g.QuitNow):
		return m.quit()
	case key.Matches(msg, g.Intercept):
		return m.openIntercept()
	case key.Matches(msg, g.Breakpoints):
		if m.focus == focusRules {
			m.focus = m.viewFocus()
			return nil
		}
		return m.openRules()
	case key.Matches(msg, g.CA):
		return m.showCA()
	case key.Matches(msg, g.Browser):
		return m.startBrowser()
	case key.Matches(msg, g.Help):
		if m.focus == focusHelp {
			m.focus = m.back
		} else {
			m.openHelp()
		}
		return nil
	case key.Matches(msg, g.EventLog):
		if m.focus == focusLog {
			m.focus = focusList
			if m.view.Flow() != nil {
				m.focus = focusView
			}
		} else {
			m.focus = focusLog
		}
		return nil
	}
	return m.toFocused(msg)
}

func (m *Model) toFocused(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch m.focus {
	case focusList:
		m.list, cmd = m.list.Update(msg)
		return m.now(cmd)
	case focusView:
		m.view, cmd = m.view.Update(msg)
		// The view's intents (back, search, flow actions) are acted on at
		// once, like the list's, so that in "qj" the j reaches the list;
		// its other commands are work (rendering) and run off this goroutine.
		if k, ok := msg.(tea.KeyMsg); ok {
			kv := &m.keys.FlowView
			if kv.Flow.Which(k) != "" || key.Matches(k, kv.Back, kv.Search) {
				return m.now(cmd)
			}
		}
	case focusLog:
		m.elog, cmd = m.elog.Update(msg)
		return m.now(cmd)
	case focusHelp:
		m.help, cmd = m.help.Update(msg)
		return m.now(cmd)
	case focusRules:
		m.rules, cmd = m.rules.Update(msg)
		return m.now(cmd)
	}
	return cmd
}

// now acts on an intent at once instead of after a trip through the event
// loop. The list, event log and help only ever return intents (cheap
// closures, never work), and acting before the next key is read keeps a
// fast "f~d x" from reaching the list, where d deletes a flow.
func (m *Model) now(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if c, ok := m.intent(msg); ok {
		return c
	}
	return func() tea.Msg { return msg }
}

func (m *Model) mainHeight() int {
	bottom := 1
	if m.prompt.Active() {
		bottom = m.prompt.Height()
	}
	return max(m.height-1-bottom, 1)
}

// layout gives every component its size; the prompt may have grown or
// shrunk by a line.
func (m *Model) layout() {
	h := m.mainHeight()
	if m.focus == focusList {
		m.list.SetNote(flowlist.Note(m.selected()))
	}
	m.list.SetSize(m.width, h)
	m.elog.SetSize(m.width, h)
	m.help.SetSize(m.width, h)
	m.rules.SetSize(m.width, h)
	m.view.SetSize(m.width, h) // the width is set already: no new work
}

// selected is the whole flow under the list's cursor, nil when there is
// none.
func (m *Model) selected() *flowstore.Flow { return m.flows.Flow(m.list.Selected()) }

// View draws the focused view, the status line and the hint or prompt line.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var main string
	switch m.focus {
	case focusList:
		main = m.list.View()
	case focusView:
		main = m.view.View()
	case focusLog:
		main = m.elog.View()
	case focusHelp:
		main = m.help.View()
	case focusRules:
		main = m.rules.View()
	}
	status := m.status
	status.SetInfo(m.info())
	status.SetHints(m.hints())
	bottom := status.HintLine()
	if m.prompt.Active() {
		bottom = m.prompt.View()
	}
	var b strings.Builder
	b.Grow(len(main) + 4*m.width)
	b.WriteString(main)
	b.WriteByte('\n')
	b.WriteString(status.StatusLine())
	b.WriteByte('\n')
	b.WriteString(bottom)
	return b.String()
}
