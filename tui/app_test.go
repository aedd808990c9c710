package tui_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/tui"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	time.Local = time.UTC
	os.Exit(m.Run())
}

func pngBytes(w, h int) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h)))
	return buf.Bytes()
}

// sampleFlows are five flows of a small API session, with fixed IDs.
func sampleFlows() []*flowstore.Flow {
	fs := []*flowstore.Flow{
		flowtest.New(flowtest.URL("https://api.example.com/v1/users?page=2"),
			flowtest.RespBody("application/json", []byte(`{"users":[{"id":1,"name":"ada"},{"id":2,"name":"grace"}],"next":null}`))),
		flowtest.New(flowtest.Method("POST"), flowtest.URL("https://api.example.com/v1/login"),
			flowtest.ReqBody("application/json", []byte(`{"user":"ada","password":"secret"}`)), flowtest.Status(401), flowtest.At(time.Second)),
		flowtest.New(flowtest.URL("http://cdn.example.net/img/logo.png"), flowtest.RespBody("image/png", pngBytes(320, 200)), flowtest.At(2*time.Second)),
		flowtest.New(flowtest.URL("https://down.example.org/health"), flowtest.Failed("dial tcp 10.0.0.1:443: connection refused"), flowtest.At(3*time.Second)),
		flowtest.New(flowtest.Method("DELETE"), flowtest.URL("https://api.example.com/v1/users/42"), flowtest.Status(204), flowtest.At(4*time.Second)),
	}
	for i, f := range fs {
		f.ID = fmt.Sprintf("%016x", i+1)
	}
	return fs
}

func newStore(fs ...*flowstore.Flow) *flowstore.Store {
	s := flowstore.NewStore(0)
	s.AddAll(fs)
	return s
}

type harness struct {
	t     *testing.T
	tm    *teatest.TestModel
	store *flowstore.Store
	log   *flowstore.EventLog
	eng   *fakeEngine
	seen  []byte // every byte the program wrote that a wait has read
}

// start runs the TUI over opts; a nil Store gets the sample flows, a nil
// Engine a fake engine over the store.
func start(t *testing.T, w, h int, opts tui.Options) *harness {
	t.Helper()
	if opts.Store == nil {
		opts.Store = newStore(sampleFlows()...)
	}
	if opts.Log == nil {
		opts.Log = flowstore.NewEventLog(100)
	}
	eng, _ := opts.Engine.(*fakeEngine)
	if opts.Engine == nil {
		eng = newEngine(opts.Store)
		opts.Engine = eng
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return clock }
	}
	m, err := tui.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	return &harness{t: t, tm: tm, store: opts.Store, log: opts.Log, eng: eng}
}

var specialKeys = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
	"up": tea.KeyUp, "down": tea.KeyDown, "pgdown": tea.KeyPgDown, "ctrl+c": tea.KeyCtrlC,
	"backspace": tea.KeyBackspace, "ctrl+u": tea.KeyCtrlU,
}

// press sends keys: names of special keys, or runes.
func (h *harness) press(ks ...string) {
	for _, k := range ks {
		if t, ok := specialKeys[k]; ok {
			h.tm.Send(tea.KeyMsg{Type: t})
			continue
		}
		h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	}
}

// typeText types s into a prompt.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// waitFor waits until every string has been drawn since the last wait.
func (h *harness) waitFor(subs ...string) {
	h.t.Helper()
	var last []byte
	defer func() { h.seen = append(h.seen, last...) }()
	teatest.WaitFor(h.t, h.tm.Output(), func(b []byte) bool {
		last = b
		for _, s := range subs {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// final quits at once and returns the last screen.
func (h *harness) final() string {
	h.t.Helper()
	h.press("Q")
	return h.tm.FinalModel(h.t, teatest.WithFinalTimeout(5*time.Second)).View()
}

// selectedLine reports whether the line under the cursor holds s.
func selectedLine(screen, s string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, ">") {
			return strings.Contains(l, s)
		}
	}
	return false
}

func TestList(t *testing.T) {
	h := start(t, 100, 12, tui.Options{})
	h.waitFor("api.example.com", "/v1/login", "127.0.0.1:8080", "5 flows")
	h.press("j", "j", "down", "k")
	golden.RequireEqual(t, []byte(h.final()))
}

func TestListAt80x24(t *testing.T) {
	s := newStore(sampleFlows()...)
	e := newEngine(s)
	e.bps = []flowstore.Breakpoint{{Filter: "~d api & ~m POST", Request: true, Response: true}}
	h := start(t, 80, 24, tui.Options{Store: s, Engine: e})
	h.waitFor("/v1/users/42", "break: ~d api & ~m POST")
	golden.RequireEqual(t, []byte(h.final()))
}

func TestFollow(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("/v1/users/42")
	h.press("F")
	h.waitFor("follow")
	for i := range 20 {
		h.store.Add(flowtest.New(flowtest.URL(fmt.Sprintf("https://live.example.com/event/%d", i)), flowtest.At(time.Minute)))
	}
	h.waitFor("/event/19", "25 flows")
	out := h.final()
	if !selectedLine(out, "/event/19") {
		t.Fatalf("newest flow not selected:\n%s", out)
	}
	golden.RequireEqual(t, []byte(out))
}

func TestOrder(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("5 flows")
	h.press("o") // method
	h.waitFor("order: method▲")
	h.press("o", "o") // url, then status
	h.waitFor("order: status▲")
	h.press("v")
	h.waitFor("order: status▼")
	golden.RequireEqual(t, []byte(h.final()))
}

func TestMarkAndQuitAsks(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("5 flows")
	h.press("j", "m", "j", "j", "m", "M")
	h.waitFor("2/5 flows", "marked only", "2 marked")
	h.press("q")
	h.waitFor("Quit? 2 marked flow(s) will be lost. (y/n)")
	h.press("n")
	h.press("U")
	h.waitFor("cleared 2 mark(s)")
	h.press("M")
	h.waitFor("│ 5 flows")
	h.press("q") // nothing would be lost now, but q asks all the same
	h.waitFor("Quit interceptor-tui? (y/n)")
	h.press("y")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestQuitKeys: q is "back" in every view and asks in the list, where one
// q too many would end the session; n or another q stays; y quits. Q quits
// at once, and so does ctrl+c when nothing would be lost.
func TestQuitKeys(t *testing.T) {
	t.Run("q asks", func(t *testing.T) {
		h := start(t, 100, 10, tui.Options{})
		h.waitFor("5 flows")
		h.press("enter")
		h.waitFor("[Request]")
		h.press("q") // back
		h.waitFor("METHOD")
		h.press("q")
		h.waitFor("Quit interceptor-tui? (y/n)")
		h.press("n", "j")
		h.waitFor("/v1/login")
		h.press("q")
		h.waitFor("Quit interceptor-tui? (y/n)")
		h.press("q") // q again is no, not yes
		h.waitFor("enter open flow")
		h.press("q")
		h.waitFor("Quit interceptor-tui? (y/n)")
		h.press("y")
		out := h.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
		if !selectedLine(out, "/v1/login") {
			t.Fatalf("n or q at the question did not keep the session:\n%s", out)
		}
	})
	for _, k := range []string{"Q", "ctrl+c"} {
		t.Run(k+" quits at once", func(t *testing.T) {
			h := start(t, 100, 10, tui.Options{})
			h.waitFor("5 flows")
			h.press(k)
			h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
		})
	}
}

// TestRowsShowSchemeCommentAndError: rows tell HTTP from HTTPS, and the
// line under the rows reads the selected flow's comment (its row shows ¶)
// and its whole error (its row shows ERR).
func TestRowsShowSchemeCommentAndError(t *testing.T) {
	h := start(t, 100, 12, tui.Options{})
	h.waitFor("https://api.example.com", "http://cdn.example.net")
	h.press(";")
	h.typeText("look here")
	h.press("enter")
	h.waitFor("¶ look here")
	h.burst("jjj")
	h.waitFor("✗ request: dial tcp 10.0.0.1:443: connection refused")
	h.press("j")
	out := h.final()
	if strings.Contains(out, "look here") || strings.Contains(out, "connection refused") {
		t.Fatalf("the note stayed on a flow with nothing to say:\n%s", out)
	}
}

func TestCommentDeleteClear(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("5 flows")
	h.press(";")
	h.waitFor("comment:")
	h.typeText("look here")
	h.press("enter")
	h.press("d")
	h.waitFor("4 flows")
	if f, _ := h.store.Get(fmt.Sprintf("%016x", 1)); f != nil {
		t.Errorf("deleted flow still in the store")
	}
	h.press("z")
	h.waitFor("Clear all 4 flows?")
	h.press("y")
	h.waitFor("0 flows")
	golden.RequireEqual(t, []byte(h.final()))
}

func TestFlowViewTabs(t *testing.T) {
	h := start(t, 100, 24, tui.Options{})
	h.waitFor("5 flows")
	h.press("enter")
	h.waitFor("[Request]", "User-Agent")
	h.press("tab")
	h.waitFor("[Response]", `"name": "grace"`, "view auto: json")
	h.press("tab")
	h.waitFor("[Details]", "Timings")
	h.press("shift+tab")
	h.waitFor("[Response]")
	out := h.final()
	golden.RequireEqual(t, []byte(out))
}

func TestFlowViewBackToList(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("5 flows")
	h.press("j", "enter")
	h.waitFor("[Request]", "view auto: json")
	h.press("q")
	h.waitFor("METHOD")
	if out := h.final(); !selectedLine(out, "/v1/login") {
		t.Fatalf("back in the list with the cursor kept:\n%s", out)
	}
}

func TestBodyModes(t *testing.T) {
	t.Run("json then hex by hand", func(t *testing.T) {
		h := start(t, 100, 16, tui.Options{})
		h.waitFor("5 flows")
		h.press("enter")
		h.waitFor("[Request]")
		h.press("tab")
		h.waitFor(`"users": [`)
		for range 8 { // auto → json xml html form multipart image text hex
			h.press("m")
		}
		h.waitFor("view hex", "00000000  7b 22 75 73 65 72 73 22")
		golden.RequireEqual(t, []byte(h.final()))
	})
	t.Run("image", func(t *testing.T) {
		h := start(t, 100, 16, tui.Options{})
		h.waitFor("5 flows")
		h.press("j", "j", "enter")
		h.waitFor("[Request]")
		h.press("tab")
		h.waitFor("dimensions", "320 × 200 pixels")
		golden.RequireEqual(t, []byte(h.final()))
	})
}

func TestBodySearch(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "line %04d", i)
		if i == 20 || i == 1500 || i == 2999 {
			b.WriteString(" the needle is here")
		}
		b.WriteString("\n")
	}
	f := flowtest.New(flowtest.URL("https://logs.example.com/dump"), flowtest.RespBody("text/plain", []byte(b.String())))
	h := start(t, 80, 14, tui.Options{Store: newStore(f)})
	h.waitFor("1 flow")
	h.press("enter")
	h.waitFor("[Request]")
	h.press("tab", "/")
	h.waitFor("search:")
	h.typeText("NEEDLE")
	h.press("backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	h.typeText("needle")
	h.press("enter")
	h.waitFor("/needle 1 of 3", "line 0020 the needle")
	h.press("n")
	h.waitFor("/needle 2 of 3", "line 1500 the needle")
	h.press("n", "n", "N")
	h.waitFor("/needle 3 of 3")
	golden.RequireEqual(t, []byte(h.final()))
}

// TestSearchPromptOpensEmpty: / opens empty with the last query one up
// away (typing does not append to it), and a search stays with its flow:
// another flow opens without it, and n searches it there when asked.
func TestSearchPromptOpensEmpty(t *testing.T) {
	body := func(n int) []byte {
		var b strings.Builder
		for i := range 40 {
			fmt.Fprintf(&b, "line %02d", i)
			if i%(40/n) == 0 {
				b.WriteString(" user1999")
			}
			b.WriteString("\n")
		}
		return []byte(b.String())
	}
	a := flowtest.New(flowtest.URL("https://one.example/a"), flowtest.RespBody("text/plain", body(2)))
	b := flowtest.New(flowtest.URL("https://two.example/b"), flowtest.RespBody("text/plain", body(4)), flowtest.At(time.Second))
	h := start(t, 80, 14, tui.Options{Store: newStore(a, b)})
	h.waitFor("2 flows")
	h.press("enter", "tab", "/")
	h.typeText("user1999")
	h.press("enter")
	h.waitFor("/user1999 1 of 2")
	h.press("/")
	h.waitFor("text to find (↑ the last search)")
	h.typeText("x")
	h.waitFor("search: x")
	h.press("ctrl+u", "up")
	h.waitFor("search: user1999")
	h.press("esc", "q", "j", "enter")
	h.waitFor("two.example")
	h.press("G")
	out := h.final()
	if strings.Contains(out, "/user1999") {
		t.Fatalf("the search followed to another flow:\n%s", out)
	}

	h = start(t, 80, 14, tui.Options{Store: newStore(a, b)})
	h.waitFor("2 flows")
	h.press("enter", "tab", "/")
	h.typeText("user1999")
	h.press("enter")
	h.waitFor("/user1999 1 of 2")
	h.press("q", "j", "enter")
	h.waitFor("two.example")
	h.press("n") // asked: the last search, in this flow
	h.waitFor("/user1999 1 of 4")
	h.final()
}

func TestFilterWithParseError(t *testing.T) {
	h := start(t, 100, 12, tui.Options{})
	h.waitFor("5 flows")
	h.press("f")
	h.waitFor("filter: ")
	h.typeText("~m POST & (")
	h.waitFor("^")
	h.press("enter") // refused: the prompt stays, the old filter too
	h.press("backspace", "backspace", "backspace")
	h.typeText("| ~c 204")
	h.press("enter")
	h.waitFor("2/5 flows", "filter: ~m POST | ~c 204")
	h.press("f")
	h.waitFor("filter: ")
	h.press("backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	h.typeText("~zz")
	h.waitFor("~zz")
	// The screen with the error shown under its column.
	h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC}) // asks nothing, nothing is marked
	out := h.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View()
	golden.RequireEqual(t, []byte(out))
	if !strings.Contains(out, "2/5 flows") {
		t.Fatalf("the last good filter is not applied:\n%s", out)
	}
}

func TestFilterHistory(t *testing.T) {
	h := start(t, 100, 12, tui.Options{Filter: "~c 401"})
	h.waitFor("1/5 flows")
	h.press("f", "esc")
	h.press("f")
	h.waitFor("filter: ")
	for range len("~c 401") {
		h.press("backspace")
	}
	h.typeText("~d cdn")
	h.press("enter")
	h.waitFor("filter: ~d cdn")
	h.press("f")
	h.waitFor("filter: ")
	h.press("up", "up") // the newest is what is applied; the one before it
	h.waitFor("~c 401")
	h.press("enter")
	h.waitFor("1/5 flows")
	h.final()
}

func TestHelp(t *testing.T) {
	h := start(t, 100, 100, tui.Options{})
	h.waitFor("5 flows")
	h.press("?")
	h.waitFor("Help: Flow list", "toggle mark", "Filter expressions")
	out := h.final()
	golden.RequireEqual(t, []byte(out))
	for _, want := range []string{"F", "follow newest", "m", "toggle mark", "?", "help for this view", "~d"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestHelpInFlowView(t *testing.T) {
	h := start(t, 100, 40, tui.Options{})
	h.waitFor("5 flows")
	h.press("enter")
	h.waitFor("[Request]")
	h.press("?")
	h.waitFor("Help: Flow view", "cycle content view", "search body")
	h.press("?")
	h.waitFor("[Request]")
	h.final()
}

func TestEventLog(t *testing.T) {
	h := start(t, 100, 10, tui.Options{})
	h.waitFor("5 flows")
	h.log.Add(flowstore.LevelInfo, "proxy", "", "listening on 127.0.0.1:8080")
	h.log.Add(flowstore.LevelError, "script:auth.lua", "", "attempt to index a nil value")
	h.waitFor("script:auth.lua: attempt to index a nil value")
	h.press("E")
	h.waitFor("Event log (2)", "listening on")
	out := regexp.MustCompile(`\d\d:\d\d:\d\d\.\d\d\d`).ReplaceAllString(h.final(), "hh:mm:ss.mmm")
	golden.RequireEqual(t, []byte(out))
}

func TestEventLogClear(t *testing.T) {
	lg := flowstore.NewEventLog(10)
	lg.Add(flowstore.LevelWarn, "proxy", "", "something odd")
	h := start(t, 100, 10, tui.Options{Log: lg})
	h.press("E")
	h.waitFor("something odd")
	h.press("z")
	h.waitFor("Nothing logged yet.")
	h.press("q")
	h.waitFor("METHOD")
	h.final()
	if len(lg.Entries()) != 0 {
		t.Fatal("log not cleared")
	}
}

func TestKeysConfProblemsAreReported(t *testing.T) {
	dir := t.TempDir()
	conf := "flowlist.mark = d\nflowlist.follow = ctrl+y\nflowlist.nope = x\n"
	if err := os.WriteFile(filepath.Join(dir, "keys.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	h := start(t, 100, 10, tui.Options{ConfDir: dir})
	h.waitFor("2 key binding(s) in keys.conf not applied")
	h.press("ctrl+c")
	h.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	var msgs []string
	for _, e := range h.log.Entries() {
		msgs = append(msgs, e.Msg)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{`flowlist.mark: key "d" is bound to both`, `unknown action "nope"`} {
		if !strings.Contains(got, want) {
			t.Errorf("event log lacks %q:\n%s", want, got)
		}
	}
}

func TestResize(t *testing.T) {
	h := start(t, 120, 12, tui.Options{})
	h.waitFor("5 flows")
	h.tm.Send(tea.WindowSizeMsg{Width: 60, Height: 8})
	h.waitFor("METHOD")
	out := h.final()
	for i, l := range strings.Split(out, "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("line %d is %d wide after resize: %q", i, w, l)
		}
	}
	if n := strings.Count(out, "\n") + 1; n != 8 {
		t.Errorf("%d lines after resize, want 8", n)
	}
}

func TestNewRejectsBadFilter(t *testing.T) {
	if _, err := tui.New(tui.Options{Store: flowstore.NewStore(0), Filter: "~m ("}); err == nil {
		t.Fatal("bad initial filter accepted")
	}
	if _, err := tui.New(tui.Options{}); err == nil {
		t.Fatal("no store accepted")
	}
}

// TestSpooledFlowOpens: with most flows moved to the spool, the first one
// is still listed, opens with its body read back from disk, and filters
// that need more than the summary still see it.
func TestSpooledFlowOpens(t *testing.T) {
	s := flowstore.NewStore(0)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pad := strings.Repeat(".", 10<<10)
	fs := make([]*flowstore.Flow, 2000)
	for i := range fs {
		text := fmt.Sprintf("flow %d of the day", i)
		if i == 0 {
			text = "needle: the first flow of the day"
		}
		fs[i] = flowtest.New(flowtest.URL(fmt.Sprintf("https://api.example.com/item/%d", i)),
			flowtest.RespBody("text/plain", []byte(text+"\n"+pad)), flowtest.At(time.Duration(i)*time.Millisecond))
	}
	s.AddAll(fs)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if f, _, _ := s.Peek(fs[0].ID); f == nil && s.Stats().Spooled > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first flow was not spooled: %+v", s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}

	h := start(t, 120, 16, tui.Options{Store: s})
	h.waitFor("2,000 flows", "mem ", "· spool ")
	h.press("G")
	h.waitFor("/item/1999 ")
	h.press("g")
	h.waitFor("/item/0 ")
	h.press("enter")
	h.waitFor("[Request]")
	h.press("tab")
	h.waitFor("[Response]", "needle: the first flow of the day")
	h.press("esc")
	h.waitFor("enter open flow")
	h.press("f")
	h.waitFor("filter:")
	h.typeText("~bs needle") // not in a summary: read back from the spool
	h.press("enter")
	h.waitFor("1/2,000 flows")
	out := h.final()
	if !selectedLine(out, "/item/0 ") {
		t.Fatalf("the spooled flow is not the one shown:\n%s", out)
	}
}
