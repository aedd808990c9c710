package view

import (
	"fmt"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

// TestSpilledEventReplacesTheItem: an event with a Summary swaps it in for
// the item that pointed at the flow's snapshot, whatever older snapshot the
// event still carries, and keeps its place. (Moved from the flow list with
// the code; the event is handed to apply as it is, since Apply would bring
// it up to the store, where this flow was never spooled.)
func TestSpilledEventReplacesTheItem(t *testing.T) {
	s := flowstore.NewStore(0)
	fs := make([]*flowstore.Flow, 3)
	for i := range fs {
		fs[i] = flowtest.New(flowtest.URL(fmt.Sprintf("http://h.test/%d", i)))
	}
	s.AddAll(fs)
	v := New(s, nil)
	kept := flowstore.Summarize(fs[1])
	kept.Flow = nil // what the store keeps of a spooled flow
	v.apply([]flowstore.Event{{ID: fs[1].ID, Kind: flowstore.EventAdded | flowstore.EventSpilled, Flow: fs[1], Summary: kept}})
	if got := v.Flows()[1]; got != kept || got.Flow != nil {
		t.Fatalf("item after the spill: %+v", got)
	}
	if v.Lookup(kept.Seq, kept.ID) != kept || v.Index(kept) != 1 {
		t.Fatal("a cursor on the flow would not follow the spill")
	}
	// Read back and changed, the flow is in memory again.
	g, _ := s.Update(fs[1].ID, func(f *flowstore.Flow) { f.Comment = "back" })
	v.apply([]flowstore.Event{{ID: g.ID, Kind: flowstore.EventUpdated, Flow: g}})
	if got := v.Flows()[1]; got.Flow != g {
		t.Fatalf("item after the update: %+v", got)
	}
}
