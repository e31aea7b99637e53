package builtins

import (
	"context"
	"errors"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// itemFailures are the store errors that concern one target rather than the
// call or the database: it does not exist, already exists, or a rule
// refuses the change. A mutating builtin reports them as per-item errors,
// which error_action governs; any other error ends the call.
var itemFailures = []error{
	store.ErrNotFound, store.ErrDuplicate, store.ErrInvalid, store.ErrPolicyRange,
	store.ErrStandardRole, store.ErrLastAdmin,
}

func isItemFailure(err error) bool {
	for _, s := range itemFailures {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// targetError makes err name target, once.
func targetError(target string, err error) error {
	if target == "" || strings.Contains(strings.ToLower(err.Error()), strings.ToLower(target)) {
		return err
	}
	return &itemError{input: target, err: err}
}

// actOne runs the action of a mutating builtin called on one target given
// as an argument (new_pin_policy, new_user, add_role_member, ...), with
// the options every mutating builtin takes: whatif describes the action,
// confirm asks first, and a failure to act on the target (see
// itemFailures) is a per-item error that force and error_action govern, as
// for the targets of lock_pin: shown, and the call returns undefined, by
// default; with error_action "stop" it ends the call and the script.
func (sh *Shell) actOne(env *lang.Env, name, target string, opts options, do func(ctx context.Context) (tengo.Object, error)) (tengo.Object, error) {
	if proceed, err := sh.confirmOne(env, name, target, opts); err != nil || !proceed {
		return tengo.UndefinedValue, err
	}
	v, err := do(env.Context())
	if err == nil {
		return v, nil
	}
	if !isItemFailure(err) {
		return nil, err
	}
	return tengo.UndefinedValue, sh.reporter(env, name, opts).report(targetError(target, err))
}
