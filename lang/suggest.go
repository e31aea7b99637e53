package lang

import (
	"fmt"
	"strings"

	input "github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/internal/suggest"
)

// FieldError is the error of naming a field that a record's type does not
// have: reading r.field or r["field"], and naming the field to select,
// sort_by, a where() field map and the like. Its message names the record
// type, the field, and the closest fields of the type:
//
//	pin_info record has no field "IsPinSet"; did you mean is_pin_set?
//
// or, when no field is close, every field of the type.
type FieldError struct {
	Type   string   // the record type, e.g. "pin_info"
	Field  string   // the field as written
	Fields []string // the fields of the type, in order
}

func (e *FieldError) Error() string {
	typ := e.Type + " record"
	if e.Type == "record" { // select's records of maps
		typ = "record"
	}
	return fmt.Sprintf("%s has no field %s; %s", typ, input.Quote(e.Field), Hint(e.Field, e.Fields, "its fields are"))
}

// NoField returns the *FieldError of field, which s does not have.
func (s *Schema) NoField(field string) error {
	// A clone, so that the error does not pin a large string the name was
	// cut from.
	return &FieldError{Type: s.name, Field: strings.Clone(field), Fields: s.fields}
}

// Hint returns the end of a message about a name that is not one of known:
// "did you mean x?" (or "x or y", "x, y or z") when some are close to name,
// else list followed by every known name, comma-separated: Hint("IsPinSet",
// fields, "its fields are") is "did you mean is_pin_set?". See
// [Suggest] for what close means.
func Hint(name string, known []string, list string) string {
	return suggest.Hint(name, known, list)
}

// Suggest returns the names of known closest to name, best first, at most
// three; none if none is close.
//
// Close means: the same name once case, '_' and '-' are ignored
// (PowerShell's IsPinSet for is_pin_set, LineURI for line_uri); a few typing
// slips away (a letter missing, extra, wrong or two swapped); or sharing a
// word of at least four letters with name, or its first four letters
// ("expiry" for pin_expiration_time) when no name is a slip away.
func Suggest(name string, known []string) []string {
	return suggest.Suggest(name, known)
}
