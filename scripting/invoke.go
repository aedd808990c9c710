package scripting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// chunkArgs carry a responsechunk call's chunk in and its replacement out.
type chunkArgs struct {
	in       []byte
	last     bool
	out      []byte
	replaced bool
}

// maxQueueWait bounds the wait for a free state when all of a script's
// states are busy. A burst of flows queues rather than fails; states stuck
// in a loop are cut at their timeout, so the queue always moves.
const maxQueueWait = 10 * time.Second

// invoke runs one hook on a pooled state within the hook's timeout. On
// success the call's flow.ctx is written back and the script's failure
// count reset; on failure nothing of the call is kept, the error says
// script:line, and a script failing MaxFailures times in a row is
// disabled.
func (v *version) invoke(ctx context.Context, h *hookSpec, c *call, ck *chunkArgs) error {
	st, err := v.pool.get(ctx, time.Now().Add(maxQueueWait))
	if err != nil {
		var busy errBusy
		if errors.As(err, &busy) || errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s:%d: not run: %w", v.s.path, h.line, err)
		}
		return v.failed(err, c)
	}
	c.st = st
	st.cur = c
	err, timedOut, abandoned := st.exec(ctx, h.timeout, func() error {
		return st.runHook(h, c, ck)
	})
	c.dead.Store(true)
	if abandoned {
		v.pool.abandon()
		return v.failed(fmt.Errorf("%s:%d: did not stop within %s (stuck in a Go builtin); its Lua state was abandoned and the flow goes on unmodified",
			v.s.path, h.line, h.timeout), c)
	}
	st.cur = nil
	v.pool.put(st)
	if timedOut {
		return v.failed(timeoutError(err, v.s.path, h, c), c)
	}
	if err != nil {
		if ctx.Err() != nil && strings.Contains(err.Error(), "context canceled") {
			// The client went away: not the script's fault.
			return fmt.Errorf("%s:%d: canceled: the flow ended", v.s.path, h.line)
		}
		return v.failed(errors.New(luaMessage(err)), c)
	}
	if c.ctx != nil {
		t, err := toGo(c.ctx, st.null, 0)
		if err != nil {
			return v.failed(fmt.Errorf("%s:%d: flow.ctx: %v", v.s.path, h.line, err), c)
		}
		v.s.eng.ctxs.Put(c.f.ID, t.(*hook.Table))
	}
	v.fails.Store(0)
	return nil
}

// timeoutError names where the hook was when its time ran out: the Lua
// error raised at the deadline carries "file:line:".
func timeoutError(err error, path string, h *hookSpec, c *call) error {
	where := fmt.Sprintf("%s:%d:", path, h.line)
	if err != nil {
		msg := luaMessage(err)
		if i := strings.Index(msg, ": "); i > 0 && strings.HasPrefix(msg, path+":") {
			where = msg[:i+1]
		}
	}
	return fmt.Errorf("%s timed out after %s; the flow goes on unmodified", where, h.timeout)
}

// failed counts a failure and disables the version after too many in a row.
func (v *version) failed(err error, c *call) error {
	n := v.fails.Add(1)
	if int(n) >= v.s.eng.opts.MaxFailures && !v.disabled.Swap(true) {
		v.s.eng.log.Add(flowstore.LevelError, v.s.source, c.f.ID,
			fmt.Sprintf("%s disabled after %d failures in a row (last: %v); it runs again when its file changes", v.s.path, n, err))
	}
	return err
}

// runHook calls the hook's function on the state's stack: fn(flow [, opts]),
// for responsechunk fn(flow, chunk, last [, opts]), for websocket_message
// fn(flow, message [, opts]).
func (st *state) runHook(h *hookSpec, c *call, ck *chunkArgs) error {
	L := st.L
	L.SetTop(0)
	L.Push(st.hooks[h.idx])
	L.Push(c.ud(refFlow))
	n := 1
	switch {
	case ck != nil:
		L.Push(lua.LString(ck.in))
		L.Push(lua.LBool(ck.last))
		n += 2
	case c.msg != nil:
		L.Push(c.ud(refMessage))
		n++
	}
	if h.reg >= 0 {
		L.Push(st.opts[h.idx])
		n++
	}
	nret := 0
	if ck != nil || c.msg != nil {
		nret = 1
	}
	if err := L.PCall(n, nret, nil); err != nil {
		L.SetTop(0)
		return err
	}
	if ck != nil {
		switch r := L.Get(-1).(type) {
		case *lua.LNilType:
		case lua.LString:
			ck.out, ck.replaced = []byte(r), true
		default:
			L.SetTop(0)
			return fmt.Errorf("%s:%d: responsechunk must return a string or nil, not a %s", st.v.s.path, h.line, r.Type())
		}
	}
	if c.msg != nil && L.Get(-1) != lua.LNil {
		r := L.Get(-1)
		L.SetTop(0)
		return fmt.Errorf("%s:%d: websocket_message returns nothing, not a %s: assign message.text to change the message, call message:drop() to drop it",
			st.v.s.path, h.line, r.Type())
	}
	L.SetTop(0)
	return nil
}
