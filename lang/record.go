package lang

import (
	"fmt"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/token"
)

// Schema describes one type of record: its name and its ordered field names.
// All records of a type share one Schema, so a record costs only its values.
//
// Build schemas once (typically in package-level variables of the package that
// produces the records) and do not change them after the first record is made:
// a Schema is read concurrently without locks.
type Schema struct {
	name    string
	fields  []string
	index   map[string]int
	columns []int // table columns, indexes into fields
	oneLine bool

	precious bool // see Schema.Precious
	secret   int  // the secret field's index, see Schema.Secret; -1: none
}

// NewSchema returns the schema of records of type name with the given fields,
// in the order they are printed. The table view shows every field until
// Columns narrows it.
//
// NewSchema panics if a field is empty or repeated: schemas are fixed by the
// program, so a bad one is a programming error.
func NewSchema(name string, fields ...string) *Schema {
	s := &Schema{
		name:   name,
		fields: append([]string(nil), fields...),
		index:  make(map[string]int, len(fields)),
		secret: -1,
	}
	for i, f := range fields {
		if f == "" {
			panic(fmt.Sprintf("lang.NewSchema(%q): empty field name", name))
		}
		if _, dup := s.index[f]; dup {
			panic(fmt.Sprintf("lang.NewSchema(%q): field %q repeated", name, f))
		}
		s.index[f] = i
		s.columns = append(s.columns, i)
	}
	return s
}

// Columns sets the fields shown, in this order, when records of this schema
// are printed as a table (a single record printed on its own still shows every
// field). It returns s, so that it chains after NewSchema. It panics if a name
// is not a field of the schema.
func (s *Schema) Columns(fields ...string) *Schema {
	cols := make([]int, 0, len(fields))
	for _, f := range fields {
		i, ok := s.index[f]
		if !ok {
			panic(fmt.Sprintf("lang.Schema(%q).Columns: no field %q", s.name, f))
		}
		cols = append(cols, i)
	}
	s.columns = cols
	return s
}

// OneLine makes records of this schema print as a single line of
// "field: value" pairs, the form for summaries such as
// {changed: 3, skipped: 1, failed: 0}. It returns s.
func (s *Schema) OneLine() *Schema {
	s.oneLine = true
	return s
}

// Name returns the record type name; it is also the Tengo type name of the
// records.
func (s *Schema) Name() string { return s.name }

// Fields returns the field names in order. The caller must not modify the
// returned slice.
func (s *Schema) Fields() []string { return s.fields }

// Index returns the position of field in the schema, or -1.
func (s *Schema) Index(field string) int {
	if len(s.fields) <= 16 { // every predicate reads fields: a scan beats hashing here
		for i, f := range s.fields {
			if len(f) == len(field) && f == field {
				return i
			}
		}
		return -1
	}
	if i, ok := s.index[field]; ok {
		return i
	}
	return -1
}

// Record is an immutable Tengo value of a Schema: r.field and r["field"] read
// a field (a field this record leaves unset reads as undefined; a name that
// is not a field of the schema is an error, see FieldError), for k, v in r
// iterates the fields in order, and == compares schema and values. A record
// can carry a hidden Go payload that scripts cannot see (for example the
// store's key of the user it describes).
type Record struct {
	tengo.ObjectImpl
	schema *Schema
	// values holds the fields made so far: all of them for NewRecord; for
	// a lazy record nil until a field whose value must be kept is read.
	values  []tengo.Object
	fields  Fields // makes the fields of a lazy record; nil for NewRecord
	payload any
}

// Fields makes the fields of a lazy record (see NewFieldsRecord).
type Fields interface {
	// Field returns the value of field i (nil reads as undefined). It
	// must return the same value for the same field whenever it is
	// called. It is called at most once per field, except for a field
	// whose value is true, false or undefined: those are shared values,
	// kept nowhere and asked for again.
	Field(i int) tengo.Object
}

// fillFunc is a function as Fields (NewLazyRecord).
type fillFunc func(i int) tengo.Object

func (f fillFunc) Field(i int) tengo.Object { return f(i) }

// NewRecord returns a record of schema s holding values, one per field in
// schema order; nil values read as undefined. The record keeps values: the
// caller must not modify the slice afterwards. payload is returned by Payload
// and never shown to scripts.
//
// NewRecord panics if len(values) differs from the number of fields.
func NewRecord(s *Schema, values []tengo.Object, payload any) *Record {
	if len(values) != len(s.fields) {
		panic(fmt.Sprintf("lang.NewRecord(%s): %d values for %d fields",
			s.name, len(values), len(s.fields)))
	}
	for i, v := range values {
		if v == nil {
			values[i] = tengo.UndefinedValue
		}
	}
	return &Record{schema: s, values: values, payload: payload}
}

// NewLazyRecord returns a record of schema s whose field i is made by
// fill(i) when it is first read, under the rules of Fields.Field, so that
// a pipeline that looks at two fields of a record pays for two. fill is
// called from the session that reads the record. payload is as for
// NewRecord.
func NewLazyRecord(s *Schema, payload any, fill func(i int) tengo.Object) *Record {
	return &Record{schema: s, fields: fillFunc(fill), payload: payload}
}

// fieldsRecord is a lazy record and its Fields in one allocation.
type fieldsRecord[T any] struct {
	rec Record
	src T
}

// NewFieldsRecord returns a lazy record of schema s whose fields are made
// by a copy of src (under the rules of Fields.Field) that lives in the
// record's own allocation: a scan that makes a record per user costs one
// allocation per user, plus the values its readers ask for. The record's
// payload is the pointer to that copy.
func NewFieldsRecord[T any, P interface {
	*T
	Fields
}](s *Schema, src T) *Record {
	b := &fieldsRecord[T]{src: src}
	p := P(&b.src)
	b.rec = Record{schema: s, fields: p, payload: p}
	return &b.rec
}

// Schema returns the record's schema.
func (r *Record) Schema() *Schema { return r.schema }

// Get returns the value of field, or undefined if the schema has no such
// field. It is for Go code that asks whether a record has a field; a field
// named by a script is read with Lookup.
func (r *Record) Get(field string) tengo.Object {
	if i := r.schema.Index(field); i >= 0 {
		return r.Value(i)
	}
	return tengo.UndefinedValue
}

// Lookup returns the value of field, or a *FieldError naming the closest
// fields if the schema has no such field: the check for a field an admin
// named (select, sort_by, a field map).
func (r *Record) Lookup(field string) (tengo.Object, error) {
	if i := r.schema.Index(field); i >= 0 {
		r.readField(i)
		return r.Value(i), nil
	}
	return nil, r.schema.NoField(field)
}

// Value returns the value of the i-th field (see Schema.Index).
func (r *Record) Value(i int) tengo.Object {
	if r.values != nil {
		if v := r.values[i]; v != nil {
			return v
		}
	}
	v := r.fields.Field(i)
	if v == nil {
		v = tengo.UndefinedValue
	}
	if shared(v) {
		return v // nothing to keep: a predicate reading flags allocates nothing
	}
	if r.values == nil {
		r.values = make([]tengo.Object, len(r.schema.fields))
	}
	r.values[i] = v
	return v
}

// shared reports whether v is one of the values Tengo shares (true, false,
// undefined), which a lazy record need not keep.
func shared(v tengo.Object) bool {
	return v == tengo.TrueValue || v == tengo.FalseValue || v == tengo.UndefinedValue
}

// all returns every value, making those of a lazy record not made yet.
func (r *Record) all() []tengo.Object {
	if r.fields != nil {
		if r.values == nil {
			r.values = make([]tengo.Object, len(r.schema.fields))
		}
		for i := range r.values {
			r.values[i] = r.Value(i)
		}
	}
	return r.values
}

// Payload returns the hidden Go value given to NewRecord.
func (r *Record) Payload() any { return r.payload }

// ToMap returns a new mutable Tengo map with the record's fields. The map
// holds the record's secret, if it has one: the record is delivered (see
// Schema.Secret).
func (r *Record) ToMap() *tengo.Map {
	r.deliver()
	m := make(map[string]tengo.Object, len(r.schema.fields))
	for i, f := range r.schema.fields {
		m[f] = r.Value(i)
	}
	return &tengo.Map{Value: m}
}

// TypeName returns the schema name.
func (r *Record) TypeName() string { return r.schema.name }

// String returns the record as a Tengo map literal with fields in schema
// order. The string holds the record's secret, if it has one: the record is
// delivered (see Schema.Secret).
func (r *Record) String() string {
	r.deliver()
	return literal(r, 0)
}

// BinaryOp supports no operators.
func (r *Record) BinaryOp(token.Token, tengo.Object) (tengo.Object, error) {
	return nil, tengo.ErrInvalidOperator
}

// IsFalsy reports false: a record is always truthy.
func (r *Record) IsFalsy() bool { return false }

// Equals reports whether x is a record of the same schema with equal values.
func (r *Record) Equals(x tengo.Object) bool {
	o, ok := x.(*Record)
	if !ok || o.schema != r.schema {
		return false
	}
	if o == r {
		return true
	}
	for i, v := range r.all() {
		if !v.Equals(o.Value(i)) {
			return false
		}
	}
	return true
}

// Copy returns r itself: records are immutable.
func (r *Record) Copy() tengo.Object { return r }

// IndexGet returns the field named by a string index (r.field,
// r["field"]): its value, undefined if this record leaves it unset. A name
// that is not a field of the record's type is a *FieldError, so that a
// misspelt field stops the script instead of reading as undefined (where
// !p.IsPinSet would hold for every record).
func (r *Record) IndexGet(index tengo.Object) (tengo.Object, error) {
	s, ok := index.(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("a %s record is indexed by a field name (a string), not %s",
			r.schema.name, index.TypeName())
	}
	if i := r.schema.Index(s.Value); i >= 0 { // Lookup, by hand: this is every p.field of a predicate
		r.readField(i)
		return r.Value(i), nil
	}
	return nil, r.schema.NoField(s.Value)
}

// IndexSet fails: records are read-only.
func (r *Record) IndexSet(index, _ tengo.Object) error {
	return fmt.Errorf("cannot assign to %s of a %s record: records are read-only; "+
		"to_map(r) makes a mutable copy", fieldName(index), r.schema.name)
}

func fieldName(index tengo.Object) string {
	if s, ok := index.(*tengo.String); ok {
		return s.Value
	}
	return index.String()
}

// CanIterate reports true.
func (r *Record) CanIterate() bool { return true }

// Iterate returns an iterator over field names and values in schema order.
func (r *Record) Iterate() tengo.Iterator { return &recordIterator{r: r, i: -1} }

type recordIterator struct {
	tengo.ObjectImpl
	r *Record
	i int
}

func (it *recordIterator) TypeName() string { return "record-iterator" }
func (it *recordIterator) String() string   { return "<record-iterator>" }
func (it *recordIterator) Next() bool {
	it.i++
	return it.i < len(it.r.schema.fields)
}
func (it *recordIterator) Key() tengo.Object {
	return &tengo.String{Value: it.r.schema.fields[it.i]}
}
func (it *recordIterator) Value() tengo.Object {
	it.r.readField(it.i)
	return it.r.Value(it.i)
}

// identityOf returns the identity a value names when it is used as a target:
// a string is itself; a Record or map with a string "identity" field is that
// field. ok is false for anything else.
func identityOf(o tengo.Object) (id string, ok bool) {
	var v tengo.Object
	switch o := o.(type) {
	case *tengo.String:
		return o.Value, true
	case *Record:
		i := o.schema.Index("identity")
		if i < 0 {
			return "", false
		}
		v = o.Value(i)
	case *tengo.Map:
		v = o.Value["identity"]
	case *tengo.ImmutableMap:
		v = o.Value["identity"]
	default:
		return "", false
	}
	s, ok := v.(*tengo.String)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// describe names a value in an error message: a target by its identity,
// anything else by a shortened literal.
func describe(o tengo.Object) string {
	if id, ok := identityOf(o); ok {
		if _, isStr := o.(*tengo.String); !isStr {
			return id
		}
	}
	s := literal(o, 0)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return strings.TrimSpace(s)
}
