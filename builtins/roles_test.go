package builtins

import (
	"context"
	"errors"
	"slices"
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
