package builtins

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
)

// ErrorAction chooses what a per-item (non-terminating) error does, as
// PowerShell's -ErrorAction does.
type ErrorAction int

const (
	// Continue shows the error on standard error, records it and goes on.
	Continue ErrorAction = iota
	// SilentlyContinue records the error without showing it and goes on.
	SilentlyContinue
	// Stop ends the builtin and the script with the first error.
	Stop
	// Ignore neither shows nor records the error, and goes on.
	Ignore
)

var errorActions = map[string]ErrorAction{
	"continue":          Continue,
	"silently_continue": SilentlyContinue,
	"stop":              Stop,
	"ignore":            Ignore,
}

// ErrorActions returns the values error_action takes, sorted: for the
// prompt's completion.
func ErrorActions() []string {
	return slices.Sorted(maps.Keys(errorActions))
}

// options are the trailing options map of a mutating builtin.
type options struct {
	whatIf         bool
	confirm        bool
	force          bool // suppress the display of non-fatal errors
	errorAction    ErrorAction
	enforceHistory bool // set_pin only

	overwrite bool // export_csv, export_jsonl only
}

// optionKeys lists, per key, how to apply it to options.
var optionKeys = map[string]func(o *options, v tengo.Object) error{
	"whatif":          boolOption(func(o *options, b bool) { o.whatIf = b }),
	"confirm":         boolOption(func(o *options, b bool) { o.confirm = b }),
	"force":           boolOption(func(o *options, b bool) { o.force = b }),
	"enforce_history": boolOption(func(o *options, b bool) { o.enforceHistory = b }),
	"overwrite":       boolOption(func(o *options, b bool) { o.overwrite = b }),
	"error_action": func(o *options, v tengo.Object) error {
		s, ok := v.(*tengo.String)
		if !ok {
			return fmt.Errorf("must be a string, not %s", v.TypeName())
		}
		a, ok := errorActions[strings.ToLower(s.Value)]
		if !ok {
			return fmt.Errorf("%s is not one of %s", cut.Quote(s.Value), strings.Join(slices.Sorted(maps.Keys(errorActions)), ", "))
		}
		o.errorAction = a
		return nil
	},
}

func boolOption(set func(*options, bool)) func(*options, tengo.Object) error {
	return func(o *options, v tengo.Object) error {
		switch v := v.(type) {
		case *tengo.Bool:
			set(o, !v.IsFalsy())
			return nil
		case *tengo.Undefined:
			set(o, false)
			return nil
		}
		return fmt.Errorf("must be true or false, not %s", v.TypeName())
	}
}

// parseOptions reads an options map for builtin name. allowed lists the keys
// the builtin takes; any other key is an error that lists the allowed ones.
// The shell-wide --whatif is applied by the caller.
func parseOptions(name string, m map[string]tengo.Object, allowed ...string) (options, error) {
	var o options
	for _, k := range slices.Sorted(maps.Keys(m)) {
		apply, known := optionKeys[k]
		if !known || !slices.Contains(allowed, k) {
			return o, fmt.Errorf("%s: unknown option %s; %s", name, cut.Quote(k), lang.Hint(k, allowed, "options are"))
		}
		if err := apply(&o, m[k]); err != nil {
			return o, fmt.Errorf("%s: option %s %w", name, k, err)
		}
	}
	return o, nil
}
