package pslang

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
)

// knownFields returns every field of the records the builtins of list make.
func knownFields(list []*lang.Builtin) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range list {
		for _, f := range builtins.RecordFields(b.Name) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// helpers is the state the ps_ builtins of one session share.
type helpers struct {
	list    []*lang.Builtin
	fields  func() map[string]string // the known fields by normName, made on first use
	mu      sync.Mutex
	warned  map[string]bool
	regexps map[string]*regexp.Regexp
}

// Builtins returns the ps_ builtins that translated PowerShell calls, for
// a session whose other builtins are list: PowerShell's comparisons
// (ps_op), properties by their PowerShell names (ps_prop), its values
// (ps_value, ps_array, ps_str) and its pipeline cmdlets that have no
// builtin of their own (ps_foreach, ps_group, ps_measure, ...). They are
// part of every session, so that a translation runs as Tengo too.
func Builtins(list []*lang.Builtin) []*lang.Builtin {
	h := &helpers{list: list, warned: map[string]bool{}, regexps: map[string]*regexp.Regexp{}}
	h.fields = sync.OnceValue(func() map[string]string {
		fields := map[string]string{}
		for _, f := range knownFields(list) {
			fields[normName(f)] = f
		}
		return fields
	})
	fn := func(name, sig, doc string, call func(env *lang.Env, args []tengo.Object) (tengo.Object, error)) *lang.Builtin {
		return &lang.Builtin{Name: name, Kind: lang.Func, Sig: sig, Doc: doc + " (PowerShell front end)", Call: call}
	}
	return []*lang.Builtin{
		fn("ps_op", "ps_op(a, op, b[, warn])", "A PowerShell comparison: -eq -ne -lt -le -gt -ge -like -notlike -match -notmatch -contains -notcontains -in -notin, ignoring case (-c... for case-sensitive); $null sorts before every value.", h.op),
		fn("ps_prop", "ps_prop(x, name)", "A property by its PowerShell name, ignoring case (IsPinSet is is_pin_set); Count of a list.", h.prop),
		fn("ps_set", "ps_set(x, name, value)", "x with property name set: a map is changed in place, a record copied to a map.", h.set),
		fn("ps_merge", "ps_merge(a, b)", "A map of a's fields with b's over them.", h.merge),
		fn("ps_method", "ps_method(x, name, arg...)", "A .NET method PowerShell scripts use: AddDays, AddHours, AddMinutes, AddSeconds, ToString, ToLower, ToUpper, Trim, StartsWith, EndsWith, Contains.", h.method),
		fn("ps_value", "ps_value(x)", "PowerShell's value of a pipeline: undefined for nothing, the item for one, an array for more.", h.value),
		fn("ps_array", "ps_array(x)", "x as a list to loop over: a stream or array as it is, undefined as [], anything else as [x].", h.array),
		fn("ps_emit", "ps_emit(out, x)", "out with the output of x added, streams and arrays item by item.", h.emit),
		fn("ps_plus", "ps_plus(a, b)", "PowerShell's +: numbers add, strings join, arrays append, $null + b is b.", h.plus),
		fn("ps_str", "ps_str(x)", "x as PowerShell writes it inside a string.", func(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, errors.New("want ps_str(x)")
			}
			return &tengo.String{Value: psString(args[0])}, nil
		}),
		fn("ps_bool", "ps_bool(x)", "PowerShell's truth of x: $null, 0, \"\" and an empty list are false; any object is true.", func(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, errors.New("want ps_bool(x)")
			}
			if psBool(args[0]) {
				return tengo.TrueValue, nil
			}
			return tengo.FalseValue, nil
		}),
		fn("ps_null", "ps_null(x)", "Out-Null: run x and drop its output; refused for generated PINs, which would be lost.", func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, errors.New("want ps_null(x)")
			}
			if s, ok := args[0].(*lang.Stream); ok {
				if s.IsPrecious() {
					return nil, errors.New("Out-Null would drop the generated PINs, shown only once: end the pipeline at Set-CsClientPin to print them, or write them with Export-Csv")
				}
				_, err := s.Collect(env.Context())
				return tengo.UndefinedValue, err
			}
			if lang.Undelivered(args[0]) {
				return nil, errors.New("Out-Null would drop the generated PIN, shown only once: leave out | Out-Null to print it")
			}
			return tengo.UndefinedValue, nil
		}),
		fn("ps_index", "ps_index(x, i)", "x[i] as PowerShell reads it: negative indexes count from the end, out of range is undefined.", h.index),
		fn("ps_throw", "ps_throw(message)", "PowerShell's throw: a runtime error with message.", func(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, errors.New("want ps_throw(message)")
			}
			return nil, errors.New(psString(args[0]))
		}),
		fn("ps_error", "ps_error(e)", "The error a try caught as PowerShell's catch sees it: $_ with Exception.Message.", h.errorValue),
		fn("ps_show", "ps_show(x)", "Show x as PowerShell shows a statement's output, in a script as at the prompt: a list item by item (one value per line, records as one table), $null not at all.", show),
		fn("ps_ldap", "ps_ldap(filter)", "An LDAP filter in parentheses, as Active Directory also takes it without.", func(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 1 {
				return nil, errors.New("want ps_ldap(filter)")
			}
			f := strings.TrimSpace(psString(args[0]))
			if !strings.HasPrefix(f, "(") {
				f = "(" + f + ")"
			}
			return &tengo.String{Value: f}, nil
		}),
		{Name: "ps_import_csv", Kind: lang.Source, Sig: "ps_import_csv(path)", Doc: "Import-Csv: the rows of a CSV file with a header line, as maps (PowerShell front end).", Call: h.importCSV},
		{Name: "ps_foreach", Kind: lang.Stage, Sig: "ps_foreach(fn)", Doc: "ForEach-Object: what fn outputs for each item (PowerShell front end).", Run: h.foreach},
		{Name: "ps_expand", Kind: lang.Stage, Sig: "ps_expand(name)", Doc: "Select-Object -ExpandProperty: each item's property, a list item by item (PowerShell front end).", Run: h.expand},
		{Name: "ps_group", Kind: lang.Stage, Sig: "ps_group(name)", Doc: "Group-Object: the items grouped by a property, ignoring case: name, count, group (PowerShell front end).", Run: h.group},
		{Name: "ps_measure", Kind: lang.Sink, Sig: "ps_measure", Doc: "Measure-Object: a record with the count of the items (PowerShell front end).", Run: h.measure},
		{Name: "ps_to_json", Kind: lang.Sink, Sig: "ps_to_json", Doc: "ConvertTo-Json: the items as a JSON string, one object alone or an array (PowerShell front end).", Run: h.toJSON},
	}
}

func argc(name string, args []tengo.Object, min, max int) error {
	if len(args) < min || len(args) > max {
		return fmt.Errorf("%s takes %d to %d arguments, got %d", name, min, max, len(args))
	}
	return nil
}

// isNull reports whether v is PowerShell's $null: undefined, or a time
// that is never (a PIN that never expires has no expiration time).
func isNull(v tengo.Object) bool {
	if lang.IsUndefined(v) || v == lang.WrittenUndefinedValue {
		return true
	}
	if t, ok := v.(*lang.Time); ok {
		return t.IsNever()
	}
	return false
}

// listOf returns the items of an array, or nil.
func listOf(v tengo.Object) []tengo.Object {
	l, _ := lang.Elems(v)
	return l
}

func isList(v tengo.Object) bool {
	_, ok := lang.Elems(v)
	return ok
}

// items reads a stream or array to the end.
func items(ctx context.Context, v tengo.Object) ([]tengo.Object, error) {
	if s, ok := v.(*lang.Stream); ok {
		return s.Collect(ctx)
	}
	if isList(v) {
		return listOf(v), nil
	}
	if isNull(v) {
		return nil, nil
	}
	return []tengo.Object{v}, nil
}

// psString is v as PowerShell writes it in a string.
func psString(v tengo.Object) string {
	switch v := v.(type) {
	case *tengo.String:
		return v.Value
	case *tengo.Bool:
		if v.IsFalsy() {
			return "False"
		}
		return "True"
	case *tengo.Int:
		return strconv.FormatInt(v.Value, 10)
	case *tengo.Float:
		return strconv.FormatFloat(v.Value, 'f', -1, 64)
	case *tengo.Array, *tengo.ImmutableArray:
		var parts []string
		for _, x := range listOf(v) {
			parts = append(parts, psString(x))
		}
		return strings.Join(parts, " ")
	case *tengo.Map:
		if e, ok := v.Value["exception"].(*tengo.Map); ok {
			return psString(e.Value["message"])
		}
	case *lang.Record:
		if id := v.Get("identity"); id != nil && !lang.IsUndefined(id) {
			return psString(id)
		}
	case *tengo.Error:
		return psString(v.Value)
	}
	if isNull(v) {
		return ""
	}
	return v.String()
}

// psBool is PowerShell's truth of v.
func psBool(v tengo.Object) bool {
	if isNull(v) {
		return false
	}
	switch v.(type) {
	case *tengo.Map, *lang.Record:
		return true
	}
	return !v.IsFalsy()
}

func number(v tengo.Object) (float64, bool) {
	switch v := v.(type) {
	case *tengo.Int:
		return float64(v.Value), true
	case *tengo.Float:
		return v.Value, true
	case *tengo.Bool:
		if v.IsFalsy() {
			return 0, true
		}
		return 1, true
	case *tengo.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64)
		return f, err == nil
	}
	return 0, false
}

func timeOf(v tengo.Object) (time.Time, bool) {
	if t, ok := v.(*lang.Time); ok {
		return t.Time()
	}
	if s, ok := v.(*tengo.String); ok {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02", "1/2/2006 15:04:05", "1/2/2006"} {
			if t, err := time.Parse(layout, strings.TrimSpace(s.Value)); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func describeValue(v tengo.Object) string {
	if isNull(v) {
		return "$null"
	}
	return cut.Quote(psString(v)) + " (" + v.TypeName() + ")"
}

// compare orders a and b as PowerShell does, converting b to a's kind.
// $null is less than every other value.
func compare(a, b tengo.Object, fold bool) (int, error) {
	an, bn := isNull(a), isNull(b)
	switch {
	case an && bn:
		return 0, nil
	case an:
		return -1, nil
	case bn:
		return 1, nil
	}
	switch av := a.(type) {
	case *tengo.String:
		x, y := av.Value, psString(b)
		if fold {
			x, y = strings.ToLower(x), strings.ToLower(y)
		}
		return strings.Compare(x, y), nil
	case *tengo.Int, *tengo.Float:
		x, _ := number(a)
		y, ok := number(b)
		if !ok {
			return 0, fmt.Errorf("cannot compare the number %s with %s: it is not a number", psString(a), describeValue(b))
		}
		return cmpFloat(x, y), nil
	case *tengo.Bool:
		x, y := 0, 0
		if !av.IsFalsy() {
			x = 1
		}
		if psBool(b) {
			y = 1
		}
		return x - y, nil
	case *lang.Time:
		x, _ := av.Time()
		y, ok := timeOf(b)
		if !ok {
			return 0, fmt.Errorf("cannot compare the time %s with %s: it is not a time", psString(a), describeValue(b))
		}
		return x.Compare(y), nil
	}
	if a.Equals(b) {
		return 0, nil
	}
	return 0, fmt.Errorf("cannot order %s and %s", describeValue(a), describeValue(b))
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case math.IsNaN(x) || math.IsNaN(y):
		return 1
	}
	return 0
}

// equal is PowerShell's -eq of two values (b converted to a's kind).
func equal(a, b tengo.Object, fold bool) (bool, error) {
	an, bn := isNull(a), isNull(b)
	if an || bn {
		return an && bn, nil
	}
	switch a.(type) {
	case *tengo.String, *tengo.Bool, *lang.Time:
		c, err := compare(a, b, fold)
		return c == 0, err
	case *tengo.Int, *tengo.Float:
		x, _ := number(a)
		y, ok := number(b)
		return ok && x == y, nil
	}
	return a.Equals(b), nil
}

func wildcardRE(pattern string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("wildcard %s has [ without ]", cut.Quote(pattern))
			}
			b.WriteString("[" + regexp.QuoteMeta(pattern[i+1:i+end]) + "]")
			i += end
		case '`':
			if i+1 < len(pattern) {
				i++
				b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func (h *helpers) regexp(pattern string) (*regexp.Regexp, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if re, ok := h.regexps[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %s: %v", cut.Quote(pattern), err)
	}
	if len(h.regexps) < 256 {
		h.regexps[pattern] = re
	}
	return re, nil
}

// scalar applies a comparison operator (without its i/c prefix) to two
// single values.
func (h *helpers) scalar(a tengo.Object, op string, b tengo.Object, fold bool) (bool, error) {
	switch op {
	case "eq":
		return equal(a, b, fold)
	case "ne":
		e, err := equal(a, b, fold)
		return !e, err
	case "lt", "le", "gt", "ge":
		c, err := compare(a, b, fold)
		if err != nil {
			return false, err
		}
		switch op {
		case "lt":
			return c < 0, nil
		case "le":
			return c <= 0, nil
		case "gt":
			return c > 0, nil
		}
		return c >= 0, nil
	case "like", "notlike":
		re, err := wildcardRE(psString(b), fold)
		if err != nil {
			return false, err
		}
		return re.MatchString(psString(a)) == (op == "like"), nil
	case "match", "notmatch":
		p := psString(b)
		if fold {
			p = "(?i)" + p
		}
		re, err := h.regexp(p)
		if err != nil {
			return false, err
		}
		return re.MatchString(psString(a)) == (op == "match"), nil
	}
	return false, fmt.Errorf("unknown operator -%s", op)
}

func (h *helpers) op(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_op", args, 3, 4); err != nil {
		return nil, err
	}
	a, b := args[0], args[2]
	opv, ok := args[1].(*tengo.String)
	if !ok || !strings.HasPrefix(opv.Value, "-") {
		return nil, errors.New(`the operator must be a string such as "-eq"`)
	}
	op := strings.ToLower(opv.Value[1:])
	fold := true
	if len(op) > 2 && (op[0] == 'c' || op[0] == 'i') && baseOps[op[1:]] {
		fold = op[0] == 'i'
		op = op[1:]
	}
	if !baseOps[op] {
		return nil, fmt.Errorf("unknown operator %s", cut.Quote(opv.Value))
	}
	var err error
	if sa, ok := a.(*lang.Stream); ok {
		if a, err = collectArray(env.Context(), sa); err != nil {
			return nil, err
		}
	}
	if sb, ok := b.(*lang.Stream); ok {
		if b, err = collectArray(env.Context(), sb); err != nil {
			return nil, err
		}
	}
	switch op {
	case "contains", "notcontains", "in", "notin":
		coll, x := a, b
		if op == "in" || op == "notin" {
			coll, x = b, a
		}
		list := listOf(coll)
		if !isList(coll) {
			list = []tengo.Object{coll}
		}
		found := false
		for _, e := range list {
			eq, err := equal(e, x, fold)
			if err != nil {
				return nil, err
			}
			if eq {
				found = true
				break
			}
		}
		return tengo.FromInterface(found == (op == "contains" || op == "in"))
	}
	if isList(a) {
		// A list on the left filters it: @(1,2,3) -gt 1 is @(2,3).
		var out []tengo.Object
		for _, e := range listOf(a) {
			ok, err := h.scalar(e, op, b, fold)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, e)
			}
		}
		return &tengo.Array{Value: out}, nil
	}
	r, err := h.scalar(a, op, b, fold)
	if err != nil {
		return nil, err
	}
	if r && len(args) == 4 && isNull(a) != isNull(b) {
		h.warnNull(env, args[3], isNull(a))
	}
	if r {
		return tengo.TrueValue, nil
	}
	return tengo.FalseValue, nil
}

func collectArray(ctx context.Context, s *lang.Stream) (tengo.Object, error) {
	all, err := s.Collect(ctx)
	return &tengo.Array{Value: all}, err
}

// warnNull says, once per comparison, that a $null decided a comparison
// whose result goes on to a mutating cmdlet.
func (h *helpers) warnNull(env *lang.Env, info tengo.Object, leftNull bool) {
	m, ok := info.(*tengo.Map)
	if !ok {
		return
	}
	get := func(k string) string { return psString(m.Value[k]) }
	at := get("at")
	h.mu.Lock()
	seen := h.warned[at]
	h.warned[at] = true
	h.mu.Unlock()
	if seen {
		return
	}
	nullSide, other := get("left"), get("right")
	if !leftNull {
		nullSide, other = other, nullSide
	}
	fmt.Fprintf(env.Stderr(), "warning: %s: %s is $null here, and PowerShell's comparison holds for $null (it sorts before every value), so items without a value go on to %s, as PowerShell would send them. To leave them out, test for the value first: (%s -ne $null -and ...)%s\n",
		at, nullSide, get("feeds"), nullSide, safeForm(nullSide, other))
}

// safeForm names the direct test for the common case, expired PINs.
func safeForm(nullSide, other string) string {
	if strings.Contains(strings.ToLower(nullSide), "pinexpirationtime") {
		return "; for expired PINs, Where-Object {$_.IsPinExpired} says it directly"
	}
	return ""
}

// prop reads a property by its PowerShell name.
func (h *helpers) prop(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_prop", args, 2, 2); err != nil {
		return nil, err
	}
	name, ok := args[1].(*tengo.String)
	if !ok {
		return nil, errors.New("the property name must be a string")
	}
	return h.getProp(env.Context(), args[0], name.Value)
}

func (h *helpers) getProp(ctx context.Context, x tengo.Object, name string) (tengo.Object, error) {
	n := normName(name)
	switch v := x.(type) {
	case *lang.Record:
		if v.Schema().Name() == "admin_role" {
			switch n {
			case "cmdlets":
				return h.roleCmdlets(v), nil
			case "userscopes", "configscopes":
				// pinsh roles are not scoped: each applies to every user,
				// as a Lync role whose scope is Global.
				return &tengo.ImmutableArray{Value: []tengo.Object{&tengo.String{Value: "Global"}}}, nil
			}
		}
		for _, f := range v.Schema().Fields() {
			if normName(f) == n {
				return v.Get(f), nil
			}
		}
		_, err := v.Lookup(name)
		return nil, err
	case *tengo.Map:
		if e, ok := v.Value[name]; ok {
			return e, nil
		}
		for k, e := range v.Value {
			if normName(k) == n {
				return e, nil
			}
		}
		if f, ok := h.fields()[n]; ok {
			if e, ok := v.Value[f]; ok {
				return e, nil
			}
		}
		return tengo.UndefinedValue, nil
	case *lang.Stream, *tengo.Array, *tengo.ImmutableArray:
		all, err := items(ctx, x)
		if err != nil {
			return nil, err
		}
		if n == "count" || n == "length" {
			return &tengo.Int{Value: int64(len(all))}, nil
		}
		// PowerShell reads a property of every item of a list.
		var out []tengo.Object
		for _, e := range all {
			p, err := h.getProp(ctx, e, name)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return &tengo.Array{Value: out}, nil
	case *tengo.String:
		if n == "length" {
			return &tengo.Int{Value: int64(len([]rune(v.Value)))}, nil
		}
	}
	if isNull(x) {
		if n == "count" {
			return &tengo.Int{}, nil
		}
		return tengo.UndefinedValue, nil
	}
	if n == "count" {
		return &tengo.Int{Value: 1}, nil
	}
	return nil, fmt.Errorf("%s has no property %s", describeValue(x), cut.Quote(name))
}

// roleCmdlets lists the PowerShell commands a role may run: the Cmdlets
// of the builtins it may run.
func (h *helpers) roleCmdlets(r *lang.Record) tengo.Object {
	var out []tengo.Object
	for _, b := range listOf(r.Get("builtins")) {
		if bi := lang.ByName(h.list, psString(b)); bi != nil {
			for _, c := range bi.Cmdlets {
				out = append(out, &tengo.String{Value: c})
			}
		}
	}
	return &tengo.ImmutableArray{Value: out}
}

func toMap(x tengo.Object) (*tengo.Map, error) {
	switch v := x.(type) {
	case *tengo.Map:
		return v, nil
	case *lang.Record:
		return v.ToMap(), nil
	}
	if isNull(x) {
		return nil, errors.New("the property of $null cannot be set; set the variable to @{ } first")
	}
	return nil, fmt.Errorf("%s has no properties to set", describeValue(x))
}

func (h *helpers) set(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_set", args, 3, 3); err != nil {
		return nil, err
	}
	m, err := toMap(args[0])
	if err != nil {
		return nil, err
	}
	name := psString(args[1])
	n := normName(name)
	key := name
	for k := range m.Value {
		if normName(k) == n {
			key = k
			break
		}
	}
	if r, ok := args[0].(*lang.Record); ok {
		found := false
		for _, f := range r.Schema().Fields() {
			found = found || f == key
		}
		if !found {
			_, err := r.Lookup(name)
			return nil, err
		}
	}
	m.Value[key] = args[2]
	return m, nil
}

func (h *helpers) merge(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_merge", args, 2, 2); err != nil {
		return nil, err
	}
	a, err := toMap(args[0])
	if err != nil {
		return nil, err
	}
	b, err := toMap(args[1])
	if err != nil {
		return nil, err
	}
	out := &tengo.Map{Value: map[string]tengo.Object{}}
	for k, v := range a.Value {
		out.Value[k] = v
	}
	for k, v := range b.Value {
		out.Value[k] = v
	}
	return out, nil
}

func (h *helpers) method(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) < 2 {
		return nil, errors.New("want ps_method(x, name, arg...)")
	}
	x, name, rest := args[0], strings.ToLower(psString(args[1])), args[2:]
	if isNull(x) {
		return nil, fmt.Errorf("cannot call .%s() on $null", psString(args[1]))
	}
	want := func(n int) error {
		if len(rest) != n {
			return fmt.Errorf(".%s() takes %d argument(s), got %d", psString(args[1]), n, len(rest))
		}
		return nil
	}
	str := func(s string) (tengo.Object, error) { return &tengo.String{Value: s}, nil }
	switch name {
	case "adddays", "addhours", "addminutes", "addseconds":
		if err := want(1); err != nil {
			return nil, err
		}
		t, ok := x.(*lang.Time)
		if !ok {
			return nil, fmt.Errorf(".%s() is a method of a time, not of %s", psString(args[1]), describeValue(x))
		}
		tm, _ := t.Time()
		n, ok := number(rest[0])
		if !ok {
			return nil, fmt.Errorf(".%s() takes a number, not %s", psString(args[1]), describeValue(rest[0]))
		}
		unit := map[string]time.Duration{"adddays": 24 * time.Hour, "addhours": time.Hour, "addminutes": time.Minute, "addseconds": time.Second}[name]
		return lang.NewTime(tm.Add(time.Duration(n * float64(unit)))), nil
	case "tostring":
		return str(psString(x))
	case "tolower":
		return str(strings.ToLower(psString(x)))
	case "toupper":
		return str(strings.ToUpper(psString(x)))
	case "trim":
		return str(strings.TrimSpace(psString(x)))
	case "startswith", "endswith", "contains":
		if err := want(1); err != nil {
			return nil, err
		}
		s, sub := psString(x), psString(rest[0])
		r := map[string]func(string, string) bool{"startswith": strings.HasPrefix, "endswith": strings.HasSuffix, "contains": strings.Contains}[name](s, sub)
		return tengo.FromInterface(r)
	}
	return nil, fmt.Errorf("unknown method .%s()", psString(args[1]))
}

func (h *helpers) value(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_value", args, 1, 1); err != nil {
		return nil, err
	}
	s, ok := args[0].(*lang.Stream)
	if !ok {
		return args[0], nil
	}
	all, err := s.Collect(env.Context())
	if err != nil {
		return nil, err
	}
	switch len(all) {
	case 0:
		return tengo.UndefinedValue, nil
	case 1:
		return all[0], nil
	}
	return &tengo.Array{Value: all}, nil
}

func (h *helpers) array(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_array", args, 1, 1); err != nil {
		return nil, err
	}
	switch v := args[0].(type) {
	case *lang.Stream, *tengo.Array, *tengo.ImmutableArray:
		return v, nil
	}
	if isNull(args[0]) {
		return &tengo.Array{}, nil
	}
	return &tengo.Array{Value: []tengo.Object{args[0]}}, nil
}

func (h *helpers) emit(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_emit", args, 2, 2); err != nil {
		return nil, err
	}
	out := append([]tengo.Object{}, listOf(args[0])...)
	more, err := items(env.Context(), args[1])
	if err != nil {
		return nil, err
	}
	return &tengo.Array{Value: append(out, more...)}, nil
}

func (h *helpers) plus(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_plus", args, 2, 2); err != nil {
		return nil, err
	}
	a, b := args[0], args[1]
	if isNull(a) && !isList(b) {
		return b, nil
	}
	switch av := a.(type) {
	case *tengo.Array, *tengo.ImmutableArray:
		out := append([]tengo.Object{}, listOf(av)...)
		if isList(b) {
			out = append(out, listOf(b)...)
		} else {
			out = append(out, b)
		}
		return &tengo.Array{Value: out}, nil
	case *tengo.String:
		return &tengo.String{Value: av.Value + psString(b)}, nil
	case *tengo.Int, *tengo.Float:
		if ai, ok := a.(*tengo.Int); ok {
			if bi, ok := b.(*tengo.Int); ok {
				return &tengo.Int{Value: ai.Value + bi.Value}, nil
			}
		}
		x, _ := number(a)
		y, ok := number(b)
		if !ok {
			return nil, fmt.Errorf("cannot add %s to a number", describeValue(b))
		}
		return &tengo.Float{Value: x + y}, nil
	}
	if isNull(a) {
		return b, nil
	}
	return nil, fmt.Errorf("cannot add %s and %s", describeValue(a), describeValue(b))
}

func (h *helpers) index(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_index", args, 2, 2); err != nil {
		return nil, err
	}
	x, i := args[0], args[1]
	if isList(x) {
		n, ok := i.(*tengo.Int)
		if !ok {
			return nil, fmt.Errorf("a list index must be a whole number, not %s", describeValue(i))
		}
		l := listOf(x)
		k := int(n.Value)
		if k < 0 {
			k += len(l)
		}
		if k < 0 || k >= len(l) {
			return tengo.UndefinedValue, nil
		}
		return l[k], nil
	}
	switch v := x.(type) {
	case *tengo.Map, *lang.Record:
		return v.IndexGet(i)
	case *tengo.String:
		n, ok := i.(*tengo.Int)
		r := []rune(v.Value)
		if !ok {
			return nil, errors.New("a string index must be a whole number")
		}
		k := int(n.Value)
		if k < 0 {
			k += len(r)
		}
		if k < 0 || k >= len(r) {
			return tengo.UndefinedValue, nil
		}
		return &tengo.String{Value: string(r[k])}, nil
	}
	if isNull(x) {
		return nil, errors.New("cannot index into $null")
	}
	return nil, fmt.Errorf("cannot index into %s", describeValue(x))
}

func (h *helpers) errorValue(_ *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_error", args, 1, 1); err != nil {
		return nil, err
	}
	msg := psString(args[0])
	msg = strings.TrimPrefix(msg, "ps_throw: ")
	m := &tengo.String{Value: msg}
	return &tengo.Map{Value: map[string]tengo.Object{
		"message":   m,
		"exception": &tengo.Map{Value: map[string]tengo.Object{"message": m}},
	}}, nil
}

// maxCSV bounds the file Import-Csv reads.
const maxCSV = 64 << 20

func (h *helpers) importCSV(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if err := argc("ps_import_csv", args, 1, 1); err != nil {
		return nil, err
	}
	path, ok := args[0].(*tengo.String)
	if !ok || path.Value == "" {
		return nil, errors.New("Import-Csv needs a file path")
	}
	f, err := os.Open(path.Value)
	if err != nil {
		return nil, fmt.Errorf("Import-Csv: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(io.LimitReader(f, maxCSV+1))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("Import-Csv %s: read the header line: %w", cut.Quote(path.Value), err)
	}
	for i, k := range header {
		k = strings.TrimPrefix(strings.TrimSpace(k), "\ufeff")
		if f, ok := h.fields()[normName(k)]; ok {
			k = f
		}
		for _, prev := range header[:i] {
			if prev == k {
				return nil, fmt.Errorf("Import-Csv %s: column %s appears twice; keep one", cut.Quote(path.Value), cut.Quote(k))
			}
		}
		header[i] = k
	}
	var rows []tengo.Object
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// the message of encoding/csv names the line, not the values
			return nil, fmt.Errorf("Import-Csv %s: %w", cut.Quote(path.Value), err)
		}
		m := map[string]tengo.Object{}
		for i, k := range header {
			if i < len(rec) {
				m[k] = &tengo.String{Value: rec[i]}
			} else {
				m[k] = tengo.UndefinedValue
			}
		}
		rows = append(rows, &tengo.Map{Value: m})
	}
	return env.Items(rows), nil
}

// flatMap is a stage of the items f makes of each item: a list or stream
// item by item, nothing for undefined.
func flatMap(env *lang.Env, in *lang.Stream, f func(ctx context.Context, v tengo.Object) (tengo.Object, error)) *lang.Stream {
	var pending []tengo.Object
	return env.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		for len(pending) == 0 {
			v, ok, err := in.Next(ctx)
			if !ok || err != nil {
				return nil, false, err
			}
			r, err := f(ctx, v)
			if err != nil {
				return nil, false, err
			}
			if pending, err = items(ctx, r); err != nil {
				return nil, false, err
			}
		}
		v := pending[0]
		pending = pending[1:]
		return v, true, nil
	})
}

func (h *helpers) foreach(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, errors.New("want ps_foreach(fn)")
	}
	return flatMap(env, in, func(_ context.Context, v tengo.Object) (tengo.Object, error) { return env.Invoke(args[0], v) }), nil
}

func (h *helpers) expand(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, errors.New("want ps_expand(name)")
	}
	name := psString(args[0])
	return flatMap(env, in, func(ctx context.Context, v tengo.Object) (tengo.Object, error) { return h.getProp(ctx, v, name) }), nil
}

// show is ps_show. PowerShell writes a list to the output item by item,
// where pinsh prints an array as one value ([2, 3]); a list here is also
// what lang makes of a stage run on one record that yields several values
// (Get-CsAdminRole CsHelpDesk | Select-Object -ExpandProperty Cmdlets).
// It prints at once rather than return a value to print, so that a Tengo
// script, which prints only streams, shows what the prompt shows. A list
// that holds views (the output of a try block with a Format-Table in it)
// prints each view on its own, in order with the runs of items between.
func show(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, errors.New("want ps_show(x)")
	}
	if !isList(args[0]) {
		if isNull(args[0]) {
			return tengo.UndefinedValue, nil
		}
		return tengo.UndefinedValue, env.Print(args[0])
	}
	var run []tengo.Object
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := env.Print(env.Items(run))
		run = nil
		return err
	}
	for _, v := range listOf(args[0]) {
		if _, isView := v.(*lang.View); !isView {
			run = append(run, v)
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		if err := env.Print(v); err != nil {
			return nil, err
		}
	}
	return tengo.UndefinedValue, flush()
}

var groupSchema = lang.NewSchema("group", "name", "count", "group")
var measureSchema = lang.NewSchema("measure", "count").OneLine()

func (h *helpers) group(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 1 {
		return nil, errors.New("want ps_group(name)")
	}
	name := psString(args[0])
	all, err := in.Collect(env.Context())
	if err != nil {
		return nil, err
	}
	var order []string
	groups := map[string][]tengo.Object{}
	names := map[string]string{}
	for _, v := range all {
		p, err := h.getProp(env.Context(), v, name)
		if err != nil {
			return nil, err
		}
		s := psString(p)
		k := strings.ToLower(s)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			names[k] = s
		}
		groups[k] = append(groups[k], v)
	}
	out := make([]tengo.Object, len(order))
	for i, k := range order {
		out[i] = lang.NewRecord(groupSchema, []tengo.Object{
			&tengo.String{Value: names[k]}, &tengo.Int{Value: int64(len(groups[k]))}, &tengo.ImmutableArray{Value: groups[k]},
		}, nil)
	}
	return env.Items(out), nil
}

func (h *helpers) measure(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, errors.New("ps_measure takes no arguments")
	}
	n, err := builtins.Count(env, in)
	if err != nil {
		return nil, err
	}
	return lang.NewRecord(measureSchema, []tengo.Object{&tengo.Int{Value: n}}, nil), nil
}

func (h *helpers) toJSON(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 0 {
		return nil, errors.New("ps_to_json takes no arguments")
	}
	all, err := in.Collect(env.Context())
	if err != nil {
		return nil, err
	}
	var v tengo.Object = &tengo.Array{Value: all}
	if len(all) == 1 {
		v = all[0]
	}
	b, err := lang.JSONValue(v)
	if err != nil {
		return nil, err
	}
	return &tengo.String{Value: string(b)}, nil
}
