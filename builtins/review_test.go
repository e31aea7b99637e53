package builtins

import (
	"strings"
	"testing"
)

// Cases found in review: each was a way to leak a PIN, act on the wrong
// users, or act after error_action "stop".
func TestBindingAndStopCases(t *testing.T) {
	t.Run("a PIN bound in a pipeline is never taken for a user, nor given to many", func(t *testing.T) {
		ts := newTestShell(t)
		_, stderr, err := ts.run(`get_users("aidan@litwareinc.com") | set_pin("583920") | count`)
		if err == nil || !strings.Contains(err.Error(), "one PIN for many users") || strings.Contains(err.Error(), "583920") || stderr != "" {
			t.Fatalf("err %v, stderr %q", err, stderr)
		}
		if ts.pinInfo("aidan@litwareinc.com").IsSet {
			t.Error("a PIN was set")
		}
		if strings.Contains(ts.must(`last_errors()`), "583920") {
			t.Error("the PIN reached last_errors()")
		}
	})
	t.Run("verify_pin with swapped arguments audits nothing", func(t *testing.T) {
		ts := newTestShell(t)
		before := ts.value(`audit_log() | count`)
		for _, tt := range []struct{ code, want string }{
			{`verify_pin("583920", "Ken Myer")`, "looks like a PIN in the user's place: verify_pin(user, pin)"},
			{`verify_pin("Ken Myer", "Ken Myer")`, "verify_pin(identity, pin)"},
		} {
			if _, _, err := ts.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "583920") {
				t.Errorf("%s: err = %v", tt.code, err)
			}
		}
		if got := ts.value(`audit_log() | count`); got != before {
			t.Errorf("audit entries %s -> %s", before, got)
		}
	})
	t.Run("verify_pin under --whatif changes no counter", func(t *testing.T) {
		ts := newTestShell(t, withWhatIf())
		out := ts.must(`verify_pin("kenmyer@litwareinc.com", "000000")`)
		if !strings.Contains(out, `What if: Performing the operation "verify_pin" on target "kenmyer@litwareinc.com".`) {
			t.Errorf("output %q", out)
		}
		if got := ts.pinInfo("kenmyer@litwareinc.com").GlobalFailures; got != 0 {
			t.Errorf("failed attempts %d", got)
		}
	})
	t.Run("an empty identity is an error, not everyone", func(t *testing.T) {
		ts := newTestShell(t)
		for _, code := range []string{`get_users("")`, `get_users({identity: " "})`} {
			if _, _, err := ts.run(code); err == nil || !strings.Contains(err.Error(), "the identity is empty") {
				t.Errorf("%s: err = %v", code, err)
			}
		}
		if _, _, err := ts.run(`get_users({ou: "garbage"})`); err == nil || !strings.Contains(err.Error(), `ou "garbage"`) {
			t.Errorf("bad ou: err = %v", err)
		}
	})
	t.Run("an undefined target is an error", func(t *testing.T) {
		ts := newTestShell(t)
		if _, _, err := ts.run(`p := {}; set_pin(p.identity, "583920")`); err == nil || !strings.Contains(err.Error(), "the target is undefined") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("stop stops inside the users of one wildcard", func(t *testing.T) {
		ts := newTestShell(t)
		ts.must(`unlock_pin("lisasmith@litwareinc.com")`)
		// Tony (already locked) comes before Lisa.
		if _, _, err := ts.run(`get_users("* Smith") | lock_pin({error_action: "stop"})`); err == nil || !strings.Contains(err.Error(), "tonysmith") {
			t.Fatalf("err = %v", err)
		}
		if ts.pinInfo("lisasmith@litwareinc.com").IsLockedOut() {
			t.Error("stop went on to Lisa")
		}
	})
	t.Run("a user named twice is changed once", func(t *testing.T) {
		ts := newTestShell(t)
		_, stderr, err := ts.run(`s := lock_pin(["Ken Myer", "kenmyer@litwareinc.com"])`)
		if err != nil || stderr != "" {
			t.Fatalf("err %v, stderr %q", err, stderr)
		}
		if got := ts.value(`[s.changed, s.failed]`); got != "[1,0]" {
			t.Errorf("summary %s", got)
		}
	})
	t.Run("a removed user is named, not its key", func(t *testing.T) {
		ts := newTestShell(t)
		ts.must(`r := pin_info("Ken Myer"); x := remove_user("kenmyer@litwareinc.com")`)
		_, stderr, _ := ts.run(`lock_pin(r)`)
		if stderr != "lock_pin: sip:kenmyer@litwareinc.com: no such user\n" {
			t.Errorf("stderr %q", stderr)
		}
	})
	t.Run("grant takes per-user policies only", func(t *testing.T) {
		ts := newTestShell(t)
		if _, _, err := ts.run(`grant_pin_policy("Ken Myer", "site:Redmond")`); err == nil || !strings.Contains(err.Error(), "not a per-user policy") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("role changes take whatif", func(t *testing.T) {
		ts := newTestShell(t)
		out := ts.must(`add_role_member("CsHelpDesk", "bob", {whatif: true})`)
		if !strings.Contains(out, `What if: Performing the operation "add_role_member" on target "CsHelpDesk".`) {
			t.Errorf("output %q", out)
		}
		if got := ts.value(`contains(admin_roles("CsHelpDesk").members, "bob")`); got != "false" {
			t.Error("whatif added the member")
		}
		if _, _, err := ts.run(`add_role_member("CsHelpDesk", "bob", 5)`); err == nil || !strings.Contains(err.Error(), "options map") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestGrantTwiceIsQuiet(t *testing.T) {
	ts := newTestShell(t)
	_, stderr, err := ts.run(`s := grant_pin_policy("Ken Myer", "Expire30")`)
	if err != nil || stderr != "" {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
	if got := ts.value(`[s.changed, s.skipped]`); got != "[0,1]" {
		t.Errorf("summary %s", got)
	}
	if ts.sh.ErrorsShown() != 0 {
		t.Error("a no-op counted as a shown error")
	}
}

func TestSetPinConfirmAndStop(t *testing.T) {
	answers := scripted{No, Yes}
	ts := newTestShell(t, withPrompter(&answers))
	out := ts.must(`r := set_pin(["aidan@litwareinc.com", "pilar@litwareinc.com"], {confirm: true}) | collect; p := r[0].pin; len(r)`)
	if strings.TrimSpace(out) != "1" || ts.pinInfo("aidan@litwareinc.com").IsSet {
		t.Errorf("confirm: %q; Aidan (declined) set = %v", out, ts.pinInfo("aidan@litwareinc.com").IsSet)
	}
	// Tony is locked: with stop, Aidan after him gets no PIN.
	ts2 := newTestShell(t)
	if _, _, err := ts2.run(`set_pin(["tonysmith@litwareinc.com", "aidan@litwareinc.com"], {error_action: "stop"}) | collect`); err == nil || !strings.Contains(err.Error(), "unlock") {
		t.Fatalf("err = %v", err)
	}
	if ts2.pinInfo("aidan@litwareinc.com").IsSet {
		t.Error("stop went on to Aidan")
	}
}

func TestMoreErrorPaths(t *testing.T) {
	ts := newTestShell(t, func(c *Config) {
		c.ReadPin = func(prompt string) (string, error) { return "583920", nil }
	})
	if got := ts.value(`set_pin("aidan@litwareinc.com", read_pin("PIN for Aidan: ")) | count`); got != "1" {
		t.Errorf("set_pin with read_pin: %s", got)
	}
	if got := ts.value(`verify_pin("aidan@litwareinc.com", read_pin()).ok`); got != "true" {
		t.Errorf("verify_pin with read_pin: %s", got)
	}
	// What read_pin returns never shows the PIN.
	out := ts.must(`p := read_pin(); p`) + ts.must(`string(p)`) + ts.must(`[p]`) + ts.value(`p`)
	if strings.Contains(out, "583920") || !strings.Contains(out, "<PIN hidden>") {
		t.Errorf("read_pin's value printed as %q", out)
	}
	noTerm := newTestShell(t)
	errs := []struct{ code, want string }{
		{`read_pin()`, "needs a terminal"},
		{`read_pin(5)`, "prompt must be a string"},
		{`read_pin("a", "b")`, "want read_pin([prompt])"},
		{`verify_pin("* Smith", "583920")`, `"* Smith" is a wildcard; verify_pin takes one user named exactly`},
		{`verify_pin("Ken Myer")`, "want verify_pin(identity, pin)"},
		{`verify_pin("Ken Myer", 48151)`, "leading zeros"},
		{`audit_log(5)`, "want a map of filters"},
		{`audit_log({since: "the other day"})`, `since "the other day" is not a date or time; write "today"`},
		{`audit_log({operator: 5})`, "operator must be a string"},
		{`audit_log({who: "x"})`, `unknown filter "who"`},
		{`audit_log({}, {})`, "want audit_log()"},
		{`now("soon")`, "want Go duration syntax"},
		{`now(5)`, "must be a string"},
		{`now("1d", "2d")`, "want now() or now(offset)"},
		{`advance_clock()`, "want advance_clock(duration)"},
		{`assert()`, "want assert(cond[, msg])"},
		{`assert_eq(1)`, "want assert_eq(got, want[, msg])"},
		{`assert(false, "it broke")`, "assertion failed: it broke"},
		{`assert_eq(1, 2, "sum")`, "sum: got 1, want 2"},
		{`last_errors(1)`, "takes no arguments"},
		{`help(1, 2)`, "want help() or help(name)"},
		{`admin_roles("Nope")`, "not found"},
		{`admin_roles(1, 2)`, "want admin_roles()"},
		{`lock_pin("Ken Myer", {whatif: true}, 5)`, "unexpected argument"},
		{`set_pin("Ken Myer", "1", "2")`, "want set_pin(target[, pin][, opts])"},
		{`set_pin("Ken Myer", "")`, "the PIN is empty"},
		{`set_pin("Ken Myer", [1])`, "must be a string of digits"},
	}
	for _, tt := range errs {
		if _, _, err := noTerm.run(tt.code); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.code, err, tt.want)
		}
	}
	if got := noTerm.value(`[now("-1d12h") < now(), now("1d") > now("23h")]`); got != "[true,true]" {
		t.Errorf("now offsets: %s", got)
	}
	if got := noTerm.value(`audit_log({since: now("-1d"), until: now("1d"), operator: "admin", target: "global"}) | count`); got != "0" {
		t.Errorf("audit filters: %s", got)
	}
}

func TestPinInfoOfRemovedUser(t *testing.T) {
	ts := newTestShell(t)
	ts.must(`u := get_users("Ken Myer") | collect; x := remove_user("kenmyer@litwareinc.com")`)
	out, stderr, err := ts.run(`pin_info(u) | count`)
	if err != nil || strings.TrimSpace(out) != "0" || stderr != "pin_info: sip:kenmyer@litwareinc.com: no such user\n" {
		t.Errorf("out %q stderr %q err %v", out, stderr, err)
	}
}

func TestLastErrorsKeepsTheNewest(t *testing.T) {
	ts := newTestShell(t)
	ts.must(`for i := 0; i < 250; i++ { s := lock_pin("nobody" + string(i) + "@litwareinc.com", {force: true}) }`)
	if got := ts.value(`len(last_errors())`); got != "100" {
		t.Errorf("last_errors holds %s, want 100", got)
	}
	if got := ts.value(`last_errors()[99]`); !strings.Contains(got, "nobody249@") {
		t.Errorf("newest error is %s", got)
	}
}
