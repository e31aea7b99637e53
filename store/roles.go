package store

import (
	"slices"
	"strings"
)

// Names of the standard roles (facts §7).
const (
	CsAdministrator         = "CsAdministrator"
	CsUserAdministrator     = "CsUserAdministrator"
	CsHelpDesk              = "CsHelpDesk"
	CsServerAdministrator   = "CsServerAdministrator"
	CsViewOnlyAdministrator = "CsViewOnlyAdministrator"
)

// StandardRoles returns the built-in roles with the builtins each may run,
// without members, in a fixed order (most powerful first). Every role may
// run the read-only builtins get_users, pin_info, get_pin_policy,
// admin_roles and audit_log. Each call returns fresh slices.
func StandardRoles() []Role {
	view := []string{"get_users", "pin_info", "get_pin_policy", "admin_roles", "audit_log"}
	with := func(extra ...string) []string { return append(slices.Clone(view), extra...) }
	return []Role{
		{Identity: CsAdministrator, IsStandardRole: true, Builtins: with(
			"set_pin", "lock_pin", "unlock_pin", "verify_pin",
			"new_pin_policy", "set_pin_policy", "remove_pin_policy", "grant_pin_policy",
			"new_user", "remove_user", "import_users",
			"new_admin_role", "remove_admin_role", "add_role_member", "remove_role_member")},
		// verify_pin is a PIN logon made by an admin. A role that may both
		// try PINs and unlock them (which resets the failure counters) could
		// guess any PIN without limit, so only CsAdministrator may verify.
		{Identity: CsUserAdministrator, IsStandardRole: true, Builtins: with(
			"set_pin", "lock_pin", "unlock_pin", "grant_pin_policy",
			"new_user", "remove_user", "import_users")},
		{Identity: CsHelpDesk, IsStandardRole: true, Builtins: with("lock_pin", "unlock_pin")},
		{Identity: CsServerAdministrator, IsStandardRole: true, Builtins: with(
			"new_pin_policy", "set_pin_policy", "remove_pin_policy", "grant_pin_policy")},
		{Identity: CsViewOnlyAdministrator, IsStandardRole: true, Builtins: with()},
	}
}

// StandardRole returns the standard role named identity (case-insensitive).
func StandardRole(identity string) (Role, bool) {
	for _, r := range StandardRoles() {
		if strings.EqualFold(r.Identity, strings.TrimSpace(identity)) {
			return r, true
		}
	}
	return Role{}, false
}

// RoleKey is the storage key of a role or member name: roles and operators
// are matched case-insensitively.
func RoleKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Allows reports whether the role may run builtin.
func (r Role) Allows(builtin string) bool { return slices.Contains(r.Builtins, builtin) }

// MemberOf returns the roles of roles that operator is a member of
// (case-insensitively): Store.RolesOf of every backend.
func MemberOf(roles []Role, operator string) []Role {
	var out []Role
	for _, r := range roles {
		if slices.ContainsFunc(r.Members, func(m string) bool { return strings.EqualFold(m, strings.TrimSpace(operator)) }) {
			out = append(out, r)
		}
	}
	return out
}

// StandardRoleNames lists the standard roles for messages:
// "CsAdministrator, CsUserAdministrator, ...".
func StandardRoleNames() string {
	var names []string
	for _, r := range StandardRoles() {
		names = append(names, r.Identity)
	}
	return strings.Join(names, ", ")
}
