package flowstore

import (
	"context"
	"testing"
)

func TestFollowerTooFarBehindIsToldWhatItLost(t *testing.T) {
	defer func(n int) { maxPending = n }(maxPending)
	maxPending = 100
	s := NewStore(0)
	sub := s.SubscribeTo(EventFinished)
	lost := 0
	sub.Lost = func(n int) { lost += n }
	const n = 250 // nobody drains meanwhile: a stalled pipe
	for i := range n {
		s.Add(flowWithBody(i, 16))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Follow drains once and returns
	got := 0
	sub.Follow(ctx, func(batch []*Flow) { got += len(batch) })
	if got+lost != n || lost == 0 {
		t.Fatalf("%d flows followed and %d reported lost, want %d in all with some lost", got, lost, n)
	}
}
