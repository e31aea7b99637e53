package lang

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/d5/tengo/v2"

	input "github.com/pinsh/pinsh/internal/cut"
)

// Format is how printed values are written. For every format a stream is
// written as it is read, in constant memory (the table looks ahead a bounded
// number of rows to size its columns).
type Format uint8

const (
	// Table is for people at a terminal. Streams and arrays of records or
	// maps print as tables: one header per run of records of one type (a
	// new header after a blank line when the type changes), columns chosen
	// by the record type (Schema.Columns), widths sized from the first rows
	// and fitted to the terminal width, long values cut with "…". A single
	// record prints as a "field : value" list with every field, a one-line
	// record (Schema.OneLine) as "field: value" pairs. Strings print
	// without quotes; undefined and never print as empty; times print as
	// TimeLayout, RFC 3339 to the second, as in every format (pinsh stores
	// UTC); an array of scalars in a cell prints as "a, b, c".
	Table Format = iota
	// JSON writes a stream or array as one JSON array, one element per
	// line, and any other value as one JSON value. Records are objects with
	// their fields in order, map keys are sorted, times are TimeLayout
	// strings (as in a table or CSV), never and undefined are null.
	JSON
	// JSONL writes one JSON value per line: each element of a stream or
	// array, or the single value. It is the default when the output is not
	// a terminal.
	JSONL
	// CSV writes a header row and one row per record or map (all fields);
	// a change of record type starts a new header after a blank line.
	// Scalars are rows of one column named "value". An array of scalars in
	// a cell is written joined with ';' (as csvde writes a multi-valued
	// attribute, and pinsh import reads it).
	CSV
)

var formatNames = [...]string{Table: "table", JSON: "json", JSONL: "jsonl", CSV: "csv"}

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat parses "table", "json", "jsonl" or "csv".
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown output format %s: use table, json, jsonl or csv", input.Quote(s))
}

// DefaultFormat returns the format used without --output: Table on a
// terminal, JSONL otherwise (one value per line suits grep, jq and
// line-oriented scripts, and never truncates).
func DefaultFormat(terminal bool) Format {
	if terminal {
		return Table
	}
	return JSONL
}

const (
	lookahead = 50 // rows a table reads before fixing its column widths
	minColumn = 5  // a fitted column is not narrowed below this
)

type printer struct {
	w      *bufio.Writer
	format Format
	width  int // terminal width; 0: don't fit, don't cut
	// termWidth is Options.TermWidth when width > 0: the width now
	termWidth func() int
	err       error
	prev      int // what was printed last: 0 nothing, 1 a table, 2 a line

	// ready reports whether the stream being printed has an item to give
	// without making more (see Precious); nil: always
	ready func() bool
	uncut bool // the table being printed is of precious records: never cut
	grown struct {
		schema *Schema
		widths []int
	} // the last table's, for uncut tables

	view *View // the table view being printed (printView), or nil
	data bool  // the user chose the format: a JSON or CSV one writes views as data
}

func (s *Session) print(ctx context.Context, v tengo.Object) error {
	return s.printTo(s.out, ctx, v)
}

// printTo prints v to w in the session's output format.
func (s *Session) printTo(w *bufio.Writer, ctx context.Context, v tengo.Object) error {
	p := s.printer(w)
	return p.done(p.value(ctx, v))
}

// printer returns a printer to w in the session's format, fitted to the
// terminal's width now.
func (s *Session) printer(w *bufio.Writer) *printer {
	p := &printer{w: w, format: s.opts.Format, width: s.opts.Width, data: s.opts.FormatExplicit}
	if p.width > 0 {
		p.termWidth = s.opts.TermWidth
		p.resized()
	}
	return p
}

// resized reads the terminal's width again (Options.TermWidth), and reports
// whether it changed since p last read it.
func (p *printer) resized() bool {
	if p.termWidth == nil {
		return false
	}
	w := p.termWidth()
	if w <= 0 || w == p.width {
		return false
	}
	p.width = w
	return true
}

// done flushes what p printed, and returns the printing's error: a write
// error first, else err, the error of what was printed.
func (p *printer) done(err error) error {
	if ferr := p.w.Flush(); p.err == nil && ferr != nil {
		p.err = ferr
	}
	if p.err != nil {
		return fmt.Errorf("write output: %w", p.err)
	}
	return err
}

// PrintStream prints in, the input of the calling sink, to w as a
// statement's value prints on the session's output: the same format, table
// layout and width. It is for a sink that shows its input elsewhere (page,
// in a pager). A nil w is the session's output. A write error is returned
// wrapped, and ends the printing: in is not read further.
func (e *Env) PrintStream(w io.Writer, in *Stream) error {
	s := e.s
	out := s.out
	if w != nil {
		out = bufio.NewWriter(w)
	}
	p := s.printer(out)
	if t, ok := in.Origin().(SingleTarget); ok {
		if v, ok := t.Value.(*View); ok { // piped into a sink that Shows
			return p.done(p.printView(e.Context(), v))
		}
	}
	return p.done(p.stream(e.Context(), in))
}

func (p *printer) write(s string) {
	if p.err == nil {
		_, p.err = p.w.WriteString(s)
	}
}

// endLine ends a line; at a terminal it flushes, so a slow stream shows its
// records as they come.
func (p *printer) endLine() {
	p.write("\n")
	if p.width > 0 && p.err == nil {
		p.err = p.w.Flush()
	}
}

func (p *printer) value(ctx context.Context, v tengo.Object) error {
	switch v := v.(type) {
	case *View:
		return p.printView(ctx, v)
	case *Stream:
		if err := v.claim("the printer", true); err != nil {
			return err
		}
		return p.stream(ctx, v)
	}
	Delivered(v)
	switch v := v.(type) {
	case *tengo.Array:
		return p.array(v.Value)
	case *tengo.ImmutableArray:
		return p.array(v.Value)
	}
	return p.single(v)
}

// stream prints v, a stream its caller has claimed, to its end.
func (p *printer) stream(ctx context.Context, v *Stream) error {
	if st := v.precious; st != nil {
		// A table looks ahead only as far as the batch made: the
		// stream makes no more before the batch is printed.
		p.ready = func() bool { return len(st.buf) > 0 }
	}
	// A view among the items (what a PowerShell ForEach-Object { $_ | fl }
	// outputs) shows in its place, as PowerShell shows each one: as text,
	// the run of items before it ends there and the items after it start
	// anew; as data (a format the user chose), its items, narrowed to the
	// fields it names, join the run.
	var view *View
	var inView func() (tengo.Object, bool, error)
	for {
		err := p.seq(func() (tengo.Object, bool, error) {
			for {
				if inView != nil {
					x, ok, err := inView()
					if ok || err != nil {
						return x, ok, err
					}
					inView = nil
				}
				x, ok, err := v.Next(ctx)
				vw, isView := x.(*View)
				if !ok || !isView {
					if ok {
						Delivered(x) // read by the printer: printed next
					}
					return x, ok, err
				}
				if p.format == Table || !p.data {
					view = vw
					return nil, false, nil
				}
				next, cur, err := p.readView(ctx, vw)
				if err != nil {
					return nil, false, err
				}
				inView = narrowed(next, cur)
			}
		})
		if err != nil || view == nil {
			return err
		}
		if err := p.printView(ctx, view); err != nil {
			return err
		}
		view = nil
	}
}

func (p *printer) array(elems []tengo.Object) error {
	if p.format == Table {
		rows := false // an array of records or maps prints as a table
		for _, e := range elems {
			rows = rows || shapeOf(e, true) != nil
		}
		if !rows {
			p.write(literal(&tengo.Array{Value: elems}, 0))
			p.endLine()
			return nil
		}
	}
	i := 0
	return p.seq(func() (tengo.Object, bool, error) {
		if i >= len(elems) {
			return nil, false, nil
		}
		i++
		return elems[i-1], true, nil
	})
}

func (p *printer) single(v tengo.Object) error {
	switch p.format {
	case JSON, JSONL:
		b, err := appendJSON(nil, v, 0)
		if err != nil {
			return err
		}
		p.write(string(b))
		p.endLine()
		return nil
	case CSV:
		done := false
		return p.seq(func() (tengo.Object, bool, error) {
			if done {
				return nil, false, nil
			}
			done = true
			return v, true, nil
		})
	}
	if v == tengo.UndefinedValue {
		return nil
	}
	if r, ok := v.(*Record); ok && !r.schema.oneLine {
		p.list(r)
		return nil
	}
	p.line(v)
	return nil
}

// line prints v on a line of its own: a one-line record, or a scalar.
func (p *printer) line(v tengo.Object) {
	if p.prev == 1 {
		p.write("\n")
	}
	p.prev = 2
	if r, ok := v.(*Record); ok && r.schema.oneLine {
		for i, f := range r.schema.fields {
			if i > 0 {
				p.write("  ")
			}
			p.write(f + ": " + cell(r.Value(i)))
		}
	} else {
		p.write(text(v))
	}
	p.endLine()
}

// list prints a record as "field : value" lines.
func (p *printer) list(r *Record) {
	w := 0
	for _, f := range r.schema.fields {
		w = max(w, utf8.RuneCountInString(f))
	}
	for i, f := range r.schema.fields {
		v := cell(r.Value(i))
		if p.width > 0 && !r.schema.precious {
			v = cut(v, max(p.width-w-3, minColumn))
		}
		p.write(strings.TrimRight(pad(f, w)+" : "+v, " "))
		p.endLine()
	}
}

func (p *printer) seq(next func() (tengo.Object, bool, error)) error {
	switch p.format {
	case JSON:
		n := 0
		p.write("[")
		for p.err == nil {
			v, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			b, err := appendJSON(nil, v, 0)
			if err != nil {
				return err
			}
			if n > 0 {
				p.write(",")
			}
			p.endLine()
			p.write("  " + string(b))
			n++
		}
		if n > 0 {
			p.endLine()
		}
		p.write("]")
		p.endLine()
		return nil
	case JSONL:
		for p.err == nil {
			v, ok, err := next()
			if err != nil || !ok {
				return err
			}
			b, err := appendJSON(nil, v, 0)
			if err != nil {
				return err
			}
			p.write(string(b))
			p.endLine()
		}
		return nil
	case CSV:
		return p.csv(next)
	}
	return p.table(next)
}

// shape is the column layout of a run of records of one schema, or of maps
// with one key set.
type shape struct {
	schema *Schema
	keys   []string
	cols   []int // record: schema field indexes shown
	loose  bool  // maps: any map fits, a key it lacks is empty (a view's named keys)
}

// shapeOf returns the layout of v, or nil if v prints as a line. all selects
// every field of a record (CSV) instead of its table columns, and lays out
// one-line records too.
func shapeOf(v tengo.Object, all bool) *shape {
	switch v := v.(type) {
	case *Record:
		if v.schema.oneLine && !all {
			return nil
		}
		sh := &shape{schema: v.schema, cols: v.schema.columns}
		if all {
			sh.cols = make([]int, len(v.schema.fields))
			for i := range sh.cols {
				sh.cols[i] = i
			}
		}
		return sh
	case *tengo.Map:
		return &shape{keys: sortedKeys(v.Value)}
	case *tengo.ImmutableMap:
		return &shape{keys: sortedKeys(v.Value)}
	}
	return nil
}

func (sh *shape) header() []string {
	if sh.schema == nil {
		return sh.keys
	}
	h := make([]string, len(sh.cols))
	for i, c := range sh.cols {
		h[i] = sh.schema.fields[c]
	}
	return h
}

// fits reports whether v has this layout.
func (sh *shape) fits(v tengo.Object) bool {
	var m map[string]tengo.Object
	switch v := v.(type) {
	case *Record:
		return v.schema == sh.schema
	case *tengo.Map:
		m = v.Value
	case *tengo.ImmutableMap:
		m = v.Value
	default:
		return false
	}
	if sh.loose && sh.schema == nil {
		return true
	}
	if sh.schema != nil || len(m) != len(sh.keys) {
		return false
	}
	for _, k := range sh.keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// cells returns the cells of v's row, each made by cellOf (cell for a
// table, csvCell for CSV).
func (sh *shape) cells(v tengo.Object, cellOf func(tengo.Object) string) []string {
	var out []string
	switch v := v.(type) {
	case *Record:
		out = make([]string, len(sh.cols))
		for i, c := range sh.cols {
			out[i] = cellOf(v.Value(c))
		}
	case *tengo.Map:
		out = mapCells(v.Value, sh.keys, cellOf)
	case *tengo.ImmutableMap:
		out = mapCells(v.Value, sh.keys, cellOf)
	}
	return out
}

func mapCells(m map[string]tengo.Object, keys []string, cellOf func(tengo.Object) string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		v, ok := m[k]
		if !ok {
			v = tengo.UndefinedValue // a key a view names and a map lacks
		}
		out[i] = cellOf(v)
	}
	return out
}

// reader is a pull function with one item of pushback.
type reader struct {
	next    func() (tengo.Object, bool, error)
	pending tengo.Object
}

func (r *reader) read() (tengo.Object, bool, error) {
	if v := r.pending; v != nil {
		r.pending = nil
		return v, true, nil
	}
	return r.next()
}

func (p *printer) table(next func() (tengo.Object, bool, error)) error {
	r := &reader{next: next}
	for p.err == nil {
		v, ok, err := r.read()
		if err != nil || !ok {
			return err
		}
		sh := shapeOf(v, false)
		if p.view != nil {
			sh = p.viewShape(v)
		}
		if sh == nil {
			p.line(v)
			continue
		}
		p.uncut = sh.schema != nil && sh.schema.precious
		rows := [][]string{sh.cells(v, cell)}
		var readErr error // printed after the rows read before it
		for len(rows) < lookahead && (p.ready == nil || p.ready()) {
			v, ok, err := r.read()
			if err != nil {
				readErr = err
				break
			}
			if !ok {
				break
			}
			if !sh.fits(v) {
				r.pending = v
				break
			}
			rows = append(rows, sh.cells(v, cell))
		}
		header := sh.header()
		widths := p.widths(header, rows)
		if p.uncut && sh.schema == p.grown.schema && len(p.grown.widths) == len(widths) {
			// A precious table that grew: widths only grow, so that
			// few rows start a new one.
			for i, w := range p.grown.widths {
				widths[i] = max(widths[i], w)
			}
		}
		p.grown.schema, p.grown.widths = sh.schema, widths
		if p.prev != 0 {
			p.write("\n")
		}
		p.prev = 1
		p.row(header, widths)
		dashes := make([]string, len(header))
		for i, h := range header {
			dashes[i] = strings.Repeat("-", min(utf8.RuneCountInString(h), widths[i]))
		}
		p.row(dashes, widths)
		for _, row := range rows {
			p.row(row, widths)
		}
		if readErr != nil {
			return readErr
		}
		for r.pending == nil && p.err == nil {
			v, ok, err := r.read()
			if err != nil || !ok {
				return err
			}
			if !sh.fits(v) {
				r.pending = v
				break
			}
			if !p.uncut && p.resized() {
				// The terminal was resized: the rest is a new
				// table, fitted to the new width.
				r.pending = v
				break
			}
			cells := sh.cells(v, cell)
			if p.uncut && !within(cells, widths) {
				// Never cut, so a wider row starts a new table
				// sized for it rather than break the columns.
				r.pending = v
				break
			}
			p.row(cells, widths)
		}
	}
	return nil
}

// within reports whether every cell fits its column's width.
func within(cells []string, widths []int) bool {
	for i, c := range cells {
		if utf8.RuneCountInString(c) > widths[i] {
			return false
		}
	}
	return true
}

// widths sizes columns to their widest value, then narrows the widest ones
// until the row fits the terminal.
func (p *printer) widths(header []string, rows [][]string) []int {
	w := make([]int, len(header))
	for i, h := range header {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, row := range rows {
		for i, c := range row {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	if p.width <= 0 || p.uncut {
		return w
	}
	total := 2 * (len(w) - 1)
	for _, x := range w {
		total += x
	}
	// The identity column is never narrowed: it names the record, and a
	// cut identity could name another user.
	keep := slices.Index(header, "identity")
	for total > p.width {
		widest := -1
		for i := range w {
			if i != keep && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 || w[widest] <= minColumn {
			break
		}
		w[widest]--
		total--
	}
	return w
}

func (p *printer) row(cells []string, widths []int) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		if p.width > 0 && !p.uncut {
			c = cut(c, widths[i])
		}
		if i < len(cells)-1 {
			c = pad(c, widths[i])
		}
		b.WriteString(c)
	}
	p.write(strings.TrimRight(b.String(), " "))
	p.endLine()
}

// cut shortens s to w runes, marking the cut with "…".
func cut(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	if w < 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}

func pad(s string, w int) string {
	if n := utf8.RuneCountInString(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

func (p *printer) csv(next func() (tengo.Object, bool, error)) error {
	cw := csv.NewWriter(p.w) // its write errors are sticky: checked once per item
	var cur *shape
	started, scalars := false, false
	newBlock := func(header []string) {
		cw.Flush()
		if started {
			p.write("\n")
		}
		started = true
		cw.Write(header)
	}
	for p.err == nil {
		v, ok, err := next()
		if err != nil || !ok {
			cw.Flush()
			p.err = cw.Error()
			return err
		}
		if sh := shapeOf(v, true); sh != nil {
			if cur == nil || !cur.fits(v) {
				cur, scalars = sh, false
				newBlock(sh.header())
			}
			cw.Write(cur.cells(v, csvCell))
		} else {
			if !scalars {
				cur, scalars = nil, true
				newBlock([]string{"value"})
			}
			cw.Write([]string{csvCell(v)})
		}
		if err := cw.Error(); err != nil {
			p.err = err
		}
	}
	return nil
}
