package builtins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicies(t *testing.T) {
	ts := newTestShell(t)
	tests := []struct{ code, want string }{
		{`get_pin_policy() | count`, `3`},
		{`get_pin_policy("global").maximum_logon_attempts`, `null`},
		{`new_pin_policy("site:Paris", {min_password_length: 6, description: "Paris"}).min_password_length`, `6`},
		{`set_pin_policy("site:Paris", {maximum_logon_attempts: 5}).maximum_logon_attempts`, `5`},
		{`set_pin_policy("site:Paris", {maximum_logon_attempts: undefined}).maximum_logon_attempts`, `null`},
		{`grant_pin_policy("pilar@litwareinc.com", "tag:Expire30").changed`, `1`},
		{`get_users("pilar@litwareinc.com") | select("pin_policy") | collect`, `[{"pin_policy":"Expire30"}]`},
		{`grant_pin_policy("pilar@litwareinc.com", undefined).changed`, `1`},
		{`(get_users("* Smith") | grant_pin_policy("Expire30")).changed`, `2`},
		{`get_users() | where({pin_policy: "Expire30"}) | count`, `4`},
		{`get_users("pilar@litwareinc.com") | where({pin_policy: undefined}) | count`, `1`},
		{`remove_pin_policy("tag:Expire30")`, `null`},
		{`get_users() | where({pin_policy: "Expire30"}) | count`, `0`},
		{`set_pin_policy("global", {min_password_length: 9}).min_password_length`, `9`},
		{`remove_pin_policy("global")`, `null`},
		{`get_pin_policy("global").min_password_length`, `5`},
	}
	for _, tt := range tests {
		if got := ts.value(tt.code); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
	errs := []struct{ code, want string }{
		{`set_pin_policy("global", {min_password_length: 3})`, "min_password_length"},
		{`set_pin_policy("global", {min_password_length: 25})`, "min_password_length"},
		{`set_pin_policy("global", {pin_history_count: 21})`, "pin_history_count"},
		{`set_pin_policy("global", {pin_lifetime: 1000})`, "pin_lifetime"},
		{`set_pin_policy("global", {maximum_logon_attempts: 1000})`, "maximum_logon_attempts"},
		{`set_pin_policy("global", {pin_lifetime: 30})`, "history"},
		{`set_pin_policy("global", {min_password_lenght: 6})`, `unknown policy field "min_password_lenght"`},
		{`set_pin_policy("global", {min_password_length: "6"})`, "must be a whole number"},
		{`set_pin_policy("global", {allow_common_patterns: 1})`, "must be true or false"},
		{`set_pin_policy("global", {description: 1})`, "must be a string"},
		{`set_pin_policy("global", 5)`, "props must be a map"},
		{`set_pin_policy("global")`, "want set_pin_policy(identity, props[, opts])"},
		{`set_pin_policy("global", {}, 5)`, "options map"},
		{`set_pin_policy(5, {})`, "identity must be a string"},
		{`new_pin_policy("site:Paris", {})`, "already exists"},
		{`new_pin_policy("bogus", {})`, "global, site:NAME or tag:NAME"},
		{`get_pin_policy("tag:Nope")`, "not found"},
		{`get_pin_policy(1, 2)`, "want get_pin_policy()"},
		{`grant_pin_policy("pilar@litwareinc.com", "Nope")`, "new_pin_policy"},
		{`grant_pin_policy("pilar@litwareinc.com", 5)`, "name must be a string"},
		{`["pilar@litwareinc.com"] | grant_pin_policy()`, "want grant_pin_policy(target, name"},
	}
	for _, tt := range errs {
		if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
}

func TestUsers(t *testing.T) {
	ts := newTestShell(t)
	tests := []struct{ code, want string }{
		{`new_user({sip_address: "Ann@Fabrikam.com", display_name: "Ann Beebe", enabled: false}).identity`, `"sip:ann@fabrikam.com"`},
		{`(get_users("fabrikam\\ann") | collect)[0].user_principal_name`, `"ann@fabrikam.com"`},
		{`(get_users("ann@fabrikam.com") | collect)[0].enabled`, `false`},
		{`get_users({filter: func(u) { return !u.enabled }}) | count`, `2`},
		{`get_users({identity: "* Smith", result_size: 1}) | count`, `1`},
		{`get_users({ou: "OU=Redmond,DC=litwareinc,DC=com"}) | count`, `7`},
		{`get_users({ou: "OU=Paris,DC=litwareinc,DC=com"}) | count`, `0`},
		{`get_users({identity: "Ken Myer", ou: "OU=Paris,DC=litwareinc,DC=com"}) | count`, `0`},
		{`remove_user("ann@fabrikam.com").changed`, `1`},
		{`get_users() | count`, `7`},
	}
	for _, tt := range tests {
		if got := ts.value(tt.code); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
	errs := []struct{ code, want string }{
		{`new_user({display_name: "No Address"})`, "sip_address"},
		{`new_user({sip_address: "kenmyer@litwareinc.com"})`, "already"},
		{`new_user({sip_address: "x@y.com", colour: "red"})`, `unknown user field "colour"`},
		{`new_user({sip_address: 5})`, "must be a string"},
		{`new_user({sip_address: "x@y.com", enabled: "yes"})`, "must be true or false"},
		{`new_user("x@y.com")`, "fields must be a map"},
		{`new_user({sip_address: "x@y.com"}, 5)`, "options map"},
		{`new_user()`, "want new_user(fields"},
		{`get_users(5)`, "want an identity string or a map"},
		{`get_users({size: 5})`, `unknown key "size"`},
		{`get_users({result_size: -1})`, "result_size"},
		{`get_users({ou: 5})`, "ou must be a string"},
		{`get_users("a", "b")`, "want get_users()"},
		{`get_users({filter: 5})`, "filter"},
		{`import_users()`, "want import_users(path[, opts])"},
		{`import_users("x.csv", 5)`, "options map"},
		{`import_users(5)`, "path must be a string"},
		{`import_users("/nonexistent/users.csv")`, "open /nonexistent/users.csv"},
	}
	for _, tt := range errs {
		if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
}

func TestImportUsers(t *testing.T) {
	ts := newTestShell(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "users.csv")
	os.WriteFile(csv, []byte("sip_address,display_name,line_uri\n"+
		"ann@fabrikam.com,Ann Beebe,tel:+14255550200\n"+
		"kenmyer@litwareinc.com,Duplicate Ken,\n"+
		"bob@fabrikam.com,Bob Kelly,\n"), 0o600)
	out, stderr, err := ts.run(fmt.Sprintf(`r := import_users(%q); [r.imported, r.bad]`, csv))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != "[2, 1]" {
		t.Errorf("report %s, want [2, 1]", out)
	}
	if want := csv + ":3: "; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks the bad row's line %q", stderr, want)
	}
	if ts.sh.ErrorsShown() != 1 {
		t.Errorf("ErrorsShown = %d", ts.sh.ErrorsShown())
	}
	ldif := filepath.Join(dir, "users.ldif")
	os.WriteFile(ldif, []byte("dn: CN=Cy Lee,OU=Paris,DC=fabrikam,DC=com\nmsRTCSIP-PrimaryUserAddress: sip:cy@fabrikam.com\ndisplayName: Cy Lee\n"), 0o600)
	if got := ts.value(fmt.Sprintf(`import_users(%q).imported`, ldif)); got != "1" {
		t.Errorf("LDIF import: %s", got)
	}
	if got := ts.value(`get_users({ou: "OU=Paris,DC=fabrikam,DC=com"}) | count`); got != "1" {
		t.Errorf("imported LDIF user not under its OU: %s", got)
	}
}

func TestImportWhatIf(t *testing.T) {
	for _, global := range []bool{false, true} {
		opts, opt := []shellOption(nil), ", {whatif: true}"
		if global {
			opts, opt = []shellOption{withWhatIf()}, ""
		}
		ts := newTestShell(t, opts...)
		csv := filepath.Join(t.TempDir(), "users.csv")
		os.WriteFile(csv, []byte("sip_address,enabled\nann@fabrikam.com,true\nbob@fabrikam.com,maybe\n"), 0o600)
		out, stderr, err := ts.run(fmt.Sprintf(`r := import_users(%q%s); [r.imported, r.bad]`, csv, opt))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, `What if: Performing the operation "import_users" on target "`+csv+`".`) || !strings.Contains(out, "[0, 1]") {
			t.Errorf("whatif import printed %q", out)
		}
		if !strings.Contains(stderr, csv+":3: ") {
			t.Errorf("whatif import did not show the bad row: %q", stderr)
		}
		if got := ts.value(`get_users() | count`); got != "7" {
			t.Errorf("whatif import added users: %s", got)
		}
	}
}
