package keys

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// FileName is the key file's name inside the config directory.
const FileName = "keys.conf"

// Problem is a line of the key file that was not applied, and why.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Load reads confDir/keys.conf, if it exists, and applies it to m. A
// missing file is not an error. Lines that cannot be applied are returned
// as problems and leave the defaults in place.
func Load(confDir string, m *Map) ([]Problem, error) {
	if confDir == "" {
		return nil, nil
	}
	path := filepath.Join(confDir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key bindings: %w", err)
	}
	defer f.Close()
	return Apply(f, path, m)
}

type assignment struct {
	line    int
	ctx     string
	action  string
	keys    []string
	b       *Action
	oldKeys []string
}

// Apply reads lines of the form
//
//	# a comment
//	context.action = key1, key2
//
// and rebinds those actions; "none" as the only key unbinds one, and
// "space", "comma" and "hash" name those keys. Unknown
// contexts, actions or key names, and bindings that would put one key on two
// actions of a context (global keys count in every context but the
// prompt), are reported and not applied. Lines are applied together, so two
// actions can swap keys.
func Apply(r io.Reader, name string, m *Map) ([]Problem, error) {
	var probs []Problem
	report := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	contexts := m.Contexts()
	find := func(ctx, act string) (*Action, bool, bool) {
		for _, c := range contexts {
			if c.Name != ctx {
				continue
			}
			for i := range c.Actions {
				if c.Actions[i].Name == act {
					return &c.Actions[i], true, true
				}
			}
			return nil, true, false
		}
		return nil, false, false
	}

	var as []*assignment
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		lhs, rhs, ok := strings.Cut(line, "=")
		if !ok {
			report(n, "want context.action = keys, got %q", line)
			continue
		}
		ctx, act, ok := strings.Cut(strings.TrimSpace(lhs), ".")
		if !ok {
			report(n, "want context.action on the left, got %q", strings.TrimSpace(lhs))
			continue
		}
		a, ctxOK, actOK := find(ctx, act)
		if !ctxOK {
			report(n, "unknown context %q (known: %s)", ctx, contextNames(contexts))
			continue
		}
		if !actOK {
			report(n, "unknown action %q in %s", act, ctx)
			continue
		}
		ks, err := parseKeys(rhs)
		if err != nil {
			report(n, "%s.%s: %v", ctx, act, err)
			continue
		}
		as = append(as, &assignment{line: n, ctx: ctx, action: act, keys: ks, b: a})
	}
	if err := sc.Err(); err != nil {
		return probs, fmt.Errorf("key bindings %s: %w", name, err)
	}

	for _, a := range as {
		a.oldKeys = a.b.B.Keys()
		setKeys(a.b, a.keys)
	}
	// Revert user lines involved in a conflict until none is left; defaults
	// never conflict (a test says so), so this ends.
	for {
		bad := conflicts(m)
		if len(bad) == 0 {
			break
		}
		reverted := false
		for _, a := range as {
			if a.oldKeys == nil {
				continue
			}
			if c, ok := bad[a.ctx+"."+a.action]; ok {
				report(a.line, "%s.%s: %s; keeping %s", a.ctx, a.action, c, displayKeys(a.oldKeys))
				setKeys(a.b, a.oldKeys)
				a.oldKeys = nil
				reverted = true
			}
		}
		if !reverted {
			break
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return probs, nil
}

func setKeys(a *Action, ks []string) {
	h := a.B.Help()
	if len(ks) == 0 {
		a.B.Unbind()
		a.B.SetHelp("", h.Desc)
		return
	}
	a.B.SetKeys(ks...)
	a.B.SetHelp(Label(ks), h.Desc)
	a.B.SetEnabled(true)
}

func displayKeys(ks []string) string {
	if len(ks) == 0 {
		return "none"
	}
	return Label(ks)
}

func contextNames(cs []Context) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Conflicts lists every key bound to more than one action in one context
// (global keys included in every non-modal context), as a map from
// "context.action" to a description of the clash.
func Conflicts(m *Map) map[string]string { return conflicts(m) }

func conflicts(m *Map) map[string]string {
	out := map[string]string{}
	cs := m.Contexts()
	global := cs[0]
	for _, c := range cs {
		type owner struct{ ctx, act string }
		seen := map[string]owner{}
		scan := []Context{c}
		if c.Name != CtxGlobal && !Modal(c.Name) {
			scan = []Context{global, c}
		}
		for _, sc := range scan {
			for _, a := range sc.Actions {
				for _, k := range a.B.Keys() {
					if o, dup := seen[k]; dup {
						msg := fmt.Sprintf("key %q is bound to both %s.%s and %s.%s", Label([]string{k}), o.ctx, o.act, sc.Name, a.Name)
						out[o.ctx+"."+o.act] = msg
						out[sc.Name+"."+a.Name] = msg
						continue
					}
					seen[k] = owner{sc.Name, a.Name}
				}
			}
		}
	}
	return out
}

var namedKeys = map[string]bool{
	"enter": true, "esc": true, "tab": true, "shift+tab": true, "backspace": true, "delete": true,
	"insert": true, "up": true, "down": true, "left": true, "right": true, "home": true, "end": true,
	"pgup": true, "pgdown": true, "shift+up": true, "shift+down": true, "shift+left": true,
	"shift+right": true, "ctrl+up": true, "ctrl+down": true, "ctrl+left": true, "ctrl+right": true,
	"ctrl+home": true, "ctrl+end": true, "ctrl+pgup": true, "ctrl+pgdown": true, "shift+home": true,
	"shift+end": true, "ctrl+@": true, "ctrl+\\": true, "ctrl+]": true, "ctrl+^": true, "ctrl+_": true,
}

func init() {
	for c := 'a'; c <= 'z'; c++ {
		namedKeys["ctrl+"+string(c)] = true
	}
	for i := 1; i <= 20; i++ {
		namedKeys[fmt.Sprintf("f%d", i)] = true
	}
}

// parseKeys turns "j, down, space" into tea key names. "none" unbinds.
func parseKeys(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		k := strings.TrimSpace(part)
		if k == "" {
			continue
		}
		switch k {
		case "none":
			if len(strings.Split(s, ",")) > 1 {
				return nil, fmt.Errorf(`"none" must stand alone`)
			}
			return []string{}, nil
		case "space":
			k = " "
		case "comma":
			k = ","
		case "hash":
			k = "#"
		case "pagedown", "pgdn":
			k = "pgdown"
		case "pageup":
			k = "pgup"
		case "escape":
			k = "esc"
		case "return":
			k = "enter"
		}
		if !validKey(k) {
			return nil, fmt.Errorf("unknown key %q", k)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf(`no keys (write "none" to unbind)`)
	}
	return out, nil
}

func validKey(k string) bool {
	if namedKeys[k] {
		return true
	}
	if rest, ok := strings.CutPrefix(k, "alt+"); ok {
		return validKey(rest)
	}
	return utf8.RuneCountInString(k) == 1
}
