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
	return s.call(fn, args, true)
}

// call is invoke; an error of a script function names the item being
// processed (its first argument) when item is true.
func (s *Session) call(fn tengo.Object, args []tengo.Object, item bool) (tengo.Object, error) {
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
		if !item {
			args = nil
		}
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

// callDepthError is the error of a call of a script function from Go nested
// more than Limits.MaxCallDepth deep.
type callDepthError int

func (e callDepthError) Error() string {
	return fmt.Sprintf("script functions called from Go nested more than %d deep", int(e))
}

// Fatal marks err as an error that Env.Try does not catch (so neither does
// the try builtin): the end of the program (exit) or of a test (a failed
// assertion), which no script code may overrule. errors.Is and errors.As
// see err through it.
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	return fatalError{err}
}

type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

// IsFatal reports whether err ends the run whatever the script does: an
// interrupt (Ctrl-C), a timeout, a resource limit reached (memory,
// allocations, stack depth, nesting of calls from Go, string and bytes
// size), or an error marked by Fatal.
func IsFatal(err error) bool {
	var le *Error
	if errors.As(err, &le) && (le.Kind == Interrupted || le.Kind == TimedOut || le.Kind == CompileError) {
		return true
	}
	var depth callDepthError
	var fatal fatalError
	return errors.As(err, &depth) || errors.As(err, &fatal) ||
		errors.Is(err, errHeapLimit) || errors.Is(err, tengo.ErrObjectAllocLimit) ||
		errors.Is(err, tengo.ErrStackOverflow) ||
		errors.Is(err, tengo.ErrStringLimit) || errors.Is(err, tengo.ErrBytesLimit)
}

// Try calls fn with args as Invoke does and catches the error it raises,
// the way PowerShell's try/catch does: it returns fn's result, or caught,
// the error as an *Error, with err nil. Errors that must end the run
// (IsFatal, or any error once the run is stopping) are not caught: they
// come back as err.
//
// A stream result is an error (err): its stages would run after Try has
// returned, out of its reach, and reading it here would hold what it made
// (generated PINs among them) where a later error could drop it. fn reads
// it instead: with a sink, or a statement that prints it.
//
// The call VM that raised is dropped, never reused (see invoke), so a
// caught error leaves no state behind.
func (e *Env) Try(fn tengo.Object, args ...tengo.Object) (ret tengo.Object, caught *Error, err error) {
	s := e.s
	ret, err = s.call(fn, args, false) // its arguments are no items
	if _, ok := ret.(*Stream); ok && err == nil {
		return nil, nil, errors.New("the function returned a stream, whose stages would run after try " +
			"returned, where their errors are not caught; read it inside the function: " +
			"return s | collect, s | count, or a statement that prints it")
	}
	if err == nil {
		return ret, nil, nil
	}
	if IsFatal(err) || s.stopped() != nil {
		return nil, nil, err
	}
	if !errors.As(err, &caught) {
		caught = &Error{Kind: RuntimeError, Msg: err.Error(), Err: err}
	}
	return nil, caught, nil
}
