package lang

import (
	"errors"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/d5/tengo/v2/token"
)

// Time is pinsh's time value: an instant, or "never" (a PIN that never
// expires). Never sorts after every instant, so the comparisons an admin
// writes to find expired PINs are false for it in either operand order:
//
//	p.pin_expiration_time < now()   // false for never
//	now() > p.pin_expiration_time   // false for never
//
// Comparisons (<, <=, >, >=, ==, !=) accept a pinsh Time or a value of
// Tengo's times module on the right; undefined on the right compares like
// never. time + int and time - int shift by nanoseconds (never stays never);
// time - time is the duration in nanoseconds (an error if either is never).
// Never is falsy, prints as empty and encodes as JSON null.
type Time struct {
	tengo.ObjectImpl
	t     time.Time
	never bool
}

var never = &Time{never: true}

// Never returns the time that never comes.
func Never() *Time { return never }

// NewTime returns the pinsh time for t.
func NewTime(t time.Time) *Time { return &Time{t: t} }

// Time returns the instant; ok is false for never.
func (t *Time) Time() (tm time.Time, ok bool) { return t.t, !t.never }

// IsNever reports whether t is never.
func (t *Time) IsNever() bool { return t.never }

// TypeName returns "time".
func (t *Time) TypeName() string { return "time" }

// TimeLayout is how a time is written in every output format, table, CSV,
// JSON and JSON Lines alike: RFC 3339 to the second ("2010-09-02T12:00:00Z";
// pinsh stores UTC), so that the formats agree on precision.
const TimeLayout = time.RFC3339

// String returns the time in TimeLayout, or "" for never.
func (t *Time) String() string {
	if t.never {
		return ""
	}
	return t.t.Format(TimeLayout)
}

// IsFalsy reports true for never and for the zero instant.
func (t *Time) IsFalsy() bool { return t.never || t.t.IsZero() }

// Copy returns t itself: times are immutable.
func (t *Time) Copy() tengo.Object { return t }

// Equals reports whether x is the same instant (a pinsh or Tengo time), or
// whether both are never.
func (t *Time) Equals(x tengo.Object) bool {
	o, ok := asTime(x)
	if !ok {
		return false
	}
	if t.never || o.never {
		return t.never == o.never
	}
	return t.t.Equal(o.t)
}

var errNeverArithmetic = errors.New("invalid operation: a time that never comes has no duration")

// BinaryOp implements comparisons and time arithmetic; see Time.
func (t *Time) BinaryOp(op token.Token, rhs tengo.Object) (tengo.Object, error) {
	if d, ok := rhs.(*tengo.Int); ok {
		switch op {
		case token.Add, token.Sub:
			if t.never || d.Value == 0 {
				return t, nil
			}
			if op == token.Sub {
				return NewTime(t.t.Add(-time.Duration(d.Value))), nil
			}
			return NewTime(t.t.Add(time.Duration(d.Value))), nil
		}
		return nil, tengo.ErrInvalidOperator
	}
	o, ok := asTime(rhs)
	if !ok {
		if rhs != tengo.UndefinedValue {
			return nil, tengo.ErrInvalidOperator
		}
		o = never
	}
	if op == token.Sub {
		if t.never || o.never {
			return nil, errNeverArithmetic
		}
		return &tengo.Int{Value: int64(t.t.Sub(o.t))}, nil
	}
	c := t.compare(o)
	var res bool
	switch op {
	case token.Less:
		res = c < 0
	case token.LessEq:
		res = c <= 0
	case token.Greater:
		res = c > 0
	case token.GreaterEq:
		res = c >= 0
	default:
		return nil, tengo.ErrInvalidOperator
	}
	if res {
		return tengo.TrueValue, nil
	}
	return tengo.FalseValue, nil
}

// compare orders times with never after every instant.
func (t *Time) compare(o *Time) int {
	switch {
	case t.never && o.never:
		return 0
	case t.never:
		return 1
	case o.never:
		return -1
	}
	return t.t.Compare(o.t)
}

// asTime converts a pinsh or Tengo time.
func asTime(o tengo.Object) (*Time, bool) {
	switch o := o.(type) {
	case *Time:
		return o, true
	case *tengo.Time:
		return NewTime(o.Value), true
	}
	return nil, false
}
