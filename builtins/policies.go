package builtins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

func (sh *Shell) policyBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "get_pin_policy", Kind: lang.Func,
			Sig: "get_pin_policy([identity])",
			Doc: `Get-CsPinPolicy: every PIN policy as a stream (global first), or the one
named ("global", "site:NAME", "tag:NAME"). Fields: identity,
min_password_length (4-24, default 5), pin_history_count (0-20, default
0), pin_lifetime (days, 0-999, 0 = never expires), allow_common_patterns
(default false), maximum_logon_attempts (1-999, or undefined: limits follow
the PIN length), description. A user's PIN follows its per-user (tag)
policy, else its site's, else the global one.`,
			Examples: []lang.Example{
				{Code: `get_pin_policy("global").min_password_length`, Output: "5\n"},
			},
			Call: sh.getPinPolicy,
		},
		{
			Name: "new_pin_policy", Kind: lang.Func,
			Sig: "new_pin_policy(identity, props[, opts])",
			Doc: `New-CsPinPolicy: create a site ("site:NAME") or per-user ("tag:NAME")
policy with the defaults changed by props, a map of policy fields. A
pin_lifetime above 0 needs a pin_history_count above 0.
opts: {whatif, confirm}.`,
			Examples: []lang.Example{
				{Code: `new_pin_policy("tag:Secure", {min_password_length: 8, pin_history_count: 5, pin_lifetime: 90}).pin_lifetime`, Output: "90\n"},
			},
			Call: sh.newPinPolicy,
		},
		{
			Name: "set_pin_policy", Kind: lang.Func,
			Sig: "set_pin_policy(identity, props[, opts])",
			Doc: `Set-CsPinPolicy: change the fields of a policy given in props. Setting
maximum_logon_attempts to undefined or 0 unsets it. The expiry of PINs
already set does not change; it is fixed when a PIN is set.
opts: {whatif, confirm}.`,
			Examples: []lang.Example{
				{Code: `set_pin_policy("global", {min_password_length: 6}).min_password_length`, Output: "6\n"},
			},
			Call: sh.setPinPolicy,
		},
		{
			Name: "remove_pin_policy", Kind: lang.Func,
			Sig: "remove_pin_policy(identity[, opts])",
			Doc: `Remove-CsPinPolicy: remove a site or per-user policy (its users fall back
to the next scope up: site, then global); removing "global" resets it to
the defaults. opts: {whatif, confirm}.`,
			Call: sh.removePinPolicy,
		},
		{
			Name: "grant_pin_policy", Kind: lang.Sink, Targets: true,
			MinArgs: 1,
			Sig:     "grant_pin_policy(target, name[, opts]) | grant_pin_policy(name[, opts])",
			Doc: `Grant-CsPinPolicy: give each target user the per-user policy name
("tag:NAME" or "NAME"); undefined (or "") takes it away, so the user
follows its site or the global policy again. Returns a summary.
opts: {whatif, confirm, force, error_action}.`,
			Examples: []lang.Example{
				{Code: `get_users("* Smith") | grant_pin_policy(undefined)`},
			},
			Run: sh.grantPinPolicy,
		},
	}
}

// policyFieldSetters maps the props keys to the PolicyChanges field each sets.
var policyFieldSetters = map[string]func(c *store.PolicyChanges, v tengo.Object) error{
	"min_password_length": intProp(func(c *store.PolicyChanges, n int) { c.MinPasswordLength = &n }),
	"pin_history_count":   intProp(func(c *store.PolicyChanges, n int) { c.PinHistoryCount = &n }),
	"pin_lifetime":        intProp(func(c *store.PolicyChanges, n int) { c.PinLifetime = &n }),
	"maximum_logon_attempts": func(c *store.PolicyChanges, v tengo.Object) error {
		if _, unset := v.(*tengo.Undefined); unset {
			zero := 0
			c.MaximumLogonAttempts = &zero
			return nil
		}
		return intProp(func(c *store.PolicyChanges, n int) { c.MaximumLogonAttempts = &n })(c, v)
	},
	"allow_common_patterns": func(c *store.PolicyChanges, v tengo.Object) error {
		b, ok := v.(*tengo.Bool)
		if !ok {
			return fmt.Errorf("must be true or false, not %s", v.TypeName())
		}
		allow := !b.IsFalsy()
		c.AllowCommonPatterns = &allow
		return nil
	},
	"description": func(c *store.PolicyChanges, v tengo.Object) error {
		s, ok := v.(*tengo.String)
		if !ok {
			return fmt.Errorf("must be a string, not %s", v.TypeName())
		}
		c.Description = &s.Value
		return nil
	},
}

func intProp(set func(*store.PolicyChanges, int)) func(*store.PolicyChanges, tengo.Object) error {
	return func(c *store.PolicyChanges, v tengo.Object) error {
		n, ok := v.(*tengo.Int)
		if !ok {
			return fmt.Errorf("must be a whole number, not %s", v.TypeName())
		}
		set(c, int(n.Value))
		return nil
	}
}

// policyChanges reads a props map.
func policyChanges(o tengo.Object) (store.PolicyChanges, error) {
	var c store.PolicyChanges
	m, ok := mapValue(o)
	if !ok {
		return c, fmt.Errorf("props must be a map of policy fields, not %s", o.TypeName())
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		set, ok := policyFieldSetters[k]
		if !ok {
			return c, fmt.Errorf("unknown policy field %q; fields are %s", k,
				strings.Join(slices.Sorted(maps.Keys(policyFieldSetters)), ", "))
		}
		if err := set(&c, m[k]); err != nil {
			return c, fmt.Errorf("%s %w", k, err)
		}
	}
	return c, nil
}

func stringArg(o tengo.Object, what string) (string, error) {
	s, ok := o.(*tengo.String)
	if !ok {
		return "", fmt.Errorf("%s must be a string, not %s", what, o.TypeName())
	}
	return s.Value, nil
}

func (sh *Shell) getPinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	ctx := env.Context()
	switch len(args) {
	case 0:
		if err := sh.authorize(ctx, "get_pin_policy"); err != nil {
			return nil, err
		}
		ps, err := sh.cfg.Store.Policies(ctx)
		if err != nil {
			return nil, err
		}
		items := make([]tengo.Object, len(ps))
		for i, p := range ps {
			items[i] = policyRecord(p)
		}
		return env.Items(items), nil
	case 1:
		id, err := stringArg(args[0], "identity")
		if err != nil {
			return nil, err
		}
		if err := sh.authorize(ctx, "get_pin_policy"); err != nil {
			return nil, err
		}
		p, err := sh.cfg.Store.Policy(ctx, id)
		if err != nil {
			return nil, err
		}
		return policyRecord(p), nil
	}
	return nil, errors.New("want get_pin_policy() or get_pin_policy(identity)")
}

// policyCall parses (identity, props[, opts]) or (identity[, opts]), checks
// the role, and applies whatif and confirm. It reports whether to go ahead.
func (sh *Shell) policyCall(env *lang.Env, name string, args []tengo.Object, withProps bool) (string, store.PolicyChanges, bool, error) {
	var changes store.PolicyChanges
	want, usage := 1, name+"(identity[, opts])"
	if withProps {
		want, usage = 2, name+"(identity, props[, opts])"
	}
	if len(args) != want && len(args) != want+1 {
		return "", changes, false, fmt.Errorf("want %s", usage)
	}
	// The options map is the argument after the fixed ones, so a props map
	// is never read as options.
	rest, opts, err := sh.splitOptions(name, args[want:], "whatif", "confirm")
	if err != nil {
		return "", changes, false, err
	}
	if len(rest) > 0 {
		return "", changes, false, fmt.Errorf("want %s; the last argument must be an options map", usage)
	}
	id, err := stringArg(args[0], "identity")
	if err != nil {
		return "", changes, false, err
	}
	if withProps {
		if changes, err = policyChanges(args[1]); err != nil {
			return "", changes, false, err
		}
	}
	if err := sh.authorize(env.Context(), name); err != nil {
		return "", changes, false, err
	}
	proceed, err := sh.confirmOne(env, name, id, opts)
	return id, changes, proceed, err
}

func (sh *Shell) newPinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	id, changes, proceed, err := sh.policyCall(env, "new_pin_policy", args, true)
	if err != nil || !proceed {
		return tengo.UndefinedValue, err
	}
	p, err := sh.cfg.Store.NewPolicy(env.Context(), sh.op(), id, changes)
	if err != nil {
		return nil, err
	}
	return policyRecord(p), nil
}

func (sh *Shell) setPinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	id, changes, proceed, err := sh.policyCall(env, "set_pin_policy", args, true)
	if err != nil || !proceed {
		return tengo.UndefinedValue, err
	}
	p, err := sh.cfg.Store.SetPolicy(env.Context(), sh.op(), id, changes)
	if err != nil {
		return nil, err
	}
	return policyRecord(p), nil
}

func (sh *Shell) removePinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	id, _, proceed, err := sh.policyCall(env, "remove_pin_policy", args, false)
	if err != nil || !proceed {
		return tengo.UndefinedValue, err
	}
	return tengo.UndefinedValue, sh.cfg.Store.RemovePolicy(env.Context(), sh.op(), id)
}

func (sh *Shell) grantPinPolicy(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions("grant_pin_policy", args, mutationOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, errors.New("want grant_pin_policy(target, name[, opts]); name undefined takes the policy away")
	}
	var name string
	switch v := rest[0].(type) {
	case *tengo.Undefined:
	case *tengo.String:
		name = v.Value
	default:
		return nil, fmt.Errorf("name must be a string or undefined, not %s", v.TypeName())
	}
	if err := sh.authorize(env.Context(), "grant_pin_policy"); err != nil {
		return nil, err
	}
	if id, _, err := store.ParsePolicyIdentity(name); err == nil && !strings.HasPrefix(id, "tag:") {
		return nil, fmt.Errorf("%q is not a per-user policy: grant_pin_policy grants tag: policies; global and site policies apply by themselves", name)
	}
	if name != "" {
		if _, err := sh.cfg.Store.Policy(env.Context(), store.TagPolicyKey(name)); err != nil {
			return nil, fmt.Errorf("policy %q: no such per-user policy; create it with new_pin_policy(\"tag:NAME\", {...})", name)
		}
	}
	return sh.mutate(env, in, "grant_pin_policy", opts, func(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
		results, err := sh.cfg.Store.GrantPolicy(ctx, op, ids, name)
		for i, r := range results {
			// Granting what a user already has is a no-op, as in Lync:
			// counted as skipped, not shown as an error.
			if r.Outcome == store.Skipped && errors.Is(r.Err, store.ErrDuplicate) {
				results[i].Err = nil
			}
		}
		return results, err
	})
}
