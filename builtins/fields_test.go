package builtins

import (
	"strings"
	"testing"
)

// TestFieldRuleEveryRecordType checks that every record type the builtins
// make refuses a field it does not have, with the snake_case suggestion for
// a PowerShell name, and still reads a field it has.
func TestFieldRuleEveryRecordType(t *testing.T) {
	ts := newTestShell(t)
	for _, tc := range []struct{ name, code, want string }{
		{"user", `(get_users("Ken Myer") | collect)[0].DisplayName`, `user record has no field "DisplayName"; did you mean display_name?`},
		{"a stream has no fields", `get_users("Ken Myer").display_name`, `cannot read field "display_name" of a stream: a stream is a sequence of items; collect() it`},
		{"user LineURI", `get_users() | each(func(u) { x := u.LineURI })`, `user record has no field "LineURI"; did you mean line_uri?`},
		{"pin_info", `pin_info("kenmyer@litwareinc.com").IsPinSet`, `pin_info record has no field "IsPinSet"; did you mean is_pin_set?`},
		{"pin_info PinExpirationTime", `pin_info("kenmyer@litwareinc.com")["PinExpirationTime"]`, `did you mean pin_expiration_time?`},
		{"pin_info typo", `pin_info("kenmyer@litwareinc.com").is_locekd_out`, `did you mean is_locked_out?`},
		{"pin_policy", `get_pin_policy("global").MinPasswordLength`, `pin_policy record has no field "MinPasswordLength"; did you mean min_password_length?`},
		{"admin_role", `admin_roles() | each(func(r) { x := r.Members })`, `admin_role record has no field "Members"; did you mean members?`},
		{"audit_entry", `audit_log() | where(func(e) { return e.Operator == "x" }) | count`, `audit_entry record has no field "Operator"; did you mean operator?`},
		{"summary", `lock_pin("kenmyer@litwareinc.com", {whatif: true}).Changed`, `summary record has no field "Changed"; did you mean changed?`},
		{"verify_result", `verify_pin("kenmyer@litwareinc.com", "1").OK`, `verify_result record has no field "OK"; did you mean ok?`},
		{"select in a pipeline", `get_users() | select("dispaly_name") | count`, `select: user record has no field "dispaly_name"; did you mean display_name?`},
		{"sort_by in a pipeline", `get_users() | pin_info | sort_by("PinExpirationTime") | count`, `sort_by: pin_info record has no field "PinExpirationTime"; did you mean pin_expiration_time?`},
		{"filter map of get_users", `get_users({filter: {Site: "Redmond"}}) | count`, `get_users: user record has no field "Site"; did you mean site?`},
		{"filter function of get_users", `get_users({filter: func(u) { return u.Enabled }}) | count`, `user record has no field "Enabled"; did you mean enabled?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ts.run(tc.code)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s\n got %v\nwant %q", tc.code, err, tc.want)
			}
		})
	}
	// Fields a type has read as before, unset ones as undefined.
	for code, want := range map[string]string{
		`pin_info("kenmyer@litwareinc.com").is_pin_set`:              "true",
		`is_undefined(pin_info("kenmyer@litwareinc.com").locked_by)`: "true",
		`get_pin_policy("global").min_password_length > 0`:           "true",
		`to_map(pin_info("kenmyer@litwareinc.com")).IsPinSet`:        "null",
	} {
		if got := ts.value(code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

// TestMisspeltFieldChangesNothing runs the pipelines of issue 8 that reset
// or locked every PIN when a misspelt field read as undefined: now they
// fail on the first record and change nothing.
func TestMisspeltFieldChangesNothing(t *testing.T) {
	for _, code := range []string{
		`get_users() | pin_info | where(func(p) { return !p.IsPinSet }) | set_pin`,
		`get_users() | pin_info | where(func(p) { return !p.is_locekd_out }) | lock_pin`,
		`get_users() | pin_info | where({IsLockedOut: false}) | lock_pin`,
		`get_users() | pin_info | where(func(p) { return !p.IsPinSet }) | set_pin({error_action: "continue"})`,
		`get_users() | pin_info | sort_by("LastPinChangeTime") | unlock_pin`,
		`get_users() | select("identity", "DisplayName") | set_pin`,
	} {
		t.Run(code, func(t *testing.T) {
			ts := newTestShell(t)
			state := `get_users() | pin_info | collect`
			beforeState, beforeAudit := ts.value(state), ts.value(`audit_log() | count`)
			out, _, err := ts.run(code)
			if err == nil || !strings.Contains(err.Error(), "has no field") {
				t.Fatalf("err = %v", err)
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
			if got := ts.value(state); got != beforeState {
				t.Errorf("PIN state changed:\n%s\n%s", beforeState, got)
			}
			if got := ts.value(`audit_log() | count`); got != beforeAudit {
				t.Errorf("audit entries: %s before, %s after", beforeAudit, got)
			}
		})
	}
}

// TestNamedKeysSuggest checks the suggestions for the other names a script
// gives builtins: options, filters and fields of maps.
func TestNamedKeysSuggest(t *testing.T) {
	ts := newTestShell(t)
	for _, tc := range []struct{ code, want string }{
		{`lock_pin("kenmyer@litwareinc.com", {WhatIf: true})`, `lock_pin: unknown option "WhatIf"; did you mean whatif?`},
		{`audit_log({Operator: "admin"})`, `audit_log: unknown filter "Operator"; did you mean operator?`},
		{`audit_log({snice: now()})`, `unknown filter "snice"; did you mean since?`},
		{`audit_log({who: "x"})`, `unknown filter "who"; audit_log takes since, until, operator, action, target`},
		{`get_users({ResultSize: 3})`, `get_users: unknown key "ResultSize"; did you mean result_size?`},
		{`get_users({Filter: {}})`, `unknown key "Filter"; did you mean filter?`},
		{`new_user({SipAddress: "sip:ann@litwareinc.com"})`, `new_user: unknown user field "SipAddress"; did you mean sip_address?`},
	} {
		if _, _, err := ts.run(tc.code); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %q", tc.code, err, tc.want)
		}
	}
}

// TestFieldMapSecretKind: a value of the wrong kind for a secret field (a
// new PIN) is refused without showing the value given, which may be a PIN.
func TestFieldMapSecretKind(t *testing.T) {
	ts := newTestShell(t)
	_, _, err := ts.run(`x := get_users("Ken Myer") | set_pin | collect; x | where({pin: 4321}) | count`)
	if err == nil || !strings.Contains(err.Error(), "where: field pin is a string, not a number") {
		t.Fatalf("err = %v, want the kind refusal", err)
	}
	if strings.Contains(err.Error(), "4321") {
		t.Errorf("the refusal shows the value given for a secret field: %v", err)
	}
}
