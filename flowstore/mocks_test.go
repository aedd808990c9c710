package flowstore_test

import (
	"errors"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func TestLoadMocks(t *testing.T) {
	carrier := func(url, filter string) *flowstore.Flow {
		f := flowtest.New(flowtest.URL(url), flowtest.Status(418))
		f.Mock = &flowstore.MockRule{Filter: filter}
		return f
	}
	store := flowstore.NewStore(0)
	store.AddAll([]*flowstore.Flow{
		carrier("http://a.test/one", ""),
		flowtest.New(flowtest.URL("http://a.test/plain")),
		carrier("http://a.test/two", "~d b.test"),
	})
	log := flowstore.NewEventLog(10)
	var got []flowstore.Mock
	flowstore.LoadMocks(store, func(ms []flowstore.Mock) error { got = ms; return nil }, log)
	if len(got) != 2 || got[0].URL != "http://a.test/one" || got[1].Filter != "~d b.test" || got[0].Response.Status != 418 {
		t.Fatalf("set %+v, want the two carried mocks in order", got)
	}
	if l := logged(log); l != "info [load] 2 standing mock(s) loaded\n" {
		t.Fatalf("logged %q", l)
	}

	log = flowstore.NewEventLog(10)
	flowstore.LoadMocks(store, func([]flowstore.Mock) error { return errors.New(`mock "~d (": bad filter`) }, log)
	if l := logged(log); l != "warn [load] standing mocks: mock \"~d (\": bad filter\n" {
		t.Fatalf("refused: logged %q", l)
	}

	called := false
	flowstore.LoadMocks(flowstore.NewStore(0), func([]flowstore.Mock) error { called = true; return nil }, log)
	if called {
		t.Fatal("set was called with no mocks to set")
	}
}
