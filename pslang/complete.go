package pslang

import (
	"slices"
	"strings"
	"unicode"
)

// Cmdlet is a command pinsh's PowerShell runs, as the prompt's completion
// offers it.
type Cmdlet struct {
	Name string // as PowerShell spells it: Get-CsUser, Where-Object
	// Params are its parameters that take a value, and Switches those
	// that do not, as spelt, without "-", the common ones (-ErrorAction,
	// -WhatIf...) included when it takes them.
	Params, Switches []string
	// Positional are the parameters values bind to by position, in order.
	Positional []string
}

// Cmdlets returns the commands t runs, sorted by name: the cmdlets of the
// builtins it translates (Get-CsUser, Lock-CsClientPin...) and
// PowerShell's own pipeline cmdlets (Where-Object, Select-Object...).
// Aliases (where, %) are left out. The builtin a cmdlet stands for is
// lang.ByCmdlet's.
func (t *Translator) Cmdlets() []Cmdlet {
	cmdletTables()
	var out []Cmdlet
	add := func(name string, sp spec) {
		params, switches := slices.Clone(sp.params), slices.Clone(sp.switches)
		if sp.common {
			params = append(params, "ErrorAction")
			switches = append(switches, "WhatIf", "Confirm", "Force")
		}
		out = append(out, Cmdlet{Name: name, Params: params, Switches: switches, Positional: sp.positional})
	}
	for lower, g := range generic {
		if name, ok := genericNames[lower]; ok && strings.Contains(name, "-") {
			add(name, g.spec)
		}
	}
	for _, b := range t.builtins {
		d, ok := domain[b.Name]
		if !ok {
			continue
		}
		for _, c := range b.Cmdlets {
			if _, shadowed := generic[strings.ToLower(c)]; !shadowed {
				add(c, d.spec)
			}
		}
	}
	slices.SortFunc(out, func(a, b Cmdlet) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PropertyName returns the PowerShell name of a record field, as
// completion offers it: is_pin_set is IsPinSet. A property is read by any
// spelling that matches a field ignoring case, '_' and '-'.
func PropertyName(field string) string {
	var b strings.Builder
	for _, part := range strings.Split(field, "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}
