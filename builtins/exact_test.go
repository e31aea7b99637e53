package builtins

import (
	"strings"
	"testing"
)

// state is what a refused call must leave as it was: every user, its PIN
// state and policy, and the audit log.
func (ts *testShell) state() string {
	ts.t.Helper()
	return ts.value(`get_users() | pin_info | collect`) + ts.value(`get_users() | collect`) +
		ts.value(`audit_log() | count`)
}

// refused runs code on a fresh sample directory, checks that it fails with
// an error containing want, and that it changed nothing.
func refused(t *testing.T, code, want string) (stdout, stderr string, err error) {
	t.Helper()
	ts := newTestShell(t)
	before := ts.state()
	stdout, stderr, err = ts.run(code)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if after := ts.state(); after != before {
		t.Errorf("a refused call changed the directory or the audit log:\n%s\n%s", before, after)
	}
	return stdout, stderr, err
}

// A slip never acts on every user: a mutating builtin refuses a wildcard
// target, and an empty filter map, before it changes anything.
func TestMutationRefusesWildcards(t *testing.T) {
	tests := []struct{ code, want string }{
		{`name := ""; remove_user("*" + name)`,
			`remove_user: "*" is a wildcard; a mutating builtin takes users named exactly. To act on every match, select them first: get_users("*") | remove_user`},
		{`lock_pin("* ")`, `lock_pin: "* " is a wildcard`},
		{`lock_pin("**")`, `lock_pin: "**" is a wildcard`},
		{`lock_pin("* Smith")`, `select them first: get_users("* Smith") | lock_pin`},
		{`unlock_pin("* Smith")`, `get_users("* Smith") | unlock_pin`},
		{`set_pin("Ken*")`, `set_pin: "Ken*" is a wildcard`},
		{`set_pin("Ken*", "583920")`, `set_pin: "Ken*" is a wildcard`},
		{`grant_pin_policy("* Smith", "Expire30")`, `grant_pin_policy: "* Smith" is a wildcard`},
		{`lock_pin({identity: "*"})`, `lock_pin: "*" is a wildcard`},
		{`["kenmyer@litwareinc.com", "* Smith"] | lock_pin`, `lock_pin: "* Smith" is a wildcard`},
		{`["kenmyer@litwareinc.com", "*"] | lock_pin({confirm: false, error_action: "ignore"})`, `lock_pin: "*" is a wildcard`},
		{`lock_pin("*", {whatif: true})`, `lock_pin: "*" is a wildcard`},
		{`verify_pin("Ken*", "583920")`, `verify_pin: "Ken*" is a wildcard; verify_pin takes one user named exactly`},
		{`get_users({filter: {}}) | lock_pin`, `get_users: an empty filter selects every user; call get_users() to mean all`},
		{`get_users({identity: "* Smith", filter: {}}) | count`, `an empty filter selects every user`},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if out, _, _ := refused(t, tt.code, tt.want); strings.Contains(out, "What if") {
				t.Errorf("a wildcard was described as a target: %q", out)
			}
		})
	}
}

// Wildcards stay where they are explicit: get_users and pin_info take
// them, and the records they give name their users exactly.
func TestWildcardsSelectFirst(t *testing.T) {
	ts := newTestShell(t)
	tests := []struct{ code, want string }{
		{`get_users("*") | count`, `7`},
		{`get_users("* ") | count`, `7`},
		{`get_users("** ") | count`, `7`},
		{`get_users({identity: "* Smith", filter: {enabled: true}}) | count`, `2`},
		{`pin_info("* Smith") | count`, `2`},
		{`(get_users("* Smith") | unlock_pin).changed`, `2`},
		{`(get_users("* Smith") | pin_info | lock_pin).changed`, `2`},
	}
	for _, tt := range tests {
		if got := ts.value(tt.code); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
}

// set_pin and verify_pin give a PIN to one user only, and refuse a PIN in
// the user's place, never showing its digits.
func TestSetPinRefusesOnePinForMany(t *testing.T) {
	const onePin = "one PIN for many users is never what pinsh guesses you mean: give each user its own PIN: omit the pin to generate one per user"
	tests := []struct{ code, want string }{
		{`set_pin("48151", "Ken Myer")`, `set_pin: the first argument looks like a PIN in the user's place: set_pin(user, pin)`},
		{`set_pin("48151", "kenmyer@litwareinc.com", {whatif: true})`, `looks like a PIN in the user's place`},
		{`verify_pin("48151", "Ken Myer")`, `verify_pin: the first argument looks like a PIN in the user's place: verify_pin(user, pin)`},
		{`get_users() | set_pin("48151")`, onePin},
		{`s := set_pin("48151")`, onePin},
		{`get_users() | set_pin("48151", {force: true})`, onePin},
		{`set_pin(["Ken Myer", "Pilar Ackerman"], "48151")`, onePin},
		{`set_pin(get_users(), "48151")`, onePin},
		{`get_users() | pin_info | set_pin(read_pin)`, onePin},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if out, stderr, err := refused(t, tt.code, tt.want); strings.Contains(out+stderr+err.Error(), "48151") {
				t.Errorf("the PIN was shown: %v %q", err, stderr)
			}
		})
	}
	// One target, with or without a PIN, and a generated PIN per user.
	ts := newTestShell(t)
	if got := ts.value(`set_pin("Ken Myer", "583920").identity`); got != `"sip:kenmyer@litwareinc.com"` {
		t.Errorf("set_pin(user, pin) = %s", got)
	}
	if got := ts.value(`set_pin(pin_info("Aidan Delaney"), "583920").identity`); got != `"sip:aidan@litwareinc.com"` {
		t.Errorf("set_pin(record, pin) = %s", got)
	}
	if got := ts.must(`ps := []; for r in ["Ken Myer", "Pilar Ackerman"] | set_pin { ps = append(ps, r.pin) }; len(ps)`); got != "2\n" {
		t.Errorf("generated PINs: %s", got)
	}
}

// A stage of set_pin never shows its arguments, and a script statement
// that makes a stage and drops it is an error, not a silent no-op.
func TestStagesNeverShowPins(t *testing.T) {
	ts := newTestShell(t)
	out := ts.must(`x := set_pin({enforce_history: true}); x`) + ts.must(`string(x)`)
	if !strings.Contains(out, "<stage set_pin(...)>") || strings.Contains(out, "enforce") {
		t.Errorf("a set_pin stage printed as %q", out)
	}
	if got := ts.must(`string(lock_pin({whatif: true}))`); !strings.Contains(got, "<stage lock_pin({whatif: true})>") {
		t.Errorf("a lock_pin stage printed as %q", got)
	}
	before := ts.state()
	for _, tt := range []struct{ code, want string }{
		{`f := func() { lock_pin({whatif: true}) }; f()`, `lock_pin({whatif: true}) is a pipeline stage, not a value: nothing ran`},
		{`f := func() { set_pin({enforce_history: true}) }; f()`, `set_pin(...) is a pipeline stage, not a value: nothing ran`},
	} {
		if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
	if ts.state() != before {
		t.Error("a dropped stage changed something")
	}
}

// force hides the messages of per-item errors, as Lync's -Force does, but
// a failure still counts for the exit status; a skip does not.
func TestForceHidesButCountsFailures(t *testing.T) {
	tests := []struct {
		code          string
		summary       string // [changed, skipped, failed]
		shown, hidden int
	}{
		{`lock_pin("nobody@litwareinc.com", {force: true})`, "[0,0,1]", 0, 1},
		{`lock_pin(["nobody@litwareinc.com", "Ken Myer", "tonysmith@litwareinc.com"], {force: true})`, "[1,1,1]", 0, 1},
		{`lock_pin("tonysmith@litwareinc.com", {force: true})`, "[0,1,0]", 0, 0},
		{`unlock_pin("Ken Myer", {force: true})`, "[0,1,0]", 0, 0},
		{`lock_pin("nobody@litwareinc.com")`, "[0,0,1]", 1, 0},
		{`lock_pin("nobody@litwareinc.com", {force: true, error_action: "silently_continue"})`, "[0,0,1]", 0, 0},
		{`remove_user(["nobody@litwareinc.com", "Ken Myer"], {force: true})`, "[1,0,1]", 0, 1},
		{`grant_pin_policy("nobody@litwareinc.com", "Expire30", {force: true})`, "[0,0,1]", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			ts := newTestShell(t)
			_, stderr, err := ts.run(`s := ` + tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if got := ts.value(`[s.changed, s.skipped, s.failed]`); got != tt.summary {
				t.Errorf("summary %s, want %s", got, tt.summary)
			}
			if ts.sh.ErrorsShown() != tt.shown || ts.sh.FailuresHidden() != tt.hidden {
				t.Errorf("shown %d, hidden failures %d; want %d, %d", ts.sh.ErrorsShown(), ts.sh.FailuresHidden(), tt.shown, tt.hidden)
			}
			if (stderr != "") != (tt.shown > 0) {
				t.Errorf("stderr %q", stderr)
			}
		})
	}
	// set_pin's failures count too: a locked PIN cannot be set.
	ts := newTestShell(t)
	if _, stderr, err := ts.run(`set_pin("tonysmith@litwareinc.com", "583920", {force: true})`); err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	if ts.sh.FailuresHidden() != 1 {
		t.Errorf("set_pin on a locked PIN under force: hidden failures %d, want 1", ts.sh.FailuresHidden())
	}
}
