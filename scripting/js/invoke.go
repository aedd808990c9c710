package js

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dop251/goja"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// call is one hook invocation: the flow it works on, what it decided, and
// the objects it handed out. Objects point back here and check on every
// access that the call is still running, so a flow stashed in a global
// and used later fails loudly instead of touching a stale copy.
type call struct {
	st    *state
	f     *flowstore.Flow
	phase int
	ro    bool
	in    *hook.Call
	dead  atomic.Bool

	verdict flowstore.Verdict
	ctx     *goja.Object // flow.ctx, once read or set
	ctxOut  *hook.Table  // flow.ctx to keep, once the call succeeded
	objs    [numRefs]*goja.Object
	text    [2]textCache // decoded bodies: request, response
	msg     *wsMessage

	chunkOut []byte
	chunkSet bool
}

// Run runs the hook on a pooled runtime within its timeout.
func (h jsHook) Run(ctx context.Context, hc *hook.Call) error {
	return h.v.invoke(ctx, h.h, hc)
}

// invoke runs one hook. On success the call's results and flow.ctx are
// handed back and the script's failure count reset; on failure nothing
// of the call is kept, the error says file:line, and a script failing
// MaxFailures times in a row is disabled.
func (v *version) invoke(ctx context.Context, h *hookSpec, hc *hook.Call) error {
	st, err := v.pool.get(ctx)
	if err != nil {
		var busy errBusy
		if errors.As(err, &busy) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s:%d: not run: %w", h.file, h.line, err)
		}
		return v.failed(err, hc.Flow)
	}
	c := &call{st: st, f: hc.Flow, phase: hc.Phase, ro: hc.ReadOnly, in: hc}
	if hc.Msg != nil {
		c.msg = &wsMessage{m: *hc.Msg}
	}
	st.cur = c
	err, timedOut, abandoned := st.exec(h.timeout, func() error { return st.runHook(h, c) })
	c.dead.Store(true)
	if abandoned {
		v.pool.abandon()
		return v.failed(fmt.Errorf("%s:%d: did not stop within %s (stuck in a Go builtin); its JavaScript runtime was abandoned and the flow goes on unmodified",
			h.file, h.line, h.timeout), hc.Flow)
	}
	st.cur = nil
	if timedOut {
		err = st.timeoutError(err, h)
		v.pool.put(st)
		return v.failed(err, hc.Flow)
	}
	if err != nil {
		se := st.scriptError(err)
		if se.Line == 0 {
			se.File, se.Line = h.file, h.line
		}
		v.pool.put(st)
		return v.failed(se, hc.Flow)
	}
	v.pool.put(st)
	hc.Verdict = c.verdict
	if c.chunkSet {
		hc.ChunkOut, hc.ChunkSet = c.chunkOut, true
	}
	if c.msg != nil {
		if c.msg.set {
			hc.MsgOut, hc.MsgSet = c.msg.data, true
		}
		hc.Drop = c.msg.drop
	}
	if c.ctx != nil {
		v.s.cfg.Ctxs.Put(hc.Flow.ID, c.ctxOut)
	}
	v.fails.Store(0)
	return nil
}

// timeoutError names where the hook was when its time ran out.
func (st *state) timeoutError(err error, h *hookSpec) error {
	file, line := h.file, h.line
	if err != nil {
		if f, l := st.where(err); f != "" {
			file, line = f, l
		}
	}
	return fmt.Errorf("%s:%d: timed out after %s; the flow goes on unmodified", file, line, h.timeout)
}

// failed counts a failure and disables the version after too many in a row.
func (v *version) failed(err error, f *flowstore.Flow) error {
	n := v.fails.Add(1)
	if int(n) >= v.s.cfg.MaxFailures && !v.disabled.Swap(true) {
		v.s.cfg.Log.Add(flowstore.LevelError, v.s.source, f.ID,
			fmt.Sprintf("%s disabled after %d failures in a row (last: %v); it runs again when its file changes", v.s.path, n, err))
	}
	return err
}

// runHook calls the hook's function on the worker: fn(flow [, opts]), for
// responsechunk fn(flow, chunk, last [, opts]), for websocket_message
// fn(flow, message [, opts]); an interceptor as Plenum calls it.
func (st *state) runHook(h *hookSpec, c *call) error {
	if h.icept != nil {
		return st.runInterceptor(h, c)
	}
	rt := st.rt
	args := make([]goja.Value, 1, 4)
	args[0] = c.object(refFlow)
	switch {
	case c.phase == hook.ResponseChunk:
		args = append(args, st.binaryString(c.in.Chunk), rt.ToValue(c.in.Last))
	case c.msg != nil:
		args = append(args, c.object(refMessage))
	}
	if o := st.opts[h.idx]; o != nil {
		args = append(args, o)
	}
	ret, err := st.fns[h.idx](goja.Undefined(), args...)
	if err != nil {
		return err
	}
	switch {
	case c.phase == hook.ResponseChunk:
		if ret != nil && !goja.IsUndefined(ret) && !goja.IsNull(ret) {
			b, ok := st.bytesOf(ret)
			if !ok {
				return fmt.Errorf("%s:%d: responsechunk must return a string, a Uint8Array or nothing, not a %s", h.file, h.line, typeOf(ret))
			}
			c.chunkOut, c.chunkSet = b, true
		}
	case c.msg != nil:
		if ret != nil && !goja.IsUndefined(ret) {
			return fmt.Errorf("%s:%d: websocket_message returns nothing, not a %s: assign message.text to change the message, call message.drop() to drop it",
				h.file, h.line, typeOf(ret))
		}
	}
	return st.keepCtx(c)
}

// keepCtx copies flow.ctx out of the runtime, on the worker, for invoke
// to keep once the call has succeeded.
func (st *state) keepCtx(c *call) error {
	if c.ctx == nil {
		return nil
	}
	t, err := st.toGo(c.ctx, 0)
	if err != nil {
		return fmt.Errorf("flow.ctx: %v", err)
	}
	c.ctxOut, _ = t.(*hook.Table)
	return nil
}

func typeOf(v goja.Value) string {
	switch {
	case goja.IsNull(v):
		return "null"
	case goja.IsNumber(v):
		return "number"
	case goja.IsString(v):
		return "string"
	}
	if _, ok := v.Export().(bool); ok {
		return "boolean"
	}
	return typeName(v)
}
