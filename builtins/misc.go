package builtins

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/d5/tengo/v2"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
)

// Builtins returns every builtin of the shell, then extra (builtins of the
// program embedding the shell, such as its exit()), then help(), which lists
// them all in that order.
func (sh *Shell) Builtins(extra ...*lang.Builtin) []*lang.Builtin {
	list := append(pointers(sh.all()), extra...)
	help := helpBuiltin(&list)
	list = append(list, &help)
	return list
}

func pointers(list []lang.Builtin) []*lang.Builtin {
	out := make([]*lang.Builtin, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out
}

// recordSchemas maps the builtins that make records to their record schema.
var recordSchemas = map[string]*lang.Schema{
	"get_users": userSchema, "new_user": userSchema,
	"pin_info":       pinInfoSchema,
	"get_pin_policy": policySchema, "new_pin_policy": policySchema, "set_pin_policy": policySchema,
	"admin_roles": roleSchema, "new_admin_role": roleSchema,
	"audit_log":  auditSchema,
	"set_pin":    newPinSchema,
	"verify_pin": verifySchema,
	"lock_pin":   summarySchema, "unlock_pin": summarySchema, "remove_user": summarySchema, "grant_pin_policy": summarySchema,
	"remove_pin_policy": summarySchema,
	"import_users":      importSchema,
}

// RecordFields returns the field names of the records builtin makes, in
// order, or nil when it makes none. The prompt completes fields with it
// without calling the builtin.
func RecordFields(builtin string) []string {
	if s, ok := recordSchemas[builtin]; ok {
		return slices.Clone(s.Fields())
	}
	return nil
}

// TestBuiltins returns the builtins of test scripts (pinsh test): assert,
// assert_eq, assert_error and advance_clock. A failed assertion is
// lang.Fatal: try does not catch it.
func (sh *Shell) TestBuiltins() []*lang.Builtin {
	return pointers([]lang.Builtin{
		{
			Name: "assert", Kind: lang.Func,
			Sig: "assert(cond[, msg])",
			Doc: `Fail the test script when cond is falsy, with msg.`,
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) < 1 || len(args) > 2 {
					return nil, errors.New("want assert(cond[, msg])")
				}
				if !args[0].IsFalsy() {
					return tengo.UndefinedValue, nil
				}
				msg := "assertion failed"
				if len(args) == 2 {
					msg += ": " + plain(args[1])
				}
				return nil, lang.Fatal(errors.New(msg))
			},
		},
		{
			Name: "assert_eq", Kind: lang.Func,
			Sig: "assert_eq(got, want[, msg])",
			Doc: `Fail the test script when got does not equal want, showing both.`,
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) < 2 || len(args) > 3 {
					return nil, errors.New("want assert_eq(got, want[, msg])")
				}
				if args[0].Equals(args[1]) || args[1].Equals(args[0]) {
					return tengo.UndefinedValue, nil
				}
				msg := fmt.Sprintf("got %s, want %s", args[0], args[1])
				if len(args) == 3 {
					msg = plain(args[2]) + ": " + msg
				}
				return nil, lang.Fatal(errors.New(msg))
			},
		},
		{
			Name: "assert_error", Kind: lang.Func,
			Sig: "assert_error(fn[, pattern])",
			Doc: `Pester's Should -Throw: fail the test unless fn raises an error whose
message matches pattern. fn is called with no arguments; the error may be a
runtime error, a refusal of a builtin, or a per-item error under
error_action "stop". pattern is a regular expression (Go RE2 syntax),
unanchored: "no such user" matches anywhere in the message; escape . ( [
and the like with \\ to match them literally. The message is the error's
text without its position, as try(fn).value gives it. Returns the error,
as try does. Interrupts, timeouts, limits and failed assertions inside fn
are not caught: they end the test.`,
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) < 1 || len(args) > 2 || !args[0].CanCall() {
					return nil, errors.New("want assert_error(fn[, pattern]), fn a function")
				}
				var re *regexp.Regexp
				if len(args) == 2 {
					p, ok := args[1].(*tengo.String)
					if !ok {
						return nil, fmt.Errorf("the pattern must be a string (a regular expression), not %s", args[1].TypeName())
					}
					var err error
					if re, err = regexp.Compile(p.Value); err != nil {
						return nil, fmt.Errorf("pattern %s is not a regular expression (%v); escape . ( [ and the like with \\", cut.Quote(p.Value), err)
					}
				}
				ret, caught, err := env.Try(args[0])
				switch {
				case err != nil:
					return nil, err
				case caught == nil:
					return nil, lang.Fatal(fmt.Errorf("assertion failed: the function raised no error; it returned %s", ret))
				case re != nil && !re.MatchString(caught.Message()):
					return nil, lang.Fatal(fmt.Errorf("assertion failed: the error %q does not match the pattern %q", caught.Message(), re))
				}
				return errorValue(caught), nil
			},
		},
		{
			Name: "advance_clock", Kind: lang.Func,
			Sig: "advance_clock(duration)",
			Doc: `Move the shell's clock forward by duration: Go syntax ("61m", "1h30m") or
days ("30d").`,
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) != 1 {
					return nil, errors.New("want advance_clock(duration)")
				}
				d, err := durationArg(args[0])
				if err != nil {
					return nil, err
				}
				sh.cfg.Clock.Advance(d)
				return lang.NewTime(sh.cfg.Clock.Now()), nil
			},
		},
	})
}

// errorValue is the Tengo error value of a caught error: its value is the
// message without the position.
func errorValue(e *lang.Error) *tengo.Error {
	return &tengo.Error{Value: &tengo.String{Value: e.Message()}}
}

// plain is a string's text, or any other value's literal.
func plain(o tengo.Object) string {
	if s, ok := o.(*tengo.String); ok {
		return s.Value
	}
	return o.String()
}

func (sh *Shell) miscBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "now", Kind: lang.Func,
			Cmdlets:    []string{"Get-Date"},
			PowerShell: `(Get-Date).AddDays(-30) -> now("-30d")`,
			Sig:        "now([offset])",
			Doc: `Get-Date: the shell's current time (frozen by --now, moved by
advance_clock in tests). With an offset, that much later or earlier: Go
duration syntax ("90m", "-1h") or days ("30d", "-1d", "1d12h").`,
			Examples: []lang.Example{
				{Code: `now() < now("1d")`, Output: "true\n"},
			},
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				t := sh.cfg.Clock.Now()
				switch len(args) {
				case 0:
				case 1:
					d, err := durationArg(args[0])
					if err != nil {
						return nil, err
					}
					t = t.Add(d)
				default:
					return nil, errors.New("want now() or now(offset)")
				}
				return lang.NewTime(t), nil
			},
		},
		{
			Name: "try", Kind: lang.Func,
			Sig: "try(fn[, arg...])",
			Doc: `PowerShell's try/catch: call fn with the args and return its result, or
the error it raises as an error value instead of ending the script. The
error may be a runtime error, a refusal of a builtin, or a per-item error
under error_action "stop": is_error(r) tells, r.value is the message
without its position, string(r) is "error: " and the message quoted. fn
must read a stream it makes (return s | collect, or a statement that
prints it): returning one is an error, since its stages would run after
try, out of its reach. Per-item errors under error_action
"continue" are not raised, so there is nothing to catch; interrupts
(Ctrl-C), timeouts and limits (memory, allocations, recursion depth) are
never caught, nor exit() or a failed test assertion.`,
			Examples: []lang.Example{
				{Code: `r := try(func() { return 10 / 0 }); [is_error(r), r.value]`, Output: "[true, \"division by zero\"]\n"},
				{Code: `try(func(a, b) { return a + b }, 1, 2)`, Output: "3\n"},
				{Code: `try(lock_pin, "nobody@litwareinc.com", {error_action: "stop"}).value`},
			},
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) == 0 || !args[0].CanCall() {
					return nil, errors.New("want try(fn[, arg...]), fn a function")
				}
				ret, caught, err := env.Try(args[0], args[1:]...)
				switch {
				case err != nil:
					return nil, err
				case caught != nil:
					return errorValue(caught), nil
				}
				return ret, nil
			},
		},
		{
			Name: "last_errors", Kind: lang.Func,
			Sig: "last_errors()",
			Doc: `The most recent per-item errors (up to 100, oldest first), PowerShell's
$Error: those shown, and those hidden by error_action "silently_continue"
or force; "ignore" keeps none.`,
			Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
				if len(args) != 0 {
					return nil, errors.New("takes no arguments")
				}
				sh.mu.Lock()
				defer sh.mu.Unlock()
				return strings2array(sh.errs[max(0, len(sh.errs)-maxRecordedErrors):]), nil
			},
		},
	}
}

// durationArg reads a duration: Go syntax, optionally led by whole days
// ("30d", "-1d12h").
func durationArg(o tengo.Object) (time.Duration, error) {
	s, ok := o.(*tengo.String)
	if !ok {
		return 0, fmt.Errorf("the duration must be a string such as \"30d\" or \"61m\", not %s", o.TypeName())
	}
	d, err := parseDuration(s.Value)
	if err != nil {
		return 0, fmt.Errorf("duration %s: %w", cut.Quote(s.Value), err)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	const syntax = `want Go duration syntax ("90m", "1h30m") or days ("30d", "-1d12h")`
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimLeft(t, "+-")
	var d time.Duration
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		days, err := strconv.Atoi(t[:i])
		if err != nil || days < 0 || days > 100*365 {
			return 0, errors.New(syntax)
		}
		d = time.Duration(days) * 24 * time.Hour
		t = t[i+1:]
	}
	if t != "" {
		rest, err := time.ParseDuration(t)
		if err != nil || rest < 0 {
			return 0, errors.New(syntax)
		}
		d += rest
	} else if d == 0 && !strings.Contains(s, "d") {
		return 0, errors.New(syntax)
	}
	if neg {
		d = -d
	}
	return d, nil
}

// helpBuiltin makes help(), which lists the builtins of *list.
func helpBuiltin(list *[]*lang.Builtin) lang.Builtin {
	return lang.Builtin{
		Name: "help", Kind: lang.Func,
		Cmdlets:    []string{"Get-Help"},
		PowerShell: `Get-Help Lock-CsClientPin -> help("Lock-CsClientPin") or help("lock_pin")`,
		Sig:        "help([name])",
		Doc: `Get-Help: list the builtins and the PowerShell commands they stand for, or
show one builtin's signature, description, PowerShell form and examples.
name is a builtin (help("lock_pin")) or a PowerShell command, in any case
(help("Lock-CsClientPin"), help("where-object")); at the prompt, help NAME
does the same.`,
		Examples: []lang.Example{
			{Code: `help("count")`},
			{Code: `help("Lock-CsClientPin")`},
		},
		Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
			switch len(args) {
			case 0:
				writeIndex(env.Stdout(), *list)
				return tengo.UndefinedValue, nil
			case 1:
				name := plain(args[0])
				if b, ok := args[0].(interface{ TypeName() string }); ok && strings.HasPrefix(b.TypeName(), "builtin-function:") {
					name = strings.TrimPrefix(b.TypeName(), "builtin-function:")
				}
				if b := lang.ByName(*list, name); b != nil {
					writeHelp(env.Stdout(), b)
					return tengo.UndefinedValue, nil
				}
				if b := lang.ByCmdlet(*list, name); b != nil {
					i := slices.IndexFunc(b.Cmdlets, func(c string) bool { return strings.EqualFold(c, name) })
					fmt.Fprintf(env.Stdout(), "%s is %s in pinsh.\n\n", b.Cmdlets[i], b.Name)
					writeHelp(env.Stdout(), b)
					return tengo.UndefinedValue, nil
				}
				return nil, fmt.Errorf("no builtin %s; %s", cut.Quote(name), lang.Hint(name, helpNames(*list), `help() lists them; names are`))
			}
			return nil, errors.New("want help() or help(name)")
		},
	}
}

// helpNames returns the names help knows: the builtins' and their
// cmdlets'.
func helpNames(list []*lang.Builtin) []string {
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
		names = append(names, b.Cmdlets...)
	}
	return names
}

func writeIndex(w io.Writer, list []*lang.Builtin) {
	const sigWidth = 44
	fmt.Fprintln(w, `Builtins (help("NAME") for one):`)
	type cmdlet struct{ ps, name string }
	var cmdlets []cmdlet
	for _, b := range list {
		for _, c := range b.Cmdlets {
			cmdlets = append(cmdlets, cmdlet{c, b.Name})
		}
		if len(b.Sig) > sigWidth {
			fmt.Fprintf(w, "  %s\n  %-*s %s\n", b.Sig, sigWidth, "", summaryOf(b.Doc))
			continue
		}
		fmt.Fprintf(w, "  %-*s %s\n", sigWidth, b.Sig, summaryOf(b.Doc))
	}
	if len(cmdlets) == 0 {
		return
	}
	sort.Slice(cmdlets, func(i, j int) bool { return cmdlets[i].ps < cmdlets[j].ps })
	width := 0
	for _, c := range cmdlets {
		width = max(width, len(c.ps))
	}
	fmt.Fprintln(w, "\nPowerShell commands and their builtins (help(\"Lock-CsClientPin\") works too):")
	for _, c := range cmdlets {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.ps, c.name)
	}
}

// summaryOf is the first sentence of a builtin's doc, cut to fit a line.
func summaryOf(doc string) string {
	const max = 72
	s := strings.Join(strings.Fields(doc), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, ".")
	if len(s) > max {
		cut := strings.LastIndexByte(s[:max], ' ')
		if cut <= 0 {
			cut = max
		}
		s = strings.TrimRight(s[:cut], ",;:( ") + "…"
	}
	return s
}

func writeHelp(w io.Writer, b *lang.Builtin) {
	fmt.Fprintf(w, "%s\n\n%s\n", b.Sig, b.Doc)
	if b.PowerShell != "" {
		fmt.Fprintf(w, "\nPowerShell: %s\n", b.PowerShell)
	}
	if len(b.Examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, ex := range b.Examples {
			fmt.Fprintf(w, "  %s\n", ex.Code)
		}
	}
}
