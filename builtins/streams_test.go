package builtins

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/lang"
)

// streamFixture is a lang session with the stream builtins and a few
// test-only builtins:
//
//	numbers(n[, chunk])  a source of 1..n read in chunks (default 10)
//	pulled()             how many items numbers has handed out so far
//	pins()               a stream of pin-info-like records (see pinRows)
//	payload(r)           the hidden payload of a record, as a string
type streamFixture struct {
	s       *lang.Session
	out     bytes.Buffer
	pulled  int64
	schemas *streamCache[*lang.Schema]
	regexps *streamCache[*regexp.Regexp]
}

var pinSchema = lang.NewSchema("pin_info", "identity", "display_name", "is_pin_set", "attempts", "expires", "builtins")

// pinRows are the records of pins(): identity, display name, PIN set,
// attempts (an int or a float), expiry (a time, never or undefined),
// builtins.
func pinRows() []tengo.Object {
	at := func(day int) tengo.Object {
		return lang.NewTime(time.Date(2010, 9, day, 12, 0, 0, 0, time.UTC))
	}
	str := func(s string) tengo.Object { return &tengo.String{Value: s} }
	arr := func(ss ...string) tengo.Object {
		a := &tengo.Array{}
		for _, s := range ss {
			a.Value = append(a.Value, str(s))
		}
		return a
	}
	rows := [][]tengo.Object{
		{str("sip:kenmyer@litwareinc.com"), str("Ken Myer"), tengo.TrueValue, &tengo.Int{Value: 2}, at(30), arr("lock_pin")},
		{str("sip:pilar@litwareinc.com"), str("Pilar Ackerman"), tengo.TrueValue, &tengo.Float{Value: 1.5}, lang.Never(), arr()},
		{str("sip:davidlongmuir@litwareinc.com"), str("David Longmuir"), tengo.TrueValue, &tengo.Int{Value: 0}, at(1), arr("lock_pin", "unlock_pin")},
		{str("sip:aidan@litwareinc.com"), str("Aidan Delaney"), tengo.FalseValue, nil, nil, arr()},
		{str("sip:tonysmith@litwareinc.com"), str("Tony Smith"), tengo.TrueValue, &tengo.Int{Value: 5}, at(15), arr("unlock_pin")},
	}
	out := make([]tengo.Object, len(rows))
	for i, r := range rows {
		out[i] = lang.NewRecord(pinSchema, r, fmt.Sprintf("key-%d", i))
	}
	return out
}

func newStreamFixture(t testing.TB) *streamFixture {
	t.Helper()
	f := &streamFixture{
		schemas: newStreamCache[*lang.Schema](maxSelectSchemas),
		regexps: newStreamCache[*regexp.Regexp](maxRegexps),
	}
	table := streamTable(f.schemas, f.regexps)
	table = append(table,
		lang.Builtin{
			Name: "numbers", Kind: lang.Source, Sig: "numbers(n[, chunk])",
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				n, chunk := int64(args[0].(*tengo.Int).Value), int64(10)
				if len(args) > 1 {
					chunk = args[1].(*tengo.Int).Value
				}
				var next int64 = 1
				return env.Source(func(context.Context) ([]tengo.Object, error) {
					var c []tengo.Object
					for ; next <= n && int64(len(c)) < chunk; next++ {
						c = append(c, &tengo.Int{Value: next})
					}
					f.pulled += int64(len(c))
					return c, nil
				}), nil
			},
		},
		lang.Builtin{
			Name: "pulled", Kind: lang.Func, Sig: "pulled()",
			Call: func(*lang.Env, []tengo.Object) (tengo.Object, error) {
				return &tengo.Int{Value: f.pulled}, nil
			},
		},
		lang.Builtin{
			Name: "pins", Kind: lang.Source, Sig: "pins()",
			Call: func(env *lang.Env, _ []tengo.Object) (tengo.Object, error) {
				return env.Items(pinRows()), nil
			},
		},
		lang.Builtin{
			Name: "payload", Kind: lang.Func, Sig: "payload(r)",
			Call: func(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
				return &tengo.String{Value: fmt.Sprint(args[0].(*lang.Record).Payload())}, nil
			},
		},
	)
	defs := make([]*lang.Builtin, len(table))
	for i := range table {
		defs[i] = &table[i]
	}
	s, err := lang.NewSession(lang.Options{Stdout: &f.out, Interactive: true, Builtins: defs})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	f.s = s
	return f
}

// eval runs code and returns what it printed, trimmed.
func (f *streamFixture) eval(code string) (string, error) {
	f.out.Reset()
	err := f.s.Eval(context.Background(), "test", []byte(code))
	return strings.TrimSpace(f.out.String()), err
}

type streamCase struct {
	name string
	code string
	want string // printed output, trimmed; checked when err is ""
	err  string // a substring of the error
}

func runStreamCases(t *testing.T, cases []streamCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newStreamFixture(t)
			got, err := f.eval(c.code)
			if c.err != "" {
				if err == nil {
					t.Fatalf("%s\nsucceeded, printing %q; want error containing %q", c.code, got, c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("%s\nerror %q\nwant it to contain %q", c.code, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nerror: %v", c.code, err)
			}
			if got != c.want {
				t.Errorf("%s\ngot:\n%s\nwant:\n%s", c.code, got, c.want)
			}
		})
	}
}

// TestStreamExamples runs every example of the stream builtins, as help
// shows them (at the prompt: every expression statement prints).
func TestStreamExamples(t *testing.T) {
	for _, b := range streamBuiltins() {
		if b.Sig == "" || b.Doc == "" || len(b.Examples) == 0 {
			t.Errorf("%s: Sig, Doc and Examples are required", b.Name)
		}
		if !strings.HasPrefix(b.Sig, b.Name) {
			t.Errorf("%s: Sig %q does not start with the name", b.Name, b.Sig)
		}
		for i, ex := range b.Examples {
			t.Run(fmt.Sprintf("%s/%d", b.Name, i), func(t *testing.T) {
				f := newStreamFixture(t)
				got, err := f.eval(ex.Code)
				if err != nil {
					t.Fatalf("%s\nerror: %v", ex.Code, err)
				}
				if ex.Output != "" && got != strings.TrimSpace(ex.Output) {
					t.Errorf("%s\ngot:\n%s\nwant:\n%s", ex.Code, got, ex.Output)
				}
			})
		}
	}
}

// TestStreamCallingForms runs every stage and sink in every calling form lang
// offers, on arrays and on streams.
func TestStreamCallingForms(t *testing.T) {
	even := `func(x) { return x % 2 == 0 }`
	runStreamCases(t, []streamCase{
		// where
		{"where/pipe array", `[1, 2, 3, 4] | where(` + even + `) | collect`, "[2, 4]", ""},
		{"where/pipe stream", `numbers(6) | where(` + even + `) | collect`, "[2, 4, 6]", ""},
		{"where/direct array", `where([1, 2, 3, 4], ` + even + `) | collect`, "[2, 4]", ""},
		{"where/direct stream", `where(numbers(4), ` + even + `) | collect`, "[2, 4]", ""},
		{"where/bound value", `w := where(` + even + `); numbers(4) | w | collect`, "[2, 4]", ""},
		{"where/composed called", `f := where(` + even + `) | count; f([1, 2, 3, 4])`, "2", ""},
		{"where/composed piped", `f := where(` + even + `) | where(func(x) { return x > 2 }); numbers(8) | f | collect`, "[4, 6, 8]", ""},
		{"where/for loop", `s := 0; for x in numbers(5) | where(` + even + `) { s += x }; s`, "6", ""},
		{"where/map pred records", `pins() | where({is_pin_set: true, attempts: 0}) | select("display_name") | collect`,
			"display_name\n------------\nDavid Longmuir", ""},
		{"where/map pred missing field", `[{a: 1}, {b: 2}] | where({a: 2}) | collect`, "[]", ""},
		{"where/map pred undefined value", `[{a: 1}, {b: 2}] | where({a: undefined}) | collect`, "", "where: pred: field a: the value is undefined (a misspelt variable or field?)"},
		{"where/map pred wrong kind", `pins() | where({is_pin_set: "true"}) | count`, "", `where: field is_pin_set is true or false, not the string "true"; write {is_pin_set: true} without quotes`},
		{"where/map pred number as string", `pins() | where({attempts: "0"}) | count`, "", `field attempts is a number, not the string "0"; write {attempts: 0} without quotes`},
		{"where/map pred wrong kind, case-sensitive", `pins() | where({is_pin_set: "true"}, {case_sensitive: true}) | count`, "", `field is_pin_set is true or false, not the string "true"`},
		{"where/map pred int or float", `pins() | where({attempts: 0.5}) | count`, "0", ""},
		{"where/map strings ignore case", `pins() | where({display_name: "ken MYER"}) | count`, "1", ""},
		{"where/map strings ignore case in maps", `[{s: "Redmond"}, {s: "REDMOND"}, {s: "Dublin"}] | where({s: "redmond"}) | count`, "2", ""},
		{"where/map non-ASCII case", `[{s: "Ærø"}, {s: "ærø"}] | where({s: "ÆRØ"}) | count`, "2", ""},
		{"where/map case_sensitive", `pins() | where({display_name: "ken MYER"}, {case_sensitive: true}) | count`, "0", ""},
		{"where/map case_sensitive exact", `pins() | where({display_name: "Ken Myer"}, {case_sensitive: true}) | count`, "1", ""},
		{"where/map case_sensitive false", `[{s: "A"}] | where({s: "a"}, {case_sensitive: false}) | count`, "1", ""},
		{"where/direct with opts", `where([{s: "A"}, {s: "a"}], {s: "a"}, {case_sensitive: true}) | count`, "1", ""},
		{"where/bound with opts", `w := where({s: "a"}, {case_sensitive: true}); [{s: "A"}, {s: "a"}] | w | count`, "1", ""},
		{"where/map string never equals non-string", `[{s: 1}, {s: undefined}, {}] | where({s: "1"}) | count`, "0", ""},
		{"where/map func stays case-sensitive", `[{s: "A"}, {s: "a"}] | where(func(x) { return x.s == "a" }) | count`, "1", ""},
		{"where/builtin as pred", `[[1], [2, 3], []] | where(len) | count`, "2", ""},
		{"where/stage as pred", `[[1, 2], [3]] | where(count) | count`, "2", ""},
		{"where/seed example 3", `times := import("times"); pins() | where(func(p) { return p.is_pin_set && p.expires < times.date(2010, 9, 2, 12, 0, 0, 0) }) | select("display_name") | collect`,
			"display_name\n------------\nDavid Longmuir", ""},

		// select
		{"select/pipe records", `pins() | select("display_name", "is_pin_set") | first(2)`,
			"display_name    is_pin_set\n------------    ----------\nKen Myer        true\nPilar Ackerman  true", ""},
		{"select/direct array", `select([{a: 1, b: 2}], "b") | collect`, "b\n-\n2", ""},
		{"select/direct stream", `select(pins(), "identity") | count`, "5", ""},
		{"select/bound value", `sel := select("a"); [{a: 1, b: 2}] | sel | collect`, "a\n-\n1", ""},
		{"select/composed called", `f := select("b", "a") | collect; f([{a: 1, b: 2}])[0]`, "b : 2\na : 1", ""},
		{"select/immutable map", `[immutable({a: 1})] | select("a") | collect`, "a\n-\n1", ""},

		// sort_by
		{"sort_by/pipe array", `[{x: 2}, {x: 1}] | sort_by("x") | collect`, "x\n-\n1\n2", ""},
		{"sort_by/pipe stream", `numbers(3) | sort_by(func(x) { return -x }) | collect`, "[3, 2, 1]", ""},
		{"sort_by/direct array", `sort_by([3, 1, 2], func(x) { return x }) | collect`, "[1, 2, 3]", ""},
		{"sort_by/direct stream desc", `sort_by(numbers(3), func(x) { return x }, "desc") | collect`, "[3, 2, 1]", ""},
		{"sort_by/bound value", `s := sort_by("x", "desc"); [{x: 1}, {x: 2}] | s | collect`, "x\n-\n2\n1", ""},
		{"sort_by/composed called", `f := sort_by(func(x) { return x }) | first(1) | collect; f([5, 4, 6])`, "[4]", ""},
		{"sort_by/builtin key", `[[1, 2], [3], []] | sort_by(len) | collect`, "[[], [3], [1, 2]]", ""},

		// first
		{"first/pipe array", `[1, 2, 3] | first(2) | collect`, "[1, 2]", ""},
		{"first/pipe stream", `numbers(100) | first(3) | collect`, "[1, 2, 3]", ""},
		{"first/direct array", `first([1, 2, 3], 1) | collect`, "[1]", ""},
		{"first/direct stream", `first(numbers(5), 2) | collect`, "[1, 2]", ""},
		{"first/bound value", `f := first(2); numbers(5) | f | collect`, "[1, 2]", ""},
		{"first/composed called", `f := first(2) | count; f(numbers(5))`, "2", ""},
		{"first/more than there are", `[1, 2] | first(10) | collect`, "[1, 2]", ""},
		{"first/zero", `numbers(5) | first(0) | collect`, "[]", ""},

		// count
		{"count/pipe array", `[1, 2, 3] | count`, "3", ""},
		{"count/pipe stream", `numbers(25) | count`, "25", ""},
		{"count/direct array", `count([1, 2])`, "2", ""},
		{"count/direct stream", `count(numbers(7))`, "7", ""},
		{"count/empty", `[] | count`, "0", ""},
		{"count/called bare value", `c := count; c([1, 2, 3])`, "3", ""},
		{"count/called with no args", `[1, 2] | count()`, "2", ""},
		{"count/immutable array", `immutable([1, 2]) | count`, "2", ""},

		// collect
		{"collect/pipe array", `[1, 2] | collect`, "[1, 2]", ""},
		{"collect/pipe stream", `numbers(3) | collect`, "[1, 2, 3]", ""},
		{"collect/direct stream", `collect(numbers(2))`, "[1, 2]", ""},
		{"collect/direct array", `collect([])`, "[]", ""},
		{"collect/is an array", `a := numbers(3) | collect; a[2] + len(a)`, "6", ""},
		{"collect/records", `a := pins() | collect; a[0].display_name`, "Ken Myer", ""},

		// each
		{"each/pipe array", `t := 0; [1, 2, 3] | each(func(x) { t += x }); t`, "6", ""},
		{"each/pipe stream", `t := 0; numbers(4) | each(func(x) { t += x }); t`, "10", ""},
		{"each/direct stream", `t := []; each(numbers(3), func(x) { t = append(t, x * 10) }); t`, "[10, 20, 30]", ""},
		{"each/direct array", `t := 0; each([5], func(x) { t = x }); t`, "5", ""},
		{"each/bound value", `t := 0; e := each(func(x) { t += 1 }); numbers(3) | e; t`, "3", ""},
		{"each/composed", `t := 0; e := where(func(x) { return x > 1 }) | each(func(x) { t += x }); e([1, 2, 3]); t`, "5", ""},
		{"each/returns undefined", `is_undefined([1] | each(func(x) {}))`, "true", ""},
		{"each/prints nothing", `[1] | each(func(x) {})`, "", ""},
		{"each/builtin fn", `t := 0; [[1], [2, 3]] | each(func(a) { t += a | count }); t`, "3", ""},

		// contains and matches (plain functions)
		{"contains/array", `contains([1, "a", true], "a")`, "true", ""},
		{"contains/array missing", `contains([1, 2], 3)`, "false", ""},
		{"contains/array int float", `contains([1, 2], 2.0)`, "false", ""},
		{"contains/immutable array", `contains(immutable([1, 2]), 2)`, "true", ""},
		{"contains/array of records", `a := pins() | collect; contains(a, a[3])`, "true", ""},
		{"contains/map key", `contains({a: 1}, "a")`, "true", ""},
		{"contains/map key missing", `contains({a: 1}, "b")`, "false", ""},
		{"contains/immutable map", `contains(immutable({a: 1}), "a")`, "true", ""},
		{"contains/record field", `contains((pins() | collect)[0], "display_name")`, "true", ""},
		{"contains/record no field", `contains((pins() | collect)[0], "nope")`, "false", ""},
		{"contains/substring", `contains("sip:ken@litwareinc.com", "ken@")`, "true", ""},
		{"contains/substring case", `contains("Ken", "ken")`, "false", ""},
		{"contains/char", `contains("abc", 'b')`, "true", ""},
		{"contains/undefined", `contains(undefined, "x")`, "false", ""},
		{"contains/time", `times := import("times"); contains([times.date(2010, 9, 30, 12, 0, 0, 0, "UTC")], (pins() | collect)[0].expires)`, "true", ""},
		{"contains/admin roles", `pins() | where(func(r) { return contains(r.builtins, "lock_pin") }) | count`, "2", ""},
		{"matches/yes", `matches("sip:ken@litwareinc.com", "^sip:k")`, "true", ""},
		{"matches/no", `matches("sip:ken@litwareinc.com", "^k")`, "false", ""},
		{"matches/unanchored", `matches("Tony Smith", "Smi")`, "true", ""},
		{"matches/ignore case", `matches("Tony Smith", "(?i)SMITH$")`, "true", ""},
		{"matches/undefined", `matches(undefined, ".*")`, "false", ""},
		{"matches/in where", `pins() | where(func(p) { return matches(p.display_name, "Smith$") }) | count`, "1", ""},
		{"matches/as value", `m := matches; m("abc", "b")`, "true", ""},
	})
}

// TestStreamSortBy covers the order of sort_by: kinds, direction, stability,
// times and undefined.
func TestStreamSortBy(t *testing.T) {
	names := `select("display_name") | collect`
	runStreamCases(t, []streamCase{
		{"strings", `["b", "C", "a", "B"] | sort_by(func(s) { return s }) | collect`, `["B", "C", "a", "b"]`, ""},
		{"int and float together", `pins() | sort_by("attempts") | ` + names,
			"display_name\n------------\nDavid Longmuir\nPilar Ackerman\nKen Myer\nTony Smith\nAidan Delaney", ""},
		{"desc keeps undefined last", `pins() | sort_by("attempts", "desc") | ` + names,
			"display_name\n------------\nTony Smith\nKen Myer\nPilar Ackerman\nDavid Longmuir\nAidan Delaney", ""},
		{"times with never after instants", `pins() | sort_by("expires") | ` + names,
			"display_name\n------------\nDavid Longmuir\nTony Smith\nKen Myer\nPilar Ackerman\nAidan Delaney", ""},
		{"times desc", `pins() | sort_by("expires", "DESC") | ` + names,
			"display_name\n------------\nPilar Ackerman\nKen Myer\nTony Smith\nDavid Longmuir\nAidan Delaney", ""},
		{"stable over many", stableCheck(`"k"`), "true", ""},
		{"stable over many desc", stableCheck(`"k", "desc"`), "true", ""},
		{"asc spelled out", `[2, 1] | sort_by(func(x) { return x }, "asc") | collect`, "[1, 2]", ""},
		{"bools", `pins() | sort_by("is_pin_set") | first(1) | ` + names, "display_name\n------------\nAidan Delaney", ""},
		{"stable", `[{k: 1, n: "a"}, {k: 0, n: "b"}, {k: 1, n: "c"}, {k: 0, n: "d"}] | sort_by("k") | select("n") | collect`,
			"n\n-\nb\nd\na\nc", ""},
		{"stable desc", `[{k: 1, n: "a"}, {k: 0, n: "b"}, {k: 1, n: "c"}, {k: 0, n: "d"}] | sort_by("k", "desc") | select("n") | collect`,
			"n\n-\na\nc\nb\nd", ""},
		{"mixed kinds by kind name", `times := import("times"); len([undefined, "s", 2, 1.5, true, 'c', times.date(2010, 1, 1, 0, 0, 0, 0)] | sort_by(func(x) { return x }) | collect)`,
			"7", ""},
		{"mixed kinds order", `a := [undefined, "s", 2, 1.5, true, 'c'] | sort_by(func(x) { return x }) | collect; string(a)`,
			`[true, c, 1.5, 2, "s", <undefined>]`, ""},
		{"mixed kinds desc", `a := [undefined, "s", 2, 1.5, true, 'c'] | sort_by(func(x) { return x }, "desc") | collect; string(a)`,
			`["s", 2, 1.5, c, true, <undefined>]`, ""},
		{"tengo times", `times := import("times"); a := [times.date(2011, 1, 1, 0, 0, 0, 0), times.date(2010, 1, 1, 0, 0, 0, 0)] | sort_by(func(t) { return t }) | collect; times.time_year(a[0])`,
			"2010", ""},
		{"big ints exact", `[9007199254740993, 9007199254740992] | sort_by(func(x) { return x }) | collect`,
			"[9007199254740992, 9007199254740993]", ""},
		{"empty", `[] | sort_by("x") | count`, "0", ""},
		{"immutable maps", `[immutable({x: 2}), immutable({x: 1})] | sort_by("x") | first(1) | collect`, "x\n-\n1", ""},
	})
}

// stableCheck returns code that sorts 200 maps {k, i} by k with the given
// sort_by arguments and reports whether items of equal k kept the order of
// i (enough items that an unstable sort would reorder them).
func stableCheck(args string) string {
	return `xs := []; for i := 0; i < 200; i++ { xs = append(xs, {k: (i * 7) % 5, i: i}) }
s := xs | sort_by(` + args + `) | collect
ok := len(s) == 200
for j := 1; j < len(s); j++ { if s[j].k == s[j-1].k && s[j].i < s[j-1].i { ok = false } }
ok`
}

// TestStreamSortByLazy checks that sort_by reads nothing until its first
// item is asked for, then reads everything.
func TestStreamSortByLazy(t *testing.T) {
	f := newStreamFixture(t)
	steps := []struct{ code, want string }{
		{`s := numbers(30, 7) | sort_by(func(x) { return -x })`, ""},
		{`pulled()`, "0"},
		{`s | first(2) | collect`, "[30, 29]"},
		{`pulled()`, "30"},
	}
	for _, st := range steps {
		got, err := f.eval(st.code)
		if err != nil {
			t.Fatalf("%s: %v", st.code, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %q, want %q", st.code, got, st.want)
		}
	}
}

// TestStreamFirstLazy checks that first stops pulling its input after n
// items, and that the stages in front of it do too.
func TestStreamFirstLazy(t *testing.T) {
	cases := []struct {
		code   string
		want   string
		pulled string
	}{
		{`numbers(1000000, 100) | first(3) | count`, "3", "100"},
		{`numbers(10, 5) | first(5) | count`, "5", "5"},
		{`numbers(10, 5) | first(6) | count`, "6", "10"},
		{`numbers(10, 5) | first(0) | count`, "0", "0"},
		{`numbers(1000, 10) | where(func(x) { return x > 15 }) | first(1) | collect`, "[16]", "20"},
		{`numbers(1000, 10) | select_a | first(2) | count`, "2", "10"},
		{`first(numbers(1000, 1), 4) | count`, "4", "4"},
		{`n := 0; for x in numbers(1000, 10) | first(1000) { n++; if n == 12 { break } }; n`, "12", "20"},
		{`numbers(25, 10) | count`, "25", "25"},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			f := newStreamFixture(t)
			if _, err := f.eval(`select_a := where(func(x) { return true })`); err != nil {
				t.Fatal(err)
			}
			got, err := f.eval(c.code)
			if err != nil {
				t.Fatalf("%s: %v", c.code, err)
			}
			if got != c.want {
				t.Errorf("%s: got %q, want %q", c.code, got, c.want)
			}
			if p, err := f.eval(`pulled()`); err != nil || p != c.pulled {
				t.Errorf("%s: pulled %q (%v), want %q", c.code, p, err, c.pulled)
			}
		})
	}
}

// TestStreamSelect covers what select makes of records and maps.
func TestStreamSelect(t *testing.T) {
	runStreamCases(t, []streamCase{
		{"order as given", `r := (pins() | select("is_pin_set", "identity") | collect)[0]; keys := []; for k, _ in r { keys = append(keys, k) }; keys`,
			`["is_pin_set", "identity"]`, ""},
		{"keeps type name", `type_name((pins() | select("identity") | collect)[0])`, "pin_info", ""},
		{"map becomes record", `type_name(([{a: 1}] | select("a") | collect)[0])`, "record", ""},
		{"missing field undefined", `r := ([{a: 1}] | select("a", "zz") | collect)[0]; is_undefined(r.zz)`, "true", ""},
		{"unset record field undefined", `r := (pins() | select("expires") | collect)[3]; is_undefined(r.expires)`, "true", ""},
		{"selected record has only its fields", `r := (pins() | select("identity") | collect)[0]; r.is_pin_set`, "",
			`pin_info record has no field "is_pin_set"; its fields are identity`},
		{"keeps payload", `payload((pins() | first(2) | select("identity") | collect)[1])`, "key-1", ""},
		{"read-only", `r := (pins() | select("identity") | collect)[0]; r.identity = "x"`, "", "records are read-only"},
		{"schema shared by equal selections", `a := ([{x: 1}] | select("x") | collect)[0]; b := ([{x: 1, y: 2}] | select("x") | collect)[0]; a == b`, "true", ""},
		{"different fields differ", `a := ([{x: 1}] | select("x") | collect)[0]; b := ([{x: 1}] | select("x", "y") | collect)[0]; a == b`, "false", ""},
		{"mixed records and maps", `x := pins() | first(1) | collect; x = append(x, {identity: "m"}); len(x | select("identity") | collect)`, "2", ""},
		{"record then map then record", `a := pins() | collect; [a[0], {identity: "m"}, a[1]] | select("identity") | each(func(r) {})`, "", ""},
		{"then where by map", `pins() | select("display_name", "is_pin_set") | where({is_pin_set: false}) | collect`,
			"display_name   is_pin_set\n------------   ----------\nAidan Delaney  false", ""},
	})
}

// TestStreamErrors reaches every error the stream builtins raise; each
// message names the builtin and the argument or item at fault.
func TestStreamErrors(t *testing.T) {
	runStreamCases(t, []streamCase{
		{"where/no args", `[1] | where() | collect`, "", "where: takes pred (a function or a map of field values) and optionally {case_sensitive: true} besides its input; got 0"},
		{"where/direct no args", `where([1]) | collect`, "", "where: takes pred"},
		{"where/too many", `[1] | where({}, {}, 2) | collect`, "", "where: takes pred (a function or a map of field values) and optionally {case_sensitive: true} besides its input; got 3"},
		{"where/opts not a map", `[1] | where(func(x) { return true }, 2) | collect`, "", "where: opts must be a map such as {case_sensitive: true}, not int"},
		{"where/unknown option", `[1] | where({a: "x"}, {CaseSensitive: true}) | collect`, "", `where: unknown option "CaseSensitive"; did you mean case_sensitive?`},
		{"where/option not a bool", `[1] | where({a: "x"}, {case_sensitive: 1}) | collect`, "", "where: option case_sensitive must be true or false, not int"},
		{"where/option with a function", `[1] | where(func(x) { return true }, {case_sensitive: true}) | collect`, "",
			"where: case_sensitive applies to a map of field values; a function compares as it is written"},
		{"where/bad pred", `[1] | where(3)`, "", "where: pred: a predicate is a function or a map of field values, not int"},
		{"where/pred fails", `[{a: 1}] | where(func(x) { return x.a / 0 }) | collect`, "", "division by zero"},

		{"select/no fields", `[{a: 1}] | select() | collect`, "", `select: takes one or more field names, as in select("identity", "is_locked_out")`},
		{"select/not a string", `[{a: 1}] | select("a", 2) | collect`, "", "select: field 2: a field name is a string, not int"},
		{"select/empty", `[{a: 1}] | select("") | collect`, "", "select: field 1: a field name cannot be empty"},
		{"select/twice", `[{a: 1}] | select("a", "b", "a") | collect`, "", `select: field "a" is named twice`},
		{"select/not a record", `[{a: 1}, 7] | select("a") | collect`, "", "select: cannot take fields of int 7: select works on records and maps"},
		{"select/misspelt field", `pins() | select("dispaly_name") | collect`, "",
			`select: pin_info record has no field "dispaly_name"; did you mean display_name?`},
		{"select/PowerShell name", `pins() | select("identity", "IsPinSet") | collect`, "",
			`select: pin_info record has no field "IsPinSet"; did you mean is_pin_set?`},
		{"select/nothing close", `pins() | select("zzz") | count`, "",
			`select: pin_info record has no field "zzz"; its fields are identity, display_name, is_pin_set, attempts, expires, builtins`},
		{"select/string item", `["sip:x"] | select("a") | collect`, "", `select: cannot take fields of string "sip:x"`},

		{"sort_by/no args", `[1] | sort_by() | collect`, "", `sort_by: takes a field (a name or a key function) and optionally "desc" besides its input; got 0`},
		{"sort_by/too many", `[1] | sort_by("a", "desc", 1) | collect`, "", "sort_by: takes a field (a name or a key function) and optionally \"desc\" besides its input; got 3"},
		{"sort_by/bad field", `[1] | sort_by(1)`, "", "sort_by: field must be a field name (a string) or a key function, not int"},
		{"sort_by/empty field", `[1] | sort_by("")`, "", "sort_by: field: a field name cannot be empty"},
		{"sort_by/bad order", `[1] | sort_by("a", "up")`, "", `sort_by: order must be "asc" or "desc", not "up"`},
		{"sort_by/order not string", `[1] | sort_by("a", true)`, "", `sort_by: order must be "asc" or "desc", not bool`},
		{"sort_by/array field", `pins() | sort_by("builtins") | collect`, "",
			`sort_by: cannot sort by field "builtins": it is of type array for sip:kenmyer@litwareinc.com; sort by a string, number, bool or time`},
		{"sort_by/map field", `[{a: {b: 1}}] | sort_by("a") | collect`, "", `sort_by: cannot sort by field "a": it is of type map for {a: {b: 1}}`},
		{"sort_by/key fn result", `[1, 2] | sort_by(func(x) { return [x] }) | collect`, "", "sort_by: cannot sort by the key function's result: it is of type array for 1"},
		{"sort_by/field of int", `[3, 1] | sort_by("a") | collect`, "", `sort_by: int 3 has no field "a": sort records or maps by a field, other values by a key function`},
		{"sort_by/misspelt field", `pins() | sort_by("expiry") | collect`, "",
			`sort_by: pin_info record has no field "expiry"; did you mean expires?`},
		{"sort_by/PowerShell name", `pins() | sort_by("DisplayName") | count`, "",
			`sort_by: pin_info record has no field "DisplayName"; did you mean display_name?`},
		{"sort_by/misspelt in key fn", `pins() | sort_by(func(p) { return p.Attempts }) | count`, "",
			`pin_info record has no field "Attempts"; did you mean attempts? (processing sip:kenmyer@litwareinc.com)`},
		{"where/misspelt in map", `pins() | where({is_pinset: true}) | count`, "",
			`where: pin_info record has no field "is_pinset"; did you mean is_pin_set?`},
		{"where/misspelt in fn", `pins() | where(func(p) { return !p.is_pinset }) | count`, "",
			`pin_info record has no field "is_pinset"; did you mean is_pin_set? (processing sip:kenmyer@litwareinc.com)`},
		{"each/misspelt in fn", `pins() | each(func(p) { x := p.displayname })`, "",
			`pin_info record has no field "displayname"; did you mean display_name?`},
		{"sort_by/key fn fails", `[1] | sort_by(func(x) { return x.y.z }) | collect`, "", "test:1:"},
		{"sort_by/key fn wrong arity", `[1] | sort_by(func(a, b) { return a }) | collect`, "", "wrong number of arguments"},

		{"first/no args", `[1] | first() | collect`, "", "first: takes one argument, n (how many items to pass on) besides its input; got 0"},
		{"first/bare", `[1] | first | collect`, "", "first: takes one argument, n"},
		{"first/too many", `first([1], 1, 2) | collect`, "", "first: takes one argument, n (how many items to pass on) besides its input; got 2"},
		{"first/not an int", `[1] | first("2")`, "", "first: n must be an int, not string"},
		{"first/float", `[1] | first(2.0)`, "", "first: n must be an int, not float"},
		{"first/negative", `[1] | first(-1)`, "", "first: n must not be negative, got -1"},

		{"count/args", `[1] | count(2)`, "", "count: takes no arguments besides its input; got 1"},
		{"count/direct args", `count([1], 2)`, "", "count: takes no arguments besides its input; got 1"},
		{"count/upstream error", `[{a: 1}, 3] | select("a") | count`, "", "select: cannot take fields of int 3"},
		{"collect/args", `[1] | collect("x")`, "", "collect: takes no arguments besides its input; got 1"},
		{"collect/upstream error", `[1] | where(func(x) { return 1 / 0 }) | collect`, "", "division by zero"},

		{"each/no args", `[1] | each()`, "", "each: takes one argument, fn (a function of one item) besides its input; got 0"},
		{"each/too many", `[1] | each(func(x) {}, 1)`, "", "each: takes one argument, fn (a function of one item) besides its input; got 2"},
		{"each/not a function", `[1] | each("x")`, "", "each: fn must be a function, not string"},
		{"each/fn fails", `[{identity: "sip:ken@litwareinc.com"}] | each(func(x) { return 1 / 0 })`, "", "processing sip:ken@litwareinc.com"},
		{"each/upstream error", `[1, {}] | sort_by("a") | each(func(x) {})`, "", `sort_by: int 1 has no field "a"`},

		{"contains/one arg", `contains([1])`, "", "contains: takes 2 arguments (container, x); got 1"},
		{"contains/three args", `contains([1], 1, 1)`, "", "contains: takes 2 arguments (container, x); got 3"},
		{"contains/bad container", `contains(5, 1)`, "", "contains: container must be an array, a map, a record or a string, not int"},
		{"contains/map int key", `contains({a: 1}, 1)`, "", "contains: x must be a string (a field name) to look in a map, not int"},
		{"contains/record int key", `contains((pins() | collect)[0], 1)`, "", "contains: x must be a string (a field name) to look in a record, not int"},
		{"contains/immutable map key", `contains(immutable({a: 1}), [])`, "", "contains: x must be a string (a field name) to look in a map, not array"},
		{"contains/string int", `contains("abc", 1)`, "", "contains: x must be a string or a char to look in a string, not int"},
		{"contains/stream", `contains(numbers(3), 1)`, "", "contains: container is a stream: collect() it first"},

		{"matches/one arg", `matches("a")`, "", "matches: takes 2 arguments (string, regexp); got 1"},
		{"matches/three args", `matches("a", "b", "c")`, "", "matches: takes 2 arguments (string, regexp); got 3"},
		{"matches/bad string", `matches(1, "a")`, "", "matches: string must be a string, not int"},
		{"matches/bad regexp type", `matches("a", 1)`, "", "matches: regexp must be a string, not int"},
		{"matches/bad regexp", `matches("a", "(")`, "", "matches: regexp \"(\" is not valid: missing closing ): `(`"},
		{"matches/bad regexp undefined string", `matches(undefined, "[z-a]")`, "", `matches: regexp "[z-a]" is not valid: invalid character class range`},
		{"matches/bad regexp in where", `pins() | where(func(p) { return matches(p.identity, "a**") }) | count`, "", `matches: regexp "a**" is not valid`},
	})
}

// TestStreamKeyOrder checks sortCompare on pairs of keys directly, both ways
// round.
func TestStreamKeyOrder(t *testing.T) {
	t0 := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	// Each value sorts strictly before the next.
	ordered := []tengo.Object{
		tengo.FalseValue,
		tengo.TrueValue,
		&tengo.Char{Value: 'a'},
		&tengo.Char{Value: 'b'},
		&tengo.Int{Value: -3},
		&tengo.Float{Value: -2.5},
		&tengo.Int{Value: 0},
		&tengo.Float{Value: 0.5},
		&tengo.Int{Value: 1},
		&tengo.String{Value: ""},
		&tengo.String{Value: "A"},
		&tengo.String{Value: "a"},
		&tengo.Time{Value: t0.Add(-time.Hour)},
		lang.NewTime(t0),
		&tengo.Time{Value: t0.Add(time.Hour)},
		lang.Never(),
		tengo.UndefinedValue,
	}
	keys := make([]sortKey, len(ordered))
	for i, v := range ordered {
		k, ok := sortKeyOf(v)
		if !ok {
			t.Fatalf("sortKeyOf(%s) failed", v)
		}
		keys[i] = k
	}
	for i := range keys {
		for j := range keys {
			got := sortCompare(&keys[i], &keys[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("sortCompare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, v := range []tengo.Object{&tengo.Int{Value: 1}, &tengo.Float{Value: 1}} {
		a, _ := sortKeyOf(v)
		b, _ := sortKeyOf(&tengo.Float{Value: 1})
		if sortCompare(&a, &b) != 0 {
			t.Errorf("%s and 1.0 should compare equal", v)
		}
	}
	for _, v := range []tengo.Object{&tengo.Array{}, &tengo.Map{}, &tengo.Bytes{}, lang.NewRecord(pinSchema, make([]tengo.Object, 6), nil)} {
		if _, ok := sortKeyOf(v); ok {
			t.Errorf("sortKeyOf(%s) should fail", v.TypeName())
		}
	}
}

// TestStreamCaches checks that matches compiles a pattern once and that
// both caches stay bounded.
func TestStreamCaches(t *testing.T) {
	f := newStreamFixture(t)
	if got, err := f.eval(`n := 0; for i := 0; i < 50; i++ { if matches("x" + i, "^x[0-9]$") { n++ } }; n`); err != nil || got != "10" {
		t.Fatalf("got %q, %v; want 10", got, err)
	}
	if n := f.regexps.len(); n != 1 {
		t.Errorf("one pattern, used 50 times: %d cached regexps, want 1", n)
	}
	re1 := f.regexps.get("^x[0-9]$", func() *regexp.Regexp { t.Fatal("recompiled"); return nil })
	if re1 == nil {
		t.Fatal("cached regexp missing")
	}
	if _, err := f.eval(`for i := 0; i < 500; i++ { matches("x", "x" + i) }`); err != nil {
		t.Fatal(err)
	}
	if n := f.regexps.len(); n != maxRegexps {
		t.Errorf("500 patterns: %d cached regexps, want the bound %d", n, maxRegexps)
	}
	if _, err := f.eval(`for i := 0; i < 2; i++ { [{a: 1}] | select("a") | count }`); err != nil {
		t.Fatal(err)
	}
	if n := f.schemas.len(); n != 1 {
		t.Errorf("one field list, used twice: %d cached schemas, want 1", n)
	}
	if _, err := f.eval(`for i := 0; i < 300; i++ { [{a: 1}] | select("f" + i) | count }`); err != nil {
		t.Fatal(err)
	}
	if n := f.schemas.len(); n != maxSelectSchemas {
		t.Errorf("300 field lists: %d cached schemas, want the bound %d", n, maxSelectSchemas)
	}
	// A failed make is not cached.
	c := newStreamCache[*regexp.Regexp](2)
	c.get("(", func() *regexp.Regexp { return nil })
	if c.len() != 0 {
		t.Errorf("a failed compile was cached")
	}
}

// BenchmarkStreamSortBy sorts 100,000 records by an int field: through
// sort_by("attempts") as a pipeline runs it, and with the equivalent Go
// code (a stable sort of the records by the field), for the ratio.
func BenchmarkStreamSortBy(b *testing.B) {
	f := newStreamFixture(b)
	rows := pinRows()
	const n = 100_000
	items := make([]tengo.Object, n)
	for i := range items {
		r := rows[i%len(rows)].(*lang.Record)
		vals := make([]tengo.Object, len(pinSchema.Fields()))
		for j := range vals {
			vals[j] = r.Value(j)
		}
		vals[3] = &tengo.Int{Value: int64((i * 7919) % n)}
		items[i] = lang.NewRecord(pinSchema, vals, nil)
	}
	env := f.s.Env()
	var sortBy *lang.Builtin
	for _, d := range streamBuiltins() {
		if d.Name == "sort_by" {
			sortBy = &d
		}
	}
	var perRecord [2]float64
	b.Run("sort_by", func(b *testing.B) {
		for b.Loop() {
			s, err := sortBy.Run(env, env.Items(items), []tengo.Object{&tengo.String{Value: "attempts"}})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.(*lang.Stream).Collect(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		perRecord[0] = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(perRecord[0], "ns/record")
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			sorted := slices.Clone(items)
			slices.SortStableFunc(sorted, func(x, y tengo.Object) int {
				return cmp.Compare(x.(*lang.Record).Value(3).(*tengo.Int).Value, y.(*lang.Record).Value(3).(*tengo.Int).Value)
			})
		}
		perRecord[1] = float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
		b.ReportMetric(perRecord[1], "ns/record")
		if perRecord[0] > 0 {
			b.ReportMetric(perRecord[0]/perRecord[1], "sort_by/go")
		}
	})
}
