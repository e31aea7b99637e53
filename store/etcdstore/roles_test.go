package etcdstore

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
)

// TestRoles runs the role changes once each, with their audit entries.
// (storetest's Roles covers them in full once the Store is complete.)
func TestRoles(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	roles, err := s.Roles(ctx)
	if err != nil || len(roles) != 5 || roles[0].Identity != store.CsAdministrator || !slices.Equal(roles[0].Members, []string{"admin"}) {
		t.Fatalf("Roles = %+v, %v", roles, err)
	}
	for i, std := range store.StandardRoles() {
		if r := roles[i]; r.Identity != std.Identity || !r.IsStandardRole || !slices.Equal(r.Builtins, std.Builtins) {
			t.Errorf("role %d = %+v; want %s", i, r, std.Identity)
		}
	}
	r, err := s.NewRole(ctx, op, "Tier1", "cshelpdesk")
	if err != nil || r.IsStandardRole || r.Template != store.CsHelpDesk || !r.Allows("lock_pin") || r.Allows("set_pin") {
		t.Fatalf("NewRole = %+v, %v", r, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"duplicate role", store.ErrDuplicate, func() error { _, err := s.NewRole(ctx, op, "tier1", "CsHelpDesk"); return err }},
		{"bad template", store.ErrNotFound, func() error { _, err := s.NewRole(ctx, op, "Tier2", "Tier1"); return err }},
		{"bad name", store.ErrInvalid, func() error { _, err := s.NewRole(ctx, op, "a\tb", "CsHelpDesk"); return err }},
		{"add twice", store.ErrDuplicate, func() error {
			s.AddRoleMember(ctx, op, "tier1", "hd1")
			return s.AddRoleMember(ctx, op, "Tier1", "HD1")
		}},
		{"add to missing role", store.ErrNotFound, func() error { return s.AddRoleMember(ctx, op, "nope", "x") }},
		{"bad member", store.ErrInvalid, func() error { return s.AddRoleMember(ctx, op, "Tier1", " ") }},
		{"remove standard", store.ErrStandardRole, func() error { return s.RemoveRole(ctx, op, "CsHelpDesk") }},
		{"remove non-member", store.ErrNotFound, func() error { return s.RemoveRoleMember(ctx, op, "Tier1", "nobody") }},
		{"remove last admin", store.ErrLastAdmin, func() error { return s.RemoveRoleMember(ctx, op, "CsAdministrator", "admin") }},
	} {
		if err := tc.call(); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	mine, err := s.RolesOf(ctx, "hd1")
	if err != nil || len(mine) != 1 || mine[0].Identity != "Tier1" || !slices.Equal(mine[0].Members, []string{"hd1"}) {
		t.Fatalf("RolesOf = %+v, %v", mine, err)
	}
	if err := s.RemoveRoleMember(ctx, op, "tier1", "HD1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRole(ctx, op, "TIER1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRole(ctx, op, "tier1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	var actions []string
	for _, e := range allAudit(t, s, store.AuditQuery{}, 100) {
		actions = append(actions, e.Action+" "+e.Target+" "+e.Detail)
	}
	want := []string{
		"create_database " + s.kv.prefix + " admin is CsAdministrator",
		"new_admin_role Tier1 copy of CsHelpDesk",
		"add_role_member Tier1 hd1",
		"remove_role_member Tier1 HD1",
		"remove_admin_role Tier1 ",
	}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit:\n%q\nwant\n%q", actions, want)
	}
}

// TestLastAdminAcrossHosts removes both of two CsAdministrators from two
// hosts at once, many times: one removal wins, the other fails with
// ErrLastAdmin; the directory never ends without an administrator.
func TestLastAdminAcrossHosts(t *testing.T) {
	name := etcdtest.Prefix(t)
	a := openTest(t, etcdtest.Client(t), name, testOptions(t))
	b := openTest(t, etcdtest.Client(t), name, testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	survivor := "admin"
	for i := range 10 {
		x, y := fmt.Sprint("x", i), fmt.Sprint("y", i)
		for _, m := range []string{x, y} {
			if err := a.AddRoleMember(ctx, op, store.CsAdministrator, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.RemoveRoleMember(ctx, op, store.CsAdministrator, survivor); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var errX, errY error
		wg.Go(func() { errX = a.RemoveRoleMember(ctx, op, store.CsAdministrator, x) })
		wg.Go(func() { errY = b.RemoveRoleMember(ctx, op, store.CsAdministrator, y) })
		wg.Wait()
		lost := errX
		survivor = x
		if errX == nil {
			lost, survivor = errY, y
		}
		if (errX == nil) == (errY == nil) || !errors.Is(lost, store.ErrLastAdmin) {
			t.Fatalf("round %d: removals ended with %v and %v; want one ErrLastAdmin", i, errX, errY)
		}
		roles, err := b.Roles(ctx)
		if err != nil || !slices.Equal(roles[0].Members, []string{survivor}) {
			t.Fatalf("round %d: CsAdministrator members %v (%v)", i, roles[0].Members, err)
		}
	}
}
