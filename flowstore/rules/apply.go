package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
)

// MatchRequest returns the rules that apply to f's request as it is now,
// in order: each enabled rule acting on requests whose matcher holds, up
// to and including the first that is not passthrough. It returns nil,
// without allocating, when none does: rules cost nothing on flows they do
// not match. ApplyRequest then goes on from the first of them, each later
// rule matched against the flow as the rules before it left it.
func (s *Set) MatchRequest(f *flowstore.Flow) []int { return s.match(s.reqIdx(), f) }

// MatchResponse is MatchRequest for the response phase; f has its
// response (as it stands after the response hooks).
func (s *Set) MatchResponse(f *flowstore.Flow) []int { return s.match(s.respIdx(), f) }

func (s *Set) reqIdx() []int {
	if s == nil {
		return nil
	}
	return s.req
}

func (s *Set) respIdx() []int {
	if s == nil {
		return nil
	}
	return s.resp
}

func (s *Set) match(idx []int, f *flowstore.Flow) []int {
	var out []int
	for _, i := range idx {
		c := s.rules[i]
		if !c.matches(f) {
			continue
		}
		out = append(out, i)
		if !c.Passthrough {
			break
		}
	}
	return out
}

func (c *compiled) matches(f *flowstore.Flow) bool {
	r := f.Request
	if r == nil {
		return false
	}
	if c.Match.Method != "" && !strings.EqualFold(c.Match.Method, r.Method) {
		return false
	}
	if c.path != nil && !c.path.match(r.PathOnly()) {
		return false
	}
	for i := range c.headers {
		if !c.headers[i].holds(r.Headers) {
			return false
		}
	}
	if c.url != nil || len(c.urlRx) > 0 {
		u := r.URL()
		if c.url != nil && !c.url.match(u) {
			return false
		}
		for _, rx := range c.urlRx {
			if !rx.MatchString(u) {
				return false
			}
		}
	}
	return c.filter == nil || c.filter.Match(f)
}

func (h *headerCond) holds(hs flowstore.Headers) bool {
	neg := false
	switch h.Operator {
	case NotEqualTo, NotExists, NotContains, NotMatches:
		neg = true
	}
	found := false
	for _, kv := range hs {
		if !strings.EqualFold(kv.Name, h.Name) {
			continue
		}
		var ok bool
		switch h.Operator {
		case EqualTo, NotEqualTo:
			ok = kv.Value == h.Value
		case Exists, NotExists:
			ok = true
		case Contains, NotContains:
			ok = strings.Contains(kv.Value, h.Value)
		case Matches, NotMatches:
			ok = h.rx.MatchString(kv.Value)
		}
		if ok {
			found = true
			break
		}
	}
	return found != neg
}

// NeedsRequestBody reports whether the rules from m's first on (from
// MatchRequest) may need the whole request body to act, or to match once
// earlier rules changed the flow. NeedsResponseBody likewise.
func (s *Set) NeedsRequestBody(m []int) bool { return s.needsBody(s.reqIdx(), m, Request) }

func (s *Set) NeedsResponseBody(m []int) bool { return s.needsBody(s.respIdx(), m, Response) }

func (s *Set) needsBody(idx, m []int, side Side) bool {
	if len(m) == 0 {
		return false
	}
	for _, i := range idx {
		if i < m[0] {
			continue
		}
		c := s.rules[i]
		if side == Request && c.reqBody || side == Response && c.respBody || i != m[0] && c.matchBody {
			return true
		}
	}
	return false
}

// Env is what applying rules needs from the engine.
type Env struct {
	Stores *Stores
	// Whole reports that the phase's message holds its whole body (a body
	// past the body limit, or not read, cannot be rewritten).
	Whole bool
	// BodyLimit is how much of a local file an answer keeps in the flow;
	// past it the engine streams the file (Outcome.AnswerFile).
	BodyLimit int64
}

// Outcome is what the engine must do on the wire after a phase's rules.
type Outcome struct {
	// Answer: f.Response is the answer to send (respond, map-local, a
	// block with a status); the origin is not contacted.
	Answer bool
	// AnswerFile: the answer's body is this file's content, streamed (the
	// flow keeps its first BodyLimit bytes).
	AnswerFile string
	// Close or Reset: end the client's connection instead of answering.
	Close, Reset bool
	// By names the rule that answered, closed or reset.
	By string
	// Delay: wait this long before the request goes (request phase) or the
	// response starts (response phase).
	Delay time.Duration
	// Rate: pace this phase's body to this many bits per second (0: no
	// limit): the request's body upstream, the response's to the client.
	Rate int64
}

// phaseRun is one phase's application: what has been done so far.
type phaseRun struct {
	s          *Set
	f          *flowstore.Flow
	env        Env
	side       Side
	out        Outcome
	replaced   []string // header names a set-header replaced in this phase
	notFound   *flowstore.Response
	notFoundBy string
	c          *compiled
}

// ApplyRequest applies the rules to f's request from m's first on (m from
// MatchRequest), each later one matched against f as the rules before it
// left it; it records on f what each did and says what the engine must do.
// An answer or a block ends the phase.
func (s *Set) ApplyRequest(f *flowstore.Flow, m []int, env Env) Outcome {
	p := &phaseRun{s: s, f: f, env: env, side: Request}
	if p.walk(s.reqIdx(), m) {
		return p.out
	}
	if p.notFound != nil {
		f.Response = p.notFound
		p.out.Answer, p.out.By = true, p.notFoundBy
	}
	return p.out
}

// ApplyResponse applies the rules to f's response from m's first on (m
// from MatchResponse).
func (s *Set) ApplyResponse(f *flowstore.Flow, m []int, env Env) Outcome {
	p := &phaseRun{s: s, f: f, env: env, side: Response}
	p.walk(s.respIdx(), m)
	return p.out
}

// walk applies the phase's rules in order from m's first; it reports an
// answer or a block.
func (p *phaseRun) walk(idx, m []int) bool {
	if len(m) == 0 {
		return false
	}
	for _, i := range idx {
		if i < m[0] {
			continue
		}
		p.c = p.s.rules[i]
		if i != m[0] && !p.c.matches(p.f) {
			continue
		}
		p.hit("")
		for j := range p.c.acts {
			if p.do(&p.c.acts[j]) {
				p.out.By = p.c.Name
				return true
			}
		}
		if !p.c.Passthrough {
			break
		}
	}
	return false
}

// hit records that the current rule acted on the flow, and what it did.
// The first time counts a hit.
func (p *phaseRun) hit(did string) {
	f, c := p.f, p.c
	for i := range f.Rules {
		if f.Rules[i].Rule == c.Name {
			if did != "" {
				h := &f.Rules[i]
				h.Did = append(h.Did[:len(h.Did):len(h.Did)], did) // never into a shared array
			}
			return
		}
	}
	c.hits.Add(1)
	h := flowstore.RuleHit{Rule: c.Name, Spec: c.spec}
	if did != "" {
		h.Did = []string{did}
	}
	f.Rules = append(f.Rules[:len(f.Rules):len(f.Rules)], h)
}

func (p *phaseRun) note(format string, args ...any) { p.hit(fmt.Sprintf(format, args...)) }

// do runs one action in the current phase; it reports an answer or a
// block, which ends the phase.
func (p *phaseRun) do(a *act) bool {
	if a.side&p.side == 0 {
		return false
	}
	switch {
	case a.Respond != nil:
		return p.respond(a)
	case a.MapLocal != nil:
		return p.mapLocal(a)
	case a.MapRemote != nil:
		p.mapRemote(a)
	case a.SetHeader != nil:
		p.setHeader(a)
	case a.RemoveHeader != nil:
		hs := p.headers()
		if !hs.Has(a.RemoveHeader.Name) {
			p.note("%s header %s: not there", p.side, a.RemoveHeader.Name)
			return false
		}
		n := hs.Clone()
		n.Del(a.RemoveHeader.Name)
		p.setHeaders(n)
		p.note("removed %s header %s", p.side, a.RemoveHeader.Name)
	case a.Replace != nil:
		p.replace(a)
	case a.Block != nil:
		return p.block(a)
	case a.Delay != nil:
		d := a.Delay.Request
		if p.side == Response {
			d = a.Delay.Response
		}
		p.out.Delay += d
		p.note("delayed the %s %s", p.side, d)
	case a.Throttle != nil:
		t := a.Throttle.Effective()
		rate := t.Up
		if p.side == Response {
			rate = t.Down
			if t.Latency > 0 {
				p.out.Delay += t.Latency
			}
		}
		if rate > 0 && (p.out.Rate == 0 || rate < p.out.Rate) {
			p.out.Rate = rate
		}
		what := "upload"
		if p.side == Response {
			what = "download"
		}
		desc := fmt.Sprintf("throttled the %s to %s/s", what, FormatRate(rate))
		if rate == 0 {
			desc = "no " + what + " limit"
		}
		if p.side == Response && t.Latency > 0 {
			desc += fmt.Sprintf(", %s latency", t.Latency)
		}
		p.note("%s", desc)
	case a.Capture != nil:
		p.capture(a)
	}
	return false
}

func (p *phaseRun) headers() flowstore.Headers {
	if p.side == Response {
		return p.f.Response.Headers
	}
	return p.f.Request.Headers
}

func (p *phaseRun) setHeaders(h flowstore.Headers) {
	if p.side == Response {
		p.f.Response.Headers = h
	} else {
		p.f.Request.Headers = h
	}
}

func (p *phaseRun) respond(a *act) bool {
	r := a.Respond
	req := p.f.Request
	rsp := &flowstore.Response{Status: r.Status, Reason: r.Reason, Proto: "HTTP/1.1"}
	if rsp.Status == 0 && !r.Verbatim {
		rsp.Status = 200
	}
	for i, h := range r.Headers {
		v := a.hdrs[i].expand(req, p.env.Stores)
		if checkHeaderValue(v) != nil {
			p.note("header %s left out: its value has a line break", h.Name)
			continue
		}
		rsp.Headers = append(rsp.Headers, flowstore.Header{Name: h.Name, Value: v})
	}
	if r.File != "" {
		data, size, err := readCapped(r.File, p.env.BodyLimit)
		if err != nil {
			p.f.Response = errorAnswer(500, fmt.Sprintf("rule %q: respond: %v", p.c.Name, err))
			p.note("answered 500: %v", err)
			p.out.Answer = true
			return true
		}
		if r.Template && int64(len(data)) == size {
			t, err := parseTemplate(string(data))
			if err == nil {
				data = []byte(t.expand(req, p.env.Stores))
				size = int64(len(data))
			}
		}
		rsp.Body = flowstore.Body{Data: data, Size: size, Truncated: int64(len(data)) < size}
		if rsp.Body.Truncated {
			p.out.AnswerFile = r.File
		}
		if !rsp.Headers.Has("Content-Type") {
			if ct := mime.TypeByExtension(filepath.Ext(r.File)); ct != "" {
				rsp.Headers = append(rsp.Headers, flowstore.Header{Name: "Content-Type", Value: ct})
			}
		}
	} else {
		rsp.Body = flowstore.NewBody([]byte(a.body.expand(req, p.env.Stores)))
	}
	p.f.Response = rsp
	p.out.Answer = true
	p.note("answered %d", rsp.Status)
	return true
}

// errorAnswer is an answer that says what went wrong.
func errorAnswer(status int, msg string) *flowstore.Response {
	body := "interceptor-tui: " + msg + "\n"
	return &flowstore.Response{Status: status, Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
		Body:    flowstore.NewBody([]byte(body))}
}

// readCapped reads up to limit bytes of a file (all of it when limit is
// 0) and its full size.
func readCapped(path string, limit int64) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readCappedFile(f, limit)
}

func readCappedFile(f *os.File, limit int64) ([]byte, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file", fi.Name())
	}
	size := fi.Size()
	n := size
	if limit > 0 && n > limit {
		n = limit
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, 0, err
	}
	return data, size, nil
}

// errOutside refuses a request path that leaves a map-local directory.
var errOutside = errors.New("the path leads outside the directory")

func (p *phaseRun) mapLocal(a *act) bool {
	ml := a.MapLocal
	u := p.f.Request.URL()
	fi, err := os.Stat(ml.Path)
	if err != nil {
		p.f.Response = errorAnswer(404, fmt.Sprintf("rule %q: map-local: %v", p.c.Name, err))
		p.note("answered 404: %v", err)
		p.out.Answer = true
		return true
	}
	var file *os.File
	var name string
	var tried []string
	if !fi.IsDir() {
		name = ml.Path
		file, err = os.Open(name)
		tried = []string{name}
	} else {
		var cands []string
		cands, err = candidates(u, a.rx, p.f.Request.PathOnly())
		if err == nil && cands == nil {
			return false // an earlier rule sent the request to a URL the pattern is not in
		}
		if err == nil {
			file, name, tried = openFirst(ml.Path, cands)
		}
	}
	if errors.Is(err, errOutside) {
		p.f.Response = errorAnswer(403, fmt.Sprintf("rule %q: map-local refused %s: it leads outside %s", p.c.Name, p.f.Request.PathOnly(), ml.Path))
		p.note("answered 403: %s leads outside %s", p.f.Request.PathOnly(), ml.Path)
		p.out.Answer = true
		return true
	}
	if file == nil {
		msg := fmt.Sprintf("rule %q: map-local has no file for %s (tried %s)", p.c.Name, p.f.Request.PathOnly(), strings.Join(tried, ", "))
		if p.c.Passthrough {
			// mitmproxy's order: a later rule may still have the file.
			if p.notFound == nil {
				p.notFound, p.notFoundBy = errorAnswer(404, msg), p.c.Name
			}
			p.note("no file (tried %s)", strings.Join(tried, ", "))
			return false
		}
		p.f.Response = errorAnswer(404, msg)
		p.note("answered 404: no file (tried %s)", strings.Join(tried, ", "))
		p.out.Answer = true
		return true
	}
	defer file.Close()
	data, size, err := readCappedFile(file, p.env.BodyLimit)
	if err != nil {
		p.f.Response = errorAnswer(500, fmt.Sprintf("rule %q: map-local: %v", p.c.Name, err))
		p.note("answered 500: %v", err)
		p.out.Answer = true
		return true
	}
	rsp := &flowstore.Response{Status: 200, Proto: "HTTP/1.1",
		Body: flowstore.Body{Data: data, Size: size, Truncated: int64(len(data)) < size}}
	if ct := mime.TypeByExtension(filepath.Ext(name)); ct != "" {
		rsp.Headers = flowstore.Headers{{Name: "Content-Type", Value: ct}}
	}
	if rsp.Body.Truncated {
		p.out.AnswerFile = file.Name()
	}
	p.f.Response = rsp
	p.out.Answer = true
	p.notFound = nil
	p.note("answered with %s", name)
	return true
}

// candidates are the paths, relative to a map-local directory, where the
// file for URL u may be, best first (mitmproxy's file_candidates): what
// follows the first match of rx in u (or its first group), or the request
// path without rx; then NAME/index.html, and the same with every character
// outside [0-9a-zA-Z-_.=(),/] made "_".
func candidates(u string, rx *regexp.Regexp, path string) ([]string, error) {
	var suffix string
	switch {
	case rx == nil:
		suffix = path
	default:
		m := rx.FindStringSubmatchIndex(u)
		if m == nil {
			return nil, nil
		}
		if len(m) > 2 && m[2] >= 0 {
			suffix = u[m[2]:m[3]]
		} else {
			suffix = u[m[1]:]
			suffix, _, _ = strings.Cut(suffix, "?")
		}
	}
	suffix = strings.Trim(suffix, "/")
	if suffix == "" {
		return []string{"index.html"}, nil
	}
	dec, err := url.PathUnescape(suffix)
	if err != nil {
		dec = suffix
	}
	dec = strings.TrimLeft(dec, "/")
	for _, seg := range strings.Split(dec, "/") {
		if seg == ".." {
			return nil, errOutside
		}
	}
	if strings.ContainsAny(dec, "\x00\\") {
		return nil, errOutside
	}
	out := []string{dec, dec + "/index.html"}
	esc := escapeName(dec)
	if esc != dec {
		out = append(out, esc, esc+"/index.html")
	}
	return out, nil
}

func escapeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("-_.=(),/", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// openFirst opens the first candidate that is a regular file inside dir;
// os.OpenInRoot refuses .. and symbolic links that lead outside it.
func openFirst(dir string, cands []string) (*os.File, string, []string) {
	var tried []string
	for _, c := range cands {
		full := filepath.Join(dir, filepath.FromSlash(c))
		tried = append(tried, full)
		f, err := os.OpenInRoot(dir, filepath.FromSlash(c))
		if err != nil {
			continue
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			continue
		}
		return f, full, tried
	}
	return nil, "", tried
}

func (p *phaseRun) mapRemote(a *act) {
	req := p.f.Request
	old := req.URL()
	nu := a.rx.ReplaceAllString(old, a.MapRemote.To)
	if nu == old {
		return
	}
	n := req.Clone()
	if err := n.SetURL(nu); err != nil || (n.Scheme != "http" && n.Scheme != "https") {
		if err == nil {
			err = fmt.Errorf("scheme %q (want http or https)", n.Scheme)
		}
		p.note("map-remote: %s is not a URL to send to (%v); not applied", nu, err)
		return
	}
	if n.Headers.Has("Host") {
		// The origin is told its own name, as mitmproxy's map-remote does.
		n.Headers = n.Headers.Clone()
		n.Headers.Set("Host", n.Authority())
	}
	p.f.Request = n
	p.note("map-remote: %s → %s", old, nu)
}

func (p *phaseRun) setHeader(a *act) {
	sh := a.SetHeader
	var v string
	if sh.File != "" {
		data, err := os.ReadFile(sh.File)
		if err != nil {
			p.note("%s header %s not set: %v", p.side, sh.Name, err)
			return
		}
		v = string(data)
	} else {
		v = a.value.expand(p.f.Request, p.env.Stores)
	}
	if err := checkHeaderValue(v); err != nil {
		p.note("%s header %s not set: %v", p.side, sh.Name, err)
		return
	}
	hs := p.headers().Clone()
	first := true
	for _, n := range p.replaced {
		if strings.EqualFold(n, sh.Name) {
			first = false
		}
	}
	if first {
		// The values the message came with go; values set by earlier rules
		// of this phase stay (repeated --modify-headers add up).
		hs.Del(sh.Name)
		p.replaced = append(p.replaced, sh.Name)
	}
	if v != "" {
		hs.Add(sh.Name, v)
		p.note("%s header %s: %s", p.side, sh.Name, short(v))
	} else {
		p.note("removed %s header %s", p.side, sh.Name)
	}
	p.setHeaders(hs)
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func (p *phaseRun) replace(a *act) {
	rp := a.Replace
	with := rp.With
	if rp.WithFile != "" {
		data, err := os.ReadFile(rp.WithFile)
		if err != nil {
			p.note("%s not replaced: %v", p.side, err)
			return
		}
		with = string(data)
	}
	sub := func(b []byte) []byte {
		if rp.Literal || rp.WithFile != "" {
			return a.rx.ReplaceAllLiteral(b, []byte(with))
		}
		return a.rx.ReplaceAll(b, []byte(with))
	}
	if rp.Header != "" {
		hs := p.headers()
		n := hs.Clone()
		changed := 0
		for i := range n {
			if !strings.EqualFold(n[i].Name, rp.Header) {
				continue
			}
			v := string(sub([]byte(n[i].Value)))
			if v != n[i].Value && checkHeaderValue(v) == nil {
				n[i].Value = v
				changed++
			}
		}
		if changed > 0 {
			p.setHeaders(n)
			p.note("replaced %s in %s header %s", short(a.rx.String()), p.side, rp.Header)
		}
		return
	}
	var body *flowstore.Body
	var hs flowstore.Headers
	if p.side == Response {
		body, hs = &p.f.Response.Body, p.f.Response.Headers
	} else {
		body, hs = &p.f.Request.Body, p.f.Request.Headers
	}
	if len(body.Data) == 0 && body.Size == 0 {
		return
	}
	if !p.env.Whole || body.Truncated {
		p.note("%s body not replaced: it was not read whole (past --body-limit, or streaming)", p.side)
		return
	}
	ce := hs.Get("Content-Encoding")
	plain := body.Data
	if ce != "" {
		d, err := content.Decode(body.Data, ce, 0)
		if err != nil {
			p.note("%s body not replaced: cannot decode %s: %v", p.side, ce, err)
			return
		}
		plain = d
	}
	out := sub(plain)
	if bytes.Equal(out, plain) {
		return
	}
	if ce != "" {
		enc, err := content.Encode(out, ce)
		if err != nil {
			p.note("%s body not replaced: cannot encode %s again: %v", p.side, ce, err)
			return
		}
		out = enc
	}
	*body = flowstore.NewBody(out)
	p.note("replaced %s in the %s body", short(a.rx.String()), p.side)
}

func (p *phaseRun) block(a *act) bool {
	b := a.Block
	switch {
	case b.Close:
		p.out.Close = true
		p.note("blocked: closed the connection")
	case b.Reset:
		p.out.Reset = true
		p.note("blocked: reset the connection")
	default:
		p.f.Response = errorAnswer(b.Status, fmt.Sprintf("blocked by rule %q", p.c.Name))
		p.out.Answer = true
		p.note("blocked: answered %d", b.Status)
	}
	return true
}

func (p *phaseRun) capture(a *act) {
	req := p.f.Request
	for i, fl := range a.Capture.Fields {
		store := fl.Store
		if store == "" {
			store = DefaultStore
		}
		v, ok := "", false
		switch fl.From {
		case FromHeader:
			vs := req.Headers.Values(fl.Arg)
			v, ok = strings.Join(vs, ", "), len(vs) > 0
		case FromQuery:
			q, _ := url.ParseQuery(req.Query())
			_, ok = q[fl.Arg]
			v = q.Get(fl.Arg)
		case FromPathSegment:
			n, _ := strconv.Atoi(fl.Arg)
			segs := strings.Split(strings.Trim(req.PathOnly(), "/"), "/")
			if n < len(segs) && segs[n] != "" {
				v, ok = segs[n], true
				if d, err := url.PathUnescape(v); err == nil {
					v = d
				}
			}
		case FromJSON:
			v, ok = jsonValue(decodedBody(req.Body, req.Headers), fl.Arg)
		case FromValue:
			v, ok = a.captures[i].expand(req, p.env.Stores), true
		}
		if !ok {
			p.note("capture %s: the request has no %s %s", fl.Key, fl.From, fl.Arg)
			continue
		}
		p.env.Stores.Set(store, fl.Key, v)
		p.note("captured %s.%s = %s", store, fl.Key, short(v))
	}
}

// decodedBody is a body decoded from its Content-Encoding, or as it is
// when it cannot be.
func decodedBody(b flowstore.Body, hs flowstore.Headers) []byte {
	if ce := hs.Get("Content-Encoding"); ce != "" {
		if d, err := content.Decode(b.Data, ce, 0); err == nil {
			return d
		}
	}
	return b.Data
}

// jsonStep is one step of a JSON path: a member name or an array index.
type jsonStep struct {
	name  string
	index int // -1: a member
}

// parseJSONPath reads the simple JSON paths captures use: $.a.b[0].c.
func parseJSONPath(p string) ([]jsonStep, error) {
	bad := fmt.Errorf("jsonPath %q: want $.member.member[index]", p)
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		return nil, bad
	}
	var steps []jsonStep
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if name == "" {
				return nil, bad
			}
			steps = append(steps, jsonStep{name: name, index: -1})
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad
			}
			inner := rest[1:end]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				steps = append(steps, jsonStep{index: n})
			} else if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				steps = append(steps, jsonStep{name: inner[1 : len(inner)-1], index: -1})
			} else {
				return nil, bad
			}
			rest = rest[end+1:]
		default:
			return nil, bad
		}
	}
	return steps, nil
}

// jsonValue finds path in a JSON document: a string as it is, anything
// else as its JSON text.
func jsonValue(doc []byte, path string) (string, bool) {
	steps, err := parseJSONPath(path)
	if err != nil {
		return "", false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	for _, s := range steps {
		switch x := v.(type) {
		case map[string]any:
			if s.index >= 0 {
				return "", false
			}
			var ok bool
			if v, ok = x[s.name]; !ok {
				return "", false
			}
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return "", false
			}
			v = x[s.index]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", false
	}
	b, err := json.Marshal(v)
	return string(b), err == nil
}
