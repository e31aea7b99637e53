package lang

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func TestPipeForms(t *testing.T) {
	h := newHarness(t, Options{Interactive: true, Format: JSONL})
	for _, tc := range []struct{ src, want string }{
		// int | int is still bitwise OR, and binds like +.
		{`5 | 2`, "7\n"},
		{`x := 1; x |= 4; x`, "5\n"},
		{`1 | 2 == 3`, "true\n"},
		{`1 + 2 | 4`, "7\n"},
		// a stream or array into stages
		{`fake_pins(10) | where({is_pin_set: true}) | count`, "5\n"},
		{`[1, 2, 3, 4] | where(func(x) { return x % 2 == 0 }) | count`, "2\n"},
		{`count(fake_pins(4))`, "4\n"},
		{`where([1, 2, 3], func(x) { return x > 1 }) | count`, "2\n"},
		{`fake_pins(10) | where(func(p) { return p.is_pin_set }) | first(2) | count`, "2\n"},
		// | binds tighter than == and &&
		{`fake_pins(10) | count == 10 && true`, "true\n"},
		// a source used bare
		{`get_users | count`, "4\n"},
		// bound stages and compositions are values
		{`f := where({is_pin_set: true}) | count; fake_pins(6) | f`, "3\n"},
		{`g := where({is_pin_set: true}); h := g | first(1); fake_pins(9) | h | count`, "1\n"},
		{`f(fake_pins(8))`, "4\n"},
		{`type_name(f)`, "\"stage\"\n"},
		{`type_name(count)`, "\"builtin-function:count\"\n"},
		{`ok := where(fake_pins(2), func(p) { return true }); type_name(ok)`, "\"stream\"\n"},
		// a stage given a stage composes, so a builtin with no input is a stage
		{`c := count(); [1, 2] | c`, "2\n"},
		// targets: a string or an identity-carrying value is one target
		{`pin_info("sip:ken@x.com").identity`, "\"sip:ken@x.com\"\n"},
		{`("sip:ken@x.com" | pin_info).identity`, "\"sip:ken@x.com\"\n"},
		{`pin_info({identity: "sip:a@x"}).identity`, "\"sip:a@x\"\n"},
		{`((get_users() | first(1) | collect)[0] | pin_info).identity`, "\"sip:kenmyer@litwareinc.com\"\n"},
		{`pin_info(["sip:a", "sip:b"]) | count`, "2\n"},
		{`get_users() | pin_info | count`, "4\n"},
		{`is_undefined(pin_info("nobody"))`, "true\n"},
		{`p := get_users() | first(1) | collect; (p[0] | pin_info).identity`, "\"sip:kenmyer@litwareinc.com\"\n"},
		// a sink on one target, and options that are not targets
		{`lock_pin("sip:a")`, `{"changed":1,"skipped":0,"failed":0}` + "\n"},
		{`type_name(lock_pin({whatif: true}))`, "\"stage\"\n"},
		{`["sip:a", "sip:b"] | lock_pin({whatif: true})`,
			"What if: Performing the operation \"lock_pin\" on target \"sip:a\".\n" +
				"What if: Performing the operation \"lock_pin\" on target \"sip:b\".\n" +
				`{"changed":0,"skipped":2,"failed":0}` + "\n"},
		{`get_users() | pin_info | where({is_pin_set: true}) | lock_pin`, `{"changed":3,"skipped":0,"failed":0}` + "\n"},
		// a stage may pass its input on as its output
		{`fake_pins(3) | noop | count`, "3\n"},
		{`noop("sip:a")`, "\"sip:a\"\n"},
		{`fake_pins(1) | noop | first(1) | noop`, `{"identity":"sip:user0@litwareinc.com","display_name":"User 0","is_pin_set":true,"is_locked_out":true,"locked_by":"admin","is_pin_expired":false,"last_pin_change_time":"2010-09-02T12:00:00Z","pin_expiration_time":null}` + "\n"},
		// records and maps from arrays
		{`[{a: 1}, {a: 2}, {b: 3}] | where({a: 2}) | count`, "1\n"},
		{`[{a: 1}, {b: 3}] | where(func(m) { return is_undefined(m.a) }) | count`, "1\n"},
		{`fake_pins(6) | where({locked_by: "admin"}) | count`, "2\n"},
		{`fake_pins(6) | where({is_pin_set: true}) | where(func(p) { return is_undefined(p.locked_by) }) | count`, "2\n"},
		{`[1, "a"] | where({a: 1}) | count`, "0\n"},
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

func TestPipeErrors(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	for _, tc := range []struct{ src, want string }{
		{`"a" | 1`, "invalid operation: string | int"},
		{`fake_pins(2) | 1`, "the right side of | must be a stage"},
		{`fake_pins(2) | func(x) { return x }`, "the right side of | must be a stage"},
		{`3 | count`, "cannot pipe int into count: it takes a stream or an array"},
		{`"x" | where(func(p) { return p })`, "cannot pipe string into where"},
		{`{a: 1} | pin_info`, "cannot pipe map into pin_info: it takes a stream, an array, an identity"},
		{`count | where({})`, "count is a sink: it ends a pipeline"},
		{`fake_pins(2) | count | count`, "cannot pipe int into count"},
		{`f := where({}); f(1)`, "cannot pipe int into where"},
		{`f := where({}); f(1, 2)`, "takes one input"},
		{`fake_pins(2) | where(5) | count`, "where: a predicate is a function or a map"},
		{`fake_pins(2) | where() | count`, "where: want one predicate"},
		{`fake_pins()`, "fake_pins: missing argument n"},
		{`boom()`, "boom: it went boom"},
		{`lock_pin([1], 3)`, "lock_pin: options must be a map, not int"},
		{`for x in bad_source(2) { }`, "the store went away"},
		{`bad_source(1) | count`, "bad_source: the store went away"},
		{`r := (fake_pins(1) | collect)[0]; r.identity = "x"`, "cannot assign to identity of a pin_info record"},
	} {
		_, err := h.run(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %q", tc.src, err, tc.want)
		}
	}
}

func TestStreamsAreLazy(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`n := 0; for p in fake_pins(100000) { n++; if n == 10 { break } }`)
	if h.w.pulls != 1 || h.w.records != 1024 {
		t.Errorf("a for loop breaking after 10 pulled %d chunks, %d records", h.w.pulls, h.w.records)
	}
	h.w.pulls, h.w.records = 0, 0
	h.must(`x := fake_pins(100000) | where({is_pin_set: true}) | first(3) | count`)
	if h.w.pulls != 1 {
		t.Errorf("first(3) pulled %d chunks", h.w.pulls)
	}
	// Nothing is read until a consumer asks.
	h.w.pulls = 0
	h.must(`s := fake_pins(10) | where({is_pin_set: true})`)
	if h.w.pulls != 0 {
		t.Errorf("building a pipeline pulled %d chunks", h.w.pulls)
	}
	// each() runs only for the items pulled through it.
	h.must(`y := fake_pins(1000) | each(func(p) {}) | first(5) | count`)
	if h.w.invoked != 5 {
		t.Errorf("each ran %d times for first(5)", h.w.invoked)
	}
	// The whole stream is read when counted.
	h.w.pulls, h.w.records = 0, 0
	if got := h.must(`fake_pins(5000) | count`); got != "5000\n" || h.w.pulls != 6 {
		t.Errorf("count: %q after %d pulls", got, h.w.pulls)
	}
}

func TestStreamsAreSinglePass(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`s := fake_pins(3)`)
	if got := h.must(`s | count`); got != "3\n" {
		t.Fatalf("first use: %q", got)
	}
	for _, src := range []string{`s | count`, `for x in s {}`, `s`, `pin_info(s)`} {
		_, err := h.run(src)
		if err == nil || !strings.Contains(err.Error(), "already used by count") ||
			!strings.Contains(err.Error(), "collect()") {
			t.Errorf("%s: %v", src, err)
		}
	}
	// A collected stream is an array: reusable.
	h.must(`a := fake_pins(3) | collect`)
	if got := h.must(`[a | count, a | count]`); got != "[3, 3]\n" {
		t.Errorf("collected: %q", got)
	}
	// Two pipelines cannot share a stream.
	if _, err := h.run(`t := fake_pins(3); u := t | where({}); v := t | count`); err == nil ||
		!strings.Contains(err.Error(), "already used by where") {
		t.Errorf("shared stream: %v", err)
	}
}

func TestForInStream(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	got := h.must(`out := []; for i, p in fake_pins(3) { out = append(out, [i, p.identity]) }; out`)
	want := `[[0, "sip:user0@litwareinc.com"], [1, "sip:user1@litwareinc.com"], [2, "sip:user2@litwareinc.com"]]` + "\n"
	if got != want {
		t.Errorf("got %q", got)
	}
	// inside a function called from Go
	got = h.must(`[1, 2] | where(func(x) { n := 0; for p in fake_pins(x) { n++ }; return n == 2 }) | count`)
	if got != "1\n" {
		t.Errorf("nested loop: %q", got)
	}
}

func TestRecords(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`r := (fake_pins(1) | collect)[0]`)
	for _, tc := range []struct{ src, want string }{
		{`r.identity`, "sip:user0@litwareinc.com\n"},
		{`r["display_name"]`, "User 0\n"},
		{`type_name(r)`, "pin_info\n"},
		{`r == (fake_pins(1) | collect)[0]`, "true\n"},
		{`r == (fake_pins(2) | collect)[1]`, "false\n"},
		{`r == to_map(r)`, "false\n"},
		{`keys := []; for k, v in r { keys = append(keys, k) }; len(keys)`, "8\n"},
		{`m := to_map(r); m.identity = "x"; [m.identity, r.identity]`, `["x", "sip:user0@litwareinc.com"]` + "\n"},
		{`to_map({a: 1})`, "{a: 1}\n"},
		{`copy(r) == r`, "true\n"},
		{`string({k: r.is_pin_set})`, "{k: true}\n"},
	} {
		if got := h.must(tc.src); got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.src, got, tc.want)
		}
	}
	if _, err := h.run(`to_map(1)`); err == nil || !strings.Contains(err.Error(), "expected record or map") {
		t.Errorf("to_map(1): %v", err)
	}
	rec := pinRecord(7)
	if rec.Payload() != 7 || rec.Get("identity").(*tengo.String).Value != "sip:user7@litwareinc.com" ||
		rec.Value(pinSchema.Index("is_pin_set")) != tengo.FalseValue || pinSchema.Index("x") != -1 {
		t.Error("record accessors")
	}
}

func TestSchemaPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"dup":     func() { NewSchema("x", "a", "a") },
		"empty":   func() { NewSchema("x", "") },
		"column":  func() { NewSchema("x", "a").Columns("b") },
		"nvalues": func() { NewRecord(NewSchema("x", "a"), nil, nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestStreamGoAPI(t *testing.T) {
	h := newHarness(t, Options{})
	env := h.s.Env()
	ctx := context.Background()
	s := env.Batch(env.Items([]tengo.Object{num(1), num(2), num(3), num(4), num(5)}), 2,
		func(_ context.Context, batch []tengo.Object) ([]tengo.Object, error) {
			if batch[0].(*tengo.Int).Value == 3 {
				return nil, nil // a batch may yield nothing
			}
			return []tengo.Object{num(len(batch))}, nil
		})
	got, err := s.Take(ctx, 10)
	if err != nil || len(got) != 2 || got[0].(*tengo.Int).Value != 2 || got[1].(*tengo.Int).Value != 1 {
		t.Errorf("Batch: %v %v", got, err)
	}
	if _, ok, err := s.Next(ctx); ok || err != nil {
		t.Error("Next after the end")
	}
	boom := errors.New("boom")
	calls := 0
	failing := env.Iter(func(context.Context) (tengo.Object, bool, error) { calls++; return nil, false, boom })
	for range 2 {
		if _, ok, err := failing.Next(ctx); ok || err != boom {
			t.Errorf("failed stream: %v %v", ok, err)
		}
	}
	if calls != 1 {
		t.Errorf("a failed stream pulled %d times", calls)
	}
	if items, err := env.Items([]tengo.Object{num(1), num(2)}).Take(ctx, 5); len(items) != 2 || err != nil {
		t.Errorf("Take past the end: %v %v", items, err)
	}
	m := env.Map(env.Items([]tengo.Object{num(1)}), func(context.Context, tengo.Object) (tengo.Object, error) { return nil, nil })
	if v, ok, _ := m.Next(ctx); !ok || v != tengo.UndefinedValue {
		t.Errorf("Map returning nil: %v", v)
	}
	if _, err := env.Input(num(1)); err == nil {
		t.Error("Input(int) succeeded")
	}
	if in, err := env.Input(&tengo.ImmutableArray{Value: []tengo.Object{num(1)}}); err != nil || in == nil {
		t.Error("Input(immutable array)")
	}
	in, err := env.Input(&tengo.Array{Value: []tengo.Object{num(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := in.Collect(ctx); len(items) != 1 {
		t.Error("Input(array)")
	}
	src := env.Items(nil)
	if _, err := env.Input(src); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Input(src); err == nil {
		t.Error("Input claimed a stream twice")
	}
}
