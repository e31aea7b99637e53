package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// Fuzz targets of identity parsing and wildcards. Their seeds run in go
// test ./...; to fuzz longer: go test -fuzz FuzzParseIdentity -fuzztime 3m ./store

var identitySeeds = []string{
	"sip:kenmyer@litwareinc.com", "SIP:KenMyer@LitwareInc.com", "kenmyer@litwareinc.com",
	`litwareinc\kenmyer`, `\kenmyer`, `litwareinc\`, "Ken Myer", "* Smith", "Pil*", "*",
	"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", "cn=x, ou = y ,dc=z", "CN=a\\,b,DC=x",
	"OU=", "CN", "sip:", "sip:@", "sip:a@", "sip:a@b@c", "  ", "", "\x00", "é@x.com", "tab\there",
}

// FuzzParseIdentity: any string is an identity of one kind or an ErrInvalid
// error with a bounded message; the keys are stable under their own
// normalisation, so that a lookup by a stored key finds it again.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range identitySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseIdentity(%q): %v does not wrap ErrInvalid", s, err)
			}
			// The input is quoted cut to 64 bytes, each invalid byte as
			// \xNN: at most 256 bytes and the reason.
			if len(err.Error()) > 512 {
				t.Fatalf("ParseIdentity: a %d-byte message for a %d-byte input", len(err.Error()), len(s))
			}
			return
		}
		switch id.Kind {
		case SIPIdentity:
			sip, err := NormalizeSIP("sip:" + id.Key)
			if err != nil || sip != "sip:"+id.Key {
				t.Fatalf("ParseIdentity(%q) = SIP %q, which normalises to %q, %v", s, id.Key, sip, err)
			}
		case AddressIdentity:
			if AddressKey(id.Key) != id.Key {
				t.Fatalf("ParseIdentity(%q) = address %q, not a key", s, id.Key)
			}
		case DisplayIdentity, WildcardIdentity:
			if NameKey(id.Key) != id.Key {
				t.Fatalf("ParseIdentity(%q) = name %q, not a key", s, id.Key)
			}
		case DNIdentity, LogonIdentity:
		default:
			t.Fatalf("ParseIdentity(%q): kind %d", s, id.Kind)
		}
	})
}

// FuzzNormalizeUser: normalising is idempotent, and a refusal is a
// FieldError of bounded size.
func FuzzNormalizeUser(f *testing.F) {
	f.Add("sip:kenmyer@litwareinc.com", "kenmyer@litwareinc.com", "kenmyer", "litwareinc", "Ken Myer",
		"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", "tel:+14255550100;ext=100")
	f.Add("KenMyer@LitwareInc.com", "", "", "", " Ken  ", "", "")
	f.Add("sip:a@b", "x", `a\b`, "d@", "*", "CN=", "555")
	f.Add("sip:a@b", "", "", "", " Manager ", "CN=Finance, DC=x; cn=finance,dc=X", "")
	f.Add("sip:a@b", "", "", "", "Finance", " CN=A,DC=x ;CN=B\\,C,DC=x", "")
	// display also fills the title, and dn, split at ';', the groups.
	f.Fuzz(func(t *testing.T, sip, upn, sam, domain, display, dn, line string) {
		u := User{SipAddress: sip, UserPrincipalName: upn, SamAccountName: sam, Domain: domain,
			DisplayName: display, DistinguishedName: dn, LineURI: line, Title: display, MemberOf: strings.Split(dn, ";")}
		n, err := NormalizeUser(u)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || len(err.Error()) > 512 {
				t.Fatalf("NormalizeUser: %v (%d bytes)", err, len(err.Error()))
			}
			return
		}
		again, err := NormalizeUser(n)
		if err != nil || !again.Equal(n) {
			t.Fatalf("NormalizeUser is not idempotent:\n%+v\n%+v, %v", n, again, err)
		}
	})
}

// FuzzMatchWildcard checks MatchWildcard against a regular expression and
// WildcardPrefix against it.
func FuzzMatchWildcard(f *testing.F) {
	for _, p := range [][2]string{{"* smith", "ken smith"}, {"pil*", "pilar ackerman"}, {"*a*b*", "xaxxbx"},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, {"", ""}, {"*", ""}, {"**", "x"}, {"é*", "éa"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 256 || !isValidUTF8(pattern) || !isValidUTF8(name) {
			return // the regexp below is the slow part, and matches runes
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		want := re.MatchString(name)
		if got := MatchWildcard(pattern, name); got != want {
			t.Fatalf("MatchWildcard(%q, %q) = %v, want %v", pattern, name, got, want)
		}
		if want && !strings.HasPrefix(name, WildcardPrefix(pattern)) {
			t.Fatalf("%q matches %q but does not start with WildcardPrefix %q", name, pattern, WildcardPrefix(pattern))
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
