package sample_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/pinrule"
	"github.com/pinsh/pinsh/store/sample"
)

var (
	ctx = context.Background()
	t0  = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
)

func open(t *testing.T, params pinhash.Params) store.Store {
	t.Helper()
	dir := t.TempDir()
	s, err := boltstore.Open(filepath.Join(dir, "pinsh.db"), boltstore.Options{
		KeyFile: filepath.Join(dir, "pin.key"), Creator: "root", HashParams: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSeed(t *testing.T) {
	// Real hashing parameters: the seed must stay fast with them.
	s := open(t, pinhash.DefaultParams())
	op := store.Op{Operator: "alice", Now: t0}
	start := time.Now()
	if err := sample.Seed(ctx, s, op); err != nil {
		t.Fatal(err)
	}
	t.Logf("Seed took %v with the default hash parameters", time.Since(start))
	day := 24 * time.Hour
	for _, tc := range []struct {
		identity, pin, reason string
		set                   bool
		locked                store.LockSource
		expires               time.Time
	}{
		{"Ken Myer", sample.KenPIN, "ok", true, store.NotLocked, t0.Add(30 * day)},
		{"pilar@litwareinc.com", sample.PilarPIN, "ok", true, store.NotLocked, time.Time{}},
		{`litwareinc\davidlongmuir`, sample.DavidPIN, "expired", true, store.NotLocked, t0.Add(-day)},
		{"sip:aidan@litwareinc.com", "12345", "no_pin", false, store.NotLocked, time.Time{}},
		{"Tony Smith", sample.TonyPIN, "locked", true, store.LockedBySystem, time.Time{}},
		{"CN=Lisa Smith,OU=Redmond,DC=litwareinc,DC=com", sample.LisaPIN, "locked", true, store.LockedByAdmin, time.Time{}},
		{"Jeff Hay", sample.JeffPIN, "disabled", true, store.NotLocked, time.Time{}},
	} {
		us, err := s.FindUsers(ctx, tc.identity)
		if err != nil || len(us) != 1 {
			t.Fatalf("%s: %v %v", tc.identity, us, err)
		}
		u := us[0]
		ps, _ := s.PinInfos(ctx, []store.UserID{u.ID})
		p := ps[0]
		if p.IsSet != tc.set || p.LockedBy != tc.locked || !p.Expires.Equal(tc.expires) {
			t.Errorf("%s: %+v", tc.identity, p)
		}
		if tc.set {
			pol, _ := s.EffectivePolicy(ctx, u.ID)
			if err := pinrule.Validate(tc.pin, pol, u.LineURI); err != nil {
				t.Errorf("%s: sample PIN breaks its policy: %v", tc.identity, err)
			}
			if pol.PinLifetime > 0 && !p.Expires.Equal(p.LastChange.AddDate(0, 0, pol.PinLifetime)) {
				t.Errorf("%s: expiry %v does not follow policy %s", tc.identity, p.Expires, pol.Identity)
			}
		}
		v, err := s.VerifyPin(ctx, op, u.ID, tc.pin)
		if err != nil || v.Reason != tc.reason {
			t.Errorf("%s: verify = %+v %v; want %s", tc.identity, v, err, tc.reason)
		}
	}
	if us, _ := s.FindUsers(ctx, "* Smith"); len(us) != 2 {
		t.Errorf("* Smith: %d users", len(us))
	}
	roles, _ := s.Roles(ctx)
	for _, r := range roles {
		if len(r.Members) == 0 {
			t.Errorf("role %s has no member", r.Identity)
		}
	}
	if mine, _ := s.RolesOf(ctx, "alice"); len(mine) != 1 || mine[0].Identity != store.CsAdministrator {
		t.Errorf("the seeding operator's roles: %+v", mine)
	}
	if err := sample.Seed(ctx, s, op); err == nil {
		t.Error("seeding twice succeeded")
	}
}

func TestSeedDemoParams(t *testing.T) {
	s := open(t, sample.DemoHashParams())
	start := time.Now()
	if err := sample.Seed(ctx, s, store.Op{Operator: "root", Now: t0}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Seed took %v with DemoHashParams", time.Since(start))
	us, _ := s.FindUsers(ctx, "Ken Myer")
	if v, err := s.VerifyPin(ctx, store.Op{Operator: "root", Now: t0}, us[0].ID, sample.KenPIN); err != nil || !v.OK {
		t.Errorf("verify Ken: %+v %v", v, err)
	}
}

func TestGenerate(t *testing.T) {
	s := open(t, pinhash.TestParams())
	op := store.Op{Operator: "root", Now: t0}
	var progress []int
	if err := sample.Generate(ctx, s, op, 1000, func(n int) { progress = append(progress, n) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int{1000}) {
		t.Errorf("progress %v", progress)
	}
	var ids []store.UserID
	disabled := 0
	for after := store.UserID(0); ; {
		us, next, err := s.ScanUsers(ctx, store.UserQuery{OU: "OU=Synthetic,DC=contoso,DC=com"}, after, 300)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			ids = append(ids, u.ID)
			if !u.Enabled {
				disabled++
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	if len(ids) != 1000 || disabled != 20 {
		t.Fatalf("%d users, %d disabled", len(ids), disabled)
	}
	ps, _ := s.PinInfos(ctx, ids)
	var set, admin, system, expired, future int
	for _, p := range ps {
		if !p.IsSet {
			continue
		}
		set++
		switch {
		case p.LockedBy == store.LockedByAdmin:
			admin++
		case p.LockedBy == store.LockedBySystem:
			system++
		case p.IsExpired(t0):
			expired++
		case !p.Expires.IsZero():
			future++
		}
	}
	if set != 500 || admin != 50 || system != 50 || expired != 100 || future != 100 {
		t.Errorf("set %d, admin %d, system %d, expired %d, future %d", set, admin, system, expired, future)
	}
	us, _ := s.FindUsers(ctx, "user0000002@contoso.com")
	if v, err := s.VerifyPin(ctx, op, us[0].ID, sample.SyntheticPIN); err != nil || v.Reason != "expired" {
		t.Errorf("user 2: %+v %v", v, err)
	}
	us, _ = s.FindUsers(ctx, "User 0000006")
	if v, err := s.VerifyPin(ctx, op, us[0].ID, sample.SyntheticPIN); err != nil || !v.OK {
		t.Errorf("user 6: %+v %v", v, err)
	}
	// A second run continues with new names.
	if err := sample.Generate(ctx, s, op, 10, nil); err != nil {
		t.Fatal(err)
	}
	if us, _ := s.FindUsers(ctx, "user1_0000010@contoso.com"); len(us) != 1 {
		t.Errorf("second run: %v", us)
	}
	if err := sample.Generate(ctx, s, op, 0, nil); err == nil {
		t.Error("Generate(0) succeeded")
	}
}

func TestAdministrator(t *testing.T) {
	for _, tc := range []struct{ operator, want string }{
		{"alice", "alice"},
		{"admin", "admin"},
		{sample.HelpDesk, "root"},
		{sample.UserAdmin, "root"},
		{sample.ServerAdmin, "root"},
		{sample.ViewOnlyAdmin, "root"},
	} {
		if got := sample.Administrator(tc.operator, "root"); got != tc.want {
			t.Errorf("Administrator(%q, root) = %q, want %q", tc.operator, got, tc.want)
		}
	}
}

// TestSeedAttributes checks the directory attributes the package doc
// promises the Get-CsUser -LdapFilter examples.
func TestSeedAttributes(t *testing.T) {
	s := open(t, sample.DemoHashParams())
	if err := sample.Seed(ctx, s, store.Op{Operator: "alice", Now: t0}); err != nil {
		t.Fatal(err)
	}
	names := func(keep func(store.User) bool) []string {
		us, _, err := s.ScanUsers(ctx, store.UserQuery{Filter: keep}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.DisplayName)
		}
		return out
	}
	for _, tc := range []struct {
		filter string
		keep   func(store.User) bool
		want   []string
	}{
		{"Department=Finance", func(u store.User) bool { return u.Department == "Finance" },
			[]string{"Ken Myer", "Pilar Ackerman", "Aidan Delaney", "Tony Smith"}},
		{"&(Department=Finance)(Title=Manager)", func(u store.User) bool { return u.Department == "Finance" && u.Title == "Manager" },
			[]string{"Ken Myer", "Tony Smith"}},
		{"|(Title=Supervisor)(Title=Manager)", func(u store.User) bool { return u.Title == "Supervisor" || u.Title == "Manager" },
			[]string{"Ken Myer", "Pilar Ackerman", "David Longmuir", "Tony Smith"}},
		{"l=Dublin", func(u store.User) bool { return u.City == "Dublin" },
			[]string{"David Longmuir", "Aidan Delaney", "Tony Smith"}},
		{"memberOf=CN=Managers,...", func(u store.User) bool {
			return slices.Contains(u.MemberOf, "CN=Managers,OU=Groups,DC=litwareinc,DC=com")
		}, []string{"Ken Myer", "David Longmuir", "Tony Smith"}},
		{"every attribute set", func(u store.User) bool {
			return u.Title != "" && u.Department != "" && u.City != "" && u.Company == "Litware, Inc." &&
				u.Mail == u.SamAccountName+"@litwareinc.com" && u.GivenName+" "+u.Surname == u.DisplayName &&
				"tel:+1425555"+u.TelephoneNumber[len("+1 (425) 555-"):] == u.LineURI[:len("tel:+14255550101")]
		}, []string{"Ken Myer", "Pilar Ackerman", "David Longmuir", "Aidan Delaney", "Tony Smith", "Lisa Smith", "Jeff Hay"}},
	} {
		if got := names(tc.keep); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q; want %q", tc.filter, got, tc.want)
		}
	}
}
