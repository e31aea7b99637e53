package lang

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/d5/tengo/v2"
)

// Precious values exist nowhere else once they are made: a generated PIN is
// shown once, and the store keeps only its hash. A builtin that makes them
// returns a precious stream (Env.Precious), and the session sees to it that
// every value the stream made reaches the admin or the script:
//
//   - Only a keeper may read a precious stream: the printer (a statement's
//     value), a for loop, collect, a stage run on a single target (its record
//     is returned), and a sink declared with Builtin.Keeps (export_csv). Any
//     other stage or sink (count, first, where, each...) is refused when it
//     claims the stream, before anything is made.
//   - The stream makes its values in batches (Precious.Pull), and only when
//     its reader asks for the next value after the last of a batch: by then
//     the reader has every value of the batch, and the stream first makes
//     them durable (it flushes the output, and calls the reader's
//     Stream.SetSync function, which syncs a file) before it makes another
//     batch.
//   - When an input (Session.Eval) ends, however it ends, the values a
//     stream made that its reader did not get or gave back
//     (Stream.GiveBack) are printed, under a header on the error output,
//     and a stream that did not reach its end says how far it got. This
//     happens before Eval returns, so before its error is reported.
//   - A statement whose value is a precious record (or an array holding
//     one) prints it, in scripts and in functions too, as a stream does.
type Precious struct {
	// Pull makes the next batch and returns its values; none at the end.
	// Values returned with an error were made before the error: they are
	// delivered before the error ends the stream.
	Pull func(ctx context.Context) ([]tengo.Object, error)
	// Refuse returns the error for consumer, a stage or sink that would
	// drop the values; nothing has been made yet.
	Refuse func(consumer string) error
	// Note says what a stream that did not reach its end did, for the error
	// output: reason is why it stopped ("interrupted", "timed out",
	// "stopped by an error", "not read to its end"), n how many values it
	// made, and went where they went, each destination with how many went
	// there ("shown above", "written by export_csv", "handed to the
	// script"), the counts adding up to n. For a stream that nothing read,
	// reason is "not read", n is 0 and went is empty.
	Note func(reason string, n int, went []Went) string
	// Header is the line above values printed at the end of the input
	// because their reader did not get them.
	Header string
	// Unshown is the line above the records with a secret (see
	// Schema.Secret) that the stream made and that were handed on but
	// never delivered, n of them, printed at the end of the input.
	Unshown func(n int) string
}

// Went is how many values of a precious stream went to one destination,
// for Precious.Note: To is "shown above", "written by READER" or "handed
// to the script".
type Went struct {
	N  int
	To string
}

// WentPhrase says where the values of a note went, after "N values made":
// " and shown above" when they all went to one place, else each place with
// its count, ": 1 handed to the script, 4 shown above".
func WentPhrase(went []Went) string {
	if len(went) == 1 {
		return " and " + went[0].To
	}
	parts := make([]string, len(went))
	for i, w := range went {
		parts[i] = fmt.Sprintf("%d %s", w.N, w.To)
	}
	return ": " + strings.Join(parts, ", ")
}

// preciousState is the delivery state of a precious stream.
type preciousState struct {
	Precious
	buf     []tengo.Object // made, not yet read (or given back)
	pending error          // the error Pull returned with buf
	made    int            // values made
	shown   int            // values printed at the end of an input
	sync    func() error   // the reader's, see SetSync
	started bool           // Pull was called
	ended   bool           // Pull returned no values: the end
	closed  bool           // delivered at the end of an input: make no more
	refused bool           // a consumer was refused: nothing to note
}

// Precious returns a stream of precious values made by p.Pull, with the
// delivery guarantees described at Precious.
func (e *Env) Precious(p Precious) *Stream {
	st := &preciousState{Precious: p}
	s := &Stream{env: e, precious: st}
	s.next = func(ctx context.Context) (tengo.Object, bool, error) {
		if len(st.buf) == 0 {
			if st.pending != nil || st.closed || st.ended {
				return nil, false, st.pending
			}
			// Every value made so far is with the reader: make it
			// durable before the next batch is made.
			if err := e.s.out.Flush(); err != nil {
				return nil, false, fmt.Errorf("write output: %w", err)
			}
			if st.sync != nil {
				if err := st.sync(); err != nil {
					return nil, false, err
				}
			}
			if !st.started {
				st.started = true
				e.s.pulled = append(e.s.pulled, s)
			}
			batch, err := p.Pull(ctx)
			track(e.s, st, batch)
			st.made += len(batch)
			st.buf, st.pending = batch, err
			if len(batch) == 0 {
				st.ended = err == nil
				return nil, false, err
			}
		}
		v := st.buf[0]
		st.buf[0] = nil
		st.buf = st.buf[1:]
		return v, true, nil
	}
	e.s.made = append(e.s.made, s)
	return s
}

// SetSync sets the function a precious stream calls before it makes its
// next batch, after flushing the output: a keeper that writes what it reads
// to a file flushes and syncs it there, so that every value made so far is
// on disk before more are made. It does nothing for other streams.
func (s *Stream) SetSync(sync func() error) {
	if s.precious != nil {
		s.precious.sync = sync
	}
}

// GiveBack returns values a keeper read from s but could not deliver (a
// write failed, the run stopped): they are printed at the end of the input
// with the values s made but nobody read. It does nothing for a stream that
// is not precious.
func (s *Stream) GiveBack(items []tengo.Object) {
	if st := s.precious; st != nil && len(items) > 0 {
		st.buf = append(append([]tengo.Object(nil), items...), st.buf...)
	}
}

// IsPrecious reports whether s is a precious stream.
func (s *Stream) IsPrecious() bool { return s.precious != nil }

// checkClaim refuses a consumer that does not keep every item of a
// precious stream.
func (s *Stream) checkClaim(consumer string, keeps bool) error {
	if s.precious == nil || keeps {
		return nil
	}
	err := fmt.Errorf("%s would drop values that exist only in this stream", consumer)
	if s.precious.Refuse != nil {
		err = s.precious.Refuse(consumer)
	}
	s.precious.refused = err != nil
	return err
}

// isPreciousValue reports whether v is a precious record or an array that
// holds one: a statement with such a value prints it.
func isPreciousValue(v tengo.Object) bool {
	var elems []tengo.Object
	switch v := v.(type) {
	case *Record:
		return v.schema.precious
	case *tengo.Array:
		elems = v.Value
	case *tengo.ImmutableArray:
		elems = v.Value
	}
	for _, e := range elems {
		if r, ok := e.(*Record); ok && r.schema.precious {
			return true
		}
	}
	return false
}

// showDropped prints v, a value handed to def, first if v is precious (a
// record set_pin returned, say) and def does not keep what it reads: the
// value exists nowhere else. A precious stream is refused instead (claim),
// before it makes anything.
//
// Only a record: an array is a collection the script keeps (collect's).
func (s *Session) showDropped(def *Builtin, v tengo.Object) error {
	if r, ok := v.(*Record); !ok || !r.schema.precious || def.Keeps {
		return nil
	}
	fmt.Fprintf(s.stderr, "%s does not keep what it reads, and these values exist nowhere else; here they are, so that none is lost:\n", def.Name)
	return s.print(s.env.Context(), v)
}

// Precious marks the records of s as precious: a statement whose value is
// one prints it in scripts too, and the table view never cuts their fields
// to the terminal width. It returns s.
func (s *Schema) Precious() *Schema {
	s.precious = true
	return s
}

// deliverPrecious ends the precious streams of an input that ended with
// err: it prints the values they made that no reader got, and notes how far
// a stream that did not reach its end got.
func (s *Session) deliverPrecious(err error) {
	pulled, made := s.pulled, s.made
	s.pulled, s.made = nil, nil
	reason := stopReason(err)
	for _, str := range pulled {
		st := str.precious
		if len(st.buf) > 0 {
			items := st.buf
			st.buf, st.shown = nil, st.shown+len(items)
			s.showLate(st.Header, items)
		}
		st.closed = true
		if st.ended || st.Note == nil {
			continue
		}
		if note := st.Note(reason, st.made, deliveredTo(str.claimed, st)); note != "" {
			s.noteLate(note)
		}
	}
	for _, str := range made {
		if st := str.precious; !st.started && !st.refused && str.claimed == "" && st.Note != nil {
			if note := st.Note("not read", 0, nil); note != "" {
				s.noteLate(note)
			}
		}
	}
	s.out.Flush()
}

// leftovers returns where the values printed at the end of an input go
// (see Options.Leftovers): the writer of their headers and notes, and that
// of the values.
func (s *Session) leftovers() (notes io.Writer, values *bufio.Writer) {
	if s.late == nil {
		return s.stderr, s.out
	}
	s.out.Flush()
	return s.late, s.late
}

// showLate prints items, values that nothing delivered, at the end of an
// input, under header.
func (s *Session) showLate(header string, items []tengo.Object) {
	notes, values := s.leftovers()
	if header != "" {
		fmt.Fprintln(notes, header)
	}
	// The run's context has ended: print outside it.
	if err := s.printTo(values, context.Background(), &tengo.Array{Value: items}); err != nil {
		fmt.Fprintln(notes, err)
		values.Flush()
	}
}

// noteLate writes a precious stream's note at the end of an input.
func (s *Session) noteLate(note string) {
	notes, values := s.leftovers()
	io.WriteString(notes, note+"\n")
	values.Flush()
}

// deliveredTo says where the values of a precious stream went: to its
// reader, and those printed at the end of the input shown above, each
// destination that got any with its count.
func deliveredTo(reader string, st *preciousState) []Went {
	to := "handed to the script"
	switch reader {
	case "the printer":
		to = "shown above"
	case "a for loop", "collect", "":
	default:
		to = "written by " + reader
	}
	read := st.made - st.shown
	if to == "shown above" {
		return []Went{{st.made, to}}
	}
	var went []Went
	if read > 0 {
		went = append(went, Went{read, to})
	}
	if st.shown > 0 {
		went = append(went, Went{st.shown, "shown above"})
	}
	return went
}

// stopReason says why an input ended, for a precious stream's note.
func stopReason(err error) string {
	var le *Error
	switch {
	case err == nil:
		return "not read to its end"
	case errors.As(err, &le) && le.Kind == Interrupted:
		return "interrupted"
	case errors.As(err, &le) && le.Kind == TimedOut:
		return "timed out"
	}
	return "stopped by an error"
}

// JSONValue returns v as one line of JSON, as the jsonl output format
// writes it: for a sink that writes values to a file.
func JSONValue(v tengo.Object) ([]byte, error) {
	return appendJSON(nil, v, 0)
}

// CSVRow returns v as a CSV row, as the csv output format writes it: the
// header (every field of a record, the sorted keys of a map, "value" for
// anything else) and the cells. For a sink that writes values to a file.
func CSVRow(v tengo.Object) (header, cells []string) {
	sh := shapeOf(v, true)
	if sh == nil {
		return []string{"value"}, []string{csvCell(v)}
	}
	return sh.header(), sh.cells(v, csvCell)
}
