package ldapfilter

import (
	"errors"
	"testing"
)

// FuzzParse: any text parses or is refused with an *Error of bounded size
// pointing inside it, never a panic; a parsed filter matches every test
// user without a panic, and its canonical form (String) parses to the same
// canonical form and the same matches. Its seeds run in go test ./...; to
// fuzz longer: go test -run '^$' -fuzz FuzzParse -fuzztime 3m ./store/ldapfilter
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Department=Finance", "&(Department=Finance)(Title=Manager)", "|(Title=Supervisor)(Title=Manager)",
		"(&(objectCategory=person)(objectClass=user)(!(l=Dublin))(sn=Sm*)(givenName>=a))",
		`(title=*\28Acting\29\2a*)`, "(memberOf=CN=Finance,OU=Groups,DC=litwareinc,DC=com)", "(title=Man*ager)",
		"( | (l=Redmond) (l=Dublin) )", "(msRTCSIP-UserEnabled=TRUE)", "(cn=Odd, One)", "(title=)",
		"(&)", "(titel=x)", "(title~=x)", "(memberOf=CN=F*)", `(title=\zz)`, "((x=y))", "(!(a=b)(c=d))",
		"(title=a\x00)", "(title:dn:=x)", "!(", "(sn=\xff)", `title=a\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		flt, err := Parse(text)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(text) || len(err.Error()) > 1024 {
				t.Fatalf("Parse(%q): %v", text, err)
			}
			return
		}
		var matched []bool
		for i := range users {
			matched = append(matched, flt.Match(&users[i]))
		}
		canon := flt.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q: %v", canon, text, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is %q, then %q", text, canon, again.String())
		}
		for i := range users {
			if again.Match(&users[i]) != matched[i] {
				t.Fatalf("%q and its canonical form %q differ on %s", text, canon, users[i].DisplayName)
			}
		}
	})
}
