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

// setPinBatch is how many PINs set_pin sets per store call: the store
// hashes a batch in parallel before it commits it, so a batch costs a few
// seconds of hashing at most.
const setPinBatch = 256

func (sh *Shell) setPinBuiltins() []lang.Builtin {
	return []lang.Builtin{
		{
			Name: "set_pin", Kind: lang.Stage, Targets: true, SecretArgs: true, Bind: setPinBind, Options: setPinOptionKeys,
			Cmdlets:    []string{"Set-CsClientPin"},
			PowerShell: `Set-CsClientPin -Identity X -Pin P -> set_pin("X", read_pin()); without -Pin -> set_pin("X"), which generates a PIN and shows it once`,
			Sig:        "set_pin(target[, pin][, opts]) | set_pin([opts])",
			Doc: `Set-CsClientPin: set the PIN of each target user. With a pin (a string of
digits; leading zeros count), it must meet the user's effective PIN policy:
minimum length, digits only, and, unless the policy allows common
patterns, no repeated digits, no run of four or more consecutive digits
and not the user's phone number or extension. Without a pin, a random PIN
that meets the policy is generated. Yields one {identity, display_name,
pin} record per user; pin is the generated PIN, shown this once and never
stored or logged (undefined when you gave the PIN). A locked PIN must be
unlocked first. PIN history is not enforced for admin resets, as in Lync;
pass {enforce_history: true} to refuse a PIN the user had before.
set_pin sets PINs as its records are read, 256 at a time, and each batch's
records are printed (or written, or handed to the script) before the next
batch is set, so a generated PIN is never lost: its records may only be
printed (a statement, in scripts too), written by export_csv or
export_jsonl, collected, or read by a for loop; count, first, where, each
and other stages after set_pin are refused before anything is set. If the
run stops (Ctrl-C, timeout, error), the PINs set but not yet shown are
printed then, with a note of how many were set. On a single target it
runs at once and returns its record. A generated PIN handed to the script
(a collected array, a for loop, a variable) is the script's once it reads
the pin field (r.pin, r["pin"], to_map(r), string(r)); a record whose PIN
was never printed, written by export_csv/export_jsonl or read is printed
when the run ends, however it ends, so that none is lost. Reading is
enough, kept or not. Do NOT write
  for r in users | set_pin { if len(r.pin) == 6 { n++ } }
which reads every PIN and keeps none: none is shown and all are lost.
Print or export the records instead, or keep each r.pin you read.
A pin is given for one target only: as a stage (users | set_pin("...")),
or on an array, one PIN would go to many users, which pinsh refuses; leave
the pin out to generate one per user. A first argument of digits is taken
for a PIN in the user's place and refused without being shown.
opts: {whatif, confirm, force, error_action, enforce_history}.`,
			Examples: []lang.Example{
				{Code: `set_pin("aidan@litwareinc.com", "583920").identity`, Output: "sip:aidan@litwareinc.com\n"},
				{Code: `len(set_pin("aidan@litwareinc.com").pin)`, Output: "6\n"},
				{Code: `get_users() | pin_info | where({is_pin_set: false}) | set_pin | export_csv("new_pins.csv")`, Output: "path: new_pins.csv  rows: 1\n"},
				{Code: `pins := {}; for r in get_users("aidan@litwareinc.com") | set_pin { pins[r.identity] = r.pin }; len(pins)`, Output: "1\n"},
			},
			Run: sh.setPin,
		},
		{
			Name: "verify_pin", Kind: lang.Func,
			Sig: "verify_pin(identity, pin)",
			Doc: `Make one PIN logon attempt, as a phone or dial-in conference would, under
the system's lockout rules: failures within a 30-minute window count on a
short-term counter (at its limit the PIN is refused for an hour, even the
right one) and on a long-term counter (at its limit the system locks the
PIN until an admin unlocks it). The limits come from the policy's
maximum_logon_attempts or the PIN length. Returns {identity, ok, reason};
reason is one of ok, wrong_pin, temporarily_locked, locked, expired,
no_pin, disabled, no_such_user. Every attempt is audited, never the PIN.
Use read_pin() to keep the PIN out of your history.`,
			Examples: []lang.Example{
				{Code: `verify_pin("kenmyer@litwareinc.com", "000000").reason`, Output: "wrong_pin\n"},
				{Code: `verify_pin("aidan@litwareinc.com", "583920").reason`, Output: "no_pin\n"},
			},
			Call: sh.verifyPin,
		},
		{
			Name: "read_pin", Kind: lang.Func,
			Cmdlets:    []string{"Read-Host"},
			PowerShell: "Read-Host -AsSecureString -> read_pin()",
			Sig:        "read_pin([prompt])",
			Doc: `Read a PIN from the terminal without echoing it, so that it is never
typed into a script or the prompt's history:
set_pin("kenmyer@litwareinc.com", read_pin()). The value prints as
<PIN hidden>; set_pin and verify_pin take it.`,
			Call: sh.readPin,
		},
	}
}

// errOnePin refuses a PIN given to set_pin for more than one target.
var errOnePin = errors.New("one PIN for many users is never what pinsh guesses you mean: " +
	"give each user its own PIN: omit the pin to generate one per user (get_users(...) | set_pin), " +
	"or set one user's PIN with set_pin(user, pin). Nothing was changed")

// setPinBind refuses, where it is written, a set_pin call that binds a PIN
// with no target: set_pin("640289") would give every user piped into it the
// same PIN, and set_pin("48151", "Ken Myer") has the PIN in the user's
// place (lang takes a digit string for a PIN, never an identity). Neither
// message shows the digits.
func setPinBind(args []tengo.Object) error {
	if len(args) == 0 {
		return nil
	}
	if _, ok := mapValue(args[0]); ok {
		if id, ok := identityOf(args[0]); ok && digitsTarget(id) {
			return errDigitsTarget("set_pin") // set_pin({identity: "48151"})
		}
		return nil // set_pin({whatif: true}): options only
	}
	if s, ok := args[0].(*tengo.String); ok && digitsTarget(s.Value) && len(args) > 1 {
		if _, isString := args[1].(*tengo.String); isString {
			return errPinFirst("set_pin")
		}
	}
	return errOnePin
}

// errPinFirst refuses a digit string where a builtin wants the user.
func errPinFirst(name string) error {
	return fmt.Errorf("the first argument looks like a PIN in the user's place: %s(user, pin); "+
		"the user comes first. Nothing was changed", name)
}

// allDigits reports whether s is a non-empty string of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// pinSecret is what read_pin returns: a PIN that prints as <PIN hidden>
// (at the prompt, in a table, in JSON, through string()), so that reading a
// PIN from the terminal never shows it; set_pin and verify_pin take it as
// they take a string.
type pinSecret struct {
	tengo.ObjectImpl
	pin string
}

func (p *pinSecret) TypeName() string { return "pin" }
func (p *pinSecret) String() string   { return "<PIN hidden>" }
func (p *pinSecret) IsFalsy() bool    { return p.pin == "" }
func (p *pinSecret) Copy() tengo.Object {
	return p
}
func (p *pinSecret) Equals(x tengo.Object) bool {
	o, ok := x.(*pinSecret)
	return ok && o.pin == p.pin
}

// pinArg reads a PIN argument: a string, so that leading zeros are kept, or
// what read_pin returned.
func pinArg(o tengo.Object) (string, error) {
	switch v := o.(type) {
	case *pinSecret:
		return v.pin, nil
	case *tengo.String:
		return v.Value, nil
	case *tengo.Int:
		return "", errors.New(`the PIN must be a string such as "06284", so that leading zeros are kept`)
	}
	return "", fmt.Errorf("the PIN must be a string of digits, not %s", o.TypeName())
}

func (sh *Shell) setPin(env *lang.Env, in *lang.Stream, args []tengo.Object) (tengo.Object, error) {
	rest, opts, err := sh.splitOptions("set_pin", args, setPinOptionKeys...)
	if err != nil {
		return nil, err
	}
	var pin string
	switch len(rest) {
	case 0:
	case 1:
		if pin, err = pinArg(rest[0]); err != nil {
			return nil, err
		}
		if pin == "" {
			return nil, errors.New(`the PIN is empty; leave it out to generate one`)
		}
	default:
		return nil, errors.New("want set_pin(target[, pin][, opts])")
	}
	if _, one := in.Origin().(lang.SingleTarget); pin != "" && !one {
		return nil, errOnePin // set_pin(array, pin); a bound stage is refused by setPinBind
	}
	if err := sh.authorizeInput(env.Context(), "set_pin", in); err != nil {
		return nil, err
	}
	schema := newPinSchema
	if pin != "" {
		schema = givenPinSchema // nothing secret to deliver
	}
	rep := sh.reporter(env, "set_pin", opts)
	var made []tengo.Object // the records of the batch being committed
	w := sh.walk(env, in, &targetWalk{name: "set_pin", opts: opts, batch: setPinBatch, rep: rep,
		commit: func(ctx context.Context, batch []target) error {
			reqs := make([]store.SetPinRequest, len(batch))
			named := make(map[store.UserID]string, len(batch))
			for i, t := range batch {
				reqs[i] = store.SetPinRequest{ID: t.id, Pin: pin, EnforceHistory: opts.enforceHistory}
				named[t.id] = t.identity
			}
			results, err := sh.cfg.Store.SetPins(ctx, sh.op(), reqs)
			if err != nil {
				return err
			}
			var stop error // error_action "stop": still deliver every PIN the batch set
			for _, r := range results {
				if r.Identity == "" {
					r.Identity = named[r.ID]
				}
				if r.Outcome != store.Changed {
					if err := rep.result(r.ItemResult); err != nil && stop == nil {
						stop = err
					}
					continue
				}
				made = append(made, lang.NewRecord(schema,
					[]tengo.Object{str(r.Identity), str(r.DisplayName), optStr(r.Pin)}, userRef{r.ID, r.Identity}))
			}
			return stop
		}})
	return env.Precious(lang.Precious{
		// One batch per pull, so that its records reach the reader (and
		// are printed or written) before the next batch is committed.
		Pull: func(ctx context.Context) ([]tengo.Object, error) {
			made = nil
			for len(made) == 0 {
				more, err := w.next(ctx)
				if err != nil || !more {
					return made, err
				}
			}
			return made, nil
		},
		Refuse: func(consumer string) error {
			if pin != "" {
				return nil // no generated PIN to lose
			}
			return fmt.Errorf("set_pin's records hold the generated PINs, shown only once, and %s would drop them: "+
				"end the pipeline at set_pin to print them, or with | export_csv(path), | export_jsonl(path) or | collect, "+
				"or read it with a for loop; filter before set_pin, not after. Nothing was changed", consumer)
		},
		Note: func(reason string, n int, went []lang.Went) string {
			if reason == "not read" {
				return "set_pin: no PIN was set: its records were never read, and set_pin sets PINs as they are read; " +
					"print them, or end the pipeline with | export_csv(path), | export_jsonl(path) or | collect"
			}
			if n == 0 {
				return fmt.Sprintf("set_pin: %s before any PIN was set; nothing changed", reason)
			}
			return fmt.Sprintf("set_pin: %s: %d %s set%s; the rest unchanged", reason, n, plural(n, "PIN", "PINs"), lang.WentPhrase(went))
		},
		Header: "set_pin: these PINs were set but not yet shown, written or handed to the script; here they are, so that none is lost:",
		Unshown: func(n int) string {
			return fmt.Sprintf("set_pin: %d generated %s set but never shown, written or read; here %s, so that none is lost:",
				n, plural(n, "PIN was", "PINs were"), plural(n, "it is", "they are"))
		},
	}), nil
}

func (sh *Shell) verifyPin(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) != 2 {
		return nil, errors.New("want verify_pin(identity, pin)")
	}
	pin, err := pinArg(args[1])
	if err != nil {
		return nil, err
	}
	// Refuse swapped arguments before anything is looked up or audited:
	// a PIN must never reach a message or the audit log.
	name, ok := identityOf(args[0])
	if !ok {
		return nil, errors.New("the first argument must name a user, and the second be the PIN: verify_pin(identity, pin)")
	}
	if digitsTarget(name) {
		return nil, errPinFirst("verify_pin")
	}
	if err := checkTarget("verify_pin", args[0]); err != nil {
		return nil, err
	}
	if !allDigits(pin) {
		return nil, errors.New("the PIN must be digits 0-9 only; did you swap identity and pin? verify_pin(identity, pin)")
	}
	if id, ok := wildcardOf(args[0]); ok {
		// A logon attempt counts against a user's lockout: it never
		// goes to whoever a wildcard happens to match.
		return nil, fmt.Errorf("%s is a wildcard; verify_pin takes one user named exactly (find it with get_users(%s))",
			cut.Quote(id), cut.Quote(id))
	}
	ctx := env.Context()
	if err := sh.authorizeOn(ctx, "verify_pin", describeItem(args[0])); err != nil {
		return nil, err
	}
	if sh.cfg.WhatIf {
		// A logon attempt changes the lockout counters: under --whatif it
		// is only described.
		fmt.Fprintln(env.Stdout(), WhatIfText("verify_pin", describeItem(args[0])))
		return tengo.UndefinedValue, nil
	}
	targets, errs, err := sh.resolve(ctx, "verify_pin", args[:1])
	if err != nil {
		return nil, err
	}
	name = describeItem(args[0])
	switch {
	case len(errs) > 0 && errors.Is(errs[0], errNoSuchUser):
		if err := sh.cfg.Store.Audit(ctx, sh.op(), store.AuditEntry{
			Action: "verify_pin", Target: name, Outcome: "no_such_user",
		}); err != nil {
			return nil, err
		}
		return verifyRecord(name, store.VerifyResult{Reason: "no_such_user"}), nil
	case len(errs) > 0:
		return nil, errs[0]
	case len(targets) != 1:
		return nil, fmt.Errorf("%s names %d users; verify_pin takes one", name, len(targets))
	}
	res, err := sh.cfg.Store.VerifyPin(ctx, sh.op(), targets[0].id, pin)
	if err != nil {
		return nil, err
	}
	return verifyRecord(targets[0].identity, res), nil
}

func verifyRecord(identity string, r store.VerifyResult) *lang.Record {
	return lang.NewRecord(verifySchema, []tengo.Object{str(identity), boolean(r.OK), str(r.Reason)}, nil)
}

func (sh *Shell) readPin(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	prompt := "PIN: "
	switch len(args) {
	case 0:
	case 1:
		s, ok := args[0].(*tengo.String)
		if !ok {
			return nil, fmt.Errorf("prompt must be a string, not %s", args[0].TypeName())
		}
		prompt = s.Value
	default:
		return nil, errors.New("want read_pin([prompt])")
	}
	if sh.cfg.ReadPin == nil {
		return nil, errNeedsTerminal
	}
	pin, err := sh.cfg.ReadPin(prompt)
	if err != nil {
		return nil, err
	}
	return &pinSecret{pin: pin}, nil
}

// plural returns one for n == 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
