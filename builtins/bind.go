package builtins

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
)

// bindOptions is the lang.Builtin.Bind of every stage or sink that declares
// Options: a call that binds a stage (lock_pin({whatif: true})) has its
// arguments checked where it is written, as Run checks them when the stage
// is piped into, so that the call form fails exactly like the pipeline
// form instead of making a stage that never runs. It checks the trailing
// options map, runs the builtin's own Bind, then checks, for a
// target-taking builtin, the argument in the target's place.
func bindOptions(def *lang.Builtin) func(args []tengo.Object) error {
	name, allowed, inner := def.Name, def.Options, def.Bind
	targets, minArgs := def.Targets, def.MinArgs
	return func(args []tengo.Object) error {
		n := len(args)
		if n > 0 {
			if m, ok := mapValue(args[n-1]); ok {
				if _, isTarget := m["identity"]; !isTarget {
					if err := checkOptionsMap(name, targets, m, allowed); err != nil {
						return err
					}
					n--
				}
			}
		}
		if inner != nil {
			if err := inner(args); err != nil {
				return err // set_pin("640289"): a PIN, not a target, comes first
			}
		}
		if targets && n > minArgs {
			return checkTargetKind(args[0])
		}
		return nil
	}
}

// userNameKeys are the fields that name a user, in the order a refusal
// suggests them as the identity.
var userNameKeys = []string{"sip_address", "user_principal_name", "sam_account_name", "display_name"}

// checkOptionsMap checks the options map m of builtin name. A map of a
// target-taking builtin with user fields but no identity is a user named
// without the key that names one ({sip_address: ...}), not options with
// misspelt keys; no value of it is shown but a name, so a PIN in it never
// reaches the message.
func checkOptionsMap(name string, targets bool, m map[string]tengo.Object, allowed []string) error {
	if _, ok := m["pin"]; ok && targets {
		return errPinInMap
	}
	if targets {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, isOption := optionKeys[k]; !isOption && slices.Contains(userTargetKeys, k) {
				fields = append(fields, k+": ...")
			}
		}
		if len(fields) > 0 {
			user := "identity"
			for _, k := range userNameKeys {
				if s, ok := m[k].(*tengo.String); ok && s.Value != "" && !digitsTarget(s.Value) {
					user = cut.Quote(s.Value)
					break
				}
			}
			return fmt.Errorf("{%s} is not an options map (it has user fields but no identity); name the user: %s(%s) or %s({identity: ...})",
				strings.Join(fields, ", "), name, user, name)
		}
	}
	_, err := parseOptions(name, m, allowed...)
	return err
}

// checkTargetKind refuses, in a target's place, a value that can never
// name a user: a number, a bool, a char, a function... (a string, a map or
// a record is checked when the target is resolved).
func checkTargetKind(x tengo.Object) error {
	switch x.(type) {
	case *tengo.String, *tengo.Map, *tengo.ImmutableMap, *lang.Record, *tengo.Undefined, *pinSecret:
		return nil
	case *tengo.Int, *tengo.Float:
		return fmt.Errorf("%s is a number, not a user", cut.Text(x.String()))
	case *tengo.Bool:
		return fmt.Errorf("%s is a bool, not a user", x.String())
	}
	if lang.IsUndefined(x) {
		return nil
	}
	return fmt.Errorf("%s is a %s, not a user", cut.Text(x.String()), x.TypeName())
}

// digitsTarget reports whether s, as a target, is digits only once spaces
// around it are trimmed: any Unicode decimal digits ("１２３４５" as much as
// "12345 "). No identity form is; such a string is a PIN in the user's
// place, refused without being shown.
func digitsTarget(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
