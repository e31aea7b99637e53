package lang

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/token"
)

// Kind says how a builtin takes its input and what it gives back.
type Kind uint8

const (
	// Func is a plain function: contains(arr, x), now().
	Func Kind = iota
	// Source is a function that returns a stream, such as get_users(). Used
	// bare at the head of a pipe it is called with no arguments:
	// get_users | pin_info.
	Source
	// Stage turns an input (a stream or an array) into a new stream:
	// where(f), pin_info.
	Stage
	// Sink consumes an input and returns a value: count, lock_pin.
	Sink
)

// String returns "func", "source", "stage" or "sink".
func (k Kind) String() string {
	switch k {
	case Func:
		return "func"
	case Source:
		return "source"
	case Stage:
		return "stage"
	case Sink:
		return "sink"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Example is one usage example of a builtin, shown by help() and run by the
// builtins' tests.
type Example struct {
	Code   string // a script fragment
	Output string // what it prints, or "" when the output is not checked
}

// Builtin declares one global function of the language: its name, its kind,
// its help text and its Go implementation. A table of Builtins is passed to
// NewSession, the way Tengo's stdlib declares a module in one map.
//
// Calling forms of a Stage or Sink builtin b (these are decided by lang;
// b.Run sees only the input stream and the other arguments):
//
//	s | b                  b.Run(s, [])
//	s | b(x, y)            b.Run(s, [x, y])       b(x, y) is a bound stage
//	b(s, x, y)             b.Run(s, [x, y])       s is an input: runs now
//	f := b(x) | c; s | f   stages compose
//
// An input is a stream or an array; for a builtin with Targets set it is
// also a single target: a string (an identity) or a record or map with a
// string "identity" field. A map without "identity" is never an input, so an
// options map stays an argument: lock_pin({whatif: true}) is a bound stage.
// Its arguments are checked by Bind when the call binds them, so that a
// call that could never run (lock_pin({foo: 1}), lock_pin(12345)) fails
// where it is written, not silently as a stage nothing is piped into.
// A Stage given a single target returns the one record its stream yields
// (undefined for none, an array if it yields several) instead of a stream.
type Builtin struct {
	Name     string    // the global name: snake_case, unique
	Kind     Kind      // see Kind
	Targets  bool      // Stage/Sink: a string or an identity-carrying record is an input
	Sig      string    // one-line signature for help, e.g. "where(pred)"
	Doc      string    // what it does, for help
	Examples []Example // executed by the builtins' tests

	// Cmdlets are the PowerShell commands this builtin stands for, spelt
	// as PowerShell documents them: {"Lock-CsClientPin"} for lock_pin. A
	// cmdlet names at most one builtin of a session; help, the "did you
	// mean" of an unknown name and a PowerShell front end find the builtin
	// by it with ByCmdlet, ignoring case as PowerShell does.
	Cmdlets []string

	// PowerShell says, in a line, how the cmdlet's call maps onto the
	// builtin's (its parameters, -WhatIf, the pipeline), for help:
	// "Lock-CsClientPin -Identity X -WhatIf: lock_pin(\"X\", {whatif: true})".
	PowerShell string

	// MinArgs is, for a Stage or Sink, how many arguments besides its input
	// it always takes. A call with no more arguments than that is a bound
	// stage even when its first argument looks like an input, so that
	// grant_pin_policy("Secure") binds the policy name instead of taking
	// it for an identity.
	MinArgs int

	// WrittenUndefined is that a literal undefined written as an argument
	// of a call of this builtin reaches Run as WrittenUndefinedValue, not
	// as undefined, so that the builtin can tell an undefined written on
	// purpose (grant_pin_policy(t, undefined) takes the policy away) from
	// one read from a misspelt variable or map field, which it refuses.
	WrittenUndefined bool

	// SecretArgs is, for a Stage or Sink, that its arguments may hold a
	// PIN (set_pin): a bound stage of it never shows them, in its printed
	// form or in any message.
	SecretArgs bool

	// Bind, if set, checks the arguments of a Stage or Sink when a call
	// binds them into a stage (no input given), so that a call that can
	// never be right is refused where it is written, before anything is
	// piped into it.
	Bind func(args []tengo.Object) error

	// Options lists, for a Stage or Sink, the keys of the options map it
	// takes (whatif, confirm, ...), for the package that declares it to
	// check a bound stage's arguments with (see Bind) as Run checks them.
	Options []string

	// Keeps is, for a Sink, that it keeps every item it reads (collect,
	// export_csv): only such a sink may read a precious stream (see
	// Precious); any other stage or sink is refused one.
	Keeps bool

	// Shows is, for a Sink, that it shows its input as the printer does,
	// with Env.PrintStream (page): a View may be piped into it, where any
	// other stage or sink refuses one (Format-Table | Out-Host -Paging).
	Shows bool

	// Call implements a Func or Source builtin; args are the call's
	// arguments. A nil result reads as undefined.
	Call func(env *Env, args []tengo.Object) (tengo.Object, error)

	// Run implements a Stage or Sink builtin: in is its input (already
	// claimed, and a one-item stream for a single target), args the other
	// arguments. A Stage returns a *Stream (use env.Filter, env.Map,
	// env.Batch, ...); a Sink drains in and returns its result.
	Run func(env *Env, in *Stream, args []tengo.Object) (tengo.Object, error)
}

func (b *Builtin) check() error {
	if !isIdent(b.Name) {
		return fmt.Errorf("builtin %q: name is not an identifier", b.Name)
	}
	switch b.Kind {
	case Func, Source:
		if b.Call == nil || b.Run != nil {
			return fmt.Errorf("builtin %s: a %s sets Call and not Run", b.Name, b.Kind)
		}
		if b.Targets || b.MinArgs != 0 || b.Keeps || b.Shows || b.SecretArgs || b.Bind != nil || b.Options != nil {
			return fmt.Errorf("builtin %s: Targets, MinArgs, Keeps, Shows, SecretArgs, Bind and Options apply to stages and sinks only", b.Name)
		}
	case Stage, Sink:
		if b.Run == nil || b.Call != nil {
			return fmt.Errorf("builtin %s: a %s sets Run and not Call", b.Name, b.Kind)
		}
		if (b.Keeps || b.Shows) && b.Kind != Sink {
			return fmt.Errorf("builtin %s: Keeps and Shows apply to sinks only", b.Name)
		}
	default:
		return fmt.Errorf("builtin %s: unknown kind %d", b.Name, b.Kind)
	}
	for _, c := range b.Cmdlets {
		if !isCmdletName(c) {
			return fmt.Errorf("builtin %s: cmdlet %q is not a Verb-Noun name", b.Name, c)
		}
	}
	return nil
}

// ByName returns the builtin of list named name, or nil.
func ByName(list []*Builtin, name string) *Builtin {
	for _, b := range list {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// ByCmdlet returns the builtin of list that stands for the PowerShell
// command name (see Builtin.Cmdlets), compared ignoring case, or nil.
func ByCmdlet(list []*Builtin, name string) *Builtin {
	for _, b := range list {
		for _, c := range b.Cmdlets {
			if strings.EqualFold(c, name) {
				return b
			}
		}
	}
	return nil
}

// isCmdletName reports whether s has the Verb-Noun form of a PowerShell
// command name: letters, one hyphen between two words.
func isCmdletName(s string) bool {
	verb, noun, ok := strings.Cut(s, "-")
	return ok && isLetters(verb) && isLetters(noun)
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// Env is a builtin's view of the Session that runs it: the current context
// and output writers, the machinery to call script functions, and the stream
// constructors (see stream.go). A builtin may keep its Env, for example in a
// stream it returns; it must not use it from another goroutine.
type Env struct {
	s *Session
}

// Context returns the context of the current run: it is cancelled on Ctrl-C,
// on timeout and when the run exceeds its memory limit. Outside a run it is
// context.Background().
func (e *Env) Context() context.Context {
	if e.s.ctx != nil {
		return e.s.ctx
	}
	return context.Background()
}

// Stdout returns the writer for results. It is buffered, in order with what
// the session prints, and flushed at the end of each Eval; at a terminal
// (Options.Width > 0) it is flushed after every write that ends a line, so
// that what a long run says shows as it happens.
func (e *Env) Stdout() io.Writer { return terminalWriter{e.s} }

type terminalWriter struct{ s *Session }

func (w terminalWriter) Write(p []byte) (int, error) {
	n, err := w.s.out.Write(p)
	if err == nil && n > 0 && p[n-1] == '\n' {
		err = w.s.lineDone()
	}
	return n, err
}

// Print prints v to Stdout as a statement's value is printed, in the
// session's format (a stream is read to its end, a view shown): for a
// builtin that shows a value itself, in a script as at the prompt.
func (e *Env) Print(v tengo.Object) error { return e.s.print(e.Context(), v) }

// Stderr returns the writer for messages and per-item errors. Writing to it
// first flushes Stdout, so the two stay in order at a terminal.
func (e *Env) Stderr() io.Writer { return e.s.stderr }

// Invoke calls fn with args and returns its result. fn may be a script
// function (closures, variadic functions and recursion work, and the function
// may itself run pipelines that call back into Go) or any callable value: a
// builtin, a bound stage, a Tengo builtin function.
//
// An error raised inside a script function comes back as an *Error at the
// position where it happened, naming the item being processed (the first
// argument that is a record, else the first argument). Invoke fails at once
// when the run has been interrupted, and when script functions are nested
// deeper than Limits.MaxCallDepth through Go.
func (e *Env) Invoke(fn tengo.Object, args ...tengo.Object) (tengo.Object, error) {
	return e.s.invoke(fn, args)
}

// Predicate turns the argument of a filtering builtin into a Go predicate,
// ready for Filter: a callable is invoked with the item and its result's
// truthiness decides; a map of field values keeps an item whose fields all
// equal them (evaluated in Go, without calling into the VM). In a map,
// strings compare ignoring case, as PowerShell's -eq does (see
// MatchOptions); a field that a record's type does not have is a
// *FieldError; a field a record leaves unset, or a key a map item lacks,
// equals undefined. Anything else is an error.
func (e *Env) Predicate(p tengo.Object) (func(ctx context.Context, item tengo.Object) (bool, error), error) {
	return e.PredicateWith(p, MatchOptions{})
}

// MatchOptions change how the map form of a predicate compares values.
type MatchOptions struct {
	// CaseSensitive compares strings exactly, as PowerShell's -ceq does;
	// by default {site: "redmond"} matches "Redmond".
	CaseSensitive bool
}

// PredicateWith is Predicate with options for the map form.
func (e *Env) PredicateWith(p tengo.Object, o MatchOptions) (func(ctx context.Context, item tengo.Object) (bool, error), error) {
	switch p := p.(type) {
	case *tengo.Map:
		return matchFields(p.Value, o)
	case *tengo.ImmutableMap:
		return matchFields(p.Value, o)
	}
	if p.CanCall() {
		return func(_ context.Context, item tengo.Object) (bool, error) {
			r, err := e.s.invoke(p, []tengo.Object{item})
			if err != nil {
				return false, err
			}
			return !r.IsFalsy(), nil
		}, nil
	}
	return nil, fmt.Errorf("a predicate is a function or a map of field values, not %s", p.TypeName())
}

// fieldValues are the wanted values of a field-value map, in key order.
type fieldValues struct {
	keys []string
	vals []tengo.Object
	fold []string // for a string compared ignoring case, the string; else unused
	cmp  []bool   // true: compare with fold
}

// match reports whether v equals the i-th wanted value.
func (f *fieldValues) match(i int, v tengo.Object) bool {
	if !f.cmp[i] {
		return equal(v, f.vals[i])
	}
	return f.matchFold(i, v)
}

func (f *fieldValues) matchFold(i int, v tengo.Object) bool {
	s, ok := v.(*tengo.String)
	return ok && strings.EqualFold(s.Value, f.fold[i])
}

// matchFields returns the predicate of a field-value map; it caches the
// field positions of the last record schema it saw.
//
// An undefined wanted value is refused: it would match every record that
// leaves the field unset, so a misspelt variable ({pin_policy: cfg.polcy})
// would select users nobody meant. A record field whose value is of another
// kind than the wanted value (a string for a bool field) is an error when
// the first such record is reached, not a silent mismatch: schemas do not
// declare field kinds, so the records themselves tell them.
func matchFields(want map[string]tengo.Object, o MatchOptions) (func(context.Context, tengo.Object) (bool, error), error) {
	f := &fieldValues{keys: make([]string, 0, len(want))}
	for k := range want {
		f.keys = append(f.keys, k)
	}
	sort.Strings(f.keys)
	for _, k := range f.keys {
		if IsUndefined(want[k]) {
			return nil, fmt.Errorf("field %s: the value is undefined (a misspelt variable or field?); "+
				"a field map never selects unset fields; to select records whose %s is unset write "+
				"func(r) { return is_undefined(r.%s) }", k, k, k)
		}
	}
	f.vals = make([]tengo.Object, len(f.keys))
	f.fold = make([]string, len(f.keys))
	f.cmp = make([]bool, len(f.keys))
	for i, k := range f.keys {
		f.vals[i] = want[k]
		if s, ok := want[k].(*tengo.String); ok && !o.CaseSensitive {
			f.fold[i], f.cmp[i] = s.Value, true
		}
	}
	var schema *Schema
	idx := make([]int, len(f.keys))
	return func(_ context.Context, item tengo.Object) (bool, error) {
		if len(f.keys) == 0 { // no field to compare: any item
			return true, nil
		}
		switch r := item.(type) {
		case *Record:
			if r.schema != schema {
				for i, k := range f.keys {
					if idx[i] = r.schema.Index(k); idx[i] < 0 {
						// A misspelt field would silently match nothing.
						schema = nil
						return false, r.schema.NoField(k)
					}
				}
				schema = r.schema
			}
			for i, j := range idx { // match, by hand: this runs for every record
				v := r.Value(j)
				if f.cmp[i] {
					if !f.matchFold(i, v) {
						return false, f.kindError(i, v, j == r.schema.secret)
					}
				} else if !equal(v, f.vals[i]) {
					return false, f.kindError(i, v, j == r.schema.secret)
				}
			}
			return true, nil
		case *tengo.Map:
			return f.matchMap(r.Value), nil
		case *tengo.ImmutableMap:
			return f.matchMap(r.Value), nil
		}
		return false, nil
	}, nil
}

// kindError is the error of a record whose field value v, which does not
// match the i-th wanted value, is of another kind than it; nil if v is
// unset or of the same kind. The wanted value of a secret field is never
// shown.
func (f *fieldValues) kindError(i int, v tengo.Object, secret bool) error {
	want := f.vals[i]
	have := valueKind(v)
	if have == "" || have == valueKind(want) {
		return nil
	}
	given := kindArticle(want) + " " + literal(want, 1)
	if secret {
		given = "a " + valueKind(want)
	}
	msg := fmt.Sprintf("field %s is %s, not %s", f.keys[i], kindPhrase(have), given)
	if s, ok := want.(*tengo.String); ok && !secret && unquotedKind(s.Value) == have {
		msg += fmt.Sprintf("; write {%s: %s} without quotes", f.keys[i], strings.TrimSpace(s.Value))
	}
	return errors.New(msg)
}

// valueKind is the kind of a value a field map compares: "" for undefined.
func valueKind(v tengo.Object) string {
	switch v.(type) {
	case *tengo.Undefined, *writtenUndefined:
		return ""
	case *tengo.String:
		return "string"
	case *tengo.Bool:
		return "bool"
	case *tengo.Int, *tengo.Float:
		return "number" // a field may hold either: attempts 0 or 0.5
	case *Time, *tengo.Time:
		return "time"
	case *tengo.Array, *tengo.ImmutableArray:
		return "array"
	case *tengo.Map, *tengo.ImmutableMap, *Record:
		return "map"
	}
	return v.TypeName()
}

// kindPhrase says what values of a field of kind k are.
func kindPhrase(k string) string {
	switch k {
	case "bool":
		return "true or false"
	case "number", "string", "time", "map":
		return "a " + k
	case "array":
		return "an array"
	}
	return "of type " + k
}

// kindArticle names the kind of a given value: "the string", "the int".
func kindArticle(v tengo.Object) string {
	return "the " + v.TypeName()
}

// unquotedKind is the kind s would have written without quotes: "bool" for
// true or false, "number" for a number; "" otherwise.
func unquotedKind(s string) string {
	s = strings.TrimSpace(s)
	if s == "true" || s == "false" {
		return "bool"
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return "number"
	}
	return ""
}

func (f *fieldValues) matchMap(m map[string]tengo.Object) bool {
	for i, k := range f.keys {
		v, ok := m[k]
		if !ok {
			v = tengo.UndefinedValue
		}
		if !f.match(i, v) {
			return false
		}
	}
	return true
}

// equal is == for values whose Equals may know only one side (a pinsh time
// equals a Tengo time, not the other way round).
func equal(a, b tengo.Object) bool {
	return a.Equals(b) || b.Equals(a)
}

// Input returns x as a stream a builtin can read: a stream (claimed for the
// builtin) or an array. It fails for anything else.
func (e *Env) Input(x tengo.Object) (*Stream, error) {
	switch x := x.(type) {
	case *Stream:
		if err := x.claim("another builtin", false); err != nil {
			return nil, err
		}
		return x, nil
	case *tengo.Array:
		return e.Items(x.Value), nil
	case *tengo.ImmutableArray:
		return e.Items(x.Value), nil
	}
	return nil, fmt.Errorf("expected a stream or an array, found %s", x.TypeName())
}

// builtinObj is a Builtin as a Tengo value of one session.
type builtinObj struct {
	tengo.ObjectImpl
	def *Builtin
	env *Env
}

func (b *builtinObj) TypeName() string { return "builtin-function:" + b.def.Name }
func (b *builtinObj) String() string   { return "<builtin " + b.def.Name + ">" }
func (b *builtinObj) Equals(x tengo.Object) bool {
	o, ok := x.(*builtinObj)
	return ok && o.def == b.def
}
func (b *builtinObj) Copy() tengo.Object { return b }
func (b *builtinObj) CanCall() bool      { return true }

// Call dispatches the calling forms described at Builtin.
func (b *builtinObj) Call(args ...tengo.Object) (tengo.Object, error) {
	if b.def.Kind == Func || b.def.Kind == Source {
		return b.env.callFunc(b.def, args)
	}
	n := len(args)
	if v, ok := firstView(args); ok && !b.def.Shows {
		return nil, builtinError(b.def.Name, v.unread("give %s to "+b.def.Name))
	}
	if n > 0 && isOptions(args[n-1]) {
		// A trailing options map is not one of the MinArgs, so that
		// grant_pin_policy("X", {whatif: true}) binds "X" as
		// grant_pin_policy("X") does, instead of taking it for a target.
		n--
	}
	if n > b.def.MinArgs && b.def.Targets && IsUndefined(args[0]) {
		return nil, fmt.Errorf("%s: the target is undefined; check the variable or field that should name a user", b.def.Name)
	}
	if n > b.def.MinArgs && isInput(b.def, args[0]) {
		return b.env.apply([]step{{b.def, args[1:]}}, args[0], parser.NoPos)
	}
	if b.def.Bind != nil {
		if err := b.def.Bind(args); err != nil {
			return nil, builtinError(b.def.Name, err)
		}
	}
	return &stage{env: b.env, steps: []step{{b.def, args}}}, nil
}

// firstView returns the view among args, which no builtin reads (see View).
func firstView(args []tengo.Object) (*View, bool) {
	for _, a := range args {
		if v, ok := a.(*View); ok {
			return v, true
		}
	}
	return nil, false
}

func (e *Env) callFunc(def *Builtin, args []tengo.Object) (tengo.Object, error) {
	v, err := def.Call(e, args)
	if err != nil {
		return nil, builtinError(def.Name, err)
	}
	if v == nil {
		v = tengo.UndefinedValue
	}
	if s, ok := v.(*Stream); ok && s.by == "" {
		s.by = def.Name
	}
	return v, nil
}

// builtinError makes a builtin's error name the builtin, once. Errors raised
// by script code (*Error) already carry their position and are kept as they
// are.
func builtinError(name string, err error) error {
	var le *Error
	var se *stageError
	if errors.As(err, &le) || errors.As(err, &se) {
		return err
	}
	switch {
	case err == tengo.ErrWrongNumArguments:
		return fmt.Errorf("%s: wrong number of arguments", name)
	case strings.HasPrefix(err.Error(), name+":"):
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// step is one builtin of a pipeline with its bound arguments.
type step struct {
	def  *Builtin
	args []tengo.Object
}

// stage is a pipeable, callable value: a bound stage such as where(f), or a
// composition such as pin_info | where(f).
type stage struct {
	tengo.ObjectImpl
	env   *Env
	steps []step
}

func (s *stage) TypeName() string { return "stage" }

func (s *stage) String() string {
	parts := make([]string, len(s.steps))
	for i, st := range s.steps {
		args := make([]string, len(st.args))
		for j, a := range st.args {
			args[j] = literal(a, 1)
		}
		parts[i] = st.def.Name
		if st.def.SecretArgs && len(args) > 0 {
			args = []string{"..."} // never a PIN in a message
		}
		if len(args) > 0 {
			parts[i] += "(" + strings.Join(args, ", ") + ")"
		}
	}
	return "<stage " + strings.Join(parts, " | ") + ">"
}

func (s *stage) Equals(x tengo.Object) bool { return s == x }
func (s *stage) Copy() tengo.Object         { return s }
func (s *stage) CanCall() bool              { return true }

// Call applies the stage to its one argument: f(users) is users | f.
func (s *stage) Call(args ...tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s takes one input (a stream or an array), got %d arguments",
			s.String(), len(args))
	}
	if !isInput(s.steps[0].def, args[0]) {
		return nil, notInput(args[0], s.steps[0].def)
	}
	return s.env.apply(s.steps, args[0], parser.NoPos)
}

// stepsOf returns the pipeline of a stage value: a bound or composed stage,
// or a Stage or Sink builtin used bare.
func stepsOf(o tengo.Object) ([]step, bool) {
	switch o := o.(type) {
	case *stage:
		return o.steps, true
	case *builtinObj:
		if o.def.Kind == Stage || o.def.Kind == Sink {
			return []step{{o.def, nil}}, true
		}
	}
	return nil, false
}

func isCollection(x tengo.Object) bool {
	switch x.(type) {
	case *Stream, *tengo.Array, *tengo.ImmutableArray:
		return true
	}
	return false
}

// isOptions reports whether x is an options map: a map without an
// "identity" field (one with it is a target).
func isOptions(x tengo.Object) bool {
	var m map[string]tengo.Object
	switch x := x.(type) {
	case *tengo.Map:
		m = x.Value
	case *tengo.ImmutableMap:
		m = x.Value
	default:
		return false
	}
	_, isTarget := m["identity"]
	return !isTarget
}

// WrittenUndefinedValue is what a literal undefined written as an argument
// of a call of a builtin with WrittenUndefined set reads as (see
// Builtin.WrittenUndefined). It prints as undefined, is falsy and equals
// undefined.
var WrittenUndefinedValue tengo.Object = &writtenUndefined{}

// writtenUndefinedFor is :undefined(f), a literal undefined written as an
// argument of a call of f (see rewriter): WrittenUndefinedValue if f is a
// builtin with WrittenUndefined set, else undefined.
func writtenUndefinedFor(args ...tengo.Object) (tengo.Object, error) {
	if b, ok := args[0].(*builtinObj); ok && b.def.WrittenUndefined {
		return WrittenUndefinedValue, nil
	}
	return tengo.UndefinedValue, nil
}

type writtenUndefined struct{ tengo.ObjectImpl }

func (*writtenUndefined) TypeName() string { return "undefined" }
func (*writtenUndefined) String() string   { return "undefined" }
func (*writtenUndefined) IsFalsy() bool    { return true }
func (u *writtenUndefined) Copy() tengo.Object {
	return u
}
func (u *writtenUndefined) Equals(x tengo.Object) bool {
	return x == u || x == tengo.UndefinedValue
}

// IsUndefined reports whether x is undefined, written literally
// (WrittenUndefinedValue) or not.
func IsUndefined(x tengo.Object) bool {
	return x == tengo.UndefinedValue || x == WrittenUndefinedValue
}

// isInput reports whether x is an input of def rather than an argument: a
// stream or an array, a record (for any stage: a record is never an
// argument), for a target-taking builtin an identity, and for a sink that
// Shows a view.
func isInput(def *Builtin, x tengo.Object) bool {
	if _, ok := x.(*View); ok {
		return def.Shows
	}
	if isCollection(x) {
		return true
	}
	if _, ok := x.(*Record); ok {
		return true
	}
	if def.Targets {
		id, ok := identityOf(x)
		return ok && !allDigits(id)
	}
	return false
}

// allDigits reports whether s is a non-empty string of ASCII digits: a PIN,
// never an identity (no identity form is digits only), so that
// users | set_pin("583920") binds the PIN instead of looking it up as a user
// and showing it in a "no such user" message.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func notInput(x tengo.Object, def *Builtin) error {
	if v, ok := x.(*View); ok {
		return v.unread("pipe %s into " + def.Name)
	}
	want := "a stream or an array"
	if def.Targets {
		want = "a stream, an array, an identity or a record with an identity"
	}
	return fmt.Errorf("cannot pipe %s into %s: it takes %s", x.TypeName(), def.Name, want)
}

// apply runs the steps on input x (an input of steps[0]). at is the
// position of the | that applies them, or NoPos: an error a stage raises
// later, while a sink reads its stream, is reported there.
func (e *Env) apply(steps []step, x tengo.Object, at parser.Pos) (tengo.Object, error) {
	single := !isCollection(x)
	cur := x
	for _, st := range steps {
		if !isInput(st.def, cur) {
			return nil, notInput(cur, st.def)
		}
		if err := e.s.showDropped(st.def, cur); err != nil {
			return nil, err
		}
		var in *Stream
		switch c := cur.(type) {
		case *Stream:
			if err := c.claim(st.def.Name, st.def.Keeps); err != nil {
				return nil, fmt.Errorf("%s: %w", st.def.Name, err)
			}
			in = c
		case *tengo.Array:
			in = e.Items(c.Value)
		case *tengo.ImmutableArray:
			in = e.Items(c.Value)
		default:
			in = e.Items([]tengo.Object{c}).WithOrigin(SingleTarget{c})
		}
		out, err := st.def.Run(e, in, st.args)
		if err != nil {
			return nil, builtinError(st.def.Name, err)
		}
		if out == nil {
			out = tengo.UndefinedValue
		}
		if out == tengo.Object(in) { // a stage that passes its input on hands it over unread
			in.claimed = ""
		} else if s, ok := out.(*Stream); ok && s.by == "" {
			s.by, s.at = st.def.Name, at
		}
		cur = out
	}
	last := steps[len(steps)-1].def
	if s, ok := cur.(*Stream); ok && single && last.Kind == Stage {
		v, err := e.collapse(s)
		if err != nil {
			return nil, builtinError(last.Name, err)
		}
		return v, nil
	}
	return cur, nil
}

// SingleTarget is the Origin of the one-item stream a Stage or Sink is given
// when it is called on a single target (lock_pin("kenmyer@litwareinc.com"),
// a record, or a string piped in) rather than on a stream or an array: a
// builtin can name that target, for example in the audit entry of a refused
// call, without reading its input.
type SingleTarget struct{ Value tengo.Object }

// collapse turns the stream of a stage run on a single target into its one
// record: undefined for none, an array for several.
func (e *Env) collapse(s *Stream) (tengo.Object, error) {
	items, err := s.Collect(e.Context())
	if err != nil {
		return nil, err
	}
	switch len(items) {
	case 0:
		return tengo.UndefinedValue, nil
	case 1:
		return items[0], nil
	}
	return &tengo.Array{Value: items}, nil
}

// pipe implements `lhs | rhs`: the parser's bitwise OR, rewritten before
// compiling into a call of this function. A stage on the right pipes; two
// stages compose; anything else falls back to the operand's own |.
func (e *Env) pipe(lhs, rhs tengo.Object, at parser.Pos) (tengo.Object, error) {
	rs, ok := stepsOf(rhs)
	if !ok {
		res, err := lhs.BinaryOp(token.Or, rhs)
		if err == tengo.ErrInvalidOperator {
			if _, isStage := stepsOf(lhs); isStage || isCollection(lhs) {
				return nil, fmt.Errorf("the right side of | must be a stage (a pipeline builtin, "+
					"bare or called with its arguments), not %s", rhs.TypeName())
			}
			err = fmt.Errorf("invalid operation: %s | %s", lhs.TypeName(), rhs.TypeName())
		}
		if err != nil {
			return nil, operatorError{err}
		}
		return res, nil
	}
	if ls, ok := stepsOf(lhs); ok {
		if last := ls[len(ls)-1].def; last.Kind == Sink {
			return nil, fmt.Errorf("%s is a sink: it ends a pipeline, so nothing can follow it", last.Name)
		}
		steps := make([]step, 0, len(ls)+len(rs))
		return &stage{env: e, steps: append(append(steps, ls...), rs...)}, nil
	}
	if b, ok := lhs.(*builtinObj); ok && b.def.Kind == Source {
		v, err := e.callFunc(b.def, nil)
		if err != nil {
			return nil, err
		}
		lhs = v
	}
	if !isInput(rs[0].def, lhs) {
		return nil, notInput(lhs, rs[0].def)
	}
	return e.apply(rs, lhs, at)
}
