package lang

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/d5/tengo/v2"
	tengojson "github.com/d5/tengo/v2/stdlib/json"

	input "github.com/pinsh/pinsh/internal/cut"
)

// maxValueDepth bounds how deeply this package descends into nested arrays,
// maps and records when printing or encoding: a container that contains
// itself would otherwise recurse until the Go stack overflows, which is fatal.
const maxValueDepth = 64

var errTooDeep = fmt.Errorf("value is nested more than %d levels deep (does it contain itself?)", maxValueDepth)

// checkDepth fails if v nests deeper than maxValueDepth.
func checkDepth(v tengo.Object, depth int) error {
	if depth > maxValueDepth {
		return errTooDeep
	}
	var elems []tengo.Object
	switch v := v.(type) {
	case *tengo.Array:
		elems = v.Value
	case *tengo.ImmutableArray:
		elems = v.Value
	case *Record:
		elems = v.all()
	case *tengo.Error:
		return checkDepth(v.Value, depth+1)
	case *tengo.Map:
		for _, e := range v.Value {
			if err := checkDepth(e, depth+1); err != nil {
				return err
			}
		}
	case *tengo.ImmutableMap:
		for _, e := range v.Value {
			if err := checkDepth(e, depth+1); err != nil {
				return err
			}
		}
	}
	for _, e := range elems {
		if err := checkDepth(e, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func isScalar(v tengo.Object) bool {
	switch v.(type) {
	case *tengo.Array, *tengo.ImmutableArray, *tengo.Map, *tengo.ImmutableMap, *Record, *tengo.Error:
		return false
	}
	return true
}

func sortedKeys(m map[string]tengo.Object) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// literal renders v as Tengo source would write it: strings quoted, maps
// with sorted keys, records as maps in schema order. Beyond maxValueDepth it
// writes "…".
func literal(v tengo.Object, depth int) string {
	var b strings.Builder
	writeLiteral(&b, v, depth)
	return b.String()
}

func writeLiteral(b *strings.Builder, v tengo.Object, depth int) {
	if depth > maxValueDepth {
		b.WriteString("…")
		return
	}
	writeSeq := func(open, close string, elems []tengo.Object) {
		b.WriteString(open)
		for i, e := range elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, e, depth+1)
		}
		b.WriteString(close)
	}
	writeMap := func(m map[string]tengo.Object) {
		b.WriteString("{")
		for i, k := range sortedKeys(m) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteString(": ")
			writeLiteral(b, m[k], depth+1)
		}
		b.WriteString("}")
	}
	switch v := v.(type) {
	case *tengo.String:
		b.WriteString(strconv.Quote(v.Value))
	case *tengo.Char:
		b.WriteString(strconv.QuoteRune(v.Value))
	case *Time:
		if v.never {
			b.WriteString("never")
		} else {
			b.WriteString(v.String())
		}
	case *tengo.Time:
		b.WriteString(v.Value.Format(TimeLayout))
	case *tengo.Array:
		writeSeq("[", "]", v.Value)
	case *tengo.ImmutableArray:
		writeSeq("immutable([", "])", v.Value)
	case *tengo.Map:
		writeMap(v.Value)
	case *tengo.ImmutableMap:
		writeMap(v.Value)
	case *Record:
		b.WriteString("{")
		for i, f := range v.schema.fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f)
			b.WriteString(": ")
			writeLiteral(b, v.Value(i), depth+1)
		}
		b.WriteString("}")
	case *tengo.Error:
		b.WriteString("error(")
		writeLiteral(b, v.Value, depth+1)
		b.WriteString(")")
	default:
		b.WriteString(v.String())
	}
}

// text renders v as fmt.println shows it: strings and characters as they
// are, everything else as a literal.
func text(v tengo.Object) string {
	switch v := v.(type) {
	case *tengo.String:
		return v.Value
	case *tengo.Char:
		return string(v.Value)
	case *tengo.Bytes:
		return string(v.Value)
	case *Time:
		return v.String()
	}
	return literal(v, 0)
}

// cell renders v in a table or CSV cell: undefined and never empty, times in
// RFC 3339, an array of scalars as a comma-separated list, control
// characters as spaces.
func cell(v tengo.Object) string {
	var s string
	switch v := v.(type) {
	case *tengo.Undefined:
		return ""
	case *tengo.Time:
		s = v.Value.Format(TimeLayout)
	case *tengo.Array:
		s = list(v.Value)
	case *tengo.ImmutableArray:
		s = list(v.Value)
	default:
		s = text(v)
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// csvCell is cell for a CSV file: an array of scalars is its elements
// joined with ';', as csvde writes a multi-valued attribute, so that
// pinsh import reads it back (a table's ", " would split the commas of
// the DNs of member_of).
func csvCell(v tengo.Object) string {
	elems, ok := Elems(v)
	if !ok {
		return cell(v)
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		if !isScalar(e) {
			return cell(v)
		}
		parts[i] = cell(e)
	}
	return strings.Join(parts, ";")
}

func list(elems []tengo.Object) string {
	parts := make([]string, len(elems))
	for i, e := range elems {
		if !isScalar(e) {
			return literal(&tengo.Array{Value: elems}, 1)
		}
		parts[i] = text(e)
	}
	return strings.Join(parts, ", ")
}

// appendJSON appends the JSON encoding of v: records as objects in schema
// order, maps with sorted keys, times in RFC 3339 (never and undefined as
// null), bytes in base64 and characters as numbers (as Tengo's json module
// does). Streams, functions and other values JSON cannot hold are errors.
func appendJSON(b []byte, v tengo.Object, depth int) ([]byte, error) {
	if depth > maxValueDepth {
		return b, errTooDeep
	}
	var err error
	switch v := v.(type) {
	case *Record:
		b = append(b, '{')
		for i, f := range v.schema.fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, f)
			b = append(b, ':')
			if b, err = appendJSON(b, v.Value(i), depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	case *tengo.Map:
		return appendJSONMap(b, v.Value, depth)
	case *tengo.ImmutableMap:
		return appendJSONMap(b, v.Value, depth)
	case *tengo.Array:
		return appendJSONArray(b, v.Value, depth)
	case *tengo.ImmutableArray:
		return appendJSONArray(b, v.Value, depth)
	case *tengo.Undefined:
		return append(b, "null"...), nil
	case *Time:
		if v.never {
			return append(b, "null"...), nil
		}
		return strconv.AppendQuote(b, v.t.Format(TimeLayout)), nil
	case *tengo.Time:
		return strconv.AppendQuote(b, v.Value.Format(TimeLayout)), nil
	case *tengo.String:
		return appendJSONString(b, v.Value), nil
	case *tengo.Int:
		return strconv.AppendInt(b, v.Value, 10), nil
	case *tengo.Char:
		return strconv.AppendInt(b, int64(v.Value), 10), nil
	case *tengo.Bool:
		return strconv.AppendBool(b, !v.IsFalsy()), nil
	case *tengo.Float, *tengo.Bytes:
		enc, err := tengojson.Encode(v) // Tengo's number and base64 forms
		return append(b, enc...), err
	case *tengo.Error:
		b = append(b, `{"error":`...)
		if b, err = appendJSON(b, v.Value, depth+1); err != nil {
			return b, err
		}
		return append(b, '}'), nil
	case *Stream:
		return b, errors.New("cannot encode a stream as JSON: collect() it first")
	case *stage:
		return b, v.notValue()
	}
	return b, fmt.Errorf("cannot encode %s as JSON", v.TypeName())
}

func appendJSONMap(b []byte, m map[string]tengo.Object, depth int) ([]byte, error) {
	var err error
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if b, err = appendJSON(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendJSONArray(b []byte, elems []tengo.Object, depth int) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendJSON(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}

// notValue is the error for a stage where a value was wanted: lock_pin(42)
// named no target, so the call made a stage, which is no result to show
// (nor, as a statement of a script, anything that ran). A stage of a
// builtin with SecretArgs shows no argument.
func (s *stage) notValue() error {
	name := input.Text(strings.TrimSuffix(strings.TrimPrefix(s.String(), "<stage "), ">"))
	return fmt.Errorf("%s is a pipeline stage, not a value: nothing ran; pipe its input into it (get_users() | %s), or give it a user's identity first", name, name)
}

// Elems returns the elements of an array, mutable or immutable, and true;
// for any other value, nil and false. The slice is the array's own: callers
// must not change it.
func Elems(v tengo.Object) ([]tengo.Object, bool) {
	switch v := v.(type) {
	case *tengo.Array:
		return v.Value, true
	case *tengo.ImmutableArray:
		return v.Value, true
	}
	return nil, false
}
