package mitm

import (
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

func TestSplitAuthorityAgreesWithFlowstore(t *testing.T) {
	for _, a := range []string{"", "example.com", "example.com:8080", "example.com:", "example.com:x",
		"[::1]", "[::1]:443", "::1", "[fe80::1%25en0]:80", "a:b:c", "INTERCEPTOR.TUI", "interceptor.tui:80"} {
		h1, p1 := splitAuthority(a, 443)
		h2, p2 := flowstore.SplitHostPort(a, 443)
		if h1 != h2 || p1 != p2 {
			t.Errorf("%q: got %q %d, flowstore says %q %d", a, h1, p1, h2, p2)
		}
	}
}
