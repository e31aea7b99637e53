package lang

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
)

func TestErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		kind   ErrorKind
		pos    string // FILE:LINE:COL
		msg    string // contained in Msg
		item   string
		trace  []string
		detail string // exact Detail, when given
	}{
		{
			name: "syntax", src: "x := 1\ny := (2 +\n", kind: CompileError, pos: "s.tengo:2:11",
			msg: "expected operand, found 'EOF'",
		},
		{
			name: "unresolved", src: "x := 1\ny := x + zz", kind: CompileError, pos: "s.tengo:2:10",
			msg:    "unresolved reference 'zz'",
			detail: "s.tengo:2:10: unresolved reference 'zz'\n    y := x + zz\n             ^\n",
		},
		{
			name: "runtime top level", src: "a := 1\nb := a + \"s\" < 2", kind: RuntimeError, pos: "s.tengo:2:6",
			msg:    "invalid operation: int + string",
			detail: "s.tengo:2:6: invalid operation: int + string\n    b := a + \"s\" < 2\n         ^\n",
		},
		{
			name: "nested script calls", kind: RuntimeError, pos: "s.tengo:2:14",
			src:   "f := func(x) {\n\treturn x.y.z + 1\n}\ng := func() { return f({}) }\ng()",
			msg:   "invalid operation: undefined + int",
			trace: []string{"s.tengo:4:22", "s.tengo:5:1"},
			detail: "s.tengo:2:9: invalid operation: undefined + int\n" +
				"    \treturn x.y.z + 1\n    \t       ^\n" +
				"    called from s.tengo:4:22\n    called from s.tengo:5:1\n",
		},
		{
			name: "inside a predicate", kind: RuntimeError, pos: "s.tengo:2:49",
			src:   "p := fake_pins(5)\nn := p | where(func(r) { return r.is_pin_set && r.display_name < 3 }) | count",
			msg:   "invalid operation: string < int",
			item:  "sip:user0@litwareinc.com",
			trace: []string{"s.tengo:2:71"},
		},
		{
			name: "stream error in a for loop", kind: RuntimeError, pos: "s.tengo:2:1",
			src: "n := 0\nfor x in bad_source(3) {\n  n += x\n}", msg: "the store went away",
		},
		{
			name: "builtin error", kind: RuntimeError, pos: "s.tengo:1:9",
			src: "x := 1; boom()", msg: "boom: it went boom",
		},
		{
			name: "division by zero", kind: RuntimeError, pos: "s.tengo:2:6",
			src: "z := 0\nq := 1 / z", msg: "division by zero",
		},
		{
			name: "division by zero in a predicate", kind: RuntimeError, pos: "s.tengo:1:30",
			src: "[1] | where(func(x) { return x / 0 }) | count", msg: "division by zero", item: "1",
			trace: []string{"s.tengo:1:39"},
		},
		{
			name: "panicking builtin", kind: RuntimeError, pos: "s.tengo:2:1",
			src: "x := 1\ngo_panic()", msg: "assignment to entry in nil map",
		},
		{
			name: "| between values: at the left operand, as in Tengo", kind: RuntimeError, pos: "s.tengo:2:6",
			src: "x := 1\ny := (x + 1) | \"a\"", msg: "invalid operation: int | string",
		},
		{
			name: "|= between values", kind: RuntimeError, pos: "s.tengo:2:3",
			src: "x := 1\n  x |= 1.5", msg: "invalid operation: int | float",
		},
		{
			name: "| in a function", kind: RuntimeError, pos: "s.tengo:1:28", trace: []string{"s.tengo:1:44"},
			src: "f := func(a) { return 1 + (a | {}) }; y := f(2)", msg: "invalid operation: int | map",
		},
		{
			name: "| to a value that is not a stage: at the operator", kind: RuntimeError, pos: "s.tengo:2:9",
			src: "x := [1]\ny := x  | 5", msg: "the right side of | must be a stage",
		},
		{
			name: "wrong arity from Go", kind: RuntimeError, pos: "s.tengo:1:33",
			src: "[1] | where(func(a, b) { return a }) | count", msg: "wrong number of arguments: want=2, got=1",
			item: "1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			err := h.s.Eval(context.Background(), "s.tengo", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			e := asError(t, err)
			if e.Kind != tc.kind {
				t.Errorf("kind %v, want %v", e.Kind, tc.kind)
			}
			if !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("msg %q, want %q", e.Msg, tc.msg)
			}
			if tc.pos != "" && e.Pos.String() != tc.pos && tc.detail == "" {
				t.Errorf("pos %s, want %s", e.Pos, tc.pos)
			}
			if e.Item != tc.item {
				t.Errorf("item %q, want %q", e.Item, tc.item)
			}
			if tc.trace != nil {
				var got []string
				for _, p := range e.Trace {
					got = append(got, p.String())
				}
				if strings.Join(got, " ") != strings.Join(tc.trace, " ") {
					t.Errorf("trace %v, want %v", got, tc.trace)
				}
			}
			if tc.detail != "" && e.Detail() != tc.detail {
				t.Errorf("detail\n%s\nwant\n%s", e.Detail(), tc.detail)
			}
			if strings.Contains(err.Error(), "Runtime Error") || strings.Contains(err.Error(), "Compile Error") {
				t.Errorf("Tengo's prefix leaked: %q", err.Error())
			}
			if strings.Count(err.Error(), "s.tengo:") != 1 {
				t.Errorf("position repeated: %q", err.Error())
			}
			if e.Line == "" {
				t.Error("no source line")
			}
		})
	}
}

func TestErrorLineOfEarlierInput(t *testing.T) {
	// REPL inputs all named <stdin>: an error in a function defined by an
	// earlier input shows that input's line.
	h := newHarness(t, Options{Interactive: true})
	run := func(src string) error { return h.s.Eval(context.Background(), "<stdin>", []byte(src)) }
	if err := run("f := func(x) {\n  return x.a.b + 1\n}"); err != nil {
		t.Fatal(err)
	}
	if err := run("y := 2"); err != nil {
		t.Fatal(err)
	}
	e := asError(t, run("z := 0\nf(1)"))
	if e.Pos.String() != "<stdin>:2:12" || e.Line != "  return x.a.b + 1" {
		t.Errorf("got %s %q", e.Pos, e.Line)
	}
	if len(e.Trace) != 1 || e.Trace[0].String() != "<stdin>:2:1" {
		t.Errorf("trace %v", e.Trace)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Msg: "bare"}
	if e.Error() != "bare" || e.Detail() != "bare\n" {
		t.Errorf("no position: %q %q", e.Error(), e.Detail())
	}
	e = &Error{Pos: Position{File: "f"}, Msg: "m", Item: "sip:x", Err: errors.New("cause")}
	if e.Error() != "f: m (processing sip:x)" || errors.Unwrap(e).Error() != "cause" {
		t.Errorf("got %q", e.Error())
	}
	for k, want := range map[ErrorKind]string{RuntimeError: "runtime error", CompileError: "compile error",
		Interrupted: "interrupted", TimedOut: "timed out", 9: "ErrorKind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", k, k.String())
		}
	}
}

func TestParsePos(t *testing.T) {
	for _, tc := range []struct {
		in        string
		name      string
		line, col int
		ok        bool
	}{
		{"a:b.tengo\x003:4:5", "a:b.tengo\x003", 4, 5, true},
		{"-", "", 0, 0, false},
		{"f:x:1", "", 0, 0, false},
		{"f:1:x", "", 0, 0, false},
		{"1:2", "", 0, 0, false},
	} {
		name, line, col, ok := parsePos(tc.in)
		if name != tc.name || line != tc.line || col != tc.col || ok != tc.ok {
			t.Errorf("parsePos(%q) = %q %d %d %v", tc.in, name, line, col, ok)
		}
	}
}

// TestVMPositionsLayout pins the unexported fields of tengo.VM that
// vmPositions reads; if a tengo upgrade changes them, errors from panics and
// aborts would silently lose their positions.
func TestVMPositionsLayout(t *testing.T) {
	vm := reflect.TypeOf(tengo.VM{})
	field := func(typ reflect.Type, name string, kind reflect.Kind) reflect.Type {
		t.Helper()
		f, ok := typ.FieldByName(name)
		if !ok || f.Type.Kind() != kind {
			t.Fatalf("tengo: %s.%s is not a %v", typ.Name(), name, kind)
		}
		return f.Type
	}
	field(vm, "ip", reflect.Int)
	field(vm, "framesIndex", reflect.Int)
	frame := field(vm, "frames", reflect.Array).Elem()
	field(frame, "ip", reflect.Int)
	if fn := field(frame, "fn", reflect.Pointer); fn != reflect.TypeOf(&tengo.CompiledFunction{}) {
		t.Fatalf("tengo: frame.fn is %v", fn)
	}
	if sm := reflect.TypeOf(tengo.CompiledFunction{}.SourceMap); sm != reflect.TypeOf(map[int]parser.Pos{}) {
		t.Fatalf("tengo: SourceMap is %v", sm)
	}
	// and it works: a panic deep in nested frames reports every frame
	h := newHarness(t, Options{})
	err := h.s.Eval(t.Context(), "p.tengo", []byte("f := func(x) {\n  return 1 / x\n}\ng := func() { return f(0) }\ng()"))
	e := asError(t, err)
	if e.Pos.String() != "p.tengo:2:10" || len(e.Trace) != 2 || e.Trace[0].String() != "p.tengo:4:22" {
		t.Errorf("got %s %v", e.Pos, e.Trace)
	}
}

func TestDetailCollapsesRepeatedCalls(t *testing.T) {
	at := func(line int) Position { return Position{File: "f", Line: line, Col: 2} }
	e := &Error{Pos: at(1), Msg: "m", Trace: []Position{at(2), at(2), at(3), at(2), at(4), at(4), at(4)}}
	want := "f:1:2: m\n" +
		"    called from f:2:2 (2 times)\n" +
		"    called from f:3:2\n" +
		"    called from f:2:2\n" +
		"    called from f:4:2 (3 times)\n"
	if got := e.Detail(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for n, want := range map[int]string{1: "1", 999: "999", 1000: "1,000", 1021: "1,021", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}

	// Unbounded recursion: one line for the ~1,000 frames of the recursive call.
	h := newHarness(t, Options{})
	err := h.s.Eval(context.Background(), "-c", []byte(`f := func(n) { return 1 + f(n+1) }; f(0)`))
	d := asError(t, err).Detail()
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if len(lines) != 5 || !strings.Contains(d, "stack overflow") ||
		!regexp.MustCompile(`called from -c:1:27 \([1-9][0-9,]* times\)\n    called from -c:1:37\n$`).MatchString(d) {
		t.Errorf("detail:\n%s", d)
	}
}
