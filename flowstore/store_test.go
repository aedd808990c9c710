package flowstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func TestStoreAddUpdateListInOrder(t *testing.T) {
	s := flowstore.NewStore(0)
	a := s.Add(flowtest.New(flowtest.URL("http://a.test/")))
	b := s.Add(flowtest.New(flowtest.URL("http://b.test/")))
	if a.Seq >= b.Seq {
		t.Fatalf("sequence numbers %d, %d not increasing", a.Seq, b.Seq)
	}
	before, _ := s.Get(a.ID)
	after, ok := s.Update(a.ID, func(f *flowstore.Flow) {
		f.Comment = "changed"
		f.Request.Headers.Set("X-New", "1")
	})
	if !ok || after.Comment != "changed" {
		t.Fatal("update not applied")
	}
	if before.Comment != "" || before.Request.Headers.Has("X-New") {
		t.Fatal("an update changed a snapshot a reader already held")
	}
	list := s.List()
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("list order wrong: %v", list)
	}
	if _, ok := s.Update("nope", func(*flowstore.Flow) {}); ok {
		t.Fatal("update of an unknown ID succeeded")
	}
}

func TestSubscriptionCoalescesAndNeverBlocks(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	defer sub.Close()
	f := s.Add(flowtest.New(flowtest.NoResponse()))
	for i := 0; i < 1000; i++ {
		s.Update(f.ID, func(f *flowstore.Flow) { f.Comment = fmt.Sprint(i) })
	}
	s.Update(f.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
	select {
	case <-sub.C:
	default:
		t.Fatal("no wake-up")
	}
	events, reset := sub.Drain()
	if reset || len(events) != 1 {
		t.Fatalf("%d events (reset %v), want 1 coalesced event", len(events), reset)
	}
	ev := events[0]
	want := flowstore.EventAdded | flowstore.EventUpdated | flowstore.EventFinished
	if ev.Kind != want || ev.Flow.Comment != "999" || ev.Flow.State != flowstore.StateDone {
		t.Fatalf("event kind %b comment %q state %v", ev.Kind, ev.Flow.Comment, ev.Flow.State)
	}
	select {
	case <-sub.C:
		t.Fatal("a second wake-up for drained events")
	default:
	}
}

func TestSlowSubscriberResets(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	defer sub.Close()
	for i := 0; i < 1<<18+10; i++ {
		s.Add(&flowstore.Flow{Request: &flowstore.Request{}})
	}
	events, reset := sub.Drain()
	if !reset || len(events) > 100 {
		t.Fatalf("reset %v with %d events", reset, len(events))
	}
}

func TestMaxFlowsEvictsOldestFinished(t *testing.T) {
	s := flowstore.NewStore(3)
	sub := s.Subscribe()
	defer sub.Close()
	active := s.Add(flowtest.New(flowtest.NoResponse()))
	var done []*flowstore.Flow
	for i := 0; i < 5; i++ {
		done = append(done, s.Add(flowtest.New()))
	}
	if s.Len() != 3 {
		t.Fatalf("len %d, want 3", s.Len())
	}
	if _, ok := s.Get(active.ID); !ok {
		t.Fatal("an in-progress flow was evicted")
	}
	if _, ok := s.Get(done[4].ID); !ok {
		t.Fatal("the newest flow was evicted")
	}
	if _, ok := s.Get(done[0].ID); ok {
		t.Fatal("the oldest finished flow was kept")
	}
	events, _ := sub.Drain()
	removed := 0
	for _, ev := range events {
		if ev.Kind&flowstore.EventRemoved != 0 {
			removed++
			if ev.Flow == nil {
				t.Fatal("a removal event without the last snapshot")
			}
		}
	}
	if removed != 3 {
		t.Fatalf("%d removal events, want 3", removed)
	}
}

func TestEvictionStaysCheapAtScale(t *testing.T) {
	s := flowstore.NewStore(1000)
	for i := 0; i < 200000; i++ {
		s.Add(&flowstore.Flow{State: flowstore.StateDone, Request: &flowstore.Request{}})
	}
	if s.Len() != 1000 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestConcurrentWriters(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	defer sub.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				f := s.Add(flowtest.New(flowtest.NoResponse()))
				s.Update(f.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
			}
		}()
	}
	finished := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for loop := true; loop; {
		select {
		case <-sub.C:
		case <-done:
			loop = false
		}
		events, _ := sub.Drain()
		for _, ev := range events {
			if ev.Kind&flowstore.EventFinished != 0 {
				finished++
			}
		}
	}
	events, _ := sub.Drain()
	for _, ev := range events {
		if ev.Kind&flowstore.EventFinished != 0 {
			finished++
		}
	}
	if finished != 4000 {
		t.Fatalf("%d finished events, want 4000", finished)
	}
}

func TestJSONLinesRoundTripKeepsEverything(t *testing.T) {
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	f := flowtest.New(
		flowtest.URL("https://api.example.test:8443/a/b?x=1&y=%20"),
		flowtest.Method("POST"),
		flowtest.ReqHeader("x-lower", "v1"),
		flowtest.ReqHeader("X-Dup", "a"),
		flowtest.ReqHeader("X-Dup", "b"),
		flowtest.ReqBody("application/octet-stream", bin),
		flowtest.RespBody("image/png", append([]byte("\x89PNG\r\n\x1a\n"), bin...)),
		flowtest.Marked(), flowtest.Comment("a \"comment\"\nwith lines"),
	)
	f.Client.TLS = &flowstore.TLSInfo{Version: "TLS 1.3", SNI: "api.example.test", ALPN: "h2"}
	f.Server = flowstore.Server{Addr: "api.example.test:8443", IP: "127.0.0.1:8443", TLS: &flowstore.TLSInfo{Version: "TLS 1.3", CertSubject: "CN=x"}}
	f.Timings.TLSStart = flowtest.Base.Add(time.Microsecond)
	f.Request.Trailers = flowstore.Headers{{Name: "Grpc-Status", Value: "0"}}
	f.Response.Body.Truncated = true
	f.Response.Body.Size = 1 << 30
	f.BytesIn, f.BytesOut = 300, 1<<30+200
	f.ReplayOf = "abc"
	f.Notes = []string{"hook failed"}
	f.KeepOriginal()
	f.Request.Method = "PUT"
	failed := flowtest.New(flowtest.Failed("upstream refused"))

	var buf bytes.Buffer
	saver := flowstore.NewSaver(&buf)
	for _, fl := range []*flowstore.Flow{f, failed} {
		if err := saver.Save(fl); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Count(buf.String(), "\n") != 2 {
		t.Fatalf("want one line per flow:\n%s", buf.String())
	}
	got, warns, err := flowstore.ReadLines(&buf)
	if err != nil || len(warns) != 0 || len(got) != 2 {
		t.Fatalf("read %d flows, warnings %v, err %v", len(got), warns, err)
	}
	for i, want := range []*flowstore.Flow{f, failed} {
		g := got[i]
		g.Seq, want.Seq = 0, 0
		if !reflect.DeepEqual(normalize(g), normalize(want)) {
			gj, _ := json.MarshalIndent(g, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			t.Fatalf("flow %d changed in the round trip:\n got %s\nwant %s", i, gj, wj)
		}
	}
}

// normalize makes times comparable (monotonic readings and locations do
// not survive JSON) by re-encoding.
func normalize(f *flowstore.Flow) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestReadLinesSurvivesDamage(t *testing.T) {
	var buf bytes.Buffer
	s := flowstore.NewSaver(&buf)
	for i := 0; i < 3; i++ {
		s.Save(flowtest.New())
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	damaged := lines[0] + "{not json\n" + lines[1] + lines[2][:len(lines[2])/2]
	got, warns, err := flowstore.ReadLines(strings.NewReader(damaged))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("loaded %d flows, want the 2 intact ones", len(got))
	}
	if len(warns) != 2 || warns[0].Line != 2 || warns[1].Line != 4 || !strings.Contains(warns[1].Msg, "cut short") {
		t.Fatalf("warnings %v", warns)
	}
}

func TestHeaders(t *testing.T) {
	h := flowstore.Headers{{Name: "A", Value: "1"}, {Name: "b", Value: "2"}, {Name: "a", Value: "3"}}
	if h.Get("a") != "1" || len(h.Values("A")) != 2 || !h.Has("B") {
		t.Fatal("case-insensitive lookup")
	}
	h.Set("A", "x")
	if h.String() != "A: x\nb: 2" {
		t.Fatalf("Set kept position and dropped repeats: %v", h)
	}
	h.Add("c", "4")
	h.Del("B")
	if h.String() != "A: x\nc: 4" {
		t.Fatalf("got %q", h.String())
	}
}

func TestURLParts(t *testing.T) {
	r := &flowstore.Request{}
	for _, tc := range []struct{ in, want, host string }{
		{"https://example.test/a?b=c", "https://example.test/a?b=c", "example.test"},
		{"http://example.test:8080", "http://example.test:8080/", "example.test"},
		{"https://[::1]:8443/x", "https://[::1]:8443/x", "::1"},
	} {
		if err := r.SetURL(tc.in); err != nil {
			t.Fatal(err)
		}
		if r.URL() != tc.want || r.Host != tc.host {
			t.Errorf("%s: URL %s host %s", tc.in, r.URL(), r.Host)
		}
	}
	if err := r.SetURL("/relative"); err == nil {
		t.Error("relative URL accepted")
	}
}

func TestSubscribeToFinishedIsNotWokenByOtherChanges(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.SubscribeTo(flowstore.EventFinished)
	f := s.Add(&flowstore.Flow{State: flowstore.StateActive, Request: &flowstore.Request{Method: "GET", Host: "a.test", Path: "/"}})
	s.Update(f.ID, func(f *flowstore.Flow) { f.Comment = "still going" })
	select {
	case <-sub.C:
		t.Fatal("woken for a flow that has not finished")
	default:
	}
	s.Update(f.ID, func(f *flowstore.Flow) { f.State = flowstore.StateDone })
	s.Update(f.ID, func(f *flowstore.Flow) { f.Marked = true }) // after it finished: not a finish
	<-sub.C
	events, _ := sub.Drain()
	if len(events) != 1 || events[0].Kind != flowstore.EventUpdated|flowstore.EventFinished || events[0].Flow.State != flowstore.StateDone {
		t.Fatalf("events %+v, want the one finish", events)
	}
}

func TestFollowEveryBatchesAndDeliversAll(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.SubscribeTo(flowstore.EventFinished)
	ctx, cancel := context.WithCancel(context.Background())
	var batches, got int
	done := make(chan struct{})
	go func() {
		defer close(done)
		sub.FollowEvery(ctx, time.Hour, func(b []*flowstore.Flow) { batches++; got += len(b) })
	}()
	const n = 200
	for i := range n {
		s.Add(flowtest.New(flowtest.URL(fmt.Sprintf("http://a.test/%d", i))))
		time.Sleep(50 * time.Microsecond)
	}
	cancel() // the last drain takes what waited
	<-done
	if got != n || batches > 2 {
		t.Fatalf("%d flows in %d batches, want %d in at most 2 (one before the wait, one at the end)", got, batches, n)
	}
}

// A flow the engine adds only when it ends keeps its place by arrival:
// before the flows that arrived after it, though they were added first.
func TestAddLateKeepsArrivalOrder(t *testing.T) {
	s := flowstore.NewStore(0)
	sub := s.Subscribe()
	defer sub.Close()
	slow := &flowstore.Flow{ID: "slow", Seq: s.Reserve(), State: flowstore.StateDone}
	fast := s.Add(&flowstore.Flow{ID: "fast", State: flowstore.StateDone})
	s.AddLate(slow)
	newest := s.Add(&flowstore.Flow{ID: "newest", State: flowstore.StateDone})

	var ids []string
	for _, f := range s.List() {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "slow,fast,newest" {
		t.Fatalf("List order %v, want slow,fast,newest", ids)
	}
	if !(slow.Seq < fast.Seq && fast.Seq < newest.Seq) {
		t.Fatalf("Seq slow %d, fast %d, newest %d: want increasing by arrival", slow.Seq, fast.Seq, newest.Seq)
	}
	var sums []string
	for _, m := range s.Summaries() {
		sums = append(sums, m.ID)
	}
	if strings.Join(sums, ",") != "slow,fast,newest" {
		t.Fatalf("Summaries order %v, want slow,fast,newest", sums)
	}
	evs, _ := sub.Drain()
	if len(evs) != 3 || evs[1].ID != "slow" || evs[1].Kind&flowstore.EventAdded == 0 {
		t.Fatalf("events %+v: want the late flow's Added event when it was added", evs)
	}
}

// Eviction still takes the oldest by arrival when a late flow comes in
// behind flows already evicted.
func TestAddLateAfterEviction(t *testing.T) {
	s := flowstore.NewStore(2)
	late := &flowstore.Flow{ID: "late", Seq: s.Reserve(), State: flowstore.StateDone}
	for _, id := range []string{"a", "b", "c"} {
		s.Add(&flowstore.Flow{ID: id, State: flowstore.StateDone})
	}
	s.AddLate(late) // older than b and c: the one to go
	s.Add(&flowstore.Flow{ID: "d", State: flowstore.StateDone})
	var ids []string
	for _, f := range s.List() {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "c,d" {
		t.Fatalf("kept %v, want c,d", ids)
	}
}
