// Package sample builds the sample directory of design §6 (used by --demo
// and by every script test) and synthetic directories of any size (pinsh
// generate N).
//
// # The sample directory
//
// Seed builds, at the clock time T of its Op, seven litwareinc.com users in
// OU=Redmond, site Redmond, pool pool01.litwareinc.com, each with the line
// tel:+1425555010N;ext=10N:
//
//	Ken Myer        kenmyer   PIN 48151, expires T+30 days (policy tag:Expire30)
//	Pilar Ackerman  pilar     PIN 27194, never expires
//	David Longmuir  davidlongmuir  PIN 39420, expired at T-1 day (tag:Expire30)
//	Aidan Delaney   aidan     no PIN
//	Tony Smith      tonysmith PIN 50738, locked by the system (1,000 failures)
//	Lisa Smith      lisasmith PIN 61847, locked by an admin
//	Jeff Hay        jeffhay   PIN 86293, user disabled
//
// Their directory attributes (as Active Directory names them: title,
// department, l, company, mail, givenName, sn, telephoneNumber, memberOf),
// chosen so that the Get-CsUser -LdapFilter examples select someone:
//
//	              title                 department  l        memberOf (CN=...,OU=Groups,DC=litwareinc,DC=com)
//	Ken Myer        Manager               Finance     Redmond  Finance, Managers
//	Pilar Ackerman  Supervisor            Finance     Redmond  Finance
//	David Longmuir  Manager               Sales       Dublin   Sales, Managers
//	Aidan Delaney   Accountant            Finance     Dublin   Finance
//	Tony Smith      Manager               Finance     Dublin   Finance, Managers
//	Lisa Smith      Sales Representative  Sales       Redmond  Sales
//	Jeff Hay        Help Desk Technician  IT          Redmond  (none)
//
// so (&(Department=Finance)(Title=Manager)) is Ken and Tony, and
// (|(Title=Supervisor)(Title=Manager)) adds Pilar and David. Every user
// has company "Litware, Inc.", mail SAM@litwareinc.com, givenName and sn
// from the display name, and telephoneNumber "+1 (425) 555-010N", the
// number of the line.
//
// Policies: global (defaults), site:Redmond (defaults, "Redmond site"), and
// tag:Expire30 (30-day lifetime, history 1). Roles: the operator of the Op
// is a CsAdministrator; helpdesk1, useradmin1, serveradmin1 and viewonly1
// are members of CsHelpDesk, CsUserAdministrator, CsServerAdministrator and
// CsViewOnlyAdministrator. The PINs are hashed normally, with the store's
// key and parameters, so tests can verify them.
//
// # Synthetic users
//
// Generate adds N users user0000001@contoso.com ("User 0000001") ... in
// OUs of 10,000 users (OU=Users0, OU=Users1, ...) under
// OU=Synthetic,DC=contoso,DC=com, spread over five sites. Even-numbered
// users have a PIN: all the same, SyntheticPIN, sharing ONE precomputed
// hash (hashing a million PINs would take over an hour; synthetic users
// exist for trials and capacity tests, not for security). Of the users with
// a PIN, 10% are locked by an admin, 10% by the system, 20% expired a day
// ago, 20% expire in 60 days, and 40% never expire. Every 50th user is
// disabled.
package sample

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// DemoHashParams returns cheap argon2id parameters (1 MiB, one pass) for
// throwaway databases, --demo and script tests: with them Seed takes a few
// milliseconds and a lockout test can verify hundreds of PINs. A real
// directory keeps pinhash.DefaultParams (the store's default); each hash
// records its parameters, so both kinds verify correctly.
func DemoHashParams() pinhash.Params { return pinhash.Params{MemoryKiB: 1024, Time: 1, Threads: 1} }

// PINs of the sample directory.
const (
	KenPIN   = "48151"
	PilarPIN = "27194"
	DavidPIN = "39420"
	TonyPIN  = "50738"
	LisaPIN  = "61847"
	JeffPIN  = "86293"
)

// Operators of the sample's roles besides the seeding operator.
const (
	HelpDesk      = "helpdesk1"
	UserAdmin     = "useradmin1"
	ServerAdmin   = "serveradmin1"
	ViewOnlyAdmin = "viewonly1"
)

// Administrator returns who is to hold CsAdministrator in a sample directory
// run by operator: operator itself, unless it is one of the sample's other
// role members (HelpDesk, ...), who keeps only that role, so that
// "--demo --as helpdesk1" tries what a help desk may do; then otherwise.
func Administrator(operator, otherwise string) string {
	switch operator {
	case HelpDesk, UserAdmin, ServerAdmin, ViewOnlyAdmin:
		return otherwise
	}
	return operator
}

// SyntheticPIN is the one PIN of every generated user that has one.
const SyntheticPIN = "86429"

// Seed builds the sample directory in s at op.Now. s should be empty: a
// second Seed fails on the duplicate users.
func Seed(ctx context.Context, s store.Store, op store.Op) error {
	t := op.Now
	if _, err := s.NewPolicy(ctx, op, "site:Redmond", store.PolicyChanges{Description: ptr("Redmond site")}); err != nil {
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	if _, err := s.NewPolicy(ctx, op, "tag:Expire30", store.PolicyChanges{
		PinLifetime: ptr(30), PinHistoryCount: ptr(1), Description: ptr("PINs expire after 30 days"),
	}); err != nil {
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	day := 24 * time.Hour
	users := []struct {
		sam, display, pin, policy string
		enabled                   bool
		st                        store.PinState
		// directory attributes: title, department, city, given name,
		// surname, and the groups (CN=NAME,OU=Groups,DC=litwareinc,DC=com)
		title, dept, city, given, sn string
		groups                       []string
	}{
		{"kenmyer", "Ken Myer", KenPIN, "Expire30", true, store.PinState{LastChange: t, Expires: t.Add(30 * day)},
			"Manager", "Finance", "Redmond", "Ken", "Myer", []string{"Finance", "Managers"}},
		{"pilar", "Pilar Ackerman", PilarPIN, "", true, store.PinState{LastChange: t.Add(-10 * day)},
			"Supervisor", "Finance", "Redmond", "Pilar", "Ackerman", []string{"Finance"}},
		{"davidlongmuir", "David Longmuir", DavidPIN, "Expire30", true, store.PinState{LastChange: t.Add(-31 * day), Expires: t.Add(-day)},
			"Manager", "Sales", "Dublin", "David", "Longmuir", []string{"Sales", "Managers"}},
		{"aidan", "Aidan Delaney", "", "", true, store.PinState{},
			"Accountant", "Finance", "Dublin", "Aidan", "Delaney", []string{"Finance"}},
		{"tonysmith", "Tony Smith", TonyPIN, "", true, store.PinState{LastChange: t.Add(-5 * day), LockedBy: store.LockedBySystem, GlobalFailures: 1000},
			"Manager", "Finance", "Dublin", "Tony", "Smith", []string{"Finance", "Managers"}},
		{"lisasmith", "Lisa Smith", LisaPIN, "", true, store.PinState{LastChange: t.Add(-5 * day), LockedBy: store.LockedByAdmin},
			"Sales Representative", "Sales", "Redmond", "Lisa", "Smith", []string{"Sales"}},
		{"jeffhay", "Jeff Hay", JeffPIN, "", false, store.PinState{LastChange: t.Add(-5 * day)},
			"Help Desk Technician", "IT", "Redmond", "Jeff", "Hay", nil},
	}
	rows := func(yield func(store.LoadRow) bool) {
		for i, u := range users {
			n := strconv.Itoa(101 + i)
			var groups []string
			for _, g := range u.groups {
				groups = append(groups, "CN="+g+",OU=Groups,DC=litwareinc,DC=com")
			}
			r := store.LoadRow{Line: i + 1, Pin: u.pin, State: u.st, User: store.User{
				SipAddress:             u.sam + "@litwareinc.com",
				DisplayName:            u.display,
				SamAccountName:         u.sam,
				Domain:                 "litwareinc",
				DistinguishedName:      "CN=" + u.display + ",OU=Redmond,DC=litwareinc,DC=com",
				Enabled:                u.enabled,
				RegistrarPool:          "pool01.litwareinc.com",
				LineURI:                "tel:+1425555" + "0" + n + ";ext=" + n,
				EnterpriseVoiceEnabled: true,
				Site:                   "Redmond",
				PinPolicy:              u.policy,
				Title:                  u.title,
				Department:             u.dept,
				City:                   u.city,
				Company:                "Litware, Inc.",
				Mail:                   u.sam + "@litwareinc.com",
				GivenName:              u.given,
				Surname:                u.sn,
				TelephoneNumber:        "+1 (425) 555-0" + n,
				MemberOf:               groups,
			}}
			if !yield(r) {
				return
			}
		}
	}
	rep, err := s.LoadUsers(ctx, op, rows, nil)
	if err == nil && len(rep.Bad) > 0 {
		err = rep.Bad[0]
	}
	if err != nil {
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	mine, err := s.RolesOf(ctx, op.Operator)
	if err != nil {
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	isAdmin := false
	for _, r := range mine {
		isAdmin = isAdmin || r.Identity == store.CsAdministrator
	}
	members := [][2]string{
		{store.CsHelpDesk, HelpDesk}, {store.CsUserAdministrator, UserAdmin},
		{store.CsServerAdministrator, ServerAdmin}, {store.CsViewOnlyAdministrator, ViewOnlyAdmin},
	}
	if !isAdmin {
		members = append(members, [2]string{store.CsAdministrator, op.Operator})
	}
	for _, m := range members {
		if err := s.AddRoleMember(ctx, op, m[0], m[1]); err != nil {
			return fmt.Errorf("seed the sample directory: %w", err)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// Generate adds n synthetic users to s (see the package doc), through the
// bulk path; progress, when not nil, gets the running count after each
// committed batch. Names continue after earlier generated users: a second
// run adds user1_0000001@contoso.com and so on.
func Generate(ctx context.Context, s store.Store, op store.Op, n int, progress func(done int)) error {
	if n <= 0 {
		return fmt.Errorf("generate %d users: the count must be positive", n)
	}
	prefix := ""
	for run := 0; ; run++ {
		if run > 0 {
			prefix = strconv.Itoa(run) + "_"
		}
		us, err := s.FindUsers(ctx, "user"+prefix+"0000001@contoso.com")
		if err != nil {
			return fmt.Errorf("generate users: %w", err)
		}
		if len(us) == 0 {
			break
		}
	}
	now := op.Now
	day := 24 * time.Hour
	sites := [...]string{"Redmond", "Dublin", "Tokyo", "Paris", "Sydney"}
	rows := func(yield func(store.LoadRow) bool) {
		var buf []byte
		for i := 1; i <= n; i++ {
			// Build every string of the row in one buffer and convert it
			// once: a million rows must take well under a second here.
			buf = buf[:0]
			num := strconv.AppendInt(nil, int64(i), 10)
			pad := func(b []byte) []byte {
				for k := len(num); k < 7; k++ {
					b = append(b, '0')
				}
				return append(b, num...)
			}
			buf = append(buf, "user"...)
			buf = append(buf, prefix...)
			buf = pad(buf)
			samEnd := len(buf)
			buf = append(buf, "@contoso.com"...)
			sipEnd := len(buf)
			buf = append(buf, "User "...)
			buf = append(buf, prefix...)
			buf = pad(buf)
			dispEnd := len(buf)
			buf = append(buf, "CN="...)
			buf = append(buf, buf[sipEnd:dispEnd]...)
			buf = append(buf, ",OU=Users"...)
			buf = strconv.AppendInt(buf, int64(i/10000), 10)
			buf = append(buf, ",OU=Synthetic,DC=contoso,DC=com"...)
			dnEnd := len(buf)
			buf = append(buf, "tel:+1425"...)
			buf = pad(buf)
			buf = append(buf, ";ext="...)
			buf = strconv.AppendInt(buf, int64(i%10000), 10)
			str := string(buf)
			r := store.LoadRow{Line: i, User: store.User{
				SipAddress:        str[:sipEnd],
				SamAccountName:    str[:samEnd],
				Domain:            "contoso",
				DisplayName:       str[sipEnd:dispEnd],
				DistinguishedName: str[dispEnd:dnEnd],
				LineURI:           str[dnEnd:],
				Enabled:           i%50 != 0,
				RegistrarPool:     "pool01.contoso.com",
				Site:              sites[i%len(sites)],
			}}
			if i%2 == 0 {
				r.Pin = SyntheticPIN
				r.State.LastChange = now.Add(-time.Duration(i%365) * day)
				switch i % 20 {
				case 0:
					r.State.LockedBy = store.LockedByAdmin
				case 10:
					r.State.LockedBy, r.State.GlobalFailures = store.LockedBySystem, 1000
				case 2, 12:
					r.State.LastChange, r.State.Expires = now.Add(-91*day), now.Add(-day)
				case 4, 14:
					r.State.LastChange, r.State.Expires = now.Add(-30*day), now.Add(60*day)
				}
			}
			if !yield(r) {
				return
			}
		}
	}
	rep, err := s.LoadUsers(ctx, op, rows, progress)
	if err == nil && len(rep.Bad) > 0 {
		err = fmt.Errorf("%d generated users refused, first: %w", rep.BadCount, rep.Bad[0])
	}
	if err != nil {
		return fmt.Errorf("generate %d users: %w", n, err)
	}
	return nil
}
