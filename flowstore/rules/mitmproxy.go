package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// mitmproxy's four options, as its addons parse them (mitmproxy
// utils/spec.py, addons/mapremote.py, maplocal.py, modifyheaders.py,
// modifybody.py). Each value is "[SEP filter] SEP subject SEP replacement":
// its first character is the separator, whatever it is, and the rest is
// split on it at most twice, so the replacement may hold the separator
// (a trailing one included: "|~d a|//a|//b|" replaces with "//b|").
//
// Differences, where they must be: regexes are RE2 (no lookaround or
// backreferences in the pattern), as everywhere in interceptor-tui.

// MitmproxyOptions are the four options' values, each repeatable.
type MitmproxyOptions struct {
	MapRemote     []string
	MapLocal      []string
	ModifyHeaders []string
	ModifyBody    []string
}

// FromMitmproxy turns the options into rules, in the order mitmproxy
// applies them (modify-headers acts on the request head, before the other
// three act on the whole request), each rule passthrough as mitmproxy
// applies every matching spec. Names are "--map-remote 1" and so on; Source
// is SourceFlags. Errors name the option and its value.
func FromMitmproxy(o MitmproxyOptions) ([]Rule, error) {
	var out []Rule
	var errs []error
	add := func(flag string, specs []string, parse func(string) (Rule, error)) {
		for i, spec := range specs {
			r, err := parse(spec)
			if err != nil {
				errs = append(errs, fmt.Errorf("--%s %q: %w", flag, spec, err))
				continue
			}
			r.Name = fmt.Sprintf("--%s %d", flag, i+1)
			out = append(out, r)
		}
	}
	add("modify-headers", o.ModifyHeaders, ParseModifyHeaders)
	add("map-remote", o.MapRemote, ParseMapRemote)
	add("map-local", o.MapLocal, ParseMapLocal)
	add("modify-body", o.ModifyBody, ParseModifyBody)
	return out, errors.Join(errs...)
}

// splitSpec is mitmproxy's parse_spec: the filter (empty when the value
// has two parts), the subject and the replacement.
func splitSpec(spec string) (flt, subject, replacement string, err error) {
	if spec == "" {
		return "", "", "", errors.New("empty; want [/filter]/subject/replacement (any separator)")
	}
	_, size := utf8.DecodeRuneInString(spec) // a character, as Python's option[0]
	sep, rem := spec[:size], spec[size:]
	parts := strings.SplitN(rem, sep, 3)
	switch len(parts) {
	case 2:
		return "", parts[0], parts[1], nil
	case 3:
		if _, err := filter.Parse(parts[0]); err != nil {
			return "", "", "", fmt.Errorf("invalid filter expression %q: %w", parts[0], err)
		}
		return parts[0], parts[1], parts[2], nil
	}
	return "", "", "", fmt.Errorf("invalid number of parameters (2 or 3 are expected, separated by %q)", sep)
}

func specRule(flt string) Rule {
	return Rule{Match: Match{Filter: flt}, Passthrough: true, Source: SourceFlags}
}

// ParseMapRemote reads a --map-remote value: "[/filter]/url-regex/replacement".
func ParseMapRemote(spec string) (Rule, error) {
	flt, subject, repl, err := splitSpec(spec)
	if err != nil {
		return Rule{}, err
	}
	rx, err := regexp.Compile(subject)
	if err != nil {
		return Rule{}, fmt.Errorf("invalid regular expression %q (%w)", subject, err)
	}
	to, err := pythonReplacement(repl)
	if err != nil {
		return Rule{}, err
	}
	if err := checkGroupRefs(rx, to); err != nil {
		return Rule{}, fmt.Errorf("invalid group reference: %w", err) // Python finds it at the first request
	}
	r := specRule(flt)
	r.Actions = []Action{{MapRemote: &MapRemote{From: subject, To: to}}}
	return r, nil
}

// ParseMapLocal reads a --map-local value: "[/filter]/url-regex/file-or-directory".
// The path must exist (~ is the home directory), as mitmproxy checks.
func ParseMapLocal(spec string) (Rule, error) {
	flt, subject, path, err := splitSpec(spec)
	if err != nil {
		return Rule{}, err
	}
	if _, err := regexp.Compile(subject); err != nil {
		return Rule{}, fmt.Errorf("invalid regular expression %q (%w)", subject, err)
	}
	abs, err := existingPath(expandHome(path), "")
	if err != nil {
		return Rule{}, fmt.Errorf("invalid file path: %s (%w)", path, err)
	}
	r := specRule(flt)
	r.Actions = []Action{{MapLocal: &MapLocal{Path: abs, URL: subject}}}
	return r, nil
}

// ParseModifyHeaders reads a --modify-headers value:
// "[/filter]/header-name/[@]header-value". It acts on requests and
// responses alike (the filter decides: ~q, ~s); an empty value removes the
// header. Both parts take Python escapes (\x00, \n); @FILE reads the value
// from FILE each time it is used.
func ParseModifyHeaders(spec string) (Rule, error) {
	flt, subject, repl, err := splitSpec(spec)
	if err != nil {
		return Rule{}, err
	}
	name, err := escapeDecode(subject)
	if err != nil {
		return Rule{}, err
	}
	if err := checkHeaderName(name); err != nil {
		return Rule{}, err
	}
	set := &SetHeader{Name: name, In: Both}
	if file, ok := strings.CutPrefix(repl, "@"); ok {
		if set.File, err = readablePath(expandHome(file)); err != nil {
			return Rule{}, fmt.Errorf("invalid file path: %s (%w)", file, err)
		}
	} else {
		if set.Value, err = escapeDecode(repl); err != nil {
			return Rule{}, err
		}
		if err := checkHeaderValue(set.Value); err != nil {
			return Rule{}, err
		}
	}
	r := specRule(flt)
	r.Actions = []Action{{SetHeader: set}}
	return r, nil
}

// ParseModifyBody reads a --modify-body value: "[/filter]/regex/[@]replacement".
// The regex matches across lines (DOTALL) in the decoded body of the
// request (at the request phase) or the response; the replacement is sent
// as it is (current mitmproxy; 8.x expanded \1 in it).
func ParseModifyBody(spec string) (Rule, error) {
	flt, subject, repl, err := splitSpec(spec)
	if err != nil {
		return Rule{}, err
	}
	pattern, err := escapeDecode(subject)
	if err != nil {
		return Rule{}, err
	}
	if _, err := regexp.Compile(pattern); err != nil {
		return Rule{}, fmt.Errorf("invalid regular expression %q (%w)", pattern, err)
	}
	rp := &Replace{In: Both, Pattern: "(?s)" + pattern, Literal: true}
	if file, ok := strings.CutPrefix(repl, "@"); ok {
		if rp.WithFile, err = readablePath(expandHome(file)); err != nil {
			return Rule{}, fmt.Errorf("invalid file path: %s (%w)", file, err)
		}
	} else if rp.With, err = escapeDecode(repl); err != nil {
		return Rule{}, err
	}
	r := specRule(flt)
	r.Actions = []Action{{Replace: rp}}
	return r, nil
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// existingPath makes p absolute (relative to dir when it is relative and
// dir is given) and checks that it exists.
func existingPath(p, dir string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// readablePath is existingPath for a file that must also be readable.
func readablePath(p string) (string, error) {
	abs, err := existingPath(p, "")
	if err != nil {
		return "", err
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", err
	}
	f.Close()
	return abs, nil
}

// escapeDecode is Python's codecs.escape_decode, which mitmproxy applies
// to header names and values and to body patterns and replacements:
// \\ \' \" \a \b \f \n \r \t \v, \ooo (octal), \xhh and backslash-newline;
// any other backslash is kept with what follows it.
func escapeDecode(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", errors.New(`invalid escape: a trailing \ in the string`)
		}
		switch c = s[i]; c {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(c)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			if !isHex(s, i+1, 2) {
				return "", fmt.Errorf(`invalid \x escape at position %d`, i-1)
			}
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			b.WriteByte(byte(v)) // \777 wraps, as Python's escape_decode
			i = j - 1
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(s string, at, n int) bool {
	if at+n > len(s) {
		return false
	}
	for _, c := range []byte(s[at : at+n]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// pythonReplacement turns a Python re.sub replacement (\1, \g<1>,
// \g<name>, \n and friends) into Go's Expand syntax (${1}, ${name}, $$ for
// a dollar).
func pythonReplacement(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			b.WriteString("$$")
			continue
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", errors.New(`bad escape (end of pattern) in the replacement`)
		}
		c = s[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if c == '0' {
				// \0 is an octal escape in Python, not a group.
				b.WriteByte(0)
				i = j - 1
				continue
			}
			b.WriteString("${" + s[i:j] + "}")
			i = j - 1
		case c == 'g':
			end := strings.IndexByte(s[i:], '>')
			if i+1 >= len(s) || s[i+1] != '<' || end < 0 {
				return "", fmt.Errorf(`bad \g group reference in the replacement %q`, s)
			}
			name := s[i+2 : i+end]
			if name == "" {
				return "", fmt.Errorf(`empty \g<> group reference in the replacement %q`, s)
			}
			b.WriteString("${" + name + "}")
			i += end
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c == 'r':
			b.WriteByte('\r')
		case c == 'f':
			b.WriteByte('\f')
		case c == 'v':
			b.WriteByte('\v')
		case c == 'a':
			b.WriteByte('\a')
		case c == 'b':
			b.WriteByte('\b')
		case c == '\\':
			b.WriteByte('\\')
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			return "", fmt.Errorf(`bad escape \%c in the replacement`, c)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// checkHeaderName refuses what cannot be a header name on the wire.
func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return fmt.Errorf("header name %q has a character a header name cannot have (%q)", name, c)
		}
	}
	return nil
}

// checkHeaderValue refuses line breaks and NUL, which would split or end
// the head on the wire.
func checkHeaderValue(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("header value %q has a line break or NUL, which would split the head", v)
	}
	return nil
}
