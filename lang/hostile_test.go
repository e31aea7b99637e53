package lang

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
)

// TestHostileScripts runs scripts that try to crash or hang the host. Each
// must end with a clear error within its deadline, and the session must go
// on working afterwards, as a REPL would.
func TestHostileScripts(t *testing.T) {
	// Scripts that loop forever get a short deadline; the others must end
	// on their own, well within a generous one. The generous one is only a
	// safety net: json-encoding 64 MiB took 14 s at a load of 19 on two
	// cores, so it is far above what any run needs on a quiet machine.
	const short, long = 200 * time.Millisecond, 2 * time.Minute
	h := newHarness(t, Options{Interactive: true})
	h.must(`text := import("text"); fmt := import("fmt"); json := import("json"); times := import("times"); rand := import("rand")`)
	for _, tc := range []struct {
		name string
		src  string
		kind ErrorKind
		msg  string
	}{
		{"division by zero", `1/0`, RuntimeError, "division by zero"},
		{"modulo by zero", `x := 0; 5 % x`, RuntimeError, "division by zero"},
		{"negative bytes", `bytes(-1)`, RuntimeError, "invalid size"},
		{"2 GiB bytes", `bytes(2*1024*1024*1024)`, RuntimeError, "exceeding bytes size limit"},
		{"negative repeat", `text.repeat("a", -1)`, RuntimeError, "negative Repeat count"},
		{"huge repeat", `text.repeat("a", 1<<40)`, RuntimeError, "exceeding string size limit"},
		{"overflowing repeat", `text.repeat("ab", 1<<62)`, RuntimeError, "Repeat"},
		{"bad base", `text.format_int(1, 99)`, RuntimeError, "illegal AppendInt/FormatInt base"},
		{"endless loop", `for {}`, TimedOut, "timed out"},
		{"endless loop in a predicate", `[1] | where(func(x) { for {} }) | count`, TimedOut, "timed out"},
		{"unbounded recursion", `f := func(n) { return 1 + f(n+1) }; f(0)`, RuntimeError, "stack overflow"},
		{"unbounded tail recursion", `g := func(n) { return g(n+1) }; g(0)`, TimedOut, "timed out"},
		{"recursion in a predicate", `r := func(n) { return 1 + r(n) }; [1] | where(r) | count`, RuntimeError, "stack overflow"},
		{"recursion through Go", `q := func(x) { return [x] | where(q) | count }; q(1)`, RuntimeError, "nested more than 64 deep"},
		{"a deep value's error value used", `x := []; for i := 0; i < 100000; i++ { x = [x] }; len(json.encode(x))`, RuntimeError, "found error (value is nested more than 64 levels deep"},
		{"string doubling", `s := "x"; for { s += s }`, RuntimeError, "exceeding string size limit"},
		{"string doubling in a predicate", `[1] | where(func(x) { s := "x"; for { s += s } }) | count`, RuntimeError, "exceeding string size limit"},
		{"huge range", `range(0, 1<<40)`, RuntimeError, "range: more than"},
		{"json of the biggest string", `json.encode(text.repeat("x", 64 * 1024 * 1024))`, RuntimeError, "exceeding bytes size limit"},
		{"range step zero", `range(0, 1, 0)`, RuntimeError, "range step must be greater than 0"},
		{"range of a float", `range(0, 1.5)`, RuntimeError, "invalid type for argument 'stop'"},
		{"range without stop", `range(0)`, RuntimeError, "wrong number of arguments"},
		{"overflowing range", `range(-1, 9223372036854775807)`, RuntimeError, "range: more than"},
		{"long sleep", `times.sleep(1000 * times.second)`, TimedOut, "timed out"},
		{"endless stream", `for x in fake_pins(1<<60) {}`, TimedOut, "timed out"},
		{"cyclic map printed", `m := {}; m.m = m; fmt.println(m)`, RuntimeError, "contain itself"},
		{"cyclic array string", `a := [0]; a[0] = a; string(a)`, RuntimeError, "contain itself"},
		{"cyclic copy", `c := [0]; c[0] = c; copy(c)`, RuntimeError, "contain itself"},
		{"cyclic sprintf", `d := {}; d.d = d; fmt.sprintf("%v", d)`, RuntimeError, "contain itself"},
		{"rand panic", `rand.intn(0)`, RuntimeError, "invalid argument to Int63n"},
		{"allocation limit", `x := []; for i := 0; i < 100000000; i++ { x = [i] }`, RuntimeError, "allocation limit"},
		{"panicking builtin", `go_panic()`, RuntimeError, "nil map"},
		{"deep brackets", strings.Repeat("(", 100000), CompileError, "nested more than"},
		{"deep unary", strings.Repeat("-", 100000) + "1", CompileError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "allocation limit" {
				// a fresh session with a small limit: the default is meant for big scripts
				h := newHarness(t, Options{Limits: Limits{MaxAllocs: 100000}})
				_, err := h.run(tc.src)
				if err == nil || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("got %v", err)
				}
				return
			}
			deadline := long
			if tc.kind == TimedOut {
				deadline = short
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			h.out.Reset()
			err := h.s.Eval(ctx, "hostile.tengo", []byte(tc.src))
			took := time.Since(start)
			if err == nil {
				t.Fatalf("no error (output %q)", h.out.String())
			}
			e := asError(t, err)
			if e.Kind != tc.kind || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %v: %v; want %v: %q", e.Kind, err, tc.kind, tc.msg)
			}
			if tc.kind == RuntimeError && !e.Pos.IsValid() {
				t.Errorf("no position: %v", err)
			}
			// Only a run that ignores its deadline takes this long; a
			// loaded machine stretches the others, but not to this.
			if took > deadline+30*time.Second {
				t.Errorf("took %v", took)
			}
			// The session goes on.
			if got, err := h.run(`1 + 1`); err != nil || got != "2\n" {
				t.Errorf("after %s: %q, %v", tc.name, got, err)
			}
			runtime.GC()
		})
	}
}

// TestHostileValues covers values that would recurse forever in Tengo's own
// printing: they print cut short, or encode to an error value.
func TestHostileValues(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`text := import("text"); json := import("json")`)
	for _, tc := range []struct{ src, want string }{
		{`e := {}; e.e = e; e`, "{e: {e: {e: "},
		{`f := {}; f.f = f; json.encode(f)`, `error("value is nested more than 64 levels deep`},
		{`json.decode(text.repeat("[", 100000))`, `error("json nested more than 250 deep at offset 250")`},
	} {
		if got := h.must(tc.src); !strings.Contains(got, tc.want) || len(got) > 1000 {
			t.Errorf("%s\n got %.200q\nwant %q", tc.src, got, tc.want)
		}
	}
}

// TestMemoryLimit doubles an array until the heap watchdog stops the run.
func TestMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few hundred MB")
	}
	h := newHarness(t, Options{Interactive: true, Limits: Limits{MaxHeap: 32 << 20}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := h.s.Eval(ctx, "m.tengo", []byte(`a := [1]; for { a = a + a }`))
	e := asError(t, err)
	if e.Kind != RuntimeError || !strings.Contains(e.Msg, "memory limit exceeded") || e.Pos.Line != 1 {
		t.Errorf("got %v (%v)", err, e.Kind)
	}
	// The limit is on growth during a run: the session still works while
	// a holds the big array, and works better once it is dropped.
	if got := h.must(`len(a) > 1000`); got != "true\n" {
		t.Errorf("after: %q", got)
	}
	h.must(`a = undefined`)
	runtime.GC()
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ctrlC := &Builtin{Name: "ctrl_c", Kind: Func, Call: func(*Env, []tengo.Object) (tengo.Object, error) {
		cancel()
		return nil, nil
	}}
	h := newHarness(t, Options{Builtins: []*Builtin{ctrlC}})
	err := h.s.Eval(ctx, "ctrl-c.tengo", []byte("x := 0\nctrl_c()\nfor { x++ }"))
	e := asError(t, err)
	if e.Kind != Interrupted || e.Msg != "interrupted" || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v (%v)", err, e.Kind)
	}
	if e.Pos.Line != 2 && e.Pos.Line != 3 { // at ctrl_c() or in the loop
		t.Errorf("interrupted at %v", e.Pos)
	}

	// Calls from Go between runs work again.
	h.must(`double := func(x) { return x * 2 }`)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	cancel = cancel2 // what ctrl_c() calls
	err = h.s.Eval(ctx2, "c.tengo", []byte(`[1, 2, 3] | where(func(x) { ctrl_c(); for {} }) | count`))
	if e := asError(t, err); e.Kind != Interrupted {
		t.Fatalf("got %v", err)
	}
	double, _ := h.s.Lookup("double")
	if v, err := h.s.Env().Invoke(double, num(21)); err != nil || v.(*tengo.Int).Value != 42 {
		t.Errorf("Invoke after an interrupted run: %v %v", v, err)
	}

	// A cause given by the caller is the message.
	ctx3, cancel3 := context.WithTimeoutCause(context.Background(), 20*time.Millisecond,
		errors.New("the script ran longer than --timeout 20ms"))
	defer cancel3()
	err = h.s.Eval(ctx3, "t.tengo", []byte(`[1, 2] | where(func(x) { for {} }) | count`))
	e = asError(t, err)
	if e.Kind != TimedOut || e.Msg != "the script ran longer than --timeout 20ms" {
		t.Errorf("got %v (%v)", err, e.Kind)
	}

	// An already cancelled context stops the run before it does anything.
	done, cancel4 := context.WithCancel(context.Background())
	cancel4()
	h.out.Reset()
	err = h.s.Eval(done, "t.tengo", []byte(`fmt := import("fmt"); fmt.println("ran")`))
	if e := asError(t, err); e.Kind != Interrupted {
		t.Errorf("got %v", err)
	}
	if h.out.Len() != 0 {
		t.Errorf("printed %q", h.out.String())
	}
	// ...and the session goes on.
	if got := h.must(`fmt := import("fmt"); fmt.println("ok")`); got != "ok\n" {
		t.Errorf("after: %q", got)
	}
}
