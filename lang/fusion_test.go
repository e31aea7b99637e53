package lang

import (
	"context"
	"strings"
	"testing"

	"github.com/d5/tengo/v2"
)

// fusionBuiltins stand in for get_users | pin_info: a source that marks its
// stream with an origin, and a stage that replaces such a stream by one
// "fused" record, or passes anything else through.
func fusionBuiltins() []*Builtin {
	type origin struct{}
	return []*Builtin{
		{
			Name: "marked", Kind: Source, Sig: "marked()", Doc: "three items, marked",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				return env.Items([]tengo.Object{num(1), num(2), num(3)}).WithOrigin(origin{}), nil
			},
		},
		{
			Name: "fuse", Kind: Stage, Sig: "fuse", Doc: "fused when given marked() untouched",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				if _, ok := in.Origin().(origin); ok {
					return env.Items([]tengo.Object{str("fused")}), nil
				}
				return in, nil
			},
		},
		{
			Name: "grant", Kind: Sink, Targets: true, MinArgs: 1, WrittenUndefined: true,
			Sig: "grant(target, name[, opts])", Doc: "names its targets",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				items, err := in.Collect(env.Context())
				if err != nil {
					return nil, err
				}
				parts := []string{}
				for _, it := range items {
					id, _ := identityOf(it)
					parts = append(parts, id)
				}
				name := "<undefined>"
				switch a := args[0].(type) {
				case *tengo.String:
					name = a.Value
				case *writtenUndefined:
					name = "<written undefined>"
				}
				if len(args) > 1 {
					name += "+opts"
				}
				return str(strings.Join(parts, ",") + "->" + name), nil
			},
		},
	}
}

func TestStreamOrigin(t *testing.T) {
	h := newHarness(t, Options{Builtins: fusionBuiltins()})
	tests := []struct{ src, want string }{
		{`marked() | fuse | collect`, `["fused"]`},
		{`marked() | where(func(x) { return true }) | fuse | collect`, `[1, 2, 3]`},
		{`s := marked(); for x in s { break }; s | fuse | collect`, "error"},
	}
	for _, tt := range tests {
		if tt.want == "error" {
			if _, err := h.run(tt.src); err == nil {
				t.Errorf("%s: no error for a stream used twice", tt.src)
			}
			continue
		}
		if got := h.value(tt.src).String(); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.src, got, tt.want)
		}
	}
	s := h.s.Env().Items([]tengo.Object{num(1)}).WithOrigin("x")
	if s.Origin() != "x" {
		t.Fatal("origin not kept")
	}
	s.Next(context.Background())
	if s.Origin() != nil {
		t.Error("a started stream still reports its origin")
	}
}

func TestMinArgsAndRecordInput(t *testing.T) {
	h := newHarness(t, Options{Builtins: fusionBuiltins()})
	tests := []struct{ src, want string }{
		// one argument: MinArgs keeps the string an argument, so this binds.
		{`["sip:a@x.com", "sip:b@x.com"] | grant("Secure")`, `sip:a@x.com,sip:b@x.com->Secure`},
		{`grant("sip:a@x.com", "Secure")`, `sip:a@x.com->Secure`},
		// a record is an input of any stage, so one record can be piped.
		{`(fake_pins(2) | collect)[1] | select_identity`, `sip:user1@litwareinc.com`},
	}
	h.s.define("select_identity", &builtinObj{env: h.s.env, def: &Builtin{Name: "select_identity", Kind: Sink,
		Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
			v, _, err := in.Next(env.Context())
			if err != nil {
				return nil, err
			}
			return v.(*Record).Get("identity"), nil
		}}})
	for _, tt := range tests {
		if got := h.value(tt.src); plainText(got) != tt.want {
			t.Errorf("%s = %v, want %s", tt.src, got, tt.want)
		}
	}
}

func plainText(o tengo.Object) string {
	if s, ok := o.(*tengo.String); ok {
		return s.Value
	}
	return o.String()
}

// TestTerminalFlushesLines: at a terminal, a line printed by fmt.println or
// written to Env.Stdout shows at once, not when the input ends.
func TestTerminalFlushesLines(t *testing.T) {
	for _, width := range []int{0, 80} {
		var h *harness
		peek := &Builtin{Name: "peek", Kind: Func, Sig: "peek()", Doc: "bytes written so far",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				return num(h.out.Len()), nil
			}}
		say := &Builtin{Name: "say", Kind: Func, Sig: "say()", Doc: "writes a line",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				_, err := env.Stdout().Write([]byte("said\n"))
				return nil, err
			}}
		h = newHarness(t, Options{Width: width, Builtins: []*Builtin{peek, say}})
		got := h.value(`func() { fmt := import("fmt"); fmt.println("hi"); a := peek(); say(); return [a, peek()] }()`).String()
		want := "[0, 0]"
		if width > 0 {
			want = "[3, 8]"
		}
		if got != want {
			t.Errorf("width %d: bytes visible after each line = %s, want %s", width, got, want)
		}
	}
}

// TestLazyRecord: a lazy record makes a field when it is first read, once,
// and behaves like a full record everywhere else.
func TestLazyRecord(t *testing.T) {
	made := map[int]int{}
	lazy := NewLazyRecord(userSchema, 7, func(i int) tengo.Object {
		made[i]++
		return []tengo.Object{str("sip:a@x.com"), str("A"), tengo.TrueValue}[i]
	})
	full := NewRecord(userSchema, []tengo.Object{str("sip:a@x.com"), str("A"), tengo.TrueValue}, nil)
	if got := lazy.Get("display_name").String(); got != `"A"` || len(made) != 1 {
		t.Fatalf("display_name = %s, fields made %v", got, made)
	}
	lazy.Get("display_name")
	if made[1] != 1 {
		t.Errorf("field made %d times", made[1])
	}
	if !lazy.Equals(full) || !full.Equals(lazy) || lazy.String() != full.String() {
		t.Errorf("lazy %s differs from full %s", lazy, full)
	}
	if m := lazy.ToMap(); len(m.Value) != 3 {
		t.Errorf("ToMap = %v", m)
	}
	for i, n := range made {
		if n != 1 {
			t.Errorf("field %d made %d times", i, n)
		}
	}
	if lazy.Payload() != 7 {
		t.Errorf("payload %v", lazy.Payload())
	}
}

// countedFields is the Go side of a test record: its fields and how often
// each was made.
type countedFields struct {
	vals []tengo.Object
	made map[int]int
}

func (c *countedFields) Field(i int) tengo.Object { c.made[i]++; return c.vals[i] }

// TestFieldsRecord: a record made by NewFieldsRecord makes a field that must
// be kept once, asks again for shared values (true, false, undefined)
// without allocating, carries a pointer to its own copy of the source as its
// payload, and behaves like a full record.
func TestFieldsRecord(t *testing.T) {
	vals := []tengo.Object{str("sip:a@x.com"), tengo.UndefinedValue, tengo.TrueValue}
	src := countedFields{vals: vals, made: map[int]int{}}
	r := NewFieldsRecord(userSchema, src)
	p, ok := r.Payload().(*countedFields)
	if !ok || p.made == nil {
		t.Fatalf("payload %T, want *countedFields", r.Payload())
	}
	r.Get("identity")
	r.Get("identity")
	r.Get("enabled")
	r.Get("enabled")
	if p.made[0] != 1 || p.made[2] != 2 {
		t.Errorf("fields made %v, want identity once and enabled (shared) twice", p.made)
	}
	if n := testing.AllocsPerRun(100, func() { r.Get("enabled"); r.Get("display_name") }); n != 0 {
		t.Errorf("reading shared values allocates %v times", n)
	}
	full := NewRecord(userSchema, []tengo.Object{str("sip:a@x.com"), nil, tengo.TrueValue}, nil)
	if !r.Equals(full) || !full.Equals(r) || r.String() != full.String() || len(r.ToMap().Value) != 3 {
		t.Errorf("record %s differs from full %s", r, full)
	}
	var keys []string
	for it := r.Iterate(); it.Next(); {
		keys = append(keys, it.Key().String()+"="+it.Value().String())
	}
	if got := strings.Join(keys, " "); got != `"identity"="sip:a@x.com" "display_name"=<undefined> "enabled"=true` {
		t.Errorf("iterated %s", got)
	}
}

func TestTargetBinding(t *testing.T) {
	h := newHarness(t, Options{Builtins: fusionBuiltins()})
	// An all-digit string is never an identity, so it stays an argument.
	if got := h.value(`["sip:a@x.com"] | grant("583920")`); plainText(got) != "sip:a@x.com->583920" {
		t.Errorf("a PIN-like argument was taken for a target: %v", got)
	}
	if _, err := h.run(`grant(undefined, "Secure")`); err == nil || !strings.Contains(err.Error(), "the target is undefined") {
		t.Errorf("undefined target: err = %v", err)
	}
}

// TestWrittenUndefinedAndOptions: a literal undefined in a call of a
// WrittenUndefined builtin reaches it as WrittenUndefinedValue, one read from
// a variable or field as undefined; a trailing options map never turns the
// first argument into the target.
func TestWrittenUndefinedAndOptions(t *testing.T) {
	h := newHarness(t, Options{Builtins: fusionBuiltins()})
	tests := []struct{ code, want string }{
		{`["a@x.com"] | grant(undefined)`, "a@x.com-><written undefined>"},
		{`["a@x.com"] | grant(undefined, {whatif: true})`, "a@x.com-><written undefined>+opts"},
		{`grant("a@x.com", undefined)`, "a@x.com-><written undefined>"},
		{`["a@x.com"] | grant({}.polcy)`, "a@x.com-><undefined>"},
		{`grant("a@x.com", [undefined][0], {whatif: true})`, "a@x.com-><undefined>+opts"},
		{`["a@x.com"] | grant("Secure", {whatif: true})`, "a@x.com->Secure+opts"},
		{`grant("a@x.com", "Secure", {whatif: true})`, "a@x.com->Secure+opts"},
		{`grant({identity: "a@x.com"}, "Secure")`, "a@x.com->Secure"},
		{`func(x) { return x }(undefined) == undefined`, "true"},
		// a local or parameter named like the builtin gets plain undefined
		{`func() { grant := func(x) { return is_undefined(x) }; return grant(undefined) }()`, "true"},
		{`func(grant) { return grant(undefined) }(func(x) { return is_undefined(x) })`, "true"},
	}
	for _, tt := range tests {
		if got := plainText(h.value(tt.code)); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
	if _, err := h.run(`grant(undefined, "Secure", {whatif: true})`); err == nil || !strings.Contains(err.Error(), "the target is undefined") {
		t.Errorf("written undefined target: err = %v", err)
	}
	if got := plainText(h.value(`string(grant(undefined))`)); got != "<stage grant(undefined)>" {
		t.Errorf("bound stage prints as %s", got)
	}
	if !WrittenUndefinedValue.Equals(tengo.UndefinedValue) || !WrittenUndefinedValue.IsFalsy() || !IsUndefined(WrittenUndefinedValue) || IsUndefined(tengo.FalseValue) {
		t.Error("WrittenUndefinedValue does not behave as undefined")
	}
}

func TestWhereMapMisspeltField(t *testing.T) {
	h := newHarness(t, Options{})
	_, err := h.run(`fake_pins(3) | where({is_pin_sett: true}) | count`)
	if err == nil || !strings.Contains(err.Error(), `where: pin_info record has no field "is_pin_sett"; did you mean is_pin_set?`) {
		t.Errorf("err = %v", err)
	}
	if got := h.value(`[{a: 1}, {b: 2}] | where({a: 1}) | count`).String(); got != "1" {
		t.Errorf("maps may lack a field: %s", got)
	}
}
