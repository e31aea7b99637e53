package lang

import (
	"errors"
	"fmt"
	"slices"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
)

// Tengo has no API to call a compiled function from Go (CompiledFunction.Call
// returns nil). invoke runs the function in a small "call VM" whose main
// function is
//
//	GETG :fn; GETG :a0 ... GETG :aN-1; CALL N; SETG :ret; SUSPEND
//
// sharing the session's constants and globals, so closures, free variables,
// globals, variadic functions and recursion behave exactly as in the script.
// The function and arguments are passed, and the result returned, through
// reserved global slots. A call from inside the function back into Go and
// then into another function uses another call VM (the first is busy); the
// slots are safe to share because such calls nest: the inner call has read
// its arguments and the outer has not yet written its result.
//
// Call VMs are pooled by arity and reused while they succeed; one that failed
// or panicked is dropped, since Tengo leaves its state undefined.

func (s *Session) callerCode(n int) []byte {
	if code := s.callers[n]; code != nil {
		return code
	}
	var code []byte
	code = append(code, tengo.MakeInstruction(parser.OpGetGlobal, slotFn)...)
	for i := range n {
		code = append(code, tengo.MakeInstruction(parser.OpGetGlobal, slotArg0+i)...)
	}
	code = append(code, tengo.MakeInstruction(parser.OpCall, n, 0)...)
	code = append(code, tengo.MakeInstruction(parser.OpSetGlobal, slotRet)...)
	code = append(code, parser.OpSuspend)
	s.callers[n] = code
	return code
}

func (s *Session) callVM(n int) *tengo.VM {
	if p := s.pools[n]; len(p) > 0 {
		vm := p[len(p)-1]
		s.pools[n] = p[:len(p)-1]
		return vm
	}
	bc := &tengo.Bytecode{
		FileSet: s.fileSet,
		MainFunction: &tengo.CompiledFunction{
			Instructions: s.callerCode(n),
			SourceMap:    map[int]parser.Pos{},
		},
		Constants: s.constants,
	}
	return tengo.NewVM(bc, s.globals, s.limits.MaxAllocs)
}

func (s *Session) invoke(fn tengo.Object, args []tengo.Object) (tengo.Object, error) {
	cf, ok := fn.(*tengo.CompiledFunction)
	if !ok {
		// A copy, so that args does not escape and calls of script
		// functions pass their arguments without allocating.
		return s.callGo(fn, slices.Clone(args))
	}
	n := len(args)
	if n > maxInvokeArgs {
		return nil, fmt.Errorf("cannot call a function with %d arguments from Go (at most %d)", n, maxInvokeArgs)
	}
	vm := s.callVM(n)
	g := s.globals
	g[slotFn] = cf
	copy(g[slotArg0:], args)
	err := s.runVM(vm)
	ret := g[slotRet]
	g[slotFn], g[slotRet] = tengo.UndefinedValue, tengo.UndefinedValue
	for i := range n { // don't keep the last item alive
		g[slotArg0+i] = tengo.UndefinedValue
	}
	if err != nil {
		return nil, s.callError(err, cf, args)
	}
	s.pools[n] = append(s.pools[n], vm)
	return ret, nil
}

// callError completes an error of a called function: an error raised in the
// call VM's own frame (a wrong number of arguments) gets the function's
// position, and a runtime error names the item being processed.
func (s *Session) callError(err error, fn *tengo.CompiledFunction, args []tengo.Object) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	if !e.Pos.IsValid() {
		e.Pos, e.Line = s.pos(fn.SourcePos(0))
	}
	if e.Kind == RuntimeError && e.Item == "" && len(args) > 0 {
		item := args[0]
		for _, a := range args {
			if _, ok := a.(*Record); ok {
				item = a
				break
			}
		}
		e.Item = describe(item)
	}
	return e
}

// callGo calls a Go callable (a builtin, a stage, a Tengo function value)
// with panics recovered.
func (s *Session) callGo(fn tengo.Object, args []tengo.Object) (ret tengo.Object, err error) {
	if !fn.CanCall() {
		return nil, fmt.Errorf("not callable: %s", fn.TypeName())
	}
	if err := s.stopErr(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			ret, err = nil, s.panicError(nil, r)
		}
	}()
	ret, err = fn.Call(args...)
	switch {
	case err == tengo.ErrWrongNumArguments:
		return nil, fmt.Errorf("wrong number of arguments in call to %s", fn.TypeName())
	case err == nil && ret == nil:
		ret = tengo.UndefinedValue
	}
	return ret, err
}
