package builtins

import (
	"fmt"
	"strings"
	"testing"
)

// An options map is never mistaken for a record, nor a record for options
// (design §3): a target map holding an option or a key no user record has,
// a record that is not a user's, and a digit string (a PIN in the user's
// place) are refused for the whole call, before anything changes. The
// directory has a user "Global" and one "CsHelpDesk", so that a policy or
// role record taken by display name would act on someone.
func TestTargetsAreUsersOnly(t *testing.T) {
	tests := []struct{ code, want string }{
		{`remove_user({identity: "kenmyer@litwareinc.com", whatif: true})`,
			`remove_user: whatif is an option, and a target map holds no options; pass options in a map of their own: remove_user("kenmyer@litwareinc.com", {whatif: true})`},
		{`lock_pin({identity: "kenmyer@litwareinc.com", whatif: true})`, `lock_pin("kenmyer@litwareinc.com", {whatif: true})`},
		{`unlock_pin({identity: "tonysmith@litwareinc.com", confirm: true})`, `unlock_pin: confirm is an option`},
		{`set_pin({identity: "kenmyer@litwareinc.com", force: true})`, `set_pin: force is an option`},
		{`pin_info({identity: "kenmyer@litwareinc.com", error_action: "stop"})`, `pin_info("kenmyer@litwareinc.com", {error_action: "stop"})`},
		{`[{identity: "kenmyer@litwareinc.com", whatif: true}] | lock_pin`, `lock_pin: whatif is an option`},
		{`grant_pin_policy({identity: "kenmyer@litwareinc.com", whatif: true}, "Expire30")`, `grant_pin_policy: whatif is an option`},
		{`lock_pin({identity: "kenmyer@litwareinc.com", dispaly_name: "Ken Myer"})`,
			`lock_pin: a user target map has no key "dispaly_name"; did you mean display_name?`},
		{`lock_pin({identity: "kenmyer@litwareinc.com", builtins: []})`, `a user target map has no key "builtins"; its keys are the fields of a user record: identity,`},
		{`get_pin_policy() | remove_user`,
			`remove_user: a pin_policy record is not a user (its identity "global" names a policy); remove_user takes users`},
		{`remove_user(get_pin_policy("global"))`, `remove_user: a pin_policy record is not a user`},
		{`admin_roles("CsHelpDesk") | lock_pin`, `lock_pin: an admin_role record is not a user (its identity "CsHelpDesk" names an admin role)`},
		{`admin_roles("CsHelpDesk") | pin_info | count`, `pin_info: an admin_role record is not a user`},
		{`set_pin(admin_roles("CsHelpDesk"))`, `set_pin: an admin_role record is not a user`},
		{`verify_pin(get_pin_policy("global"), "583920")`, `verify_pin: a pin_policy record is not a user`},
		{`grant_pin_policy(get_pin_policy("global"), "Expire30")`, `grant_pin_policy: a pin_policy record is not a user`},
		{`audit_log() | first(1) | unlock_pin`, `unlock_pin: an audit_entry record is not a user; unlock_pin takes users`},
		{`lock_pin(unlock_pin("kenmyer@litwareinc.com"))`, `lock_pin: a summary record is not a user`},
		{`lock_pin("48151")`, `lock_pin: the target is a string of digits, which looks like a PIN in the user's place`},
		{`get_users() | lock_pin("48151")`, `lock_pin: the target is a string of digits`},
		{`unlock_pin("48151", {whatif: true})`, `unlock_pin: the target is a string of digits`},
		{`remove_user("48151")`, `remove_user: the target is a string of digits`},
		{`pin_info("48151")`, `pin_info: the target is a string of digits`},
		{`pin_info(["kenmyer@litwareinc.com", "48151"]) | count`, `pin_info: the target is a string of digits`},
		{`["48151"] | lock_pin`, `lock_pin: the target is a string of digits`},
		{`lock_pin({identity: "48151", whatif: true})`, `lock_pin: the target is a string of digits`},
		{`set_pin({identity: "48151"})`, `set_pin: the target is a string of digits`},
		{`grant_pin_policy("48151", "Expire30")`, `grant_pin_policy: the target is a string of digits`},
		{`get_users("48151")`, `get_users: the target is a string of digits`},
		{`get_users({identity: "48151"}) | count`, `get_users: the target is a string of digits`},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			ts := newTestShell(t)
			ts.must(`new_user({sip_address: "sip:global@litwareinc.com", display_name: "Global"})`)
			ts.must(`new_user({sip_address: "sip:cshelpdesk@litwareinc.com", display_name: "CsHelpDesk"})`)
			before := ts.state()
			out, stderr, err := ts.run(tt.code)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error()+out+stderr, "48151") {
				t.Errorf("a digit-only target was shown: %v\n%s%s", err, out, stderr)
			}
			if strings.Contains(out, "What if") {
				t.Errorf("a refused target was described: %q", out)
			}
			if after := ts.state(); after != before {
				t.Errorf("a refused call changed the directory or the audit log:\n%s\n%s", before, after)
			}
		})
	}
}

// The records of users and their PINs, and maps of their fields, stay
// targets.
func TestUserRecordsAreTargets(t *testing.T) {
	ts := newTestShell(t)
	const ken = "What if: Performing the operation \"%s\" on target \"sip:kenmyer@litwareinc.com\".\n"
	tests := []struct{ code, want string }{
		{`get_users("kenmyer@litwareinc.com") | lock_pin({whatif: true})`, fmt.Sprintf(ken, "lock_pin")},
		{`pin_info("kenmyer@litwareinc.com") | unlock_pin({whatif: true})`, fmt.Sprintf(ken, "unlock_pin")},
		{`lock_pin(to_map(pin_info("kenmyer@litwareinc.com")), {whatif: true})`, fmt.Sprintf(ken, "lock_pin")},
		{`remove_user(to_map((get_users("kenmyer@litwareinc.com") | collect)[0]), {whatif: true})`, fmt.Sprintf(ken, "remove_user")},
		{`lock_pin(verify_pin("kenmyer@litwareinc.com", "000000"), {whatif: true})`, fmt.Sprintf(ken, "lock_pin")},
		{`lock_pin({identity: "kenmyer@litwareinc.com", display_name: "Ken Myer"}, {whatif: true})`, fmt.Sprintf(ken, "lock_pin")},
	}
	for _, tt := range tests {
		if got := ts.must(tt.code + "; 0"); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s printed %q, want %q", tt.code, got, tt.want)
		}
	}
}

// An empty map never quietly means everything: where({}) and an empty
// options map of get_users or get_pin_policy are refused, as
// get_users({filter: {}}) is.
func TestEmptyMapsAreRefused(t *testing.T) {
	tests := []struct{ code, want string }{
		{`get_users() | where({}) | lock_pin`, `where: an empty field map keeps every record; give the fields to match`},
		{`where(get_users(), {}) | count`, `where: an empty field map keeps every record`},
		{`get_users() | pin_info | where({}, {case_sensitive: true}) | unlock_pin`, `where: an empty field map keeps every record`},
		{`get_users({}) | remove_user`, `get_users: an empty map selects every user; call get_users() to mean all`},
		{`get_pin_policy({}) | remove_pin_policy`, `get_pin_policy: an empty map selects every policy; call get_pin_policy() to mean all`},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) { refused(t, tt.code, tt.want) })
	}
}
