package builtins

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
)

// Bounds of the caches that streamBuiltins' closures keep: enough for the
// distinct field lists and patterns of any real script, small enough that a
// loop building patterns from data cannot grow them without limit.
const (
	maxSelectSchemas = 256
	maxRegexps       = 128
)

// streamBuiltins returns the generic stream helpers of design §3: where,
// select, sort_by, first, count, collect, each, contains and matches. They
// know nothing of the store and work on any records, maps or values.
//
// Each call returns a new table whose select and matches share caches
// (schemas per field list, compiled regular expressions) among the sessions
// that use it; the caches are bounded and safe for concurrent use.
func streamBuiltins() []lang.Builtin {
	return streamTable(newStreamCache[*lang.Schema](maxSelectSchemas),
		newStreamCache[*regexp.Regexp](maxRegexps))
}

// streamTable returns the stream builtins with the given caches.
func streamTable(schemas *streamCache[*lang.Schema], regexps *streamCache[*regexp.Regexp]) []lang.Builtin {
	return []lang.Builtin{
		{
			Name:       "where",
			Cmdlets:    []string{"Where-Object"},
			PowerShell: "Where-Object {$_.IsPinSet -eq $True} -> where({is_pin_set: true}) or where(func(p) { return p.is_pin_set })",
			Kind:       lang.Stage,
			Sig:        "where(pred[, opts])",
			Doc: `Where-Object: keep the items for which pred holds.
pred is a function of one item whose truthy result keeps it, or a map of
field: value pairs that an item's fields must all equal (checked without
calling a script function, so it is the faster form; right after
get_users() | pin_info, a function that only compares the record's fields
with constants is checked that way too). In a map, strings
compare ignoring case, as PowerShell's -eq does ({site: "redmond"} keeps
Redmond); opts {case_sensitive: true} compares them exactly, as -ceq does,
and so does == in a function. A field that a
record's type does not have is an error naming the closest fields, in the
map and in the function (p.IsPinSet: did you mean is_pin_set?); a field the
record leaves unset, or a key a map lacks, equals undefined. An empty map,
where({}), is refused: it would keep everything. A map value that is
undefined is refused (a misspelt variable would select every record
leaving the field unset: write func(r) { return is_undefined(r.f) } for
that), and so is a value of another kind than a record's field holds
({is_pin_set: "false"}), rather than matching nothing. Lazy: it reads
its input only as far as its consumer asks.`,
			Examples: []lang.Example{
				{Code: `[1, 2, 3, 4] | where(func(x) { return x % 2 == 0 }) | collect`, Output: "[2, 4]"},
				{Code: `[{name: "ken", locked: true}, {name: "pilar", locked: false}] | where({locked: true}) | count`, Output: "1"},
				{Code: `where([5, 15, 25], func(x) { return x > 10 }) | collect`, Output: "[15, 25]"},
				{Code: `sites := [{site: "Redmond"}, {site: "redmond"}, {site: "Dublin"}]; [sites | where({site: "REDMOND"}) | count, sites | where({site: "Redmond"}, {case_sensitive: true}) | count]`, Output: "[2, 1]"},
			},
			Run: streamWhere,
		},
		{
			Name:       "select",
			Cmdlets:    []string{"Select-Object"},
			PowerShell: `Select-Object Identity, IsLockedOut -> select("identity", "is_locked_out"); Select-Object -First N -> first(N)`,
			Kind:       lang.Stage,
			Sig:        "select(field...)",
			Doc: `Select-Object -Property: narrow records to the named fields.
Each record or map becomes a record of the fields in the order given. A
field that a record's type does not have is an error naming the closest
fields; a key a map lacks is undefined. A record keeps its type name (a map
gives a record named "record"); records are read-only, to_map(r) makes a
mutable copy. Lazy.`,
			Examples: []lang.Example{
				{Code: `[{identity: "sip:kenmyer@litwareinc.com", is_pin_set: true, site: "Redmond"}] | select("site", "identity")`,
					Output: "site     identity\n----     --------\nRedmond  sip:kenmyer@litwareinc.com"},
				{Code: `r := select([{a: 1}], "b", "a") | collect; r[0]`, Output: "b :\na : 1"},
			},
			Run: func(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
				return streamSelect(env, in, args, schemas)
			},
		},
		{
			Name:       "sort_by",
			Cmdlets:    []string{"Sort-Object"},
			PowerShell: `Sort-Object DisplayName -Descending -> sort_by("display_name", "desc")`,
			Kind:       lang.Stage,
			Sig:        `sort_by(field[, "desc"])`,
			Doc: `Sort-Object: sort items by a field or a key function.
Ascending, or descending with "desc" ("asc" is the default). field is a
field name or a key function of one item. The sort is stable: items with
equal keys keep their input order. It must read its whole input before it
yields the first item, so it holds every item in memory: put where() and
select() before it, first() after it.
Keys compare as numbers (ints and floats together), strings byte by byte
(case-sensitive), false before true, times by instant with a time that
never comes after every instant; undefined (a missing field) sorts last in
either direction. Keys of different kinds order by kind: bool, char,
number, string, time. Arrays, maps and records are not keys: sorting by
them is an error.`,
			Examples: []lang.Example{
				{Code: `[{n: "b", x: 2}, {n: "a", x: 1}, {n: "c", x: 3}] | sort_by("x", "desc") | select("n")`,
					Output: "n\n-\nc\nb\na"},
				{Code: `["pilar", "Ken", "aidan"] | sort_by(func(s) { return len(s) }) | collect`, Output: `["Ken", "pilar", "aidan"]`},
				{Code: `xs := []; [{x: 2}, {}, {x: 1}] | sort_by("x", "desc") | each(func(r) { xs = append(xs, r.x) }); xs`, Output: "[2, 1, <undefined>]"},
			},
			Run: streamSortBy,
		},
		{
			Name: "first",
			Kind: lang.Stage,
			Sig:  "first(n)",
			Doc: `Select-Object -First: pass on the first n items.
It stops reading its input after the n-th item, so get_users() | first(10)
reads only the first chunk of the directory.`,
			Examples: []lang.Example{
				{Code: `[1, 2, 3, 4, 5] | first(2) | collect`, Output: "[1, 2]"},
				{Code: `first([1, 2], 5) | count`, Output: "2"},
			},
			Run: streamFirst,
		},
		{
			Name:       "count",
			Cmdlets:    []string{"Measure-Object"},
			PowerShell: "(... | Measure-Object).Count -> ... | count",
			Kind:       lang.Sink,
			Sig:        "count",
			Doc: `Measure-Object: the number of items.
It reads its input to the end and returns the number of items.`,
			Examples: []lang.Example{
				{Code: `[1, 2, 3] | count`, Output: "3"},
				{Code: `count([])`, Output: "0"},
			},
			Run: streamCount,
		},
		{
			Name: "collect",
			Kind: lang.Sink,
			Sig:  "collect",

			Keeps: true, // a precious stream may end in it (lang.Precious)
			Doc: `The items, as an array.
It reads its input to the end. A stream can be read once: collect it to
keep its records, to index them or to read them twice.`,
			Examples: []lang.Example{
				{Code: `a := [3, 1, 2] | sort_by(func(x) { return x }) | collect; a[0]`, Output: "1"},
			},
			Run: streamCollect,
		},
		{
			Name:       "each",
			Cmdlets:    []string{"ForEach-Object"},
			PowerShell: "ForEach-Object { $_.Identity } -> each(func(x) { ... x.identity ... })",
			Kind:       lang.Sink,
			Sig:        "each(fn)",
			Doc: `ForEach-Object: call fn(item) for every item.
It returns undefined, so a pipeline ending in each prints nothing of its
own. An error in fn stops the pipeline.`,
			Examples: []lang.Example{
				{Code: `total := 0; [1, 2, 3] | each(func(x) { total += x }); total`, Output: "6"},
			},
			Run: streamEach,
		},
		{
			Name:       "contains",
			PowerShell: "$a -contains $x -> contains(a, x)",
			Kind:       lang.Func,
			Sig:        "contains(container, x)",
			Doc: `-contains: whether container holds x.
True for an array with an element equal to x, a map or record with a field
named x, or a string with x as a substring (case-sensitive). An undefined
container (an unset field) contains nothing. contains(r, "field") is how to
ask whether a record has a field: reading one its type lacks is an error.`,
			Examples: []lang.Example{
				{Code: `contains(["lock_pin", "unlock_pin"], "lock_pin")`, Output: "true"},
				{Code: `contains({identity: "sip:ken@litwareinc.com"}, "site")`, Output: "false"},
				{Code: `contains("sip:kenmyer@litwareinc.com", "@litwareinc")`, Output: "true"},
				{Code: `[{identity: "Tier1", builtins: ["get_users", "unlock_pin"]}, {identity: "Tier2", builtins: ["lock_pin", "unlock_pin"]}] | where(func(r) { return contains(r.builtins, "lock_pin") }) | select("identity")`,
					Output: "identity\n--------\nTier2"},
			},
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				return streamContains(args)
			},
		},
		{
			Name:       "matches",
			PowerShell: `$s -match 're' -> matches(s, "re")`,
			Kind:       lang.Func,
			Sig:        "matches(string, regexp)",
			Doc: `-match: whether a regular expression matches string.
The syntax is Go's RE2 (https://golang.org/s/re2syntax); a match anywhere
counts: anchor with ^ and $ to match the whole string, and start with (?i)
to ignore case. An undefined string (a missing field) matches nothing.`,
			Examples: []lang.Example{
				{Code: `matches("tel:+14255551234", "^tel:\\+1425")`, Output: "true"},
				{Code: `matches("Ken Myer", "(?i)^ken ")`, Output: "true"},
				{Code: "[\"sip:ken@litwareinc.com\", \"sip:ken@fabrikam.com\"] | where(func(s) { return matches(s, `@litwareinc\\.com$`) }) | collect",
					Output: `["sip:ken@litwareinc.com"]`},
			},
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				return streamMatches(args, regexps)
			},
		},
	}
}

// streamArgs checks the number of arguments of a stage or sink besides its
// input, for a message that says what the builtin takes.
func streamArgs(args []tengo.Object, lo, hi int, takes string) error {
	if len(args) >= lo && len(args) <= hi {
		return nil
	}
	return fmt.Errorf("takes %s besides its input; got %d", takes, len(args))
}

func streamWhere(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 1, 2, "pred (a function or a map of field values) and optionally {case_sensitive: true}"); err != nil {
		return nil, err
	}
	if m, ok := mapValue(args[0]); ok && len(m) == 0 {
		// A field map built from nothing must not quietly keep everything.
		return nil, errors.New("an empty field map keeps every record; give the fields to match, as in where({is_locked_out: true}), or leave where out to keep all")
	}
	var o lang.MatchOptions
	if len(args) == 2 {
		m, ok := mapValue(args[1])
		if !ok {
			return nil, fmt.Errorf("opts must be a map such as {case_sensitive: true}, not %s", args[1].TypeName())
		}
		for k, v := range m {
			if k != "case_sensitive" {
				return nil, fmt.Errorf("unknown option %q; %s", k, lang.Hint(k, []string{"case_sensitive"}, "the option is"))
			}
			b, ok := v.(*tengo.Bool)
			if !ok {
				return nil, fmt.Errorf("option case_sensitive must be true or false, not %s", v.TypeName())
			}
			o.CaseSensitive = !b.IsFalsy()
		}
		if _, isMap := mapValue(args[0]); !isMap {
			return nil, errors.New("case_sensitive applies to a map of field values; " +
				"a function compares as it is written (== is case-sensitive)")
		}
	}
	keep, err := env.PredicateWith(args[0], o)
	if err != nil {
		return nil, fmt.Errorf("pred: %w", err)
	}
	if f, ok := in.Origin().(whereFuser); ok {
		m, isMap := mapValue(args[0])
		var s *lang.Stream
		if isMap {
			s = f.fuseWhere(env, m, o)
		} else {
			s = f.fuseTest(env, args[0])
		}
		if s != nil {
			return s, nil
		}
	}
	return env.Filter(in, keep), nil
}

// whereFuser is the origin of a stream that can apply a where predicate
// itself, faster than where can: a store scan that evaluates it
// (pinScanOrigin). fuseWhere, for a field map, and fuseTest, for a
// function, return the stream that replaces in | where(pred, opts), with
// the same records, or nil to leave it to where.
type whereFuser interface {
	fuseWhere(env *lang.Env, want map[string]tengo.Object, opts lang.MatchOptions) *lang.Stream
	fuseTest(env *lang.Env, fn tengo.Object) *lang.Stream
}

// countFuser is the origin of a stream that can count its items without
// making them (pinScanOrigin, userScanOrigin). counter returns a function that counts
// them a chunk at a time: a chunk's count, and whether that was the last.
type countFuser interface {
	counter() func(ctx context.Context) (int, bool, error)
}

// selectLayout is the output layout of select for one input schema: where each
// output field comes from.
type selectLayout struct {
	from *lang.Schema // nil: not computed yet
	to   *lang.Schema
	idx  []int
}

func streamSelect(env *lang.Env, in *lang.Stream, args []tengo.Object, schemas *streamCache[*lang.Schema]) (tengo.Object, error) {
	if len(args) == 0 {
		return nil, errors.New(`takes one or more field names, as in select("identity", "is_locked_out")`)
	}
	fields, err := fieldArgs(args)
	if err != nil {
		return nil, err
	}
	// The schema is shared by every select of the same type and fields, so
	// that records of two such selections compare equal.
	schemaFor := func(name string) *lang.Schema {
		key := name + "\x00" + strings.Join(fields, "\x00")
		return schemas.get(key, func() *lang.Schema { return lang.NewSchema(name, fields...) })
	}
	var last selectLayout // records of one stream usually share one schema
	var forMaps *lang.Schema
	return env.Map(in, func(_ context.Context, item tengo.Object) (tengo.Object, error) {
		values := make([]tengo.Object, len(fields))
		switch it := item.(type) {
		case *lang.Record:
			if it.Schema() != last.from {
				idx := make([]int, len(fields))
				for i, f := range fields {
					if idx[i] = it.Schema().Index(f); idx[i] < 0 {
						return nil, it.Schema().NoField(f) // a misspelt field would print an empty column
					}
				}
				last = selectLayout{from: it.Schema(), to: schemaFor(it.Schema().Name()), idx: idx}
			}
			for i, j := range last.idx {
				values[i] = it.Value(j)
			}
			// The payload (the store's key of the user a record describes)
			// stays, so select("identity") | lock_pin needs no lookup.
			return lang.NewRecord(last.to, values, it.Payload()), nil
		case *tengo.Map:
			return selectFromMap(it.Value, fields, values, &forMaps, schemaFor), nil
		case *tengo.ImmutableMap:
			return selectFromMap(it.Value, fields, values, &forMaps, schemaFor), nil
		}
		return nil, fmt.Errorf("select: cannot take fields of %s %s: select works on records and maps",
			item.TypeName(), itemName(item))
	}), nil
}

// fieldArgs returns the field names given as arguments (select,
// format_table): non-empty strings, each named once.
func fieldArgs(args []tengo.Object) ([]string, error) {
	fields := make([]string, len(args))
	seen := make(map[string]bool, len(args))
	for i, a := range args {
		s, ok := a.(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("field %d: a field name is a string, not %s", i+1, a.TypeName())
		}
		if s.Value == "" {
			return nil, fmt.Errorf("field %d: a field name cannot be empty", i+1)
		}
		if seen[s.Value] {
			return nil, fmt.Errorf("field %s is named twice", cut.Quote(s.Value))
		}
		seen[s.Value] = true
		fields[i] = s.Value
	}
	return fields, nil
}

func selectFromMap(m map[string]tengo.Object, fields []string, values []tengo.Object,
	schema **lang.Schema, schemaFor func(string) *lang.Schema) tengo.Object {
	if *schema == nil {
		*schema = schemaFor("record")
	}
	for i, f := range fields {
		values[i] = m[f] // nil reads as undefined
	}
	return lang.NewRecord(*schema, values, nil)
}

func streamFirst(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 1, 1, "one argument, n (how many items to pass on)"); err != nil {
		return nil, err
	}
	n, ok := args[0].(*tengo.Int)
	if !ok {
		return nil, fmt.Errorf("n must be an int, not %s", args[0].TypeName())
	}
	if n.Value < 0 {
		return nil, fmt.Errorf("n must not be negative, got %d", n.Value)
	}
	left := n.Value
	return env.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		if left <= 0 {
			return nil, false, nil // without pulling: the input may be costly or endless
		}
		v, ok, err := in.Next(ctx)
		if !ok || err != nil {
			return nil, false, err
		}
		left--
		return v, true, nil
	}), nil
}

func streamCount(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 0, 0, "no arguments"); err != nil {
		return nil, err
	}
	n, err := Count(env, in)
	if err != nil {
		return nil, err
	}
	return &tengo.Int{Value: n}, nil
}

// Count reads in to its end and returns how many items it held: what the
// count sink returns, for another front end's sink (PowerShell's
// Measure-Object) to give the same number the same way. A stream that a
// store can count (get_users(), get_users() | pin_info and a where the scan
// judges) is counted in the store, without an item made.
func Count(env *lang.Env, in *lang.Stream) (int64, error) {
	ctx := env.Context()
	var n int64
	if f, ok := in.Origin().(countFuser); ok {
		count := f.counter()
		for done := false; !done; {
			if err := env.Err(); err != nil {
				return 0, err
			}
			var k int
			var err error
			if k, done, err = count(ctx); err != nil {
				return 0, in.Fail(err)
			}
			n += int64(k)
		}
		return n, nil
	}
	for {
		_, ok, err := in.Next(ctx)
		if err != nil {
			return 0, err
		}
		if !ok {
			return n, nil
		}
		n++
	}
}

func streamCollect(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 0, 0, "no arguments"); err != nil {
		return nil, err
	}
	items, err := in.Collect(env.Context())
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []tengo.Object{}
	}
	return &tengo.Array{Value: items}, nil
}

func streamEach(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 1, 1, "one argument, fn (a function of one item)"); err != nil {
		return nil, err
	}
	fn := args[0]
	if !fn.CanCall() {
		return nil, fmt.Errorf("fn must be a function, not %s", fn.TypeName())
	}
	ctx := env.Context()
	for {
		v, ok, err := in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return tengo.UndefinedValue, nil
		}
		if _, err := env.Invoke(fn, v); err != nil {
			return nil, err
		}
	}
}

func streamContains(args []tengo.Object) (tengo.Object, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("takes 2 arguments (container, x); got %d", len(args))
	}
	c, x := args[0], args[1]
	key := func(in string) (string, error) {
		s, ok := x.(*tengo.String)
		if !ok {
			return "", fmt.Errorf("x must be a string (a field name) to look in a %s, not %s", in, x.TypeName())
		}
		return s.Value, nil
	}
	var found bool
	switch c := c.(type) {
	case *tengo.Undefined:
	case *tengo.Array:
		found = arrayHas(c.Value, x)
	case *tengo.ImmutableArray:
		found = arrayHas(c.Value, x)
	case *tengo.Map:
		k, err := key("map")
		if err != nil {
			return nil, err
		}
		_, found = c.Value[k]
	case *tengo.ImmutableMap:
		k, err := key("map")
		if err != nil {
			return nil, err
		}
		_, found = c.Value[k]
	case *lang.Record:
		k, err := key("record")
		if err != nil {
			return nil, err
		}
		found = c.Schema().Index(k) >= 0
	case *tengo.String:
		var sub string
		switch x := x.(type) {
		case *tengo.String:
			sub = x.Value
		case *tengo.Char:
			sub = string(x.Value)
		default:
			return nil, fmt.Errorf("x must be a string or a char to look in a string, not %s", x.TypeName())
		}
		found = strings.Contains(c.Value, sub)
	case *lang.Stream:
		return nil, errors.New("container is a stream: collect() it first, or use where() to find items")
	default:
		return nil, fmt.Errorf("container must be an array, a map, a record or a string, not %s", c.TypeName())
	}
	return streamBool(found), nil
}

// arrayHas reports whether elems has an element equal to x. Equals is
// asked both ways since a value may know only its own type (a pinsh time
// equals a Tengo time, not the other way round).
func arrayHas(elems []tengo.Object, x tengo.Object) bool {
	for _, e := range elems {
		if e.Equals(x) || x.Equals(e) {
			return true
		}
	}
	return false
}

func streamMatches(args []tengo.Object, cache *streamCache[*regexp.Regexp]) (tengo.Object, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("takes 2 arguments (string, regexp); got %d", len(args))
	}
	pat, ok := args[1].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("regexp must be a string, not %s", args[1].TypeName())
	}
	var s string
	switch x := args[0].(type) {
	case *tengo.String:
		s = x.Value
	case *tengo.Undefined:
		s = "" // checked below, after the pattern, so a bad pattern is never hidden
	default:
		return nil, fmt.Errorf("string must be a string, not %s", args[0].TypeName())
	}
	var cerr error
	re := cache.get(pat.Value, func() *regexp.Regexp {
		re, err := regexp.Compile(pat.Value)
		cerr = err
		return re
	})
	if cerr != nil {
		return nil, fmt.Errorf("regexp %s is not valid: %s (the syntax is Go's RE2: https://golang.org/s/re2syntax)",
			cut.Quote(pat.Value), cut.Text(strings.TrimPrefix(cerr.Error(), "error parsing regexp: ")))
	}
	if args[0] == tengo.UndefinedValue {
		return tengo.FalseValue, nil
	}
	return streamBool(re.MatchString(s)), nil
}

func streamBool(b bool) tengo.Object {
	if b {
		return tengo.TrueValue
	}
	return tengo.FalseValue
}

// itemName names an item in a message: by its identity when it has one,
// else by its value, shortened.
func itemName(item tengo.Object) string {
	var id tengo.Object
	switch it := item.(type) {
	case *lang.Record:
		id = it.Get("identity")
	case *tengo.Map:
		id = it.Value["identity"]
	case *tengo.ImmutableMap:
		id = it.Value["identity"]
	}
	if s, ok := id.(*tengo.String); ok {
		return s.Value
	}
	s := item.String()
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:59]) + "…"
	}
	return s
}

// sortKind is the kind of a sort key. Kinds order mixed keys by the name of
// the kind: bool, char, number, string, time; undefined sorts last.
type sortKind uint8

const (
	sortBool sortKind = iota
	sortChar
	sortNumber
	sortString
	sortTime
	sortUndefined
)

// sortKey is a sort_by key, decoded once per item so that sorting compares
// Go values without type switches.
type sortKey struct {
	kind  sortKind
	isInt bool  // number: i holds it; else f
	never bool  // time that never comes: after every instant
	ns    int32 // time: nanoseconds within the second i
	i     int64 // bool, char, int; time: Unix seconds
	f     float64
	s     string
}

func sortKeyOf(v tengo.Object) (sortKey, bool) {
	switch v := v.(type) {
	case *tengo.Undefined:
		return sortKey{kind: sortUndefined}, true
	case *tengo.Bool:
		var i int64
		if !v.IsFalsy() {
			i = 1
		}
		return sortKey{kind: sortBool, i: i}, true
	case *tengo.Char:
		return sortKey{kind: sortChar, i: int64(v.Value)}, true
	case *tengo.Int:
		return sortKey{kind: sortNumber, isInt: true, i: v.Value}, true
	case *tengo.Float:
		return sortKey{kind: sortNumber, f: v.Value}, true
	case *tengo.String:
		return sortKey{kind: sortString, s: v.Value}, true
	case *lang.Time:
		t, ok := v.Time()
		if !ok {
			return sortKey{kind: sortTime, never: true}, true
		}
		return timeKey(t), true
	case *tengo.Time:
		return timeKey(v.Value), true
	}
	return sortKey{}, false
}

// sortCompare orders two keys of any kinds, undefined last.
func sortCompare(a, b *sortKey) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case sortBool, sortChar:
		return cmp.Compare(a.i, b.i)
	case sortNumber:
		if a.isInt && b.isInt {
			return cmp.Compare(a.i, b.i)
		}
		return cmp.Compare(a.float(), b.float())
	case sortString:
		return strings.Compare(a.s, b.s)
	case sortTime:
		if a.never || b.never {
			return cmp.Compare(sortBit(a.never), sortBit(b.never))
		}
		if c := cmp.Compare(a.i, b.i); c != 0 {
			return c
		}
		return cmp.Compare(a.ns, b.ns)
	}
	return 0
}

func timeKey(t time.Time) sortKey {
	return sortKey{kind: sortTime, i: t.Unix(), ns: int32(t.Nanosecond())}
}

func (k *sortKey) float() float64 {
	if k.isInt {
		return float64(k.i)
	}
	return k.f
}

func sortBit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func streamSortBy(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if err := streamArgs(args, 1, 2, `a field (a name or a key function) and optionally "desc"`); err != nil {
		return nil, err
	}
	var field string
	keyFn := args[0]
	switch f := args[0].(type) {
	case *tengo.String:
		if f.Value == "" {
			return nil, errors.New("field: a field name cannot be empty")
		}
		field, keyFn = f.Value, nil
	default:
		if !f.CanCall() {
			return nil, fmt.Errorf("field must be a field name (a string) or a key function, not %s", f.TypeName())
		}
	}
	desc := false
	if len(args) == 2 {
		o, ok := args[1].(*tengo.String)
		if !ok {
			return nil, fmt.Errorf(`order must be "asc" or "desc", not %s`, args[1].TypeName())
		}
		switch strings.ToLower(o.Value) {
		case "asc":
		case "desc":
			desc = true
		default:
			return nil, fmt.Errorf(`order must be "asc" or "desc", not %s`, cut.Quote(o.Value))
		}
	}
	// The sort runs when the first item is asked for, not when the stage is
	// applied, so that building a pipeline costs nothing until it is read.
	var sorted []tengo.Object
	started := false
	return env.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		if !started {
			started = true
			s, err := sortItems(env, ctx, in, field, keyFn, desc)
			if err != nil {
				return nil, false, err
			}
			sorted = s
		}
		if len(sorted) == 0 {
			return nil, false, nil
		}
		v := sorted[0]
		sorted[0] = nil // let the consumer's garbage go
		sorted = sorted[1:]
		return v, true, nil
	}), nil
}

func sortItems(env *lang.Env, ctx context.Context, in *lang.Stream, field string, keyFn tengo.Object, desc bool) ([]tengo.Object, error) {
	var items []tengo.Object
	var keys []sortKey
	for {
		v, ok, err := in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		var kv tengo.Object
		if keyFn != nil {
			if kv, err = env.Invoke(keyFn, v); err != nil {
				return nil, err
			}
		} else if kv, err = sortField(v, field); err != nil {
			return nil, err
		}
		k, ok := sortKeyOf(kv)
		if !ok {
			by := "field " + cut.Quote(field)
			if keyFn != nil {
				by = "the key function's result"
			}
			return nil, fmt.Errorf("sort_by: cannot sort by %s: it is of type %s for %s; "+
				"sort by a string, number, bool or time", by, kv.TypeName(), itemName(v))
		}
		items = append(items, v)
		keys = append(keys, k)
	}
	// Sorting positions rather than the keyed items moves 4 bytes per swap
	// and no pointers; the position as the last key makes the sort stable,
	// at a fraction of the cost of SortStableFunc's in-place merges.
	perm := make([]int32, len(items))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(i, j int32) int {
		a, b := &keys[i], &keys[j]
		// Undefined stays last in either direction: a missing value is not
		// a large one.
		ua, ub := a.kind == sortUndefined, b.kind == sortUndefined
		c := cmp.Compare(sortBit(ua), sortBit(ub))
		if c == 0 && !ua {
			c = sortCompare(a, b)
			if desc {
				c = -c
			}
		}
		if c == 0 {
			c = cmp.Compare(i, j)
		}
		return c
	})
	out := make([]tengo.Object, len(items))
	for i, p := range perm {
		out[i] = items[p]
	}
	return out, nil
}

// sortField returns the field of a record or map that sort_by sorts by.
func sortField(item tengo.Object, field string) (tengo.Object, error) {
	var v tengo.Object
	switch it := item.(type) {
	case *lang.Record:
		return it.Lookup(field)
	case *tengo.Map:
		v = it.Value[field]
	case *tengo.ImmutableMap:
		v = it.Value[field]
	default:
		return nil, fmt.Errorf("sort_by: %s %s has no field %s: sort records or maps by a field, "+
			"other values by a key function such as func(x) { return x }", item.TypeName(), itemName(item), cut.Quote(field))
	}
	if v == nil {
		return tengo.UndefinedValue, nil
	}
	return v, nil
}

// streamCache is a string-sortEntry cache of at most max values, safe for
// concurrent use. When full it evicts an arbitrary entry: the caches it
// serves are small and a miss only costs a recomputation.
type streamCache[V comparable] struct {
	mu  sync.Mutex
	m   map[string]V
	max int
}

func newStreamCache[V comparable](size int) *streamCache[V] {
	return &streamCache[V]{m: make(map[string]V), max: size}
}

// get returns the value cached for key, or makes, caches and returns it. A
// zero value from mk (a failure) is returned but not cached.
func (c *streamCache[V]) get(key string, mk func() V) V {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = mk()
	var zero V
	if v == zero {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok { // made concurrently: keep one, so schemas stay shared
		return old
	}
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = v
	return v
}

// len returns the number of cached values.
func (c *streamCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
