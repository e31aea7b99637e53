package lang

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

func TestREPLPersistence(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	steps := []struct{ src, want string }{
		{`x := 1`, ``},       // assignments print nothing
		{`x + 1`, "2\n"},     // a name from an earlier input
		{`x := "again"`, ``}, // := redefines an earlier global
		{`x`, "again\n"},     // strings print without quotes
		{`k := 3; f := func(n) { return n * k }`, ``}, // a function using a global
		{`f(2)`, "6\n"},
		{`k := 10; f(2)`, "20\n"},
		{`f := func(n) { return n < 1 ? 0 : n + f(n-1) }`, ``}, // redefined, recursive
		{`f(4)`, "10\n"},
		{`for i in [1, 2] { i }`, "1\n2\n"}, // statements in blocks print in the REPL
		{`func() { 5 }()`, ``},              // ...but not inside functions
		{`undefined`, ``},                   // undefined prints nothing
		{`m := {a: 1}; m.b = 2; m`, "{a: 1, b: 2}\n"},
		{`if true { y := 7 }; x`, "again\n"},
	}
	for _, st := range steps {
		if got := h.must(st.src); got != st.want {
			t.Errorf("%s\n got %q\nwant %q", st.src, got, st.want)
		}
	}
}

func TestScriptModePrintsOnlyStreams(t *testing.T) {
	h := newHarness(t, Options{Format: JSONL})
	got := h.must("1 + 1\n\"text\"\nfake_pins(2) | count\nfake_pins(2) | where({is_pin_set: true})\n")
	want := `{"identity":"sip:user0@litwareinc.com","display_name":"User 0","is_pin_set":true,"is_locked_out":true,` +
		`"locked_by":"admin","is_pin_expired":false,"last_pin_change_time":"2010-09-02T12:00:00Z","pin_expiration_time":null}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// A stream statement inside a function prints too.
	if got := h.must(`f := func() { [1, 2] | where(func(x) { return x > 1 }) }; f()`); got != "2\n" {
		t.Errorf("stream in a function printed %q", got)
	}
}

func TestFailedInputsLeaveSessionUsable(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`a := 1`)
	// A compile error defines nothing, even names before the error.
	if _, err := h.run("b := 2\nc := nosuch"); err == nil {
		t.Fatal("expected a compile error")
	}
	if _, err := h.run(`b`); err == nil || !strings.Contains(err.Error(), "unresolved reference 'b'") {
		t.Fatalf("b after a failed compile: %v", err)
	}
	// A runtime error keeps what ran; names defined after it read undefined.
	if _, err := h.run("d := 4\ne := 1 / 0\nf := 5"); err == nil {
		t.Fatal("expected a runtime error")
	}
	if got := h.must(`[a, d, is_undefined(e), is_undefined(f)]`); got != "[1, 4, true, true]\n" {
		t.Errorf("after runtime error: %q", got)
	}
	h.must(`b := 2`)
	if got := h.must(`a + b`); got != "3\n" {
		t.Errorf("a + b = %q", got)
	}
}

func TestBuiltinsAreReadOnly(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	for _, src := range []string{
		`count := 1`,
		`count = 1`,
		`f := func() { where = 2 }`,
		`args := []`,
		`range := 2`,
		`len := 2`,
	} {
		_, err := h.run(src)
		if err == nil {
			t.Errorf("%s: no error", src)
			continue
		}
		if e := asError(t, err); e.Kind != CompileError || !strings.Contains(e.Msg, "builtin") {
			t.Errorf("%s: %v (kind %v)", src, err, e.Kind)
		}
	}
	// Shadowing inside a function is an ordinary local.
	if got := h.must(`x := func() { count := 3; return count }(); x`); got != "3\n" {
		t.Errorf("got %q", got)
	}
}

func TestModules(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	for _, m := range allowedModules {
		h.must(m + `_ := import("` + m + `")`)
	}
	for _, src := range []string{`import("os")`, `x := import("./evil")`, `import("exec")`} {
		_, err := h.run(src)
		e := asError(t, err)
		if e.Kind != CompileError || !strings.Contains(e.Msg, "is not available in pinsh") ||
			e.Pos.Line != 1 {
			t.Errorf("%s: %v", src, err)
		}
	}
	got := h.must(`fmt := import("fmt"); fmt.println("a", 1, [2], undefined); fmt.printf("%d-%s\n", 3, "x"); fmt.sprintf("%05d", 42)`)
	if got != "a1[2]\n3-x\n00042\n" {
		t.Errorf("fmt: %q", got)
	}
	got = h.must(`enum := import("enum"); enum.map([1, 2], func(k, v) { return v * 2 })`)
	if got != "[2, 4]\n" {
		t.Errorf("enum: %q", got)
	}
	got = h.must(`json := import("json"); string(json.encode(fake_pins(1) | collect))`)
	if !strings.HasPrefix(got, `[{"identity":"sip:user0@litwareinc.com","display_name":"User 0",`) {
		t.Errorf("json.encode of records: %q", got)
	}
	got = h.must(`json.decode("{\"a\": [1, 2]}")`)
	if got != "{a: [1, 2]}\n" {
		t.Errorf("json.decode: %q", got)
	}
	got = h.must(`is_error(json.encode(fake_pins(1)))`)
	if got != "true\n" {
		t.Errorf("json.encode of a stream should be an error value: %q", got)
	}
}

func TestArgs(t *testing.T) {
	h := newHarness(t, Options{Interactive: true, Args: []string{"one", "two"}})
	if got := h.must(`args`); got != `["one", "two"]`+"\n" {
		t.Errorf("args = %q", got)
	}
	if got := h.must(`len(args)`); got != "2\n" {
		t.Errorf("len(args) = %q", got)
	}
}

func TestNewSessionRejectsBadBuiltins(t *testing.T) {
	run := func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	call := func(env *Env, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		b    []*Builtin
		want string
	}{
		{"bad name", []*Builtin{{Name: "lock-pin", Kind: Func, Call: call}}, "not an identifier"},
		{"empty name", []*Builtin{{Name: "", Kind: Func, Call: call}}, "not an identifier"},
		{"duplicate", []*Builtin{{Name: "x", Kind: Func, Call: call}, {Name: "x", Kind: Func, Call: call}}, "already defined"},
		{"tengo builtin", []*Builtin{{Name: "len", Kind: Func, Call: call}}, "already defined"},
		{"lang name", []*Builtin{{Name: "to_map", Kind: Func, Call: call}}, "already defined"},
		{"keyword", []*Builtin{{Name: "import", Kind: Func, Call: call}}, "keyword"},
		{"func with run", []*Builtin{{Name: "f", Kind: Func, Run: run}}, "sets Call"},
		{"stage with call", []*Builtin{{Name: "f", Kind: Stage, Call: call}}, "sets Run"},
		{"targets func", []*Builtin{{Name: "f", Kind: Source, Targets: true, Call: call}}, "Targets"},
		{"unknown kind", []*Builtin{{Name: "f", Kind: 9, Call: call}}, "unknown kind"},
		{"cmdlet not Verb-Noun", []*Builtin{{Name: "f", Kind: Func, Cmdlets: []string{"GetUser"}, Call: call}}, "not a Verb-Noun name"},
		{"cmdlet with a digit", []*Builtin{{Name: "f", Kind: Func, Cmdlets: []string{"Get-User2"}, Call: call}}, "not a Verb-Noun name"},
		{"cmdlet twice", []*Builtin{
			{Name: "f", Kind: Func, Cmdlets: []string{"Get-Thing"}, Call: call},
			{Name: "g", Kind: Func, Cmdlets: []string{"get-thing"}, Call: call},
		}, "cmdlet get-thing already stands for f"},
	} {
		_, err := NewSession(Options{Builtins: tc.b})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestIncomplete(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"", false},
		{"   \n", false},
		{"x := 1", false},
		{"x := [1, 2", true},
		{"f := func(p) {", true},
		{"f := func(p) {\n return p\n", true},
		{"g(1,", true},
		{"get_users() |", true},
		{"get_users() |\n  pin_info |", true},
		{"x := 1 +", true},
		{"a &&", true},
		{"x :=", true},
		{"s := `raw\nstring", true},
		{"/* comment", true},
		{`s := "unterminated`, false}, // a newline cannot end a quoted string
		{"x := )", false},
		{"if x { y }", false},
		{"x := 1 +\n2", false},
		{"1 +\n)", false},
		{"x := {a: 1, b:", true},
		{strings.Repeat("(", 300), false}, // too deep to ever parse
	} {
		if got := Incomplete([]byte(tc.src)); got != tc.want {
			t.Errorf("Incomplete(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

func TestNamesLookupFieldNames(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`mine := fake_pins(1) | collect; rec := mine[0]; t := import("text")`)
	names := h.s.Names()
	for _, want := range []string{"mine", "rec", "where", "count", "len", "range", "args", "to_map", "t"} {
		if !contains(names, want) {
			t.Errorf("Names() lacks %q", want)
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, ":") {
			t.Errorf("Names() has hidden name %q", n)
		}
	}
	rec, ok := h.s.Lookup("rec")
	if !ok {
		t.Fatal("Lookup(rec) failed")
	}
	if got := FieldNames(rec); !reflect.DeepEqual(got, pinSchema.Fields()) {
		t.Errorf("FieldNames(rec) = %v", got)
	}
	if _, ok := h.s.Lookup("nosuch"); ok {
		t.Error("Lookup(nosuch) succeeded")
	}
	if _, ok := h.s.Lookup(":pipe"); ok {
		t.Error("Lookup(:pipe) succeeded")
	}
	if v, ok := h.s.Lookup("len"); !ok || !v.CanCall() {
		t.Error("Lookup(len) failed")
	}
	tm, _ := h.s.Lookup("t")
	if got := FieldNames(tm); !contains(got, "repeat") || contains(got, "__module_name__") {
		t.Errorf("FieldNames(text module) = %v", got)
	}
	m := &tengo.Map{Value: map[string]tengo.Object{"b": num(1), "a": num(2)}}
	if got := FieldNames(m); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("FieldNames(map) = %v", got)
	}
	if FieldNames(num(1)) != nil {
		t.Error("FieldNames(int) not nil")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestEvalNotReentrant(t *testing.T) {
	var s *Session
	reenter := &Builtin{Name: "reenter", Kind: Func, Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
		return nil, s.Eval(context.Background(), "inner", []byte("1"))
	}}
	h := newHarness(t, Options{Builtins: []*Builtin{reenter}})
	s = h.s
	if _, err := h.run(`reenter()`); err == nil || !strings.Contains(err.Error(), "during a run") {
		t.Errorf("re-entrant Eval: %v", err)
	}
}

func TestLimitsOnSource(t *testing.T) {
	h := newHarness(t, Options{})
	for _, tc := range []struct{ src, want string }{
		{strings.Repeat("[", 300), "brackets nested more than 250 deep"},
		{"x := " + strings.Repeat("!", 2000) + "1", "expression nested more than 1000 levels deep"},
		{strings.Repeat(" ", maxSourceLen+1), "more than the limit"},
	} {
		_, err := h.run(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	// Deep but legal nesting still works.
	if _, err := h.run("x := " + strings.Repeat("[", 100) + strings.Repeat("]", 100)); err != nil {
		t.Error(err)
	}
}

func TestByCmdlet(t *testing.T) {
	call := func(env *Env, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	list := []*Builtin{
		{Name: "get_things", Kind: Func, Cmdlets: []string{"Get-Thing", "Get-Things"}, Call: call},
		{Name: "lock_thing", Kind: Func, Cmdlets: []string{"Lock-Thing"}, Call: call},
	}
	for _, tc := range []struct{ name, want string }{
		{"Get-Thing", "get_things"}, {"get-things", "get_things"}, {"LOCK-THING", "lock_thing"},
		{"Lock-Things", ""}, {"lock_thing", ""}, {"", ""},
	} {
		got := ""
		if b := ByCmdlet(list, tc.name); b != nil {
			got = b.Name
		}
		if got != tc.want {
			t.Errorf("ByCmdlet(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestUnresolvedHint checks what an unknown name's compile error adds: the
// builtin a PowerShell command stands for, the closest command or names, or
// nothing when nothing is close.
func TestUnresolvedHint(t *testing.T) {
	call := func(env *Env, args []tengo.Object) (tengo.Object, error) { return nil, nil }
	s, err := NewSession(Options{Builtins: []*Builtin{
		{Name: "get_things", Kind: Func, Cmdlets: []string{"Get-CsThing"}, Call: call},
		{Name: "lock_thing", Kind: Func, Cmdlets: []string{"Lock-CsThing"}, Call: call},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ src, want string }{
		{"get_thing()", "t:1:1: unresolved reference 'get_thing'; did you mean get_things?"},
		{"x := 1\ny := lock_thng", "t:2:6: unresolved reference 'lock_thng'; did you mean lock_thing?"},
		{"Get-CsThing", "t:1:1: unresolved reference 'Get'; Get-CsThing is a PowerShell command: pinsh's builtin for it is get_things (help(\"get_things\") shows how its form maps)"},
		{"get_things() | lock-csthing", "t:1:16: unresolved reference 'lock'; lock-csthing is a PowerShell command: pinsh's builtin for it is lock_thing (help(\"lock_thing\") shows how its form maps)"},
		{"Lock-CsThng", "t:1:1: unresolved reference 'Lock'; Lock-CsThng looks like a PowerShell command: did you mean Lock-CsThing (pinsh's lock_thing)?"},
		{"Get-Qqq", "t:1:1: unresolved reference 'Get'; Get-Qqq looks like a PowerShell command, which pinsh does not run: help() lists the builtins and the commands they stand for"},
		{"zzqq", "t:1:1: unresolved reference 'zzqq'"},
	} {
		err := s.Eval(context.Background(), "t", []byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestGlobalsGrow defines more globals than a session starts with, in one
// input and over several, and checks that values, closures made before the
// array grew, and call VMs (a script predicate called from Go) all see the
// same globals afterwards.
func TestGlobalsGrow(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	h.must(`k := 3; keep := func(x) { return x % k == 0 }`)
	if got := h.must(`[1, 2, 3, 6, 7] | where(keep) | count`); got != "2\n" {
		t.Fatalf("before growing: %q", got)
	}
	var src strings.Builder
	for i := range 3 * globalsFirst {
		fmt.Fprintf(&src, "g%d := %d\n", i, i)
	}
	h.must(src.String())
	if len(h.s.globals) < len(h.s.names) || len(h.s.globals) > globalsLen {
		t.Fatalf("%d globals for %d names", len(h.s.globals), len(h.s.names))
	}
	last := fmt.Sprintf("g%d", 3*globalsFirst-1)
	if got, want := h.must(`g0 + g1 + `+last), fmt.Sprintf("%d\n", 3*globalsFirst); got != want {
		t.Errorf("sum of globals = %q, want %q", got, want)
	}
	// One by one, each input growing the table by one.
	for i := range globalsFirst + 1 {
		h.must(fmt.Sprintf("h%d := %d", i, i))
	}
	h.must(`k := 2`) // the closure reads the global k, not a copy
	if got := h.must(`[1, 2, 3, 6, 7] | where(keep) | count`); got != "2\n" {
		t.Errorf("after growing, a closure from before: %q", got)
	}
	if got := h.must(fmt.Sprintf("h%d", globalsFirst)); got != fmt.Sprintf("%d\n", globalsFirst) {
		t.Errorf("last global: %q", got)
	}
}

// TestShowComparisonIsHidden: the comparison every expression statement
// becomes leaves no trace a script can see: each value prints as it did,
// and no shown value is kept afterwards.
func TestShowComparisonIsHidden(t *testing.T) {
	h := newHarness(t, Options{Interactive: true})
	for _, tc := range []struct{ src, want string }{
		{`1 == 1`, "true\n"},
		{`undefined`, ""},
		{`x := undefined; x`, ""},
		{`[undefined]`, "[<undefined>]\n"},
		{`func() { 1 }()`, ""},
		{`f := func() { return [1, 2] | where(func(x) { return x > 1 }) }; f()`, "2\n"},
		{`func() { [3] | where(func(x) { return true }) }()`, "3\n"},
	} {
		if got := h.must(tc.src); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.src, got, tc.want)
		}
	}
	if h.s.toShow != nil {
		t.Errorf("a shown value is still kept: %v", h.s.toShow)
	}
}
