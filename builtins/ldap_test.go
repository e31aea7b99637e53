package builtins

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestGetUsersLDAPFilter runs ldap_filter on the sample directory: the
// Get-CsUser -LdapFilter examples as Microsoft writes them, the other
// keys it combines with, and every way a filter is refused.
func TestGetUsersLDAPFilter(t *testing.T) {
	ts := newTestShell(t)
	names := func(code string) string {
		return ts.must(code + ` | each(func(u) { fmt.print(u.display_name, "; ") })`)
	}
	ts.must(`fmt := import("fmt")`)
	for _, tc := range []struct{ code, want string }{
		// Get-CsUser Examples 6, 7 and 8, as the page writes them.
		{`get_users({ldap_filter: "Department=Finance"})`, "Ken Myer; Pilar Ackerman; Aidan Delaney; Tony Smith; "},
		{`get_users({ldap_filter: "&(Department=Finance)(Title=Manager)"})`, "Ken Myer; Tony Smith; "},
		{`get_users({ldap_filter: "|(Title=Supervisor)(Title=Manager)"})`, "Ken Myer; Pilar Ackerman; David Longmuir; Tony Smith; "},
		// The -LdapFilter parameter's own example, and RFC 4515 forms.
		{`get_users({ldap_filter: "l=Redmond"})`, "Ken Myer; Pilar Ackerman; Lisa Smith; Jeff Hay; "},
		{`get_users({ldap_filter: "(&(department=Finance)(title=Manager))"})`, "Ken Myer; Tony Smith; "},
		{`get_users({ldap_filter: "(&(objectCategory=person)(objectClass=user)(sn=Sm*))"})`, "Tony Smith; Lisa Smith; "},
		{`get_users({ldap_filter: "(!(memberOf=*))"})`, "Jeff Hay; "},
		{`get_users({ldap_filter: "(memberOf=cn=managers,ou=groups,dc=litwareinc,dc=com)"})`, "Ken Myer; David Longmuir; Tony Smith; "},
		{`get_users({ldap_filter: "(&(givenName>=K)(msRTCSIP-UserEnabled=TRUE))"})`, "Ken Myer; Pilar Ackerman; Tony Smith; Lisa Smith; "},
		// It combines with the other keys: all must hold.
		{`get_users({identity: "* Smith", ldap_filter: "(l=Dublin)"})`, "Tony Smith; "},
		{`get_users({identity: "Ken Myer", ldap_filter: "(l=Dublin)"})`, ""},
		{`get_users({ou: "OU=Redmond,DC=litwareinc,DC=com", ldap_filter: "(title=Manager)", result_size: 2})`, "Ken Myer; David Longmuir; "},
		{`get_users({ldap_filter: "(department=Finance)", filter: func(u) { return u.city == "Dublin" }})`, "Aidan Delaney; Tony Smith; "},
		{`get_users({ldap_filter: "(department=Finance)", filter: {city: "redmond"}})`, "Ken Myer; Pilar Ackerman; "},
		// The fields read, select and where as any other.
		{`get_users() | where({title: "manager", department: "FINANCE"})`, "Ken Myer; Tony Smith; "},
		{`get_users() | where(func(u) { return contains(u.member_of, "CN=Sales,OU=Groups,DC=litwareinc,DC=com") })`, "David Longmuir; Lisa Smith; "},
	} {
		if got := names(tc.code); got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.code, got, tc.want)
		}
	}
	// pin_info reads the filtered scan in one pass, as without a filter.
	if got := ts.must(`get_users({ldap_filter: "(&(department=Finance)(title=Manager))"}) | pin_info | where({is_locked_out: true}) | select("identity") | count`); got != "1\n" {
		t.Errorf("locked Finance managers: %q", got)
	}
	for _, tc := range []struct{ code, err string }{
		{`get_users({ldap_filter: "(titel=Manager)"})`, `get_users: ldap_filter "(titel=Manager)": at column 2: unknown attribute "titel"; did you mean title?`},
		{`get_users({ldap_filter: "(city=Dublin)"})`, `at column 2: unknown attribute "city"; Active Directory calls it l`},
		{`get_users({ldap_filter: "(site=Redmond)"})`, `"site" is a pinsh field, not a directory attribute`},
		{`get_users({ldap_filter: "(&(department=Finance)(title=Manager)"})`, "at column 1: this ( is never closed; add a )"},
		{`get_users({ldap_filter: ""})`, "the filter is empty"},
		{`get_users({ldap_filter: "(&)"})`, "would select every user"},
		{`get_users({ldap_filter: "(memberOf=Finance)"})`, "memberOf takes a distinguished name"},
		{`get_users({ldap_filter: 42})`, `ldap_filter must be a string such as "(&(department=Finance)(title=Manager))", not int`},
		{`cfg := {}; get_users({ldap_filter: cfg.fitler})`, "ldap_filter must be a string such as"},
		{`get_users({ldapfilter: "(l=Dublin)"})`, `unknown key "ldapfilter"; did you mean ldap_filter?`},
		// A refused filter stops the pipeline before a sink changes anything.
		{`get_users({ldap_filter: "(titel=Manager)"}) | lock_pin`, `unknown attribute "titel"`},
	} {
		_, _, err := ts.run(tc.code)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s\n got %v\nwant %q", tc.code, err, tc.err)
		}
	}
	if got := ts.value(`audit_log({action: "lock_pin"}) | count`); got != "0" {
		t.Errorf("a refused filter locked %s PINs", got)
	}
}

// TestDirectoryAttributesRoundTrip writes the users with export_csv and
// export_jsonl, removes them, and imports each file back: every attribute,
// member_of's DNs with their commas included, comes back as it was.
func TestDirectoryAttributesRoundTrip(t *testing.T) {
	for _, export := range []string{"export_csv", "export_jsonl"} {
		t.Run(export, func(t *testing.T) {
			ts := newTestShell(t)
			path := filepath.Join(t.TempDir(), "users")
			fields := `select("identity", "display_name", "title", "department", "city", "company", "mail", "given_name", "surname", "telephone_number", "member_of")`
			before := ts.must(`get_users() | ` + fields)
			ts.must(`get_users() | ` + export + `(` + strconv.Quote(path) + `)`)
			ts.must(`get_users() | remove_user`)
			if got := ts.value(`import_users(` + strconv.Quote(path) + `).imported`); got != "7" {
				b, _ := os.ReadFile(path)
				t.Fatalf("imported %s of\n%s", got, b)
			}
			if after := ts.must(`get_users() | ` + fields); after != before {
				t.Errorf("after the round trip:\n%s\nbefore:\n%s", after, before)
			}
		})
	}
}

// TestNewUserAttributes creates a user with directory attributes and reads
// them back, and refuses groups of the wrong kind.
func TestNewUserAttributes(t *testing.T) {
	ts := newTestShell(t)
	got := ts.must(`u := new_user({sip_address: "maria@litwareinc.com", title: "Manager", department: "Finance", city: "Dublin",
		company: "Litware, Inc.", mail: "maria@litwareinc.com", given_name: "Maria", surname: "Garcia",
		telephone_number: "+353 1 555 0199", member_of: ["CN=Finance,OU=Groups,DC=litwareinc,DC=com"]})
		[u.title, u.department, u.city, u.company, u.mail, u.given_name, u.surname, u.telephone_number, u.member_of]`)
	want := `["Manager", "Finance", "Dublin", "Litware, Inc.", "maria@litwareinc.com", "Maria", "Garcia", "+353 1 555 0199", immutable(["CN=Finance,OU=Groups,DC=litwareinc,DC=com"])]` + "\n"
	if got != want {
		t.Errorf("new user's attributes\n got %s\nwant %s", got, want)
	}
	if got := ts.value(`get_users({ldap_filter: "(&(l=Dublin)(title=Manager))"}) | count`); got != "3" {
		t.Errorf("Dublin managers after new_user: %s", got)
	}
	if got := ts.value(`len((get_users("Jeff Hay") | collect)[0].member_of)`); got != "0" {
		t.Errorf("a user without groups: member_of has %s", got)
	}
	for code, msg := range map[string]string{
		`new_user({sip_address: "x@litwareinc.com", member_of: "CN=G,DC=x"})`: `field member_of must be an array of group DNs such as ["CN=Finance,OU=Groups,DC=litwareinc,DC=com"], not string`,
		`new_user({sip_address: "x@litwareinc.com", member_of: [1]})`:         "field member_of must be an array of strings (group DNs); element 0 is int",
		`new_user({sip_address: "x@litwareinc.com", member_of: ["Finance"]})`: "member_of",
		`new_user({sip_address: "x@litwareinc.com", title: 7})`:               "field title must be a string, not int",
		`new_user({sip_address: "x@litwareinc.com", ttile: "x"})`:             `unknown user field "ttile"; did you mean title?`,
	} {
		_, stderr, err := ts.run(code)
		if (err == nil || !strings.Contains(err.Error(), msg)) && !strings.Contains(stderr, msg) {
			t.Errorf("%s\n got %v %q\nwant %q", code, err, stderr, msg)
		}
	}
}
