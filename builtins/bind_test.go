package builtins

import (
	"strings"
	"testing"
)

// A stage made in the call form fails exactly like the pipeline form, where
// it is written (x := lock_pin(13579) too, not only a statement), and a
// target never guesses: a "pin" key in a target map, a map of user fields
// with no identity, a number or a bool in a user's place, and digit strings
// padded with spaces or written in other scripts' digits are refused before
// anything changes. secret, when set, must never be shown.
func TestBoundStagesAreChecked(t *testing.T) {
	const (
		pinInMap  = `set_pin: a target map holds no PIN (its "pin" is not used); to set a PIN you choose write set_pin(target, pin), or omit it to generate one`
		digits    = `the target is a string of digits, which looks like a PIN in the user's place`
		notOption = `lock_pin: {sip_address: ...} is not an options map (it has user fields but no identity); name the user: lock_pin("sip:kenmyer@litwareinc.com") or lock_pin({identity: ...})`
	)
	tests := []struct{ code, want, secret string }{
		// 1. a "pin" key in a target map
		{`set_pin({identity: "kenmyer@litwareinc.com", pin: "48152"})`, pinInMap, "48152"},
		{`[{identity: "kenmyer@litwareinc.com", pin: "481529"}] | set_pin`, pinInMap, "481529"},
		{`x := set_pin({identity: "kenmyer@litwareinc.com", pin: "48152"}, {whatif: true}); 0`, pinInMap, "48152"},
		{`lock_pin({identity: "kenmyer@litwareinc.com", pin: "48152"})`, `lock_pin: a target map holds no PIN`, "48152"},
		{`pin_info([{identity: "kenmyer@litwareinc.com", pin: "48152"}]) | count`, `pin_info: a target map holds no PIN`, "48152"},
		{`verify_pin({identity: "kenmyer@litwareinc.com", pin: "48152"}, "000000")`, `verify_pin: a target map holds no PIN`, "48152"},
		{`set_pin({pin: "48152"})`, pinInMap, "48152"},
		{`get_users() | lock_pin({pin: "48152", whatif: true})`, `lock_pin: a target map holds no PIN`, "48152"},
		// 2. the options map of a bound stage
		{`lock_pin({sip_address: "sip:kenmyer@litwareinc.com"})`, notOption, ""},
		{`x := lock_pin({sip_address: "sip:kenmyer@litwareinc.com"}); 0`, notOption, ""},
		{`lock_pin({display_name: "Ken Myer"})`, `lock_pin: {display_name: ...} is not an options map (it has user fields but no identity); name the user: lock_pin("Ken Myer")`, ""},
		{`get_users() | lock_pin({display_name: "Ken Myer"})`, `lock_pin: {display_name: ...} is not an options map`, ""},
		{`unlock_pin({site: "Redmond", whatif: true})`, `unlock_pin: {site: ...} is not an options map (it has user fields but no identity); name the user: unlock_pin(identity)`, ""},
		{`remove_user({is_locked_out: true})`, `remove_user: {is_locked_out: ...} is not an options map`, ""},
		{`lock_pin({foo: 1})`, `lock_pin: unknown option "foo"; options are whatif, confirm, force, error_action`, ""},
		{`x := unlock_pin({whatfi: true}); 0`, `unlock_pin: unknown option "whatfi"; did you mean whatif?`, ""},
		{`pin_info({whatif: true})`, `pin_info: unknown option "whatif"; options are error_action, force`, ""},
		{`set_pin({enforce_histroy: true})`, `set_pin: unknown option "enforce_histroy"; did you mean enforce_history?`, ""},
		{`lock_pin({whatif: "yes"})`, `lock_pin: option whatif must be true or false, not string`, ""},
		{`grant_pin_policy("Expire30", {wahtif: true})`, `grant_pin_policy: unknown option "wahtif"; did you mean whatif?`, ""},
		{`export_csv("pins.csv", {overwrit: true})`, `export_csv: unknown option "overwrit"; did you mean overwrite?`, ""},
		{`lock_pin(12345)`, `lock_pin: 12345 is a number, not a user`, ""},
		{`x := lock_pin(13579); 0`, `lock_pin: 13579 is a number, not a user`, ""},
		{`unlock_pin(1.5, {whatif: true})`, `unlock_pin: 1.5 is a number, not a user`, ""},
		{`lock_pin(true)`, `lock_pin: true is a bool, not a user`, ""},
		{`remove_user('k')`, `remove_user: k is a char, not a user`, ""},
		{`set_pin(13579)`, `set_pin: one PIN for many users is never what pinsh guesses you mean`, ""},
		{`grant_pin_policy(12345, "Expire30")`, `grant_pin_policy: 12345 is a number, not a user`, ""},
		{`x := remove_pin_policy({whatfi: true}); 0`, `remove_pin_policy: unknown option "whatfi"; did you mean whatif?`, ""},
		{`x := remove_pin_policy(12345); 0`, `remove_pin_policy: want remove_pin_policy([opts]): argument 1 must be an options map, not int`, ""},
		{`x := set_pin_policy({foo: 1}); 0`, `set_pin_policy: unknown policy field "foo"`, ""},
		{`set_pin_policy(true)`, `set_pin_policy: want set_pin_policy([props][, opts]): argument 1 must be a props map of policy fields, not bool`, ""},
		{`x := set_pin_policy({maximum_logon_attempts: -3}); 0`, `set_pin_policy: maximum_logon_attempts "-3": out of range`, ""},
		// 3. digit strings, trimmed, in any script's digits
		{`lock_pin("12345 ")`, "lock_pin: " + digits, "12345"},
		{`lock_pin(" 12345")`, "lock_pin: " + digits, "12345"},
		{`lock_pin("\t12345\n", {whatif: true})`, "lock_pin: " + digits, "12345"},
		{`lock_pin("１２３４５")`, "lock_pin: " + digits, "１２３４５"},
		{`unlock_pin("١٢٣٤٥")`, "unlock_pin: " + digits, "١٢٣٤٥"},
		{`set_pin(" 135790", "13579")`, "set_pin: " + digits, "135790"},
		{`get_users() | lock_pin(" 12345")`, "lock_pin: " + digits, "12345"},
		{`pin_info({identity: "12345 "})`, "pin_info: " + digits, "12345"},
		{`get_users(" 12345")`, "get_users: " + digits, "12345"},
		{`verify_pin(" 12345", "000000")`, `verify_pin: the first argument looks like a PIN in the user's place`, "12345"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			out, stderr, err := refused(t, tt.code, tt.want)
			if strings.Contains(out, "What if") {
				t.Errorf("a refused call was described: %q", out)
			}
			if tt.secret != "" && strings.Contains(err.Error()+out+stderr, tt.secret) {
				t.Errorf("the digits were shown: %v\n%s%s", err, out, stderr)
			}
		})
	}
}

// Options maps, option values and targets that are right still bind, and
// a set_pin record (not a map) is still a target.
func TestBoundStagesStillBind(t *testing.T) {
	ts := newTestShell(t)
	const ken = "What if: Performing the operation \"%s\" on target \"sip:kenmyer@litwareinc.com\".\n"
	tests := []struct{ code, want string }{
		{`s := lock_pin({whatif: true, error_action: "stop"}); get_users("kenmyer@litwareinc.com") | s`, "lock_pin"},
		{`s := unlock_pin({whatif: true}); ["kenmyer@litwareinc.com"] | s`, "unlock_pin"},
		{`lock_pin(set_pin("kenmyer@litwareinc.com", "583920"), {whatif: true})`, "lock_pin"},
		{`s := remove_user({whatif: true}); get_users("kenmyer@litwareinc.com") | s`, "remove_user"},
		{`s := grant_pin_policy("Expire30", {whatif: true}); get_users("kenmyer@litwareinc.com") | s`, "grant_pin_policy"},
		{`s := set_pin({whatif: true, enforce_history: false}); get_users("kenmyer@litwareinc.com") | s | collect`, "set_pin"},
	}
	for _, tt := range tests {
		want := strings.Replace(ken, "%s", tt.want, 1)
		if got := ts.must(tt.code + "; 0"); !strings.Contains(got, want) {
			t.Errorf("%s printed %q, want %q", tt.code, got, want)
		}
	}
}
