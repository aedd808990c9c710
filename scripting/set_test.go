package scripting_test

import (
	"maps"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/scripting"
)

func TestParseSet(t *testing.T) {
	got, err := scripting.ParseSet([]string{"mode=strict", "empty=", "url=http://x/?a=b", "mode=loose"})
	want := map[string]string{"mode": "loose", "empty": "", "url": "http://x/?a=b"}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"novalue", "=x", "a-b=1", "1a=2", "a b=1"} {
		if _, err := scripting.ParseSet([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func ExampleParseSet() {
	set, _ := scripting.ParseSet([]string{"limit=10"})
	e, err := scripting.New(scripting.Options{Paths: []string{"examples/rate_limit.lua"}, Set: set})
	if err != nil {
		panic(err) // "file:line: message"
	}
	defer e.Close()
	// proxy.AddHook(e); go e.Watch(ctx)
}
