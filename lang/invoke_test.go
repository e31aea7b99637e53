package lang

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func TestInvokeFromScripts(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	for _, tc := range []struct{ src, want string }{
		// a closure over a local and a free variable of an enclosing function
		{`mk := func(lim) { return func(x) { return x > lim } }; [1, 5, 9] | where(mk(4)) | count`, "2\n"},
		{`lim := 8; [1, 5, 9] | where(func(x) { return x > lim }) | count`, "1\n"},
		// a closure that mutates its captured variable, called from Go
		{`seen := 0; c := func() { n := 0; return func(x) { n++; seen = n; return true } }(); [1, 2, 3] | where(c) | count; seen`, "3\n3\n"},
		// variadic functions
		{`v := func(a, ...rest) { return len(rest) == 0 }; [1, 2] | where(v) | count`, "2\n"},
		// recursion inside the predicate
		{`fib := func(n) { return n < 2 ? n : fib(n-1) + fib(n-2) }; [10, 20] | where(func(x) { return fib(x) > 100 }) | count`, "1\n"},
		// a nested pipeline inside a predicate, whose predicate is called from Go too
		{`[1, 2, 3] | where(func(x) { return [1, 2, 3, 4] | where(func(y) { return y <= x }) | count >= 2 }) | count`, "2\n"},
		// three levels deep, each with its own predicate
		{`calls := 0; lvl := func(d) { calls++; return d == 0 ? 1 : [0, 1] | where(func(x) { return lvl(d - 1) > 0 }) | count }; [lvl(3), calls]`, "[2, 15]\n"},
		// a Go callable as the predicate: a builtin, a stage, a Tengo builtin
		{`[[1], [], [2, 3]] | where(len) | count`, "2\n"},
		{`[0, 1, 2] | where(bool) | count`, "2\n"},
		{`[[1, 2], [3]] | where(where(func(x) { return x > 1 }) | count) | count`, "2\n"},
		// each calls a function that returns nothing
		{`[1, 2] | each(func(x) { }) | count`, "2\n"},
	} {
		got, err := h.run(tc.src)
		if err != nil {
			t.Errorf("%s\n error: %v", tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

func TestInvokeGoAPI(t *testing.T) {
	h := newHarness(t, Options{})
	h.must(`add := func(a, b) { return a + b }; sum := func(...xs) { t := 0; for x in xs { t += x }; return t }`)
	env := h.s.Env()
	call := func(name string, args ...tengo.Object) (tengo.Object, error) {
		fn, ok := h.s.Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return env.Invoke(fn, args...)
	}
	if v, err := call("add", num(2), num(3)); err != nil || v.(*tengo.Int).Value != 5 {
		t.Errorf("add: %v %v", v, err)
	}
	if v, err := call("sum", num(1), num(2), num(3)); err != nil || v.(*tengo.Int).Value != 6 {
		t.Errorf("sum: %v %v", v, err)
	}
	if v, err := call("sum"); err != nil || v.(*tengo.Int).Value != 0 {
		t.Errorf("sum(): %v %v", v, err)
	}
	if v, err := call("len", str("abc")); err != nil || v.(*tengo.Int).Value != 3 {
		t.Errorf("len: %v %v", v, err)
	}
	// The pool reuses VMs: many calls, few allocations of VMs.
	for i := range 1000 {
		if _, err := call("add", num(i), num(1)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.s.pools[2]); n != 1 {
		t.Errorf("pool of arity 2 has %d VMs", n)
	}
	// A failed call VM is not reused.
	if _, err := call("add", num(1), str("x")); err == nil {
		t.Fatal("add(1, \"x\") succeeded")
	}
	if n := len(h.s.pools[2]); n != 0 {
		t.Errorf("failed VM went back to the pool (%d)", n)
	}
	if v, err := call("add", num(1), num(1)); err != nil || v.(*tengo.Int).Value != 2 {
		t.Errorf("after a failure: %v %v", v, err)
	}

	for _, tc := range []struct {
		fn   string
		args []tengo.Object
		want string
	}{
		{"add", []tengo.Object{num(1)}, "wrong number of arguments: want=2, got=1"},
		{"add", make([]tengo.Object, 17), "at most 16"},
		{"args", nil, "not callable: immutable-array"},
		{"len", nil, "wrong number of arguments in call to builtin-function:len"},
	} {
		_, err := call(tc.fn, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.fn, err, tc.want)
		}
	}
	// An arity error points at the function.
	_, err := call("add", num(1))
	if e := asError(t, err); e.Pos.Line != 1 || e.Pos.File != "test.tengo" {
		t.Errorf("arity error position: %v", e.Pos)
	}
}

func TestInvokeDepthLimit(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{MaxCallDepth: 8}})
	_, err := h.run(`r := func(x) { return [x] | where(r) | count }; r(1)`)
	if err == nil || !strings.Contains(err.Error(), "nested more than 8 deep") {
		t.Fatalf("unbounded recursion through Go: %v", err)
	}
	if got := h.must(`d := func(x) { return x == 0 ? 1 : [x - 1] | where(d) | count }; fmt := import("fmt"); fmt.println(d(5))`); got != "1\n" {
		t.Errorf("bounded recursion through Go: %q", got)
	}
}

func TestTry(t *testing.T) {
	h := newHarness(t, Options{})
	h.must(`div := func(a, b) { return a / b }
deep := func(n) { return 1 + deep(n + 1) }
items := func() { return [1, 0] | where(func(x) { return 1 / x }) }`)
	env := h.s.Env()
	fn := func(name string) tengo.Object {
		f, ok := h.s.Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return f
	}
	for i := 0; i < 3; i++ { // a caught error leaves the session as it was
		ret, caught, err := env.Try(fn("div"), num(1), num(0))
		if err != nil || ret != nil || caught == nil || caught.Message() != "division by zero" || !caught.Pos.IsValid() {
			t.Fatalf("div by 0: %v %v %v", ret, caught, err)
		}
		for _, vm := range h.s.pools[2] {
			if vm.IsStackEmpty() == false {
				t.Errorf("a call VM with a dirty stack went back to the pool")
			}
		}
		if n := len(h.s.pools[2]); n > 1 {
			t.Errorf("%d call VMs pooled for one successful call", n)
		}
		ret, caught, err = env.Try(fn("div"), num(6), num(3))
		if err != nil || caught != nil || ret.(*tengo.Int).Value != 2 {
			t.Fatalf("div: %v %v %v", ret, caught, err)
		}
	}
	// a stream result is refused: its errors would escape
	if _, caught, err := env.Try(fn("items")); caught != nil || err == nil || !strings.Contains(err.Error(), "returned a stream") {
		t.Errorf("stream: %v %v", caught, err)
	}
	// read inside the function, its stages' errors are caught
	h.must(`counted := func() { return items() | count }`)
	if _, caught, err := env.Try(fn("counted")); err != nil || caught == nil || caught.Message() != "division by zero (processing 0)" {
		t.Errorf("stream read inside: %v %v", caught, err)
	}
	// a Go callable
	if ret, caught, err := env.Try(fn("len"), tengo.UndefinedValue); err != nil || caught == nil || ret != nil {
		t.Errorf("len(undefined): %v %v %v", ret, caught, err)
	}
	// limits are not caught
	if _, caught, err := env.Try(fn("deep"), num(0)); caught != nil || err == nil || !IsFatal(err) {
		t.Errorf("stack overflow: caught %v, err %v", caught, err)
	}
	fatal := &tengo.UserFunction{Value: func(...tengo.Object) (tengo.Object, error) {
		return nil, Fatal(errors.New("the end"))
	}}
	if _, caught, err := env.Try(fatal); caught != nil || err == nil || err.Error() != "the end" {
		t.Errorf("Fatal: caught %v, err %v", caught, err)
	}
	if Fatal(nil) != nil {
		t.Error("Fatal(nil) is not nil")
	}
}

func TestIsFatal(t *testing.T) {
	for _, tc := range []struct {
		err   error
		fatal bool
	}{
		{errors.New("x"), false},
		{&Error{Kind: RuntimeError, Msg: "x"}, false},
		{&Error{Kind: Interrupted}, true},
		{&Error{Kind: TimedOut}, true},
		{&Error{Kind: RuntimeError, Err: fmt.Errorf("%w: grew", errHeapLimit)}, true},
		{&Error{Kind: RuntimeError, Err: tengo.ErrObjectAllocLimit}, true},
		{&Error{Kind: RuntimeError, Err: tengo.ErrStackOverflow}, true},
		{&Error{Kind: RuntimeError, Err: errStackOverflow}, true},
		{&Error{Kind: RuntimeError, Err: tengo.ErrStringLimit}, true},
		{&Error{Kind: RuntimeError, Err: tengo.ErrBytesLimit}, true},
		{fmt.Errorf("where: %w", callDepthError(64)), true},
		{fmt.Errorf("exit: %w", Fatal(errors.New("exit status 1"))), true},
	} {
		if got := IsFatal(tc.err); got != tc.fatal {
			t.Errorf("IsFatal(%v) = %v, want %v", tc.err, got, tc.fatal)
		}
	}
}

func TestTryScript(t *testing.T) {
	try := &Builtin{Name: "try", Kind: Func, Sig: "try(fn)", Doc: "d", Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
		ret, caught, err := env.Try(args[0], args[1:]...)
		if caught != nil {
			return &tengo.Error{Value: &tengo.String{Value: caught.Message()}}, nil
		}
		return ret, err
	}}
	h := newHarness(t, Options{Interactive: true, Builtins: []*Builtin{try}})
	for _, tc := range []struct{ src, want string }{
		{`try(func() { return 1 / 0 }).value`, "division by zero\n"},
		{`try(func(x) { return x * 2 }, 4)`, "8\n"},
		{`f := func(x) { return 1 / x }; [try(f, 0).value, f(1), [0, 1, 2] | where(func(x) { return !is_error(try(f, x)) }) | count]`,
			"[\"division by zero\", 1, 2]\n"},
	} {
		got, err := h.run(tc.src)
		if err != nil || got != tc.want {
			t.Errorf("%s\n got %q, %v\nwant %q", tc.src, got, err, tc.want)
		}
	}
	// Ctrl-C is not caught
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.s.Eval(ctx, "c.tengo", []byte(`try(func() { for {} })`))
	if e := asError(t, err); e.Kind != Interrupted {
		t.Errorf("cancelled: %v", err)
	}
}
