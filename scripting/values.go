package scripting

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// Values that outlive one Lua state (flow.ctx between hooks, the shared
// store between flows) are kept as hook's engine-neutral values (nil,
// bool, float64, string, hook.Null and *hook.Table). A Lua state gets a
// fresh copy when it reads one, so no LValue ever crosses from one state
// to another (they are not goroutine-safe, and gopher-lua functions belong
// to their state), and JavaScript hooks read what Lua hooks keep.

const maxDepth = hook.MaxDepth

// toGo copies a Lua value out of its state.
func toGo(v lua.LValue, null lua.LValue, depth int) (any, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LTable:
		if depth >= maxDepth {
			return nil, fmt.Errorf("tables nested more than %d deep (a cycle?)", maxDepth)
		}
		t := &hook.Table{}
		n := x.Len()
		for i := 1; i <= n; i++ {
			e, err := toGo(x.RawGetInt(i), null, depth+1)
			if err != nil {
				return nil, err
			}
			t.Arr = append(t.Arr, e)
		}
		var ferr error
		x.ForEach(func(k, val lua.LValue) {
			if ferr != nil {
				return
			}
			if kn, ok := k.(lua.LNumber); ok && float64(kn) == math.Trunc(float64(kn)) && kn >= 1 && int(kn) <= n {
				return
			}
			gk, err := toGo(k, null, maxDepth) // keys are never tables
			if err != nil || gk == nil {
				ferr = fmt.Errorf("a table key of type %s cannot be kept", k.Type())
				return
			}
			gv, err := toGo(val, null, depth+1)
			if err != nil {
				ferr = err
				return
			}
			if t.Hash == nil {
				t.Hash = make(map[any]any)
			}
			t.Hash[gk] = gv
		})
		if ferr != nil {
			return nil, ferr
		}
		return t, nil
	case *lua.LUserData:
		if v == null {
			return hook.Null, nil
		}
	}
	return nil, fmt.Errorf("a %s cannot be kept (only nil, booleans, numbers, strings and tables)", v.Type())
}

// toLua copies a Go value into state L; null is that state's json.null.
func toLua(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case hook.NullValue:
		return null
	case *hook.Table:
		t := L.CreateTable(len(x.Arr), len(x.Hash))
		for _, e := range x.Arr {
			t.Append(toLua(L, e, null))
		}
		for k, e := range x.Hash {
			t.RawSet(toLua(L, k, null), toLua(L, e, null))
		}
		return t
	}
	return lua.LNil
}
