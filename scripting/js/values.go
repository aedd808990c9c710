package js

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dop251/goja"

	"github.com/interceptor-tui/interceptor-tui/scripting/internal/hook"
)

// Values kept across calls (flow.ctx, shared) are hook's engine-neutral
// ones, so Lua hooks read what JavaScript hooks keep and the other way
// round: an array is a table's array part, an object its other keys.

// toGo copies a JavaScript value out of the runtime.
func (st *state) toGo(v goja.Value, depth int) (any, error) {
	switch {
	case v == nil || goja.IsUndefined(v):
		return nil, nil
	case goja.IsNull(v):
		return hook.Null, nil
	case goja.IsNumber(v):
		return v.ToFloat(), nil
	case goja.IsString(v):
		return v.String(), nil
	}
	switch x := v.Export().(type) {
	case bool:
		return x, nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("a %s cannot be kept (only null, booleans, numbers, strings, arrays and plain objects)", typeName(v))
	}
	if depth >= hook.MaxDepth {
		return nil, fmt.Errorf("objects nested more than %d deep (a cycle?)", hook.MaxDepth)
	}
	t := &hook.Table{}
	switch o.ClassName() {
	case "Array":
		n := o.Get("length").ToInteger()
		for i := int64(0); i < n; i++ {
			e, err := st.toGo(o.Get(strconv.FormatInt(i, 10)), depth+1)
			if err != nil {
				return nil, err
			}
			if e == nil {
				e = hook.Null // a hole stays a hole, as JSON has it
			}
			t.Arr = append(t.Arr, e)
		}
		return t, nil
	case "Object":
		if _, isFlow := o.Export().(*obj); isFlow {
			return nil, errors.New("a flow object cannot be kept (keep its values)")
		}
		for _, k := range o.Keys() {
			e, err := st.toGo(o.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			if e == nil {
				continue
			}
			if t.Hash == nil {
				t.Hash = make(map[any]any)
			}
			t.Hash[k] = e
		}
		return t, nil
	}
	return nil, fmt.Errorf("a %s cannot be kept (only null, booleans, numbers, strings, arrays and plain objects)", typeName(v))
}

func typeName(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if _, ok := goja.AssertFunction(o); ok {
			return "function"
		}
		return o.ClassName()
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "symbol"
	}
	if goja.IsBigInt(v) {
		return "bigint"
	}
	return "value"
}

// fromGo copies a kept value into the runtime. A table with only an
// array part is an array; any other is an object, array elements under
// the keys "1", "2"... as Lua numbers them.
func (st *state) fromGo(v any) goja.Value {
	rt := st.rt
	switch x := v.(type) {
	case nil:
		return goja.Undefined()
	case hook.NullValue:
		return goja.Null()
	case bool, float64, string:
		return rt.ToValue(x)
	case map[string]any: // an interceptor's options, from YAML
		o := rt.NewObject()
		for k, e := range x {
			_ = o.Set(k, st.fromGo(e))
		}
		return o
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = st.fromGo(e)
		}
		return rt.NewArray(items...)
	case int:
		return rt.ToValue(x)
	case *hook.Table:
		if len(x.Hash) == 0 && len(x.Arr) > 0 {
			items := make([]any, len(x.Arr))
			for i, e := range x.Arr {
				items[i] = st.fromGo(e)
			}
			return rt.NewArray(items...)
		}
		o := rt.NewObject()
		for i, e := range x.Arr {
			_ = o.Set(strconv.Itoa(i+1), st.fromGo(e))
		}
		keys := make([]string, 0, len(x.Hash))
		vals := make(map[string]any, len(x.Hash))
		for k, e := range x.Hash {
			ks := keyString(k)
			keys = append(keys, ks)
			vals[ks] = e
		}
		sort.Strings(keys) // a Lua table has no order; be stable
		for _, k := range keys {
			_ = o.Set(k, st.fromGo(vals[k]))
		}
		return o
	}
	return goja.Undefined()
}

func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(k)
}

// scriptError turns an error from running script code into a
// ScriptError naming the innermost frame of the script's own files.
func (st *state) scriptError(err error) *hook.ScriptError {
	file, line := st.where(err)
	if file == "" {
		file = st.v.s.path
	}
	return &hook.ScriptError{File: file, Line: line, Msg: message(err)}
}

// where is the file and line of the innermost frame of the script's own
// files in an exception's stack.
func (st *state) where(err error) (string, int) {
	var ex *goja.Exception
	var ie *goja.InterruptedError
	var frames []goja.StackFrame
	switch {
	case errors.As(err, &ie):
		frames = ie.Stack()
	case errors.As(err, &ex):
		frames = ex.Stack()
	}
	for _, f := range frames {
		if st.v.isSource(f.SrcName()) {
			return f.SrcName(), f.Position().Line
		}
	}
	return "", 0
}

// message is what a thrown value says: an Error's message (with its name
// unless it is a plain Error), or the value as a string.
func message(err error) string {
	var ex *goja.Exception
	if !errors.As(err, &ex) {
		return err.Error()
	}
	v := ex.Value()
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Error" {
		msg := o.Get("message")
		name := o.Get("name")
		if msg != nil && name != nil && name.String() == "Error" {
			return msg.String()
		}
		return o.String()
	}
	if v == nil {
		return strings.TrimSpace(err.Error())
	}
	return v.String()
}
