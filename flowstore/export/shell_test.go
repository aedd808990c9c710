package export_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
)

// trickyStrings are arguments a shell could misread.
func trickyStrings() []string {
	ss := []string{
		"", "'", "''", "it's", "a'b'c'", `"`, `\`, `\\'`, "$HOME", "${PATH}", "$(id)", "`id`", "$'\\x41'",
		"!!", "* ? [a] ~", "a b  c", "\n", "a\nb\n", "-n", "-e", "--", "%s%d%%", "\\n\\000\\x41",
		"héllo — 日本語 🎉", "abc\u202edef\u200b", "\x1b[31mred\x1b[0m", "\xff\xfe", "caf\xe9", "\xe2\x82", "\t",
		"\u0085\u00a0", "\x7f", "a\x01b\x02c",
	}
	for c := 1; c < 256; c++ { // NUL cannot be part of an argument
		ss = append(ss, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"1")
	}
	return ss
}

// TestQuoteEveryByte: each quoted word reaches a program as exactly the
// original string, under every shell present.
func TestQuoteEveryByte(t *testing.T) {
	ss := trickyStrings()
	var script strings.Builder
	for _, s := range ss {
		q := export.Quote(s)
		if strings.ContainsAny(q, "\t\r\x1b\x00\x7f") {
			t.Errorf("Quote(%q) = %q has a raw control character", s, q)
		}
		script.WriteString("printf '%s\\000' " + q + "\n")
	}
	for _, sh := range shells(t) {
		t.Run(filepath.Base(sh), func(t *testing.T) {
			out, err := exec.Command(sh, "-c", script.String()).Output()
			if err != nil {
				t.Fatalf("%s: %v", sh, err)
			}
			got := strings.Split(string(out), "\x00")
			if len(got) != len(ss)+1 {
				t.Fatalf("got %d words, want %d", len(got)-1, len(ss))
			}
			for i, s := range ss {
				if got[i] != s {
					t.Errorf("Quote(%q) = %s reached the program as %q", s, export.Quote(s), got[i])
				}
			}
		})
	}
}

// TestPrintfPipeEveryByte: the printf pipe writes exactly the body, NUL,
// backslashes, percent signs and quotes included.
func TestPrintfPipeEveryByte(t *testing.T) {
	bodies := [][]byte{
		allBytes(),
		[]byte("-n leading dash"), []byte("%s %d %% %"), []byte(`\n \000 \\ \`), []byte("'quoted' \"double\""),
		[]byte("\x00123\x01" + "7"), []byte("tail backslash\\"), []byte("héllo\r\n\tworld\n"), bytes.Repeat(allBytes(), 400),
	}
	for _, sh := range shells(t) {
		for i, body := range bodies {
			cmd := exec.Command(sh) // the script on stdin: no argument-size limit
			cmd.Stdin = strings.NewReader(export.PrintfPipe(body) + "cat\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s body %d: %v", sh, i, err)
			}
			if !bytes.Equal(out, body) {
				t.Errorf("%s body %d: got %q\nwant %q", filepath.Base(sh), i, clip(string(out)), clip(string(body)))
			}
		}
	}
}
