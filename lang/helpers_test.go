package lang

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/d5/tengo/v2"
)

// The builtins below stand in for the real ones (package builtins): they use
// only the API a builtin author has, and count what they read so that tests
// can check laziness.

var (
	testNow = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

	pinSchema = NewSchema("pin_info", "identity", "display_name", "is_pin_set", "is_locked_out",
		"locked_by", "is_pin_expired", "last_pin_change_time", "pin_expiration_time").
		Columns("identity", "is_pin_set", "is_locked_out", "pin_expiration_time")
	userSchema    = NewSchema("user", "identity", "display_name", "enabled")
	summarySchema = NewSchema("summary", "changed", "skipped", "failed").OneLine()
)

type world struct {
	pulls   int    // chunks pulled by sources
	records int    // records made by sources
	invoked int    // items seen by each()
	onPull  func() // called at every chunk a source pulls (benchmarks sample memory)
}

func str(s string) tengo.Object { return &tengo.String{Value: s} }
func num(i int) tengo.Object    { return &tengo.Int{Value: int64(i)} }
func boolean(b bool) tengo.Object {
	if b {
		return tengo.TrueValue
	}
	return tengo.FalseValue
}

// pinRecord makes the i-th fake pin info record: every other PIN set, every
// fifth locked by an admin; expiration cycles never / expired / in 30 days.
func pinRecord(i int) *Record {
	exp := Never()
	switch i % 3 {
	case 1:
		exp = NewTime(testNow.Add(-24 * time.Hour))
	case 2:
		exp = NewTime(testNow.Add(30 * 24 * time.Hour))
	}
	lockedBy := tengo.UndefinedValue
	if i%5 == 0 {
		lockedBy = str("admin")
	}
	return NewRecord(pinSchema, []tengo.Object{
		str(fmt.Sprintf("sip:user%d@litwareinc.com", i)),
		str(fmt.Sprintf("User %d", i)),
		boolean(i%2 == 0),
		boolean(i%5 == 0),
		lockedBy,
		boolean(i%3 == 1),
		NewTime(testNow.Add(-time.Duration(i) * time.Hour)),
		exp,
	}, i)
}

var sampleUsers = []string{"Ken Myer", "Pilar Ackerman", "David Longmuir", "Aidan Delaney"}

func sipOf(display string) string {
	return "sip:" + strings.ToLower(strings.ReplaceAll(display, " ", "")) + "@litwareinc.com"
}

func argInt(args []tengo.Object, i int, name string) (int, error) {
	if len(args) <= i {
		return 0, fmt.Errorf("missing argument %s", name)
	}
	n, ok := args[i].(*tengo.Int)
	if !ok {
		return 0, fmt.Errorf("%s must be an int, not %s", name, args[i].TypeName())
	}
	return int(n.Value), nil
}

func (w *world) builtins() []*Builtin {
	return []*Builtin{
		{
			Name: "fake_pins", Kind: Source, Sig: "fake_pins(n)", Doc: "n fake pin info records, in chunks of 1024",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				n, err := argInt(args, 0, "n")
				if err != nil {
					return nil, err
				}
				next := 0
				return env.Source(func(ctx context.Context) ([]tengo.Object, error) {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					w.pulls++
					if w.onPull != nil {
						w.onPull()
					}
					chunk := make([]tengo.Object, 0, 1024)
					for ; next < n && len(chunk) < 1024; next++ {
						chunk = append(chunk, pinRecord(next))
						w.records++
					}
					return chunk, nil
				}), nil
			},
		},
		{
			Name: "get_users", Kind: Source, Sig: "get_users()", Doc: "the sample users",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				var items []tengo.Object
				for _, d := range sampleUsers {
					items = append(items, NewRecord(userSchema, []tengo.Object{str(sipOf(d)), str(d), tengo.TrueValue}, nil))
				}
				return env.Items(items), nil
			},
		},
		{
			Name: "where", Kind: Stage, Sig: "where(pred)", Doc: "keep items for which pred holds",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				if len(args) != 1 {
					return nil, errors.New("want one predicate")
				}
				pred, err := env.Predicate(args[0])
				if err != nil {
					return nil, err
				}
				return env.Filter(in, pred), nil
			},
		},
		{
			Name: "first", Kind: Stage, Sig: "first(n)", Doc: "the first n items",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				n, err := argInt(args, 0, "n")
				if err != nil {
					return nil, err
				}
				return env.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
					if n <= 0 {
						return nil, false, nil
					}
					n--
					return in.Next(ctx)
				}), nil
			},
		},
		{
			Name: "each", Kind: Stage, Sig: "each(fn)", Doc: "call fn on each item, pass it on",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				return env.Map(in, func(_ context.Context, item tengo.Object) (tengo.Object, error) {
					w.invoked++
					_, err := env.Invoke(args[0], item)
					return item, err
				}), nil
			},
		},
		{
			Name: "noop", Kind: Stage, Targets: true, Sig: "noop", Doc: "passes its input on",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				return in, nil
			},
		},
		{
			Name: "count", Kind: Sink, Sig: "count", Doc: "number of items",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				n := 0
				for {
					_, ok, err := in.Next(env.Context())
					if err != nil {
						return nil, err
					}
					if !ok {
						return num(n), nil
					}
					n++
				}
			},
		},
		{
			Name: "collect", Kind: Sink, Sig: "collect", Doc: "all items in an array", Keeps: true,
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				items, err := in.Collect(env.Context())
				return &tengo.Array{Value: items}, err
			},
		},
		{
			Name: "pin_info", Kind: Stage, Targets: true, Sig: "pin_info", Doc: "pin info of users",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				return env.Batch(in, 3, func(_ context.Context, batch []tengo.Object) ([]tengo.Object, error) {
					out := make([]tengo.Object, 0, len(batch))
					for _, u := range batch {
						id, ok := identityOf(u)
						if !ok {
							return nil, fmt.Errorf("%s is not a user", u.TypeName())
						}
						if id == "nobody" {
							fmt.Fprintf(env.Stderr(), "pin_info: %s: no such user\n", id)
							continue
						}
						rec := pinRecord(len(id))
						vals := append([]tengo.Object(nil), rec.values...)
						vals[0] = str(id)
						out = append(out, NewRecord(pinSchema, vals, id))
					}
					return out, nil
				}), nil
			},
		},
		{
			Name: "lock_pin", Kind: Sink, Targets: true, Sig: "lock_pin([opts])", Doc: "lock PINs",
			Run: func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error) {
				whatif := false
				if len(args) == 1 {
					m, ok := args[0].(*tengo.Map)
					if !ok {
						return nil, fmt.Errorf("options must be a map, not %s", args[0].TypeName())
					}
					whatif = !m.Value["whatif"].IsFalsy()
				}
				n := 0
				for {
					item, ok, err := in.Next(env.Context())
					if err != nil {
						return nil, err
					}
					if !ok {
						break
					}
					if whatif {
						id, _ := identityOf(item)
						fmt.Fprintf(env.Stdout(), "What if: Performing the operation \"lock_pin\" on target %q.\n", id)
					}
					n++
				}
				if whatif {
					return NewRecord(summarySchema, []tengo.Object{num(0), num(n), num(0)}, nil), nil
				}
				return NewRecord(summarySchema, []tengo.Object{num(n), num(0), num(0)}, nil), nil
			},
		},
		{
			Name: "now", Kind: Func, Sig: "now()", Doc: "the time",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				return NewTime(testNow), nil
			},
		},
		{
			Name: "boom", Kind: Func, Sig: "boom(msg)", Doc: "fails",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				return nil, errors.New("it went boom")
			},
		},
		{
			Name: "go_panic", Kind: Func, Sig: "go_panic()", Doc: "panics",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				var m map[string]int
				m["x"] = 1 // a nil map write: a bug in a builtin
				return nil, nil
			},
		},
		{
			Name: "bad_source", Kind: Source, Sig: "bad_source(n)", Doc: "fails after n items",
			Call: func(env *Env, args []tengo.Object) (tengo.Object, error) {
				n, err := argInt(args, 0, "n")
				if err != nil {
					return nil, err
				}
				i := 0
				return env.Iter(func(context.Context) (tengo.Object, bool, error) {
					if i >= n {
						return nil, false, errors.New("the store went away")
					}
					i++
					return num(i), true, nil
				}), nil
			},
		},
	}
}

type harness struct {
	t   testing.TB
	s   *Session
	out *bytes.Buffer
	err *bytes.Buffer
	w   *world
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, out: new(bytes.Buffer), err: new(bytes.Buffer), w: new(world)}
	opts.Stdout, opts.Stderr = h.out, h.err
	opts.Builtins = append(h.w.builtins(), opts.Builtins...)
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	s, err := NewSession(opts)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	h.s = s
	return h
}

// run evaluates src and returns what it printed.
func (h *harness) run(src string) (string, error) {
	h.t.Helper()
	h.out.Reset()
	err := h.s.Eval(context.Background(), "test.tengo", []byte(src))
	return h.out.String(), err
}

// must evaluates src, failing the test on error.
func (h *harness) must(src string) string {
	h.t.Helper()
	out, err := h.run(src)
	if err != nil {
		h.t.Fatalf("%s\nunexpected error: %v", src, err)
	}
	return out
}

// value evaluates the expression src in a fresh global and returns it.
func (h *harness) value(src string) tengo.Object {
	h.t.Helper()
	h.must("result__ := " + src)
	v, ok := h.s.Lookup("result__")
	if !ok {
		h.t.Fatalf("no result__")
	}
	return v
}

func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *lang.Error", err, err)
	}
	return e
}
