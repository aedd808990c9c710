package js

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// Handles reports whether path is for this engine: a .js script, or a
// .yaml/.yml list of interceptor modules.
func Handles(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".js", ".yaml", ".yml":
		return true
	}
	return false
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// Script is one -s file; cur is the version that runs now. A reload
// swaps in a new version; flows already inside the old one finish with it.
type Script struct {
	cfg    *hook.Config
	path   string
	source string // event log source: "script:name.js"
	cur    atomic.Pointer[version]

	mu     sync.Mutex // orders Close against a reload's swap
	closed bool

	// what Poll last saw of each file the version was read from
	stamps map[string]stamp
	bad    [32]byte // hash of a version that failed to load, not reported twice
}

type stamp struct {
	mod  time.Time
	size int64
}

var _ hook.Script = (*Script)(nil)

// version is one compiled text of a script (with, for a YAML file, its
// modules), its hooks and its runtimes.
type version struct {
	s       *Script
	hash    [32]byte
	units   []*unit        // compiled sources, run in order in each runtime
	icepts  []*interceptor // a YAML file's interceptors, in order
	specs   []*hookSpec
	byPhase [hook.NumPhases][]*hookSpec
	hooks   [hook.NumPhases][]hook.Hook
	nregs   int
	pool    *pool

	fails    atomic.Int32
	disabled atomic.Bool
}

// unit is one compiled source file: the script itself, or a module
// (wrapped in a function of exports and module, as CommonJS does).
type unit struct {
	path   string
	prog   *goja.Program
	module bool
	lines  map[string]int // where named functions are defined
}

// hookSpec is one hook of a version: a global or exported phase function
// (reg < 0, name set), the reg'th on() registration, or an interceptor.
type hookSpec struct {
	idx     int // in state.fns
	reg     int
	name    string
	phase   int
	filter  *filter.Filter // nil: every flow
	timeout time.Duration
	file    string // where the function is, for errors
	line    int
	icept   *interceptor
}

// Load reads, compiles and loads a script. A script that fails to compile
// or to run its top level returns a *hook.ScriptError, whose text is
// "file:line: message".
func Load(path, source string, cfg *hook.Config) (*Script, error) {
	s := &Script{cfg: cfg, path: path, source: source}
	files, err := s.read()
	if err != nil {
		return nil, err
	}
	v, err := s.load(files)
	if err != nil {
		return nil, err
	}
	s.stamps = files.stamps
	s.cur.Store(v)
	cfg.Log.Add(flowstore.LevelInfo, source, "", "loaded "+path+describeHooks(v))
	return s, nil
}

func (s *Script) Source() string { return s.source }

// Hooks are the running version's hooks of a phase.
func (s *Script) Hooks(ph int) []hook.Hook {
	v := s.cur.Load()
	if v == nil || v.disabled.Load() {
		return nil
	}
	return v.hooks[ph]
}

// Close retires the running version's runtimes.
func (s *Script) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if v := s.cur.Load(); v != nil {
		v.pool.retire()
	}
}

func describeHooks(v *version) string {
	var parts []string
	for ph, hs := range v.byPhase {
		if len(hs) > 0 {
			parts = append(parts, hook.PhaseNames[ph])
		}
	}
	if len(parts) == 0 {
		return " (no hooks)"
	}
	return " (hooks: " + strings.Join(parts, ", ") + ")"
}

// sources is what one version is read from: the script's text and, for a
// YAML file, its modules' texts by path.
type sources struct {
	main    []byte
	modules map[string][]byte
	order   []string // module paths in the order first named
	icepts  []*interceptor
	stamps  map[string]stamp
	hash    [32]byte
}

// read reads the script and (for a YAML file) the modules it names.
func (s *Script) read() (*sources, error) {
	src := &sources{stamps: map[string]stamp{}}
	add := func(p string) ([]byte, error) {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		src.stamps[p] = stamp{fi.ModTime(), fi.Size()}
		return b, nil
	}
	main, err := add(s.path)
	if err != nil {
		return nil, fmt.Errorf("script %s: %w", s.path, err)
	}
	src.main = main
	h := sha256.New()
	h.Write(main)
	if isYAML(s.path) {
		icepts, err := parseInterceptors(s.path, main)
		if err != nil {
			return nil, err
		}
		src.icepts = icepts
		src.modules = map[string][]byte{}
		for _, ic := range icepts {
			if _, ok := src.modules[ic.module]; ok {
				continue
			}
			b, err := add(ic.module)
			if err != nil {
				return nil, &hook.ScriptError{File: s.path, Line: ic.line, Msg: fmt.Sprintf("module %s: %v", ic.moduleAsGiven, err)}
			}
			src.modules[ic.module] = b
			src.order = append(src.order, ic.module)
			h.Write([]byte{0})
			h.Write([]byte(ic.module))
			h.Write([]byte{0})
			h.Write(b)
		}
	}
	copy(src.hash[:], h.Sum(nil))
	return src, nil
}

// load compiles what was read and runs it in a first runtime, which
// decides the version's hooks.
func (s *Script) load(src *sources) (*version, error) {
	v := &version{s: s, hash: src.hash, icepts: src.icepts}
	if src.icepts == nil {
		u, err := compile(s.path, string(src.main), false)
		if err != nil {
			return nil, err
		}
		v.units = []*unit{u}
	} else {
		for _, p := range src.order {
			u, err := compile(p, string(src.modules[p]), true)
			if err != nil {
				return nil, err
			}
			v.units = append(v.units, u)
		}
	}
	v.pool = newPool(v, s.cfg.PoolSize)
	st, err := v.newState(true)
	if err != nil {
		return nil, err
	}
	v.pool.addIdle(st)
	return v, nil
}

// Poll reloads the script if its file, or one of its modules, changed.
// A new version that fails to load leaves the old one running; the error
// goes to the event log.
func (s *Script) Poll() {
	changed := false
	for p, was := range s.stamps {
		fi, err := os.Stat(p)
		switch {
		case err != nil && p == s.path:
			return // being replaced, or gone: keep what runs
		case err != nil:
			changed = true // a module gone: the YAML file may no longer name it
		case !fi.ModTime().Equal(was.mod) || fi.Size() != was.size:
			changed = true
		}
	}
	if !changed {
		return
	}
	src, err := s.read()
	if err != nil {
		var se *hook.ScriptError
		if !errors.As(err, &se) {
			return // a file is being replaced: try again next time
		}
		s.stamps = s.stampsNow()
		s.reportBad(sha256.Sum256([]byte(err.Error())), err)
		return
	}
	s.stamps = src.stamps
	if old := s.cur.Load(); (old != nil && src.hash == old.hash && !old.disabled.Load()) || src.hash == s.bad {
		return
	}
	v, err := s.load(src)
	if err != nil {
		s.reportBad(src.hash, err)
		return
	}
	s.bad = [32]byte{}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		v.pool.retire()
		return
	}
	if old := s.cur.Swap(v); old != nil {
		old.pool.retire()
	}
	s.cfg.Log.Add(flowstore.LevelInfo, s.source, "", "reloaded "+s.path+describeHooks(v))
}

func (s *Script) reportBad(hash [32]byte, err error) {
	if hash == s.bad {
		return
	}
	s.bad = hash
	s.cfg.Log.Add(flowstore.LevelError, s.source, "", err.Error()+" (the previous version keeps running)")
}

// stampsNow are the files' stamps as they are now, so that a broken edit
// is reported once, not at every poll.
func (s *Script) stampsNow() map[string]stamp {
	out := map[string]stamp{}
	for p := range s.stamps {
		out[p] = stamp{} // a file missing now counts as changed when it is back
		if fi, err := os.Stat(p); err == nil {
			out[p] = stamp{fi.ModTime(), fi.Size()}
		}
	}
	if fi, err := os.Stat(s.path); err == nil {
		out[s.path] = stamp{fi.ModTime(), fi.Size()}
	}
	return out
}

// buildSpecs derives the version's hooks from its first runtime: for a
// script, in each phase the global (or exported) function first, then
// on() hooks in order; for a YAML file, its interceptors in order.
func (v *version) buildSpecs(st *state) error {
	cfg := v.s.cfg
	if v.icepts != nil {
		for _, ic := range v.icepts {
			h := &hookSpec{reg: -1, phase: ic.phase, timeout: cfg.Timeout, file: ic.module, line: ic.line, icept: ic, filter: ic.filter}
			if ic.timeout > 0 {
				h.timeout = ic.timeout
			}
			if _, err := st.interceptorFunc(ic); err != nil {
				return err
			}
			if line := v.unitOf(ic.module).lines[ic.function]; line > 0 {
				h.line = line
			}
			v.byPhase[ic.phase] = append(v.byPhase[ic.phase], h)
		}
	} else {
		for ph := range hook.NumPhases {
			if fn := st.globalHook(hook.PhaseNames[ph]); fn != nil {
				h := &hookSpec{reg: -1, name: hook.PhaseNames[ph], phase: ph, timeout: cfg.Timeout, file: v.s.path, line: v.units[0].lines[hook.PhaseNames[ph]]}
				v.byPhase[ph] = append(v.byPhase[ph], h)
			}
		}
		for i, r := range st.regs {
			h := &hookSpec{reg: i, phase: r.phase, timeout: cfg.Timeout, file: v.s.path, line: r.line}
			if r.timeout > 0 {
				h.timeout = r.timeout
			}
			if strings.TrimSpace(r.filter) != "" {
				f, err := filter.Parse(r.filter)
				if err != nil {
					return &hook.ScriptError{File: v.s.path, Line: r.line, Msg: fmt.Sprintf("on(%q, %q): bad filter: %v", hook.PhaseNames[r.phase], r.filter, err)}
				}
				h.filter = f
			}
			v.byPhase[r.phase] = append(v.byPhase[r.phase], h)
		}
		v.nregs = len(st.regs)
	}
	for ph := range hook.NumPhases {
		for _, h := range v.byPhase[ph] {
			h.idx = len(v.specs)
			v.specs = append(v.specs, h)
			v.hooks[ph] = append(v.hooks[ph], jsHook{v, h})
		}
	}
	return nil
}

func (v *version) unitOf(path string) *unit {
	for _, u := range v.units {
		if u.path == path {
			return u
		}
	}
	return &unit{}
}

// jsHook is one hook of a version as the coordinator runs it.
type jsHook struct {
	v *version
	h *hookSpec
}

func (h jsHook) Filter() *filter.Filter { return h.h.filter }
