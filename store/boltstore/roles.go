package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
)

// role reads a stored role with its builtins; ok is false when it does not
// exist.
func role(tx *bolt.Tx, name string) (store.Role, bool) {
	v := bucket(tx, bucketRoles).Get([]byte(store.RoleKey(name)))
	if v == nil {
		return store.Role{}, false
	}
	return roleFrom(v), true
}

func roleFrom(v []byte) store.Role {
	identity, template, members := decodeRole(v)
	r := store.Role{Identity: identity, Template: template, Members: members}
	src := identity
	if template != "" {
		src = template
	}
	std, ok := store.StandardRole(src)
	if !ok {
		corrupt("role %s copies unknown role %s", identity, src)
	}
	r.Builtins = std.Builtins
	r.IsStandardRole = template == ""
	if r.Members == nil {
		r.Members = []string{}
	}
	return r
}

func putRole(tx *bolt.Tx, r store.Role) error {
	return bucket(tx, bucketRoles).Put([]byte(store.RoleKey(r.Identity)), encodeRole(r.Identity, r.Template, r.Members))
}

// Roles returns the standard roles, then the custom roles by identity.
func (s *Store) Roles(ctx context.Context) ([]store.Role, error) {
	var out []store.Role
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var custom []store.Role
		bucket(tx, bucketRoles).ForEach(func(k, v []byte) error {
			if r := roleFrom(v); !r.IsStandardRole {
				custom = append(custom, r)
			}
			return nil
		})
		for _, std := range store.StandardRoles() {
			r, ok := role(tx, std.Identity)
			if !ok {
				corrupt("standard role %s is missing", std.Identity)
			}
			out = append(out, r)
		}
		out = append(out, custom...)
		return nil
	})
	return out, err
}

func noRole(name string) error {
	return fmt.Errorf("admin role %s: %w; list roles with admin_roles()", cut.Quote(name), store.ErrNotFound)
}

// NewRole creates a custom role copying a standard role.
func (s *Store) NewRole(ctx context.Context, op store.Op, identity, template string) (store.Role, error) {
	if err := op.Check(); err != nil {
		return store.Role{}, err
	}
	identity = strings.TrimSpace(identity)
	if identity == "" || strings.IndexFunc(identity, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return store.Role{}, &store.FieldError{Field: "identity", Value: identity, Err: store.ErrInvalid, Reason: "a role needs a name without control characters"}
	}
	std, ok := store.StandardRole(template)
	if !ok {
		return store.Role{}, fmt.Errorf("template %s: %w; a custom role copies one of the standard roles (%s)", cut.Quote(template), store.ErrNotFound, store.StandardRoleNames())
	}
	r := store.Role{Identity: identity, Template: std.Identity, Builtins: std.Builtins, Members: []string{}}
	err := s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		if old, ok := role(tx, identity); ok {
			return fmt.Errorf("admin role %q: %w", old.Identity, store.ErrDuplicate)
		}
		w.log.add("new_admin_role", identity, "ok", "copy of "+std.Identity)
		return putRole(tx, r)
	})
	if err != nil {
		return store.Role{}, err
	}
	return r, nil
}

// RemoveRole removes a custom role.
func (s *Store) RemoveRole(ctx context.Context, op store.Op, identity string) error {
	if err := op.Check(); err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		r, ok := role(tx, identity)
		if !ok {
			return noRole(identity)
		}
		if r.IsStandardRole {
			return fmt.Errorf("admin role %s: %w", r.Identity, store.ErrStandardRole)
		}
		w.log.add("remove_admin_role", r.Identity, "ok", "")
		return bucket(tx, bucketRoles).Delete([]byte(store.RoleKey(identity)))
	})
}

// AddRoleMember adds a member to a role.
func (s *Store) AddRoleMember(ctx context.Context, op store.Op, roleName, member string) error {
	if err := op.Check(); err != nil {
		return err
	}
	member = strings.TrimSpace(member)
	if member == "" || strings.IndexFunc(member, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return &store.FieldError{Field: "member", Value: member, Err: store.ErrInvalid, Reason: "a member needs a name without control characters"}
	}
	return s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		r, ok := role(tx, roleName)
		if !ok {
			return noRole(roleName)
		}
		if slices.ContainsFunc(r.Members, func(m string) bool { return strings.EqualFold(m, member) }) {
			return fmt.Errorf("%s is already a member of %s: %w", member, r.Identity, store.ErrDuplicate)
		}
		r.Members = append(r.Members, member)
		w.log.add("add_role_member", r.Identity, "ok", member)
		return putRole(tx, r)
	})
}

// RemoveRoleMember removes a member from a role.
func (s *Store) RemoveRoleMember(ctx context.Context, op store.Op, roleName, member string) error {
	if err := op.Check(); err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		r, ok := role(tx, roleName)
		if !ok {
			return noRole(roleName)
		}
		i := slices.IndexFunc(r.Members, func(m string) bool { return strings.EqualFold(m, strings.TrimSpace(member)) })
		if i < 0 {
			return fmt.Errorf("%s is not a member of %s: %w", member, r.Identity, store.ErrNotFound)
		}
		if r.IsStandardRole && r.Identity == store.CsAdministrator && len(r.Members) == 1 {
			return fmt.Errorf("%s: %w; add another CsAdministrator first", member, store.ErrLastAdmin)
		}
		r.Members = slices.Delete(r.Members, i, i+1)
		w.log.add("remove_role_member", r.Identity, "ok", member)
		return putRole(tx, r)
	})
}

// RolesOf returns the roles operator is a member of.
func (s *Store) RolesOf(ctx context.Context, operator string) ([]store.Role, error) {
	all, err := s.Roles(ctx)
	if err != nil {
		return nil, err
	}
	return store.MemberOf(all, operator), nil
}
