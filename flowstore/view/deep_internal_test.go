package view

import "testing"

func TestDeepCache(t *testing.T) {
	var nilCache *deepCache
	if _, ok := nilCache.get(1); ok {
		t.Fatal("a nil cache knows something")
	}
	nilCache.forget(1) // no panic
	c := &deepCache{}
	c.put(3, true)
	c.put(1000, false)
	if m, ok := c.get(3); !ok || !m {
		t.Fatal("3 should match")
	}
	if m, ok := c.get(1000); !ok || m {
		t.Fatal("1000 should be known not to match")
	}
	if _, ok := c.get(4); ok {
		t.Fatal("4 was never asked")
	}
	c.forget(3)
	if _, ok := c.get(3); ok {
		t.Fatal("3 was forgotten")
	}
}
