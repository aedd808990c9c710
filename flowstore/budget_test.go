package flowstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

const bodyLen = 10240

// spooledFlow is a finished flow with a 10 KiB response body whose bytes
// say which flow it is, and a small binary request body.
func spooledFlow(i int) *Flow { return flowWithBody(i, bodyLen) }

// flowWithBody is spooledFlow with a response body of about n bytes.
func flowWithBody(i, n int) *Flow {
	body := bytes.Repeat([]byte(fmt.Sprintf("flow %06d body", i)), n/16)
	req := []byte{0, 1, 2, 0xff, byte(i)}
	now := time.Now()
	return &Flow{
		State:  StateDone,
		Client: Client{Addr: "127.0.0.1:5000"},
		Request: &Request{Method: "POST", Scheme: "https", Host: "api.test", Port: 443,
			Path: fmt.Sprintf("/items/%d", i), Proto: "HTTP/1.1",
			Headers: Headers{{"Host", "api.test"}, {"X-Seq", fmt.Sprint(i)}}, Body: NewBody(req)},
		Response: &Response{Status: 200, Reason: "OK", Proto: "HTTP/1.1",
			Headers: Headers{{"Content-Type", "text/plain"}}, Body: NewBody(body)},
		Timings: Timings{Start: now, End: now.Add(time.Millisecond)},
	}
}

// waitSpooled waits until the spiller has moved at least n flows.
func waitSpooled(t *testing.T, s *Store, n int) Stats {
	t.Helper()
	return waitStats(t, s, "spooled", n, func(st Stats) int { return st.Spooled })
}

// waitStats waits until count(the store's stats) reaches n.
func waitStats(t *testing.T, s *Store, what string, n int, count func(Stats) int) Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := s.Stats()
		if count(st) >= n {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d flows %s, want %d (memory estimate %d)", count(st), what, n, st.Memory)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the spiller is idle and returns the stats then.
func settle(t testing.TB, s *Store) Stats {
	t.Helper()
	prev := s.Stats()
	for range 600 {
		time.Sleep(60 * time.Millisecond)
		st := s.Stats()
		if st == prev {
			return st
		}
		prev = st
	}
	t.Fatal("the spiller never settled")
	return prev
}

func TestSpoolMovesOldFlowsOutAndReadsThemBack(t *testing.T) {
	s := NewStore(0)
	dir := t.TempDir()
	if err := s.EnableSpool(SpoolConfig{Dir: dir, Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe()
	const n = 1500 // 15 MiB of bodies against a 2 MiB share for whole flows
	ids := make([]string, n)
	for i := range n {
		ids[i] = s.Add(spooledFlow(i)).ID
	}
	st := waitSpooled(t, s, n/2)
	if st.Spool <= 0 || st.Flows != n {
		t.Fatalf("stats %+v", st)
	}

	// The oldest flow is spooled: only its summary is in memory.
	f, sum, ok := s.Peek(ids[0])
	if !ok || f != nil || sum == nil || sum.Flow != nil {
		t.Fatalf("first flow not spooled: flow %v summary %+v", f != nil, sum)
	}
	if sum.Path != "/items/0" || sum.Status != 200 || sum.Size != bodyLen || sum.Method != "POST" {
		t.Fatalf("summary %+v", sum)
	}
	// Every flow reads back whole, spooled or not.
	for i, id := range ids {
		g, ok := s.Get(id)
		if !ok {
			t.Fatalf("flow %d cannot be read", i)
		}
		want := spooledFlow(i)
		if !bytes.Equal(g.Response.Body.Data, want.Response.Body.Data) || !bytes.Equal(g.Request.Body.Data, want.Request.Body.Data) {
			t.Fatalf("flow %d bodies differ after the spool", i)
		}
		if g.Request.Headers.Get("X-Seq") != fmt.Sprint(i) || g.Request.Path != want.Request.Path || g.ID != id {
			t.Fatalf("flow %d read back as %+v", i, g.Request)
		}
	}
	sums := s.Summaries()
	if len(sums) != n {
		t.Fatalf("%d summaries, want %d", len(sums), n)
	}
	for i, x := range sums {
		if x.ID != ids[i] {
			t.Fatalf("summary %d is %s, want %s (arrival order)", i, x.ID, ids[i])
		}
	}
	// Subscribers were told, with the summary that replaces the snapshot.
	evs, _ := sub.Drain()
	spilled := 0
	for _, ev := range evs {
		if ev.Kind&EventSpilled != 0 {
			spilled++
			if ev.Summary == nil || ev.Summary.Flow != nil {
				t.Fatalf("spilled event without a bare summary: %+v", ev)
			}
		}
	}
	if spilled == 0 {
		t.Fatal("no spilled events")
	}

	// Changing a spooled flow brings it back into memory.
	g, ok := s.Update(ids[0], func(f *Flow) { f.Marked = true; f.Comment = "look" })
	if !ok || !g.Marked || len(g.Response.Body.Data) != bodyLen {
		t.Fatalf("update of a spooled flow: ok %v %+v", ok, g)
	}
	if f, _, _ := s.Peek(ids[0]); f == nil || f.Comment != "look" {
		t.Fatal("the updated flow is not in memory")
	}

	// Closing deletes the spool and forgets the spooled flows; the one
	// brought home stays.
	if f, _, _ := s.Peek(ids[1]); f != nil {
		t.Fatal("the second flow is not spooled")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("spool left behind: %v", left)
	}
	if _, ok := s.Get(ids[1]); ok || s.Stats().Spooled != 0 {
		t.Fatal("spooled flows outlived the spool")
	}
	if _, ok := s.Get(ids[0]); !ok {
		t.Fatal("the flow in memory went with the spool")
	}
}

func TestSpoolDiskBudgetEvictsOldestWithNotice(t *testing.T) {
	s := NewStore(0)
	var mu sync.Mutex
	var notes []string
	err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20, Disk: 3 << 20,
		Notify: func(m string) { mu.Lock(); notes = append(notes, m); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.budget.sp.segMax = 1 << 20
	s.mu.Unlock()
	var ids []string
	for i := range 3000 {
		ids = append(ids, s.Add(spooledFlow(i)).ID)
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.Stats().Evicted == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing evicted: %+v", s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := settle(t, s)
	if st.Spool > 3<<20+1<<20 { // the segment being written cannot go
		t.Fatalf("spool %d bytes, over its 3 MiB budget and a segment", st.Spool)
	}
	if _, ok := s.Get(ids[0]); ok {
		t.Fatal("the oldest flow survived the disk budget")
	}
	if g, ok := s.Get(ids[len(ids)-1]); !ok || len(g.Response.Body.Data) != bodyLen {
		t.Fatal("the newest flow was lost")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) == 0 || !strings.Contains(notes[0], "disk budget") {
		t.Fatalf("notices %q", notes)
	}
}

func TestSpoolWriteFailureKeepsFlowsAndSaysSo(t *testing.T) {
	s := NewStore(0)
	var mu sync.Mutex
	var notes []string
	err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20,
		Notify: func(m string) { mu.Lock(); notes = append(notes, m); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.budget.sp.create = func(string) (*os.File, error) { return nil, errors.New("no space left on device") }
	s.mu.Unlock()
	var ids []string
	for i := range 600 { // 6 MiB: past the 2 MiB share for whole flows
		ids = append(ids, s.Add(spooledFlow(i)).ID)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(notes)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no notice of the failed spool")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	first := notes[0]
	mu.Unlock()
	if !strings.Contains(first, "no space left") || !strings.Contains(first, "memory") {
		t.Fatalf("notice %q", first)
	}
	// The newest flows are still whole, and capture goes on.
	if g, ok := s.Get(ids[len(ids)-1]); !ok || len(g.Response.Body.Data) != bodyLen {
		t.Fatal("newest flow lost")
	}
	if g := s.Add(spooledFlow(9999)); g.ID == "" {
		t.Fatal("add after a failed spool")
	}
	if s.Stats().Spooled != 0 {
		t.Fatal("flows counted as spooled though nothing was written")
	}
}

func TestStaleSpoolsAreSwept(t *testing.T) {
	parent := t.TempDir()
	// A spool whose owner is gone (pid 0x7ffffff0 does not exist), one
	// whose owner is alive (us), and a directory that is not ours.
	dead := parent + "/" + spoolPrefix + "dead"
	alive := parent + "/" + spoolPrefix + "alive"
	other := parent + "/" + spoolPrefix + "nobody"
	for _, d := range []string{dead, alive, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(dead+"/owner", []byte("2147483632"), 0o600)
	os.WriteFile(alive+"/owner", []byte(fmt.Sprint(os.Getpid())), 0o600)
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: parent, Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for d, want := range map[string]bool{dead: false, alive: true, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", d, err == nil, want)
		}
	}
}

func bigFlow(n int) *Flow {
	now := time.Now()
	return &Flow{State: StateDone,
		Request:  &Request{Method: "GET", Scheme: "http", Host: "h", Port: 80, Path: "/"},
		Response: &Response{Status: 200, Body: NewBody(make([]byte, n))},
		Timings:  Timings{Start: now, End: now}}
}

// Writers that help a spiller behind may be mid-batch when the program
// exits and closes the store.
func TestCloseWhileWritersAssist(t *testing.T) {
	for range 100 {
		s := NewStore(0)
		if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20, Disk: 1 << 40}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						s.Add(bigFlow(64 << 10))
					}
				}
			}()
		}
		time.Sleep(20 * time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // writers go on after the close
		close(stop)
		wg.Wait()
	}
}

// A segment dropped for the disk budget while another pass is writing into
// it must not leave flows pointing at records that are gone.
func TestDiskBudgetRacingWritersLosesNothingReadable(t *testing.T) {
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 64 << 20, Disk: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.budget.sp.segMax = 1 << 20
	s.mu.Unlock()
	var wg sync.WaitGroup
	deadline := time.Now().Add(2 * time.Second)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				s.Add(bigFlow(256 << 10))
			}
		}()
	}
	wg.Wait()
	settle(t, s)
	cold := 0
	for _, sum := range s.Summaries() {
		if sum.Flow != nil {
			continue
		}
		cold++
		if _, ok := s.Get(sum.ID); !ok {
			t.Fatalf("spooled flow %s cannot be read", sum.ID)
		}
	}
	if s.Stats().Evicted == 0 {
		t.Fatal("the disk budget never bit")
	}
	t.Logf("%d spooled flows, all readable", cold)
}

// A spooled flow brought back into memory (a mark, a comment) is spooled
// again when memory needs it.
func TestUpdatedFlowIsSpooledAgain(t *testing.T) {
	s := NewStore(0)
	if err := s.EnableSpool(SpoolConfig{Dir: t.TempDir(), Memory: 16 << 20}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i := range 400 {
		ids = append(ids, s.Add(spooledFlow(i)).ID)
	}
	waitSpooled(t, s, 100)
	settle(t, s)
	if f, _, _ := s.Peek(ids[0]); f != nil {
		t.Fatal("the first flow is not spooled")
	}
	s.Update(ids[0], func(f *Flow) { f.Marked = true })
	for i := range 2000 {
		s.Add(spooledFlow(400 + i))
	}
	settle(t, s)
	if f, sum, _ := s.Peek(ids[0]); f != nil || !sum.Marked() {
		t.Fatalf("the marked flow stayed in memory (%v) or lost its mark", f != nil)
	}
}
