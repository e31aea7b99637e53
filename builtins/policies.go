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

func (sh *Shell) policyBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "get_pin_policy", Kind: lang.Source,
			Cmdlets:    []string{"Get-CsPinPolicy"},
			PowerShell: `Get-CsPinPolicy -Identity site:Redmond -> get_pin_policy("site:Redmond")`,
			Sig:        "get_pin_policy([identity | {filter}])",
			Doc: `Get-CsPinPolicy: every PIN policy as a stream (global first), or the one
named: "global", "site:NAME", or a per-user policy as "tag:NAME" or just
"NAME", as in the Lync examples. {filter: PATTERN} gives the policies
whose identity matches PATTERN, where * matches anything and case does not
matter, as -Filter does ("tag:*": every per-user policy; "site:S*").
Fields: identity, min_password_length (4-24, default 5),
pin_history_count (0-20, default 0), pin_lifetime (days, 0-999, 0 = never
expires), allow_common_patterns (default false), maximum_logon_attempts
(1-999, or undefined: limits follow the PIN length), description. A user's
PIN follows its per-user (tag) policy, else its site's, else the global
one.`,
			Examples: []lang.Example{
				{Code: `get_pin_policy("global").min_password_length`, Output: "5\n"},
				{Code: `get_pin_policy("Expire30").identity`, Output: "tag:Expire30\n"},
				{Code: `get_pin_policy({filter: "tag:*"}) | count`, Output: "1\n"},
				{Code: `get_pin_policy | where({allow_common_patterns: false}) | count`, Output: "3\n"},
			},
			Call: sh.getPinPolicy,
		},
		{
			Name: "new_pin_policy", Kind: lang.Func,
			Cmdlets:    []string{"New-CsPinPolicy"},
			PowerShell: `New-CsPinPolicy -Identity X -MinPasswordLength 6 -> new_pin_policy("X", {min_password_length: 6})`,
			Sig:        "new_pin_policy(identity[, props][, opts])",
			Doc: `New-CsPinPolicy: create a site ("site:NAME") or per-user ("tag:NAME", or
just "NAME") policy with the defaults changed by props, a map of policy
fields, and return it. A pin_lifetime above 0 needs a pin_history_count
above 0. props may be a policy made a map with to_map, without its
identity or with this one. opts: {whatif, confirm, force, error_action};
a policy that already exists is a per-item error.`,
			Examples: []lang.Example{
				{Code: `new_pin_policy("tag:Secure", {min_password_length: 8, pin_history_count: 5, pin_lifetime: 90}).pin_lifetime`, Output: "90\n"},
				{Code: `new_pin_policy("RedmondUsersPinPolicy", {min_password_length: 10}).identity`, Output: "tag:RedmondUsersPinPolicy\n"},
			},
			Call: sh.newPinPolicy,
		},
		{
			Name: "set_pin_policy", Kind: lang.Stage, Targets: true, Bind: sh.policyBind("set_pin_policy", true),
			Cmdlets:    []string{"Set-CsPinPolicy"},
			PowerShell: `Set-CsPinPolicy -Identity X -PinLifetime 60 -> set_pin_policy("X", {pin_lifetime: 60})`,
			Sig:        "set_pin_policy(identity, props[, opts]) | set_pin_policy([props][, opts])",
			Doc: `Set-CsPinPolicy: change the fields props gives (a map of policy fields) in
each target policy: an identity, as get_pin_policy takes it, or policy
records piped in. Returns the changed policy (a stream of them for a stream
of targets). Setting maximum_logon_attempts or description to undefined
unsets it. A policy made a map with to_map may be changed and given back
as props: its identity must be the target's, unchanged fields are
accepted. Without props, each target is a policy map whose fields are
written: set_pin_policy(p) (Set-CsPinPolicy -Instance). The expiry of PINs
already set does not change; it is fixed when a PIN is set.
opts: {whatif, confirm, force, error_action}.`,
			Examples: []lang.Example{
				{Code: `set_pin_policy("global", {min_password_length: 6}).min_password_length`, Output: "6\n"},
				{Code: `p := to_map(get_pin_policy("global")); p.pin_history_count = 3; set_pin_policy("global", p).pin_history_count`, Output: "3\n"},
				{Code: `get_pin_policy() | where({allow_common_patterns: false}) | set_pin_policy({maximum_logon_attempts: 25}) | count`, Output: "3\n"},
			},
			Run: sh.setPinPolicy,
		},
		{
			Name: "remove_pin_policy", Kind: lang.Sink, Targets: true, Bind: sh.policyBind("remove_pin_policy", false),
			Cmdlets:    []string{"Remove-CsPinPolicy"},
			PowerShell: `Remove-CsPinPolicy -Identity X -> remove_pin_policy("X")`,
			Sig:        "remove_pin_policy(identity[, opts]) | remove_pin_policy([opts])",
			Doc: `Remove-CsPinPolicy: remove each target site or per-user policy (an
identity, as get_pin_policy takes it, or policy records piped in); its
users fall back to the next scope up: site, then global. Removing "global"
resets it to the defaults. Returns a summary.
opts: {whatif, confirm, force, error_action}.`,
			Examples: []lang.Example{
				{Code: `remove_pin_policy("Expire30").changed`, Output: "1\n"},
				{Code: `get_pin_policy({filter: "site:*"}) | remove_pin_policy({whatif: true})`, Output: "What if: Performing the operation \"remove_pin_policy\" on target \"site:Redmond\".\naction: remove_pin_policy  changed: 1  skipped: 0  failed: 0  whatif: true\n"},
			},
			Run: sh.removePinPolicy,
		},
		{
			Name: "grant_pin_policy", Kind: lang.Sink, Targets: true,
			Cmdlets:    []string{"Grant-CsPinPolicy"},
			PowerShell: `Grant-CsPinPolicy -Identity U -PolicyName P -> grant_pin_policy("U", "P"); -PolicyName $null -> grant_pin_policy("U", undefined)`,
			MinArgs:    1, WrittenUndefined: true, Bind: digitsBind("grant_pin_policy", 1), Options: mutationOptionKeys,
			Sig: "grant_pin_policy(target, name[, opts]) | grant_pin_policy(name[, opts])",
			Doc: `Grant-CsPinPolicy: give each target user the per-user policy name
("tag:NAME" or "NAME"). undefined, written literally in the call, takes it
away (as -PolicyName $Null), so the user follows its site or the global
policy again; an undefined name read from a variable or map field (a
misspelling: cfg.polcy) is refused, as are "" and wildcards. Returns a
summary. opts: {whatif, confirm, force, error_action}; the options map
never changes how the call reads: grant_pin_policy("X", {whatif: true})
rehearses grant_pin_policy("X").`,
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
		var d string
		switch v := v.(type) {
		case *tengo.String:
			d = v.Value
		case *tengo.Undefined: // clears it, as for maximum_logon_attempts
		default:
			return fmt.Errorf("must be a string, or undefined to clear it, not %s", v.TypeName())
		}
		c.Description = &d
		return nil
	},
}

func intProp(set func(*store.PolicyChanges, int)) func(*store.PolicyChanges, tengo.Object) error {
	return func(c *store.PolicyChanges, v tengo.Object) error {
		n, ok := v.(*tengo.Int)
		if !ok {
			return fmt.Errorf("must be a whole number, not %s (only maximum_logon_attempts and description can be unset)", v.TypeName())
		}
		set(c, int(n.Value))
		return nil
	}
}

// policyPropKeys are the keys a props map may have: the policy fields and
// identity, so that a policy made a map with to_map can be given back.
var policyPropKeys = append(slices.Sorted(maps.Keys(policyFieldSetters)), "identity")

// policyChanges reads a props map, checking each field's type and range.
// identity is its "identity" key, "" when it has none; the caller checks
// it names the target.
func policyChanges(m map[string]tengo.Object) (c store.PolicyChanges, identity string, err error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k == "identity" {
			if identity, err = stringArg(m[k], "identity in props"); err != nil {
				return c, "", err
			}
			continue
		}
		set, ok := policyFieldSetters[k]
		if !ok {
			if slices.Contains(mutationOptionKeys, k) {
				return c, "", fmt.Errorf("%s is an option, not a policy field: give the options in a map of their own after props, such as (props, {%s: ...})", k, k)
			}
			if opt := lang.Suggest(k, mutationOptionKeys); len(opt) > 0 && len(lang.Suggest(k, policyPropKeys)) == 0 {
				return c, "", fmt.Errorf("unknown policy field %s; did you mean the option %s? options go in a map of their own after props", cut.Quote(k), opt[0])
			}
			return c, "", fmt.Errorf("unknown policy field %s; %s", cut.Quote(k), lang.Hint(k, policyPropKeys, "fields are"))
		}
		if err := set(&c, m[k]); err != nil {
			return c, "", fmt.Errorf("%s %w", k, err)
		}
	}
	return c, identity, c.Check()
}

func stringArg(o tengo.Object, what string) (string, error) {
	s, ok := o.(*tengo.String)
	if !ok {
		return "", fmt.Errorf("%s must be a string, not %s", what, o.TypeName())
	}
	return s.Value, nil
}

// policyBind is the lang.Builtin.Bind of a policy stage: its bound
// arguments are its props and options, checked where the call is written
// as Run checks them (set_pin_policy({foo: 1}), remove_pin_policy(12345)).
func (sh *Shell) policyBind(name string, withProps bool) func(args []tengo.Object) error {
	return func(args []tengo.Object) error {
		props, _, err := sh.policyArgs(name, args, withProps)
		if err == nil && props != nil {
			_, _, err = policyChanges(props)
		}
		return err
	}
}

// policyArgs reads the arguments of a policy builtin after its targets:
// ([props][, opts]) when withProps, else ([opts]). One map is props unless
// every key of it is an option, so that set_pin_policy(p, {whatif: true})
// (p a policy map, written back) takes the map as options; props and
// options are never mixed in one map. props is nil when none was given.
func (sh *Shell) policyArgs(name string, args []tengo.Object, withProps bool) (props map[string]tengo.Object, opts options, err error) {
	usage := name + "([opts])"
	if withProps {
		usage = name + "([props][, opts])"
	}
	ms := make([]map[string]tengo.Object, len(args))
	for i, a := range args {
		m, ok := mapValue(a)
		if !ok {
			what := "options map"
			if withProps && i == 0 {
				what = "props map of policy fields"
			}
			return nil, opts, fmt.Errorf("want %s: argument %d must be %s %s, not %s", usage, i+1, article(what), what, a.TypeName())
		}
		ms[i] = m
	}
	var om map[string]tengo.Object
	switch {
	case len(ms) > 2 || (len(ms) == 2 && !withProps):
		return nil, opts, fmt.Errorf("want %s, got %d arguments", usage, len(args))
	case len(ms) == 2:
		props, om = ms[0], ms[1]
	case len(ms) == 1 && (!withProps || onlyOptions(ms[0])):
		om = ms[0]
	case len(ms) == 1:
		props = ms[0]
	}
	if opts, err = parseOptions(name, om, mutationOptionKeys...); err != nil {
		return nil, opts, err
	}
	opts.whatIf = opts.whatIf || sh.cfg.WhatIf
	return props, opts, nil
}

// onlyOptions reports whether m is not empty and has only option keys.
func onlyOptions(m map[string]tengo.Object) bool {
	for k := range m {
		if !slices.Contains(mutationOptionKeys, k) {
			return false
		}
	}
	return len(m) > 0
}

// policyIdentity returns the canonical identity of a policy target: an
// identity string, a pin_policy record or a map with an identity.
func policyIdentity(item tengo.Object) (string, error) {
	if r, ok := item.(*lang.Record); ok && r.Schema() != policySchema {
		return "", fmt.Errorf("a %s record is not a PIN policy; pipe get_pin_policy() records or policy identities", r.TypeName())
	}
	id, ok := identityOf(item)
	if !ok {
		return "", fmt.Errorf("not a policy: want an identity string, a pin_policy record or a map with an identity, got %s", item.TypeName())
	}
	canon, _, err := store.ParsePolicyIdentity(id)
	return canon, err
}

// samePolicy reports whether two identities name the same policy.
func samePolicy(a, b string) bool {
	_, ka, errA := store.ParsePolicyIdentity(a)
	_, kb, errB := store.ParsePolicyIdentity(b)
	return errA == nil && errB == nil && ka == kb
}

// policyNotFound adds to the error of a missing policy the identity of the
// other scope's policy of the same name, which the admin may have meant:
// "Redmond" is the per-user policy tag:Redmond, never the site's.
func (sh *Shell) policyNotFound(ctx context.Context, canon string, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	scope, name, _ := strings.Cut(canon, ":")
	other := map[string]string{"tag": "site:", "site": "tag:"}[scope]
	if other == "" {
		return err
	}
	if p, e := sh.cfg.Store.Policy(ctx, other+name); e == nil {
		return fmt.Errorf("%w; did you mean %s? (a name without a scope is a per-user policy, tag:NAME)", err, p.Identity)
	}
	return err
}

func (sh *Shell) getPinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	ctx := env.Context()
	if len(args) > 1 {
		return nil, errors.New("want get_pin_policy(), get_pin_policy(identity) or get_pin_policy({filter: PATTERN})")
	}
	var filter *string
	if len(args) == 1 {
		if m, ok := mapValue(args[0]); ok {
			if len(m) == 0 {
				return nil, errors.New("an empty map selects every policy; call get_pin_policy() to mean all")
			}
			for _, k := range slices.Sorted(maps.Keys(m)) {
				if k != "filter" {
					hint := ""
					switch {
					case k == "identity":
						hint = "give one policy's identity as a string, get_pin_policy(\"global\"); "
					case lang.Suggest(k, []string{"filter"}) != nil:
						hint = "did you mean filter? "
					}
					return nil, fmt.Errorf("unknown key %s; %sget_pin_policy takes {filter: PATTERN}, a wildcard on identity such as \"tag:*\"", cut.Quote(k), hint)
				}
				f, err := stringArg(m[k], "filter")
				if err != nil {
					return nil, fmt.Errorf("%w; it is a wildcard on identity such as \"tag:*\" (to select on other fields, pipe into where)", err)
				}
				if strings.TrimSpace(f) == "" {
					return nil, errors.New(`filter is empty; "*" matches every policy`)
				}
				filter = &f
			}
		} else {
			id, err := stringArg(args[0], "identity")
			if err != nil {
				return nil, fmt.Errorf("%w, or a map {filter: PATTERN}", err)
			}
			canon, _, err := store.ParsePolicyIdentity(id)
			if err != nil {
				return nil, err
			}
			if err := sh.authorizeOn(ctx, "get_pin_policy", canon); err != nil {
				return nil, err
			}
			p, err := sh.cfg.Store.Policy(ctx, canon)
			if err != nil {
				return nil, sh.policyNotFound(ctx, canon, err)
			}
			return policyRecord(p), nil
		}
	}
	if err := sh.authorize(ctx, "get_pin_policy"); err != nil {
		return nil, err
	}
	ps, err := sh.cfg.Store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]tengo.Object, 0, len(ps))
	for _, p := range ps {
		if filter == nil || store.MatchPolicyFilter(*filter, p.Identity) {
			items = append(items, policyRecord(p))
		}
	}
	return env.Items(items), nil
}

func (sh *Shell) newPinPolicy(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	const name = "new_pin_policy"
	if len(args) == 0 {
		return nil, errors.New("want new_pin_policy(identity[, props][, opts])")
	}
	id, err := stringArg(args[0], "identity")
	if err != nil {
		return nil, err
	}
	props, opts, err := sh.policyArgs(name, args[1:], true)
	if err != nil {
		return nil, err
	}
	canon, _, err := store.ParsePolicyIdentity(id)
	if err != nil {
		return nil, err
	}
	changes, propsID, err := policyChanges(props)
	if err != nil {
		return nil, err
	}
	if propsID != "" && !samePolicy(propsID, canon) {
		return nil, fmt.Errorf("props name policy %s, not %s; to copy a policy, delete(props, \"identity\") first", cut.Quote(propsID), canon)
	}
	if err := sh.authorizeOn(env.Context(), name, canon); err != nil {
		return nil, err
	}
	return sh.actOne(env, name, canon, opts, func(ctx context.Context) (tengo.Object, error) {
		p, err := sh.cfg.Store.NewPolicy(ctx, sh.op(), canon, changes)
		if err != nil {
			return nil, err
		}
		return policyRecord(p), nil
	})
}

// policyWalk runs a policy builtin over its targets: each item of in names
// a policy (policyIdentity); plan checks what to do to it and returns the
// action, before whatif describes it or confirm asks (Yes to All and No to
// All hold for the rest of the call); then the action runs. An item that
// names no policy, and a failure of an action on one policy (see
// itemFailures), is a per-item error; any other error ends the walk.
func (sh *Shell) policyWalk(env *lang.Env, in *lang.Stream, name string, opts options,
	plan func(canon string, item tengo.Object) (func(ctx context.Context) error, error)) (summary, error) {
	ctx := env.Context()
	sum := summary{action: name, whatIf: opts.whatIf}
	rep := sh.reporter(env, name, opts)
	conf := confirmer{prompter: sh.cfg.Prompter}
	fail := func(target string, err error) error {
		sum.failed++
		return rep.report(targetError(target, err))
	}
	for {
		item, ok, err := in.Next(ctx)
		if err != nil || !ok {
			return sum, err
		}
		canon, err := policyIdentity(item)
		if err != nil {
			if err := fail(describeItem(item), err); err != nil {
				return sum, err
			}
			continue
		}
		act, err := plan(canon, item)
		if err != nil {
			return sum, err
		}
		switch {
		case opts.whatIf:
			fmt.Fprintln(env.Stdout(), WhatIfText(name, canon))
			sum.changed++
			continue
		case opts.confirm:
			ok, err := conf.ok(name, canon)
			if err != nil {
				return sum, err
			}
			if !ok {
				sum.skipped++
				continue
			}
		}
		if err := act(ctx); err != nil {
			if !isItemFailure(err) {
				return sum, err
			}
			if err := fail(canon, sh.policyNotFound(ctx, canon, err)); err != nil {
				return sum, err
			}
			continue
		}
		sum.changed++
	}
}

func (sh *Shell) setPinPolicy(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	const name = "set_pin_policy"
	props, opts, err := sh.policyArgs(name, args, true)
	if err != nil {
		return nil, err
	}
	var changes store.PolicyChanges
	var propsID string
	if props != nil {
		if changes, propsID, err = policyChanges(props); err != nil {
			return nil, err
		}
	}
	if err := sh.authorizeInput(env.Context(), name, in); err != nil {
		return nil, err
	}
	var out []tengo.Object
	_, err = sh.policyWalk(env, in, name, opts, func(canon string, item tengo.Object) (func(context.Context) error, error) {
		c, id := changes, propsID
		if props == nil { // the target carries the fields: -Instance
			m, err := instanceFields(item)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", canon, err)
			}
			if c, id, err = policyChanges(m); err != nil {
				return nil, fmt.Errorf("%s: %w", canon, err)
			}
		}
		if id != "" && !samePolicy(id, canon) {
			return nil, fmt.Errorf("props name policy %s, but the target is %s; give the props of the policy you change", cut.Quote(id), canon)
		}
		return func(ctx context.Context) error {
			p, err := sh.cfg.Store.SetPolicy(ctx, sh.op(), canon, c)
			if err == nil {
				out = append(out, policyRecord(p))
			}
			return err
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return env.Items(out), nil
}

// instanceFields returns the fields of a policy given as the target of
// set_pin_policy without props (Set-CsPinPolicy -Instance): a map, such as
// to_map(policy) changed. A policy record is refused: read-only, it could
// only write back what was read (undoing changes made since), which is
// never what a call that forgot its props meant.
func instanceFields(item tengo.Object) (map[string]tengo.Object, error) {
	if m, ok := mapValue(item); ok {
		return m, nil
	}
	if _, ok := item.(*lang.Record); ok {
		return nil, errors.New("want set_pin_policy(props[, opts]): props is missing; " +
			"a policy record can only be written back as it was read (to change one, give the fields, or change to_map(record) and give that)")
	}
	return nil, errors.New("want set_pin_policy(identity, props[, opts]): props is missing")
}

func (sh *Shell) removePinPolicy(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	const name = "remove_pin_policy"
	_, opts, err := sh.policyArgs(name, args, false)
	if err != nil {
		return nil, err
	}
	if err := sh.authorizeInput(env.Context(), name, in); err != nil {
		return nil, err
	}
	sum, err := sh.policyWalk(env, in, name, opts, func(canon string, _ tengo.Object) (func(context.Context) error, error) {
		return func(ctx context.Context) error { return sh.cfg.Store.RemovePolicy(ctx, sh.op(), canon) }, nil
	})
	if err != nil {
		return nil, err
	}
	return sum.record(), nil
}

// grantPolicyName reads the policy name argument of grant_pin_policy: "" for
// a literal undefined (take the policy away). An undefined read from a
// variable or field, an empty name and a wildcard are refused: none may
// reach every user by accident.
func grantPolicyName(v tengo.Object) (string, error) {
	switch v := v.(type) {
	case *tengo.String:
		switch name := strings.TrimSpace(v.Value); {
		case name == "":
			return "", errors.New(`the policy name is empty; give a per-user policy name such as "tag:Expire30"`)
		case strings.ContainsAny(name, "*?"):
			return "", fmt.Errorf("policy name %s: a policy name takes no wildcard; grant one policy, e.g. \"tag:Expire30\"", cut.Quote(v.Value))
		}
		return v.Value, nil
	case *tengo.Undefined:
		return "", errors.New("the policy name is undefined (a misspelt variable or field?); " +
			"to take the policy away write grant_pin_policy(target, undefined) literally")
	}
	if v == lang.WrittenUndefinedValue {
		return "", nil
	}
	return "", fmt.Errorf("the policy name must be a string, or undefined written literally, not %s", v.TypeName())
}

func (sh *Shell) grantPinPolicy(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions("grant_pin_policy", args, mutationOptionKeys...)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, errors.New("want grant_pin_policy(target, name[, opts]) or target | grant_pin_policy(name[, opts])")
	}
	name, err := grantPolicyName(rest[0])
	if err != nil {
		return nil, err
	}
	if err := sh.authorizeInput(env.Context(), "grant_pin_policy", in); err != nil {
		return nil, err
	}
	if name != "" {
		// The name reads as every policy identity does, so that a misspelt
		// scope ("stie:Redmond") is refused rather than looked up as a tag.
		canon, _, err := store.ParsePolicyIdentity(name)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(canon, "tag:") {
			return nil, fmt.Errorf("%s is not a per-user policy: grant_pin_policy grants tag: policies; global and site policies apply by themselves", cut.Quote(name))
		}
		if _, err := sh.cfg.Store.Policy(env.Context(), canon); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			return nil, fmt.Errorf("policy %s: no such per-user policy; create it with new_pin_policy(%s, {...})", cut.Quote(name), cut.Quote(name))
		}
	}
	return sh.mutate(env, in, "grant_pin_policy", opts, func(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
		var ch store.Changes
		if l, ok := sh.cfg.Store.(store.LeanChanger); ok {
			ch, err = l.GrantPolicyLean(ctx, op, ids, name)
		} else {
			ch, err = store.Lean(sh.cfg.Store.GrantPolicy(ctx, op, ids, name))
		}
		for i, r := range ch.Others {
			// Granting what a user already has is a no-op, as in Lync:
			// counted as skipped, not shown as an error.
			if r.Outcome == store.Skipped && errors.Is(r.Err, store.ErrDuplicate) {
				ch.Others[i].Err = nil
			}
		}
		return ch, err
	})
}
