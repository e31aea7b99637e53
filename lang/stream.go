package lang

import (
	"context"
	"errors"
	"fmt"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/parser"
	"github.com/d5/tengo/v2/token"

	input "github.com/pinsh/pinsh/internal/cut"
)

// Stream is a lazy, single-pass sequence of values, pulled one at a time by
// its consumer: a stage, a sink, a for loop or the printer. Nothing is read
// until the consumer asks, so `for u in get_users() { break }` reads one
// chunk of the source, and a pipeline over a million records holds only what
// its stages buffer.
//
// A stream is read once. The first consumer claims it; handing the same
// stream to a second consumer is an error that tells the admin to collect()
// it or to call the source again.
//
// Streams belong to the Session that made them and, like it, are not safe
// for concurrent use.
type Stream struct {
	tengo.ObjectImpl
	env     *Env
	next    func(ctx context.Context) (tengo.Object, bool, error)
	claimed string     // who claimed it, for the "already used" message
	origin  any        // what made it, for builtins that fuse stages (see Origin)
	started bool       // an item has been asked for
	by      string     // the builtin that made it, to name in its errors (see attribute)
	at      parser.Pos // where the stage was applied (the |), or NoPos
	done    bool
	err     error

	precious *preciousState // see Env.Precious; nil for other streams
}

// Iter returns a stream whose items come from next, called once per item:
// next returns the item and true, or false at the end, or an error that ends
// the stream with that error. next is not called again after the end or an
// error.
func (e *Env) Iter(next func(ctx context.Context) (tengo.Object, bool, error)) *Stream {
	return &Stream{env: e, next: next}
}

// Source returns a stream that reads its items in chunks: pull returns the
// next chunk, an empty chunk at the end, or an error that ends the stream.
// pull is called only when the previous chunk has been consumed (so it may
// reuse that chunk's slice), and a source that reads a store in chunks holds
// nothing open between calls.
func (e *Env) Source(pull func(ctx context.Context) ([]tengo.Object, error)) *Stream {
	var buf []tengo.Object
	return e.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		if len(buf) == 0 {
			chunk, err := pull(ctx)
			if err != nil || len(chunk) == 0 {
				return nil, false, err
			}
			buf = chunk
		}
		v := buf[0]
		buf[0] = nil // let the consumer's garbage go
		buf = buf[1:]
		return v, true, nil
	})
}

// Items returns a stream of the given values. The stream keeps items; the
// caller must not modify the slice afterwards.
func (e *Env) Items(items []tengo.Object) *Stream {
	i := 0
	return e.Iter(func(context.Context) (tengo.Object, bool, error) {
		if i >= len(items) {
			return nil, false, nil
		}
		i++
		return items[i-1], true, nil
	})
}

// Filter returns the stream of the items of in for which keep returns true.
// It pulls one item at a time, so keep runs only for items a consumer asks
// for.
func (e *Env) Filter(in *Stream, keep func(ctx context.Context, item tengo.Object) (bool, error)) *Stream {
	return e.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		for {
			v, ok, err := in.Next(ctx)
			if !ok || err != nil {
				return nil, false, err
			}
			k, err := keep(ctx, v)
			if err != nil {
				return nil, false, err
			}
			if k {
				return v, true, nil
			}
		}
	})
}

// Map returns the stream of f applied to each item of in, one item at a time.
func (e *Env) Map(in *Stream, f func(ctx context.Context, item tengo.Object) (tengo.Object, error)) *Stream {
	return e.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		v, ok, err := in.Next(ctx)
		if !ok || err != nil {
			return nil, false, err
		}
		out, err := f(ctx, v)
		if err != nil {
			return nil, false, err
		}
		if out == nil {
			out = tengo.UndefinedValue
		}
		return out, true, nil
	})
}

// Batch returns a stream that pulls up to size items of in at a time and
// yields the items f returns for that batch (any number, in order; an empty
// result just moves on to the next batch). It is the shape of a stage that
// looks up many records in one store call. f must not keep the batch slice.
func (e *Env) Batch(in *Stream, size int, f func(ctx context.Context, batch []tengo.Object) ([]tengo.Object, error)) *Stream {
	if size < 1 {
		size = 1
	}
	var out []tengo.Object
	batch := make([]tengo.Object, 0, size)
	return e.Iter(func(ctx context.Context) (tengo.Object, bool, error) {
		for len(out) == 0 {
			batch = batch[:0]
			for len(batch) < size {
				v, ok, err := in.Next(ctx)
				if err != nil {
					return nil, false, err
				}
				if !ok {
					break
				}
				batch = append(batch, v)
			}
			if len(batch) == 0 {
				return nil, false, nil
			}
			res, err := f(ctx, batch)
			if err != nil {
				return nil, false, err
			}
			out = res
		}
		v := out[0]
		out = out[1:]
		return v, true, nil
	})
}

// WithOrigin records what made s, for a later stage to recognise: a stage
// may replace the stream it is given by a faster equivalent of both (the
// builtins read get_users() | pin_info as one store scan). It returns s.
func (s *Stream) WithOrigin(origin any) *Stream {
	s.origin = origin
	return s
}

// Origin returns what WithOrigin recorded, while no item of s has been asked
// for; once s has started, or when nothing was recorded, it returns nil.
func (s *Stream) Origin() any {
	if s.started {
		return nil
	}
	return s.origin
}

// Next returns the next item and true, or false at the end of the stream, or
// the error that ended it. After the end or an error, Next keeps returning
// the same result. Next fails when the session's run is interrupted (Ctrl-C,
// timeout, memory limit).
func (s *Stream) Next(ctx context.Context) (tengo.Object, bool, error) {
	s.started = true
	if s.done {
		return nil, false, s.err
	}
	if err := s.env.s.stopErr(); err != nil {
		s.finish(err)
		return nil, false, err
	}
	v, ok, err := s.next(ctx)
	if err != nil || !ok {
		if err != nil && s.by != "" {
			err = s.env.s.attribute(s.by, s.at, err)
		}
		s.finish(err)
		return nil, false, err
	}
	if v == nil {
		v = tengo.UndefinedValue
	}
	return v, true, nil
}

// Fail returns err as s's Next would return it had its source failed with
// err: named after the builtin that made s and where it was applied. It is
// for a sink that reads what s stands for another way (count asks a store
// scan for its count rather than for its records).
func (s *Stream) Fail(err error) error {
	if err == nil || s.by == "" {
		return err
	}
	return s.env.s.attribute(s.by, s.at, err)
}

// Err returns why the current run stops (Ctrl-C, timeout, the memory
// limit), as Stream.Next does, or nil while it may go on: a builtin that
// works through a store in chunks without reading a stream checks it
// between chunks.
func (e *Env) Err() error {
	if st := e.s.stopped(); st != nil {
		return st.cause
	}
	return nil
}

func (s *Stream) finish(err error) {
	s.done, s.err, s.next = true, err, nil
}

// Take returns up to n items; it returns fewer only at the end of the stream.
func (s *Stream) Take(ctx context.Context, n int) ([]tengo.Object, error) {
	var items []tengo.Object
	for len(items) < n {
		v, ok, err := s.Next(ctx)
		if err != nil {
			return items, err
		}
		if !ok {
			break
		}
		items = append(items, v)
	}
	return items, nil
}

// Collect reads the rest of the stream into a slice. If it fails, the items
// read from a precious stream are given back to it (see Stream.GiveBack), so
// that they are shown rather than lost.
func (s *Stream) Collect(ctx context.Context) ([]tengo.Object, error) {
	var items []tengo.Object
	for {
		v, ok, err := s.Next(ctx)
		if err != nil {
			s.GiveBack(items)
			return items, err
		}
		if !ok {
			return items, nil
		}
		items = append(items, v)
	}
}

// claim marks s as read by consumer; a stream can be claimed once. keeps
// says whether consumer keeps every item it reads: only such a consumer may
// claim a precious stream (see Precious).
func (s *Stream) claim(consumer string, keeps bool) error {
	if s.claimed != "" {
		return fmt.Errorf("this stream was already used by %s: a stream can be read once; "+
			"collect() it to keep its records, or call its source again", s.claimed)
	}
	if err := s.checkClaim(consumer, keeps); err != nil {
		return err
	}
	s.claimed = consumer
	return nil
}

// TypeName returns "stream".
func (s *Stream) TypeName() string { return "stream" }

// String returns "<stream>".
func (s *Stream) String() string { return "<stream>" }

// BinaryOp supports no operators (| is handled before it gets here).
func (s *Stream) BinaryOp(token.Token, tengo.Object) (tengo.Object, error) {
	return nil, tengo.ErrInvalidOperator
}

// IndexGet fails with a message that says what to do: Tengo's own would
// name the index's type ("not indexable: string").
func (s *Stream) IndexGet(index tengo.Object) (tengo.Object, error) {
	what := index.TypeName()
	if str, ok := index.(*tengo.String); ok {
		what = "field " + input.Quote(str.Value)
	}
	return nil, fmt.Errorf("cannot read %s of a stream: a stream is a sequence of items; "+
		"collect() it and index the array, or read each item with each(), select() or a for loop", what)
}

// Equals reports identity.
func (s *Stream) Equals(x tengo.Object) bool { return s == x }

// Copy returns s: a stream cannot be duplicated.
func (s *Stream) Copy() tengo.Object { return s }

// CanIterate reports true.
func (s *Stream) CanIterate() bool { return true }

// Iterate claims the stream for a for loop. Errors while iterating end the
// loop's run with that error.
func (s *Stream) Iterate() tengo.Iterator {
	return &streamIterator{s: s, err: s.claim("a for loop", true)}
}

type streamIterator struct {
	tengo.ObjectImpl
	s   *Stream
	err error
	i   int64
	cur tengo.Object
}

func (it *streamIterator) TypeName() string { return "stream-iterator" }
func (it *streamIterator) String() string   { return "<stream-iterator>" }

// Next pulls the next item. The VM gives an iterator no way to fail, so an
// error unwinds the VM as a panic that the session's run recovers.
func (it *streamIterator) Next() bool {
	if it.err != nil {
		panic(vmAbort{it.err})
	}
	v, ok, err := it.s.Next(it.s.env.Context())
	if err != nil {
		panic(vmAbort{err})
	}
	if !ok {
		it.cur = nil
		return false
	}
	it.cur = v
	it.i++
	return true
}

func (it *streamIterator) Key() tengo.Object   { return &tengo.Int{Value: it.i - 1} }
func (it *streamIterator) Value() tengo.Object { return it.cur }

// stageError is an error raised inside a source or stage while a later
// stage or sink was reading from it: its text names the builtin that raised
// it (where: ...), not the sink that happened to be reading.
type stageError struct{ err error }

func (e *stageError) Error() string { return e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// attribute makes err, raised while the stream of builtin name made its
// next item, name that builtin, and, if at is known, an *Error at at (the |
// that applied the stage), so that its caret points at the stage rather
// than at the sink reading it. An error that already names its origin (an
// *Error of script code, or one attributed upstream) is kept, and so is
// the cause of a stop (Ctrl-C, --timeout), which the run reports itself.
func (s *Session) attribute(name string, at parser.Pos, err error) error {
	var le *Error
	var se *stageError
	if errors.As(err, &le) || errors.As(err, &se) {
		return err
	}
	err = builtinError(name, err)
	if at == parser.NoPos || s.stopped() != nil {
		return &stageError{err}
	}
	return s.newError(RuntimeError, at, err.Error(), err)
}

// vmAbort carries an error out of code the VM gives no error path (an
// iterator's Next); the run that recovers it reports err at the VM's
// position.
type vmAbort struct{ err error }
