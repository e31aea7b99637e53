package ldapfilter

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

// users are shaped like the sample directory (store/sample), plus one with
// no directory attributes and no DN, and one with awkward values.
var users = []store.User{
	user("ken", "Ken Myer", "Manager", "Finance", "Redmond", "Finance", "Managers"),
	user("pilar", "Pilar Ackerman", "Supervisor", "Finance", "Redmond", "Finance"),
	user("david", "David Longmuir", "Manager", "Sales", "Dublin", "Sales", "Managers"),
	user("aidan", "Aidan Delaney", "Accountant", "Finance", "Dublin", "Finance"),
	user("tony", "Tony Smith", "Manager", "Finance", "Dublin", "Finance", "Managers"),
	user("lisa", "Lisa Smith", "Sales Representative", "Sales", "Redmond", "Sales"),
	{SipAddress: "sip:bare@litwareinc.com", DisplayName: "Bare", Enabled: false},
	{SipAddress: "sip:odd@litwareinc.com", DisplayName: "Odd", Enabled: true, Title: "  Chief   (Acting)*  ",
		Department: "R&D", DistinguishedName: `CN=Odd\, One,OU=Redmond,DC=litwareinc,DC=com`, Surname: "Smith-Jones"},
}

func user(sam, display, title, dept, city string, groups ...string) store.User {
	first, last, _ := strings.Cut(display, " ")
	u := store.User{SipAddress: "sip:" + sam + "@litwareinc.com", DisplayName: display, SamAccountName: sam,
		UserPrincipalName: sam + "@litwareinc.com", DistinguishedName: "CN=" + display + ",OU=Redmond,DC=litwareinc,DC=com",
		Enabled: true, LineURI: "tel:+14255550101", RegistrarPool: "pool01.litwareinc.com",
		Title: title, Department: dept, City: city, Company: "Litware, Inc.", Mail: sam + "@litwareinc.com",
		GivenName: first, Surname: last, TelephoneNumber: "+1 (425) 555-0101"}
	for _, g := range groups {
		u.MemberOf = append(u.MemberOf, "CN="+g+",OU=Groups,DC=litwareinc,DC=com")
	}
	return u
}

func matching(t *testing.T, f *Filter) []string {
	t.Helper()
	var out []string
	for i := range users {
		if f.Match(&users[i]) {
			out = append(out, users[i].SamAccountName+users[i].DisplayName[:0])
			if users[i].SamAccountName == "" {
				out[len(out)-1] = users[i].DisplayName
			}
		}
	}
	return out
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
		canon  string // String(), when it differs from filter
	}{
		// The Get-CsUser examples, as the Microsoft page writes them.
		{"Department=Finance", []string{"ken", "pilar", "aidan", "tony"}, "(department=Finance)"},
		{"&(Department=Finance)(Title=Manager)", []string{"ken", "tony"}, "(&(department=Finance)(title=Manager))"},
		{"|(Title=Supervisor)(Title=Manager)", []string{"ken", "pilar", "david", "tony"}, "(|(title=Supervisor)(title=Manager))"},
		{"l=Redmond", []string{"ken", "pilar", "lisa"}, "(l=Redmond)"},
		// RFC 4515 form; case-insensitive names and values, as AD.
		{"(&(department=Finance)(title=Manager))", []string{"ken", "tony"}, ""},
		{"(&(DEPARTMENT=finance)(TiTlE=MANAGER))", []string{"ken", "tony"}, "(&(department=finance)(title=MANAGER))"},
		{"(!(department=Finance))", []string{"david", "lisa", "Bare", "Odd"}, ""},
		{"(!(!(l=Dublin)))", []string{"david", "aidan", "tony"}, ""},
		{"(|(l=Dublin)(&(l=Redmond)(title=Supervisor)))", []string{"pilar", "david", "aidan", "tony"}, ""},
		// Presence: a user without the attribute does not have it.
		{"(title=*)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa", "Odd"}, ""},
		{"(!(title=*))", []string{"Bare"}, ""},
		{"(memberOf=*)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		// Substrings.
		{"(sn=Sm*)", []string{"tony", "lisa", "Odd"}, ""},
		{"(sn=sm*)", []string{"tony", "lisa", "Odd"}, ""},
		{"(displayName=*Smith)", []string{"tony", "lisa"}, ""},
		{"(title=*an*er)", []string{"ken", "david", "tony"}, ""},
		{"(title=M*n*g*r)", []string{"ken", "david", "tony"}, ""},
		{"(title=Sales*Rep*)", []string{"lisa"}, ""},
		{"(title=Sales *)", []string{"lisa"}, ""},
		{"(title=Sales**Representative)", []string{"lisa"}, "(title=Sales**Representative)"},
		{"(sn=*-*)", []string{"Odd"}, ""},
		{"(title=Man*ager)", []string{"ken", "david", "tony"}, ""},
		{"(title=Mana*nager)", nil, ""},
		// Ordering: case-insensitive.
		{"(sn>=s)", []string{"tony", "lisa", "Odd"}, ""},
		{"(sn<=delaney)", []string{"pilar", "aidan"}, ""},
		{"(&(givenName>=a)(givenName<=e))", []string{"david", "aidan"}, ""},
		// Escapes; AD ignores extra blanks.
		{`(title=chief (acting)\2a)`[:0] + `(title=Chief \28Acting\29\2a)`, []string{"Odd"}, `(title=Chief \28Acting\29\2a)`},
		{`(title=chief \28acting\29\2A)`, []string{"Odd"}, `(title=chief \28acting\29\2a)`},
		{`(department=R\26D)`, []string{"Odd"}, `(department=R&D)`},
		{`(title=*\29\2a)`, []string{"Odd"}, ""},
		{"(title=  chief (acting)* )"[:0] + "(title=  Chief   \\28Acting\\29\\2a )", []string{"Odd"}, ""},
		{"(cn=Odd, One)", []string{"Odd"}, ""},
		{"(name=ken myer)", []string{"ken"}, ""},
		// Blanks between the parts.
		{"  ( & (department=Finance)\n\t(title=Manager) )  ", []string{"ken", "tony"}, "(&(department=Finance)(title=Manager))"},
		{"& (l=Dublin) (sn=Smith)", []string{"tony"}, "(&(l=Dublin)(sn=Smith))"},
		// DN attributes compare whole, spacing and case aside.
		{"(memberOf=CN=Managers,OU=Groups,DC=litwareinc,DC=com)", []string{"ken", "david", "tony"}, ""},
		{"(memberOf=cn=managers, ou=groups, dc=litwareinc, dc=com)", []string{"ken", "david", "tony"}, ""},
		{"(&(memberOf=CN=Finance,OU=Groups,DC=litwareinc,DC=com)(!(memberOf=CN=Managers,OU=Groups,DC=litwareinc,DC=com)))", []string{"pilar", "aidan"}, ""},
		{"(distinguishedName=CN=Lisa Smith,OU=Redmond,DC=litwareinc,DC=com)", []string{"lisa"}, ""},
		{"(memberOf=CN=Nobody,DC=x)", nil, ""},
		// Account and Lync attributes.
		{"(msRTCSIP-UserEnabled=FALSE)", []string{"Bare"}, ""},
		{"(msrtcsip-userenabled=true)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa", "Odd"}, "(msRTCSIP-UserEnabled=true)"},
		{"(msRTCSIP-PrimaryUserAddress=SIP:Ken@LitwareInc.com)", []string{"ken"}, ""},
		{"(sAMAccountName=ken)", []string{"ken"}, ""},
		{"(userPrincipalName=*@litwareinc.com)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		{"(telephoneNumber=+1 (425) 555-0101)"[:0] + `(telephoneNumber=+1 \28425\29 555-0101)`, []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		{"(mail=KEN@litwareinc.com)", []string{"ken"}, ""},
		{"(company=Litware, Inc.)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		{"(msRTCSIP-Line=tel:*)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		{"(msRTCSIP-PrimaryHomeServer=pool01.litwareinc.com)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa"}, ""},
		// The usual AD boilerplate selects every user.
		{"(&(objectCategory=person)(objectClass=user)(title=Manager))", []string{"ken", "david", "tony"}, ""},
		{"(&(objectCategory=CN=Person,CN=Schema,CN=Configuration,DC=litwareinc,DC=com)(sn=Smith))", []string{"tony", "lisa"}, ""},
		{"(objectClass=organizationalperson)", []string{"ken", "pilar", "david", "aidan", "tony", "lisa", "Bare", "Odd"}, "(objectClass=organizationalperson)"},
		{"(objectClass=comp*)", nil, ""},
		{"(objectCategory=computer)", nil, ""},
		// An empty value matches no value.
		{"(title=)", nil, ""},
	} {
		f, err := Parse(tc.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		if got := matching(t, f); !slices.Equal(got, tc.want) {
			t.Errorf("%s matches %q; want %q", tc.filter, got, tc.want)
		}
		canon := tc.canon
		if canon == "" {
			canon = tc.filter
		}
		if got := f.String(); got != canon {
			t.Errorf("String(%q) = %q; want %q", tc.filter, got, canon)
		}
		// The canonical form means the same.
		g, err := Parse(f.String())
		if err != nil || !slices.Equal(matching(t, g), tc.want) || g.String() != f.String() {
			t.Errorf("the canonical form %q of %q parses to %v, %v", f.String(), tc.filter, g, err)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		filter string
		col    int
		msg    string
	}{
		{"", 1, "the filter is empty; write one such as (department=Finance)"},
		{" \t\n", 1, "the filter is empty"},
		{strings.Repeat("(", 3) + strings.Repeat("x", MaxLength), 1, "the filter is 65539 bytes long; the most is 65536"},
		{"(title=\xff)", 1, "the filter is not valid UTF-8 text"},
		{"(title=Manager", 15, "the filter ends inside a value; close the item with )"},
		{"(&(title=Manager)", 1, "this ( is never closed; add a )"},
		{"(title=Manager))", 16, `")" after the end of the filter; join filters with (&...) or (|...)`},
		{"(title=Manager)(l=Redmond)", 16, `"(l=Redmond)" after the end of the filter`},
		{"Department=Finance)", 19, `")" after the end of the filter`},
		{"()", 2, "empty parentheses; write a condition such as (department=Finance)"},
		{"(", 2, "the filter ends where an attribute, &, | or ! was expected"},
		{"((title=Manager))", 2, "a filter in parentheses must follow &, | or !"},
		{"(&)", 2, "an and (&) with nothing to and would select every user; put each condition in parentheses after it: &(title=Manager)(l=Redmond)"},
		{"(|)", 2, "an or (|) with nothing to or would select no user"},
		{"|", 1, "an or (|) with nothing to or would select no user"},
		{"(&title=Manager)", 3, `expected (, found "t"`},
		{"(!title=Manager)", 3, "! takes one filter in parentheses: !(title=Manager)"},
		{"(!(title=Manager)(l=Dublin))", 18, "! takes one filter; to negate several, write !(&(...)(...)) or !(|(...)(...))"},
		{"(&(title=Manager)x)", 18, `expected ), found "x"`},
		{"(=Manager)", 2, `expected an attribute name, found "="`},
		{"(tïtle=Manager)", 3, `expected =, >= or <= after the attribute "t", found "ï"`},
		{"(title)", 7, `expected =, >= or <= after the attribute "title", found ")"`},
		{"(title", 7, `the filter ends after "title"; write a comparison such as (title=value)`},
		{"title", 6, `the filter ends after "title"`},
		{"(title =Manager)", 7, `a blank after the attribute name "title"; write (title=value), without blanks around the =`},
		{"(title;lang-en=Manager)", 7, "attribute options (title;...) are not supported; write the attribute alone"},
		{"(title:caseExactMatch:=Manager)", 2, "extensible matching (title:...:=value) is not supported; compare with =, >= or <="},
		{"(:dn:2.4.6.8.10:=Dino)", 2, `expected an attribute name, found ":"`},
		{"(title~=Manger)", 7, "approximate matching (~=) is not supported; use = (it ignores case) or a substring such as (sn=Sm*)"},
		{"(title>Manager)", 7, "> alone is not an LDAP comparison; write >= (LDAP has no strict >)"},
		{"(title<Manager)", 7, "< alone is not an LDAP comparison; write <="},
		{"(titel=Manager)", 2, `unknown attribute "titel"; did you mean title?`},
		{"(Departmnet=Finance)", 2, `unknown attribute "Departmnet"; did you mean department?`},
		{"(city=Redmond)", 2, `unknown attribute "city"; Active Directory calls it l`},
		{"(surname=Smith)", 2, `unknown attribute "surname"; Active Directory calls it sn`},
		{"(given_name=Ken)", 2, `unknown attribute "given_name"; did you mean givenName?`},
		{"(sip_address=sip:ken@litwareinc.com)", 2, `unknown attribute "sip_address"; Active Directory calls it msRTCSIP-PrimaryUserAddress`},
		{"(site=Redmond)", 2, `"site" is a pinsh field, not a directory attribute: ldap_filter selects on Active Directory attributes; select on site with get_users' filter option`},
		{"(pin_policy=*)", 2, `"pin_policy" is a pinsh field`},
		{"(2.5.4.12=Manager)", 2, `unknown attribute "2.5.4.12"; the attributes are title, department, l,`},
		{"(extensionAttribute1=x)", 2, `unknown attribute "extensionAttribute1"; the attributes are`},
		{"(title=Chief (Acting))", 14, "( inside a value; write it as \\28 (and ) as \\29), or close the item before it"},
		{"(title>=M*)", 10, "* in a >= or <= value; write a literal * as \\2a"},
		{`(title=a\)`, 9, `\ starts an escape of two hex digits: \2a for *, \28 for (, \29 for ), \5c for \`},
		{`(title=a\2)`, 9, `\ starts an escape of two hex digits`},
		{`(title=a\zz)`, 9, `\ starts an escape of two hex digits`},
		{`title=a\`, 8, `\ starts an escape of two hex digits`},
		{`(title=\ff)`, 11, `the value's \XX escapes make text that is not valid UTF-8`},
		{"(title=a\x00b)", 9, `a NUL character in a value; write it as \00`},
		{"(memberOf=Finance)", 11, `memberOf takes a distinguished name such as CN=Finance,OU=Groups,DC=litwareinc,DC=com, not "Finance"`},
		{"(memberOf=CN=Fin*)", 11, "memberOf holds distinguished names, which Active Directory compares whole; * matches only the whole value here (memberOf=*: has one)"},
		{"(memberOf>=CN=A,DC=x)", 10, "memberOf holds distinguished names, which Active Directory compares whole; compare it with = only"},
		{"(distinguishedName=*OU=Redmond*)", 20, "distinguishedName holds distinguished names"},
		{"(objectCategory=pers*)", 17, "objectCategory holds distinguished names"},
		{"(objectCategory=Computers,DC)", 17, `objectCategory takes a distinguished name such as person, not "Computers,DC"`},
		{"(msRTCSIP-UserEnabled=yes)", 23, `msRTCSIP-UserEnabled is TRUE or FALSE, not "yes"`},
		{"(msRTCSIP-UserEnabled=T*)", 23, "msRTCSIP-UserEnabled is TRUE or FALSE; * matches only the whole value here"},
		{"(msRTCSIP-UserEnabled<=TRUE)", 22, "msRTCSIP-UserEnabled is TRUE or FALSE; compare it with = only"},
		{strings.Repeat("(!", MaxDepth+1) + "(title=x)" + strings.Repeat(")", MaxDepth+1), 2*MaxDepth + 3, "the filter nests more than 64 deep"},
		{"(&(title=Manager)(l=Redmond", 28, "the filter ends inside a value"},
		{"(&(title=Manager)(l=Redmond)", 1, "this ( is never closed"},
		{"(sn=Smïth)(", 11, `"(" after the end of the filter`},
	} {
		_, err := Parse(tc.filter)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Parse(%.80q) = %v; want an *Error", tc.filter, err)
			continue
		}
		if fe.col != tc.col || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("Parse(%.80q) error %q at column %d; want %q at column %d", tc.filter, fe.Msg, fe.col, tc.msg, tc.col)
		}
		if !strings.HasPrefix(err.Error(), "at column ") || len(err.Error()) > 1024 {
			t.Errorf("Parse(%.80q) error text %.200q", tc.filter, err.Error())
		}
	}
}

func TestNames(t *testing.T) {
	names := Names()
	for _, want := range []string{"title", "department", "l", "company", "mail", "givenName", "sn", "telephoneNumber", "memberOf"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() lacks %s", want)
		}
		if _, err := Parse("(" + strings.ToUpper(want) + "=*)"); err != nil {
			t.Errorf("%s in upper case: %v", want, err)
		}
	}
}

func TestRDNValue(t *testing.T) {
	for dn, want := range map[string]string{
		"CN=Ken Myer,OU=Redmond,DC=x": "Ken Myer",
		`CN=Smith\, John,OU=x`:        "Smith, John",
		`CN=a\2cb\5c,OU=x`:            `a,b\`,
		" cn = Ken ":                  "Ken",
		"":                            "",
		"nothing":                     "",
		`CN=trailing\`:                `trailing\`,
	} {
		if got := rdnValue(&store.User{DistinguishedName: dn}); got != want {
			t.Errorf("rdnValue(%q) = %q; want %q", dn, got, want)
		}
	}
}
