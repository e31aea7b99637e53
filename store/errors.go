package store

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/pinsh/pinsh/internal/cut"
)

// Sentinel errors. Store methods wrap them with the input that was wrong;
// test with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrDuplicate     = errors.New("already exists")
	ErrInvalid       = errors.New("invalid value")
	ErrLocked        = errors.New("PIN is locked")
	ErrAlreadyLocked = errors.New("PIN is already locked")
	ErrNotLocked     = errors.New("PIN is not locked")
	ErrNoPin         = errors.New("no PIN is set")
	ErrPolicyRange   = errors.New("policy value out of range")
	ErrStandardRole  = errors.New("built-in roles cannot be changed or removed")
	ErrLastAdmin     = errors.New("the last CsAdministrator cannot be removed")
	ErrBusy          = errors.New("database is in use")
	ErrNotPinsh      = errors.New("not a pinsh database")
	ErrNewerSchema   = errors.New("database was written by a newer pinsh")
	ErrDamaged       = errors.New("database is damaged")
	ErrKey           = errors.New("PIN key file problem")
	ErrClosed        = errors.New("store is closed")
	ErrNoSpace       = errors.New("no space left for the database")
	ErrFileMode      = errors.New("database file is open to other users")
	ErrReadOnly      = errors.New("database is read-only")
)

// FieldError is a rejected field value: it names the field (in the
// snake_case of the language surface) and the value. Unwrap gives the
// sentinel (ErrInvalid, ErrDuplicate, ErrNotFound, ErrPolicyRange).
type FieldError struct {
	Field  string
	Value  string
	Reason string
	Err    error
}

// Error returns e.g. `sip_address "sip:ken@x.com": already used by sip:ken@x.com`.
func (e *FieldError) Error() string {
	return e.Field + " " + cut.Quote(e.Value) + ": " + e.Reason
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, value string, sentinel error, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

func itoa(n int) string { return strconv.Itoa(n) }
