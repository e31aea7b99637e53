package builtins

import (
	"context"
	"errors"
	"fmt"
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
func (sh *Shell) resolve(ctx context.Context, items []tengo.Object) (targets []target, errs []*itemError, err error) {
	for _, item := range items {
		if r, ok := item.(*lang.Record); ok {
			if ref, ok := r.Payload().(userRef); ok && ref.id != 0 {
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
		if ref, ok := r.Payload().(userRef); ok && ref.id != 0 {
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
