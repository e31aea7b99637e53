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
		{`set_pin_policy("site:Paris", {description: undefined}).description`, `null`},
		{`set_pin_policy("site:Paris", {description: "Paris"}).description`, `"Paris"`},
		{`set_pin_policy("site:Paris", {description: ""}).description`, `null`},
		{`grant_pin_policy("pilar@litwareinc.com", "tag:Expire30").changed`, `1`},
		{`get_users("pilar@litwareinc.com") | select("pin_policy") | collect`, `[{"pin_policy":"Expire30"}]`},
		{`grant_pin_policy("pilar@litwareinc.com", undefined).changed`, `1`},
		{`(get_users("* Smith") | grant_pin_policy("Expire30")).changed`, `2`},
		{`get_users() | where({pin_policy: "Expire30"}) | count`, `4`},
		{`get_users("pilar@litwareinc.com") | where(func(u) { return is_undefined(u.pin_policy) }) | count`, `1`},
		{`remove_pin_policy("tag:Expire30").changed`, `1`},
		{`get_users() | where({pin_policy: "Expire30"}) | count`, `0`},
		{`set_pin_policy("global", {min_password_length: 9}).min_password_length`, `9`},
		{`remove_pin_policy("global").changed`, `1`},
		{`get_pin_policy("global").min_password_length`, `5`},
	}
	for _, tt := range tests {
		if got := ts.value(tt.code); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
	// Errors in the call itself end it, whatever error_action says.
	errs := []struct{ code, want string }{
		{`set_pin_policy("global", {min_password_length: 3})`, "min_password_length"},
		{`set_pin_policy("global", {min_password_length: 25})`, "min_password_length"},
		{`set_pin_policy("global", {pin_history_count: 21})`, "pin_history_count"},
		{`set_pin_policy("global", {pin_lifetime: 1000})`, "pin_lifetime"},
		{`set_pin_policy("global", {maximum_logon_attempts: 1000}, {error_action: "ignore"})`, "maximum_logon_attempts"},
		{`set_pin_policy("global", {min_password_lenght: 6})`, `unknown policy field "min_password_lenght"; did you mean min_password_length?`},
		{`set_pin_policy("global", {MinPasswordLength: 6})`, `did you mean min_password_length?`},
		{`set_pin_policy("global", {PINHistoryCount: 6})`, `did you mean pin_history_count?`},
		{`set_pin_policy("global", {colour: 6})`, `unknown policy field "colour"; fields are allow_common_patterns, description,`},
		{`new_pin_policy("X", {wahtif: true})`, `did you mean the option whatif? options go in a map of their own after props`},
		{`set_pin_policy("global", {min_password_length: "6"})`, "must be a whole number"},
		{`set_pin_policy("global", {min_password_length: undefined})`, "only maximum_logon_attempts and description can be unset"},
		{`set_pin_policy("global", {allow_common_patterns: 1})`, "must be true or false"},
		{`set_pin_policy("global", {description: 1})`, "must be a string, or undefined"},
		{`set_pin_policy("global", {identity: 1})`, "identity in props must be a string"},
		{`set_pin_policy("global", 5)`, "argument 1 must be a props map of policy fields, not int"},
		{`set_pin_policy("global")`, "global: want set_pin_policy(identity, props[, opts]): props is missing"},
		{`get_pin_policy() | set_pin_policy`, "a policy record can only be written back as it was read"},
		{`get_pin_policy() | set_pin_policy({whatif: true})`, "props is missing"},
		{`set_pin_policy({identity: "global", min_pasword_length: 6})`, `global: unknown policy field "min_pasword_length"`},
		{`set_pin_policy("global", {}, 5)`, "argument 2 must be an options map"},
		{`set_pin_policy("global", {}, {}, {})`, "got 3 arguments"},
		{`set_pin_policy("global", {min_password_length: 6, whatif: true})`, "whatif is an option, not a policy field"},
		{`set_pin_policy("global", {}, {wahtif: true})`, `unknown option "wahtif"`},
		{`set_pin_policy("global", {identity: "site:Redmond", min_password_length: 6})`, `props name policy "site:Redmond", but the target is global`},
		{`new_pin_policy("tag:Y", {identity: "tag:Z"})`, `props name policy "tag:Z", not tag:Y`},
		{`new_pin_policy()`, "want new_pin_policy(identity[, props][, opts])"},
		{`new_pin_policy(5)`, "identity must be a string"},
		{`new_pin_policy("stie:Paris", {})`, `unknown policy scope "stie"`},
		{`new_pin_policy("tag:global", {})`, "may not be named global"},
		{`get_pin_policy("tag:Nope")`, "not found"},
		{`get_pin_policy("Redmond")`, "did you mean site:Redmond?"},
		{`get_pin_policy("Redmond*")`, `get_pin_policy({filter: "tag:*"}) takes one`},
		{`get_pin_policy(1, 2)`, "want get_pin_policy()"},
		{`get_pin_policy(5)`, "identity must be a string, not int, or a map {filter: PATTERN}"},
		{`get_pin_policy({fliter: "tag:*"})`, `unknown key "fliter"; did you mean filter?`},
		{`get_pin_policy({identity: "global"})`, `unknown key "identity"; give one policy's identity as a string, get_pin_policy("global"); get_pin_policy takes {filter: PATTERN}`},
		{`get_pin_policy({filter: 5})`, "filter must be a string"},
		{`get_pin_policy({filter: " "})`, "filter is empty"},
		{`remove_pin_policy("global", {min_password_length: 5})`, `unknown option "min_password_length"`},
		{`remove_pin_policy("global", {}, {})`, "want remove_pin_policy([opts]), got 2 arguments"},
		{`grant_pin_policy("pilar@litwareinc.com", "Nope")`, "new_pin_policy"},
		{`grant_pin_policy("pilar@litwareinc.com", 5)`, "the policy name must be a string, or undefined written literally, not int"},
		{`grant_pin_policy("pilar@litwareinc.com", "Nope")`, `create it with new_pin_policy("Nope", {...})`},
		{`grant_pin_policy("pilar@litwareinc.com", "stie:Redmond")`, `unknown policy scope "stie"`},
		{`grant_pin_policy("pilar@litwareinc.com", "GLOBAL")`, "not a per-user policy"},
		{`grant_pin_policy("pilar@litwareinc.com", "Expire*")`, "no wildcard"},
		{`["pilar@litwareinc.com"] | grant_pin_policy()`, "want grant_pin_policy(target, name"},
	}
	for _, tt := range errs {
		if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
}

// TestGrantPolicyName: only an undefined written in the call takes the
// policy away; one read from a misspelt variable or field, an empty name and
// a wildcard are refused before any user is touched, and an options map
// never changes how the call reads.
func TestGrantPolicyName(t *testing.T) {
	const undef = "the policy name is undefined (a misspelt variable or field?); to take the policy away write grant_pin_policy(target, undefined) literally"
	tests := []struct{ name, setup, code, want, err string }{
		{name: "literal undefined in a pipe", code: `(get_users() | grant_pin_policy(undefined)).changed`, want: "2"},
		{name: "literal undefined with a target", code: `grant_pin_policy("Ken Myer", undefined).changed`, want: "1"},
		{name: "literal undefined, whatif", code: `(get_users() | grant_pin_policy(undefined, {whatif: true})).whatif`, want: "true"},
		{name: "literal undefined bound first", setup: `f := grant_pin_policy(undefined)`, code: `(get_users() | f).changed`, want: "2"},
		{name: "name with options binds", code: `(get_users() | grant_pin_policy("Expire30", {whatif: true})).changed`, want: "7"},
		{name: "target, name and options", code: `grant_pin_policy("Ken Myer", "Expire30", {whatif: true}).whatif`, want: "true"},
		{name: "misspelt field", code: `cfg := {policy: "Expire30"}; get_users() | grant_pin_policy(cfg.polcy)`, err: undef},
		{name: "misspelt field, whatif", code: `cfg := {policy: "Expire30"}; get_users() | grant_pin_policy(cfg.polcy, {whatif: true})`, err: undef},
		{name: "undefined variable", code: `x := undefined; grant_pin_policy("Ken Myer", x)`, err: undef},
		{name: "undefined target", code: `grant_pin_policy(undefined, "Expire30")`, err: "the target is undefined"},
		{name: "wildcard", code: `get_users() | grant_pin_policy("*")`, err: `policy name "*": a policy name takes no wildcard`},
		{name: "wildcard, whatif", code: `get_users() | grant_pin_policy("*", {whatif: true})`, err: `a policy name takes no wildcard`},
		{name: "empty", code: `get_users() | grant_pin_policy("")`, err: "the policy name is empty; give a per-user policy name"},
		{name: "blank with a target", code: `grant_pin_policy("Ken Myer", " ")`, err: "the policy name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t)
			if tt.setup != "" {
				ts.must(tt.setup)
			}
			if tt.err == "" {
				// the value is the last line, after any What if lines
				out := ts.value(tt.code)
				if got := out[strings.LastIndex(out, "\n")+1:]; got != tt.want {
					t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
				}
				return
			}
			_, _, err := ts.run(tt.code)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("%s: err = %v, want %q", tt.code, err, tt.err)
			}
			if strings.Contains(err.Error(), "takes the policy away") && !strings.Contains(tt.err, "undefined") {
				t.Errorf("%s: %v steers to undefined", tt.code, err)
			}
			if got := ts.value(`get_users() | where({pin_policy: "Expire30"}) | count`); got != "2" {
				t.Errorf("after %s, %s users have Expire30, want the demo's 2", tt.code, got)
			}
		})
	}
}

// TestPolicyItemErrors: a failure on one policy (it does not exist, already
// exists, its values break the lifetime rule) is a per-item error, as for
// the users of lock_pin: shown, the call returns undefined (set, new) or
// counts it (remove), and error_action governs it.
func TestPolicyItemErrors(t *testing.T) {
	tests := []struct{ code, value, stderr string }{
		{`set_pin_policy("global", {pin_lifetime: 30})`, `null`, "set_pin_policy: global: pin_lifetime \"30\": a PIN lifetime above 0 needs pin_history_count above 0"},
		{`set_pin_policy("tag:Nope", {min_password_length: 6})`, `null`, "set_pin_policy: policy tag:Nope: not found"},
		{`set_pin_policy("Redmond", {min_password_length: 6})`, `null`, "did you mean site:Redmond?"},
		{`set_pin_policy("site:Expire30", {})`, `null`, "did you mean tag:Expire30?"},
		{`new_pin_policy("site:Redmond", {})`, `null`, "new_pin_policy: policy site:Redmond: already exists"},
		{`new_pin_policy("Expire30")`, `null`, "policy tag:Expire30: already exists"},
		{`remove_pin_policy("Nope").failed`, `1`, "remove_pin_policy: policy tag:Nope: not found"},
		{`(["global", 5, "user:x", get_users("Ken Myer")] | remove_pin_policy).failed`, `3`,
			"remove_pin_policy: 5: not a policy"},
		{`(get_users("Ken Myer") | remove_pin_policy).failed`, `1`, "a user record is not a PIN policy"},
		{`(["x:y"] | remove_pin_policy).failed`, `1`, `unknown policy scope "x"`},
		{`set_pin_policy("global", {pin_lifetime: 30}, {force: true})`, `null`, ""},
		{`set_pin_policy("global", {pin_lifetime: 30}, {error_action: "silently_continue"})`, `null`, ""},
		{`new_pin_policy("site:Redmond", {}, {error_action: "ignore"})`, `null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			ts := newTestShell(t)
			out, stderr, err := ts.run(`json := import("json"); string(json.encode(` + tt.code + `))`)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if strings.TrimSpace(out) != tt.value {
				t.Errorf("value %s, want %s", strings.TrimSpace(out), tt.value)
			}
			if tt.stderr == "" && stderr != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
			if got := ts.value(`get_pin_policy("global").pin_lifetime`); got != "0" {
				t.Errorf("a refused change changed the global policy: pin_lifetime %s", got)
			}
		})
	}
	ts := newTestShell(t)
	for _, code := range []string{
		`set_pin_policy("global", {pin_lifetime: 30}, {error_action: "stop"})`,
		`new_pin_policy("site:Redmond", {}, {error_action: "stop"})`,
		`get_pin_policy() | remove_pin_policy({error_action: "stop"})`, // global resets; the error is from the next, which exists
	} {
		_, _, err := ts.run(code)
		if code == `get_pin_policy() | remove_pin_policy({error_action: "stop"})` {
			if err != nil {
				t.Errorf("%s: %v", code, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: error_action stop did not end the call", code)
		}
	}
	if got := ts.value(`last_errors() | count`); got != "0" {
		t.Errorf("stop recorded its error as a per-item one: %s", got)
	}
}

// TestPolicyPipelines runs the pipeline forms of the *-CsPinPolicy examples.
func TestPolicyPipelines(t *testing.T) {
	tests := []struct {
		name, setup, code, want string
	}{
		{name: "Set example 3", code: `get_pin_policy() | set_pin_policy({min_password_length: 10}) | select("identity", "min_password_length") | collect`,
			want: `[{"identity":"global","min_password_length":10},{"identity":"site:Redmond","min_password_length":10},{"identity":"tag:Expire30","min_password_length":10}]`},
		{name: "Set example 4", setup: `set_pin_policy("tag:Expire30", {min_password_length: 12})`,
			code: `get_pin_policy() | where(func(p) { return p.min_password_length > 10 }) | set_pin_policy({maximum_logon_attempts: 25}) | select("identity") | collect`,
			want: `[{"identity":"tag:Expire30"}]`},
		{name: "Set by where map", code: `(get_pin_policy() | where({allow_common_patterns: false}) | set_pin_policy({maximum_logon_attempts: 25}) | collect)[2].maximum_logon_attempts`, want: `25`},
		{name: "Remove example 2", code: `(get_pin_policy({filter: "site:*"}) | remove_pin_policy).changed`, want: `1`},
		{name: "Remove example 3", setup: `set_pin_policy("site:Redmond", {allow_common_patterns: true})`,
			code: `(get_pin_policy() | where({allow_common_patterns: true}) | remove_pin_policy).changed`, want: `1`},
		{name: "Remove example 4", setup: `set_pin_policy("global", {min_password_length: 11}); get_pin_policy() | remove_pin_policy`,
			code: `get_pin_policy() | collect`, want: `[{"identity":"global","min_password_length":5,"pin_history_count":0,"pin_lifetime":0,"allow_common_patterns":false,"maximum_logon_attempts":null,"description":null}]`},
		{name: "Get example 3", code: `get_pin_policy({filter: "tag:*"}) | select("identity") | collect`, want: `[{"identity":"tag:Expire30"}]`},
		{name: "filter is case-insensitive", code: `get_pin_policy({filter: "*REDMOND*"}) | select("identity") | collect`, want: `[{"identity":"site:Redmond"}]`},
		{name: "filter of nothing", code: `get_pin_policy({filter: "Expire*"}) | count`, want: `0`},
		{name: "bare source", code: `get_pin_policy | count`, want: `3`},
		{name: "array of identities", code: `(["Expire30", "site:Redmond"] | set_pin_policy({min_password_length: 7}) | collect)[1].identity`, want: `"site:Redmond"`},
		{name: "identity piped", code: `("Expire30" | set_pin_policy({min_password_length: 7})).identity`, want: `"tag:Expire30"`},
		{name: "bound stage kept", setup: `f := set_pin_policy({min_password_length: 8})`, code: `(get_pin_policy("global") | f).min_password_length`, want: `8`},
		{name: "record as target", code: `set_pin_policy(get_pin_policy("Expire30"), {min_password_length: 6}).min_password_length`, want: `6`},
		{name: "instance: a changed map written back", setup: `p := to_map(get_pin_policy("tag:Expire30")); p.pin_lifetime = 60`, code: `set_pin_policy(p).pin_lifetime`, want: `60`},
		{name: "instance with options", setup: `p := to_map(get_pin_policy("global")); p.min_password_length = 8; set_pin_policy(p, {whatif: true})`, code: `get_pin_policy("global").min_password_length`, want: `5`},
		{name: "Microsoft names: set", setup: `new_pin_policy("RedmondUsersPinPolicy")`, code: `set_pin_policy("RedmondUsersPinPolicy", {min_password_length: 10, allow_common_patterns: true}).identity`, want: `"tag:RedmondUsersPinPolicy"`},
		{name: "Microsoft names: remove", setup: `new_pin_policy("RedmondUsersPinPolicy")`, code: `[remove_pin_policy("RedmondUsersPinPolicy").changed, get_pin_policy({filter: "tag:redmond*"}) | count]`, want: `[1,0]`},
		{name: "Microsoft names: grant", setup: `new_pin_policy("RedmondUsersPinPolicy"); grant_pin_policy("Ken Myer", "RedmondUsersPinPolicy"); u := (get_users("Ken Myer") | collect)[0]`,
			code: `get_pin_policy(u.pin_policy).identity`, want: `"tag:RedmondUsersPinPolicy"`},
		{name: "Global in any case", code: `set_pin_policy("GLOBAL", {min_password_length: 7}).identity`, want: `"global"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t)
			if tt.setup != "" {
				ts.must(tt.setup)
			}
			if got := ts.value(tt.code); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
			}
		})
	}
}

// TestPolicyRoundTrip: a policy record made a map, changed and given back.
func TestPolicyRoundTrip(t *testing.T) {
	ts := newTestShell(t)
	ts.must(`p := to_map(get_pin_policy("global")); p.min_password_length = 7`)
	got := ts.value(`set_pin_policy("global", p)`)
	if want := `{"identity":"global","min_password_length":7,"pin_history_count":0,"pin_lifetime":0,"allow_common_patterns":false,"maximum_logon_attempts":null,"description":null}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	ts.must(`p = to_map(get_pin_policy("site:Redmond")); p.description = undefined; p.maximum_logon_attempts = 9`)
	got = ts.value(`set_pin_policy("SITE:redmond", p)`)
	if want := `{"identity":"site:Redmond","min_password_length":5,"pin_history_count":0,"pin_lifetime":0,"allow_common_patterns":false,"maximum_logon_attempts":9,"description":null}`; got != want {
		t.Errorf("round trip clearing the description = %s, want %s", got, want)
	}
	// New-CsPinPolicy example 4: copy one field of a policy into a new one.
	ts.must(`x := get_pin_policy("site:Redmond")`)
	got = ts.value(`new_pin_policy("site:Paris", {min_password_length: x.min_password_length}).identity`)
	if got != `"site:Paris"` {
		t.Errorf("copy = %s", got)
	}
	ts.must(`p = to_map(get_pin_policy("tag:Expire30")); delete(p, "identity")`)
	got = ts.value(`new_pin_policy("Copy", p).pin_lifetime`)
	if got != `30` {
		t.Errorf("a copied policy = %s", got)
	}
}

// TestPolicyConfirm: Yes to All and No to All hold for the rest of one
// call over many policies.
func TestPolicyConfirm(t *testing.T) {
	answers := scripted{No, YesToAll}
	ts := newTestShell(t, withPrompter(&answers))
	if got := ts.value(`get_pin_policy() | set_pin_policy({min_password_length: 6}, {confirm: true}) | count`); got != "2" {
		t.Errorf("changed %s policies, want 2", got)
	}
	if got := ts.value(`get_pin_policy("global").min_password_length`); got != "5" {
		t.Errorf("global changed after No: %s", got)
	}
	answers = scripted{NoToAll}
	if got := ts.value(`(get_pin_policy() | remove_pin_policy({confirm: true})).skipped`); got != "3" {
		t.Errorf("skipped %s, want 3", got)
	}
	answers = scripted{No}
	if got := ts.value(`new_pin_policy("tag:Asked", {}, {confirm: true})`); got != "null" {
		t.Errorf("new_pin_policy after No = %s", got)
	}
	if got := ts.value(`get_pin_policy({filter: "tag:asked"}) | count`); got != "0" {
		t.Errorf("created after No")
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
		{`new_user({sip_address: "x@y.com", colour: "red"})`, `unknown user field "colour"`},
		{`new_user({sip_address: 5})`, "must be a string"},
		{`new_user({sip_address: "y@litwareinc.com", site: undefined, line_uri: undefined})`,
			"new_user: field line_uri: the value is undefined (a misspelt variable or field?); to leave line_uri empty, leave it out"},
		{`u := {}; new_user({sip_address: "y@litwareinc.com", display_name: u.dispaly_name})`,
			"field display_name: the value is undefined (a misspelt variable or field?); to leave display_name empty, leave it out"},
		{`new_user({sip_address: undefined})`, "field sip_address: the value is undefined"},
		{`new_user({sip_address: "y@litwareinc.com", enabled: undefined})`, "field enabled: the value is undefined"},
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
	if got := ts.value(`get_users("y@litwareinc.com") | count`); got != "0" {
		t.Errorf("a refused new_user created the user: count = %s", got)
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

// TestPolicyGlobalWhatIf: --whatif holds for the policy pipelines too.
func TestPolicyGlobalWhatIf(t *testing.T) {
	ts := newTestShell(t, withWhatIf())
	out := ts.must(`get_pin_policy() | set_pin_policy({min_password_length: 8}); s := get_pin_policy() | remove_pin_policy; s.whatif`)
	for _, id := range []string{"global", "site:Redmond", "tag:Expire30"} {
		for _, op := range []string{"set_pin_policy", "remove_pin_policy"} {
			if want := `What if: Performing the operation "` + op + `" on target "` + id + `".`; !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	}
	if got := ts.value(`[get_pin_policy() | count, get_pin_policy("global").min_password_length]`); got != "[3,5]" {
		t.Errorf("--whatif changed the policies: %s", got)
	}
}
