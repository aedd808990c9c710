package export_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
)

// A request from a loaded file with terminal escapes in its method, host,
// path and a header: the curl and HTTPie commands show none of them raw
// (they may be printed or pasted into a terminal), and run by a shell they
// still pass the exact bytes on.
func TestCommandsOfAHostileRequest(t *testing.T) {
	req := &flowstore.Request{
		Method: "GE\x1b[2JT", Scheme: "http", Host: "evil\x1b(0.test", Port: 80, Path: "/p\x07ath?q=\x1b]0;owned\x07",
		Proto: "HTTP/1.1", Headers: flowstore.Headers{{Name: "X-Evil", Value: "a\x1b]0;owned\x07b"}, {Name: "Accept", Value: "*/*"}, {Name: "User-Agent", Value: "u"}},
	}
	for _, tc := range []struct{ tool, cmd, header string }{
		{"curl", export.Curl(req), "X-Evil: a\x1b]0;owned\x07b"},
		{"http", export.HTTPie(req), "X-Evil:a\x1b]0;owned\x07b"},
	} {
		for i := 0; i < len(tc.cmd); i++ {
			if c := tc.cmd[i]; (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("%s: raw %#x in %q", tc.tool, c, tc.cmd)
			}
		}
		for _, sh := range shells(t) {
			// The tool is a shell function that prints its arguments.
			script := tc.tool + "() { printf '%s\\000' \"$@\"; }\n" + tc.cmd + "\n"
			out, err := exec.Command(sh, "-c", script).Output()
			if err != nil {
				t.Fatalf("%s under %s: %v\n%s", tc.tool, sh, err, tc.cmd)
			}
			args := strings.Split(string(out), "\x00")
			for _, want := range []string{req.Method, req.URL(), tc.header} {
				if !slices.Contains(args, want) {
					t.Errorf("%s under %s: no argument %q in %q", tc.tool, filepath.Base(sh), want, args)
				}
			}
		}
	}
}
