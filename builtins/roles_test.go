package builtins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/sample"
)

// TestRoleMatrix runs every domain builtin as a member of each standard role
// (and as an operator in no role) and checks it is allowed or denied as
// facts §7 says. The expected table is written out here, apart from the
// store's, so that a change to either is caught.
func TestRoleMatrix(t *testing.T) {
	const (
		admin    = testAdmin
		user     = sample.UserAdmin
		help     = sample.HelpDesk
		server   = sample.ServerAdmin
		viewOnly = sample.ViewOnlyAdmin
		nobody   = "mallory"
	)
	everyone := []string{admin, user, help, server, viewOnly}
	calls := []struct {
		builtin, code string
		allowed       []string
	}{
		{"get_users", `get_users() | count`, everyone},
		{"pin_info", `pin_info("kenmyer@litwareinc.com")`, everyone},
		{"get_pin_policy", `get_pin_policy("global")`, everyone},
		{"admin_roles", `admin_roles() | count`, everyone},
		{"audit_log", `audit_log() | count`, everyone},
		{"set_pin", `set_pin("aidan@litwareinc.com", "583920")`, []string{admin, user}},
		{"lock_pin", `lock_pin("kenmyer@litwareinc.com")`, []string{admin, user, help}},
		{"unlock_pin", `unlock_pin("tonysmith@litwareinc.com")`, []string{admin, user, help}},
		{"verify_pin", `verify_pin("kenmyer@litwareinc.com", "583920")`, []string{admin}},
		{"new_pin_policy", `new_pin_policy("tag:X", {})`, []string{admin, server}},
		{"set_pin_policy", `set_pin_policy("global", {min_password_length: 6})`, []string{admin, server}},
		{"remove_pin_policy", `remove_pin_policy("tag:Expire30")`, []string{admin, server}},
		{"grant_pin_policy", `grant_pin_policy("pilar@litwareinc.com", "Expire30")`, []string{admin, user, server}},
		{"new_user", `new_user({sip_address: "sip:ann@litwareinc.com"})`, []string{admin, user}},
		{"remove_user", `remove_user("jeffhay@litwareinc.com")`, []string{admin, user}},
		{"import_users", `import_users("/nonexistent.csv")`, []string{admin, user}},
		{"new_admin_role", `new_admin_role("Tier1", "CsHelpDesk")`, []string{admin}},
		{"remove_admin_role", `remove_admin_role("Tier1")`, []string{admin}},
		{"add_role_member", `add_role_member("CsHelpDesk", "carol")`, []string{admin}},
		{"remove_role_member", `remove_role_member("CsHelpDesk", "helpdesk1")`, []string{admin}},
	}
	for _, op := range append(everyone, nobody) {
		for _, c := range calls {
			t.Run(op+"/"+c.builtin, func(t *testing.T) {
				ts := newTestShell(t, asOperator(op))
				_, _, err := ts.run(c.code)
				var denied *DeniedError
				isDenied := errors.As(err, &denied)
				if want := slices.Contains(c.allowed, op); want == isDenied {
					t.Fatalf("allowed = %v, but err = %v", want, err)
				}
				if !isDenied {
					return
				}
				if denied.Builtin != c.builtin || denied.Operator != op {
					t.Errorf("denial names %s/%s", denied.Operator, denied.Builtin)
				}
				if !strings.Contains(err.Error(), "CsAdministrator") {
					t.Errorf("denial %q does not name the roles that may", err)
				}
				entries, _, err := ts.st.ScanAudit(context.Background(), store.AuditQuery{Action: c.builtin, Operator: op}, 0, 100)
				if err != nil || len(entries) != 1 || entries[0].Outcome != "denied" {
					t.Errorf("denial not audited: %+v %v", entries, err)
				}
			})
		}
	}
}

// TestDenialAudit: the audit entry of a refused command has the builtin as
// its action and what it targeted as its target; a refused stream or array
// of targets is not read, and its entry says so.
func TestDenialAudit(t *testing.T) {
	// A view-only admin may read what the pipelines read.
	viewer := sample.ViewOnlyAdmin
	tests := []struct{ code, action, target, detail, op string }{
		{`lock_pin("kenmyer@litwareinc.com")`, "lock_pin", "kenmyer@litwareinc.com", "not in a role that may run it", ""},
		{`"Ken Myer" | set_pin`, "set_pin", "Ken Myer", "not in a role that may run it", ""},
		{`lock_pin(get_users("Ken Myer") | first(1) | collect)`, "lock_pin", "", "were not read", viewer},
		{`set_pin(["Ken Myer"])`, "set_pin", "", "were not read", ""},
		{`get_users("* Smith") | unlock_pin`, "unlock_pin", "", "its targets (a stream or an array) were not read", viewer},
		{`set_pin_policy("Expire30", {min_password_length: 6})`, "set_pin_policy", "Expire30", "not in a role", ""},
		{`set_pin_policy(get_pin_policy("Expire30"), {min_password_length: 6})`, "set_pin_policy", "tag:Expire30", "not in a role", viewer},
		{`get_pin_policy() | remove_pin_policy`, "remove_pin_policy", "", "were not read", viewer},
		{`new_pin_policy("RedmondUsersPinPolicy")`, "new_pin_policy", "tag:RedmondUsersPinPolicy", "not in a role", ""},
		{`add_role_member("CsHelpDesk", "mallory")`, "add_role_member", "CsHelpDesk", "not in a role", ""},
		{`new_user({sip_address: "ann@fabrikam.com"})`, "new_user", "sip:ann@fabrikam.com", "not in a role", ""},
		{`import_users("/nonexistent.csv")`, "import_users", "/nonexistent.csv", "not in a role", ""},
		{`verify_pin("kenmyer@litwareinc.com", "583920")`, "verify_pin", "kenmyer@litwareinc.com", "not in a role", ""},
		{`audit_log() | count`, "audit_log", "", "not in a role that may run it", ""},
		{`get_users("Ken Myer") | count`, "get_users", "Ken Myer", "not in a role that may run it", ""},
		{`get_users() | count`, "get_users", "", "not in a role that may run it", ""},
		{`admin_roles("CsHelpDesk")`, "admin_roles", "CsHelpDesk", "not in a role that may run it", ""},
		{`get_pin_policy("Expire30")`, "get_pin_policy", "tag:Expire30", "not in a role that may run it", ""},
		{`pin_info("Ken Myer")`, "pin_info", "Ken Myer", "not in a role that may run it", ""},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if tt.op == "" {
				tt.op = "mallory"
			}
			ts := newTestShell(t, asOperator(tt.op))
			var denied *DeniedError
			if _, _, err := ts.run(tt.code); !errors.As(err, &denied) {
				t.Fatalf("err = %v, want a denial", err)
			}
			entries, _, err := ts.st.ScanAudit(context.Background(), store.AuditQuery{Operator: tt.op}, 0, 100)
			if err != nil || len(entries) != 1 {
				t.Fatalf("audit entries %+v, %v", entries, err)
			}
			e := entries[0]
			if e.Action != tt.action || e.Target != tt.target || e.Outcome != "denied" || !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("audit entry %+v; want action %s, target %q, detail with %q", e, tt.action, tt.target, tt.detail)
			}
		})
	}
	ts := newTestShell(t, asOperator("mallory"))
	long := strings.Repeat("x", 1000)
	ts.run(`lock_pin("` + long + `")`)
	entries, _, _ := ts.st.ScanAudit(context.Background(), store.AuditQuery{Operator: "mallory"}, 0, 10)
	if len(entries) != 1 || len([]rune(entries[0].Target)) != maxAuditTarget {
		t.Errorf("a long target is not cut to %d characters: %+v", maxAuditTarget, entries)
	}
}

// TestEveryMutatorTakesTheOptions: whatif, confirm, force and error_action
// are accepted by every mutating builtin; whatif changes nothing, and a
// failure on the target is a per-item error that error_action governs.
func TestEveryMutatorTakesTheOptions(t *testing.T) {
	calls := []struct {
		name, code, fails string // code takes the options map as %s; fails is a call that fails on its target
	}{
		{"new_user", `new_user({sip_address: "sip:ann@fabrikam.com"}%s)`, `new_user({sip_address: "kenmyer@litwareinc.com"}%s)`},
		{"remove_user", `remove_user("jeffhay@litwareinc.com"%s)`, `remove_user("nobody@litwareinc.com"%s)`},
		{"import_users", `import_users(CSV%s)`, `import_users(BAD%s)`},
		{"lock_pin", `lock_pin("kenmyer@litwareinc.com"%s)`, `lock_pin("nobody@litwareinc.com"%s)`},
		{"unlock_pin", `unlock_pin("tonysmith@litwareinc.com"%s)`, `unlock_pin("kenmyer@litwareinc.com"%s)`},
		{"set_pin", `set_pin("aidan@litwareinc.com", "583920"%s)`, `set_pin("nobody@litwareinc.com"%s)`},
		{"new_pin_policy", `new_pin_policy("Desk"%s)`, `new_pin_policy("Expire30", {}%s)`},
		{"set_pin_policy", `set_pin_policy("global", {min_password_length: 6}%s)`, `set_pin_policy("Nope", {}%s)`},
		{"remove_pin_policy", `remove_pin_policy("Expire30"%s)`, `remove_pin_policy("Nope"%s)`},
		{"grant_pin_policy", `grant_pin_policy("Ken Myer", "Expire30"%s)`, `grant_pin_policy("nobody@litwareinc.com", "Expire30"%s)`},
		{"new_admin_role", `new_admin_role("Tier1", "CsHelpDesk"%s)`, `new_admin_role("CsHelpDesk", "CsHelpDesk"%s)`},
		{"remove_admin_role", `remove_admin_role("CsHelpDesk"%s)`, `remove_admin_role("Nope"%s)`},
		{"add_role_member", `add_role_member("CsHelpDesk", "carol"%s)`, `add_role_member("Nope", "carol"%s)`},
		{"remove_role_member", `remove_role_member("CsHelpDesk", "helpdesk1"%s)`, `remove_role_member("CsAdministrator", "admin"%s)`},
	}
	dir := t.TempDir()
	csv, bad := filepath.Join(dir, "users.csv"), filepath.Join(dir, "bad.csv")
	os.WriteFile(csv, []byte("sip_address\nann@fabrikam.com\n"), 0o600)
	os.WriteFile(bad, []byte("sip_address,enabled\nbob@fabrikam.com,maybe\ncy@fabrikam.com,true\n"), 0o600)
	files := strings.NewReplacer("CSV", strconv.Quote(csv), "BAD", strconv.Quote(bad))
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestShell(t)
			before := ts.value(`audit_log() | count`)
			out := ts.must(files.Replace(fmt.Sprintf(c.code, `, {whatif: true, force: false, error_action: "continue"}`)))
			if !strings.Contains(out, `What if: Performing the operation "`+c.name+`" on target "`) {
				t.Errorf("whatif printed %q", out)
			}
			if got := ts.value(`audit_log() | count`); got != before {
				t.Errorf("whatif changed something: %s audit entries, then %s", before, got)
			}
			answers := scripted{No}
			ts.sh.cfg.Prompter = &answers
			ts.must(files.Replace(fmt.Sprintf(c.code, `, {confirm: true}`)))
			if len(answers) != 0 {
				t.Error("confirm did not ask")
			}
			if got := ts.value(`audit_log() | count`); got != before {
				t.Errorf("No changed something: %s audit entries, then %s", before, got)
			}
			for _, opt := range []string{`, {force: true}`, `, {error_action: "ignore"}`, `, {error_action: "silently_continue"}`} {
				if _, stderr, err := ts.run(files.Replace(fmt.Sprintf(c.fails, opt))); err != nil || stderr != "" {
					t.Errorf("%s: err %v, stderr %q; want neither", opt, err, stderr)
				}
			}
			if _, stderr, err := ts.run(files.Replace(fmt.Sprintf(c.fails, ""))); err != nil || !strings.Contains(stderr, c.name+": ") {
				t.Errorf("default: err %v, stderr %q; want the per-item error shown", err, stderr)
			}
			if _, _, err := ts.run(files.Replace(fmt.Sprintf(c.fails, `, {error_action: "stop"}`))); err == nil {
				t.Error(`error_action "stop" did not end the call`)
			}
			if _, _, err := ts.run(files.Replace(fmt.Sprintf(c.code, `, {wahtif: true}`))); err == nil || !strings.Contains(err.Error(), `"wahtif"`) {
				t.Errorf("a misspelt option: %v", err)
			}
		})
	}
}
