package editor_test

import (
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/tui/editor"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"vim", []string{"vim"}, ""},
		{"  code   --wait ", []string{"code", "--wait"}, ""},
		{`emacs -nw`, []string{"emacs", "-nw"}, ""},
		{`'/opt/My Editor/bin/ed' -x`, []string{"/opt/My Editor/bin/ed", "-x"}, ""},
		{`"/opt/My Editor/ed" "a \"b\" \$c \d"`, []string{"/opt/My Editor/ed", `a "b" $c \d`}, ""},
		{`sed -i -e 's/a b/c/'`, []string{"sed", "-i", "-e", "s/a b/c/"}, ""},
		{`my\ editor x''y ""`, []string{"my editor", "xy", ""}, ""},
		{"a\tb\nc", []string{"a", "b", "c"}, ""},
		{`$HOME/bin/ed`, []string{"$HOME/bin/ed"}, ""}, // no expansion
		{`'open`, nil, "single quote"},
		{`"open`, nil, "double quote"},
		{`trailing\`, nil, "backslash"},
		{``, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := editor.Split(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Split(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("Split(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		env  map[string]string
		want string
		err  bool
	}{
		{"EDITOR first", map[string]string{"EDITOR": "nano -w", "VISUAL": "code --wait"}, "nano|-w", false},
		{"then VISUAL", map[string]string{"VISUAL": "code --wait"}, "code|--wait", false},
		{"blank EDITOR is skipped", map[string]string{"EDITOR": "  ", "VISUAL": "emacs"}, "emacs", false},
		{"then vi", nil, "vi", false},
		{"bad quoting", map[string]string{"EDITOR": "'vim"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := editor.Command(env(tt.env))
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), "$EDITOR") {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if err != nil || strings.Join(got, "|") != tt.want {
				t.Errorf("Command = %q, %v; want %s", got, err, tt.want)
			}
		})
	}
}
