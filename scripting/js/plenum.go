package js

// Plenum-style interceptors: a YAML file given to -s lists JavaScript
// modules and the exported function each hook point calls, in Plenum's
// own words (interceptors: module, hook, function, plus match, options
// and timeout-ms). A function gets the request (or response) as plain
// data and returns an action: {action: "continue", headers, body, ctx}
// or {action: "respond", status, headers, body}.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"go.yaml.in/yaml/v3"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/content"
	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// interceptor is one entry of a YAML file's interceptors list.
type interceptor struct {
	module        string // resolved against the YAML file's folder
	moduleAsGiven string
	hook          string
	phase         int
	order         int // among the hooks of one phase: on_request before before_upstream
	function      string
	filter        *filter.Filter
	options       any
	timeout       time.Duration
	line          int
}

// plenumHooks map Plenum's hook points onto the phases. before_upstream
// runs in the request phase after every on_request interceptor, as Plenum
// runs it after them; on_response sees the response head, on_response_body
// the whole body. Only the request hooks may answer (respond).
var plenumHooks = map[string]struct {
	phase, order int
	canRespond   bool
}{
	"on_request_headers": {hook.RequestHeaders, 0, true},
	"on_request":         {hook.Request, 0, true},
	"before_upstream":    {hook.Request, 1, false},
	"on_response":        {hook.ResponseHeaders, 0, false},
	"on_response_body":   {hook.Response, 0, false},
}

var interceptorKeys = []string{"module", "hook", "function", "match", "options", "timeout-ms"}

// parseInterceptors reads a YAML file's interceptors list.
func parseInterceptors(path string, src []byte) ([]*interceptor, error) {
	bad := func(line int, format string, args ...any) error {
		return &hook.ScriptError{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
			msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		}
		return nil, bad(line, "%s", msg)
	}
	if len(doc.Content) == 0 {
		return nil, bad(0, "empty: want a list under interceptors:")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, bad(root.Line, "want a mapping with an interceptors: list")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "interceptors" {
			return nil, bad(k.Line, "unknown key %q (want interceptors:)", k.Value)
		}
		list = root.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, bad(root.Line, "interceptors: must be a list")
	}
	dir := filepath.Dir(path)
	var out []*interceptor
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, bad(item.Line, "each interceptor is a mapping of module, hook and function")
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k := item.Content[i]
			known := false
			for _, w := range interceptorKeys {
				known = known || k.Value == w
			}
			if !known {
				return nil, bad(k.Line, "unknown key %q (want one of %s)", k.Value, strings.Join(interceptorKeys, ", "))
			}
		}
		var e struct {
			Module    string `yaml:"module"`
			Hook      string `yaml:"hook"`
			Function  string `yaml:"function"`
			Match     string `yaml:"match"`
			Options   any    `yaml:"options"`
			TimeoutMS *int   `yaml:"timeout-ms"`
		}
		if err := item.Decode(&e); err != nil {
			return nil, bad(item.Line, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		}
		ic := &interceptor{moduleAsGiven: e.Module, hook: e.Hook, function: e.Function, options: e.Options, line: item.Line}
		if e.Module == "" || e.Hook == "" || e.Function == "" {
			return nil, bad(item.Line, "an interceptor needs module, hook and function")
		}
		ph, ok := plenumHooks[e.Hook]
		if !ok {
			names := make([]string, 0, len(plenumHooks))
			for n := range plenumHooks {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, bad(item.Line, "unknown hook %q (want one of %s)", e.Hook, strings.Join(names, ", "))
		}
		ic.phase, ic.order = ph.phase, ph.order
		ic.module = e.Module
		if !filepath.IsAbs(ic.module) {
			ic.module = filepath.Join(dir, ic.module)
		}
		if strings.TrimSpace(e.Match) != "" {
			f, err := filter.Parse(e.Match)
			if err != nil {
				return nil, bad(item.Line, "match %q: %v", e.Match, err)
			}
			ic.filter = f
		}
		if e.TimeoutMS != nil {
			if *e.TimeoutMS <= 0 || *e.TimeoutMS > 60000 {
				return nil, bad(item.Line, "timeout-ms must be between 1 and 60000")
			}
			ic.timeout = time.Duration(*e.TimeoutMS) * time.Millisecond
		}
		out = append(out, ic)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out, nil
}

// interceptorFunc is the function an interceptor names in its module.
func (st *state) interceptorFunc(ic *interceptor) (goja.Callable, error) {
	for i, u := range st.v.units {
		if u.path != ic.module {
			continue
		}
		if fn, ok := goja.AssertFunction(st.exports[i].Get(ic.function)); ok {
			return fn, nil
		}
		break
	}
	return nil, &hook.ScriptError{File: st.v.s.path, Line: ic.line, Msg: fmt.Sprintf("module %s exports no function %q (want exports.%s = function (request) {...})", ic.moduleAsGiven, ic.function, ic.function)}
}

// runInterceptor calls an interceptor with the flow as plain data and
// applies the action it returns.
func (st *state) runInterceptor(h *hookSpec, c *call) error {
	ic := h.icept
	in := st.interceptorInput(h, c)
	ret, err := st.fns[h.idx](goja.Undefined(), in)
	if err != nil {
		return err
	}
	if ret == nil || goja.IsUndefined(ret) || goja.IsNull(ret) {
		return st.keepCtx(c)
	}
	out, ok := ret.(*goja.Object)
	if !ok {
		return fmt.Errorf("%s:%d: %s must return an action object, not a %s", h.file, h.line, ic.function, typeOf(ret))
	}
	action := "continue"
	if a := out.Get("action"); a != nil && !goja.IsUndefined(a) {
		action = a.String()
	}
	switch action {
	case "continue":
		st.applyContinue(h, c, out)
	case "respond":
		if !plenumHooks[ic.hook].canRespond {
			st.v.s.cfg.Log.Add(flowstore.LevelWarn, st.v.s.source, c.f.ID,
				fmt.Sprintf("%s:%d: %s returned respond in %s, where a response cannot be made; ignored", h.file, h.line, ic.function, ic.hook))
			break
		}
		if x := out.Get("ctx"); x != nil {
			st.mergeCtx(c, x)
		}
		c.f.Response = st.response4(orDefault(out.Get("status"), st.rt.ToValue(200)), out.Get("headers"), out.Get("body"))
		c.verdict = flowstore.Respond
	default:
		return fmt.Errorf("%s:%d: %s returned action %q (want \"continue\" or \"respond\")", h.file, h.line, ic.function, action)
	}
	return st.keepCtx(c)
}

func orDefault(v, def goja.Value) goja.Value {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return def
	}
	return v
}

// applyContinue applies a continue action: headers (null deletes one),
// a body where the hook has one, and ctx merged into flow.ctx.
func (st *state) applyContinue(h *hookSpec, c *call, out *goja.Object) {
	req := h.phase == hook.RequestHeaders || h.phase == hook.Request
	if hv, ok := out.Get("headers").(*goja.Object); ok {
		hs := &c.f.Request.Headers
		if !req {
			hs = &st.response(c).Headers
		}
		for _, k := range hv.Keys() {
			st.assignHeader(hs, k, hv.Get(k))
		}
	}
	if bv := out.Get("body"); bv != nil && !goja.IsUndefined(bv) {
		if h.phase != hook.Request && h.phase != hook.Response || h.icept.hook == "before_upstream" {
			st.throwType(h.icept.hook + " cannot change the body")
		}
		kind := refRespBody
		if req {
			kind = refReqBody
		}
		bo := c.object(kind).Export().(*obj)
		switch {
		case goja.IsNull(bv):
			st.setBody(bo, nil, true)
		case goja.IsString(bv):
			st.setBody(bo, []byte(bv.String()), true)
		default:
			if b, ok := st.bufferBytes(bv); ok {
				st.setBody(bo, append([]byte(nil), b...), false)
				break
			}
			s, err := st.jsonStr(goja.Undefined(), bv)
			if err != nil {
				panic(err)
			}
			st.setBody(bo, []byte(s.String()), true)
		}
	}
	if x := out.Get("ctx"); x != nil {
		st.mergeCtx(c, x)
	}
}

// mergeCtx copies the keys of a returned ctx into flow.ctx.
func (st *state) mergeCtx(c *call, x goja.Value) {
	if goja.IsUndefined(x) || goja.IsNull(x) {
		return
	}
	o, ok := x.(*goja.Object)
	if !ok {
		st.throwType("ctx must be an object")
	}
	ctx := st.ctxObject(c)
	for _, k := range o.Keys() {
		_ = ctx.Set(k, o.Get(k))
	}
}

// interceptorInput is what an interceptor gets: the request (for the
// request hooks) or the response with its request's line, as plain data,
// with ctx (flow.ctx itself) and the interceptor's options.
func (st *state) interceptorInput(h *hookSpec, c *call) *goja.Object {
	rt := st.rt
	in := rt.NewObject()
	q := c.f.Request
	set := func(k string, v any) { _ = in.Set(k, v) }
	set("method", q.Method)
	set("url", q.URL())
	set("scheme", q.Scheme)
	set("host", q.Host)
	set("path", q.PathOnly())
	set("query", q.Query())
	params := rt.NewObject()
	if vals, err := url.ParseQuery(q.Query()); err == nil {
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if vs := vals[k]; len(vs) == 1 {
				_ = params.Set(k, vs[0])
			} else {
				items := make([]any, len(vs))
				for i, v := range vs {
					items[i] = v
				}
				_ = params.Set(k, rt.NewArray(items...))
			}
		}
	}
	set("queryParams", params)
	req := h.phase == hook.RequestHeaders || h.phase == hook.Request
	hs, body := q.Headers, &q.Body
	if !req {
		p := st.response(c)
		set("status", p.Status)
		hs, body = p.Headers, &p.Body
	}
	set("headers", st.plainHeaders(hs, req, q))
	set("ctx", st.ctxObject(c))
	if o := st.opts[h.idx]; o != nil {
		set("options", o)
	} else {
		set("options", rt.NewObject())
	}
	if (h.phase == hook.Request && h.icept.hook == "on_request") || h.phase == hook.Response {
		v, enc := st.plainBody(body, hs)
		set("body", v)
		set("bodyEncoding", enc)
	}
	return in
}

// plainHeaders are headers as an object of lower-case names, lines of one
// name joined with ", ".
func (st *state) plainHeaders(hs flowstore.Headers, req bool, q *flowstore.Request) *goja.Object {
	o := st.rt.NewObject()
	var names []string
	vals := map[string][]string{}
	for _, kv := range hs {
		k := strings.ToLower(kv.Name)
		if _, ok := vals[k]; !ok {
			names = append(names, k)
		}
		vals[k] = append(vals[k], kv.Value)
	}
	if req && !hs.Has("Host") && q.Host != "" {
		names = append(names, "host")
		vals["host"] = []string{q.Authority()}
	}
	for _, k := range names {
		_ = o.Set(k, strings.Join(vals[k], ", "))
	}
	return o
}

// plainBody is a body as Plenum hands it out: parsed JSON, text, or
// base64 for bytes that are not text, with its encoding's name.
func (st *state) plainBody(b *flowstore.Body, hs flowstore.Headers) (goja.Value, string) {
	if len(b.Data) == 0 {
		return goja.Null(), "none"
	}
	data, err := content.Decode(b.Data, hs.Get("Content-Encoding"), st.v.s.cfg.StringLimit)
	if err != nil {
		data = b.Data
	}
	st.grow("body", int64(len(data)))
	if strings.Contains(content.MediaType(hs.Get("Content-Type")), "json") && json.Valid(data) {
		v, err := st.jsonParse(goja.Undefined(), st.rt.ToValue(string(data)))
		if err == nil {
			return v, "json"
		}
	}
	if utf8.Valid(data) {
		return st.rt.ToValue(string(data)), "text"
	}
	return st.rt.ToValue(base64.StdEncoding.EncodeToString(data)), "base64"
}
