package flowlist_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
	"github.com/interceptor-tui/interceptor-tui/flowstore/view"
	"github.com/interceptor-tui/interceptor-tui/tui/flowlist"
	"github.com/interceptor-tui/interceptor-tui/tui/keys"
)

// newList is a list over a View of s (of an empty store when s is nil).
func newList(s *flowstore.Store, w, h int) (flowlist.Model, *view.View) {
	if s == nil {
		s = flowstore.NewStore(0)
	}
	v := view.New(s, nil)
	m := flowlist.New(keys.Default().FlowList, st, v)
	m.SetSize(w, h)
	return m, v
}

// apply folds drained events into the View and the list, as the root does.
func apply(m *flowlist.Model, v *view.View, evs []flowstore.Event) { m.Applied(v.Apply(evs)) }

// fill adds n flows with paths /0, /1, ... to a store.
func fill(s *flowstore.Store, n int, opts ...flowtest.Option) []*flowstore.Flow {
	fs := make([]*flowstore.Flow, n)
	for i := range fs {
		o := append([]flowtest.Option{flowtest.URL(fmt.Sprintf("http://h%d.test/%d", i%7, i)), flowtest.At(time.Duration(i) * time.Second)}, opts...)
		fs[i] = flowtest.New(o...)
	}
	s.AddAll(fs)
	return fs
}

func paths(v *view.View) string {
	var out []string
	for _, f := range v.Flows() {
		out = append(out, f.Path)
	}
	return strings.Join(out, " ")
}

func key(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func press(m flowlist.Model, ks ...string) (flowlist.Model, []tea.Msg) {
	var msgs []tea.Msg
	for _, k := range ks {
		var cmd tea.Cmd
		m, cmd = m.Update(key(k))
		if cmd != nil {
			msgs = append(msgs, cmd())
		}
	}
	return m, msgs
}

func TestApplyKeepsOrderAndSelection(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	m, v := newList(s, 80, 10)
	m.SetOrder(view.OrderStatus, false)
	fs := fill(s, 4)
	evs, _ := sub.Drain()
	apply(&m, v, evs)
	m, _ = press(m, "j", "j") // select /2
	if m.Selected().Path != "/2" {
		t.Fatalf("selected %q", m.Selected().Path)
	}
	s.Update(fs[0].ID, func(f *flowstore.Flow) { f.Response.Status = 500 })
	s.Update(fs[3].ID, func(f *flowstore.Flow) { f.Response.Status = 100 })
	evs, _ = sub.Drain()
	apply(&m, v, evs)
	if got := paths(v); got != "/3 /1 /2 /0" {
		t.Fatalf("by status: %q", got)
	}
	if m.Selected().Path != "/2" {
		t.Errorf("selection moved to %q", m.Selected().Path)
	}
	// Reverse keeps the selection too.
	m, _ = press(m, "v")
	if got := paths(v); got != "/0 /2 /1 /3" {
		t.Fatalf("reversed: %q", got)
	}
	if m.Selected().Path != "/2" {
		t.Errorf("selection after reverse %q", m.Selected().Path)
	}
}

func TestManyEventsAtOnce(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	m, v := newList(s, 80, 10)
	for _, o := range []view.Order{view.OrderTime, view.OrderURL} {
		m.SetOrder(o, false)
		fs := fill(s, 300)
		evs, _ := sub.Drain()
		apply(&m, v, evs)
		more := fill(s, 100) // merged into the middle in URL order
		evs, _ = sub.Drain()
		apply(&m, v, evs)
		shown := v.Flows()
		for i := 1; i < len(shown); i++ {
			a, b := shown[i-1], shown[i]
			if o == view.OrderURL && a.Host+" "+a.Path > b.Host+" "+b.Path {
				t.Fatalf("not in URL order at %d: %s%s > %s%s", i, a.Host, a.Path, b.Host, b.Path)
			}
			if o == view.OrderTime && shown[i-1].Seq > shown[i].Seq {
				t.Fatalf("not in time order at %d", i)
			}
		}
		var ids []string
		for _, f := range more {
			ids = append(ids, f.ID)
		}
		for _, f := range fs[:200] {
			ids = append(ids, f.ID)
		}
		s.Delete(ids...)
		evs, _ = sub.Drain()
		apply(&m, v, evs)
		if v.Len() != 100 {
			t.Fatalf("%v: Len = %d, want 100", o, v.Len())
		}
		s.Delete(func() (ids []string) {
			for _, f := range fs[200:] {
				ids = append(ids, f.ID)
			}
			return
		}()...)
		evs, _ = sub.Drain()
		apply(&m, v, evs)
		if v.Len() != 0 || m.Selected() != nil {
			t.Fatalf("%v: Len = %d after deleting all", o, v.Len())
		}
	}
}

func TestFollow(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	m, v := newList(s, 80, 5) // 4 rows
	fill(s, 3)
	evs, _ := sub.Drain()
	apply(&m, v, evs)
	m, _ = press(m, "F")
	if !m.Following() || m.Selected().Path != "/2" {
		t.Fatalf("follow on: %v, selected %q", m.Following(), m.Selected().Path)
	}
	fill(s, 10)
	evs, _ = sub.Drain()
	apply(&m, v, evs)
	if m.Selected().Path != "/9" {
		t.Fatalf("following: selected %q", m.Selected().Path)
	}
	if !strings.Contains(m.View(), "/9") {
		t.Fatalf("newest not in view:\n%s", m.View())
	}
	// Moving up stops following.
	m, _ = press(m, "k")
	fill(s, 1)
	evs, _ = sub.Drain()
	apply(&m, v, evs)
	if m.Following() || m.Selected().Path != "/8" {
		t.Fatalf("after k: follow=%v selected %q", m.Following(), m.Selected().Path)
	}
}

func TestIntents(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := fill(s, 2, flowtest.Comment("hi"))
	m, _ := newList(s, 80, 10)
	m, msgs := press(m, "j", "enter", "m", ";", "d", "M", "U", "z", "f", "q")
	want := []tea.Msg{
		flowlist.OpenMsg{ID: fs[1].ID}, flowlist.MarkMsg{ID: fs[1].ID, Marked: true},
		flowlist.CommentMsg{ID: fs[1].ID}, flowlist.DeleteMsg{ID: fs[1].ID},
		flowlist.MarkedOnlyMsg{On: true}, flowlist.ClearMarksMsg{}, flowlist.ClearAllMsg{},
		flowlist.FilterMsg{}, flowlist.QuitMsg{},
	}
	if fmt.Sprint(msgs) != fmt.Sprint(want) {
		t.Errorf("intents:\n got %v\nwant %v", msgs, want)
	}
	// Nothing to open in an empty list.
	e, _ := newList(nil, 80, 10)
	if _, msgs := press(e, "enter", "m", "d"); len(msgs) != 0 {
		t.Errorf("empty list emitted %v", msgs)
	}
	if e.KeyMap().Open.Enabled() {
		t.Error("open enabled on an empty list")
	}
}

func TestOrderCycle(t *testing.T) {
	m, v := newList(nil, 80, 10)
	var got []string
	for range 7 {
		o, _ := v.Order()
		got = append(got, o.String())
		m, _ = press(m, "o")
	}
	if strings.Join(got, ",") != "time,method,url,status,size,duration,time" {
		t.Errorf("order cycle: %v", got)
	}
}

func TestMouse(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := fill(s, 20)
	m, _ := newList(s, 80, 10)
	m, _ = m.Update(tea.MouseMsg{X: 5, Y: 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.Selected().ID != fs[2].ID {
		t.Fatalf("click selected %q", m.Selected().Path)
	}
	m, cmd := m.Update(tea.MouseMsg{X: 5, Y: 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if cmd == nil || cmd() != (flowlist.OpenMsg{ID: fs[2].ID}) {
		t.Fatal("second click did not open")
	}
	m, _ = m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if m.Selected().Path != "/5" {
		t.Fatalf("wheel: selected %q", m.Selected().Path)
	}
	// A click on the note under the rows selects no row.
	m.SetNote("¶ a comment")
	m, _ = m.Update(tea.MouseMsg{X: 5, Y: 9, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.Selected().Path != "/5" {
		t.Fatalf("a click on the note selected %q", m.Selected().Path)
	}
	if ls := strings.Split(m.View(), "\n"); len(ls) != 10 || !strings.Contains(ls[9], "¶ a comment") {
		t.Fatalf("the note is not the last of the 10 lines:\n%s", m.View())
	}
}

func TestView(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := []*flowstore.Flow{
		flowtest.New(flowtest.URL("https://api.example.com/v1/users?page=2"), flowtest.RespBody("application/json", []byte(`{"users":[]}`))),
		flowtest.New(flowtest.Method("POST"), flowtest.URL("https://api.example.com/v1/login"), flowtest.Status(401), flowtest.Marked(), flowtest.At(time.Second)),
		flowtest.New(flowtest.URL("http://cdn.example.net/img/logo.png"), flowtest.RespBody("image/png", make([]byte, 20000)), flowtest.At(2*time.Second)),
		flowtest.New(flowtest.URL("https://down.example.org/"), flowtest.Failed("dial tcp 10.0.0.1:443: connection refused"), flowtest.At(3*time.Second)),
		flowtest.New(flowtest.Method("DELETE"), flowtest.URL("https://api.example.com/v1/users/42"), flowtest.NoResponse(), flowtest.At(4*time.Second)),
	}
	s.AddAll(fs)
	for _, w := range []int{80, 120} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m, _ := newList(s, w, 8)
			m, _ = press(m, "j")
			golden.RequireEqual(t, []byte(m.View()))
		})
	}
	t.Run("empty", func(t *testing.T) {
		m, _ := newList(nil, 60, 3)
		m.SetEmptyText("No flows yet.")
		golden.RequireEqual(t, []byte(m.View()))
	})
}

func TestRowCacheFollowsSnapshotsAndWidth(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	m, v := newList(s, 80, 5)
	fs := fill(s, 3)
	evs, _ := sub.Drain()
	apply(&m, v, evs)
	before := m.View()
	s.Update(fs[2].ID, func(f *flowstore.Flow) { f.Response.Status = 503 })
	evs, _ = sub.Drain()
	apply(&m, v, evs)
	after := m.View()
	if before == after || !strings.Contains(after, "503") {
		t.Fatalf("an updated flow kept its old row:\n%s", after)
	}
	m.SetSize(100, 5)
	if w := len(strings.Split(m.View(), "\n")[2]); w < 100 {
		t.Fatalf("rows kept the old width after a resize (%d)", w)
	}
}

func TestFlowActions(t *testing.T) {
	s := flowstore.NewStore(0)
	m, v := newList(s, 100, 10)
	_, msgs := press(m, "A", "w")
	if len(msgs) != 2 || msgs[0] != (flowlist.FlowActionMsg{Action: keys.ActResumeAll}) || msgs[1] != (flowlist.FlowActionMsg{Action: keys.ActSave}) {
		t.Fatalf("on an empty list: %#v", msgs)
	}
	fs := fill(s, 3)
	v.Rebuild()
	m.Rebuilt()
	for k, act := range map[string]string{"a": keys.ActResume, "X": keys.ActKill, "R": keys.ActRespond, "e": keys.ActEdit,
		"c": keys.ActQuickEdit, "V": keys.ActRevert, "K": keys.ActKeep, "r": keys.ActReplay, "D": keys.ActDuplicate,
		"y": keys.ActCopy, "x": keys.ActExport, "b": keys.ActSaveBody} {
		_, msgs := press(m, "j", k)
		if len(msgs) != 1 || msgs[0] != (flowlist.FlowActionMsg{Action: act, ID: fs[1].ID}) {
			t.Errorf("%s: %#v", k, msgs)
		}
	}
}

// spoolStore is a store that spools past its smallest share for whole
// flows (4 MiB); its budget leaves room for 30 000 summaries.
func spoolStore(t *testing.T) *flowstore.Store {
	t.Helper()
	s := flowstore.NewStore(0)
	if err := s.EnableSpool(flowstore.SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitSpooled waits until the store has spooled at least n flows.
func waitSpooled(t *testing.T, s *flowstore.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Spooled < n {
		if time.Now().After(deadline) {
			t.Fatalf("spooled %d flows, want %d", s.Stats().Spooled, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// applyUntilQuiet folds the store's events into m until the spiller has
// been idle for a while: no event, and the spool has not grown.
func applyUntilQuiet(t *testing.T, m *flowlist.Model, v *view.View, s *flowstore.Store, sub *flowstore.Subscription) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := s.Stats()
	for quiet := 0; quiet < 5; {
		if time.Now().After(deadline) {
			t.Fatal("the spiller never settled")
		}
		time.Sleep(20 * time.Millisecond)
		evs, _ := sub.Drain()
		apply(m, v, evs)
		st := s.Stats()
		if len(evs) == 0 && st == last {
			quiet++
		} else {
			quiet = 0
		}
		last = st
	}
}

func TestSpilledFlowsLetGoOfTheirSnapshots(t *testing.T) {
	body := []byte(strings.Repeat("x", 10<<10))
	for _, early := range []bool{true, false} {
		t.Run(fmt.Sprint("applied early: ", early), func(t *testing.T) {
			s := spoolStore(t)
			sub := s.Subscribe()
			defer sub.Close()
			m, v := newList(s, 80, 10)
			fill(s, 600, flowtest.RespBody("text/plain", body))
			if early { // added events, with snapshots the spiller then takes
				evs, _ := sub.Drain()
				apply(&m, v, evs)
			}
			waitSpooled(t, s, 1)
			applyUntilQuiet(t, &m, v, s, sub)
			if v.Len() != 600 {
				t.Fatalf("Len = %d", v.Len())
			}
			spilled := 0
			for _, sum := range v.Flows() {
				f, kept, _ := s.Peek(sum.ID)
				switch {
				case f == nil && sum != kept:
					t.Fatalf("%s: the list holds %p, not the store's summary %p", sum.Path, sum, kept)
				case f == nil && sum.Flow != nil:
					t.Fatalf("%s: spooled, but the list keeps its snapshot", sum.Path)
				case f == nil:
					spilled++
				case sum.Flow != f:
					t.Fatalf("%s: in memory, but the list shows another snapshot", sum.Path)
				}
			}
			if spilled == 0 {
				t.Fatal("no spooled flow in the list")
			}
			if sel := m.Selected(); sel == nil || sel.Path != "/0" || sel.Flow != nil {
				t.Fatalf("selected %+v, want the spooled /0", sel)
			}
			if !strings.Contains(m.View(), "/0") {
				t.Fatalf("the spooled flow is not drawn:\n%s", m.View())
			}
		})
	}
}
