package lang

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/token"
)

// edgeBuiltins misbehave in the ways a builtin author might.
func edgeBuiltins() []*Builtin {
	stage := func(name string, targets bool, run func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error)) *Builtin {
		return &Builtin{Name: name, Kind: Stage, Targets: targets, Run: run}
	}
	fn := func(name string, call func(env *Env, args []tengo.Object) (tengo.Object, error)) *Builtin {
		return &Builtin{Name: name, Kind: Func, Call: call}
	}
	return []*Builtin{
		stage("to_int", false, func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
			return num(1), nil
		}),
		stage("twice", true, func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
			return env.Batch(in, 0, func(_ context.Context, b []tengo.Object) ([]tengo.Object, error) {
				return []tengo.Object{b[0], b[0]}, nil
			}), nil
		}),
		stage("fail_later", true, func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
			return env.Map(in, func(context.Context, tengo.Object) (tengo.Object, error) {
				return nil, errors.New("lookup failed")
			}), nil
		}),
		stage("nothing", false, func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
			return nil, nil
		}),
		fn("wrong_args", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			return nil, tengo.ErrWrongNumArguments
		}),
		fn("prefixed", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			return nil, errors.New("prefixed: already named")
		}),
		fn("panic_error", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			panic(errors.New("a bug with an error value"))
		}),
		fn("nil_item", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			done := false
			return env.Iter(func(context.Context) (tengo.Object, bool, error) {
				if done {
					return nil, false, nil
				}
				done = true
				return nil, true, nil
			}), nil
		}),
		fn("chunks_fail", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			return env.Source(func(context.Context) ([]tengo.Object, error) {
				return nil, errors.New("chunk failed")
			}), nil
		}),
		fn("rows_then_fail", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			n, i := int(args[0].(*tengo.Int).Value), 0
			return env.Iter(func(context.Context) (tengo.Object, bool, error) {
				if i == n {
					return nil, false, errors.New("rows ran out")
				}
				i++
				return &tengo.Map{Value: map[string]tengo.Object{"i": num(i)}}, true, nil
			}), nil
		}),
		fn("forever", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			return env.Iter(func(context.Context) (tengo.Object, bool, error) { return num(1), true, nil }), nil
		}),
		fn("wide", func(env *Env, args []tengo.Object) (tengo.Object, error) {
			var fields []string
			var vals []tengo.Object
			for i := range 20 {
				fields = append(fields, fmt.Sprintf("f%02d", i))
				vals = append(vals, num(i))
			}
			return NewRecord(NewSchema("wide", fields...), vals, nil), nil
		}),
	}
}

func TestEdgeCases(t *testing.T) {
	h := newHarness(t, Options{Interactive: true, Builtins: edgeBuiltins()})
	h.must(`fmt := import("fmt"); times := import("times"); json := import("json"); r := (fake_pins(1) | collect)[0]`)
	for _, tc := range []struct{ src, want string }{
		// immutable values as inputs, predicates and records
		{`immutable([1, 2]) | where(immutable({})) | count`, "2\n"},
		{`where(immutable([{a: 1}, {a: 2}]), {a: 2}) | count`, "1\n"},
		{`[immutable({a: 1}), immutable({a: 2})] | where({a: 1}) | count`, "1\n"},
		{`pin_info(immutable({identity: "sip:i"})).identity`, "sip:i\n"},
		{`to_map(immutable({a: 1}))`, "{a: 1}\n"},
		{`[immutable({a: 1}), {a: 2}]`, "a\n-\n1\n2\n"},
		{`[{a: 1}, immutable({a: 2})]`, "a\n-\n1\n2\n"},
		// builtins and stages as values
		{`[where == where, where == count, copy(where) == where, string(count)]`, `[true, false, true, "<builtin count>"]` + "\n"},
		{`f := where({}); [f == f, f == where({}), copy(f) == f, string(f)]`, `[true, false, true, "<stage where({})>"]` + "\n"},
		{`s := fake_pins(1); [s == s, copy(s) == s, string(s), type_name(s)]`, `[true, true, "<stream>", "stream"]` + "\n"},
		// a single target that a stage turns into several records
		{`twice("sip:a")`, `["sip:a", "sip:a"]` + "\n"},
		{`is_undefined(nothing([1]))`, "true\n"},
		// Go callables as predicates
		{`[1] | where(fmt.println) | count`, "1\n0\n"},
		// a stream item that is nil reads as undefined
		{`nil_item() | count`, "1\n"},
		{`is_undefined((nil_item() | collect)[0])`, "true\n"},
		// records
		{`string(r)`, `{identity: "sip:user0@litwareinc.com", display_name: "User 0", is_pin_set: true, is_locked_out: true, locked_by: "admin", is_pin_expired: false, last_pin_change_time: 2010-09-02T12:00:00Z, pin_expiration_time: never}` + "\n"},
		{`!r`, "false\n"},
		{`w := wide(); [w.f00, w.f19]`, "[0, 19]\n"},
		{`[r]`, "identity                  is_pin_set  is_locked_out  pin_expiration_time\n--------                  ----------  -------------  -------------------\nsip:user0@litwareinc.com  true        true\n"},
		{`[[r.identity, r.last_pin_change_time]]`, `[["sip:user0@litwareinc.com", 2010-09-02T12:00:00Z]]` + "\n"},
		// literals and text of assorted values
		{`['c', bytes("b"), immutable([1]), error("e"), time(0) == time(0)]`, `['c', b, immutable([1]), error("e"), true]` + "\n"},
		{`fmt.print('c', bytes("b"), "\n")`, "cb\n"},
		{`string(json.encode({s: "q\"\\\n\r\t\x01", i: immutable([1]), m: immutable({k: 2}), e: error(error(1)), r: r.is_pin_set}))`,
			`{"e":{"error":{"error":1}},"i":[1],"m":{"k":2},"r":true,"s":"q\"\\\n\r\t\u0001"}` + "\n"},
		// modules
		{`fmt.printf("%s-%d\n", "a", 1)`, "a-1\n"},
		{`times.sleep(1); times.sleep(-5); 1`, "1\n"},
		{`range(0, 10, 3)`, "[0, 3, 6, 9]\n"},
		{`range(5, 2)`, "[5, 4, 3]\n"},
		// a step longer than the span gives [start], as in Tengo
		{`[range(1, 0, 2), range(5, 3, 3), range(-1, -2, 5), range(3, 3)]`, "[[1], [5], [-1], []]\n"},
		{`range(9223372036854775806, 9223372036854775807, 10)`, "[9223372036854775806]\n"},
		{`range(-9223372036854775807, -9223372036854775807-1, 4611686018427387904)`, "[-9223372036854775807]\n"},
		{`range(-9223372036854775807-1, 9223372036854775807, 4611686018427387904)`,
			"[-9223372036854775808, -4611686018427387904, 0, 4611686018427387904]\n"},
		{`range(9223372036854775807, -9223372036854775807-1, 9223372036854775807)`,
			"[9223372036854775807, 0, -9223372036854775807]\n"},
		{`json.decode(bytes("[1]"))`, "[1]\n"},
		{`is_error(json.decode(bytes(text_repeat)))`, "true\n"},
		// statements of every kind go through the rewriter
		{`if x := 2; x > 1 { "yes" } else { "no" }`, "yes\n"},
		{`if false { 1 } else if true { "elif" }`, "elif\n"},
		{`a := [1, 2, 3] | collect; a[1:] | count`, "2\n"},
		{`a[:2]`, "[1, 2]\n"},
		{`immutable([1, 2]) | count`, "2\n"},
		{`for i := 0; i < 2; fmt.print("") { i++ }`, ""},
		{`export 5`, ""},
		{`/* [[[[ */ x := "((((" // ((((` + "\n" + `x`, "((((\n"},
		{"y := `[[[[`; y", "[[[[\n"},
		{"z := 1 // [[[[", ""},
		{`[[immutable({a: 1})]]`, "[[{a: 1}]]\n"},
	} {
		src := strings.ReplaceAll(tc.src, "text_repeat", `"`+strings.Repeat("[", 300)+`"`)
		got, err := h.run(src)
		if err != nil {
			t.Errorf("%s\n error: %v", tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`f := to_int | count; [1] | f`, "cannot pipe int into count"},
		{`fail_later("sip:a")`, "fail_later: lookup failed"},
		{`[1] | fail_later | count`, "fail_later: lookup failed"},
		{`w := wide(); w.nosuch`, `wide record has no field "nosuch"; its fields are f00, f01,`},
		{`w := wide(); w.f1`, `wide record has no field "f1"; did you mean f01, f10 or f11?`},
		{`wrong_args()`, "wrong_args: wrong number of arguments"},
		{`prefixed()`, "prefixed: already named"},
		{`panic_error()`, "a bug with an error value"},
		{`[1] | where(go_panic) | count`, "assignment to entry in nil map"},
		{`chunks_fail() | count`, "chunks_fail: chunk failed"},
		{`fake_pins | count`, "fake_pins: missing argument n"},
		{`r + 1`, "invalid operation: pin_info + int"},
		{`r[0]`, "a pin_info record is indexed by a field name (a string), not int"},
		{`r[0] = 1`, "cannot assign to 0 of a pin_info record"},
		{`fmt.printf()`, "wrong number of arguments"},
		{`times.sleep()`, "wrong number of arguments"},
		{`times.sleep("x")`, "expected int, found string"},
		{`json.encode()`, "wrong number of arguments"},
		{`is_time()`, "wrong number of arguments"},
		{`to_map()`, "wrong number of arguments"},
		{`times.until()`, "wrong number of arguments"},
		{`rows_then_fail(2)`, "rows ran out"},
		{`rows_then_fail(70)`, "rows ran out"},
		{`len = 5`, "cannot assign to len: it is a builtin"},
		{`c := 1; c := 2`, "'c' redeclared in this block"},
		{"x := (1\ny := )\nz := ]", "found newline (and 1 more)"},
	} {
		_, err := h.run(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestEdgeCasesGoAPI(t *testing.T) {
	h := newHarness(t, Options{})
	env := h.s.Env()
	if ctx := env.Context(); ctx == nil || ctx.Err() != nil {
		t.Error("Context outside a run")
	}
	for k, want := range map[Kind]string{Func: "func", Source: "source", Stage: "stage", Sink: "sink", 7: "Kind(7)"} {
		if k.String() != want {
			t.Errorf("Kind %d: %q", k, k.String())
		}
	}
	if pinSchema.Name() != "pin_info" || pinRecord(0).Schema() != pinSchema {
		t.Error("Name/Schema")
	}
	if r := NewRecord(userSchema, []tengo.Object{nil, str("x"), nil}, nil); r.Get("identity") != tengo.UndefinedValue {
		t.Error("nil value in NewRecord")
	}
	long := strings.Repeat("x", 100)
	if d := describe(str(long)); len([]rune(d)) != 60 || !strings.HasSuffix(d, "…") {
		t.Errorf("describe(long) = %q", d)
	}
	if d := describe(NewRecord(summarySchema, []tengo.Object{num(1), num(2), num(3)}, nil)); d != "{changed: 1, skipped: 2, failed: 3}" {
		t.Errorf("describe(record without identity) = %q", d)
	}
	if cut("abc", 0) != "" || cut("abcdef", 4) != "abc…" || cut("ab", 4) != "ab" {
		t.Error("cut")
	}
	if text(&tengo.Char{Value: 'x'}) != "x" || cell(&tengo.Time{Value: testNow}) != "2010-09-02T12:00:00Z" ||
		literal(&tengo.Time{Value: testNow}, 0) != "2010-09-02T12:00:00Z" ||
		cell(&tengo.ImmutableArray{Value: []tengo.Object{num(1), &tengo.Array{}}}) != "[1, []]" {
		t.Error("text/cell/literal")
	}
	if b, err := appendJSON(nil, &tengo.Time{Value: testNow}, 0); err != nil || string(b) != `"2010-09-02T12:00:00Z"` {
		t.Errorf("json of tengo time: %s %v", b, err)
	}
	deep := tengo.Object(num(1))
	for range maxValueDepth + 2 {
		deep = &tengo.Error{Value: &tengo.ImmutableArray{Value: []tengo.Object{&tengo.ImmutableMap{Value: map[string]tengo.Object{"k": deep}}}}}
	}
	if checkDepth(deep, 0) == nil {
		t.Error("checkDepth of a deep value")
	}
	for _, v := range []tengo.Object{
		NewRecord(userSchema, []tengo.Object{deep, nil, nil}, nil),
		&tengo.Error{Value: deep},
		&tengo.Array{Value: []tengo.Object{deep}},
	} {
		if _, err := appendJSON(nil, v, 0); err == nil {
			t.Errorf("appendJSON of a deep %s", v.TypeName())
		}
	}
	if r, ok := Never().BinaryOp(token.Sub, num(5)); ok != nil || r != Never() {
		t.Error("never - int")
	}

	// errors built outside the usual paths
	if e := h.s.compileError(errors.New("odd")); e.Kind != CompileError || e.Msg != "odd" {
		t.Errorf("compileError fallback: %v", e)
	}
	if cause, ps := splitRunError(errors.New("Runtime Error: plain")); cause.Error() != "plain" || ps != nil {
		t.Errorf("splitRunError: %v %v", cause, ps)
	}
	if p, line := h.s.pos(0); p.IsValid() || p.String() != "" || line != "" {
		t.Errorf("position(NoPos) = %v", p)
	}
	if h.s.sourceLine("plain", 1) != "" || h.s.sourceLine("x\x00zz", 1) != "" || h.s.sourceLine("x\x0099", 1) != "" {
		t.Error("sourceLine of an unknown file")
	}
	h.must("a := 1")
	if h.s.sourceLine("test.tengo\x000", 5) != "" || h.s.sourceLine("test.tengo\x000", 1) != "a := 1" {
		t.Error("sourceLine past the end")
	}
	var err error
	func() {
		var bc *tengo.Bytecode
		defer recoverCompile("f.tengo", &bc, &err)
		panic("compiler bug")
	}()
	if e := asError(t, err); e.Msg != "internal compiler error: compiler bug" || e.Kind != CompileError {
		t.Errorf("recoverCompile: %v", err)
	}

	// a cancelled context noticed on an error path before the watchdog
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.s.ctx = ctx
	if st := h.s.stopped(); st == nil || st.kind != Interrupted {
		t.Errorf("stopped: %v", st)
	}
	h.s.ctx = nil
	if _, err := env.Invoke(&tengo.UserFunction{Value: func(...tengo.Object) (tengo.Object, error) { return nil, nil }}); err == nil {
		t.Error("Invoke of a Go function while stopped")
	}
	h.s.stop.Store(nil)

	// stream constructors' error paths
	bg := context.Background()
	fail := errors.New("upstream")
	bad := func() *Stream {
		return env.Iter(func(context.Context) (tengo.Object, bool, error) { return nil, false, fail })
	}
	for name, s := range map[string]*Stream{
		"batch":  env.Batch(bad(), 2, nil),
		"map":    env.Map(bad(), nil),
		"filter": env.Filter(bad(), nil),
		"batch f": env.Batch(env.Items([]tengo.Object{num(1)}), 1, func(context.Context, []tengo.Object) ([]tengo.Object, error) {
			return nil, fail
		}),
		"map f": env.Map(env.Items([]tengo.Object{num(1)}), func(context.Context, tengo.Object) (tengo.Object, error) {
			return nil, fail
		}),
	} {
		if _, _, err := s.Next(bg); err != fail {
			t.Errorf("%s: %v", name, err)
		}
	}
	if items, err := bad().Take(bg, 3); err != fail || len(items) != 0 {
		t.Error("Take of a failing stream")
	}
	if _, err := bad().Collect(bg); err != fail {
		t.Error("Collect of a failing stream")
	}
	it := env.Items(nil).Iterate()
	if it.TypeName() != "stream-iterator" || it.String() != "<stream-iterator>" {
		t.Error("stream iterator names")
	}
	rit := pinRecord(0).Iterate()
	if rit.TypeName() != "record-iterator" || rit.String() != "<record-iterator>" {
		t.Error("record iterator names")
	}

	// Eval with a nil context runs in the background.
	//lint:ignore SA1012 a nil context is documented to mean context.Background
	if err := h.s.Eval(nil, "nil.tengo", []byte("b := 2")); err != nil { //nolint:staticcheck
		t.Errorf("Eval(nil ctx): %v", err)
	}
}

func TestPrintEdges(t *testing.T) {
	// more rows than the lookahead, then another shape, in a narrow terminal
	h := newHarness(t, Options{Interactive: true, Width: 12})
	got := h.must(`a := []; for i := 0; i < 60; i++ { a = append(a, {k: i, v: "abcdefghijkl"}) }; a = append(a, {k: 1}, 7); a`)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2+60+1+3+1+1 || lines[0] != "k   v" || lines[2] != "0   abcdefg…" ||
		lines[61] != "59  abcdefg…" || lines[62] != "" || lines[63] != "k" || lines[67] != "7" {
		t.Errorf("got %d lines:\n%s", len(lines), got)
	}
	// a single record fitted to the terminal
	got = h.must(`(fake_pins(1) | collect)[0]`)
	if !strings.Contains(got, "identity             : sip:…\n") {
		t.Errorf("list at width 12:\n%s", got)
	}
	// a stream that fails after the lookahead
	if _, err := h.run(`bad_source(70) | each(func(x) {})`); err == nil || !strings.Contains(err.Error(), "the store went away") {
		t.Errorf("late stream error: %v", err)
	}
	// maps of one size with other keys start a new table
	if got := h.must(`[{a: 1}, {b: 2}]`); got != "a\n-\n1\n\nb\n-\n2\n" {
		t.Errorf("got %q", got)
	}
	// a terminal too narrow for the columns: the others shrink, the identity is never cut
	h.s.SetFormat(Table, 10)
	if got := h.must(`fake_pins(1)`); !strings.HasPrefix(got, "identity                  is_p…  is_l…  pin_…\n") {
		t.Errorf("width 10:\n%s", got)
	}
	// Session.Print of undefined prints nothing
	h.out.Reset()
	if err := h.s.Print(t.Context(), tengo.UndefinedValue); err != nil || h.out.Len() != 0 {
		t.Errorf("Print(undefined): %q %v", h.out.String(), err)
	}
	// output that cannot be written is an error, in every format
	for _, tc := range []struct {
		f   Format
		src string
	}{{Table, `fake_pins(20000)`}, {CSV, `fake_pins(20000)`}, {CSV, `["x"]`}, {Table, `1`}, {JSONL, `fake_pins(20000)`}} {
		s, err := NewSession(Options{Stdout: failWriter{}, Format: tc.f, Interactive: true, Builtins: new(world).builtins()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Eval(t.Context(), "w", []byte(tc.src)); err == nil || !strings.Contains(err.Error(), "write output: disk full") {
			t.Errorf("%v %s to a failing writer: %v", tc.f, tc.src, err)
		}
	}
	// an element JSON cannot hold
	h.s.SetFormat(JSONL, 0)
	if _, err := h.run(`[1, len]`); err == nil || !strings.Contains(err.Error(), "cannot encode builtin-function:len as JSON") {
		t.Errorf("jsonl of a function: %v", err)
	}
	// fmt output that cannot be written is an error
	s, err := NewSession(Options{Stdout: failWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Eval(t.Context(), "w", []byte(`fmt := import("fmt"); text := import("text"); fmt.print(text.repeat("x", 10000))`))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("fmt to a failing writer: %v", err)
	}
}

func TestTooMuchCode(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles 70000 constants")
	}
	h := newHarness(t, Options{})
	var b strings.Builder
	b.WriteString("x := [")
	for i := range 70000 {
		fmt.Fprintf(&b, "%d, ", i)
	}
	b.WriteString("0")
	b.WriteString("]")
	_, err := h.run(b.String())
	if err == nil || !strings.Contains(err.Error(), "more code than a VM can address") {
		t.Errorf("got %v", err)
	}
	if got := h.must(`fmt := import("fmt"); fmt.println("still here")`); got != "still here\n" {
		t.Errorf("after: %q", got)
	}
}

func TestSinkOnEndlessStreamTimesOut(t *testing.T) {
	h := newHarness(t, Options{Builtins: edgeBuiltins()})
	// a source that checks its context, and one that does not
	for _, src := range []string{
		`n := fake_pins(1<<60) | where({is_pin_set: true}) | count`,
		`n := forever() | where(func(x) { return x > 0 }) | count`,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := h.s.Eval(ctx, "e.tengo", []byte(src))
		cancel()
		if e := asError(t, err); e.Kind != TimedOut || e.Pos.Line != 1 {
			t.Errorf("%s: got %v", src, err)
		}
	}
}
