package builtins

import (
	"strings"
	"testing"
)

// TestGetUsersNoMatch checks that get_users says "no such user" for an
// identity that names nobody, as pin_info does, while a wildcard that
// matches nobody is just an empty stream.
func TestGetUsersNoMatch(t *testing.T) {
	for _, tc := range []struct {
		name, code     string
		out, errOut    string // stdout; a substring of stderr ("" = none)
		err            string // a substring of the run's error ("" = none)
		recordedErrors string // last_errors() | count afterwards
	}{
		{"no such user", `get_users("ken") | count`, "0\n", "get_users: ken: no such user\n", "", "1"},
		{"same as pin_info", `pin_info("ken")`, "", "pin_info: ken: no such user\n", "", "1"},
		{"in a map", `get_users({identity: "nobody@litwareinc.com"}) | count`, "0\n", "get_users: nobody@litwareinc.com: no such user\n", "", "1"},
		{"not an identity", `get_users("sip:") | count`, "0\n", `get_users: sip:: sip_address "sip:": not a SIP address`, "", "1"},
		{"wildcard matching nobody", `get_users("zz*") | count`, "0\n", "", "", "0"},
		{"display-name wildcard matching nobody", `get_users("* Nobody") | count`, "0\n", "", "", "0"},
		{"a user", `get_users("Ken Myer") | count`, "1\n", "", "", "0"},
		{"stop", `get_users({identity: "ken", error_action: "stop"}) | count`, "", "", "get_users: ken: no such user", "0"},
		{"silently_continue", `get_users({identity: "ken", error_action: "silently_continue"}) | count`, "0\n", "", "", "1"},
		{"ignore", `get_users({identity: "ken", error_action: "ignore"}) | count`, "0\n", "", "", "0"},
		{"bad error_action", `get_users({identity: "ken", error_action: "go"})`, "", "", `get_users: option error_action "go" is not one of`, "0"},
		{"filter with an undefined value", `cfg := {}; get_users({filter: {pin_policy: cfg.polcy}}) | count`, "", "",
			"get_users: filter: field pin_policy: the value is undefined (a misspelt variable or field?)", "0"},
		{"filter with a value of the wrong kind", `get_users({filter: {enabled: "true"}}) | count`, "", "",
			`get_users: field enabled is true or false, not the string "true"; write {enabled: true} without quotes`, "0"},
		{"OU that excludes the user is a filter", `get_users({identity: "Ken Myer", ou: "OU=Nowhere,DC=litwareinc,DC=com"}) | count`, "0\n", "", "", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestShell(t)
			out, errOut, err := ts.run(tc.code)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if out != tc.out {
				t.Errorf("stdout %q, want %q", out, tc.out)
			}
			if tc.errOut == "" && errOut != "" || !strings.Contains(errOut, tc.errOut) {
				t.Errorf("stderr %q, want %q", errOut, tc.errOut)
			}
			if got := ts.value(`last_errors() | count`); got != tc.recordedErrors {
				t.Errorf("%s errors recorded, want %s", got, tc.recordedErrors)
			}
		})
	}
}
