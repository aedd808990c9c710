package truststore_test

import (
	"os/exec"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/home/me/.interceptor-tui": "/home/me/.interceptor-tui",
		"a-b_c.d:e@f%g+h=i,j":       "a-b_c.d:e@f%g+h=i,j",
		"":                          "''",
		"/home/me/My CA":            "'/home/me/My CA'",
		"it's":                      `'it'\''s'`,
		"$HOME;rm":                  "'$HOME;rm'",
	} {
		if got := truststore.ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// What a shell makes of the quoted word is the word itself.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"", "plain", "two words", "it's", `a"b`, "$(id)", "`id`", "tab\there", "new\nline", "ünï", "*?[x]~"} {
		out, err := exec.Command(sh, "-c", "printf %s "+truststore.ShellQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("sh read %s as %q (%v), want %q", truststore.ShellQuote(in), out, err, in)
		}
	}
}
