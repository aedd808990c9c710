// Package luapat matches Lua 5.1 patterns (string.find, match, gmatch,
// gsub) with two guarantees gopher-lua's own matcher lacks: the recursion
// depth is bounded by the pattern, not the subject (C Lua's algorithm:
// repetitions loop instead of recursing per character), and a caller's
// Check function is consulted every few thousand steps, so a pattern that
// backtracks exponentially can be stopped when a hook's time is up.
//
// It is a port of the matcher in Lua 5.1's lstrlib.c (MIT licence,
// Copyright (C) 1994-2012 Lua.org, PUC-Rio), with Lua 5.2's explicit
// pattern end (embedded zero bytes) and depth limit.
package luapat

import "strings"

// MaxCaptures is the most captures one pattern may have (LUA_MAXCAPTURES).
const MaxCaptures = 32

// maxDepth bounds recursion (Lua 5.2's MAXCCALLS).
const maxDepth = 200

// checkEvery is how many steps pass between two calls of Check.
const checkEvery = 4096

const (
	capUnfinished = -1
	// CapPosition is the Len of a position capture "()".
	CapPosition = -2
)

const lEsc = '%'

// Specials are the characters that make a pattern more than plain text.
const Specials = "^$*+?.([%-"

// Error is a malformed pattern or a bad capture reference.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Capture is one capture of a match: a substring of the subject
// (Start, Len) or, when Len is CapPosition, a position (Start, 0-based).
type Capture struct {
	Start, Len int
}

// Matcher matches one pattern against one subject. It is not safe for
// concurrent use; make one per call.
type Matcher struct {
	src   string
	pat   string
	check func() error
	level int
	cap   [MaxCaptures]Capture
	depth int
	steps int
}

// New prepares a match of pat against src. check, if not nil, is called
// every few thousand steps; an error from it aborts the match and is
// returned by Match.
func New(src, pat string, check func() error) *Matcher {
	return &Matcher{src: src, pat: pat, check: check}
}

type abort struct{ err error }

// Match tries the pattern, from pattern offset p, at subject offset s
// only (no scanning). It returns the end of the match, or -1.
func (m *Matcher) Match(s, p int) (end int, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, ok := r.(abort)
			if !ok {
				panic(r)
			}
			end, err = -1, a.err
		}
	}()
	m.level, m.depth = 0, maxDepth
	return m.match(s, p), nil
}

// Level is how many captures the last successful Match made.
func (m *Matcher) Level() int { return m.level }

// Captures returns the captures of the last successful match [s, e). With
// wholeIfNone and no captures it returns the whole match as one capture,
// as string.match and gsub's callbacks want.
func (m *Matcher) Captures(s, e int, wholeIfNone bool) ([]Capture, error) {
	n := m.level
	if n == 0 && wholeIfNone {
		return []Capture{{Start: s, Len: e - s}}, nil
	}
	out := make([]Capture, n)
	for i := 0; i < n; i++ {
		c, err := m.Capture(i, s, e)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// Capture returns capture i of the last match [s, e); capture 0 of a
// pattern without captures is the whole match (push_onecapture).
func (m *Matcher) Capture(i, s, e int) (Capture, error) {
	if i >= m.level {
		if i == 0 {
			return Capture{Start: s, Len: e - s}, nil
		}
		return Capture{}, &Error{"invalid capture index"}
	}
	c := m.cap[i]
	if c.Len == capUnfinished {
		return Capture{}, &Error{"unfinished capture"}
	}
	return c, nil
}

// Text is the substring a (non-position) capture holds.
func (m *Matcher) Text(c Capture) string { return m.src[c.Start : c.Start+c.Len] }

func (m *Matcher) fail(msg string) { panic(abort{&Error{msg}}) }

func (m *Matcher) step() {
	m.steps++
	if m.steps >= checkEvery {
		m.steps = 0
		if m.check != nil {
			if err := m.check(); err != nil {
				panic(abort{err})
			}
		}
	}
}

func (m *Matcher) checkCapture(l int) int {
	l -= '1'
	if l < 0 || l >= m.level || m.cap[l].Len == capUnfinished {
		m.fail("invalid capture index")
	}
	return l
}

func (m *Matcher) captureToClose() int {
	for level := m.level - 1; level >= 0; level-- {
		if m.cap[level].Len == capUnfinished {
			return level
		}
	}
	m.fail("invalid pattern capture")
	return 0
}

// classEnd returns the pattern offset just past the single-character
// class that starts at p.
func (m *Matcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case lEsc:
		if p >= len(pat) {
			m.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for { // look for a ']'; the first character is never the end
			if p >= len(pat) {
				m.fail("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == lEsc && p < len(pat) {
				p++ // skip escapes (e.g. '%]')
			}
			if p < len(pat) && pat[p] == ']' {
				break
			}
		}
		return p + 1
	}
	return p
}

func isalpha(c int) bool  { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isdigit(c int) bool  { return '0' <= c && c <= '9' }
func islower(c int) bool  { return 'a' <= c && c <= 'z' }
func isupper(c int) bool  { return 'A' <= c && c <= 'Z' }
func iscntrl(c int) bool  { return c < 0x20 || c == 0x7f }
func isspace(c int) bool  { return c == ' ' || '\t' <= c && c <= '\r' }
func isalnum(c int) bool  { return isalpha(c) || isdigit(c) }
func ispunct(c int) bool  { return c > 0x20 && c < 0x7f && !isalnum(c) }
func isxdigit(c int) bool { return isdigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func matchClass(c, cl int) bool {
	var res bool
	lower := cl
	if isupper(cl) {
		lower = cl + 'a' - 'A'
	}
	switch lower {
	case 'a':
		res = isalpha(c)
	case 'c':
		res = iscntrl(c)
	case 'd':
		res = isdigit(c)
	case 'l':
		res = islower(c)
	case 'p':
		res = ispunct(c)
	case 's':
		res = isspace(c)
	case 'u':
		res = isupper(c)
	case 'w':
		res = isalnum(c)
	case 'x':
		res = isxdigit(c)
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if islower(cl) {
		return res
	}
	return !res
}

// matchBracketClass: p is at '[', ec at the closing ']'.
func (m *Matcher) matchBracketClass(c, p, ec int) bool {
	pat := m.pat
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++ // skip the '^'
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == lEsc:
			p++
			if matchClass(c, int(pat[p])) {
				return sig
			}
		case p+2 < ec && pat[p+1] == '-':
			p += 2
			if int(pat[p-2]) <= c && c <= int(pat[p]) {
				return sig
			}
		case int(pat[p]) == c:
			return sig
		}
	}
	return !sig
}

func (m *Matcher) singleMatch(s, p, ep int) bool {
	if s >= len(m.src) {
		return false
	}
	c := int(m.src[s])
	switch m.pat[p] {
	case '.':
		return true
	case lEsc:
		return matchClass(c, int(m.pat[p+1]))
	case '[':
		return m.matchBracketClass(c, p, ep-1)
	}
	return int(m.pat[p]) == c
}

func (m *Matcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.fail("malformed pattern (missing arguments to '%b')")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	b, e := m.pat[p], m.pat[p+1]
	cont := 1
	for s++; s < len(m.src); s++ {
		m.step()
		switch m.src[s] {
		case e:
			cont--
			if cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1 // string ends out of balance
}

func (m *Matcher) maxExpand(s, p, ep int) int {
	i := 0 // counts maximum expand for item
	for m.singleMatch(s+i, p, ep) {
		m.step()
		i++
	}
	// keep trying to match with the maximum repetitions
	for ; i >= 0; i-- {
		m.step()
		if res := m.match(s+i, ep+1); res != -1 {
			return res
		}
	}
	return -1
}

func (m *Matcher) minExpand(s, p, ep int) int {
	for {
		m.step()
		if res := m.match(s, ep+1); res != -1 {
			return res
		}
		if !m.singleMatch(s, p, ep) {
			return -1
		}
		s++ // try with one more repetition
	}
}

func (m *Matcher) startCapture(s, p, what int) int {
	level := m.level
	if level >= MaxCaptures {
		m.fail("too many captures")
	}
	m.cap[level] = Capture{Start: s, Len: what}
	m.level = level + 1
	res := m.match(s, p)
	if res == -1 {
		m.level-- // undo capture
	}
	return res
}

func (m *Matcher) endCapture(s, p int) int {
	l := m.captureToClose()
	m.cap[l].Len = s - m.cap[l].Start // close capture
	res := m.match(s, p)
	if res == -1 {
		m.cap[l].Len = capUnfinished // undo capture
	}
	return res
}

func (m *Matcher) matchCapture(s, l int) int {
	l = m.checkCapture(l)
	c := m.cap[l]
	// A position capture has no text to repeat: Lua's unsigned length makes
	// such a back-reference never match.
	if c.Len >= 0 && len(m.src)-s >= c.Len && m.src[c.Start:c.Start+c.Len] == m.src[s:s+c.Len] {
		return s + c.Len
	}
	return -1
}

// match returns the end of a match of pattern[p:] at src[s:], or -1.
func (m *Matcher) match(s, p int) int {
	m.depth--
	if m.depth == 0 {
		m.fail("pattern too complex")
	}
	r := m.doMatch(s, p)
	m.depth++
	return r
}

func (m *Matcher) doMatch(s, p int) int {
	pat := m.pat
	for {
		m.step()
		if p >= len(pat) { // end of pattern
			return s
		}
		switch pat[p] {
		case '(': // start capture
			if p+1 < len(pat) && pat[p+1] == ')' { // position capture?
				return m.startCapture(s, p+2, CapPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')': // end capture
			return m.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) { // is the '$' the last char in pattern?
				if s == len(m.src) {
					return s
				}
				return -1
			}
		case lEsc:
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b': // balanced string?
					s = m.matchBalance(s, p+2)
					if s == -1 {
						return -1
					}
					p += 4
					continue
				case c == 'f': // frontier?
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						m.fail("missing '[' after '%f' in pattern")
					}
					ep := m.classEnd(p) // points to what is next
					prev, cur := 0, 0
					if s > 0 {
						prev = int(m.src[s-1])
					}
					if s < len(m.src) {
						cur = int(m.src[s])
					}
					if m.matchBracketClass(prev, p, ep-1) || !m.matchBracketClass(cur, p, ep-1) {
						return -1
					}
					p = ep
					continue
				case isdigit(int(c)): // capture results (%0-%9)?
					s = m.matchCapture(s, int(c))
					if s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		// a single-character class, maybe repeated
		ep := m.classEnd(p) // points to what is next
		matched := m.singleMatch(s, p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?': // optional
				if matched {
					if res := m.match(s+1, ep+1); res != -1 {
						return res
					}
				}
				p = ep + 1
				continue
			case '*': // 0 or more repetitions
				return m.maxExpand(s, p, ep)
			case '+': // 1 or more repetitions
				if !matched {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-': // 0 or more repetitions (minimum)
				return m.minExpand(s, p, ep)
			}
		}
		if !matched {
			return -1
		}
		s++
		p = ep
	}
}

// IsPlain reports whether pat has no special characters, so a plain
// substring search gives the same answer.
func IsPlain(pat string) bool { return !strings.ContainsAny(pat, Specials) }

// Find scans src from init (0-based) for the first match of pat. It
// returns the match bounds, or start == -1 when there is none. A leading
// '^' anchors the match at init.
func Find(src, pat string, init int, check func() error) (m *Matcher, start, end int, err error) {
	m = New(src, pat, check)
	p := 0
	anchor := len(pat) > 0 && pat[0] == '^'
	if anchor {
		p = 1
	}
	for s := init; s <= len(src); s++ {
		e, err := m.Match(s, p)
		if err != nil {
			return m, -1, -1, err
		}
		if e != -1 {
			return m, s, e, nil
		}
		if anchor {
			break
		}
	}
	return m, -1, -1, nil
}
