package lang

import (
	"strings"
	"testing"
)

// TestTailCalls: a call of the running function as the last statement runs
// in constant stack, as in Tengo, and what :show guarantees still holds.
func TestTailCalls(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"the issue's loop",
			`c := 0; iter := func(n, max) { if n == max { return }; c++; iter(n+1, max) }; iter(0, 9999); c`, "9999\n"},
		{"followed by a bare return",
			`m := func(n) { if n == 0 { return }; m(n-1); return }; m(50000); "done"`, "done\n"},
		{"last in an else branch",
			`k := func(n) { if n > 0 { k(n-1) } else { return } }; e := func(n) { if n == 0 { return } else { e(n-1) } }; e(50000); "done"`, "done\n"},
		{"a closure over its own variable",
			`mk := func() { t := 0; g := 0; g = func(n) { if n == 0 { return }; t++; g(n-1) }; g(20000); return t }; mk()`, "20000\n"},
		{"variadic, spread",
			`v := func(n, ...r) { if n == 0 { return len(r) }; v(n-1, r...) }; v(20000, 1, 2)`, "2\n"},
		// Tengo's optimisation returns the innermost call's value; a
		// stream that way reaches the caller, whose statement prints it.
		{"a stream from the innermost call is printed by the caller",
			`h := func(n) { if n == 0 { return fake_pins(2) }; h(n-1) }; h(3000)`, "sip:user0"},
		{"a stream returned to the caller is the caller's to use",
			`h := func(n) { if n == 0 { return fake_pins(3) }; h(n-1) }; h(3000) | count`, "3\n"},
		// Not the running function: shown as every statement is.
		{"another function's stream is printed",
			`g := func() { return fake_pins(1) }; f := func() { g() }; f(); "after"`, "sip:user0"},
		{"a builtin's stream is printed",
			`f := func() { fake_pins(1) }; f(); "after"`, "sip:user0"},
		{"a builtin bound to a local is printed",
			`f := func() { p := fake_pins; p(1) }; f(); "after"`, "sip:user0"},
		{"a function passed in is itself when it is the running one",
			`w := func(self, n) { if n == 0 { return "w" }; self(self, n-1) }; w(w, 20000)`, "w\n"},
		{"one call site, the running function and another, in turns",
			`site := func(fn, n) { if n <= 0 { return "end" }; fn(fn, n-1) }; other := func(f, n) { return fake_pins(1) }
			 site(other, 1); site(site, 20000); site(other, 1); site(site, 20000)`, "true\nend\nidentity"},
		{"a different closure of the same literal is not the running one",
			`mk := func(s) { return func(n) { if n == 0 { return fake_pins(s) }; return n } }; a := mk(1); b := mk(2)
			 call := func(f, n) { f(n) }; call(a, 0); "after"`, "sip:user0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{Interactive: true})
			got, err := h.run(tc.src)
			if err != nil {
				t.Fatalf("%s\nerror: %v", tc.src, err)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%s\ngot %q, want it to contain %q", tc.src, got, tc.want)
			}
		})
	}
}

// TestTailCallsInScripts: in a script (not interactive) only streams print;
// a tail call of another function returning a stream still prints it, and
// a recursion that is not in tail position still overflows, as in Tengo.
func TestTailCallsInScripts(t *testing.T) {
	h := newHarness(t, Options{})
	got, err := h.run("g := func() { return fake_pins(1) }\nf := func() { g() }\nf()")
	if err != nil || !strings.Contains(got, "sip:user0") {
		t.Errorf("another function's stream: %q, %v", got, err)
	}
	_, err = h.run("r := func(n) { if n == 0 { return }; r(n-1); x := 1 }\nr(50000)")
	if err == nil || !strings.Contains(err.Error(), "stack overflow") {
		t.Errorf("not a tail call: %v", err)
	}
	got, err = h.run("c := 0; iter := func(n, max) { if n == max { return }; c++; iter(n+1, max) }; iter(0, 9999); fmt := import(\"fmt\"); fmt.println(c)")
	if err != nil || got != "9999\n" {
		t.Errorf("script loop: %q, %v", got, err)
	}
}
