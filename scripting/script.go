package scripting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// ScriptError is a script that cannot be loaded: a syntax error, an
// error in its top level, or a bad on(...) call. Its text is
// "file:line: message" (or "file: message" without a line). Lua and
// JavaScript scripts return the same type.
type ScriptError = hook.ScriptError

// script is one -s Lua file; cur is the version that runs now. A reload swaps
// in a new version; flows already inside the old one finish with it.
type script struct {
	eng    *Engine
	path   string
	source string // event log source: "script:name.lua"
	cur    atomic.Pointer[version]

	// what Watch last saw
	modTime time.Time
	size    int64
	bad     [32]byte // hash of a version that failed to load, not reported twice
}

// version is one compiled text of a script with its hooks and states.
type version struct {
	s       *script
	proto   *lua.FunctionProto
	hash    [32]byte
	specs   []*hookSpec
	byPhase [numPhases][]*hookSpec
	hooks   [numPhases][]hook.Hook // byPhase as the coordinator runs them
	nregs   int
	pool    *pool

	fails    atomic.Int32
	disabled atomic.Bool
}

// hookSpec is one hook of a version: a global phase function (reg < 0)
// or the reg'th on() registration.
type hookSpec struct {
	idx     int // in state.hooks
	reg     int
	phase   int
	filter  *filter.Filter // nil: every flow
	timeout time.Duration
	line    int
}

var _ hook.Script = (*script)(nil)

func (s *script) Source() string { return s.source }

// Hooks are the running version's hooks of a phase.
func (s *script) Hooks(ph int) []hook.Hook {
	if v := s.active(); v != nil {
		return v.hooks[ph]
	}
	return nil
}

// Poll reloads the script if its file changed.
func (s *script) Poll() { s.poll() }

// Close retires the running version's states.
func (s *script) Close() {
	if v := s.cur.Load(); v != nil {
		v.pool.retire()
	}
}

// luaHook is one hook of a Lua version as the coordinator runs it.
type luaHook struct {
	v *version
	h *hookSpec
}

func (h luaHook) Filter() *filter.Filter { return h.h.filter }

// Run adapts the coordinator's call to a Lua one and back.
func (h luaHook) Run(ctx context.Context, hc *hook.Call) error {
	c := &call{f: hc.Flow, phase: hc.Phase, ro: hc.ReadOnly}
	var ck *chunkArgs
	if hc.Phase == phResponseChunk {
		ck = &chunkArgs{in: hc.Chunk, last: hc.Last}
	}
	if hc.Msg != nil {
		c.msg = &wsMessage{m: *hc.Msg}
	}
	if err := h.v.invoke(ctx, h.h, c, ck); err != nil {
		return err
	}
	hc.Verdict = c.verdict
	if ck != nil && ck.replaced {
		hc.ChunkOut, hc.ChunkSet = ck.out, true
	}
	if c.msg != nil {
		if c.msg.set {
			hc.MsgOut, hc.MsgSet = []byte(c.msg.data), true
		}
		hc.Drop = c.msg.drop
	}
	return nil
}

func (s *script) active() *version {
	v := s.cur.Load()
	if v == nil || v.disabled.Load() {
		return nil
	}
	return v
}

// displayNames are base names, or the paths as given when two scripts
// share a base name.
func displayNames(paths []string) []string {
	out := make([]string, len(paths))
	seen := map[string]int{}
	for _, p := range paths {
		seen[filepath.Base(p)]++
	}
	for i, p := range paths {
		out[i] = filepath.Base(p)
		if seen[out[i]] > 1 {
			out[i] = p
		}
	}
	return out
}

func (s *script) loadInitial() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("script %s: %w", s.path, err)
	}
	src, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("script %s: %w", s.path, err)
	}
	v, err := s.load(src)
	if err != nil {
		return err
	}
	s.modTime, s.size = fi.ModTime(), fi.Size()
	s.cur.Store(v)
	s.eng.log.Add(flowstore.LevelInfo, s.source, "", "loaded "+s.path+describeHooks(v))
	return nil
}

func describeHooks(v *version) string {
	var parts []string
	for ph, hs := range v.byPhase {
		if len(hs) > 0 {
			parts = append(parts, phaseNames[ph])
		}
	}
	if len(parts) == 0 {
		return " (no hooks)"
	}
	return " (hooks: " + strings.Join(parts, ", ") + ")"
}

// load compiles src and runs its top level in a first state, which
// decides the version's hooks.
func (s *script) load(src []byte) (*version, error) {
	proto, err := s.compile(src)
	if err != nil {
		return nil, err
	}
	v := &version{s: s, proto: proto, hash: sha256.Sum256(src)}
	v.pool = newPool(v, s.eng.opts.PoolSize)
	st, err := v.newState(true)
	if err != nil {
		return nil, err
	}
	v.pool.addIdle(st)
	return v, nil
}

func (s *script) compile(src []byte) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), s.path)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			line := pe.Pos.Line
			if line <= 0 { // at EOF
				line = bytes.Count(src, []byte("\n")) + 1
			}
			msg := strings.TrimSpace(pe.Message)
			if pe.Token != "" {
				msg += " near '" + pe.Token + "'"
			}
			return nil, &ScriptError{File: s.path, Line: line, Msg: msg}
		}
		return nil, &ScriptError{File: s.path, Msg: strings.TrimSpace(err.Error())}
	}
	proto, err := lua.Compile(rewriteConcat(chunk), s.path)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, &ScriptError{File: s.path, Line: ce.Line, Msg: ce.Message}
		}
		return nil, &ScriptError{File: s.path, Msg: err.Error()}
	}
	if hasConcat(proto) {
		return nil, &ScriptError{File: s.path, Msg: errConcatLeft.Error()}
	}
	return proto, nil
}

// scriptError turns an error from the script's top level into a
// ScriptError; override replaces the message (a timeout) but keeps the line.
func (s *script) scriptError(err error, override string) *ScriptError {
	msg := luaMessage(err)
	se := &ScriptError{File: s.path, Msg: msg}
	if rest, ok := strings.CutPrefix(msg, s.path+":"); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				se.Line, se.Msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if override != "" {
		se.Msg = override
	}
	return se
}

// luaMessage is the first line of a Lua error: "file:line: message",
// without the stack trace.
func luaMessage(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		return ae.Object.String()
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// buildSpecs derives the version's hooks from its first state: in each
// phase the global function first, then on() hooks in order.
func (v *version) buildSpecs(st *state) error {
	e := v.s.eng
	for ph := range numPhases {
		if fn := st.globalHook(phaseNames[ph]); fn != nil {
			h := &hookSpec{reg: -1, phase: ph, timeout: e.opts.Timeout, line: fn.Proto.LineDefined}
			v.byPhase[ph] = append(v.byPhase[ph], h)
		}
	}
	for i, r := range st.regs {
		ph := phaseIndex(r.phase)
		h := &hookSpec{reg: i, phase: ph, timeout: e.opts.Timeout, line: r.fn.Proto.LineDefined}
		if r.fn.Proto == nil || r.fn.IsG {
			h.line = r.line
		}
		if r.timeout > 0 {
			h.timeout = r.timeout
		}
		if strings.TrimSpace(r.filter) != "" {
			f, err := filter.Parse(r.filter)
			if err != nil {
				return &ScriptError{File: v.s.path, Line: r.line, Msg: fmt.Sprintf("on(%q, %q): bad filter: %v", r.phase, r.filter, err)}
			}
			h.filter = f
		}
		v.byPhase[ph] = append(v.byPhase[ph], h)
	}
	v.nregs = len(st.regs)
	for ph := range numPhases {
		for _, h := range v.byPhase[ph] {
			h.idx = len(v.specs)
			v.specs = append(v.specs, h)
			v.hooks[ph] = append(v.hooks[ph], luaHook{v, h})
		}
	}
	return nil
}

// Watch reloads scripts whose files change, until ctx ends or the engine
// is closed. A new version that fails to load leaves the old one running;
// the error goes to the event log. Watch also forgets the ctx of flows
// whose done phase never came.
func (e *Engine) Watch(ctx context.Context) {
	t := time.NewTicker(e.opts.PollInterval)
	defer t.Stop()
	lastSweep := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if e.closed.Load() {
			return
		}
		for _, s := range e.scripts {
			s.Poll()
		}
		if time.Since(lastSweep) > time.Minute {
			e.ctxs.Sweep(time.Hour)
			lastSweep = time.Now()
		}
	}
}

// poll reloads the script if its file changed.
func (s *script) poll() {
	fi, err := os.Stat(s.path)
	if err != nil {
		return // being replaced, or gone: keep what runs
	}
	if fi.ModTime().Equal(s.modTime) && fi.Size() == s.size {
		return
	}
	src, err := os.ReadFile(s.path)
	if err != nil {
		return
	}
	s.modTime, s.size = fi.ModTime(), fi.Size()
	hash := sha256.Sum256(src)
	if old := s.cur.Load(); (old != nil && hash == old.hash && !old.disabled.Load()) || hash == s.bad {
		return
	}
	v, err := s.load(src)
	if err != nil {
		s.bad = hash
		s.eng.log.Add(flowstore.LevelError, s.source, "", err.Error()+" (the previous version keeps running)")
		return
	}
	s.bad = [32]byte{}
	s.eng.mu.Lock()
	defer s.eng.mu.Unlock()
	if s.eng.closed.Load() {
		v.pool.retire()
		return
	}
	if old := s.cur.Swap(v); old != nil {
		old.pool.retire()
	}
	s.eng.log.Add(flowstore.LevelInfo, s.source, "", "reloaded "+s.path+describeHooks(v))
}
