package lang

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
)

// ftSchema has a field of every kind FieldTest knows, and ftKinds declares
// them as ftRecords fills them.
var (
	ftSchema = NewSchema("ft", "name", "opt", "flag", "n", "x", "at", "until", "any")
	ftKinds  = []Kinds{
		KindString, KindString | KindUndefined, KindBool, KindInt, KindFloat,
		KindTime, KindTime | KindUndefined,
		0, // any: undeclared
	}
)

// ftValues are the values each field of ftSchema takes in ftRecords,
// edge cases first: the empty string, case variants, zero, never, undefined.
func ftValues() [][]tengo.Object {
	t0 := testNow
	return [][]tengo.Object{
		{str(""), str("admin"), str("Admin"), str("system"), str("sip:a@x")},
		{tengo.UndefinedValue, str("admin"), str("ADMIN"), str("")},
		{tengo.TrueValue, tengo.FalseValue},
		{num(0), num(3), num(-1), num(10)},
		{&tengo.Float{Value: 0}, &tengo.Float{Value: 2.5}, &tengo.Float{Value: -3}},
		{Never(), NewTime(t0), NewTime(t0.Add(-time.Hour)), NewTime(t0.Add(time.Hour)), NewTime(time.Time{})},
		{tengo.UndefinedValue, NewTime(t0), NewTime(t0.Add(time.Hour))},
		{tengo.UndefinedValue, num(3), str("admin"), tengo.TrueValue},
	}
}

// ftRecords returns n records of ftSchema: the first cover each value of
// each field, the rest are random.
func ftRecords(r *rand.Rand, n int) []*Record {
	vals := ftValues()
	var recs []*Record
	for i := range n {
		row := make([]tengo.Object, len(vals))
		for f, vs := range vals {
			if i < 8 {
				row[f] = vs[i%len(vs)]
			} else {
				row[f] = vs[r.IntN(len(vs))]
			}
		}
		recs = append(recs, NewRecord(ftSchema, row, nil))
	}
	return recs
}

// recordFields is a record's values as Fields, for FieldTest.Test.
type recordFields struct{ r *Record }

func (f recordFields) Field(i int) tengo.Object { return f.r.Value(i) }

// ftFunc compiles src, a function, in h's session.
func ftFunc(t *testing.T, h *harness, src string) tengo.Object {
	t.Helper()
	v := h.value(src)
	if _, ok := v.(*tengo.CompiledFunction); !ok {
		t.Fatalf("%s is a %s", src, v.TypeName())
	}
	return v
}

// agree checks that ft judges every record as Tengo's call of fn does,
// and that Tengo never fails on one (FieldTest proves it cannot).
func agree(t *testing.T, h *harness, src string, fn tengo.Object, ft *FieldTest, recs []*Record) {
	t.Helper()
	for _, rec := range recs {
		ret, err := h.s.Env().Invoke(fn, rec)
		if err != nil {
			t.Fatalf("%s: Tengo failed on %s, which FieldTest accepted: %v", src, rec, err)
		}
		if got, want := ft.Test(recordFields{rec}), !ret.IsFalsy(); got != want {
			t.Fatalf("%s on %s: FieldTest %v, Tengo %v (%s)", src, rec, got, want, ret)
		}
		if err := ft.Err(); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
}

func TestFieldTestAgreesWithTengo(t *testing.T) {
	h := newHarness(t, Options{})
	recs := ftRecords(rand.New(rand.NewPCG(1, 2)), 400)
	for _, src := range []string{
		`func(p) { return p.flag }`,
		`func(p) { return !p.flag }`,
		`func(p) { return p["flag"] }`,
		`func(p) { return p.flag && !p.opt }`,
		`func(p) { return p.flag || p.opt }`,
		`func(p) { return p.opt }`,                  // && and || return operands: truthiness decides
		`func(p) { return p.opt && p.name || p.n }`, // a string or an int comes back
		`func(p) { return p.name == "admin" }`,      // == is case-sensitive
		`func(p) { return p.opt != "admin" }`,       // undefined != "admin"
		`func(p) { return p.opt == undefined }`,     // undefined compares equal only to undefined
		`func(p) { return undefined == p.until }`,   // an unset time
		`func(p) { return p.at == undefined }`,      // never is not undefined for ==
		`func(p) { return p.n > 3 }`,
		`func(p) { return 3 < p.n }`,
		`func(p) { return p.n >= 0 && p.n <= 3 }`,
		`func(p) { return p.n < 2.5 }`,    // int against float
		`func(p) { return p.x > p.n }`,    // float against int, two fields
		`func(p) { return p.n == 3.0 }`,   // an int is never equal to a float
		`func(p) { return p.name < "b" }`, // strings order
		`func(p) { return p.name >= p.name }`,
		`func(p) { return p.at < p.until }`, // undefined on the right compares as never
		`func(p) { return p.until > p.at }`, // a time or undefined on the left: not provable, see below
		`func(p) { return p.at > p.at }`,
		`func(p) { return p.at <= p.at }`, // never <= never
		`func(p) { return p.at }`,         // never and the zero time are falsy
		`func(p) { return !p.until }`,
		`func(p) { return p.any == 3 }`, // an undeclared field can be compared for equality
		`func(p) { return p.any }`,
		`func(p) { return !!p.flag }`,
		`func(p) { return p.flag == true }`,
		`func(p) { return p.flag != false && p.flag == !false }`,
		`func(p) { if p.flag { return true }; return false }`,
		`func(p) { if p.flag { return p.n > 3 } else if p.opt { return p.name } ; return p.x }`,
		`func(p) { if !p.flag && (p.n == 3 || p.opt == "admin") { return 1 } }`, // falls off: undefined
		`func(p) { return }`,
		`func(p) { return true }`,
		`func(p) { return undefined }`,
		`func(p) { return "" }`,
		`func(p) { return (p.flag || p.n > 3) && !(p.opt == "ADMIN" || p.name != "") }`,
		`func(p) { return p.flag ? p.n > 3 : p.name == "admin" }`,
		`func(p) { return p.n > 3 ? true : p.opt }`,
	} {
		fn := ftFunc(t, h, src)
		ft := h.s.Env().FieldTest(fn, ftSchema, ftKinds)
		if strings.Contains(src, "p.until > p.at") {
			if ft != nil {
				t.Errorf("%s: accepted, but undefined > time is an error in Tengo", src)
			}
			continue
		}
		if ft == nil {
			t.Errorf("%s: not a FieldTest", src)
			continue
		}
		agree(t, h, src, fn, ft, recs)
	}
}

func TestFieldTestRefuses(t *testing.T) {
	h := newHarness(t, Options{})
	h.must(`limit := 3; helper := func(p) { return p.flag }`)
	h.must(`fns := {}; outer := func() { k := 3; fns.closure = func(p) { return p.n > k } }; outer()`)
	secret := NewSchema("s", "name", "pin").Secret("pin")
	for _, tc := range []struct {
		src    string
		schema *Schema
	}{
		{`func(p) { return p.n > limit }`, nil},     // a global
		{`fns.closure`, nil},                        // a free variable
		{`func(p) { return helper(p) }`, nil},       // a call
		{`func(p) { return len(p.name) > 0 }`, nil}, // a builtin's call
		{`func(p) { x := p.n; return x > 3 }`, nil}, // a local
		{`func(p) { return p.n + 1 > 3 }`, nil},     // arithmetic
		{`func(p) { return -p.n }`, nil},            // a unary operator other than !
		{`func(p) { return p.nn > 3 }`, nil},        // no such field: Tengo names it
		{`func(p) { return p.Flag }`, nil},          // fields are case-sensitive
		{`func(p) { return p[p.name] }`, nil},       // an index that is not a constant
		{`func(p) { return p }`, nil},               // the record itself
		{`func(p) { return p == p }`, nil},          // comparing records reads every field
		{`func(p) { return p.opt > "a" }`, nil},     // undefined > "a" is an error
		{`func(p) { return p.flag < true }`, nil},   // bools do not order
		{`func(p) { return p.name < 3 }`, nil},      // a string against an int
		{`func(p) { return p.any > 3 }`, nil},       // an undeclared kind
		{`func(p) { return p.at < 3 }`, nil},        // time against int
		{`func(p) { return p.n > [1][0] }`, nil},    // an array
		{`func(p) { return p.name == 'a' }`, nil},   // a char constant
		{`func(p) { for i := 0; i < 3; i++ {}; return p.flag }`, nil},
		{`func(p, q) { return p.flag }`, nil},    // two parameters
		{`func(...p) { return p[0].flag }`, nil}, // variadic
		{`func() { return true }`, nil},
		{`func(p) { return {a: p.flag}.a }`, nil},      // a map
		{`func(p) { return p.name[0] == "a" }`, nil},   // indexing a field
		{`func(p) { return p.pin == "1234" }`, secret}, // a secret field: reading it delivers the record
		{`func(p) { return import("fmt") }`, nil},
	} {
		fn := h.value(tc.src)
		s := tc.schema
		if s == nil {
			s = ftSchema
		}
		if ft := h.s.Env().FieldTest(fn, s, ftKinds); ft != nil {
			t.Errorf("%s: accepted as a FieldTest", tc.src)
		}
	}
	// Not a script function at all.
	if h.s.Env().FieldTest(&tengo.UserFunction{Value: func(...tengo.Object) (tengo.Object, error) { return nil, nil }}, ftSchema, ftKinds) != nil ||
		h.s.Env().FieldTest(str("x"), ftSchema, ftKinds) != nil {
		t.Error("a Go function or a string accepted")
	}
}

func TestFieldTestReads(t *testing.T) {
	h := newHarness(t, Options{})
	ft := h.s.Env().FieldTest(ftFunc(t, h, `func(p) { return p.flag && p.until == undefined }`), ftSchema, ftKinds)
	if ft == nil {
		t.Fatal("not a FieldTest")
	}
	for i, f := range ftSchema.Fields() {
		if want := f == "flag" || f == "until"; ft.Reads(i) != want {
			t.Errorf("Reads(%s) = %v", f, !want)
		}
	}
	if ft.Reads(99) {
		t.Error("Reads(99)")
	}
}

// TestFieldTestAllocLimit: Tengo counts each ordering as an allocation of
// its run; a function that would reach the session's limit is left to
// Tengo, which fails it.
func TestFieldTestAllocLimit(t *testing.T) {
	h := newHarness(t, Options{Limits: Limits{MaxAllocs: 3}})
	ok := ftFunc(t, h, `func(p) { return p.n > 1 && p.n > 2 }`)
	tooMany := ftFunc(t, h, `func(p) { return p.n > 1 && p.n > 2 && p.n > 3 }`)
	if h.s.Env().FieldTest(ok, ftSchema, ftKinds) == nil {
		t.Error("two orderings under a limit of 3 refused")
	}
	if h.s.Env().FieldTest(tooMany, ftSchema, ftKinds) != nil {
		t.Error("three orderings under a limit of 3 accepted")
	}
}

// TestFieldTestUndeclaredKind: a field whose value is of a kind its maker
// did not declare makes Test keep the record and report the error, never
// a wrong answer.
func TestFieldTestUndeclaredKind(t *testing.T) {
	h := newHarness(t, Options{})
	ft := h.s.Env().FieldTest(ftFunc(t, h, `func(p) { return p.n > 3 }`), ftSchema, ftKinds)
	if ft == nil {
		t.Fatal("not a FieldTest")
	}
	row := make([]tengo.Object, len(ftSchema.Fields()))
	row[3] = str("three") // n holds a string
	if !ft.Test(recordFields{NewRecord(ftSchema, row, nil)}) || ft.Err() == nil ||
		!strings.Contains(ft.Err().Error(), "string > int") {
		t.Errorf("Test on an undeclared kind: err %v", ft.Err())
	}
}

// TestFieldTestProperty generates where functions from a grammar of field
// reads, constants, comparisons and !, &&, ||, ?: and if/else, and checks
// that each one FieldTest accepts judges random records exactly as Tengo
// does, never failing where Tengo would not; and that those it refuses
// include every one on which Tengo fails.
func TestFieldTestProperty(t *testing.T) {
	h := newHarness(t, Options{})
	r := rand.New(rand.NewPCG(3, 4))
	recs := ftRecords(r, 200)
	n := 300
	if testing.Short() {
		n = 80
	}
	accepted := 0
	for i := range n {
		body := genExpr(r, 3)
		src := "func(p) { return " + body + " }"
		if r.IntN(4) == 0 {
			src = fmt.Sprintf("func(p) { if %s { return %s }; return %s }", genExpr(r, 2), genExpr(r, 2), genExpr(r, 2))
		}
		h.must(fmt.Sprintf("g%d := %s", i, src))
		fn, _ := h.s.Lookup(fmt.Sprintf("g%d", i))
		ft := h.s.Env().FieldTest(fn, ftSchema, ftKinds)
		if ft == nil {
			continue
		}
		accepted++
		agree(t, h, src, fn, ft, recs)
	}
	t.Logf("%d of %d accepted", accepted, n)
	if accepted < n/4 {
		t.Errorf("only %d of %d generated functions accepted: the property tests little", accepted, n)
	}
}

var (
	genFields = []string{"name", "opt", "flag", "n", "x", "at", "until", "any"}
	genConsts = []string{`"admin"`, `"Admin"`, `""`, `"b"`, "0", "3", "-1", "2.5", "true", "false", "undefined"}
	genOps    = []string{"==", "!=", "<", "<=", ">", ">="}
)

func genExpr(r *rand.Rand, depth int) string {
	leaf := func() string {
		if r.IntN(3) > 0 {
			f := genFields[r.IntN(len(genFields))]
			if r.IntN(5) == 0 {
				return fmt.Sprintf("p[%q]", f)
			}
			return "p." + f
		}
		return genConsts[r.IntN(len(genConsts))]
	}
	if depth == 0 {
		return leaf()
	}
	switch r.IntN(7) {
	case 0:
		return leaf()
	case 1:
		return "!" + genExpr(r, depth-1)
	case 2:
		return "(" + genExpr(r, depth-1) + " && " + genExpr(r, depth-1) + ")"
	case 3:
		return "(" + genExpr(r, depth-1) + " || " + genExpr(r, depth-1) + ")"
	case 4:
		return "(" + genExpr(r, depth-1) + " ? " + genExpr(r, depth-1) + " : " + genExpr(r, depth-1) + ")"
	default:
		return "(" + leaf() + " " + genOps[r.IntN(len(genOps))] + " " + leaf() + ")"
	}
}
