package lang

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/token"

	input "github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/internal/suggest"
)

// ViewKind is the layout a View chooses.
type ViewKind uint8

const (
	// TableView shows records as a table with the view's fields as its
	// columns (no fields: the columns of the record type), even a single
	// record or a one-line summary.
	TableView ViewKind = iota
	// ListView shows each record as a block of "field : value" lines with
	// the view's fields (no fields: every field), a blank line between
	// blocks, long values wrapped to the terminal rather than cut.
	ListView
)

// View is the output of format_table and format_list: the items of a
// stream with the layout and the fields a script chose for display, the
// way PowerShell's Format-Table and Format-List choose a view.
//
// A view is for display only, as PowerShell's Format-* output is: it is
// printed (a statement whose value is a view prints it, in scripts too,
// or a sink that Shows its input prints it elsewhere: page) and nothing
// else reads it. Piping it into another stage or sink, calling a builtin
// on it or iterating it is an error that says to put the format stage last
// (and select(...) to narrow records for anything else). It is shown once,
// as its stream is read once.
//
// Fields are named as the records name them, or by their PowerShell names
// ignoring case, '_' and '-' (IsPinSet is is_pin_set); the table shows the
// records' own names. A name a record's type lacks is a *FieldError,
// raised when the first record of that type is read, before it prints.
// Keys of maps are named exactly; a key a map lacks shows as empty.
// Scalars print on lines of their own when no fields are named, and are
// an error when some are.
//
// In a data format the user chose (Options.FormatExplicit with JSON,
// JSONL or CSV), a view writes its records as data, narrowed to the named
// fields in their order (no fields: every field); otherwise, at a
// terminal or in the default output of a script, it prints as text.
type View struct {
	tengo.ObjectImpl
	by      string // the builtin that made it, for messages
	kind    ViewKind
	fields  []string // as named; nil: the default of kind
	in      *Stream
	shown   bool
	layouts map[*Schema]*viewLayout
	maps    *viewLayout // the layout of maps, once fields are named
}

// viewLayout is how a view shows the records of one schema (or maps).
type viewLayout struct {
	shape *shape
	data  *Schema // the narrowed records of a data format; nil: as they are
}

// View returns the view of in (which the caller has claimed, as Run's
// input is) that builtin by makes, of kind with fields (none: the kind's
// default).
func (e *Env) View(by string, kind ViewKind, in *Stream, fields []string) *View {
	return &View{by: by, kind: kind, fields: fields, in: in, layouts: map[*Schema]*viewLayout{}}
}

// TypeName returns "view".
func (v *View) TypeName() string { return "view" }

// String returns the call that made the view, as in <view format_table("identity")>.
func (v *View) String() string {
	q := make([]string, len(v.fields))
	for i, f := range v.fields {
		q[i] = input.Quote(f)
	}
	return "<view " + v.by + "(" + strings.Join(q, ", ") + ")>"
}

// IsFalsy reports false.
func (v *View) IsFalsy() bool { return false }

// Equals reports identity.
func (v *View) Equals(x tengo.Object) bool { return v == x }

// Copy returns v: a view cannot be duplicated.
func (v *View) Copy() tengo.Object { return v }

// BinaryOp supports no operators.
func (v *View) BinaryOp(token.Token, tengo.Object) (tengo.Object, error) {
	return nil, tengo.ErrInvalidOperator
}

// IndexGet fails: a view has no fields to read.
func (v *View) IndexGet(tengo.Object) (tengo.Object, error) {
	return nil, v.unread("read fields of %s")
}

// CanIterate reports true, so that a for loop gets the view's message
// rather than Tengo's "not iterable".
func (v *View) CanIterate() bool { return true }

// Iterate returns an iterator that fails at once (see View).
func (v *View) Iterate() tengo.Iterator { return &viewIterator{v: v} }

type viewIterator struct {
	tengo.ObjectImpl
	v *View
}

func (it *viewIterator) TypeName() string  { return "view-iterator" }
func (it *viewIterator) String() string    { return "<view-iterator>" }
func (it *viewIterator) Next() bool        { panic(vmAbort{it.v.unread("iterate over %s")}) }
func (it *viewIterator) Key() tengo.Object { return tengo.UndefinedValue }
func (it *viewIterator) Value() tengo.Object {
	return tengo.UndefinedValue
}

// unread is the error of doing what with the view ("pipe %s into
// lock_pin", where %s stands for the view): only the printer reads a view.
func (v *View) unread(what string) error {
	return fmt.Errorf("cannot "+what+": a view is for display and nothing reads it; "+
		"put %s last in the pipeline (as PowerShell's Format-* cmdlets go last), "+
		"and narrow records for anything else with select(...)", "the view "+v.by+" makes", v.by)
}

// layout returns how the view shows x, a record or map; nil for a value
// that prints as a line (no fields named). It fails for a field a
// record's type lacks, and for a scalar when fields are named.
func (v *View) layout(x tengo.Object) (*viewLayout, error) {
	switch x := x.(type) {
	case *Record:
		if l, ok := v.layouts[x.schema]; ok {
			return l, nil
		}
		l, err := v.recordLayout(x.schema)
		if err != nil {
			return nil, err
		}
		v.layouts[x.schema] = l
		return l, nil
	case *tengo.Map, *tengo.ImmutableMap:
		if v.fields == nil {
			return &viewLayout{shape: shapeOf(x, false)}, nil
		}
		if v.maps == nil {
			v.maps = &viewLayout{shape: &shape{keys: v.fields, loose: true}, data: NewSchema("record", v.fields...)}
		}
		return v.maps, nil
	}
	if v.fields != nil {
		return nil, fmt.Errorf("cannot show fields of %s %s: %s shows the fields of records and maps",
			x.TypeName(), describe(x), v.by)
	}
	return nil, nil
}

func (v *View) recordLayout(s *Schema) (*viewLayout, error) {
	sh := &shape{schema: s}
	switch {
	case v.fields != nil:
		seen := make(map[int]string, len(v.fields))
		for _, f := range v.fields {
			i, err := s.resolve(f)
			if err != nil {
				return nil, err
			}
			if prev, dup := seen[i]; dup {
				return nil, fmt.Errorf("%s and %s name the same field %s of a %s record: name it once",
					input.Quote(prev), input.Quote(f), s.fields[i], s.name)
			}
			seen[i] = f
			sh.cols = append(sh.cols, i)
		}
	case v.kind == ListView:
		sh.cols = make([]int, len(s.fields))
		for i := range sh.cols {
			sh.cols[i] = i
		}
	default:
		sh.cols = s.columns
	}
	l := &viewLayout{shape: sh}
	if v.fields != nil {
		l.data = NewSchema(s.name, sh.header()...)
	}
	return l, nil
}

// resolve returns the index of the field name names: the field itself, or
// the one it names in PowerShell's spelling, ignoring case, '_' and '-'
// (IsPinSet is is_pin_set); else a *FieldError.
func (s *Schema) resolve(name string) (int, error) {
	if i := s.Index(name); i >= 0 {
		return i, nil
	}
	for i, f := range s.fields {
		if suggest.Same(f, name) {
			return i, nil
		}
	}
	return -1, s.NoField(name)
}

// deliver notes that the fields of x the view shows reach the admin (see
// Schema.Secret): a record's secret is delivered only if it is shown.
func (l *viewLayout) deliver(x tengo.Object) {
	r, ok := x.(*Record)
	if !ok || l == nil {
		Delivered(x)
		return
	}
	for _, c := range l.shape.cols {
		r.readField(c)
		Delivered(r.Value(c))
	}
}

// narrow returns x as a data format writes it: a record of the named
// fields, or x itself when none are named.
func (l *viewLayout) narrow(x tengo.Object) tengo.Object {
	if l == nil || l.data == nil {
		return x
	}
	vals := make([]tengo.Object, len(l.data.fields))
	switch x := x.(type) {
	case *Record:
		for i, c := range l.shape.cols {
			vals[i] = x.Value(c)
		}
	case *tengo.Map:
		fillKeys(vals, x.Value, l.shape.keys)
	case *tengo.ImmutableMap:
		fillKeys(vals, x.Value, l.shape.keys)
	}
	return NewRecord(l.data, vals, nil)
}

func fillKeys(vals []tengo.Object, m map[string]tengo.Object, keys []string) {
	for i, k := range keys {
		vals[i] = m[k] // nil reads as undefined
	}
}

// printView prints a view: as text (a table, or a list) unless the user
// chose a data format.
func (p *printer) printView(ctx context.Context, v *View) error {
	next, cur, err := p.readView(ctx, v)
	if err != nil {
		return err
	}
	return p.showView(v, next, cur)
}

// readView opens v for printing, once: it returns a reader of v's items
// and where that reader keeps the layout of the item it returned last. A
// field the item's type lacks fails in the reader, as a read error, before
// the item prints.
func (p *printer) readView(ctx context.Context, v *View) (func() (tengo.Object, bool, error), **viewLayout, error) {
	if v.shown {
		return nil, nil, fmt.Errorf("this view of %s was shown already: a view shows its records once, "+
			"as a stream is read once; run the pipeline again", v.by)
	}
	v.shown = true
	v.in.claimed = "the printer" // a precious stream's note says its values were shown
	if st := v.in.precious; st != nil {
		p.ready = func() bool { return len(st.buf) > 0 }
	}
	cur := new(*viewLayout)
	next := func() (tengo.Object, bool, error) {
		x, ok, err := v.in.Next(ctx)
		if err != nil || !ok {
			return nil, false, err
		}
		if *cur, err = v.layout(x); err != nil {
			return nil, false, fmt.Errorf("%s: %w", v.by, err)
		}
		(*cur).deliver(x)
		return x, true, nil
	}
	return next, cur, nil
}

// showView prints the items next reads from v, whose layouts it keeps in
// *pcur.
func (p *printer) showView(v *View, next func() (tengo.Object, bool, error), pcur **viewLayout) error {
	if p.format != Table && p.data {
		return p.seq(narrowed(next, pcur))
	}
	if v.kind == TableView {
		p.view = v
		defer func() { p.view = nil }()
		return p.table(next)
	}
	for p.err == nil {
		x, ok, err := next()
		if err != nil || !ok {
			return err
		}
		cur := *pcur
		if cur == nil {
			p.line(x)
			continue
		}
		if p.prev != 0 {
			p.write("\n")
		}
		p.prev = 1
		p.block(cur.shape.header(), cur.shape.cells(x, cell))
	}
	return nil
}

// narrowed reads the items of a view written as data (JSON, CSV): each
// with only the fields the view names, in its order. *cur is the layout
// next found for the item it returned.
func narrowed(next func() (tengo.Object, bool, error), cur **viewLayout) func() (tengo.Object, bool, error) {
	return func() (tengo.Object, bool, error) {
		x, ok, err := next()
		if ok {
			x = (*cur).narrow(x)
		}
		return x, ok, err
	}
}

// viewShape is the table shape of x in the view being printed, which
// printView's reader has checked.
func (p *printer) viewShape(x tengo.Object) *shape {
	l, _ := p.view.layout(x)
	if l == nil {
		return nil
	}
	return l.shape
}

// block prints one record of a list view: "field : value" lines, a long
// value wrapped at the terminal's width under the values above it (an
// identity is never broken: the terminal wraps it whole).
func (p *printer) block(names, values []string) {
	w := 0
	for _, n := range names {
		w = max(w, utf8.RuneCountInString(n))
	}
	room := p.width - w - 3
	indent := strings.Repeat(" ", w+3)
	for i, n := range names {
		line := pad(n, w) + " : "
		val := []rune(values[i])
		for p.width > 0 && room >= minColumn && len(val) > room && n != "identity" {
			p.write(line + string(val[:room]))
			p.endLine()
			line, val = indent, val[room:]
		}
		p.write(strings.TrimRight(line+string(val), " "))
		p.endLine()
	}
}
