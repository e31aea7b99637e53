package pslang

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pinsh/pinsh/lang"
)

// A cmdlet's parameters: their names as PowerShell spells them, which are
// switches, which bind by position, and which are refused with a reason.
type spec struct {
	params     []string
	switches   []string
	positional []string
	common     bool              // -WhatIf -Confirm -Force -ErrorAction
	refused    map[string]string // lower-case name -> what to do instead
}

// bound is a command's arguments bound to its parameters.
type bound struct {
	c    *Command
	vals map[string]Expr // canonical name -> value; a switch without value is nil
}

func (b *bound) has(p string) bool { _, ok := b.vals[p]; return ok }

var commonParams = []string{"WhatIf", "Confirm", "Force", "ErrorAction"}

var commonAliases = map[string]string{"wi": "WhatIf", "cf": "Confirm", "ea": "ErrorAction"}

// bind binds c's arguments to sp's parameters as PowerShell does: names
// ignore case and may be cut to an unambiguous prefix; a switch takes a
// value only after a colon; other values fill the positional parameters.
func (x *tr) bind(c *Command, sp spec) (*bound, error) {
	names := append([]string{}, sp.params...)
	switches := map[string]bool{}
	for _, s := range sp.switches {
		switches[s] = true
		names = append(names, s)
	}
	if sp.common {
		names = append(names, commonParams...)
		switches["WhatIf"], switches["Confirm"], switches["Force"] = true, true, true
	}
	b := &bound{c: c, vals: map[string]Expr{}}
	next := 0
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a.Param == "" {
			for next < len(sp.positional) && b.has(sp.positional[next]) {
				next++
			}
			if next >= len(sp.positional) {
				return nil, x.errf(a.Pos, "%s takes no more values by position; name the parameter of %s (%s)", c.Name, psText(a.Value), paramList(names))
			}
			b.vals[sp.positional[next]] = a.Value
			next++
			continue
		}
		p, err := x.resolve(c, a, names, sp)
		if err != nil {
			return nil, err
		}
		if b.has(p) {
			return nil, x.errf(a.Pos, "-%s is given twice; keep one", p)
		}
		switch {
		case a.Colon:
			b.vals[p] = a.Value
		case switches[p]:
			b.vals[p] = nil
		default:
			if i+1 >= len(c.Args) || c.Args[i+1].Param != "" {
				return nil, x.errf(a.Pos, "-%s needs a value: -%s VALUE", p, p)
			}
			i++
			b.vals[p] = c.Args[i].Value
		}
	}
	return b, nil
}

func paramList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "-" + n
	}
	return strings.Join(out, " ")
}

func (x *tr) resolve(c *Command, a Arg, names []string, sp spec) (string, error) {
	lower := strings.ToLower(a.Param)
	if why, ok := sp.refused[lower]; ok {
		return "", x.errf(a.Pos, "-%s of %s is not in pinsh: %s", a.Param, c.Name, why)
	}
	if sp.common {
		if full, ok := commonAliases[lower]; ok {
			return full, nil
		}
	}
	var match []string
	for _, n := range names {
		ln := strings.ToLower(n)
		if ln == lower {
			return n, nil
		}
		if strings.HasPrefix(ln, lower) {
			match = append(match, n)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	if len(match) > 1 {
		return "", x.errf(a.Pos, "-%s is ambiguous for %s: it could be %s; write more of the name", a.Param, c.Name, paramList(match))
	}
	switch lower {
	case "verbose", "debug", "warningaction", "informationaction", "errorvariable", "warningvariable",
		"informationvariable", "outvariable", "outbuffer", "pipelinevariable":
		return "", x.errf(a.Pos, "the common parameter -%s is not in pinsh; of the common parameters pinsh takes -WhatIf, -Confirm, -Force and -ErrorAction", a.Param)
	}
	hint := ""
	if s := lang.Suggest(a.Param, names); len(s) > 0 {
		hint = "; did you mean -" + s[0] + "?"
	}
	return "", x.errf(a.Pos, "%s has no parameter -%s%s (its parameters: %s)", c.Name, a.Param, hint, paramList(names))
}

// str translates a parameter value.
func (x *tr) str(e Expr) (string, error) { return x.expr(e) }

// digits translates a -Pin value: a number as written is the string of its
// digits, so that a leading zero is never lost.
func (x *tr) digits(e Expr) (string, error) {
	if n, ok := e.(*Number); ok {
		return strconv.Quote(n.Text), nil
	}
	return x.expr(e)
}

// switchValue translates a switch: true when given bare, else its value;
// ok is false for a literal $false, which leaves the option out.
func (x *tr) switchValue(e Expr) (string, bool, error) {
	if e == nil {
		return "true", true, nil
	}
	if v, isVar := e.(*Var); isVar && strings.EqualFold(v.Name, "false") {
		return "", false, nil
	}
	s, err := x.expr(e)
	return s, true, err
}

// options builds the options map of the common parameters, or "".
func (x *tr) options(b *bound, extra ...string) (string, error) {
	kv := append([]string{}, extra...)
	for _, p := range []struct{ ps, key string }{{"WhatIf", "whatif"}, {"Confirm", "confirm"}, {"Force", "force"}} {
		if !b.has(p.ps) {
			continue
		}
		v, ok, err := x.switchValue(b.vals[p.ps])
		if err != nil {
			return "", err
		}
		if ok {
			kv = append(kv, p.key+": "+v)
		}
	}
	if b.has("ErrorAction") {
		v, err := x.errorAction(b.vals["ErrorAction"])
		if err != nil {
			return "", err
		}
		kv = append(kv, "error_action: "+v)
	}
	if len(kv) == 0 {
		return "", nil
	}
	return "{" + strings.Join(kv, ", ") + "}", nil
}

func (x *tr) errorAction(e Expr) (string, error) {
	s, ok := e.(*StringLit)
	if !ok {
		return "", x.errf(e.At(), "-ErrorAction takes Stop, Continue, SilentlyContinue or Ignore, written out")
	}
	switch strings.ToLower(s.Value) {
	case "stop":
		return `"stop"`, nil
	case "continue":
		return `"continue"`, nil
	case "silentlycontinue":
		return `"silently_continue"`, nil
	case "ignore":
		return `"ignore"`, nil
	}
	return "", x.errf(e.At(), "-ErrorAction %s is not in pinsh; use Stop, Continue, SilentlyContinue or Ignore", s.Value)
}

// call writes name(args...) leaving out empty arguments.
func call(name string, args ...string) string {
	var a []string
	for _, s := range args {
		if s != "" {
			a = append(a, s)
		}
	}
	return name + "(" + strings.Join(a, ", ") + ")"
}

// stageCall is a stage: the bare name without arguments, else a call.
func stageCall(name string, args ...string) string {
	c := call(name, args...)
	if c == name+"()" {
		return name
	}
	return c
}

// domain cmdlets: those a builtin stands for (lang.Builtin.Cmdlets), with
// the parameters PowerShell gives them.
type domainCmdlet struct {
	spec
	// source translates the command at the head of a pipeline, stage after |.
	source func(x *tr, b *bound, name string) (string, error)
	stage  func(x *tr, b *bound, name string) (string, error)
}

var policyProps = []struct{ ps, field string }{
	{"MinPasswordLength", "min_password_length"}, {"PINHistoryCount", "pin_history_count"},
	{"PINLifetime", "pin_lifetime"}, {"MaximumLogonAttempts", "maximum_logon_attempts"},
	{"AllowCommonPatterns", "allow_common_patterns"}, {"Description", "description"},
}

func policyParamNames() []string {
	var out []string
	for _, p := range policyProps {
		out = append(out, p.ps)
	}
	return out
}

// props builds the map of the policy properties given.
func (x *tr) props(b *bound, identity string) (string, error) {
	var kv []string
	if identity != "" {
		kv = append(kv, "identity: "+identity)
	}
	for _, p := range policyProps {
		if !b.has(p.ps) {
			continue
		}
		v, err := x.expr(b.vals[p.ps])
		if err != nil {
			return "", err
		}
		kv = append(kv, p.field+": "+v)
	}
	if len(kv) == 0 {
		return "", nil
	}
	return "{" + strings.Join(kv, ", ") + "}", nil
}

var tenant = map[string]string{"tenant": "pinsh has one directory, no tenants", "localstore": "pinsh reads its one database"}

func identityOnly(refused map[string]string) spec {
	return spec{params: []string{"Identity"}, positional: []string{"Identity"}, common: true, refused: refused}
}

// identity translates a cmdlet's -Identity, which it needs: without one,
// the error says so, followed by missing (what else would do).
func (x *tr) identity(b *bound, missing string) (string, error) {
	if !b.has("Identity") {
		return "", x.errf(b.c.Pos, "%s needs -Identity%s", b.c.Name, missing)
	}
	return x.str(b.vals["Identity"])
}

// pin translates an optional -Pin: its digits, or "" (generate one).
func (x *tr) pin(b *bound) (string, error) {
	if !b.has("Pin") {
		return "", nil
	}
	return x.digits(b.vals["Pin"])
}

// targetCmdlet is Lock-CsClientPin and its kind: -Identity, or targets
// (what: users, policies) from the pipeline, and the common parameters.
func targetCmdlet(what string, refused map[string]string) domainCmdlet {
	return domainCmdlet{
		spec: identityOnly(refused),
		source: func(x *tr, b *bound, name string) (string, error) {
			id, err := x.identity(b, ", or "+what+" piped into it")
			if err != nil {
				return "", err
			}
			o, err := x.options(b)
			return call(name, id, o), err
		},
		stage: func(x *tr, b *bound, name string) (string, error) {
			o, err := x.options(b)
			return stageCall(name, o), err
		},
	}
}

// The cmdlet tables (domain, generic, genericNames) are made on first use,
// not when pinsh starts: a Tengo script, which most runs are, never needs
// them. They cannot be package variables' initializers: their
// translations refer back to them.
var (
	cmdletsOnce sync.Once
	domain      map[string]domainCmdlet
)

// cmdletTables makes the cmdlet tables unless they are made.
func cmdletTables() {
	cmdletsOnce.Do(func() {
		domain = domainCmdlets()
		generic, genericNames = genericCmdlets()
	})
}

func domainCmdlets() map[string]domainCmdlet {
	return map[string]domainCmdlet{
		"get_users": {
			spec: spec{params: []string{"Identity", "OU", "Filter", "LdapFilter", "ResultSize"}, switches: []string{"UnassignedUser"},
				positional: []string{"Identity"}, refused: map[string]string{
					"domaincontroller": "pinsh reads its own directory", "credential": "pinsh runs as the operator of --as",
					"onofficecommunicationserver": "every pinsh user is on one server", "onlyncserver": "every pinsh user is on one server",
					"onmodernserver": "every pinsh user is on one server",
				}},
			source: func(x *tr, b *bound, name string) (string, error) {
				var kv []string
				add := func(key, p string) error {
					if !b.has(p) {
						return nil
					}
					v, err := x.str(b.vals[p])
					if err == nil {
						kv = append(kv, key+": "+v)
					}
					return err
				}
				if err := add("identity", "Identity"); err != nil {
					return "", err
				}
				if err := add("ou", "OU"); err != nil {
					return "", err
				}
				if err := add("result_size", "ResultSize"); err != nil {
					return "", err
				}
				if b.has("LdapFilter") {
					v, err := x.ldapFilter(b.vals["LdapFilter"])
					if err != nil {
						return "", err
					}
					kv = append(kv, "ldap_filter: "+v)
				}
				out := "get_users()"
				switch {
				case len(kv) == 1 && b.has("Identity"):
					out = call("get_users", strings.TrimPrefix(kv[0], "identity: "))
				case len(kv) > 0:
					out = "get_users({" + strings.Join(kv, ", ") + "})"
				}
				if b.has("UnassignedUser") {
					if v, ok, err := x.switchValue(b.vals["UnassignedUser"]); err != nil {
						return "", err
					} else if ok {
						if v != "true" {
							return "", x.errf(b.c.Pos, "-UnassignedUser takes no value but $true or $false")
						}
						out += " | where(func(u) { return !u.registrar_pool })"
					}
				}
				if b.has("Filter") {
					w, err := x.filter(b.vals["Filter"])
					if err != nil {
						return "", err
					}
					out += " | " + w
				}
				return out, nil
			},
		},
		"pin_info":   targetCmdlet("users", nil),
		"lock_pin":   targetCmdlet("users", nil),
		"unlock_pin": targetCmdlet("users", nil),
		"set_pin": {
			spec: spec{params: []string{"Identity", "Pin"}, positional: []string{"Identity", "Pin"}, common: true},
			source: func(x *tr, b *bound, name string) (string, error) {
				id, err := x.identity(b, ", or users piped into it")
				if err != nil {
					return "", err
				}
				pin, err := x.pin(b)
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				return call(name, id, pin, o), err
			},
			stage: func(x *tr, b *bound, name string) (string, error) {
				pin, err := x.pin(b)
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				return stageCall(name, pin, o), err
			},
		},
		"get_pin_policy": {
			spec: spec{params: []string{"Identity", "Filter"}, positional: []string{"Identity"}, refused: tenant},
			source: func(x *tr, b *bound, name string) (string, error) {
				if b.has("Filter") {
					f, err := x.str(b.vals["Filter"])
					return call(name, "{filter: "+f+"}"), err
				}
				if b.has("Identity") {
					id, err := x.str(b.vals["Identity"])
					return call(name, id), err
				}
				return name + "()", nil
			},
		},
		"new_pin_policy": {
			spec: spec{params: append([]string{"Identity"}, policyParamNames()...), switches: []string{"InMemory"},
				positional: []string{"Identity"}, common: true, refused: tenant},
			source: func(x *tr, b *bound, name string) (string, error) {
				id, err := x.identity(b, ": site:NAME or a per-user policy's name")
				if err != nil {
					return "", err
				}
				if b.has("InMemory") {
					p, err := x.props(b, id)
					return p, err
				}
				p, err := x.props(b, "")
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				if o != "" && p == "" {
					p = "{}"
				}
				return call(name, id, p, o), err
			},
		},
		"set_pin_policy": {
			spec: spec{params: append([]string{"Identity", "Instance"}, policyParamNames()...),
				positional: []string{"Identity"}, common: true, refused: tenant},
			source: func(x *tr, b *bound, name string) (string, error) {
				p, err := x.props(b, "")
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				if err != nil {
					return "", err
				}
				if b.has("Instance") {
					if b.has("Identity") {
						return "", x.errf(b.c.Pos, "give %s either -Identity or -Instance, not both", b.c.Name)
					}
					inst := b.vals["Instance"]
					v, err := x.expr(inst)
					if err != nil {
						return "", err
					}
					fn := name
					if iv, ok := inst.(*Var); ok && x.inMemory[x.varName(iv.Name)] {
						// Set-CsPinPolicy -Instance creates a policy made with
						// New-CsPinPolicy -InMemory.
						fn = "new_pin_policy"
					}
					props := v
					if p != "" {
						props = "ps_merge(" + v + ", " + p + ")"
					}
					return call(fn, v+".identity", props, o), nil
				}
				id := `"global"`
				if b.has("Identity") {
					if id, err = x.str(b.vals["Identity"]); err != nil {
						return "", err
					}
				}
				if p == "" {
					return "", x.errf(b.c.Pos, "%s changes nothing without a property to set (-MinPasswordLength, -PINLifetime, ...)", b.c.Name)
				}
				return call(name, id, p, o), nil
			},
			stage: func(x *tr, b *bound, name string) (string, error) {
				if b.has("Identity") || b.has("Instance") {
					return "", x.errf(b.c.Pos, "%s after | takes its policies from the pipeline; leave out -Identity and -Instance", b.c.Name)
				}
				p, err := x.props(b, "")
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				return stageCall(name, p, o), err
			},
		},
		"remove_pin_policy": targetCmdlet("policies", tenant),
		"grant_pin_policy": {
			spec: spec{params: []string{"Identity", "PolicyName"}, positional: []string{"Identity", "PolicyName"}, common: true,
				refused: map[string]string{"passthru": "pinsh's grant_pin_policy returns a summary; list the users after with Get-CsUser",
					"domaincontroller": "pinsh reads its own directory"}},
			source: func(x *tr, b *bound, name string) (string, error) {
				id, err := x.identity(b, ", or users piped into it")
				if err != nil {
					return "", err
				}
				pol, err := x.policyName(b)
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				return call(name, id, pol, o), err
			},
			stage: func(x *tr, b *bound, name string) (string, error) {
				if b.has("Identity") {
					return "", x.errf(b.c.Pos, "%s after | takes its users from the pipeline; leave out -Identity", b.c.Name)
				}
				pol, err := x.policyName(b)
				if err != nil {
					return "", err
				}
				o, err := x.options(b)
				return call(name, pol, o), err
			},
		},
		"help": {
			spec: spec{params: []string{"Name"}, positional: []string{"Name"}},
			source: func(x *tr, b *bound, name string) (string, error) {
				if !b.has("Name") {
					return "help()", nil
				}
				n, err := x.str(b.vals["Name"])
				return call(name, n), err
			},
		},
		"admin_roles": {
			spec: spec{params: []string{"Identity", "Filter"}, positional: []string{"Identity"},
				refused: map[string]string{"sid": "pinsh roles have no SID; name the role", "localstore": "pinsh reads its one database"}},
			source: func(x *tr, b *bound, name string) (string, error) {
				if b.has("Filter") {
					f, err := x.str(b.vals["Filter"])
					return name + "() | where(func(r) { return ps_op(r.identity, \"-like\", " + f + ") })", err
				}
				if b.has("Identity") {
					id, err := x.str(b.vals["Identity"])
					return call(name, id), err
				}
				return name + "()", nil
			},
		},
	}
}

// policyName is -PolicyName: a literal $Null takes the policy away and is
// written as undefined, which grant_pin_policy reads as meant.
func (x *tr) policyName(b *bound) (string, error) {
	if !b.has("PolicyName") {
		return "", x.errf(b.c.Pos, "%s needs -PolicyName (or -PolicyName $Null to take a per-user policy away)", b.c.Name)
	}
	return x.str(b.vals["PolicyName"])
}

// ldapFilter passes an LDAP filter on; Active Directory takes one without
// its outer parentheses ("Title=Manager", "&(A=1)(B=2)"), RFC 4515 does not,
// so they are added.
func (x *tr) ldapFilter(e Expr) (string, error) {
	if s, ok := e.(*StringLit); ok {
		f := strings.TrimSpace(s.Value)
		if !strings.HasPrefix(f, "(") {
			f = "(" + f + ")"
		}
		return strconv.Quote(f), nil
	}
	v, err := x.expr(e)
	return "ps_ldap(" + v + ")", err
}

// filter translates Get-CsUser's -Filter {Property -op value}.
func (x *tr) filter(e Expr) (string, error) {
	var cond Expr
	switch f := e.(type) {
	case *ScriptBlock:
		c, err := parseFilter(f)
		if err != nil {
			return "", err
		}
		cond = c
	case *StringLit:
		s, err := parseAt(f.Value, Pos{f.Pos.Line, f.Pos.Col + 1}, true)
		if err != nil {
			return "", err
		}
		if len(s.Stmts) != 1 {
			return "", x.errf(f.Pos, "a -Filter holds one condition, such as {PinPolicy -eq $Null}")
		}
		ps, ok := s.Stmts[0].(*PipelineStmt)
		if !ok || len(ps.P.Elems) != 1 {
			return "", x.errf(f.Pos, "a -Filter holds one condition, such as {PinPolicy -eq $Null}")
		}
		cond = ps.P.Elems[0].(Expr)
	default:
		return "", x.errf(e.At(), "-Filter takes a condition in braces: -Filter {PinPolicy -eq $Null}")
	}
	x.blocks++
	defer func() { x.blocks-- }()
	c, err := x.expr(cond)
	if err != nil {
		return "", err
	}
	return "where(func(psitem) { return " + c + " })", nil
}

// isInMemory reports whether c is New-CsPinPolicy -InMemory (a value, not
// a change).
func isInMemory(c *Command) bool {
	if !strings.EqualFold(c.Name, "New-CsPinPolicy") {
		return false
	}
	for _, a := range c.Args {
		if a.Param != "" && strings.HasPrefix("inmemory", strings.ToLower(a.Param)) && len(a.Param) >= 3 {
			return true
		}
	}
	return false
}

// isPlainValue reports whether c gives one value, not a stream (Get-Date).
func isPlainValue(c *Command) bool { return strings.EqualFold(c.Name, "Get-Date") }

var mutatingBuiltins = map[string]bool{
	"lock_pin": true, "unlock_pin": true, "set_pin": true, "grant_pin_policy": true,
	"set_pin_policy": true, "remove_pin_policy": true, "remove_user": true,
}

func isMutating(t *Translator, name string) bool {
	b := lang.ByCmdlet(t.builtins, name)
	return b != nil && mutatingBuiltins[b.Name]
}

// command translates one command; stage says it follows a |.
func (x *tr) command(c *Command, prev []Node, stage bool) (string, error) {
	cmdletTables()
	name := strings.ToLower(c.Name)
	if g, ok := generic[name]; ok {
		b, err := x.bind(c, g.spec)
		if err != nil {
			return "", err
		}
		return g.fn(x, b, stage)
	}
	bi := lang.ByCmdlet(x.t.builtins, c.Name)
	if bi == nil {
		return "", x.unknownCommand(c)
	}
	d, ok := domain[bi.Name]
	if !ok {
		return "", x.errf(c.Pos, "%s is %s in pinsh, which pinsh's PowerShell does not call yet; write it in Tengo (help(%q) shows it)", c.Name, bi.Name, bi.Name)
	}
	sp := d.spec
	if stage {
		// Piped input binds -Identity: values by position go to the
		// parameters after it (Grant-CsPinPolicy POLICY).
		sp.positional = slices.DeleteFunc(slices.Clone(sp.positional), func(p string) bool { return p == "Identity" })
	}
	b, err := x.bind(c, sp)
	if err != nil {
		return "", err
	}
	if stage {
		if d.stage == nil {
			return "", x.errf(c.Pos, "%s does not read the pipeline; call it at the start of a pipeline", c.Name)
		}
		if b.has("Identity") {
			return "", x.errf(c.Pos, "%s after | takes its input from the pipeline; leave out -Identity", c.Name)
		}
		return d.stage(x, b, bi.Name)
	}
	return d.source(x, b, bi.Name)
}

func (x *tr) unknownCommand(c *Command) error {
	cmdletTables()
	var names []string
	for _, c := range x.t.Cmdlets() {
		names = append(names, c.Name)
	}
	hint := ""
	if s := lang.Suggest(c.Name, names); len(s) > 0 {
		hint = "; did you mean " + s[0] + "?"
	}
	return x.errf(c.Pos, "%s is not a command of pinsh's PowerShell%s (help lists the builtins, with the cmdlets they stand for)", c.Name, hint)
}
