package lang

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/stdlib"

	input "github.com/pinsh/pinsh/internal/cut"
)

// maxRangeLen bounds range(): it builds the whole array at once, in a loop
// no abort reaches.
const maxRangeLen = 1 << 22

// boundedRange is Tengo's range(start, stop[, step]) with the same results
// and errors, refusing more than maxRangeLen elements. It counts the
// elements before making them, in unsigned arithmetic, so that neither a
// huge span nor a step past the int64 limits (where Tengo's own loop
// overflows and never ends) can make it run away.
func boundedRange(args ...tengo.Object) (tengo.Object, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, tengo.ErrWrongNumArguments
	}
	var v [3]int64
	v[2] = 1
	for i, a := range args {
		n, ok := a.(*tengo.Int)
		if !ok {
			return nil, tengo.ErrInvalidArgumentType{
				Name: [...]string{"start", "stop", "step"}[i], Expected: "int", Found: a.TypeName()}
		}
		if i == 2 && n.Value <= 0 {
			return nil, tengo.ErrInvalidRangeStep
		}
		v[i] = n.Value
	}
	start, stop, step := v[0], v[1], uint64(v[2])
	// span is |stop - start|, exact in uint64 for any two int64s.
	down := start > stop
	span := uint64(stop) - uint64(start)
	if down {
		span = uint64(start) - uint64(stop)
	}
	n := span / step
	if span%step != 0 {
		n++
	}
	if n > maxRangeLen {
		return nil, fmt.Errorf("range: more than %d elements", maxRangeLen)
	}
	out := make([]tengo.Object, n)
	for i := range out {
		// i*step < span: the result lies between start and stop, so the
		// wrapping uint64 arithmetic gives it exactly.
		x := uint64(start) + uint64(i)*step
		if down {
			x = uint64(start) - uint64(i)*step
		}
		out[i] = &tengo.Int{Value: int64(x)}
	}
	return &tengo.Array{Value: out}, nil
}

// moduleMap returns the modules a script may import (allowedModules): the
// Tengo standard modules, with fmt writing to the session's output, times
// speaking pinsh's Time and clock and sleeping interruptibly, and json
// encoding records and times.
func (s *Session) moduleMap() *tengo.ModuleMap {
	m := tengo.NewModuleMap()
	for _, name := range []string{"base64", "hex", "math", "rand", "text"} {
		m.AddBuiltinModule(name, stdlib.BuiltinModules[name])
	}
	m.AddSourceModule("enum", []byte(stdlib.SourceModules["enum"]))
	m.AddBuiltinModule("fmt", s.fmtModule())
	m.AddBuiltinModule("times", s.timesModule())
	m.AddBuiltinModule("json", s.jsonModule())
	return m
}

func userFunc(name string, f tengo.CallableFunc) *tengo.UserFunction {
	return &tengo.UserFunction{Name: name, Value: f}
}

func (s *Session) fmtModule() map[string]tengo.Object {
	orig := stdlib.BuiltinModules["fmt"]
	printArgs := func(args []tengo.Object) error {
		for _, a := range args {
			if err := checkDepth(a, 0); err != nil {
				return err
			}
			if a != tengo.UndefinedValue { // Tengo prints undefined as nothing
				Delivered(a)
				if _, err := s.out.WriteString(text(a)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return map[string]tengo.Object{
		"print": userFunc("print", func(args ...tengo.Object) (tengo.Object, error) {
			return nil, printArgs(args)
		}),
		"println": userFunc("println", func(args ...tengo.Object) (tengo.Object, error) {
			if err := printArgs(args); err != nil {
				return nil, err
			}
			if err := s.out.WriteByte('\n'); err != nil {
				return nil, err
			}
			return nil, s.lineDone()
		}),
		"printf": userFunc("printf", func(args ...tengo.Object) (tengo.Object, error) {
			v, err := guardDepth(orig["sprintf"].(*tengo.UserFunction).Value)(args...)
			if err != nil {
				return nil, err
			}
			_, err = s.out.WriteString(v.(*tengo.String).Value)
			return nil, err
		}),
		"sprintf": userFunc("sprintf", guardDepth(orig["sprintf"].(*tengo.UserFunction).Value)),
	}
}

// guardDepth refuses arguments nested too deeply for Tengo's recursive
// String and Copy.
func guardDepth(f tengo.CallableFunc) tengo.CallableFunc {
	return func(args ...tengo.Object) (tengo.Object, error) {
		for _, a := range args {
			if err := checkDepth(a, 0); err != nil {
				return nil, err
			}
		}
		return f(args...)
	}
}

func (s *Session) timesModule() map[string]tengo.Object {
	m := make(map[string]tengo.Object)
	for name, v := range stdlib.BuiltinModules["times"] {
		if f, ok := v.(*tengo.UserFunction); ok {
			v = userFunc(name, pinshTimes(name, f.Value))
		}
		m[name] = v
	}
	timeArg := func(name string, args []tengo.Object) (time.Time, error) {
		if len(args) != 1 {
			return time.Time{}, tengo.ErrWrongNumArguments
		}
		t, ok := asTime(args[0])
		if !ok {
			return time.Time{}, tengo.ErrInvalidArgumentType{Name: "first", Expected: "time", Found: args[0].TypeName()}
		}
		if t.never {
			return time.Time{}, fmt.Errorf("times.%s: the time never comes", name)
		}
		return t.t, nil
	}
	m["now"] = userFunc("now", func(args ...tengo.Object) (tengo.Object, error) {
		return NewTime(s.opts.Now()), nil
	})
	m["since"] = userFunc("since", func(args ...tengo.Object) (tengo.Object, error) {
		t, err := timeArg("since", args)
		if err != nil {
			return nil, err
		}
		return &tengo.Int{Value: int64(s.opts.Now().Sub(t))}, nil
	})
	m["until"] = userFunc("until", func(args ...tengo.Object) (tengo.Object, error) {
		t, err := timeArg("until", args)
		if err != nil {
			return nil, err
		}
		return &tengo.Int{Value: int64(t.Sub(s.opts.Now()))}, nil
	})
	m["sleep"] = userFunc("sleep", func(args ...tengo.Object) (tengo.Object, error) {
		if len(args) != 1 {
			return nil, tengo.ErrWrongNumArguments
		}
		d, ok := tengo.ToInt64(args[0])
		if !ok {
			return nil, tengo.ErrInvalidArgumentType{Name: "first", Expected: "int", Found: args[0].TypeName()}
		}
		if d <= 0 {
			return nil, nil
		}
		ctx := s.env.Context()
		t := time.NewTimer(time.Duration(d))
		defer t.Stop()
		select {
		case <-t.C:
			return nil, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	return m
}

// pinshTimes adapts a times function to pinsh times: arguments that are
// pinsh times become Tengo times, a Tengo time result becomes a pinsh time.
func pinshTimes(name string, f tengo.CallableFunc) tengo.CallableFunc {
	return func(args ...tengo.Object) (tengo.Object, error) {
		for i, a := range args {
			if t, ok := a.(*Time); ok {
				if t.never {
					return nil, fmt.Errorf("times.%s: the time never comes", name)
				}
				args[i] = &tengo.Time{Value: t.t}
			}
		}
		ret, err := f(args...)
		if t, ok := ret.(*tengo.Time); ok {
			ret = NewTime(t.Value)
		}
		return ret, err
	}
}

func (s *Session) jsonModule() map[string]tengo.Object {
	orig := stdlib.BuiltinModules["json"]
	decode := orig["decode"].(*tengo.UserFunction).Value
	return map[string]tengo.Object{
		"encode": userFunc("encode", func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, tengo.ErrWrongNumArguments
			}
			b, err := appendJSON(nil, args[0], 0)
			if err != nil { // as Tengo's json.encode: an error value, not a runtime error
				return &tengo.Error{Value: &tengo.String{Value: err.Error()}}, nil
			}
			if len(b) > tengo.MaxBytesLen {
				return nil, tengo.ErrBytesLimit
			}
			Delivered(args[0]) // the script holds its secrets now
			return &tengo.Bytes{Value: b}, nil
		}),
		"decode": userFunc("decode", func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) == 1 {
				var src []byte
				switch a := args[0].(type) {
				case *tengo.String:
					src = []byte(a.Value)
				case *tengo.Bytes:
					src = a.Value
				}
				if off, ok := checkNesting(src); !ok {
					return &tengo.Error{Value: &tengo.String{
						Value: fmt.Sprintf("json nested more than %d deep at offset %d", maxNesting, off)}}, nil
				}
			}
			return decode(args...)
		}),
		"indent":      orig["indent"],
		"html_escape": orig["html_escape"],
	}
}

// langBuiltins returns the functions this package defines, by name: Tengo
// builtins it replaces (range bounded, time and is_time knowing pinsh times,
// string, copy and format refusing self-containing values) and to_map.
func (s *Session) langBuiltins() map[string]*tengo.BuiltinFunction {
	orig := make(map[string]tengo.CallableFunc)
	for _, f := range tengo.GetAllBuiltinFunctions() {
		orig[f.Name] = f.Value
	}
	fns := []*tengo.BuiltinFunction{
		{Name: "range", Value: boundedRange},
		{Name: "time", Value: func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) > 0 {
				if t, ok := args[0].(*Time); ok {
					return t, nil
				}
			}
			ret, err := orig["time"](args...)
			if t, ok := ret.(*tengo.Time); ok {
				ret = NewTime(t.Value)
			}
			return ret, err
		}},
		{Name: "is_time", Value: func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, tengo.ErrWrongNumArguments
			}
			if _, ok := asTime(args[0]); ok {
				return tengo.TrueValue, nil
			}
			return tengo.FalseValue, nil
		}},
		{Name: "string", Value: guardDepth(orig["string"])},
		{Name: "copy", Value: guardDepth(orig["copy"])},
		{Name: "format", Value: guardDepth(orig["format"])},
		{Name: "to_map", Value: func(args ...tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, tengo.ErrWrongNumArguments
			}
			switch v := args[0].(type) {
			case *Record:
				return v.ToMap(), nil
			case *tengo.Map:
				return &tengo.Map{Value: copyMap(v.Value)}, nil
			case *tengo.ImmutableMap:
				return &tengo.Map{Value: copyMap(v.Value)}, nil
			}
			return nil, tengo.ErrInvalidArgumentType{Name: "first", Expected: "record or map", Found: args[0].TypeName()}
		}},
	}
	m := make(map[string]*tengo.BuiltinFunction, len(fns))
	for _, f := range fns {
		m[f.Name] = f
	}
	return m
}

// explainErrorArgs wraps a Tengo builtin so that, when it refuses an error
// value, the message says what the error was: len(json.encode(deep))
// reports "expected array/string/bytes/map, found error (value is nested
// more than 64 levels deep ...)" rather than "found error" alone. Tengo's
// json.encode, like others, returns its failures as error values.
func explainErrorArgs(f *tengo.BuiltinFunction) *tengo.BuiltinFunction {
	call := f.Value
	return &tengo.BuiltinFunction{Name: f.Name, Value: func(args ...tengo.Object) (tengo.Object, error) {
		ret, err := call(args...)
		var bad tengo.ErrInvalidArgumentType
		if err == nil || !errors.As(err, &bad) || bad.Found != "error" {
			return ret, err
		}
		for _, a := range args {
			if e, ok := a.(*tengo.Error); ok {
				cause := e.Value.String()
				if s, ok := e.Value.(*tengo.String); ok {
					cause = s.Value
				}
				bad.Found = "error (" + input.Message(cause) + ")"
				return ret, bad
			}
		}
		return ret, err
	}}
}

func copyMap(m map[string]tengo.Object) map[string]tengo.Object {
	c := make(map[string]tengo.Object, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
