package truststore

import "strings"

// ShellQuote quotes s as one POSIX shell word when it needs it, so that the
// commands this package and its callers print can be pasted: a path with
// a space, a nickname with a quote. Plain words stay as they are.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
