package builtins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// target is one user an input item names, resolved to its key.
type target struct {
	id       store.UserID
	identity string // canonical identity, for messages, WhatIf and Confirm
}

// userRef is the hidden payload of the records pinsh makes for a user: its
// key and canonical identity, so that a builtin given the record needs no
// lookup, and no field of the record is made just to name it.
type userRef struct {
	id       store.UserID
	identity string
}

// userSource is the payload of a user or pin_info record: the Go data its
// fields are made from, which names the user.
type userSource interface{ ref() userRef }

// refOf returns the user a record's payload names, if it names one.
func refOf(payload any) (userRef, bool) {
	var ref userRef
	switch p := payload.(type) {
	case userRef:
		ref = p
	case userSource:
		ref = p.ref()
	}
	return ref, ref.id != 0
}

// errNoSuchUser is a per-item error: the input names no user.
var errNoSuchUser = errors.New("no such user")

// itemError is a per-item error of a target-taking builtin; input is how
// the admin named the item.
type itemError struct {
	input string
	err   error
}

func (e *itemError) Error() string { return cut.Text(e.input) + ": " + e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }

// identityOf returns the identity an input item names: a string is itself; a
// record or map with a string "identity" field is that field.
func identityOf(item tengo.Object) (string, bool) {
	var v tengo.Object
	switch o := item.(type) {
	case *tengo.String:
		return o.Value, true
	case *lang.Record:
		v = o.Get("identity")
	case *tengo.Map:
		v = o.Value["identity"]
	case *tengo.ImmutableMap:
		v = o.Value["identity"]
	}
	s, ok := v.(*tengo.String)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// resolve turns input items into targets, the way PowerShell binds
// -Identity: a record made by pinsh carries its user's key; a string or a
// map's identity field is looked up in any identity form of facts §1. A
// display-name wildcard ("* Smith") names every user it matches. Items that
// name no user, or ambiguously several, come back as *itemError values in
// errs, in input order relative to each other.
//
// Before anything is looked up, checkTargets refuses (for the whole call,
// named by name) an item that is not a user target at all.
func (sh *Shell) resolve(ctx context.Context, name string, items []tengo.Object) (targets []target, errs []*itemError, err error) {
	if err := checkTargets(name, items); err != nil {
		return nil, nil, err
	}
	for _, item := range items {
		if r, ok := item.(*lang.Record); ok {
			if ref, ok := refOf(r.Payload()); ok {
				targets = append(targets, target{id: ref.id, identity: ref.identity})
				continue
			}
		}
		name, ok := identityOf(item)
		if !ok {
			errs = append(errs, &itemError{input: describeItem(item),
				err: fmt.Errorf("not an identity: want a string or a record with an identity, got %s", item.TypeName())})
			continue
		}
		users, err := sh.cfg.Store.FindUsers(ctx, name)
		if err != nil {
			if errors.Is(err, store.ErrInvalid) {
				errs = append(errs, &itemError{input: name, err: err})
				continue
			}
			return nil, nil, fmt.Errorf("look up %s: %w", cut.Quote(name), err)
		}
		switch {
		case len(users) == 0:
			errs = append(errs, &itemError{input: name, err: errNoSuchUser})
		case len(users) > 1 && !strings.Contains(name, "*"):
			ids := make([]string, len(users))
			for i, u := range users {
				ids[i] = u.Identity()
			}
			errs = append(errs, &itemError{input: name, err: fmt.Errorf(
				"ambiguous: %d users have that name (%s); name one by SIP address", len(users), strings.Join(ids, ", "))})
		default:
			for _, u := range users {
				targets = append(targets, target{id: u.ID, identity: u.Identity()})
			}
		}
	}
	return targets, errs, nil
}

// userRecordTypes are the record types that name a user by their
// identity: a user, its PIN state, a set_pin result and a verify_pin
// result. Any other record (a pin_policy, an admin_role, an audit_entry, a
// summary) is never taken for a user, even when its identity happens to be
// some user's display name.
var userRecordTypes = []*lang.Schema{userSchema, pinInfoSchema, newPinSchema, givenPinSchema, verifySchema}

// userTargetKeys are the keys a map may have to be a user target: the
// fields of the user record types, so that to_map of any of them is one.
var userTargetKeys = func() []string {
	var keys []string
	for _, s := range userRecordTypes {
		for _, f := range s.Fields() {
			if !slices.Contains(keys, f) {
				keys = append(keys, f)
			}
		}
	}
	return keys
}()

// checkTargets refuses, for the whole call of builtin name, the first
// input item that is not a user target: a record of another type, a map
// holding an option or a key no user record has (a target map's options
// are never silently ignored, so {identity: ..., whatif: true} cannot
// really act), or a digit string, which is a PIN in the user's place and is
// never shown.
func checkTargets(name string, items []tengo.Object) error {
	for _, item := range items {
		if err := checkTarget(name, item); err != nil {
			return err
		}
	}
	return nil
}

func checkTarget(name string, item tengo.Object) error {
	if r, ok := item.(*lang.Record); ok {
		if _, ok := refOf(r.Payload()); ok {
			return nil // made by pinsh for a user
		}
	}
	if id, ok := identityOf(item); ok && digitsTarget(id) {
		return errDigitsTarget(name) // before any message could show it
	}
	switch o := item.(type) {
	case *lang.Record:
		if slices.Contains(userRecordTypes, o.Schema()) {
			break
		}
		what := ""
		if id, ok := identityOf(item); ok {
			what = fmt.Sprintf(" (its identity %s names %s)", cut.Quote(id), identityNames(o.TypeName()))
		}
		return fmt.Errorf("%s %s record is not a user%s; %s takes users: identities, or the records of users "+
			"and their PINs (get_users, pin_info, set_pin, verify_pin)", article(o.TypeName()), o.TypeName(), what, name)
	case *tengo.Map, *tengo.ImmutableMap:
		m, _ := mapValue(item)
		if _, ok := m["pin"]; ok {
			return errPinInMap
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, isOption := optionKeys[k]; isOption {
				return fmt.Errorf("%s is an option, and a target map holds no options; pass options in a map of their own: "+
					"%s(%s, {%s: %s})", k, name, cut.Quote(describeItem(item)), k, cut.Text(m[k].String()))
			}
			if !slices.Contains(userTargetKeys, k) {
				return fmt.Errorf("a user target map has no key %s; %s",
					cut.Quote(k), lang.Hint(k, userTargetKeys, "its keys are the fields of a user record:"))
			}
		}
	}
	return nil
}

// errPinInMap refuses a "pin" key in a target map (a record made by pinsh
// is no map): a map is no set_pin(target, pin), and the PIN is never shown.
var errPinInMap = errors.New(`a target map holds no PIN (its "pin" is not used); ` +
	"to set a PIN you choose write set_pin(target, pin), or omit it to generate one")

// errDigitsTarget refuses a digit string where builtin name wants a user,
// without showing the digits: no identity form is digits only, so it is
// most likely a PIN in the user's place.
func errDigitsTarget(name string) error {
	return fmt.Errorf("the target is a string of digits, which looks like a PIN in the user's place (no identity is digits only); "+
		"%s takes users by SIP address, UPN, domain\\logon or display name", name)
}

// digitsBind is the lang.Builtin.Bind of a target-taking builtin whose
// first minArgs arguments are not targets: lock_pin("48151") has a digit
// string where the target goes, which lang never takes for an identity (it
// would make a stage of it); it is refused where it is written, its digits
// unshown.
func digitsBind(name string, minArgs int) func(args []tengo.Object) error {
	return func(args []tengo.Object) error {
		if len(args) <= minArgs {
			return nil
		}
		if id, ok := identityOf(args[0]); ok && digitsTarget(id) {
			return errDigitsTarget(name)
		}
		return nil
	}
}

// identityNames says what the identity of a record of type typ names.
func identityNames(typ string) string {
	switch typ {
	case policySchema.Name():
		return "a policy"
	case roleSchema.Name():
		return "an admin role"
	}
	return "no user"
}

// article is "an" before a word starting with a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// exactTargets refuses the first input item of a mutating builtin that
// names users by a wildcard ("* Smith", "*" + an empty variable): pinsh
// never guesses that one slip means many users. Lync's -Identity takes a
// display-name wildcard; here a mutation takes users named exactly, and a
// wildcard selects them first with get_users, where it is explicit. A
// record made by pinsh names its user by key and is never a wildcard.
func exactTargets(name string, items []tengo.Object) error {
	for _, item := range items {
		if id, ok := wildcardOf(item); ok {
			return fmt.Errorf("%s is a wildcard; a mutating builtin takes users named exactly. "+
				"To act on every match, select them first: get_users(%s) | %s", cut.Quote(id), cut.Quote(id), name)
		}
	}
	return nil
}

// wildcardOf returns the identity of item when it contains the * wildcard.
func wildcardOf(item tengo.Object) (string, bool) {
	if r, ok := item.(*lang.Record); ok {
		if _, ok := refOf(r.Payload()); ok {
			return "", false
		}
	}
	id, ok := identityOf(item)
	return id, ok && strings.Contains(id, "*")
}

// describeItem names an input item in a message.
func describeItem(item tengo.Object) string {
	if name, ok := identityOf(item); ok {
		return name
	}
	return cut.Text(item.String())
}
