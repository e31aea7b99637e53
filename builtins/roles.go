package builtins

import (
	"context"
	"errors"
	"fmt"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

func (sh *Shell) roleBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "admin_roles", Kind: lang.Func,
			Cmdlets:    []string{"Get-CsAdminRole"},
			PowerShell: `Get-CsAdminRole -Identity CsHelpDesk -> admin_roles("CsHelpDesk"); $_.Cmdlets -> r.builtins`,
			Sig:        "admin_roles([identity])",
			Doc: `Get-CsAdminRole: every admin role as a stream, or the one named. Fields:
identity, builtins (the builtins its members may run), members,
is_standard_role, template (the standard role a custom role copies).
Which roles may run lock_pin:
admin_roles() | where(func(r) { return contains(r.builtins, "lock_pin") })`,
			Examples: []lang.Example{
				{Code: `admin_roles() | count`, Output: "5\n"},
				{Code: `contains(admin_roles("CsHelpDesk").builtins, "set_pin")`, Output: "false\n"},
			},
			Call: sh.adminRoles,
		},
		{
			Name: "new_admin_role", Kind: lang.Func,
			Cmdlets:    []string{"New-CsAdminRole"},
			PowerShell: `New-CsAdminRole -Identity X -Template CsHelpDesk -> new_admin_role("X", "CsHelpDesk")`,
			Sig:        "new_admin_role(identity, template[, opts])",
			Doc: `New-CsAdminRole: create a custom role that may run what the standard role
template may run. Members are added with add_role_member. opts: {whatif,
confirm, force, error_action}, as for every builtin below; a failure (the
role exists, a standard role cannot be changed) is a per-item error.`,
			Examples: []lang.Example{
				{Code: `new_admin_role("RedmondHelpDesk", "CsHelpDesk").template`, Output: "CsHelpDesk\n"},
			},
			Call: sh.roleChange("new_admin_role", 2, func(sh *Shell, env *lang.Env, a []string) (tengo.Object, error) {
				r, err := sh.cfg.Store.NewRole(env.Context(), sh.op(), a[0], a[1])
				if err != nil {
					return nil, err
				}
				return roleRecord(r), nil
			}),
		},
		{
			Name: "remove_admin_role", Kind: lang.Func,
			Cmdlets:    []string{"Remove-CsAdminRole"},
			PowerShell: `Remove-CsAdminRole -Identity X -> remove_admin_role("X")`,
			Sig:        "remove_admin_role(identity[, opts])",
			Doc:        `Remove-CsAdminRole: remove a custom role. Standard roles cannot be removed.`,
			Call: sh.roleChange("remove_admin_role", 1, func(sh *Shell, env *lang.Env, a []string) (tengo.Object, error) {
				return nil, sh.cfg.Store.RemoveRole(env.Context(), sh.op(), a[0])
			}),
		},
		{
			Name: "add_role_member", Kind: lang.Func,
			Cmdlets:    []string{"Add-ADGroupMember"},
			PowerShell: `Add-ADGroupMember -Identity CsHelpDesk -Members bob -> add_role_member("CsHelpDesk", "bob")`,
			Sig:        "add_role_member(role, operator[, opts])",
			Doc:        `Let operator (a login name, as given to --as) run what role may run.`,
			Examples: []lang.Example{
				{Code: `add_role_member("CsHelpDesk", "carol")`},
			},
			Call: sh.roleChange("add_role_member", 2, func(sh *Shell, env *lang.Env, a []string) (tengo.Object, error) {
				return nil, sh.cfg.Store.AddRoleMember(env.Context(), sh.op(), a[0], a[1])
			}),
		},
		{
			Name: "remove_role_member", Kind: lang.Func,
			Cmdlets:    []string{"Remove-ADGroupMember"},
			PowerShell: `Remove-ADGroupMember -Identity CsHelpDesk -Members bob -> remove_role_member("CsHelpDesk", "bob")`,
			Sig:        "remove_role_member(role, operator[, opts])",
			Doc:        `Take operator out of role. The last CsAdministrator cannot be removed.`,
			Call: sh.roleChange("remove_role_member", 2, func(sh *Shell, env *lang.Env, a []string) (tengo.Object, error) {
				return nil, sh.cfg.Store.RemoveRoleMember(env.Context(), sh.op(), a[0], a[1])
			}),
		},
	}
}

func (sh *Shell) adminRoles(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) > 1 {
		return nil, errors.New("want admin_roles() or admin_roles(identity)")
	}
	var name string
	if len(args) == 1 {
		var err error
		if name, err = stringArg(args[0], "identity"); err != nil {
			return nil, err
		}
	}
	ctx := env.Context()
	if err := sh.authorizeOn(ctx, "admin_roles", name); err != nil {
		return nil, err
	}
	roles, err := sh.cfg.Store.Roles(ctx)
	if err != nil {
		return nil, err
	}
	if len(args) == 1 {
		for _, r := range roles {
			if store.RoleKey(r.Identity) == store.RoleKey(name) {
				return roleRecord(r), nil
			}
		}
		return nil, fmt.Errorf("role %s: %w", cut.Quote(name), store.ErrNotFound)
	}
	items := make([]tengo.Object, len(roles))
	for i, r := range roles {
		items[i] = roleRecord(r)
	}
	return env.Items(items), nil
}

// roleChange makes the Call of a role-changing builtin taking n string
// arguments and an optional options map ({whatif, confirm, force,
// error_action}); the first argument is its target (see actOne).
func (sh *Shell) roleChange(name string, n int, do func(*Shell, *lang.Env, []string) (tengo.Object, error)) func(*lang.Env, []tengo.Object) (tengo.Object, error) {
	return func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
		if len(args) != n && len(args) != n+1 {
			return nil, fmt.Errorf("takes %d arguments and an optional options map, got %d arguments", n, len(args))
		}
		rest, opts, err := sh.splitOptions(name, args[n:], mutationOptionKeys...)
		if err != nil {
			return nil, err
		}
		if len(rest) > 0 {
			return nil, fmt.Errorf("argument %d must be an options map, not %s", n+1, rest[0].TypeName())
		}
		strs := make([]string, n)
		for i, a := range args[:n] {
			s, err := stringArg(a, fmt.Sprintf("argument %d", i+1))
			if err != nil {
				return nil, err
			}
			strs[i] = s
		}
		if err := sh.authorizeOn(env.Context(), name, strs[0]); err != nil {
			return nil, err
		}
		return sh.actOne(env, name, strs[0], opts, func(context.Context) (tengo.Object, error) {
			return do(sh, env, strs)
		})
	}
}
