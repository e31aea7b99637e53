package store

import (
	"errors"
	"strings"
	"testing"
)

func ip(n int) *int { return &n }

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy(GlobalPolicy).Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	for _, tc := range []struct {
		c     PolicyChanges
		field string
	}{
		{PolicyChanges{MinPasswordLength: ip(3)}, "min_password_length"},
		{PolicyChanges{MinPasswordLength: ip(25)}, "min_password_length"},
		{PolicyChanges{PinHistoryCount: ip(-1)}, "pin_history_count"},
		{PolicyChanges{PinHistoryCount: ip(21)}, "pin_history_count"},
		{PolicyChanges{PinLifetime: ip(1000), PinHistoryCount: ip(1)}, "pin_lifetime"},
		{PolicyChanges{PinLifetime: ip(30)}, "pin_lifetime"}, // lifetime needs history
		{PolicyChanges{MaximumLogonAttempts: ip(1000)}, "maximum_logon_attempts"},
		{PolicyChanges{MaximumLogonAttempts: ip(-2)}, "maximum_logon_attempts"},
	} {
		_, err := tc.c.Apply(DefaultPolicy("tag:x"))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrPolicyRange) {
			t.Errorf("Apply(%+v) error = %v; want ErrPolicyRange on %s", tc.c, err, tc.field)
		}
	}
	yes, d := true, "d"
	p, err := PolicyChanges{MinPasswordLength: ip(24), PinHistoryCount: ip(20), PinLifetime: ip(999),
		MaximumLogonAttempts: ip(1), AllowCommonPatterns: &yes, Description: &d}.Apply(DefaultPolicy("site:x"))
	if err != nil || p.MinPasswordLength != 24 || p.PinLifetime != 999 || !p.AllowCommonPatterns || p.Description != "d" {
		t.Errorf("upper bounds rejected: %+v, %v", p, err)
	}
}

func TestParsePolicyIdentity(t *testing.T) {
	for _, tc := range []struct{ in, canon, key string }{
		{"Global", "global", "global"}, {"site:Redmond", "site:Redmond", "site:redmond"},
		{" TAG: Short ", "tag:Short", "tag:short"},
		// A name without a scope is a per-user policy, as in every Lync example.
		{"RedmondUsersPinPolicy", "tag:RedmondUsersPinPolicy", "tag:redmonduserspinpolicy"},
		{" Short ", "tag:Short", "tag:short"}, {"Site", "tag:Site", "tag:site"},
		{"Site: Redmond", "site:Redmond", "site:redmond"}, {"site:a:b", "site:a:b", "site:a:b"},
	} {
		c, k, err := ParsePolicyIdentity(tc.in)
		if err != nil || c != tc.canon || k != tc.key {
			t.Errorf("ParsePolicyIdentity(%q) = %q, %q, %v", tc.in, c, k, err)
		}
	}
	for _, tc := range []struct{ in, why string }{
		{"", "a policy identity is"}, {"  ", "a policy identity is"}, {"site:", "a policy identity is"},
		{"tag: ", "a policy identity is"}, {"user:x", `unknown policy scope "user"`},
		{"stie:Redmond", `unknown policy scope "stie"`}, {"tag:*", "no wildcard"}, {"Redmond*", "no wildcard"},
		{"tag:GLOBAL", "may not be named global"}, {"tag:a:b", `would read as scope "a"`},
		{"tag:a\x00b", "control characters"}, {"a\tb", "control characters"},
	} {
		_, _, err := ParsePolicyIdentity(tc.in)
		var fe *FieldError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != "identity" || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParsePolicyIdentity(%q) error = %v; want ErrInvalid saying %q", tc.in, err, tc.why)
		}
	}
}

func TestMatchPolicyFilter(t *testing.T) {
	for _, tc := range []struct {
		pattern, identity string
		want              bool
	}{
		{"tag:*", "tag:Expire30", true}, {"TAG:*", "tag:Expire30", true}, {"tag:*", "site:Redmond", false},
		{"site:S*", "site:Seattle", true}, {"site:S*", "site:Redmond", false}, {"*", "global", true},
		{"*redmond*", "tag:RedmondUsers", true}, {"Global", "global", true}, {"glob", "global", false},
		{"Redmond*", "tag:RedmondUsers", false}, // identities carry their scope, as in Lync
	} {
		if got := MatchPolicyFilter(tc.pattern, tc.identity); got != tc.want {
			t.Errorf("MatchPolicyFilter(%q, %q) = %v", tc.pattern, tc.identity, got)
		}
	}
}

func TestPolicyChangesCheck(t *testing.T) {
	if err := (PolicyChanges{MaximumLogonAttempts: ip(0), PinLifetime: ip(30)}).Check(); err != nil {
		t.Errorf("unset attempts and a lifetime (history is Apply's business): %v", err)
	}
	for _, tc := range []struct {
		c     PolicyChanges
		field string
	}{
		{PolicyChanges{MinPasswordLength: ip(3)}, "min_password_length"},
		{PolicyChanges{PinHistoryCount: ip(21)}, "pin_history_count"},
		{PolicyChanges{PinLifetime: ip(-1)}, "pin_lifetime"},
		{PolicyChanges{MaximumLogonAttempts: ip(1000)}, "maximum_logon_attempts"},
	} {
		var fe *FieldError
		if err := tc.c.Check(); !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrPolicyRange) {
			t.Errorf("Check(%+v) = %v; want ErrPolicyRange on %s", tc.c, err, tc.field)
		}
	}
}

func TestEffectivePolicy(t *testing.T) {
	stored := map[string]Policy{
		"global": {Identity: "global"}, "site:redmond": {Identity: "site:Redmond"}, "tag:short": {Identity: "tag:Short"},
	}
	lookup := func(k string) (Policy, bool) { p, ok := stored[k]; return p, ok }
	for _, tc := range []struct {
		u    User
		want string
	}{
		{User{}, "global"}, {User{Site: "Redmond"}, "site:Redmond"}, {User{Site: "Paris"}, "global"},
		{User{Site: "Redmond", PinPolicy: "Short"}, "tag:Short"}, {User{PinPolicy: "gone"}, "global"},
	} {
		if got := EffectivePolicy(tc.u, lookup); got.Identity != tc.want {
			t.Errorf("EffectivePolicy(%+v) = %s; want %s", tc.u, got.Identity, tc.want)
		}
	}
	if got := EffectivePolicy(User{}, func(string) (Policy, bool) { return Policy{}, false }); got != DefaultPolicy("global") {
		t.Errorf("without a stored global policy: %+v", got)
	}
}

func TestStandardRoles(t *testing.T) {
	roles := StandardRoles()
	if len(roles) != 5 {
		t.Fatalf("%d standard roles", len(roles))
	}
	for _, tc := range []struct {
		role, builtin string
		want          bool
	}{
		{CsAdministrator, "new_admin_role", true}, {CsUserAdministrator, "set_pin", true},
		{CsUserAdministrator, "new_pin_policy", false}, {CsUserAdministrator, "grant_pin_policy", true},
		{CsHelpDesk, "lock_pin", true}, {CsHelpDesk, "set_pin", false},
		{CsServerAdministrator, "set_pin_policy", true}, {CsServerAdministrator, "lock_pin", false},
		{CsViewOnlyAdministrator, "pin_info", true}, {CsViewOnlyAdministrator, "lock_pin", false},
	} {
		r, ok := StandardRole(tc.role)
		if !ok || r.Allows(tc.builtin) != tc.want || !r.IsStandardRole {
			t.Errorf("%s may run %s: got %v, want %v", tc.role, tc.builtin, r.Allows(tc.builtin), tc.want)
		}
	}
	roles[0].Builtins[0] = "changed"
	if StandardRoles()[0].Builtins[0] == "changed" {
		t.Error("StandardRoles shares its slices")
	}
	if _, ok := StandardRole("nobody"); ok {
		t.Error("StandardRole(nobody) found")
	}
}
