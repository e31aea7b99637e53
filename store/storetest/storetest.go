// Package storetest is the contract suite every store.Store backend must
// pass. A backend's tests call Run with a function that opens a new, empty
// store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// The store must have been created by the operator Creator (its first
// CsAdministrator), and should use cheap PIN hashing parameters: the suite
// sets and verifies a few hundred PINs.
//
// RunHosts adds the tests of two instances on one database (two admin
// hosts): concurrent verifies, overlapping bulk locks, ambiguous commits;
// the backend says with Hosts what a second instance and a lost commit
// reply are for it.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/pinrule"
)

// Creator is the operator that must have created the stores given to Run.
const Creator = "admin"

// T0() returns the suite's clock: the date of the seed's Example 3.
func T0() time.Time { return time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC) }

// Run runs the contract suite; open returns a new, empty store for each
// subtest (Run closes it).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateAndFind", testCreateAndFind},
		{"Duplicates", testDuplicates},
		{"UpdateUser", testUpdateUser},
		{"DirectoryAttributes", testDirectoryAttributes},
		{"RemoveUsers", testRemoveUsers},
		{"ScanUsers", testScanUsers},
		{"ScanByOU", testScanByOU},
		{"ScanPinInfos", testScanPinInfos},
		{"SetPins", testSetPins},
		{"PinHistory", testPinHistory},
		{"LockUnlock", testLockUnlock},
		{"BulkPins", testBulkPins},
		{"VerifyPin", testVerifyPin},
		{"ResetKey", testResetKey},
		{"Lockout", testLockout},
		{"Policies", testPolicies},
		{"PolicyScopes", testPolicyScopes},
		{"Roles", testRoles},
		{"Audit", testAudit},
		{"Import", testImport},
		{"ImportManyBad", testImportManyBad},
		{"LoadUsers", testLoadUsers},
		{"InterleavedChunks", testInterleavedChunks},
		{"BadOps", testBadOps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
	t.Run("Copy", func(t *testing.T) {
		a, b := open(t), open(t)
		defer a.Close()
		defer b.Close()
		testCopy(t, a, b)
	})
}

var ctx = context.Background()

func op(at time.Time) store.Op { return store.Op{Operator: Creator, Now: at} }

// litware returns a directory user of the sample domain.
func litware(sam, display string) store.User {
	return store.User{
		SipAddress:        sam + "@litwareinc.com",
		DisplayName:       display,
		DistinguishedName: "CN=" + display + ",OU=Redmond,DC=litwareinc,DC=com",
		Enabled:           true,
		LineURI:           "tel:+14255550100;ext=100",
	}
}

func create(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(ctx, op(T0()), u)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", u.SipAddress, err)
	}
	return got
}

func find(t *testing.T, s store.Store, identity string) []store.User {
	t.Helper()
	us, err := s.FindUsers(ctx, identity)
	if err != nil {
		t.Fatalf("FindUsers(%q): %v", identity, err)
	}
	return us
}

// sameUsers reports whether a and b hold equal users in the same order.
func sameUsers(a, b []store.User) bool { return slices.EqualFunc(a, b, store.User.Equal) }

func sips(us []store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.SipAddress)
	}
	return out
}

func info(t *testing.T, s store.Store, id store.UserID) store.PinInfo {
	t.Helper()
	ps, err := s.PinInfos(ctx, []store.UserID{id})
	if err != nil {
		t.Fatal(err)
	}
	return ps[0]
}

func setPin(t *testing.T, s store.Store, at time.Time, id store.UserID, pin string) store.SetPinResult {
	t.Helper()
	res, err := s.SetPins(ctx, op(at), []store.SetPinRequest{{ID: id, Pin: pin}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func wantFieldErr(t *testing.T, err error, sentinel error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.Is(err, sentinel) || !errors.As(err, &fe) || fe.Field != field {
		t.Errorf("error = %v; want %v on field %s", err, sentinel, field)
	}
}

func testCreateAndFind(t *testing.T, s store.Store) {
	ken := create(t, s, litware("KenMyer", "Ken Myer"))
	want := store.User{ID: ken.ID, SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer",
		UserPrincipalName: "kenmyer@litwareinc.com", SamAccountName: "kenmyer", Domain: "litwareinc",
		DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", Enabled: true, LineURI: "tel:+14255550100;ext=100"}
	if !ken.Equal(want) || ken.ID == 0 {
		t.Fatalf("CreateUser = %+v\nwant %+v", ken, want)
	}
	tony := create(t, s, litware("tonysmith", "Tony Smith"))
	lisa := create(t, s, litware("lisasmith", "Lisa Smith"))
	pilar := create(t, s, litware("pilar", "Pilar Ackerman"))
	for _, tc := range []struct {
		identity string
		want     []store.User
	}{
		{"sip:kenmyer@litwareinc.com", []store.User{ken}},
		{"SIP:KENMYER@LITWAREINC.COM", []store.User{ken}},
		{"kenmyer@litwareinc.com", []store.User{ken}},
		{`litwareinc\kenmyer`, []store.User{ken}},
		{`LITWAREINC\KenMyer`, []store.User{ken}},
		{"Ken Myer", []store.User{ken}},
		{"ken myer", []store.User{ken}},
		{"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", []store.User{ken}},
		{"cn=ken myer, ou=redmond, dc=litwareinc, dc=com", []store.User{ken}},
		{"* Smith", []store.User{tony, lisa}},
		{"Pil*", []store.User{pilar}},
		{"*", []store.User{ken, tony, lisa, pilar}},
		{"Ken", nil},
		{"nobody@litwareinc.com", nil},
		{`litwareinc\nobody`, nil},
		{"* Smithers", nil},
	} {
		got := find(t, s, tc.identity)
		if !sameUsers(got, tc.want) {
			t.Errorf("FindUsers(%q) = %v; want %v", tc.identity, sips(got), sips(tc.want))
		}
	}
	// "sip:" names a SIP address, never a UPN; the bare form finds both.
	upnU := litware("tonyw", "Tony Walker")
	upnU.UserPrincipalName = "twalker@corp.litwareinc.com"
	tw := create(t, s, upnU)
	if got := find(t, s, "sip:twalker@corp.litwareinc.com"); len(got) != 0 {
		t.Errorf("sip: form found a UPN: %v", sips(got))
	}
	if got := find(t, s, "TWalker@corp.litwareinc.com"); !sameUsers(got, []store.User{tw}) {
		t.Errorf("UPN form: %v", sips(got))
	}
	if _, err := s.RemoveUsers(ctx, op(T0()), []store.UserID{tw.ID}); err != nil {
		t.Fatal(err)
	}
	// Display names may repeat.
	other := litware("kenmyer2", "Ken Myer")
	other.DistinguishedName = "CN=Ken Myer,OU=Paris,DC=litwareinc,DC=com"
	ken2 := create(t, s, other)
	if got := find(t, s, "Ken Myer"); !sameUsers(got, []store.User{ken, ken2}) {
		t.Errorf("two Ken Myers: %v", sips(got))
	}
	// A bare logon name is not an identity; an empty one is invalid.
	for _, bad := range []string{`\kenmyer`, ""} {
		if _, err := s.FindUsers(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("FindUsers(%q) error = %v; want ErrInvalid", bad, err)
		}
	}
	us, err := s.Users(ctx, []store.UserID{lisa.ID, 999999, ken.ID})
	if err != nil || len(us) != 3 || !us[0].Equal(lisa) || us[1].ID != 0 || !us[2].Equal(ken) {
		t.Errorf("Users = %v, %v", us, err)
	}
}

func testDuplicates(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	for _, tc := range []struct {
		name  string
		u     store.User
		field string
	}{
		{"sip", store.User{SipAddress: "sip:KENMYER@litwareinc.com", SamAccountName: "x1", DisplayName: "X"}, "sip_address"},
		{"upn", store.User{SipAddress: "x2@litwareinc.com", UserPrincipalName: "kenmyer@LitwareInc.com"}, "user_principal_name"},
		{"sip equals another's upn", store.User{SipAddress: "x3@litwareinc.com", UserPrincipalName: "x3@corp.litwareinc.com"}, ""},
		{"logon", store.User{SipAddress: "x4@litwareinc.com", SamAccountName: "KenMyer"}, "sam_account_name"},
		{"dn", store.User{SipAddress: "x5@litwareinc.com", DistinguishedName: "cn=ken myer,ou=redmond,dc=litwareinc,dc=com"}, "distinguished_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, op(T0()), tc.u)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			wantFieldErr(t, err, store.ErrDuplicate, tc.field)
			if err != nil && !strings.Contains(err.Error(), ken.SipAddress) {
				t.Errorf("error %q does not name the user holding the value", err)
			}
		})
	}
	// A UPN may not be another user's SIP address: "name@domain" must name
	// one user.
	_, err := s.CreateUser(ctx, op(T0()), store.User{SipAddress: "x6@litwareinc.com", UserPrincipalName: "x3@litwareinc.com"})
	wantFieldErr(t, err, store.ErrDuplicate, "user_principal_name")
	_, err = s.CreateUser(ctx, op(T0()), store.User{SipAddress: "not an address"})
	wantFieldErr(t, err, store.ErrInvalid, "sip_address")
	_, err = s.CreateUser(ctx, op(T0()), store.User{SipAddress: "x7@litwareinc.com", PinPolicy: "nope"})
	wantFieldErr(t, err, store.ErrNotFound, "pin_policy")
}

func testUpdateUser(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	create(t, s, litware("pilar", "Pilar Ackerman"))
	u := ken
	u.DisplayName = "Kenneth Myer"
	u.SipAddress = "kmyer@litwareinc.com"
	u.UserPrincipalName = ""
	u.DistinguishedName = "CN=Kenneth Myer,OU=Paris,DC=litwareinc,DC=com"
	got, err := s.UpdateUser(ctx, op(T0()), u)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ken.ID || got.SipAddress != "sip:kmyer@litwareinc.com" || got.UserPrincipalName != "kmyer@litwareinc.com" {
		t.Errorf("UpdateUser = %+v", got)
	}
	for _, gone := range []string{"Ken Myer", "kenmyer@litwareinc.com", "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com"} {
		if us := find(t, s, gone); len(us) != 0 {
			t.Errorf("old identity %q still finds %v", gone, sips(us))
		}
	}
	for _, now := range []string{"Kenneth Myer", "sip:kmyer@litwareinc.com", `litwareinc\kenmyer`, "CN=Kenneth Myer,OU=Paris,DC=litwareinc,DC=com"} {
		if us := find(t, s, now); len(us) != 1 || us[0].ID != ken.ID {
			t.Errorf("new identity %q finds %v", now, sips(us))
		}
	}
	if us, _, _ := s.ScanUsers(ctx, store.UserQuery{OU: "OU=Redmond,DC=litwareinc,DC=com"}, 0, 10); len(us) != 1 {
		t.Errorf("Redmond after the move: %v", sips(us))
	}
	u.SipAddress = "pilar@litwareinc.com"
	_, err = s.UpdateUser(ctx, op(T0()), u)
	wantFieldErr(t, err, store.ErrDuplicate, "sip_address")
	u.ID = 424242
	u.SipAddress = "ghost@litwareinc.com"
	if _, err := s.UpdateUser(ctx, op(T0()), u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing user: %v", err)
	}
}

// financeManager is a user with every directory attribute, as an admin
// would give them (spaces around values included).
func financeManager(sam, display string) store.User {
	u := litware(sam, display)
	u.Title, u.Department, u.City, u.Company = " Manager ", "Finance", "Redmond", "Litware, Inc."
	u.Mail, u.GivenName, u.Surname, u.TelephoneNumber = sam+"@litwareinc.com", "Ken", "Myer", "+1 (425) 555-0101"
	u.MemberOf = []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com", " CN=Managers,OU=Groups,DC=litwareinc,DC=com"}
	return u
}

// testDirectoryAttributes checks that the directory attributes (title ...
// memberOf) are kept by every write and returned by every read, and that
// the writes which rewrite a user for another reason (a policy grant or
// removal) keep them.
func testDirectoryAttributes(t *testing.T, s store.Store) {
	ken := create(t, s, financeManager("kenmyer", "Ken Myer"))
	want := financeManager("kenmyer", "Ken Myer")
	want.ID, want.SipAddress, want.UserPrincipalName, want.SamAccountName, want.Domain =
		ken.ID, "sip:kenmyer@litwareinc.com", "kenmyer@litwareinc.com", "kenmyer", "litwareinc"
	want.Title = "Manager"
	want.MemberOf = []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com", "CN=Managers,OU=Groups,DC=litwareinc,DC=com"}
	if !ken.Equal(want) {
		t.Fatalf("CreateUser = %+v\nwant %+v", ken, want)
	}
	plain := create(t, s, litware("pilar", "Pilar Ackerman"))
	if plain.Title != "" || plain.MemberOf != nil {
		t.Errorf("a user created without attributes has %+v", plain)
	}
	reads := func(label string, want store.User) {
		t.Helper()
		if us := find(t, s, "Ken Myer"); len(us) != 1 || !us[0].Equal(want) {
			t.Errorf("%s: FindUsers = %+v\nwant %+v", label, us, want)
		}
		if us, err := s.Users(ctx, []store.UserID{want.ID}); err != nil || !us[0].Equal(want) {
			t.Errorf("%s: Users = %+v, %v", label, us, err)
		}
		finance := func(u store.User) bool { return u.Department == "Finance" && u.Title == want.Title }
		us, _, err := s.ScanUsers(ctx, store.UserQuery{Filter: finance}, 0, 10)
		if err != nil || len(us) != 1 || !us[0].Equal(want) {
			t.Errorf("%s: ScanUsers by department and title = %+v, %v", label, us, err)
		}
	}
	reads("created", want)

	// A policy grant and its removal rewrite the user, not its attributes.
	if _, err := s.NewPolicy(ctx, op(T0()), "tag:Short", store.PolicyChanges{MinPasswordLength: ptr(4)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID}, "Short"); err != nil {
		t.Fatal(err)
	}
	want.PinPolicy = "Short"
	reads("after a grant", want)
	if err := s.RemovePolicy(ctx, op(T0()), "tag:Short"); err != nil {
		t.Fatal(err)
	}
	want.PinPolicy = ""
	reads("after the policy's removal", want)

	// An update changes them, and its audit entry names what changed.
	u := want
	u.Title, u.City, u.MemberOf = "Supervisor", "", []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com"}
	got, err := s.UpdateUser(ctx, op(T0()), u)
	if err != nil || !got.Equal(u) {
		t.Fatalf("UpdateUser = %+v, %v", got, err)
	}
	reads("updated", u)
	es, _, err := s.ScanAudit(ctx, store.AuditQuery{Action: "update_user"}, 0, 10)
	if err != nil || len(es) != 1 || es[0].Detail != "title, city, member_of" {
		t.Errorf("update_user audit = %+v, %v; want detail \"title, city, member_of\"", es, err)
	}
	u.MemberOf = nil
	u.Title, u.Department, u.Company, u.Mail, u.GivenName, u.Surname, u.TelephoneNumber = "", "", "", "", "", "", ""
	if got, err := s.UpdateUser(ctx, op(T0()), u); err != nil || !got.Equal(u) {
		t.Fatalf("clearing the attributes: %+v, %v", got, err)
	}
	if us := find(t, s, "Ken Myer"); len(us) != 1 || !us[0].Equal(u) || us[0].MemberOf != nil {
		t.Errorf("cleared: %+v", us)
	}

	// Imports and loads keep them too.
	rep, err := s.ImportUsers(ctx, op(T0()), rowsOf(
		store.ImportRow{Line: 2, User: financeManager("imported", "Imported User")},
		store.ImportRow{Line: 3, User: func() store.User {
			u := financeManager("twice", "Twice")
			u.MemberOf = append(u.MemberOf, "cn=finance, ou=groups, dc=litwareinc, dc=com")
			return u
		}()},
	), nil)
	if err != nil || rep.Imported != 1 || rep.BadCount != 1 {
		t.Fatalf("ImportUsers = %+v, %v", rep, err)
	}
	var fe *store.FieldError
	if !errors.As(rep.Bad[0].Err, &fe) || fe.Field != "member_of" {
		t.Errorf("a group listed twice: %v; want a FieldError on member_of", rep.Bad[0].Err)
	}
	rep, err = s.LoadUsers(ctx, op(T0()), func(yield func(store.LoadRow) bool) {
		yield(store.LoadRow{Line: 1, User: financeManager("loaded", "Loaded User"), Pin: "48151", State: store.PinState{LastChange: T0()}})
	}, nil)
	if err != nil || rep.Imported != 1 {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	for _, name := range []string{"Imported User", "Loaded User"} {
		us := find(t, s, name)
		if len(us) != 1 || us[0].Title != "Manager" || us[0].TelephoneNumber != "+1 (425) 555-0101" ||
			!slices.Equal(us[0].MemberOf, want.MemberOf) {
			t.Errorf("%s: %+v", name, us)
		}
	}

	// A group must be named by its DN.
	bad := litware("bad", "Bad Group")
	bad.MemberOf = []string{"Finance"}
	_, err = s.CreateUser(ctx, op(T0()), bad)
	wantFieldErr(t, err, store.ErrInvalid, "member_of")
}

func testRemoveUsers(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	pilar := create(t, s, litware("pilar", "Pilar Ackerman"))
	if r := setPin(t, s, T0(), ken.ID, "48151"); r.Err != nil {
		t.Fatal(r.Err)
	}
	res, err := s.RemoveUsers(ctx, op(T0()), []store.UserID{ken.ID, 31337})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != store.Changed || res[0].Identity != ken.SipAddress || res[1].Outcome != store.Failed || !errors.Is(res[1].Err, store.ErrNotFound) {
		t.Errorf("RemoveUsers = %+v", res)
	}
	for _, id := range []string{"Ken Myer", "kenmyer@litwareinc.com", `litwareinc\kenmyer`, ken.DistinguishedName} {
		if us := find(t, s, id); len(us) != 0 {
			t.Errorf("%q still finds %v", id, sips(us))
		}
	}
	if p := info(t, s, ken.ID); p.Identity != "" || p.IsSet {
		t.Errorf("PIN info of a removed user: %+v", p)
	}
	// The identity is free again, and the new user has no PIN.
	again := create(t, s, litware("kenmyer", "Ken Myer"))
	if again.ID == ken.ID || info(t, s, again.ID).IsSet {
		t.Errorf("re-created user reuses ID or PIN: %+v", info(t, s, again.ID))
	}
	if us, _, _ := s.ScanUsers(ctx, store.UserQuery{}, 0, 10); !slices.Equal(sips(us), []string{pilar.SipAddress, again.SipAddress}) {
		t.Errorf("users after removal: %v", sips(us))
	}
}

func testScanUsers(t *testing.T, s store.Store) {
	var all []store.User
	for i := range 25 {
		u := litware(fmt.Sprintf("user%02d", i), fmt.Sprintf("User %02d", i))
		u.Enabled = i%3 != 0
		all = append(all, create(t, s, u))
	}
	var got []store.User
	var after store.UserID
	for chunks := 0; ; chunks++ {
		us, next, err := s.ScanUsers(ctx, store.UserQuery{}, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, us...)
		if next == 0 {
			break
		}
		if chunks > 10 {
			t.Fatal("scan does not end")
		}
		after = next
	}
	if !sameUsers(got, all) {
		t.Errorf("chunked scan returned %d users, want %d in ID order", len(got), len(all))
	}
	enabled := func(u store.User) bool { return u.Enabled }
	us, _, err := s.ScanUsers(ctx, store.UserQuery{Filter: enabled}, all[10].ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []store.User
	for _, u := range all[11:] {
		if u.Enabled {
			want = append(want, u)
		}
	}
	if !sameUsers(us, want) {
		t.Errorf("filtered scan = %v; want %v", sips(us), sips(want))
	}
}

func testScanByOU(t *testing.T, s store.Store) {
	mk := func(sam, dn string) store.User {
		u := store.User{SipAddress: sam + "@litwareinc.com", DisplayName: sam, DistinguishedName: dn}
		return create(t, s, u)
	}
	a := mk("a", "CN=a,OU=Redmond,DC=litwareinc,DC=com")
	b := mk("b", "CN=b,OU=Sales,OU=Redmond,DC=litwareinc,DC=com")
	mk("c", "CN=c,OU=Paris,DC=litwareinc,DC=com")
	d := mk("d", "CN=d,OU=Redmond,DC=litwareinc,DC=com")
	mk("e", "CN=e,OU=Redmond2,DC=litwareinc,DC=com")
	create(t, s, store.User{SipAddress: "nodn@litwareinc.com"})
	for _, tc := range []struct {
		ou   string
		want []store.User
	}{
		{"OU=Redmond,DC=litwareinc,DC=com", []store.User{a, b, d}},
		{"ou=redmond , dc=LITWAREINC,dc=com", []store.User{a, b, d}},
		{"OU=Sales,OU=Redmond,DC=litwareinc,DC=com", []store.User{b}},
		{"OU=Tokyo,DC=litwareinc,DC=com", nil},
	} {
		var got []store.User
		var after store.UserID
		for {
			us, next, err := s.ScanUsers(ctx, store.UserQuery{OU: tc.ou}, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, us...)
			if next == 0 {
				break
			}
			after = next
		}
		if !sameUsers(got, tc.want) {
			t.Errorf("OU %q = %v; want %v", tc.ou, sips(got), sips(tc.want))
		}
	}
	if us, _, _ := s.ScanUsers(ctx, store.UserQuery{OU: "DC=litwareinc,DC=com"}, 0, 100); len(us) != 5 {
		t.Errorf("domain root lists %d users, want 5", len(us))
	}
	if _, _, err := s.ScanUsers(ctx, store.UserQuery{OU: "Redmond"}, 0, 10); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad OU: %v", err)
	}
}

// testScanPinInfos checks that ScanPinInfos equals ScanUsers joined with
// PinInfos, for every query shape and chunk size.
func testScanPinInfos(t *testing.T, s store.Store) {
	for i := range 40 {
		u := litware(fmt.Sprintf("user%02d", i), fmt.Sprintf("User %02d", i))
		u.DistinguishedName = fmt.Sprintf("CN=User %02d,OU=Team%d,OU=Redmond,DC=litwareinc,DC=com", i, i%3)
		u.Enabled = i%4 != 0
		u = create(t, s, u)
		if i%2 == 0 {
			setPin(t, s, T0(), u.ID, "48151")
		}
		if i%6 == 0 {
			s.LockPins(ctx, op(T0()), []store.UserID{u.ID})
		}
	}
	for _, q := range []store.UserQuery{
		{}, {OU: "OU=Team1,OU=Redmond,DC=litwareinc,DC=com"},
		{Filter: func(u store.User) bool { return u.Enabled }},
		{OU: "OU=Redmond,DC=litwareinc,DC=com", Filter: func(u store.User) bool { return !u.Enabled }},
	} {
		for _, limit := range []int{1, 7, 100} {
			var want, got []store.PinInfo
			for after := store.UserID(0); ; {
				us, next, err := s.ScanUsers(ctx, q, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]store.UserID, len(us))
				for i, u := range us {
					ids[i] = u.ID
				}
				ps, _ := s.PinInfos(ctx, ids)
				want = append(want, ps...)
				if next == 0 {
					break
				}
				after = next
			}
			for after := store.UserID(0); ; {
				ps, next, err := s.ScanPinInfos(ctx, q, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ps...)
				if next == 0 {
					break
				}
				after = next
			}
			if !slices.Equal(got, want) || len(got) == 0 {
				t.Errorf("query %+v limit %d: ScanPinInfos gave %d infos, ScanUsers+PinInfos %d", q.OU, limit, len(got), len(want))
			}
		}
	}
}

// RunPinQuery runs the contract of UserQuery.Pin (testScanPinQuery) on a
// new, empty store from open. It joins Run once every backend evaluates
// the query; until then a backend that does calls it besides Run.
func RunPinQuery(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	defer s.Close()
	testScanPinQuery(t, s)
}

// testScanPinQuery checks that a query's Pin selects, in ScanPinInfos and
// ScanUsers, exactly the users whose PIN info PinQuery.Match keeps: every
// combination of conditions, over users without a PIN, with a PIN that
// never expires, has expired or will, locked by an admin or the system, or
// cleared (a change time but no PIN), in chunks of every size.
func testScanPinQuery(t *testing.T, s store.Store) {
	const n = 60
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			r := store.LoadRow{Line: i + 1, User: litware(fmt.Sprintf("pq%02d", i), fmt.Sprintf("Pq %02d", i))}
			r.User.DistinguishedName = fmt.Sprintf("CN=Pq %02d,OU=Team%d,OU=Redmond,DC=litwareinc,DC=com", i, i%2)
			r.User.Enabled = i%7 != 0
			if i%5 != 0 {
				r.Pin = "48151"
				r.State.LastChange = T0().AddDate(0, 0, -40)
				switch i % 3 {
				case 1:
					r.State.Expires = T0().AddDate(0, 0, -1)
				case 2:
					r.State.Expires = T0().AddDate(0, 0, 1)
				}
				r.State.LockedBy = store.LockSource(i % 4 % 3)
			} else if i%10 == 5 {
				r.State.LastChange = T0() // a cleared PIN
			}
			if !yield(r) {
				return
			}
		}
	}
	if rep, err := s.LoadUsers(ctx, op(T0()), rows, nil); err != nil || rep.Imported != n {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	scan := func(q store.UserQuery, limit int) (infos []store.PinInfo, users []store.UserID) {
		t.Helper()
		for after := store.UserID(0); ; {
			ps, next, err := s.ScanPinInfos(ctx, q, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			infos = append(infos, ps...)
			if next == 0 {
				break
			}
			after = next
		}
		for after := store.UserID(0); ; {
			us, next, err := s.ScanUsers(ctx, q, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				users = append(users, u.ID)
			}
			if next == 0 {
				break
			}
			after = next
		}
		return infos, users
	}
	// count is what a PinCounter counts for q, in chunks of limit; -1
	// for a store that does not count.
	count := func(q store.UserQuery, limit int) int {
		t.Helper()
		c, ok := s.(store.PinCounter)
		if !ok {
			return -1
		}
		total := 0
		for after := store.UserID(0); ; {
			n, next, err := c.CountPinInfos(ctx, q, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			total += n
			if next == 0 {
				return total
			}
			after = next
		}
	}
	wants := []store.Want{store.WantAny, store.WantTrue, store.WantFalse}
	sources := []store.LockSource{store.NotLocked, store.LockedByAdmin, store.LockedBySystem}
	// Tests of the PIN state as where functions pushed down make them
	// (PinQuery.Func): one that no user without PIN state passes, one
	// that every such user passes, and none.
	funcs := []func(*store.PinInfo, time.Time) bool{
		nil,
		func(p *store.PinInfo, now time.Time) bool {
			return p.IsSet && (p.Expires.IsZero() || p.Expires.After(now))
		},
		func(p *store.PinInfo, _ time.Time) bool { return p.LockedBy != store.LockedByAdmin },
	}
	for _, base := range []store.UserQuery{{}, {OU: "OU=Team1,OU=Redmond,DC=litwareinc,DC=com", Filter: func(u store.User) bool { return u.Enabled }}} {
		all, _ := scan(base, 100)
		for _, isSet := range wants {
			for _, locked := range wants {
				for _, expired := range wants {
					for i, by := range sources {
						pq := store.PinQuery{IsSet: isSet, IsLockedOut: locked, IsExpired: expired, LockedBy: by, Now: T0()}
						pq.Func = funcs[(int(isSet)+int(locked)+int(expired)+i)%len(funcs)]
						var want []store.PinInfo
						var wantIDs []store.UserID
						for i := range all {
							if pq.Match(&all[i]) {
								want = append(want, all[i])
								wantIDs = append(wantIDs, all[i].ID)
							}
						}
						q := base
						q.Pin = pq
						for _, limit := range []int{1, 4, 100} {
							got, users := scan(q, limit)
							if !slices.Equal(got, want) || !slices.Equal(users, wantIDs) {
								t.Errorf("OU %q, %+v, limit %d: ScanPinInfos gave %d, ScanUsers %d, want %d",
									base.OU, pq, limit, len(got), len(users), len(want))
							}
							if n := count(q, limit); n != -1 && n != len(want) {
								t.Errorf("OU %q, %+v, limit %d: CountPinInfos gave %d, want %d", base.OU, pq, limit, n, len(want))
							}
						}
					}
				}
			}
		}
	}
	// The query picks users of each kind: the table above is not empty.
	for _, pq := range []store.PinQuery{
		{IsSet: store.WantTrue, IsExpired: store.WantTrue, Now: T0()},
		{IsSet: store.WantTrue, IsExpired: store.WantFalse, IsLockedOut: store.WantFalse, Now: T0()},
		{LockedBy: store.LockedBySystem},
		{IsSet: store.WantFalse},
	} {
		if got, _ := scan(store.UserQuery{Pin: pq}, 100); len(got) == 0 {
			t.Errorf("%+v selects nobody", pq)
		}
	}
}

func testSetPins(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	pilar := create(t, s, litware("pilar", "Pilar Ackerman"))
	if p := info(t, s, ken.ID); p.IsSet || p.IsLockedOut() || p.Identity != ken.SipAddress || p.DisplayName != "Ken Myer" || !p.Enabled {
		t.Errorf("fresh PIN info %+v", p)
	}
	res, err := s.SetPins(ctx, op(T0()), []store.SetPinRequest{
		{ID: ken.ID, Pin: "48151"},
		{ID: pilar.ID},              // generated
		{ID: ken.ID, Pin: "1234"},   // too short
		{ID: ken.ID, Pin: "123456"}, // sequence
		{ID: 999999, Pin: "48151"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != store.Changed || res[0].Pin != "" {
		t.Errorf("given PIN: %+v", res[0])
	}
	if res[1].Outcome != store.Changed || len(res[1].Pin) < 5 || pinrule.Validate(res[1].Pin, store.DefaultPolicy("global"), pilar.LineURI) != nil {
		t.Errorf("generated PIN: %+v", res[1])
	}
	var re *pinrule.RuleError
	if res[2].Outcome != store.Failed || !errors.As(res[2].Err, &re) || re.Rule != pinrule.TooShort {
		t.Errorf("short PIN: %+v", res[2])
	}
	if !errors.As(res[3].Err, &re) || re.Rule != pinrule.Sequence {
		t.Errorf("sequence PIN: %+v", res[3])
	}
	if !errors.Is(res[4].Err, store.ErrNotFound) {
		t.Errorf("missing user: %+v", res[4])
	}
	p := info(t, s, ken.ID)
	if !p.IsSet || !p.LastChange.Equal(T0()) || !p.Expires.IsZero() || p.IsExpired(T0().AddDate(10, 0, 0)) {
		t.Errorf("PIN info after set: %+v", p)
	}
	if v, err := s.VerifyPin(ctx, op(T0()), ken.ID, "48151"); err != nil || !v.OK {
		t.Errorf("verify the set PIN: %+v %v", v, err)
	}
	if v, _ := s.VerifyPin(ctx, op(T0()), pilar.ID, res[1].Pin); !v.OK {
		t.Errorf("verify the generated PIN: %+v", v)
	}
	// Expiry is fixed when the PIN is set, from the effective lifetime.
	if _, err := s.SetPolicy(ctx, op(T0()), "global", store.PolicyChanges{PinLifetime: ptr(30), PinHistoryCount: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	if !info(t, s, ken.ID).Expires.IsZero() {
		t.Error("a policy change moved an existing expiry")
	}
	t1 := T0().Add(time.Hour)
	setPin(t, s, t1, ken.ID, "27194")
	p = info(t, s, ken.ID)
	if !p.Expires.Equal(t1.AddDate(0, 0, 30)) || p.IsExpired(t1.AddDate(0, 0, 29)) || !p.IsExpired(t1.AddDate(0, 0, 30)) {
		t.Errorf("expiry after a 30-day policy: %+v", p)
	}
	// A locked PIN must be unlocked first.
	s.LockPins(ctx, op(T0()), []store.UserID{ken.ID})
	if r := setPin(t, s, T0(), ken.ID, "39420"); !errors.Is(r.Err, store.ErrLocked) || !strings.Contains(r.Err.Error(), "unlock") {
		t.Errorf("set on a locked PIN: %+v", r)
	}
}

func ptr[T any](v T) *T { return &v }

func testPinHistory(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	if _, err := s.SetPolicy(ctx, op(T0()), "global", store.PolicyChanges{PinHistoryCount: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	set := func(pin string, enforce bool) error {
		res, err := s.SetPins(ctx, op(T0()), []store.SetPinRequest{{ID: ken.ID, Pin: pin, EnforceHistory: enforce}})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Err
	}
	var re *pinrule.RuleError
	for _, step := range []struct {
		pin     string
		enforce bool
		reused  bool
	}{
		{"48151", true, false},
		{"48151", true, true},  // the current PIN
		{"27194", true, false}, // history: 48151
		{"48151", true, true},  // one of the last 2
		{"39420", true, false}, // history: 27194 (48151 drops out)
		{"48151", true, false}, // 3 PINs ago: allowed
		{"48151", false, false},
	} {
		err := set(step.pin, step.enforce)
		if step.reused != (errors.As(err, &re) && re.Rule == pinrule.Reused) || (!step.reused && err != nil) {
			t.Errorf("set %s (enforce %v): %v; want reused=%v", step.pin, step.enforce, err, step.reused)
		}
	}
}

func testLockUnlock(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	aidan := create(t, s, litware("aidan", "Aidan Delaney"))
	setPin(t, s, T0(), ken.ID, "48151")
	res, err := s.LockPins(ctx, op(T0()), []store.UserID{ken.ID, aidan.ID, 777})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != store.Changed || !errors.Is(res[1].Err, store.ErrNoPin) || res[1].Outcome != store.Skipped ||
		res[2].Outcome != store.Failed || !errors.Is(res[2].Err, store.ErrNotFound) {
		t.Errorf("LockPins = %+v", res)
	}
	if p := info(t, s, ken.ID); !p.IsLockedOut() || p.LockedBy != store.LockedByAdmin {
		t.Errorf("after lock: %+v", p)
	}
	res, _ = s.LockPins(ctx, op(T0()), []store.UserID{ken.ID})
	if res[0].Outcome != store.Skipped || !errors.Is(res[0].Err, store.ErrAlreadyLocked) {
		t.Errorf("second lock: %+v", res)
	}
	if v, _ := s.VerifyPin(ctx, op(T0()), ken.ID, "48151"); v.OK || v.Reason != "locked" {
		t.Errorf("verify a locked PIN: %+v", v)
	}
	res, _ = s.UnlockPins(ctx, op(T0()), []store.UserID{ken.ID, aidan.ID})
	if res[0].Outcome != store.Changed || res[1].Outcome != store.Skipped || !errors.Is(res[1].Err, store.ErrNotLocked) {
		t.Errorf("UnlockPins = %+v", res)
	}
	if p := info(t, s, ken.ID); p.IsLockedOut() || !p.IsSet {
		t.Errorf("after unlock: %+v", p)
	}
}

// testBulkPins sets, locks and unlocks the PINs of more users in one call
// than one etcd transaction takes (128 operations): every item is done
// once, with its audit entry, and the results are aligned with the input.
func testBulkPins(t *testing.T, s store.Store) {
	const n = 300
	var ids []store.UserID
	var reqs []store.SetPinRequest
	for i := range n {
		u := create(t, s, store.User{SipAddress: fmt.Sprintf("bulk%03d@litwareinc.com", i), Enabled: true})
		ids = append(ids, u.ID)
		pin := ""
		if i%2 == 0 {
			pin = "48151"
		}
		reqs = append(reqs, store.SetPinRequest{ID: u.ID, Pin: pin})
	}
	set, err := s.SetPins(ctx, op(T0()), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range set {
		if r.ID != ids[i] || r.Outcome != store.Changed || (r.Pin == "") != (i%2 == 0) {
			t.Fatalf("SetPins[%d] = %+v", i, r)
		}
	}
	if v, _ := s.VerifyPin(ctx, op(T0()), ids[n-1], set[n-1].Pin); !v.OK {
		t.Errorf("the last generated PIN: %+v", v)
	}
	// In reverse order, with a user listed twice.
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	rev = append(rev, ids[7])
	for _, action := range []string{"lock_pin", "unlock_pin"} {
		call := s.LockPins
		if action == "unlock_pin" {
			call = s.UnlockPins
		}
		res, err := call(ctx, op(T0()), rev)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res[:n] {
			if r.ID != rev[i] || r.Outcome != store.Changed {
				t.Fatalf("%s[%d] = %+v", action, i, r)
			}
		}
		if r := res[n]; r.Outcome != store.Failed || !errors.Is(r.Err, store.ErrDuplicate) {
			t.Errorf("%s of a user listed twice: %+v", action, r)
		}
		if got := len(scanAudit(t, s, store.AuditQuery{Action: action}, 1000)); got != n {
			t.Errorf("%d %s entries, want %d", got, action, n)
		}
	}
	if got := len(scanAudit(t, s, store.AuditQuery{Action: "set_pin"}, 1000)); got != n {
		t.Errorf("%d set_pin entries, want %d", got, n)
	}
}

// testResetKey: a new key clears every PIN (an admin lock stays), PINs
// set afterwards verify, each cleared PIN and the reset are audited, and a
// second reset to the same key is refused without a change.
func testResetKey(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	aidan := create(t, s, litware("aidan", "Aidan Delaney"))
	jeff := create(t, s, litware("jeffhay", "Jeff Hay"))
	setPin(t, s, T0(), ken.ID, "48151")
	setPin(t, s, T0(), jeff.ID, "73592")
	setPin(t, s, T0(), jeff.ID, "27194") // an earlier hash in the history
	if _, err := s.LockPins(ctx, op(T0()), []store.UserID{jeff.ID}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.VerifyPin(ctx, op(T0()), ken.ID, "11111"); v.Reason != "wrong_pin" {
		t.Fatalf("a wrong PIN: %+v", v)
	}
	key, err := pinhash.NewKey([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	at := T0().Add(time.Hour)
	n, err := s.ResetKey(ctx, op(at), key)
	if err != nil || n != 2 {
		t.Fatalf("ResetKey = %d, %v; want 2 PINs cleared", n, err)
	}
	for _, u := range []store.User{ken, aidan, jeff} {
		p := info(t, s, u.ID)
		if p.IsSet || p.LocalFailures != 0 || p.GlobalFailures != 0 {
			t.Errorf("%s after ResetKey: %+v", u.SipAddress, p)
		}
	}
	if p := info(t, s, jeff.ID); p.LockedBy != store.LockedByAdmin {
		t.Errorf("the admin lock went: %+v", p)
	}
	if v, _ := s.VerifyPin(ctx, op(at), ken.ID, "48151"); v.Reason != "no_pin" {
		t.Errorf("the old PIN after ResetKey: %+v", v)
	}
	// A PIN set anew, generated or given, works with the new key.
	if r := setPin(t, s, at, ken.ID, ""); r.Outcome != store.Changed || r.Pin == "" {
		t.Fatalf("set_pin after ResetKey: %+v", r)
	} else if v, _ := s.VerifyPin(ctx, op(at), ken.ID, r.Pin); !v.OK {
		t.Errorf("verify the new PIN: %+v", v)
	}
	if r := setPin(t, s, at, jeff.ID, "62838"); r.Outcome == store.Changed || !errors.Is(r.Err, store.ErrLocked) {
		t.Errorf("set_pin on the admin-locked user: %+v", r)
	}
	entries := scanAudit(t, s, store.AuditQuery{Action: "reset_key"}, 100)
	var targets []string
	for _, e := range entries {
		targets = append(targets, e.Target)
		if e.Operator != Creator || !e.Time.Equal(at) || e.Outcome != "ok" {
			t.Errorf("audit entry %+v", e)
		}
	}
	if len(entries) != 3 || !slices.Contains(targets, ken.SipAddress) || !slices.Contains(targets, jeff.SipAddress) {
		t.Errorf("reset_key audit targets = %q; want ken, jeff and the store", targets)
	}
	// The same key again: refused, nothing changes.
	if n, err := s.ResetKey(ctx, op(at), key); !errors.Is(err, store.ErrKey) || n != 0 {
		t.Errorf("ResetKey to the key in use = %d, %v; want ErrKey", n, err)
	}
	if p := info(t, s, ken.ID); !p.IsSet {
		t.Errorf("a refused ResetKey cleared a PIN: %+v", p)
	}
}

func testVerifyPin(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	aidan := create(t, s, litware("aidan", "Aidan Delaney"))
	jeffU := litware("jeffhay", "Jeff Hay")
	jeffU.Enabled = false
	jeff := create(t, s, jeffU)
	setPin(t, s, T0(), ken.ID, "48151")
	setPin(t, s, T0(), jeff.ID, "73592")
	for _, tc := range []struct {
		id     store.UserID
		pin    string
		reason string
	}{
		{ken.ID, "48151", "ok"},
		{ken.ID, "48152", "wrong_pin"},
		{aidan.ID, "48151", "no_pin"},
		{jeff.ID, "73592", "disabled"},
		{424242, "48151", "no_such_user"},
	} {
		v, err := s.VerifyPin(ctx, op(T0()), tc.id, tc.pin)
		if err != nil || v.Reason != tc.reason || v.OK != (tc.reason == "ok") {
			t.Errorf("VerifyPin(%d, %s) = %+v, %v; want %s", tc.id, tc.pin, v, err, tc.reason)
		}
	}
	if p := info(t, s, ken.ID); p.LocalFailures != 1 || p.GlobalFailures != 1 {
		t.Errorf("counters after one failure: %+v", p)
	}
	// Expired PINs are refused and not counted.
	s.SetPolicy(ctx, op(T0()), "global", store.PolicyChanges{PinLifetime: ptr(1), PinHistoryCount: ptr(1)})
	setPin(t, s, T0(), ken.ID, "27194")
	if v, _ := s.VerifyPin(ctx, op(T0().Add(48*time.Hour)), ken.ID, "27194"); v.Reason != "expired" {
		t.Errorf("expired PIN: %+v", v)
	}
	if v, _ := s.VerifyPin(ctx, op(T0().Add(time.Hour)), ken.ID, "27194"); !v.OK {
		t.Errorf("PIN before expiry: %+v", v)
	}
}

func testLockout(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	if _, err := s.SetPolicy(ctx, op(T0()), "global", store.PolicyChanges{MaximumLogonAttempts: ptr(3), MinPasswordLength: ptr(4)}); err != nil {
		t.Fatal(err)
	}
	setPin(t, s, T0(), ken.ID, "4815")
	now := T0()
	verify := func(pin string) string {
		t.Helper()
		v, err := s.VerifyPin(ctx, op(now), ken.ID, pin)
		if err != nil {
			t.Fatal(err)
		}
		return v.Reason
	}
	for i := range 3 {
		if r := verify("0000"); r != "wrong_pin" {
			t.Fatalf("failure %d: %s", i, r)
		}
	}
	if r := verify("4815"); r != "temporarily_locked" {
		t.Errorf("right PIN during the temporary lock: %s", r)
	}
	now = now.Add(61 * time.Minute)
	if r := verify("4815"); r != "ok" {
		t.Errorf("after the temporary lock: %s", r)
	}
	// Keep failing, spreading the failures so that only the global limit
	// (100 for 4 digits) is reached.
	for i := 0; i < 200; i++ {
		if i%2 == 0 {
			now = now.Add(31 * time.Minute)
		}
		if r := verify("0000"); r != "wrong_pin" {
			if r != "locked" {
				t.Fatalf("failure %d: %s", i, r)
			}
			break
		}
	}
	p := info(t, s, ken.ID)
	if p.LockedBy != store.LockedBySystem || p.GlobalFailures != 100 {
		t.Fatalf("after the global limit: %+v", p)
	}
	if r := verify("4815"); r != "locked" {
		t.Errorf("right PIN after a system lock: %s", r)
	}
	if res, _ := s.UnlockPins(ctx, op(now), []store.UserID{ken.ID}); res[0].Outcome != store.Changed {
		t.Fatalf("unlock: %+v", res)
	}
	if p := info(t, s, ken.ID); p.GlobalFailures != 0 || p.LocalFailures != 0 || p.IsLockedOut() {
		t.Errorf("after unlock: %+v", p)
	}
	if r := verify("4815"); r != "ok" {
		t.Errorf("after unlock: %s", r)
	}
}

func testPolicies(t *testing.T, s store.Store) {
	ps, err := s.Policies(ctx)
	if err != nil || len(ps) != 1 || ps[0] != store.DefaultPolicy("global") {
		t.Fatalf("Policies of a new store = %+v, %v", ps, err)
	}
	p, err := s.NewPolicy(ctx, op(T0()), "tag:Short", store.PolicyChanges{MinPasswordLength: ptr(4), Description: ptr("desk phones")})
	if err != nil || p.Identity != "tag:Short" || p.MinPasswordLength != 4 || p.PinHistoryCount != 0 || p.Description != "desk phones" {
		t.Fatalf("NewPolicy = %+v, %v", p, err)
	}
	if _, err := s.NewPolicy(ctx, op(T0()), "TAG:short", store.PolicyChanges{}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate policy: %v", err)
	}
	if _, err := s.NewPolicy(ctx, op(T0()), "global", store.PolicyChanges{}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("new global policy: %v", err)
	}
	if _, err := s.NewPolicy(ctx, op(T0()), "user:x", store.PolicyChanges{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad identity: %v", err)
	}
	if got, err := s.Policy(ctx, "tag:SHORT"); err != nil || got != p {
		t.Errorf("Policy(tag:SHORT) = %+v, %v", got, err)
	}
	// A name without a scope is the per-user policy of that name.
	if got, err := s.Policy(ctx, "short"); err != nil || got != p {
		t.Errorf("Policy(short) = %+v, %v", got, err)
	}
	if _, err := s.NewPolicy(ctx, op(T0()), "Short", store.PolicyChanges{}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate policy by its bare name: %v", err)
	}
	if _, err := s.Policy(ctx, "stie:Short"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown scope: %v", err)
	}
	if _, err := s.Policy(ctx, "site:Nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing policy: %v", err)
	}
	for _, tc := range []struct {
		c     store.PolicyChanges
		field string
	}{
		{store.PolicyChanges{MinPasswordLength: ptr(3)}, "min_password_length"},
		{store.PolicyChanges{MinPasswordLength: ptr(25)}, "min_password_length"},
		{store.PolicyChanges{PinHistoryCount: ptr(21)}, "pin_history_count"},
		{store.PolicyChanges{PinLifetime: ptr(1000), PinHistoryCount: ptr(1)}, "pin_lifetime"},
		{store.PolicyChanges{PinLifetime: ptr(10)}, "pin_lifetime"},
		{store.PolicyChanges{MaximumLogonAttempts: ptr(1000)}, "maximum_logon_attempts"},
	} {
		_, err := s.SetPolicy(ctx, op(T0()), "tag:Short", tc.c)
		wantFieldErr(t, err, store.ErrPolicyRange, tc.field)
		_, err = s.NewPolicy(ctx, op(T0()), "site:Range", tc.c)
		wantFieldErr(t, err, store.ErrPolicyRange, tc.field)
	}
	if got, _ := s.Policy(ctx, "tag:Short"); got != p {
		t.Errorf("a refused change changed the policy: %+v", got)
	}
	g, err := s.SetPolicy(ctx, op(T0()), "Global", store.PolicyChanges{MinPasswordLength: ptr(8), PinLifetime: ptr(90), PinHistoryCount: ptr(5), AllowCommonPatterns: ptr(true)})
	if err != nil || g.MinPasswordLength != 8 || g.PinLifetime != 90 || !g.AllowCommonPatterns {
		t.Fatalf("SetPolicy(global) = %+v, %v", g, err)
	}
	if err := s.RemovePolicy(ctx, op(T0()), "global"); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Policy(ctx, "global"); g != store.DefaultPolicy("global") {
		t.Errorf("removed global policy = %+v; want defaults", g)
	}
	s.NewPolicy(ctx, op(T0()), "site:Redmond", store.PolicyChanges{})
	ps, _ = s.Policies(ctx)
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.Identity)
	}
	if !slices.Equal(ids, []string{"global", "site:Redmond", "tag:Short"}) {
		t.Errorf("Policies = %v", ids)
	}
	if err := s.RemovePolicy(ctx, op(T0()), "tag:nothing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove a missing policy: %v", err)
	}
}

func testPolicyScopes(t *testing.T, s store.Store) {
	u := litware("kenmyer", "Ken Myer")
	u.Site = "Redmond"
	ken := create(t, s, u)
	other := create(t, s, litware("pilar", "Pilar Ackerman"))
	eff := func(id store.UserID) string {
		t.Helper()
		p, err := s.EffectivePolicy(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Identity
	}
	if eff(ken.ID) != "global" {
		t.Errorf("no site policy yet: %s", eff(ken.ID))
	}
	s.NewPolicy(ctx, op(T0()), "site:redmond", store.PolicyChanges{})
	s.NewPolicy(ctx, op(T0()), "tag:Short", store.PolicyChanges{MinPasswordLength: ptr(4)})
	if eff(ken.ID) != "site:redmond" || eff(other.ID) != "global" {
		t.Errorf("site policy: %s, %s", eff(ken.ID), eff(other.ID))
	}
	res, err := s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID, 99999}, "Short")
	if err != nil || res[0].Outcome != store.Changed || res[1].Outcome != store.Failed {
		t.Fatalf("GrantPolicy = %+v, %v", res, err)
	}
	if eff(ken.ID) != "tag:Short" {
		t.Errorf("tag beats site: %s", eff(ken.ID))
	}
	if us := find(t, s, "Ken Myer"); us[0].PinPolicy != "Short" {
		t.Errorf("granted user: %+v", us[0])
	}
	if res, _ := s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID}, "tag:short"); res[0].Outcome != store.Skipped {
		t.Errorf("grant twice: %+v", res)
	}
	// A 4-digit PIN is fine under the tag policy, not under global.
	if r := setPin(t, s, T0(), ken.ID, "4815"); r.Err != nil {
		t.Errorf("4 digits under tag:Short: %v", r.Err)
	}
	if r := setPin(t, s, T0(), other.ID, "4815"); r.Err == nil {
		t.Error("4 digits accepted under global")
	}
	if _, err := s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID}, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("grant a missing policy: %v", err)
	}
	// Removing the tag policy ungrants it: the user falls back to the site.
	if err := s.RemovePolicy(ctx, op(T0()), "tag:Short"); err != nil {
		t.Fatal(err)
	}
	if eff(ken.ID) != "site:redmond" || find(t, s, "Ken Myer")[0].PinPolicy != "" {
		t.Errorf("after removing the tag policy: %s", eff(ken.ID))
	}
	// Re-creating a policy of that name does not re-grant it.
	s.NewPolicy(ctx, op(T0()), "tag:Short", store.PolicyChanges{})
	if eff(ken.ID) != "site:redmond" {
		t.Errorf("re-created tag policy granted again: %s", eff(ken.ID))
	}
	s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID}, "Short")
	if res, _ := s.GrantPolicy(ctx, op(T0()), []store.UserID{ken.ID}, ""); res[0].Outcome != store.Changed || eff(ken.ID) != "site:redmond" {
		t.Errorf("unassign: %+v %s", res, eff(ken.ID))
	}
	if err := s.RemovePolicy(ctx, op(T0()), "site:Redmond"); err != nil {
		t.Fatal(err)
	}
	if eff(ken.ID) != "global" {
		t.Errorf("after removing the site policy: %s", eff(ken.ID))
	}
	if _, err := s.EffectivePolicy(ctx, 123456); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("EffectivePolicy of a missing user: %v", err)
	}
}

func testRoles(t *testing.T, s store.Store) {
	roles, err := s.Roles(ctx)
	if err != nil || len(roles) != 5 {
		t.Fatalf("Roles = %+v, %v", roles, err)
	}
	for i, std := range store.StandardRoles() {
		r := roles[i]
		if r.Identity != std.Identity || !r.IsStandardRole || !slices.Equal(r.Builtins, std.Builtins) {
			t.Errorf("role %d = %+v; want %s", i, r, std.Identity)
		}
	}
	if !slices.Equal(roles[0].Members, []string{Creator}) {
		t.Errorf("CsAdministrator members = %v; want the creator", roles[0].Members)
	}
	if err := s.AddRoleMember(ctx, op(T0()), "cshelpdesk", "helpdesk1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRoleMember(ctx, op(T0()), "CsHelpDesk", "HelpDesk1"); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("add a member twice: %v", err)
	}
	if err := s.AddRoleMember(ctx, op(T0()), "NoRole", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("add to a missing role: %v", err)
	}
	r, err := s.NewRole(ctx, op(T0()), "Tier1", "CsHelpDesk")
	if err != nil || r.IsStandardRole || r.Template != "CsHelpDesk" || !r.Allows("lock_pin") || r.Allows("set_pin") {
		t.Fatalf("NewRole = %+v, %v", r, err)
	}
	if _, err := s.NewRole(ctx, op(T0()), "tier1", "CsHelpDesk"); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate role: %v", err)
	}
	if _, err := s.NewRole(ctx, op(T0()), "CsHelpDesk", "CsHelpDesk"); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("custom role named like a standard one: %v", err)
	}
	if _, err := s.NewRole(ctx, op(T0()), "Tier2", "Tier1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("custom role from a custom template: %v", err)
	}
	s.AddRoleMember(ctx, op(T0()), "Tier1", "helpdesk1")
	mine, err := s.RolesOf(ctx, "HELPDESK1")
	if err != nil || len(mine) != 2 || mine[0].Identity != "CsHelpDesk" || mine[1].Identity != "Tier1" {
		t.Errorf("RolesOf = %+v, %v", mine, err)
	}
	if err := s.RemoveRole(ctx, op(T0()), "CsHelpDesk"); !errors.Is(err, store.ErrStandardRole) {
		t.Errorf("remove a standard role: %v", err)
	}
	if err := s.RemoveRole(ctx, op(T0()), "tier1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRole(ctx, op(T0()), "tier1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	if err := s.RemoveRoleMember(ctx, op(T0()), "CsAdministrator", Creator); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("remove the last admin: %v", err)
	}
	s.AddRoleMember(ctx, op(T0()), "CsAdministrator", "admin2")
	if err := s.RemoveRoleMember(ctx, op(T0()), "CsAdministrator", Creator); err != nil {
		t.Errorf("remove an admin with another left: %v", err)
	}
	if err := s.RemoveRoleMember(ctx, op(T0()), "CsHelpDesk", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("remove a non-member: %v", err)
	}
	roles, _ = s.Roles(ctx)
	if len(roles) != 5 || !slices.Equal(roles[0].Members, []string{"admin2"}) {
		t.Errorf("roles at the end: %+v", roles)
	}
}

// scanAudit reads the whole audit log matching q in chunks of n.
func scanAudit(t *testing.T, s store.Store, q store.AuditQuery, n int) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	var after uint64
	for i := 0; ; i++ {
		es, next, err := s.ScanAudit(ctx, q, after, n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
		if next == 0 {
			return out
		}
		if i > 100000 {
			t.Fatal("audit scan does not end")
		}
		after = next
	}
}

func testAudit(t *testing.T, s store.Store) {
	ken := create(t, s, litware("kenmyer", "Ken Myer"))
	t1 := T0().Add(time.Hour)
	setPin(t, s, t1, ken.ID, "48151")
	s.LockPins(ctx, store.Op{Operator: "helpdesk1", Now: t1.Add(time.Minute)}, []store.UserID{ken.ID})
	s.VerifyPin(ctx, op(t1.Add(2*time.Minute)), ken.ID, "48151")
	if err := s.Audit(ctx, store.Op{Operator: "viewer", Now: t1.Add(3 * time.Minute)},
		store.AuditEntry{Action: "lock_pin", Target: ken.SipAddress, Outcome: "denied", Detail: "viewer is not allowed to run lock_pin"}); err != nil {
		t.Fatal(err)
	}
	all := scanAudit(t, s, store.AuditQuery{}, 2)
	var got []string
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("sequence not increasing at %d", i)
		}
		got = append(got, e.Operator+" "+e.Action+" "+e.Target+" "+e.Outcome)
		for _, secret := range []string{"48151"} {
			if strings.Contains(e.Detail, secret) || strings.Contains(e.Target, secret) {
				t.Errorf("audit entry %+v contains a PIN", e)
			}
		}
	}
	want := []string{
		"admin create_database",
		"admin new_user sip:kenmyer@litwareinc.com ok",
		"admin set_pin sip:kenmyer@litwareinc.com ok",
		"helpdesk1 lock_pin sip:kenmyer@litwareinc.com ok",
		"admin verify_pin sip:kenmyer@litwareinc.com locked",
		"viewer lock_pin sip:kenmyer@litwareinc.com denied",
	}
	if len(got) != len(want) {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("audit entry %d = %q; want %q", i, got[i], want[i])
		}
	}
	if e := all[3]; !e.Time.Equal(t1.Add(time.Minute)) {
		t.Errorf("lock entry time %v", e.Time)
	}
	since := scanAudit(t, s, store.AuditQuery{Since: t1, Until: t1.Add(2 * time.Minute)}, 100)
	if len(since) != 2 || since[0].Action != "set_pin" || since[1].Action != "lock_pin" {
		t.Errorf("time window: %+v", since)
	}
	byAction := scanAudit(t, s, store.AuditQuery{Action: "lock_pin", Operator: "HELPDESK1"}, 100)
	if len(byAction) != 1 {
		t.Errorf("action+operator filter: %+v", byAction)
	}
	if err := s.Audit(ctx, op(T0()), store.AuditEntry{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("audit entry without action: %v", err)
	}
	// An account acting for another operator (pinsh --as): the entry names
	// both, and the operator filter finds it by either; entries after it
	// do not inherit it.
	acting := store.Op{Operator: "helpdesk1", ActedBy: "alice", Now: t1.Add(4 * time.Minute)}
	if _, err := s.UnlockPins(ctx, acting, []store.UserID{ken.ID}); err != nil {
		t.Fatal(err)
	}
	s.LockPins(ctx, store.Op{Operator: "helpdesk1", Now: t1.Add(5 * time.Minute)}, []store.UserID{ken.ID})
	for _, who := range []string{"Alice", "helpdesk1"} {
		es := scanAudit(t, s, store.AuditQuery{Operator: who, Since: t1.Add(4 * time.Minute)}, 100)
		if len(es) == 0 || es[0].Operator != "helpdesk1" || es[0].ActedBy != "alice" || es[0].Action != "unlock_pin" {
			t.Errorf("operator filter %q: %+v; want the unlock by alice as helpdesk1", who, es)
		}
		if who == "Alice" && len(es) != 1 {
			t.Errorf("operator filter %q: %d entries, want 1", who, len(es))
		}
		if who == "helpdesk1" && (len(es) != 2 || es[1].ActedBy != "") {
			t.Errorf("operator filter %q: %+v; want the lock after it without acted_by", who, es)
		}
	}
	// Many entries span several chunks and blocks, and resume exactly.
	var ids []store.UserID
	for i := range 300 {
		ids = append(ids, create(t, s, store.User{SipAddress: fmt.Sprintf("bulk%03d@litwareinc.com", i)}).ID)
	}
	if n := len(scanAudit(t, s, store.AuditQuery{Action: "new_user"}, 7)); n != 301 {
		t.Errorf("%d new_user entries, want 301", n)
	}
	if n := len(scanAudit(t, s, store.AuditQuery{}, 1000)); n != len(all)+2+300 {
		t.Errorf("%d entries, want %d", n, len(all)+2+300)
	}
}

func rowsOf(rows ...store.ImportRow) func(func(store.ImportRow) bool) {
	return func(yield func(store.ImportRow) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}
}

func testImport(t *testing.T, s store.Store) {
	create(t, s, litware("kenmyer", "Ken Myer"))
	s.NewPolicy(ctx, op(T0()), "tag:Short", store.PolicyChanges{MinPasswordLength: ptr(4)})
	row := func(line int, sam string) store.ImportRow {
		return store.ImportRow{Line: line, User: litware(sam, "User "+sam)}
	}
	dupDN := row(9, "dn2")
	dupDN.User.DistinguishedName = "CN=User a,OU=Redmond,DC=litwareinc,DC=com"
	badPolicy := row(10, "pol")
	badPolicy.User.PinPolicy = "missing"
	goodPolicy := row(11, "pol2")
	goodPolicy.User.PinPolicy = "tag:short"
	var progress []int
	rep, err := s.ImportUsers(ctx, op(T0()), rowsOf(
		row(2, "a"),
		store.ImportRow{Line: 3, Err: errors.New("wrong number of columns")},
		row(4, "kenmyer"), // already stored
		row(5, "b"),
		row(6, "a"), // repeats line 2
		store.ImportRow{Line: 7, User: store.User{SipAddress: "no address"}},
		store.ImportRow{Line: 8, User: store.User{SipAddress: "c@litwareinc.com", UserPrincipalName: "B@litwareinc.com"}},
		dupDN, badPolicy, goodPolicy,
	), func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Imported != 3 {
		t.Errorf("imported %d, want 3", rep.Imported)
	}
	var lines []int
	for _, b := range rep.Bad {
		lines = append(lines, b.Line)
	}
	if !slices.Equal(lines, []int{3, 4, 6, 7, 8, 9, 10}) {
		t.Errorf("bad lines %v: %v", lines, rep.Bad)
	}
	wantIn := map[int][]string{
		3: {"columns"}, 4: {"sip_address", "already used"}, 6: {"line 2"}, 7: {"sip_address"},
		8: {"user_principal_name"}, 9: {"distinguished_name", "line 2"}, 10: {"pin_policy"},
	}
	for _, b := range rep.Bad {
		for _, w := range wantIn[b.Line] {
			if !strings.Contains(b.Err.Error(), w) {
				t.Errorf("line %d: %v does not say %q", b.Line, b.Err, w)
			}
		}
		if !strings.HasPrefix(b.Error(), fmt.Sprintf("line %d: ", b.Line)) {
			t.Errorf("RowError text %q", b.Error())
		}
	}
	if len(progress) == 0 || progress[len(progress)-1] != 3 {
		t.Errorf("progress %v", progress)
	}
	for _, id := range []string{"User a", "b@litwareinc.com", `litwareinc\pol2`} {
		if us := find(t, s, id); len(us) != 1 {
			t.Errorf("imported %q found %d times", id, len(us))
		}
	}
	if us := find(t, s, "pol2@litwareinc.com"); len(us) != 1 || us[0].PinPolicy != "short" {
		t.Errorf("imported policy grant: %+v", us)
	}
	if n := len(scanAudit(t, s, store.AuditQuery{Action: "import_users"}, 100)); n != 3 {
		t.Errorf("%d import audit entries, want 3", n)
	}
	// An import whose rows are all bad adds nothing and fails nothing else.
	rep, err = s.ImportUsers(ctx, op(T0()), rowsOf(row(2, "a")), nil)
	if err != nil || rep.Imported != 0 || len(rep.Bad) != 1 || rep.BadCount != 1 {
		t.Errorf("all-bad import: %+v, %v", rep, err)
	}
}

// testImportManyBad: an import of many bad rows counts them all and keeps
// the MaxBadRows of the lowest lines, in line order, whichever stage (the
// caller's parser, the store's checks) found them.
func testImportManyBad(t *testing.T, s store.Store) {
	create(t, s, litware("kenmyer", "Ken Myer"))
	const n = 1000
	rows := func(yield func(store.ImportRow) bool) {
		for line := 2; line < n+2; line++ {
			var r store.ImportRow
			switch line % 3 {
			case 0: // found by the parser
				r = store.ImportRow{Line: line, Err: errors.New("wrong number of columns")}
			case 1: // found by the store: a user already stored
				r = store.ImportRow{Line: line, User: litware("kenmyer", "Ken Again")}
			default:
				r = store.ImportRow{Line: line, User: litware(fmt.Sprintf("u%d", line), fmt.Sprintf("User %d", line))}
			}
			if !yield(r) {
				return
			}
		}
	}
	rep, err := s.ImportUsers(ctx, op(T0()), rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := 0
	for line := 2; line < n+2; line++ {
		if line%3 == 2 {
			good++
		}
	}
	if rep.Imported != good || rep.BadCount != n-good || len(rep.Bad) != store.MaxBadRows {
		t.Fatalf("imported %d (want %d), %d bad (want %d), %d kept (want %d)",
			rep.Imported, good, rep.BadCount, n-good, len(rep.Bad), store.MaxBadRows)
	}
	want := 3
	for _, b := range rep.Bad {
		if b.Line != want {
			t.Fatalf("kept bad lines: %v; want the lowest, from 3, in order", rep.Bad)
		}
		if want++; want%3 == 2 {
			want++
		}
	}
}

func testLoadUsers(t *testing.T, s store.Store) {
	rows := func(yield func(store.LoadRow) bool) {
		for i := range 50 {
			r := store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("load%02d@litwareinc.com", i), Enabled: true}}
			switch i % 5 {
			case 1:
				r.Pin = "48151"
				r.State = store.PinState{LastChange: T0()}
			case 2:
				r.Pin = "48151"
				r.State = store.PinState{LastChange: T0().AddDate(0, 0, -40), Expires: T0().AddDate(0, 0, -10), LockedBy: store.LockedBySystem, GlobalFailures: 1000}
			case 3:
				r.Pin = "27194"
				r.State = store.PinState{LastChange: T0()}
			}
			if !yield(r) {
				return
			}
		}
	}
	rep, err := s.LoadUsers(ctx, op(T0()), rows, nil)
	if err != nil || rep.Imported != 50 || len(rep.Bad) != 0 {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	// A state marked set needs a PIN (or a hash).
	rep, err = s.LoadUsers(ctx, op(T0()), func(yield func(store.LoadRow) bool) {
		yield(store.LoadRow{Line: 7, User: store.User{SipAddress: "nopin@litwareinc.com"}, State: store.PinState{IsSet: true}})
	}, nil)
	if err != nil || rep.Imported != 0 || len(rep.Bad) != 1 || rep.Bad[0].Line != 7 || !errors.Is(rep.Bad[0].Err, store.ErrInvalid) {
		t.Errorf("set state without a PIN: %+v, %v", rep, err)
	}
	us, _, _ := s.ScanUsers(ctx, store.UserQuery{}, 0, 100)
	var ids []store.UserID
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	ps, _ := s.PinInfos(ctx, ids)
	for i, p := range ps {
		switch i % 5 {
		case 1, 3:
			if !p.IsSet || p.IsLockedOut() || !p.LastChange.Equal(T0()) {
				t.Errorf("row %d: %+v", i, p)
			}
		case 2:
			if !p.IsSet || p.LockedBy != store.LockedBySystem || !p.IsExpired(T0()) || p.GlobalFailures != 1000 {
				t.Errorf("row %d: %+v", i, p)
			}
		default:
			if p.IsSet {
				t.Errorf("row %d has a PIN: %+v", i, p)
			}
		}
	}
	for _, tc := range []struct {
		i      int
		pin    string
		reason string
	}{{1, "48151", "ok"}, {6, "48151", "ok"}, {3, "27194", "ok"}, {3, "48151", "wrong_pin"}, {2, "48151", "locked"}} {
		if v, _ := s.VerifyPin(ctx, op(T0()), ids[tc.i], tc.pin); v.Reason != tc.reason {
			t.Errorf("verify row %d with %s: %+v; want %s", tc.i, tc.pin, v, tc.reason)
		}
	}
}

// testInterleavedChunks reads in chunks and writes between chunks, in one
// goroutine, on a directory big enough to make the file grow: no read may
// be held across calls (bbolt would deadlock a writer that must grow the
// file).
func testInterleavedChunks(t *testing.T, s store.Store) {
	const n = 3000
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			r := store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("chunk%05d@litwareinc.com", i),
				DisplayName: fmt.Sprintf("Chunk User %05d", i), Enabled: true}}
			if i%2 == 0 {
				r.Pin, r.State = "48151", store.PinState{LastChange: T0()}
			}
			if !yield(r) {
				return
			}
		}
	}
	if rep, err := s.LoadUsers(ctx, op(T0()), rows, nil); err != nil || rep.Imported != n {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	locked := 0
	var after store.UserID
	for {
		us, next, err := s.ScanUsers(ctx, store.UserQuery{}, after, 256)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]store.UserID, len(us))
		for i, u := range us {
			ids[i] = u.ID
		}
		ps, err := s.PinInfos(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		var set []store.UserID
		for _, p := range ps {
			if p.IsSet {
				set = append(set, p.ID)
			}
		}
		res, err := s.LockPins(ctx, op(T0()), set)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome == store.Changed {
				locked++
			}
		}
		// Grow the file between chunks too.
		for i := range 5 {
			create(t, s, store.User{SipAddress: fmt.Sprintf("grow%d-%d@litwareinc.com", after, i), DisplayName: strings.Repeat("x", 200)})
		}
		if next == 0 {
			break
		}
		after = next
	}
	if locked != n/2 {
		t.Errorf("locked %d PINs, want %d", locked, n/2)
	}
}

func testBadOps(t *testing.T, s store.Store) {
	u := litware("kenmyer", "Ken Myer")
	for _, o := range []store.Op{{Now: T0()}, {Operator: "x"}} {
		if _, err := s.CreateUser(ctx, o, u); err == nil {
			t.Errorf("CreateUser with op %+v accepted", o)
		}
		if _, err := s.LockPins(ctx, o, nil); err == nil {
			t.Errorf("LockPins with op %+v accepted", o)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.FindUsers(cctx, "Ken Myer"); !errors.Is(err, context.Canceled) {
		t.Errorf("FindUsers with a cancelled context: %v", err)
	}
	if _, err := s.CreateUser(cctx, op(T0()), u); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser with a cancelled context: %v", err)
	}
}
