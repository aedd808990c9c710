package scripting

import (
	"fmt"
	"strings"
)

// ParseSet turns --set arguments ("name=value", repeatable) into
// Options.Set. A later value for the same name wins; the value may be
// empty and may contain '='.
func ParseSet(args []string) (map[string]string, error) {
	out := make(map[string]string, len(args))
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok || !isIdent(name) {
			return nil, fmt.Errorf("--set %q: want name=value, the name made of letters, digits and _", a)
		}
		out[name] = value
	}
	return out, nil
}

func isIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
