package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
)

// roleRecord is the value of NAME/role/KEY: what a role adds to its
// standard role. Builtins are not stored: they follow the standard role
// (the template of a custom role) of the running pinsh, as in the bbolt
// backend.
type roleRecord struct {
	Identity string   `json:"identity"`
	Template string   `json:"template,omitempty"` // "" for a standard role
	Members  []string `json:"members"`
}

func (s *Store) roleKey(name string) string { return s.key(prefixRole + store.RoleKey(name)) }

func putRole(s *Store, t *txn, r store.Role) error {
	tmpl := r.Template
	if r.IsStandardRole {
		tmpl = ""
	}
	members := r.Members
	if members == nil {
		members = []string{}
	}
	return s.putJSON(t, prefixRole+store.RoleKey(r.Identity), roleRecord{Identity: r.Identity, Template: tmpl, Members: members})
}

// roleFrom decodes a stored role and gives it its builtins.
func roleFrom(kv *mvccpb.KeyValue) (store.Role, error) {
	var rec roleRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return store.Role{}, fmt.Errorf("%w: role %s: %v", store.ErrDamaged, kv.Key, err)
	}
	src := rec.Identity
	if rec.Template != "" {
		src = rec.Template
	}
	std, ok := store.StandardRole(src)
	if !ok {
		return store.Role{}, fmt.Errorf("%w: role %s copies unknown role %s", store.ErrDamaged, kv.Key, src)
	}
	r := store.Role{Identity: rec.Identity, Template: rec.Template, Members: rec.Members, Builtins: std.Builtins, IsStandardRole: rec.Template == ""}
	if r.Members == nil {
		r.Members = []string{}
	}
	return r, nil
}

// Roles returns the standard roles, then the custom roles by identity.
func (s *Store) Roles(ctx context.Context) ([]store.Role, error) {
	kvs, err := s.readSmall(ctx, prefixRole, "roles")
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]store.Role, len(kvs))
	var custom []store.Role
	for _, kv := range kvs {
		role, err := roleFrom(kv)
		if err != nil {
			return nil, err
		}
		byKey[store.RoleKey(role.Identity)] = role
		if !role.IsStandardRole {
			custom = append(custom, role) // keys sort by RoleKey
		}
	}
	var out []store.Role
	for _, std := range store.StandardRoles() {
		role, ok := byKey[store.RoleKey(std.Identity)]
		if !ok {
			return nil, fmt.Errorf("%w: standard role %s is missing", store.ErrDamaged, std.Identity)
		}
		out = append(out, role)
	}
	return append(out, custom...), nil
}

func noRole(name string) error {
	return fmt.Errorf("admin role %s: %w; list roles with admin_roles()", cut.Quote(name), store.ErrNotFound)
}

// changeRole is a read-modify-write of one role with its audit entry: fn
// gets the role (ok false when there is none) and returns the role to put
// (nil: delete it) and the audit entry.
func (s *Store) changeRole(ctx context.Context, op store.Op, name string, fn func(r store.Role, ok bool) (*store.Role, store.AuditEntry, error)) error {
	if err := s.check(op); err != nil {
		return err
	}
	key, seqKey := s.roleKey(name), s.key(keyAuditSeq)
	_, err := s.kv.update(ctx, []string{key, seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		var r store.Role
		kv := cur[key]
		if kv != nil {
			var err error
			if r, err = roleFrom(kv); err != nil {
				return err
			}
		}
		nr, e, err := fn(r, kv != nil)
		if err != nil {
			return err
		}
		if nr == nil {
			err = t.del(key)
		} else {
			err = putRole(s, t, *nr)
		}
		if err != nil {
			return err
		}
		return s.addAudit(cur[seqKey], t, op, e)
	})
	return err
}

// NewRole creates a custom role copying a standard role.
func (s *Store) NewRole(ctx context.Context, op store.Op, identity, template string) (store.Role, error) {
	if err := op.Check(); err != nil {
		return store.Role{}, err
	}
	identity = strings.TrimSpace(identity)
	if !validName(identity) {
		return store.Role{}, &store.FieldError{Field: "identity", Value: identity, Err: store.ErrInvalid, Reason: "a role needs a name without control characters"}
	}
	std, ok := store.StandardRole(template)
	if !ok {
		return store.Role{}, fmt.Errorf("template %s: %w; a custom role copies one of the standard roles (%s)", cut.Quote(template), store.ErrNotFound, store.StandardRoleNames())
	}
	nr := store.Role{Identity: identity, Template: std.Identity, Builtins: std.Builtins, Members: []string{}}
	err := s.changeRole(ctx, op, identity, func(old store.Role, ok bool) (*store.Role, store.AuditEntry, error) {
		if ok {
			return nil, store.AuditEntry{}, fmt.Errorf("admin role %q: %w", old.Identity, store.ErrDuplicate)
		}
		return &nr, store.AuditEntry{Action: "new_admin_role", Target: identity, Outcome: "ok", Detail: "copy of " + std.Identity}, nil
	})
	if err != nil {
		return store.Role{}, err
	}
	return nr, nil
}

func validName(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) < 0
}

// RemoveRole removes a custom role.
func (s *Store) RemoveRole(ctx context.Context, op store.Op, identity string) error {
	return s.changeRole(ctx, op, identity, func(r store.Role, ok bool) (*store.Role, store.AuditEntry, error) {
		if !ok {
			return nil, store.AuditEntry{}, noRole(identity)
		}
		if r.IsStandardRole {
			return nil, store.AuditEntry{}, fmt.Errorf("admin role %s: %w", r.Identity, store.ErrStandardRole)
		}
		return nil, store.AuditEntry{Action: "remove_admin_role", Target: r.Identity, Outcome: "ok"}, nil
	})
}

// AddRoleMember adds a member to a role.
func (s *Store) AddRoleMember(ctx context.Context, op store.Op, roleName, member string) error {
	if err := op.Check(); err != nil {
		return err
	}
	member = strings.TrimSpace(member)
	if !validName(member) {
		return &store.FieldError{Field: "member", Value: member, Err: store.ErrInvalid, Reason: "a member needs a name without control characters"}
	}
	return s.changeRole(ctx, op, roleName, func(r store.Role, ok bool) (*store.Role, store.AuditEntry, error) {
		if !ok {
			return nil, store.AuditEntry{}, noRole(roleName)
		}
		if slices.ContainsFunc(r.Members, func(m string) bool { return strings.EqualFold(m, member) }) {
			return nil, store.AuditEntry{}, fmt.Errorf("%s is already a member of %s: %w", member, r.Identity, store.ErrDuplicate)
		}
		r.Members = append(slices.Clip(r.Members), member)
		return &r, store.AuditEntry{Action: "add_role_member", Target: r.Identity, Outcome: "ok", Detail: member}, nil
	})
}

// RemoveRoleMember removes a member from a role.
func (s *Store) RemoveRoleMember(ctx context.Context, op store.Op, roleName, member string) error {
	return s.changeRole(ctx, op, roleName, func(r store.Role, ok bool) (*store.Role, store.AuditEntry, error) {
		if !ok {
			return nil, store.AuditEntry{}, noRole(roleName)
		}
		i := slices.IndexFunc(r.Members, func(m string) bool { return strings.EqualFold(m, strings.TrimSpace(member)) })
		if i < 0 {
			return nil, store.AuditEntry{}, fmt.Errorf("%s is not a member of %s: %w", member, r.Identity, store.ErrNotFound)
		}
		if r.IsStandardRole && r.Identity == store.CsAdministrator && len(r.Members) == 1 {
			return nil, store.AuditEntry{}, fmt.Errorf("%s: %w; add another CsAdministrator first", member, store.ErrLastAdmin)
		}
		r.Members = slices.Delete(slices.Clone(r.Members), i, i+1)
		return &r, store.AuditEntry{Action: "remove_role_member", Target: r.Identity, Outcome: "ok", Detail: member}, nil
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
