package builtins

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/sample"
)

// The seed's three examples, written as an admin would, with exact outcomes.
func TestSeedExamples(t *testing.T) {
	t.Run("example 1: lock one user", func(t *testing.T) {
		ts := newTestShell(t)
		ts.must(`lock_pin("kenmyer@litwareinc.com")`)
		if got := ts.pinInfo("kenmyer@litwareinc.com").LockedBy; got != store.LockedByAdmin {
			t.Errorf("Ken locked by %v, want admin", got)
		}
	})
	t.Run("example 2: lock every set PIN", func(t *testing.T) {
		ts := newTestShell(t)
		out, stderr, err := ts.run(`s := get_users() | pin_info | where(func(p) { return p.is_pin_set }) | lock_pin; [s.changed, s.skipped, s.failed]`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != "[4, 2, 0]" {
			t.Errorf("summary = %s, want [4, 2, 0] (Ken, Pilar, David, Jeff changed; Tony, Lisa already locked)", out)
		}
		for _, who := range []string{"tonysmith", "lisasmith"} {
			want := "lock_pin: sip:" + who + "@litwareinc.com: PIN is already locked"
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q lacks %q", stderr, want)
			}
		}
		for _, who := range []string{"kenmyer", "pilar", "davidlongmuir", "jeffhay"} {
			if !ts.pinInfo(who + "@litwareinc.com").IsLockedOut() {
				t.Errorf("%s not locked", who)
			}
		}
		if ts.pinInfo("aidan@litwareinc.com").IsLockedOut() {
			t.Error("Aidan (no PIN) locked")
		}
	})
	for _, pred := range []string{
		`p.pin_expiration_time < now()`,
		`now() > p.pin_expiration_time`,
		`p.is_pin_expired`,
	} {
		t.Run("example 3: "+pred, func(t *testing.T) {
			ts := newTestShell(t)
			out, stderr, err := ts.run(`s := get_users() | pin_info | where(func(p) { return ` + pred + ` }) | lock_pin; [s.changed, s.skipped, s.failed]`)
			if err != nil || stderr != "" {
				t.Fatalf("err %v, stderr %q", err, stderr)
			}
			if strings.TrimSpace(out) != "[1, 0, 0]" {
				t.Errorf("summary = %s, want only David locked", out)
			}
			if !ts.pinInfo("davidlongmuir@litwareinc.com").IsLockedOut() {
				t.Error("David not locked")
			}
			for _, who := range []string{"kenmyer", "pilar", "jeffhay"} {
				if ts.pinInfo(who + "@litwareinc.com").IsLockedOut() {
					t.Errorf("%s locked, but the PIN has not expired", who)
				}
			}
		})
	}
}

func TestIdentityForms(t *testing.T) {
	for _, id := range []string{
		"sip:kenmyer@litwareinc.com", "SIP:KenMyer@LitwareInc.com", "kenmyer@litwareinc.com",
		`litwareinc\kenmyer`, `LITWAREINC\KENMYER`, "Ken Myer", "ken myer",
		"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", "Ken*",
	} {
		t.Run(id, func(t *testing.T) {
			ts := newTestShell(t)
			got := ts.value(`pin_info(` + fmt.Sprintf("%q", id) + `).identity`)
			if got != `"sip:kenmyer@litwareinc.com"` {
				t.Errorf("pin_info(%q).identity = %s", id, got)
			}
		})
	}
	ts := newTestShell(t)
	tests := []struct{ code, want string }{
		{`(get_users("kenmyer@litwareinc.com") | pin_info | collect)[0].identity`, `"sip:kenmyer@litwareinc.com"`},
		{`pin_info({identity: "pilar@litwareinc.com"}).identity`, `"sip:pilar@litwareinc.com"`},
		{`pin_info(["Ken Myer", "Pilar Ackerman"]) | count`, `2`},
		{`get_users("* Smith") | count`, `2`},
		{`get_users("nobody@litwareinc.com") | count`, `0`},
		{`(get_users("* Smith") | unlock_pin).changed`, `2`},
		{`lock_pin(pin_info("Ken Myer")).changed`, `1`},
		{`lock_pin([{identity: "Pilar Ackerman"}, "davidlongmuir@litwareinc.com"]).changed`, `2`},
	}
	for _, tt := range tests {
		if got := ts.value(tt.code); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.code, got, tt.want)
		}
	}
}

func TestPerItemErrors(t *testing.T) {
	tests := []struct {
		name, code   string
		setup        string
		wantStderr   []string
		wantSummary  string
		wantErr      string
		wantRecorded int
	}{
		{name: "no such user", code: `lock_pin(["nobody@litwareinc.com", "kenmyer@litwareinc.com"])`,
			wantStderr: []string{"lock_pin: nobody@litwareinc.com: no such user"}, wantSummary: "[1, 0, 1]", wantRecorded: 1},
		{name: "ambiguous display name", setup: `new_user({sip_address: "sip:ken2@litwareinc.com", display_name: "Ken Myer"})`, code: `lock_pin("Ken Myer")`,
			wantStderr: []string{"lock_pin: Ken Myer: ambiguous: 2 users have that name (sip:kenmyer@litwareinc.com, sip:ken2@litwareinc.com)"}, wantSummary: "[0, 0, 1]", wantRecorded: 1},
		{name: "no PIN", code: `lock_pin("aidan@litwareinc.com")`,
			wantStderr: []string{"lock_pin: sip:aidan@litwareinc.com: no PIN is set"}, wantSummary: "[0, 1, 0]", wantRecorded: 1},
		{name: "not locked", code: `unlock_pin("kenmyer@litwareinc.com")`,
			wantStderr: []string{"unlock_pin: sip:kenmyer@litwareinc.com: PIN is not locked"}, wantSummary: "[0, 1, 0]", wantRecorded: 1},
		{name: "not an identity", code: `lock_pin([42])`,
			wantStderr: []string{"lock_pin: 42: not an identity"}, wantSummary: "[0, 0, 1]", wantRecorded: 1},
		{name: "force hides", code: `lock_pin(["nobody@litwareinc.com", "Ken Myer"], {force: true})`,
			wantSummary: "[1, 0, 1]", wantRecorded: 1},
		{name: "silently_continue hides and records", code: `lock_pin(["nobody@litwareinc.com"], {error_action: "silently_continue"})`,
			wantSummary: "[0, 0, 1]", wantRecorded: 1},
		{name: "ignore hides and forgets", code: `lock_pin(["nobody@litwareinc.com"], {error_action: "ignore"})`,
			wantSummary: "[0, 0, 1]", wantRecorded: 0},
		{name: "stop ends the script", code: `lock_pin(["nobody@litwareinc.com", "kenmyer@litwareinc.com"], {error_action: "stop"})`,
			wantErr: "lock_pin: nobody@litwareinc.com: no such user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t)
			if tt.setup != "" {
				ts.must(tt.setup)
			}
			out, stderr, err := ts.run(`s := ` + tt.code + `; [s.changed, s.skipped, s.failed]`)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if ts.pinInfo("kenmyer@litwareinc.com").IsLockedOut() {
					t.Error("stop went on after the first error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]); got != tt.wantSummary {
				t.Errorf("summary = %q, want %s", got, tt.wantSummary)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if len(tt.wantStderr) == 0 && stderr != "" {
				t.Errorf("stderr = %q, want nothing shown", stderr)
			}
			if got := ts.sh.ErrorsShown(); got != len(tt.wantStderr) {
				t.Errorf("ErrorsShown = %d, want %d", got, len(tt.wantStderr))
			}
			if got := ts.value(`len(last_errors())`); got != fmt.Sprint(tt.wantRecorded) {
				t.Errorf("last_errors has %s, want %d", got, tt.wantRecorded)
			}
		})
	}
}

func TestWhatIf(t *testing.T) {
	for _, global := range []bool{false, true} {
		name, opt, opts := "option", ", {whatif: true}", []shellOption(nil)
		if global {
			name, opt, opts = "--whatif", "", []shellOption{withWhatIf()}
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestShell(t, opts...)
			before := ts.value(`audit_log() | count`)
			out := ts.must(`unlock_pin(get_users("* Smith")` + opt + `)
lock_pin("kenmyer@litwareinc.com"` + opt + `)
set_pin("aidan@litwareinc.com"` + opt + `)
grant_pin_policy("pilar@litwareinc.com", "Expire30"` + opt + `)
new_pin_policy("tag:X", {}` + opt + `)
remove_user("jeffhay@litwareinc.com"` + opt + `)
each(["x"], func(x) { lock_pin("davidlongmuir@litwareinc.com"` + opt + `) })`)
			for _, want := range []string{
				`What if: Performing the operation "unlock_pin" on target "sip:tonysmith@litwareinc.com".`,
				`What if: Performing the operation "unlock_pin" on target "sip:lisasmith@litwareinc.com".`,
				`What if: Performing the operation "lock_pin" on target "sip:kenmyer@litwareinc.com".`,
				`What if: Performing the operation "set_pin" on target "sip:aidan@litwareinc.com".`,
				`What if: Performing the operation "grant_pin_policy" on target "sip:pilar@litwareinc.com".`,
				`What if: Performing the operation "new_pin_policy" on target "tag:X".`,
				`What if: Performing the operation "remove_user" on target "sip:jeffhay@litwareinc.com".`,
				`What if: Performing the operation "lock_pin" on target "sip:davidlongmuir@litwareinc.com".`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if ts.pinInfo("kenmyer@litwareinc.com").IsLockedOut() || !ts.pinInfo("tonysmith@litwareinc.com").IsLockedOut() ||
				ts.pinInfo("aidan@litwareinc.com").IsSet || ts.pinInfo("davidlongmuir@litwareinc.com").IsLockedOut() {
				t.Error("whatif changed a PIN")
			}
			if got := ts.value(`get_users() | count`); got != "7" {
				t.Errorf("whatif removed a user: %s left", got)
			}
			if got := ts.value(`get_pin_policy() | count`); got != "3" {
				t.Errorf("whatif created a policy: %s policies", got)
			}
			if got := ts.value(`audit_log() | count`); got != before {
				t.Errorf("whatif wrote audit entries: %s before, %s after", before, got)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	answers := scripted{Yes, No, YesToAll}
	ts := newTestShell(t, withPrompter(&answers))
	out := ts.must(`s := lock_pin(["kenmyer@litwareinc.com", "pilar@litwareinc.com", "davidlongmuir@litwareinc.com", "jeffhay@litwareinc.com"], {confirm: true}); [s.changed, s.skipped]`)
	if strings.TrimSpace(out) != "[3, 1]" {
		t.Errorf("summary %s, want [3, 1]", out)
	}
	if len(answers) != 0 {
		t.Errorf("%d answers left; Yes to All must stop the questions", len(answers))
	}
	if ts.pinInfo("pilar@litwareinc.com").IsLockedOut() {
		t.Error("Pilar locked although the admin said No")
	}

	noTerm := newTestShell(t)
	if _, _, err := noTerm.run(`lock_pin("kenmyer@litwareinc.com", {confirm: true})`); !errors.Is(err, ErrNoTerminal) && (err == nil || !strings.Contains(err.Error(), "confirm needs a terminal")) {
		t.Errorf("confirm without a terminal: err = %v", err)
	}
	if noTerm.pinInfo("kenmyer@litwareinc.com").IsLockedOut() {
		t.Error("confirm without a terminal locked the PIN")
	}
}

func TestSetPinValidation(t *testing.T) {
	tests := []struct{ pin, wantErr string }{
		{"583920", ""},
		{"06284", ""},
		{"54321", "consecutive"},
		{"98765", "consecutive"},
		{"22334455", "repeat"},
		{"22222", "repeat"},
		{"12a45", "digits"},
		{"１２３４５", "digits"},
		{" 58392", "digits"},
		{"5839", "too short"},
		{strings.Repeat("5", 12) + strings.Repeat("7", 13), "too long"},
		{"50104", "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.pin, func(t *testing.T) {
			ts := newTestShell(t)
			_, stderr, err := ts.run(fmt.Sprintf(`set_pin("aidan@litwareinc.com", %q)`, tt.pin))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == "" {
				if stderr != "" {
					t.Fatalf("stderr %q", stderr)
				}
				if got := ts.value(fmt.Sprintf(`verify_pin("aidan@litwareinc.com", %q).ok`, tt.pin)); got != "true" {
					t.Errorf("the PIN set does not verify: %s", got)
				}
				return
			}
			if !strings.Contains(strings.ToLower(stderr), tt.wantErr) || !strings.HasPrefix(stderr, "set_pin: sip:aidan@litwareinc.com: ") {
				t.Errorf("stderr %q, want set_pin: sip:aidan@litwareinc.com: ...%s...", stderr, tt.wantErr)
			}
			if ts.pinInfo("aidan@litwareinc.com").IsSet {
				t.Error("a rejected PIN was set")
			}
		})
	}
	ts := newTestShell(t)
	ts.must(`set_pin("aidan@litwareinc.com", "06284")`)
	if got := ts.value(`verify_pin("aidan@litwareinc.com", "6284").reason`); got != `"wrong_pin"` {
		t.Errorf("leading zero dropped: verify 6284 = %s", got)
	}
	if _, _, err := ts.run(`set_pin("aidan@litwareinc.com", 58392)`); err == nil || !strings.Contains(err.Error(), "leading zeros") {
		t.Errorf("number PIN: err = %v", err)
	}
	_, stderr, _ := ts.run(`set_pin("tonysmith@litwareinc.com", "583920")`)
	if !strings.Contains(stderr, "unlock") {
		t.Errorf("set_pin on a locked PIN: stderr %q, want a hint to unlock it first", stderr)
	}
}

func TestSetPinGeneratesAndHistory(t *testing.T) {
	ts := newTestShell(t)
	pin := strings.Trim(ts.value(`set_pin("aidan@litwareinc.com").pin`), `"`)
	if len(pin) < 6 || strings.Trim(pin, "0123456789") != "" {
		t.Fatalf("generated PIN %q", pin)
	}
	if got := ts.value(fmt.Sprintf(`verify_pin("aidan@litwareinc.com", %q).ok`, pin)); got != "true" {
		t.Errorf("generated PIN does not verify")
	}
	if got := ts.value(`set_pin("kenmyer@litwareinc.com", "583920").pin`); got != "null" {
		t.Errorf("set_pin echoed a PIN the admin gave: %s", got)
	}
	// Ken's policy (tag:Expire30) remembers 1 PIN: the current one.
	ts.must(`set_pin("kenmyer@litwareinc.com", "` + sample.KenPIN + `")`) // admin reset: history not enforced
	_, stderr, _ := ts.run(`set_pin("kenmyer@litwareinc.com", "` + sample.KenPIN + `", {enforce_history: true})`)
	if !strings.Contains(stderr, "set_pin: sip:kenmyer@litwareinc.com:") {
		t.Errorf("enforce_history accepted a PIN from history; stderr %q", stderr)
	}
	if out := ts.must(`audit_log() | where({action: "set_pin"}) | collect`); strings.Contains(out, "583920") || strings.Contains(out, pin) {
		t.Errorf("a PIN reached the audit log: %s", out)
	}
}

func TestLockout(t *testing.T) {
	fail := func(n int) string {
		return fmt.Sprintf(`func() { r := undefined; for i := 0; i < %d; i++ { r = verify_pin("kenmyer@litwareinc.com", "000000") }; return r.reason }()`, n)
	}
	ok := `verify_pin("kenmyer@litwareinc.com", "` + sample.KenPIN + `").reason`

	t.Run("temporary lock and release", func(t *testing.T) {
		ts := newTestShell(t)
		if got := ts.value(fail(24)); got != `"wrong_pin"` {
			t.Fatal(got)
		}
		if got := ts.value(ok); got != `"ok"` {
			t.Fatalf("below the local limit: %s", got)
		}
		ts.value(fail(25))
		if got := ts.value(ok); got != `"temporarily_locked"` {
			t.Errorf("after 25 failures the right PIN gave %s, want temporarily_locked", got)
		}
		ts.must(`advance_clock("59m")`)
		if got := ts.value(ok); got != `"temporarily_locked"` {
			t.Errorf("59 minutes later: %s", got)
		}
		ts.must(`advance_clock("2m")`)
		if got := ts.value(ok); got != `"ok"` {
			t.Errorf("61 minutes later: %s, want ok", got)
		}
	})
	t.Run("failures spread over two windows", func(t *testing.T) {
		ts := newTestShell(t)
		ts.value(fail(20))
		ts.must(`advance_clock("31m")`)
		ts.value(fail(20))
		if got := ts.value(ok); got != `"ok"` {
			t.Errorf("40 failures over two windows: %s, want ok", got)
		}
		if got := ts.value(`pin_info("kenmyer@litwareinc.com").failed_attempts`); got != "40" {
			t.Errorf("failed_attempts = %s, want 40 (success resets only the short-term counter)", got)
		}
	})
	t.Run("permanent lock at the global limit, admin unlock", func(t *testing.T) {
		ts := newTestShell(t)
		// 5-digit PIN: 25 local, 1000 global. 40 windows of 25 failures.
		ts.must(`for w := 0; w < 40; w++ { for i := 0; i < 25; i++ { verify_pin("kenmyer@litwareinc.com", "000000") }; advance_clock("61m") }`)
		if got := ts.value(ok); got != `"locked"` {
			t.Fatalf("after 1000 failures: %s, want locked", got)
		}
		if got := ts.value(`pin_info("kenmyer@litwareinc.com").locked_by`); got != `"system"` {
			t.Errorf("locked_by = %s", got)
		}
		ts.must(`unlock_pin("kenmyer@litwareinc.com")`)
		if got := ts.value(ok); got != `"ok"` {
			t.Errorf("after unlock: %s", got)
		}
		if got := ts.value(`pin_info("kenmyer@litwareinc.com").failed_attempts`); got != "0" {
			t.Errorf("unlock left failed_attempts %s", got)
		}
	})
	t.Run("policy-set limit", func(t *testing.T) {
		ts := newTestShell(t)
		ts.must(`set_pin_policy("tag:Expire30", {maximum_logon_attempts: 3})`)
		ts.value(fail(3))
		if got := ts.value(ok); got != `"temporarily_locked"` {
			t.Errorf("after 3 failures with maximum_logon_attempts 3: %s", got)
		}
	})
	t.Run("4-digit PIN limits", func(t *testing.T) {
		ts := newTestShell(t)
		ts.must(`set_pin_policy("tag:Expire30", {min_password_length: 4}); set_pin("kenmyer@litwareinc.com", "4829")`)
		ts.value(fail(9))
		if got := ts.value(`verify_pin("kenmyer@litwareinc.com", "4829").reason`); got != `"ok"` {
			t.Errorf("9 failures: %s", got)
		}
		ts.value(fail(10))
		if got := ts.value(`verify_pin("kenmyer@litwareinc.com", "4829").reason`); got != `"temporarily_locked"` {
			t.Errorf("10 failures with a 4-digit PIN: %s, want temporarily_locked", got)
		}
	})
	t.Run("reasons", func(t *testing.T) {
		ts := newTestShell(t)
		for _, tt := range []struct{ who, pin, want string }{
			{"davidlongmuir@litwareinc.com", sample.DavidPIN, "expired"},
			{"aidan@litwareinc.com", "583920", "no_pin"},
			{"jeffhay@litwareinc.com", sample.JeffPIN, "disabled"},
			{"lisasmith@litwareinc.com", sample.LisaPIN, "locked"},
			{"nobody@litwareinc.com", "583920", "no_such_user"},
			{"pilar@litwareinc.com", sample.PilarPIN, "ok"},
		} {
			if got := ts.value(fmt.Sprintf(`verify_pin(%q, %q).reason`, tt.who, tt.pin)); got != `"`+tt.want+`"` {
				t.Errorf("verify_pin(%s) = %s, want %s", tt.who, got, tt.want)
			}
		}
		if got := ts.value(`audit_log({action: "verify_pin"}) | count`); got != "6" {
			t.Errorf("%s verify_pin audit entries, want 6", got)
		}
	})
}
