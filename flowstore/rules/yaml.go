package rules

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// The YAML form. A file holds a list of rules, under "rules:" or alone:
//
//	rules:
//	  - name: staging
//	    match: ~d api.example.com       # the filter language
//	    path: /v1/*                     # Imposter-style fields
//	    method: GET
//	    requestHeaders:
//	      User-Agent: {value: curl/8.5.0, operator: NotEqualTo}
//	    passthrough: true
//	    set-header: {name: X-Env, value: staging}
//	    map-remote: {from: "https://api.example.com", to: "http://localhost:8080"}
//
// Actions are written as keys of the rule, applied in the order written,
// or as a list under "actions:" (which may repeat a kind). Imposter's
// spellings are read too: response (statusCode, content), continue.

// actionKeys are the actions' names in YAML, in the order Kind knows them.
var actionKeys = []string{"respond", "map-local", "map-remote", "set-header", "remove-header", "replace", "block", "delay", "throttle", "capture"}

func isActionKey(k string) bool { return slices.Contains(actionKeys, k) || k == "response" }

// ParseFile reads a rules file. Relative paths in it (map-local, respond
// files) are taken from the file's directory and made absolute. Every
// rule is checked as Compile checks it; every error is reported, each as
// file:line. Rules without a name are named after the file and their
// place ("rules.yaml#3").
func ParseFile(path string, data []byte) ([]Rule, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	d := &decoder{file: abs, dir: filepath.Dir(abs)}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, d.syntax(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // an empty file holds no rules
	}
	top := doc.Content[0]
	list := top
	if top.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(top.Content); i += 2 {
			if k := top.Content[i]; k.Value == "rules" {
				list = top.Content[i+1]
			} else {
				return nil, d.at(k, "unknown key %q at the top (want rules: followed by a list of rules)", k.Value)
			}
		}
		if list == nil {
			return nil, nil
		}
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, d.at(list, "want a list of rules (each starting with - )")
	}
	var out []Rule
	var errs []error
	names := map[string]int{}
	for i, n := range list.Content {
		r, err := d.rule(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.Name == "" {
			r.Name = fmt.Sprintf("%s#%d", filepath.Base(abs), i+1)
		}
		if line, ok := names[r.Name]; ok {
			errs = append(errs, &Error{File: abs, Line: r.Line, Rule: r.Name, Err: fmt.Errorf("the name is taken by the rule at line %d", line)})
			continue
		}
		names[r.Name] = r.Line
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// ParseRule reads one rule written as YAML (as Rule.YAML writes it: the
// TUI's editor). Relative paths are taken from dir (the working directory
// when empty). It is checked as Compile checks it.
func ParseRule(data []byte, dir string) (Rule, error) {
	d := &decoder{dir: dir}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Rule{}, d.syntax(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return Rule{}, errors.New("empty: a rule needs at least an action or a match")
	}
	r, err := d.rule(doc.Content[0])
	r.Line = 0
	return r, err
}

// Edit reads data (old's YAML, as a person changed it) as the rule that
// takes old's place: where it came from (Source, Line, MockOf) stays, and
// relative paths are taken from old's rules file's directory.
func (old Rule) Edit(data []byte) (Rule, error) {
	dir := ""
	if filepath.IsAbs(old.Source) {
		dir = filepath.Dir(old.Source)
	}
	r, err := ParseRule(data, dir)
	if err != nil {
		return Rule{}, err
	}
	r.Source, r.Line, r.MockOf = old.Source, old.Line, old.MockOf
	return r, nil
}

// UnmarshalYAML reads a rule from YAML, so a Rule can sit in a caller's own
// YAML document; relative paths are taken from the working directory.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	d := &decoder{}
	got, err := d.rule(n)
	if err != nil {
		return err
	}
	*r = got
	return nil
}

// MarshalYAML writes the rule as ParseRule reads it.
func (r Rule) MarshalYAML() (any, error) { return r.node(), nil }

// YAML is the rule's own YAML document (what the TUI's editor shows).
func (r Rule) YAML() []byte { return encode(r.node()) }

// encode writes a document with two-space indents, as people write YAML.
func encode(n *yaml.Node) []byte {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(n); err != nil {
		return []byte("# " + err.Error() + "\n")
	}
	e.Close()
	return b.Bytes()
}

// Marshal writes rules as a rules file.
func Marshal(rs []Rule) []byte {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range rs {
		seq.Content = append(seq.Content, r.node())
	}
	return encode(mapping("rules", seq))
}

type decoder struct {
	file string
	dir  string
}

func (d *decoder) at(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Err: fmt.Errorf(format, args...)}
}

// syntax turns the YAML parser's "yaml: line 3: ..." into file:line.
func (d *decoder) syntax(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, tail
			}
		}
	}
	return &Error{File: d.file, Line: line, Err: errors.New(msg)}
}

func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.at(n, "%s: want text", what)
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, d.at(n, "%s: want true or false", what)
	}
	return b, nil
}

func (d *decoder) integer(n *yaml.Node, what string) (int, error) {
	var i int
	if n.Kind != yaml.ScalarNode || n.Decode(&i) != nil {
		return 0, d.at(n, "%s: want a whole number", what)
	}
	return i, nil
}

func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := d.str(n, what)
	if err != nil {
		return 0, err
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, d.at(n, "%s: %q is not a duration (write 500ms, 2s, 1m30s)", what, s)
	}
	return v, nil
}

func (d *decoder) rate(n *yaml.Node, what string) (int64, error) {
	s, err := d.str(n, what)
	if err != nil {
		return 0, err
	}
	v, err := ParseRate(s)
	if err != nil {
		return 0, d.at(n, "%s: %v", what, err)
	}
	return v, nil
}

func (d *decoder) side(n *yaml.Node) (Side, error) {
	s, err := d.str(n, "in")
	if err != nil {
		return 0, err
	}
	switch strings.ToLower(s) {
	case "request":
		return Request, nil
	case "response":
		return Response, nil
	case "both":
		return Both, nil
	}
	return 0, d.at(n, "in: %q: want request, response or both", s)
}

// path resolves a file path from the rules file's directory.
func (d *decoder) path(n *yaml.Node, what string) (string, error) {
	s, err := d.str(n, what)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", d.at(n, "%s: empty path", what)
	}
	s = expandHome(s)
	if !filepath.IsAbs(s) && d.dir != "" {
		s = filepath.Join(d.dir, s)
	}
	if abs, err := filepath.Abs(s); err == nil {
		s = abs
	}
	return s, nil
}

// pairs walks a mapping's keys and values; a node that is not a mapping
// is an error naming what.
func (d *decoder) pairs(n *yaml.Node, what string, fn func(k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return d.at(n, "%s: want a mapping (key: value lines)", what)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		for j := 0; j < i; j += 2 {
			if n.Content[j].Value == k.Value {
				// The YAML parser keeps both; the second would silently win.
				return d.at(k, "%s: %q appears twice (first at line %d)", what, k.Value, n.Content[j].Line)
			}
		}
		if err := fn(k, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) unknown(k *yaml.Node, what string, want ...string) error {
	return d.at(k, "%s: unknown key %q (want %s)", what, k.Value, strings.Join(want, ", "))
}

func (d *decoder) rule(n *yaml.Node) (Rule, error) {
	r := Rule{Line: n.Line, Source: d.file}
	if n.Kind != yaml.MappingNode {
		return r, d.at(n, "a rule is a mapping (name:, match:, and actions such as respond: or set-header:)")
	}
	var inline, listed bool
	err := d.pairs(n, "rule", func(k, v *yaml.Node) error {
		var err error
		switch k.Value {
		case "name":
			r.Name, err = d.str(v, "name")
		case "match", "filter":
			if r.Match.Filter, err = d.str(v, k.Value); err == nil {
				if _, ferr := filter.Parse(r.Match.Filter); ferr != nil {
					err = d.at(v, "%s %q: %v", k.Value, r.Match.Filter, ferr)
				}
			}
		case "method":
			r.Match.Method, err = d.str(v, "method")
		case "path":
			if r.Match.Path, err = d.str(v, "path"); err == nil && !strings.HasPrefix(r.Match.Path, "/") && r.Match.Path != "*" {
				err = d.at(v, "path %q: a path starts with / (it is matched without the query)", r.Match.Path)
			}
		case "url":
			r.Match.URL, err = d.str(v, "url")
		case "requestHeaders":
			r.Match.RequestHeaders, err = d.requestHeaders(v)
		case "disabled":
			r.Disabled, err = d.boolean(v, "disabled")
		case "enabled":
			var on bool
			on, err = d.boolean(v, "enabled")
			r.Disabled = !on
		case "passthrough", "continue":
			r.Passthrough, err = d.boolean(v, k.Value)
		case "actions":
			listed = true
			if v.Kind != yaml.SequenceNode {
				return d.at(v, "actions: want a list, each item one action (- set-header: {...})")
			}
			for _, item := range v.Content {
				if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
					return d.at(item, "actions: each item is one action (- respond: {...}), with one key")
				}
				a, err := d.action(item.Content[0], item.Content[1])
				if err != nil {
					return err
				}
				r.Actions = append(r.Actions, a)
			}
		default:
			if !isActionKey(k.Value) {
				return d.unknown(k, "rule", append([]string{"name", "match", "method", "path", "url", "requestHeaders", "disabled", "passthrough", "actions"}, actionKeys...)...)
			}
			inline = true
			var a Action
			if a, err = d.action(k, v); err == nil {
				r.Actions = append(r.Actions, a)
			}
		}
		return err
	})
	if err == nil && inline && listed {
		err = d.at(n, "write actions either as keys of the rule or under actions:, not both (their order would be unclear)")
	}
	if err == nil {
		if cerr := r.Check(); cerr != nil {
			err = &Error{File: d.file, Line: r.Line, Err: cerr}
		}
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Rule == "" {
			e.Rule = r.Name
		}
		return r, err
	}
	return r, nil
}

func (d *decoder) requestHeaders(n *yaml.Node) ([]HeaderMatch, error) {
	var out []HeaderMatch
	one := func(name string, v *yaml.Node) error {
		h := HeaderMatch{Name: name}
		if v.Kind == yaml.ScalarNode {
			h.Value = v.Value // Imposter's shorthand: Name: value (EqualTo)
		} else if err := d.pairs(v, "requestHeaders "+name, func(k, x *yaml.Node) error {
			var err error
			switch k.Value {
			case "name":
				h.Name, err = d.str(x, "name")
			case "value":
				h.Value, err = d.str(x, "value")
			case "operator":
				var s string
				s, err = d.str(x, "operator")
				h.Operator = Operator(s)
			default:
				return d.unknown(k, "requestHeaders "+name, "value", "operator")
			}
			return err
		}); err != nil {
			return err
		}
		if _, err := compileHeaderMatch(h); err != nil {
			return d.at(v, "%v", err)
		}
		out = append(out, h)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		return out, d.pairs(n, "requestHeaders", func(k, v *yaml.Node) error { return one(k.Value, v) })
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if err := one("", item); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, d.at(n, "requestHeaders: want a mapping of header names to {value, operator}")
}

// action reads one action; its errors are at its own line.
func (d *decoder) action(k, v *yaml.Node) (Action, error) {
	var a Action
	var err error
	switch k.Value {
	case "respond", "response":
		a.Respond, err = d.respond(v)
	case "map-local":
		a.MapLocal, err = d.mapLocal(v)
	case "map-remote":
		a.MapRemote = &MapRemote{}
		err = d.pairs(v, "map-remote", func(k, x *yaml.Node) error {
			var err error
			switch k.Value {
			case "from":
				a.MapRemote.From, err = d.str(x, "from")
			case "to":
				a.MapRemote.To, err = d.str(x, "to")
			default:
				return d.unknown(k, "map-remote", "from", "to")
			}
			return err
		})
	case "set-header":
		sh := &SetHeader{}
		a.SetHeader = sh
		err = d.pairs(v, "set-header", func(k, x *yaml.Node) error {
			var err error
			switch k.Value {
			case "name":
				sh.Name, err = d.str(x, "name")
			case "value":
				sh.Value, err = d.str(x, "value")
			case "file":
				sh.File, err = d.path(x, "file")
			case "in":
				sh.In, err = d.side(x)
			default:
				return d.unknown(k, "set-header", "name", "value", "file", "in")
			}
			return err
		})
	case "remove-header":
		rh := &RemoveHeader{}
		a.RemoveHeader = rh
		if v.Kind == yaml.ScalarNode {
			rh.Name = v.Value
			break
		}
		err = d.pairs(v, "remove-header", func(k, x *yaml.Node) error {
			var err error
			switch k.Value {
			case "name":
				rh.Name, err = d.str(x, "name")
			case "in":
				rh.In, err = d.side(x)
			default:
				return d.unknown(k, "remove-header", "name", "in")
			}
			return err
		})
	case "replace":
		a.Replace, err = d.replace(v)
	case "block":
		a.Block, err = d.block(v)
	case "delay":
		a.Delay, err = d.delay(v)
	case "throttle":
		a.Throttle, err = d.throttle(v)
	case "capture":
		a.Capture, err = d.capture(v)
	default:
		return a, d.unknown(k, "action", actionKeys...)
	}
	if err != nil {
		return a, err
	}
	if _, cerr := compileAction(a); cerr != nil {
		return a, d.at(v, "%s: %v", k.Value, cerr)
	}
	return a, nil
}

func (d *decoder) respond(v *yaml.Node) (*Respond, error) {
	r := &Respond{}
	if v.Kind == yaml.ScalarNode {
		s, err := d.integer(v, "respond")
		r.Status = s
		return r, err
	}
	var b64 *yaml.Node
	err := d.pairs(v, "respond", func(k, x *yaml.Node) error {
		var err error
		switch k.Value {
		case "status", "statusCode":
			r.Status, err = d.integer(x, k.Value)
		case "reason":
			r.Reason, err = d.str(x, "reason")
		case "headers":
			err = d.pairs(x, "headers", func(hk, hv *yaml.Node) error {
				if hv.Kind == yaml.SequenceNode { // a header sent several times
					for _, item := range hv.Content {
						s, err := d.str(item, "header "+hk.Value)
						if err != nil {
							return err
						}
						r.Headers = append(r.Headers, flowstore.Header{Name: hk.Value, Value: s})
					}
					return nil
				}
				s, err := d.str(hv, "header "+hk.Value)
				r.Headers = append(r.Headers, flowstore.Header{Name: hk.Value, Value: s})
				return err
			})
		case "body", "content":
			r.Body, err = d.str(x, k.Value)
		case "bodyBase64":
			b64 = x
		case "file", "staticFile":
			r.File, err = d.path(x, k.Value)
		case "template":
			r.Template, err = d.boolean(x, "template")
		case "verbatim":
			r.Verbatim, err = d.boolean(x, "verbatim")
		default:
			return d.unknown(k, "respond", "status", "reason", "headers", "body", "bodyBase64", "file", "template", "verbatim")
		}
		return err
	})
	if err == nil && b64 != nil {
		s, err := d.str(b64, "bodyBase64")
		if err != nil {
			return nil, err
		}
		raw, derr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if derr != nil {
			return nil, d.at(b64, "bodyBase64: %v", derr)
		}
		r.Body, r.Verbatim = string(raw), true
	}
	return r, err
}

func (d *decoder) mapLocal(v *yaml.Node) (*MapLocal, error) {
	m := &MapLocal{}
	if v.Kind == yaml.ScalarNode {
		p, err := d.path(v, "map-local")
		m.Path = p
		return m, err
	}
	err := d.pairs(v, "map-local", func(k, x *yaml.Node) error {
		var err error
		switch k.Value {
		case "path", "file", "dir":
			m.Path, err = d.path(x, k.Value)
		case "url":
			m.URL, err = d.str(x, "url")
		default:
			return d.unknown(k, "map-local", "path", "url")
		}
		return err
	})
	return m, err
}

func (d *decoder) replace(v *yaml.Node) (*Replace, error) {
	rp := &Replace{}
	err := d.pairs(v, "replace", func(k, x *yaml.Node) error {
		var err error
		switch k.Value {
		case "in":
			rp.In, err = d.side(x)
		case "header":
			rp.Header, err = d.str(x, "header")
		case "pattern":
			rp.Pattern, err = d.str(x, "pattern")
		case "with":
			rp.With, err = d.str(x, "with")
		case "withFile":
			rp.WithFile, err = d.path(x, "withFile")
		case "literal":
			rp.Literal, err = d.boolean(x, "literal")
		default:
			return d.unknown(k, "replace", "in", "header", "pattern", "with", "withFile", "literal")
		}
		return err
	})
	return rp, err
}

func (d *decoder) block(v *yaml.Node) (*Block, error) {
	b := &Block{}
	if v.Kind != yaml.ScalarNode {
		return nil, d.at(v, "block: want a status (403), close or reset")
	}
	switch strings.ToLower(v.Value) {
	case "close":
		b.Close = true
	case "reset":
		b.Reset = true
	default:
		n, err := strconv.Atoi(v.Value)
		if err != nil {
			return nil, d.at(v, "block: %q: want a status (403), close or reset", v.Value)
		}
		b.Status = n
	}
	return b, nil
}

func (d *decoder) delay(v *yaml.Node) (*Delay, error) {
	dl := &Delay{}
	if v.Kind == yaml.ScalarNode {
		t, err := d.duration(v, "delay")
		dl.Request = t
		return dl, err
	}
	err := d.pairs(v, "delay", func(k, x *yaml.Node) error {
		var err error
		switch k.Value {
		case "request":
			dl.Request, err = d.duration(x, "request")
		case "response":
			dl.Response, err = d.duration(x, "response")
		default:
			return d.unknown(k, "delay", "request", "response")
		}
		return err
	})
	return dl, err
}

func (d *decoder) throttle(v *yaml.Node) (*Throttle, error) {
	t := &Throttle{}
	if v.Kind == yaml.ScalarNode {
		t.Preset = v.Value
		return t, nil
	}
	err := d.pairs(v, "throttle", func(k, x *yaml.Node) error {
		var err error
		switch k.Value {
		case "preset":
			t.Preset, err = d.str(x, "preset")
		case "down":
			t.Down, err = d.rate(x, "down")
		case "up":
			t.Up, err = d.rate(x, "up")
		case "latency":
			t.Latency, err = d.duration(x, "latency")
		default:
			return d.unknown(k, "throttle", "preset", "down", "up", "latency")
		}
		return err
	})
	return t, err
}

// capture reads Imposter's form: KEY: {store: NAME, requestHeader: NAME}.
func (d *decoder) capture(v *yaml.Node) (*Capture, error) {
	c := &Capture{}
	err := d.pairs(v, "capture", func(k, x *yaml.Node) error {
		f := CaptureField{Key: k.Value}
		err := d.pairs(x, "capture "+k.Value, func(ck, cv *yaml.Node) error {
			if ck.Value == "store" {
				var err error
				f.Store, err = d.str(cv, "store")
				return err
			}
			if !slices.Contains(captureFroms, CaptureFrom(ck.Value)) {
				names := []string{"store"}
				for _, f := range captureFroms {
					names = append(names, string(f))
				}
				return d.unknown(ck, "capture "+k.Value, names...)
			}
			if f.From != "" {
				return d.at(ck, "capture %s: one source only (it has %s already)", k.Value, f.From)
			}
			s, err := d.str(cv, ck.Value)
			f.From, f.Arg = CaptureFrom(ck.Value), s
			return err
		})
		if err == nil && f.From == "" {
			err = d.at(x, "capture %s: say where from: requestHeader, queryParam, pathSegment, jsonPath or value", k.Value)
		}
		c.Fields = append(c.Fields, f)
		return err
	})
	return c, err
}

// The writing side: nodes built by hand, so keys keep their order.

func scalar(s string) *yaml.Node {
	n := &yaml.Node{}
	n.SetString(s)
	return n
}

func intNode(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// mapping builds a mapping from key, value pairs; a nil value is left out.
func mapping(kvs ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kvs); i += 2 {
		v, _ := kvs[i+1].(*yaml.Node)
		if v == nil {
			continue
		}
		m.Content = append(m.Content, scalar(kvs[i].(string)), v)
	}
	return m
}

func strIf(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return scalar(s)
}

func trueIf(b bool) *yaml.Node {
	if !b {
		return nil
	}
	return boolNode(true)
}

func durIf(d time.Duration) *yaml.Node {
	if d == 0 {
		return nil
	}
	return scalar(d.String())
}

func rateIf(r int64) *yaml.Node {
	if r == 0 {
		return nil
	}
	return scalar(FormatRate(r))
}

func sideIf(s, def Side) *yaml.Node {
	if s == 0 || s == def {
		return nil
	}
	return scalar(s.String())
}

func (r Rule) node() *yaml.Node {
	n := mapping(
		"name", strIf(r.Name),
		"match", strIf(r.Match.Filter),
		"method", strIf(r.Match.Method),
		"path", strIf(r.Match.Path),
		"url", strIf(r.Match.URL),
		"requestHeaders", headersNode(r.Match.RequestHeaders),
		"disabled", trueIf(r.Disabled),
		"passthrough", trueIf(r.Passthrough),
	)
	kinds := map[string]bool{}
	repeated := false
	for _, a := range r.Actions {
		repeated = repeated || kinds[a.Kind()]
		kinds[a.Kind()] = true
	}
	if repeated {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, a := range r.Actions {
			seq.Content = append(seq.Content, mapping(a.Kind(), a.node()))
		}
		n.Content = append(n.Content, scalar("actions"), seq)
		return n
	}
	for _, a := range r.Actions {
		if k := a.Kind(); k != "" {
			n.Content = append(n.Content, scalar(k), a.node())
		}
	}
	return n
}

func headersNode(hs []HeaderMatch) *yaml.Node {
	if len(hs) == 0 {
		return nil
	}
	one := func(h HeaderMatch) *yaml.Node {
		op := h.Operator
		if op == "" {
			op = EqualTo
		}
		switch op {
		case EqualTo:
			return scalar(h.Value)
		case Exists, NotExists:
			return mapping("operator", scalar(string(op)))
		}
		return mapping("value", scalar(h.Value), "operator", scalar(string(op)))
	}
	seen := map[string]bool{}
	dup := false
	for _, h := range hs {
		k := strings.ToLower(h.Name)
		dup = dup || seen[k]
		seen[k] = true
	}
	if dup {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, h := range hs {
			op := h.Operator
			if op == "" {
				op = EqualTo
			}
			seq.Content = append(seq.Content, mapping("name", scalar(h.Name), "value", scalar(h.Value), "operator", scalar(string(op))))
		}
		return seq
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, h := range hs {
		m.Content = append(m.Content, scalar(h.Name), one(h))
	}
	return m
}

func (a Action) node() *yaml.Node {
	switch {
	case a.Respond != nil:
		r := a.Respond
		var hs *yaml.Node
		if len(r.Headers) > 0 {
			hs = &yaml.Node{Kind: yaml.MappingNode}
			for i := 0; i < len(r.Headers); i++ {
				h := r.Headers[i]
				var vals []string
				for _, o := range r.Headers[i:] {
					if strings.EqualFold(o.Name, h.Name) {
						vals = append(vals, o.Value)
					}
				}
				if slices.ContainsFunc(hs.Content, func(k *yaml.Node) bool { return strings.EqualFold(k.Value, h.Name) }) {
					continue
				}
				v := scalar(h.Value)
				if len(vals) > 1 {
					v = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
					for _, s := range vals {
						v.Content = append(v.Content, scalar(s))
					}
				}
				hs.Content = append(hs.Content, scalar(h.Name), v)
			}
		}
		var status *yaml.Node
		if r.Status != 0 {
			status = intNode(r.Status)
		}
		body, b64 := strIf(r.Body), (*yaml.Node)(nil)
		verbatim := r.Verbatim
		if !utf8.ValidString(r.Body) {
			body, b64, verbatim = nil, scalar(base64.StdEncoding.EncodeToString([]byte(r.Body))), false
		}
		return mapping("status", status, "reason", strIf(r.Reason), "headers", hs, "body", body, "bodyBase64", b64,
			"file", strIf(r.File), "template", trueIf(r.Template), "verbatim", trueIf(verbatim))
	case a.MapLocal != nil:
		if a.MapLocal.URL == "" {
			return scalar(a.MapLocal.Path)
		}
		return mapping("path", scalar(a.MapLocal.Path), "url", scalar(a.MapLocal.URL))
	case a.MapRemote != nil:
		return mapping("from", scalar(a.MapRemote.From), "to", scalar(a.MapRemote.To))
	case a.SetHeader != nil:
		s := a.SetHeader
		var value *yaml.Node
		if s.File == "" {
			value = scalar(s.Value)
		}
		return mapping("name", scalar(s.Name), "value", value, "file", strIf(s.File), "in", sideIf(s.In, Request))
	case a.RemoveHeader != nil:
		if a.RemoveHeader.In == 0 || a.RemoveHeader.In == Request {
			return scalar(a.RemoveHeader.Name)
		}
		return mapping("name", scalar(a.RemoveHeader.Name), "in", scalar(a.RemoveHeader.In.String()))
	case a.Replace != nil:
		r := a.Replace
		var with *yaml.Node
		if r.WithFile == "" {
			with = scalar(r.With)
		}
		var in *yaml.Node
		if r.In != 0 {
			in = scalar(r.In.String())
		}
		return mapping("in", in, "header", strIf(r.Header), "pattern", scalar(r.Pattern), "with", with,
			"withFile", strIf(r.WithFile), "literal", trueIf(r.Literal))
	case a.Block != nil:
		switch {
		case a.Block.Close:
			return scalar("close")
		case a.Block.Reset:
			return scalar("reset")
		}
		return intNode(a.Block.Status)
	case a.Delay != nil:
		if a.Delay.Response == 0 {
			return scalar(a.Delay.Request.String())
		}
		return mapping("request", durIf(a.Delay.Request), "response", durIf(a.Delay.Response))
	case a.Throttle != nil:
		t := a.Throttle
		if t.Down == 0 && t.Up == 0 && t.Latency == 0 {
			return scalar(t.Preset)
		}
		return mapping("preset", strIf(t.Preset), "down", rateIf(t.Down), "up", rateIf(t.Up), "latency", durIf(t.Latency))
	case a.Capture != nil:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range a.Capture.Fields {
			m.Content = append(m.Content, scalar(f.Key), mapping("store", strIf(f.Store), string(f.From), scalar(f.Arg)))
		}
		return m
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}
