package store

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeSIP(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kenmyer@litwareinc.com", "sip:kenmyer@litwareinc.com"},
		{"SIP:KenMyer@LitwareInc.com", "sip:kenmyer@litwareinc.com"},
		{"  sip:a@b  ", "sip:a@b"},
		{"", ""}, {"sip:", ""}, {"ken", ""}, {"@x", ""}, {"x@", ""}, {"a@b@c", ""}, {"a b@c", ""}, {"a@b\x01", ""},
	} {
		got, err := NormalizeSIP(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizeSIP(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeSIP(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeUser(t *testing.T) {
	u, err := NormalizeUser(User{SipAddress: " KenMyer@Litwareinc.com ", DisplayName: " Ken Myer ", PinPolicy: "tag:Short"})
	if err != nil {
		t.Fatal(err)
	}
	want := User{SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer", UserPrincipalName: "kenmyer@litwareinc.com",
		SamAccountName: "kenmyer", Domain: "litwareinc", PinPolicy: "Short"}
	if !u.Equal(want) {
		t.Errorf("NormalizeUser = %+v\nwant %+v", u, want)
	}
	// Directory attributes are kept as given, trimmed; no groups is nil.
	u, err = NormalizeUser(User{SipAddress: "a@b.c", Title: " Manager ", Department: "Finance", City: "Redmond",
		Company: "Litware, Inc.", Mail: "A@B.C", GivenName: "Ann", Surname: "Smith", TelephoneNumber: "+1 (425) 555-0100",
		MemberOf: []string{" CN=Finance,OU=Groups,DC=b,DC=c ", "CN=All,DC=b,DC=c"}})
	want = User{SipAddress: "sip:a@b.c", UserPrincipalName: "a@b.c", SamAccountName: "a", Domain: "b",
		Title: "Manager", Department: "Finance", City: "Redmond", Company: "Litware, Inc.", Mail: "A@B.C", GivenName: "Ann",
		Surname: "Smith", TelephoneNumber: "+1 (425) 555-0100", MemberOf: []string{"CN=Finance,OU=Groups,DC=b,DC=c", "CN=All,DC=b,DC=c"}}
	if err != nil || !u.Equal(want) {
		t.Errorf("NormalizeUser with attributes = %+v, %v\nwant %+v", u, err, want)
	}
	if u, err := NormalizeUser(User{SipAddress: "a@b.c", MemberOf: []string{}}); err != nil || u.MemberOf != nil {
		t.Errorf("no groups = %#v, %v; want nil", u.MemberOf, err)
	}
	u, err = NormalizeUser(User{SipAddress: "a@b.c", UserPrincipalName: "A@Corp.b.c", SamAccountName: "ax", Domain: "CORP"})
	if err != nil || u.UserPrincipalName != "A@Corp.b.c" || u.SamAccountName != "ax" || u.Domain != "CORP" {
		t.Errorf("given fields not kept: %+v, %v", u, err)
	}
	for _, tc := range []struct {
		u     User
		field string
	}{
		{User{}, "sip_address"},
		{User{SipAddress: "nope"}, "sip_address"},
		{User{SipAddress: "a@b", DisplayName: "x\ty"}, "display_name"},
		{User{SipAddress: "a@b", DisplayName: "Sm*th"}, "display_name"},
		{User{SipAddress: "a@b", UserPrincipalName: "nope"}, "user_principal_name"},
		{User{SipAddress: "a@b", SamAccountName: `x\y`}, "sam_account_name"},
		{User{SipAddress: "a@b", Domain: "x@y"}, "domain"},
		{User{SipAddress: "a@b", DistinguishedName: "Ken Myer"}, "distinguished_name"},
		{User{SipAddress: "a@b", LineURI: "+1425"}, "line_uri"},
		{User{SipAddress: "a@b", LineURI: "tel:"}, "line_uri"},
		{User{SipAddress: "a@b", DisplayName: strings.Repeat("x", MaxFieldLength+1)}, "display_name"},
		{User{SipAddress: "a@b", Site: "bad\xffutf8"}, "site"},
		{User{SipAddress: "a@b", Title: "Man\x00ager"}, "title"},
		{User{SipAddress: "a@b", Department: strings.Repeat("x", MaxFieldLength+1)}, "department"},
		{User{SipAddress: "a@b", City: "\x7f"}, "city"},
		{User{SipAddress: "a@b", Company: "a\nb"}, "company"},
		{User{SipAddress: "a@b", Mail: "a\rb"}, "mail"},
		{User{SipAddress: "a@b", GivenName: "\x1b"}, "given_name"},
		{User{SipAddress: "a@b", Surname: "\xc3"}, "surname"},
		{User{SipAddress: "a@b", TelephoneNumber: "\t\x01"}, "telephone_number"},
		{User{SipAddress: "a@b", MemberOf: []string{"Finance"}}, "member_of"},
		{User{SipAddress: "a@b", MemberOf: []string{""}}, "member_of"},
		{User{SipAddress: "a@b", MemberOf: []string{"CN=Finance\x00,DC=x"}}, "member_of"},
		{User{SipAddress: "a@b", MemberOf: []string{"CN=" + strings.Repeat("x", MaxFieldLength)}}, "member_of"},
		{User{SipAddress: "a@b", MemberOf: []string{"CN=Finance,DC=x", "cn=finance , dc=X"}}, "member_of"},
	} {
		_, err := NormalizeUser(tc.u)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeUser(%+v) error = %v; want a FieldError for %s", tc.u, err, tc.field)
		}
	}
}

func TestParseIdentity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind IdentityKind
		key  string
	}{
		{"sip:KenMyer@litwareinc.com", SIPIdentity, "kenmyer@litwareinc.com"},
		{"KenMyer@litwareinc.com", AddressIdentity, "kenmyer@litwareinc.com"},
		{`LitwareInc\KenMyer`, LogonIdentity, `litwareinc\kenmyer`},
		{"Ken Myer", DisplayIdentity, "ken myer"},
		{"* Smith", WildcardIdentity, "* smith"},
		{"Pil*", WildcardIdentity, "pil*"},
		{"CN=Ken Myer, OU=Redmond,DC=litwareinc,DC=com", DNIdentity, "cn=ken myer,ou=redmond,dc=litwareinc,dc=com"},
		{"cn = Smith\\, John,ou=x", DNIdentity, "cn=smith\\, john,ou=x"},
	} {
		id, err := ParseIdentity(tc.in)
		if err != nil || id.Kind != tc.kind || id.Key != tc.key {
			t.Errorf("ParseIdentity(%q) = %+v, %v; want kind %d key %q", tc.in, id, err, tc.kind, tc.key)
		}
	}
	for _, in := range []string{"", "  ", `\kenmyer`, `litwareinc\`, "sip:nope"} {
		if _, err := ParseIdentity(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseIdentity(%q) error = %v; want ErrInvalid", in, err)
		}
	}
}

func TestDNPaths(t *testing.T) {
	p, err := ParentOUPath("CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com")
	if err != nil || p != "dc=com\x00dc=litwareinc\x00ou=redmond" {
		t.Fatalf("ParentOUPath = %q, %v", p, err)
	}
	ou, _ := OUPathKey("dc=LitwareInc, dc=com")
	if !UnderOU(p, ou) || !UnderOU(ou, ou) {
		t.Errorf("%q should be under %q", p, ou)
	}
	other, _ := OUPathKey("DC=litwareinc2,DC=com")
	if UnderOU(other, ou) {
		t.Errorf("%q must not be under %q", other, ou)
	}
	if rdns, err := ParseDN(`CN=a\,b,OU=x\`); err != nil || len(rdns) != 2 || rdns[0] != `cn=a\,b` || rdns[1] != `ou=x\` {
		t.Errorf("ParseDN with escapes = %q, %v", rdns, err)
	}
	for _, bad := range []string{"", "CN=a,,DC=b", "=x", "CN=a,b"} {
		if _, err := ParseDN(bad); err == nil {
			t.Errorf("ParseDN(%q) accepted", bad)
		}
	}
}

func TestMatchWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		want bool
	}{
		{"* smith", "tony smith", true}, {"* smith", "smith", false}, {"* smith", "tony smithers", false},
		{"pil*", "pilar ackerman", true}, {"pil*", "apil", false}, {"*", "", true}, {"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false}, {"ken myer", "ken myer", true}, {"*a*", "bab", true}, {"**", "x", true},
	} {
		if got := MatchWildcard(tc.p, tc.n); got != tc.want {
			t.Errorf("MatchWildcard(%q, %q) = %v", tc.p, tc.n, got)
		}
	}
	if WildcardPrefix("pil*ar") != "pil" || WildcardPrefix("* x") != "" {
		t.Error("WildcardPrefix")
	}
}

func TestDNForms(t *testing.T) {
	for _, dn := range []string{
		"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",
		" cn = Émile ZOLA , OU=Paris\\, Rive Gauche,DC=Example,DC=com ",
		"CN=solo",
	} {
		key, parent, err := DNForms(dn)
		rdns, perr := ParseDN(dn)
		if err != nil || perr != nil {
			t.Fatalf("%q: %v %v", dn, err, perr)
		}
		if key != strings.Join(rdns, ",") || parent != reversedPath(rdns[1:]) {
			t.Errorf("DNForms(%q) = %q, %q; ParseDN gives %q", dn, key, parent, rdns)
		}
	}
	if k, _, _ := DNForms("CN=Émile,DC=X"); k != "cn=émile,dc=x" {
		t.Errorf("non-ASCII folding: %q", k)
	}
}
