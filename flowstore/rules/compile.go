package rules

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
)

// compiled is a rule ready to match and act: regexes, globs and templates
// built once.
type compiled struct {
	Rule
	filter  *filter.Filter
	path    *glob
	url     *glob
	headers []headerCond
	urlRx   []*regexp.Regexp // map-remote and map-local patterns: the rule matches only URLs they are found in
	acts    []act
	phases  Side
	// Whether the rule needs a whole body to match (its filter reads one)
	// and to act (a body replace, a JSON capture, a template of the body).
	matchBody         bool
	reqBody, respBody bool
	hits              *atomic.Int64
	spec              string // the rule's YAML, carried by the flows it acts on
}

type headerCond struct {
	HeaderMatch
	rx *regexp.Regexp // Matches, NotMatches
}

// act is one compiled action.
type act struct {
	Action
	side     Side // the phases it acts in
	body     *template
	hdrs     []*template // respond headers' values, in order
	value    *template   // set-header
	rx       *regexp.Regexp
	captures []*template // FromValue captures, by field
}

// compileRule checks a rule and builds what matching and acting need.
// Errors say which part is wrong, without the rule's place (the caller
// knows it).
func compileRule(r Rule) (*compiled, error) {
	c := &compiled{Rule: r}
	m := &r.Match
	if strings.TrimSpace(m.Filter) != "" {
		f, err := filter.Parse(m.Filter)
		if err != nil {
			return nil, fmt.Errorf("match %q: %w", m.Filter, err)
		}
		c.filter = f
		c.matchBody = f.ReadsBody()
	}
	if m.Method != "" {
		if strings.ContainsAny(m.Method, " \t\r\n") {
			return nil, fmt.Errorf("method %q: a method is one word", m.Method)
		}
	}
	if m.Path != "" {
		if !strings.HasPrefix(m.Path, "/") && m.Path != "*" {
			return nil, fmt.Errorf("path %q: a path starts with / (it is matched without the query)", m.Path)
		}
		c.path = newGlob(m.Path)
	}
	if m.URL != "" {
		c.url = newGlob(m.URL)
	}
	for _, h := range m.RequestHeaders {
		hc, err := compileHeaderMatch(h)
		if err != nil {
			return nil, err
		}
		c.headers = append(c.headers, hc)
	}
	for i, a := range r.Actions {
		ca, err := compileAction(a)
		if err != nil {
			kind := a.Kind()
			if kind == "" {
				kind = fmt.Sprintf("action %d", i+1)
			}
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		c.phases |= ca.side
		switch {
		case a.MapRemote != nil:
			c.urlRx = append(c.urlRx, ca.rx)
		case a.MapLocal != nil && ca.rx != nil:
			c.urlRx = append(c.urlRx, ca.rx)
		}
		c.reqBody = c.reqBody || ca.needsBody(Request)
		c.respBody = c.respBody || ca.needsBody(Response)
		c.acts = append(c.acts, ca)
	}
	if len(r.Actions) == 0 {
		// A rule without actions still stops the rules after it (unless
		// passthrough) for the flows it matches.
		c.phases = Request
	}
	if r.Source != SourceMock {
		c.spec = string(r.YAML())
	}
	return c, nil
}

func compileHeaderMatch(h HeaderMatch) (headerCond, error) {
	hc := headerCond{HeaderMatch: h}
	if hc.Operator == "" {
		hc.Operator = EqualTo
	}
	if err := checkHeaderName(h.Name); err != nil {
		return hc, fmt.Errorf("requestHeaders: %w", err)
	}
	known := false
	for _, o := range operators {
		if o == hc.Operator {
			known = true
		}
	}
	if !known {
		return hc, fmt.Errorf("requestHeaders %s: unknown operator %q (want one of %s)", h.Name, h.Operator, operatorNames())
	}
	if hc.Operator == Matches || hc.Operator == NotMatches {
		rx, err := regexp.Compile(`^(?:` + h.Value + `)$`)
		if err != nil {
			return hc, fmt.Errorf("requestHeaders %s: %s %q: %w", h.Name, hc.Operator, h.Value, err)
		}
		hc.rx = rx
	}
	return hc, nil
}

func operatorNames() string {
	s := make([]string, len(operators))
	for i, o := range operators {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

// framing headers are the proxy's to write: a rule setting them could
// make the head announce a body other than the one that follows.
func isFraming(name string) bool {
	return strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Transfer-Encoding")
}

func sideOr(s, def Side) Side {
	if s == 0 {
		return def
	}
	return s
}

func compileAction(a Action) (act, error) {
	ca := act{Action: a}
	if a.Kind() == "" {
		return ca, errors.New("an action must set exactly one kind")
	}
	var err error
	switch {
	case a.Respond != nil:
		ca.side = Request
		err = ca.compileRespond(a.Respond)
	case a.MapLocal != nil:
		ca.side = Request
		if a.MapLocal.Path == "" {
			return ca, errors.New("needs a path (a file or a directory)")
		}
		if _, err := os.Stat(a.MapLocal.Path); err != nil {
			return ca, err
		}
		if a.MapLocal.URL != "" {
			if ca.rx, err = regexp.Compile(a.MapLocal.URL); err != nil {
				return ca, fmt.Errorf("url %q: %w", a.MapLocal.URL, err)
			}
		}
	case a.MapRemote != nil:
		ca.side = Request
		mr := a.MapRemote
		// An empty from is found everywhere; mitmproxy takes it too.
		if ca.rx, err = regexp.Compile(mr.From); err != nil {
			return ca, fmt.Errorf("from %q: %w", mr.From, err)
		}
		err = checkGroupRefs(ca.rx, mr.To)
	case a.SetHeader != nil:
		sh := a.SetHeader
		ca.side = sideOr(sh.In, Request)
		if err := checkHeaderName(sh.Name); err != nil {
			return ca, err
		}
		if isFraming(sh.Name) {
			return ca, fmt.Errorf("%s is written by the proxy, from the body that goes", sh.Name)
		}
		if sh.File != "" {
			if _, err := os.Stat(sh.File); err != nil {
				return ca, err
			}
		}
		if ca.value, err = parseTemplate(sh.Value); err != nil {
			return ca, err
		}
		if s, ok := ca.value.static(); ok {
			err = checkHeaderValue(s)
		}
	case a.RemoveHeader != nil:
		ca.side = sideOr(a.RemoveHeader.In, Request)
		err = checkHeaderName(a.RemoveHeader.Name)
	case a.Replace != nil:
		rp := a.Replace
		if rp.In == 0 {
			return ca, errors.New("needs in: request, response or both")
		}
		ca.side = rp.In
		if rp.Header != "" {
			if err := checkHeaderName(rp.Header); err != nil {
				return ca, err
			}
			if isFraming(rp.Header) {
				return ca, fmt.Errorf("%s is written by the proxy, from the body that goes", rp.Header)
			}
		}
		if ca.rx, err = regexp.Compile(rp.Pattern); err != nil {
			return ca, fmt.Errorf("pattern %q: %w", rp.Pattern, err)
		}
		if rp.WithFile != "" {
			if _, err := os.Stat(rp.WithFile); err != nil {
				return ca, err
			}
		} else if !rp.Literal {
			err = checkGroupRefs(ca.rx, rp.With)
		}
	case a.Block != nil:
		ca.side = Request
		b := a.Block
		n := 0
		for _, set := range []bool{b.Status != 0, b.Close, b.Reset} {
			if set {
				n++
			}
		}
		if n != 1 {
			return ca, errors.New("want one of a status (403), close or reset")
		}
		if b.Status != 0 && (b.Status < 200 || b.Status > 999) {
			return ca, fmt.Errorf("status %d cannot answer a request (want 200 to 999)", b.Status)
		}
	case a.Delay != nil:
		d := a.Delay
		if d.Request < 0 || d.Response < 0 {
			return ca, errors.New("a delay cannot be negative")
		}
		if d.Request > 0 {
			ca.side |= Request
		}
		if d.Response > 0 {
			ca.side |= Response
		}
		if ca.side == 0 {
			return ca, errors.New("needs a request or a response delay above 0")
		}
	case a.Throttle != nil:
		t := a.Throttle
		if t.Preset != "" {
			if _, ok := LookupPreset(t.Preset); !ok {
				return ca, fmt.Errorf("unknown preset %q (want one of %s)", t.Preset, presetNames())
			}
		}
		if t.Down < 0 || t.Up < 0 || t.Latency < 0 {
			return ca, errors.New("bandwidth and latency cannot be negative")
		}
		e := t.Effective()
		if e.Up > 0 {
			ca.side |= Request
		}
		if e.Down > 0 || e.Latency > 0 {
			ca.side |= Response
		}
		if ca.side == 0 {
			return ca, errors.New("needs a preset, down, up or latency")
		}
	case a.Capture != nil:
		ca.side = Request
		err = ca.compileCapture(a.Capture)
	}
	return ca, err
}

func (ca *act) compileRespond(r *Respond) error {
	if r.Status != 0 && !r.Verbatim && (r.Status < 200 || r.Status > 999) {
		return fmt.Errorf("status %d cannot answer a request (want 200 to 999)", r.Status)
	}
	if r.File != "" {
		if r.Body != "" {
			return errors.New("give a body or a file, not both")
		}
		fi, err := os.Stat(r.File)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory (map-local serves directories)", r.File)
		}
	}
	for _, h := range r.Headers {
		if err := checkHeaderName(h.Name); err != nil {
			return err
		}
		var t *template
		var err error
		if r.Verbatim {
			t = &template{parts: []tpart{{lit: h.Value}}}
		} else if t, err = parseTemplate(h.Value); err != nil {
			return fmt.Errorf("header %s: %w", h.Name, err)
		}
		if s, ok := t.static(); ok {
			if err := checkHeaderValue(s); err != nil {
				return err
			}
		}
		ca.hdrs = append(ca.hdrs, t)
	}
	if r.Verbatim || r.File != "" {
		ca.body = &template{parts: []tpart{{lit: r.Body}}}
		return nil
	}
	var err error
	ca.body, err = parseTemplate(r.Body)
	return err
}

func (ca *act) compileCapture(c *Capture) error {
	if len(c.Fields) == 0 {
		return errors.New("needs at least one KEY: {requestHeader: NAME} (or queryParam, pathSegment, jsonPath, value)")
	}
	for _, f := range c.Fields {
		var t *template
		if f.Key == "" {
			return errors.New("a captured value needs a key")
		}
		switch f.From {
		case FromHeader:
			if err := checkHeaderName(f.Arg); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		case FromQuery:
			if f.Arg == "" {
				return fmt.Errorf("%s: queryParam needs a name", f.Key)
			}
		case FromPathSegment:
			if n, err := strconv.Atoi(f.Arg); err != nil || n < 0 {
				return fmt.Errorf("%s: pathSegment %q: want 0 for the first segment, 1 for the second...", f.Key, f.Arg)
			}
		case FromJSON:
			if _, err := parseJSONPath(f.Arg); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		case FromValue:
			var err error
			if t, err = parseTemplate(f.Arg); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		default:
			return fmt.Errorf("%s: capture from %q: want one of %s", f.Key, f.From, captureNames())
		}
		ca.captures = append(ca.captures, t)
	}
	return nil
}

func captureNames() string {
	s := make([]string, len(captureFroms))
	for i, f := range captureFroms {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// needsBody reports whether the action needs the whole body of side's
// message to act.
func (ca *act) needsBody(side Side) bool {
	a := ca.Action
	switch {
	case a.Replace != nil:
		return a.Replace.Header == "" && a.Replace.In&side != 0
	case side != Request:
		return false
	case a.Capture != nil:
		for i, f := range a.Capture.Fields {
			if f.From == FromJSON || ca.captures[i] != nil && ca.captures[i].readsBody() {
				return true
			}
		}
	case a.Respond != nil:
		if ca.body.readsBody() {
			return true
		}
		for _, t := range ca.hdrs {
			if t.readsBody() {
				return true
			}
		}
	case a.SetHeader != nil:
		return ca.value.readsBody()
	}
	return false
}

func (t *template) readsBody() bool {
	for _, p := range t.parts {
		if p.expr != nil && p.expr.kind == exBody {
			return true
		}
	}
	return false
}

// checkGroupRefs refuses a replacement that names a group the regex does
// not have (Go would expand it to nothing; Python refuses it too).
func checkGroupRefs(rx *regexp.Regexp, repl string) error {
	names := rx.SubexpNames()
	for i := 0; i < len(repl); i++ {
		if repl[i] != '$' {
			continue
		}
		i++
		if i < len(repl) && repl[i] == '$' {
			continue
		}
		var ref string
		if i < len(repl) && repl[i] == '{' {
			end := strings.IndexByte(repl[i:], '}')
			if end < 0 {
				return fmt.Errorf("replacement %q: ${ without }", repl)
			}
			ref = repl[i+1 : i+end]
			i += end
		} else {
			j := i
			for j < len(repl) && (repl[j] == '_' || 'a' <= repl[j] && repl[j] <= 'z' || 'A' <= repl[j] && repl[j] <= 'Z' || '0' <= repl[j] && repl[j] <= '9') {
				j++
			}
			ref = repl[i:j]
			i = j - 1
		}
		if ref == "" {
			continue
		}
		if n, err := strconv.Atoi(ref); err == nil {
			if n >= len(names) {
				return fmt.Errorf("replacement %q: the pattern has no group %d", repl, n)
			}
			continue
		}
		found := false
		for _, nm := range names {
			found = found || nm == ref
		}
		if !found {
			return fmt.Errorf("replacement %q: the pattern has no group named %q (write $$ for a dollar)", repl, ref)
		}
	}
	return nil
}

// Check compiles a rule on its own, as Compile would, and reports what is
// wrong with it.
func (r Rule) Check() error {
	_, err := compileRule(r)
	return err
}

// Set is a compiled, immutable list of rules. The engine swaps whole sets;
// a flow keeps the set it started with.
type Set struct {
	rules []*compiled
	req   []int // enabled rules acting on requests, in order
	resp  []int // and on responses
	// Whether some matcher of that phase reads a body: then the body is
	// read before matching.
	reqMatchBody, respMatchBody bool
}

// Status is a rule as a list shows it: its definition and how many flows
// it acted on.
type Status struct {
	Rule
	Hits int64
}

// Compile checks every rule and builds a set. Names must be unique (an
// empty one is given one from the rule's source and position). Hit counts
// carry over from prev by name. Every error is reported, each with the
// rule's place.
func Compile(rs []Rule, prev *Set) (*Set, error) {
	s := &Set{}
	seen := map[string]*Rule{}
	var errs []error
	old := map[string]*atomic.Int64{}
	if prev != nil {
		for _, c := range prev.rules {
			old[c.Name] = c.hits
		}
	}
	for i := range rs {
		r := rs[i]
		if r.Name == "" {
			r.Name = defaultName(&r, i)
		}
		if o := seen[r.Name]; o != nil {
			errs = append(errs, ruleError(&r, fmt.Errorf("the name %q is taken by the rule at %s", r.Name, orUnknown(o.Where()))))
			continue
		}
		seen[r.Name] = &rs[i]
		c, err := compileRule(r)
		if err != nil {
			errs = append(errs, ruleError(&r, err))
			continue
		}
		c.hits = old[r.Name]
		if c.hits == nil {
			c.hits = new(atomic.Int64)
		}
		idx := len(s.rules)
		s.rules = append(s.rules, c)
		if r.Disabled {
			continue
		}
		if c.phases&Request != 0 {
			s.req = append(s.req, idx)
			s.reqMatchBody = s.reqMatchBody || c.matchBody
		}
		if c.phases&Response != 0 {
			s.resp = append(s.resp, idx)
			s.respMatchBody = s.respMatchBody || c.matchBody
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(no place)"
	}
	return s
}

func defaultName(r *Rule, i int) string {
	base := r.Source
	if j := strings.LastIndexAny(base, `/\`); j >= 0 {
		base = base[j+1:]
	}
	if base == "" {
		base = "rule"
	}
	return fmt.Sprintf("%s#%d", base, i+1)
}

// ruleError puts the rule's place and name before err.
func ruleError(r *Rule, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{File: r.Source, Line: r.Line, Rule: r.Name, Err: err}
}

// Error is a rule that cannot be used, and where it is.
type Error struct {
	File string // a rules file, or a Source name
	Line int
	Rule string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Rules returns the set's rules with their hit counts, in order.
func (s *Set) Rules() []Status {
	if s == nil {
		return nil
	}
	out := make([]Status, len(s.rules))
	for i, c := range s.rules {
		out[i] = Status{Rule: c.Rule, Hits: c.hits.Load()}
	}
	return out
}

// Len is the number of rules, enabled or not.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// ActsOnRequests reports whether any enabled rule acts on requests; when
// none does, a request costs the set nothing. ActsOnResponses likewise.
func (s *Set) ActsOnRequests() bool  { return s != nil && len(s.req) > 0 }
func (s *Set) ActsOnResponses() bool { return s != nil && len(s.resp) > 0 }

// MatchReadsRequestBody reports whether some rule's matcher reads the
// request body: the engine then reads it before matching. Likewise
// MatchReadsResponseBody.
func (s *Set) MatchReadsRequestBody() bool  { return s != nil && s.reqMatchBody }
func (s *Set) MatchReadsResponseBody() bool { return s != nil && s.respMatchBody }

// glob matches * as any run of characters; \* is a literal star.
type glob struct {
	parts []string // literal pieces between stars
	exact bool     // no star
}

func newGlob(p string) *glob {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == '*':
			cur.WriteByte('*')
			i++
		case p[i] == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	parts = append(parts, cur.String())
	return &glob{parts: parts, exact: len(parts) == 1}
}

func (g *glob) match(s string) bool {
	if g.exact {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// escapeGlob makes a URL or path literal for a glob (a standing mock's
// exact URL).
func escapeGlob(s string) string { return strings.ReplaceAll(s, "*", `\*`) }

func unescapeGlob(s string) string { return strings.ReplaceAll(s, `\*`, "*") }

// ReplaceSource returns cur with the rules of source replaced by rs: they
// take the place of the first of the old ones, or go at the end when the
// source had none. rs's Source is set to source.
func ReplaceSource(cur []Rule, source string, rs []Rule) []Rule {
	out := make([]Rule, 0, len(cur)+len(rs))
	placed := false
	put := func() {
		for _, r := range rs {
			r.Source = source
			out = append(out, r)
		}
		placed = true
	}
	for _, r := range cur {
		if r.Source != source {
			out = append(out, r)
			continue
		}
		if !placed {
			put()
		}
	}
	if !placed {
		put()
	}
	return out
}
