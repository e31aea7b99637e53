package ldapfilter

import (
	"strings"

	"github.com/pinsh/pinsh/store"
)

// kind is how an attribute's values compare.
type kind uint8

const (
	kindString   kind = iota // case-ignoring string
	kindDN                   // distinguished names, compared whole
	kindCategory             // objectCategory: person, or its DN
	kindBool                 // TRUE or FALSE
)

// attribute is one attribute a filter may name: one value (get) or several
// (all) of a user.
type attribute struct {
	name    string // as Active Directory spells it
	kind    kind
	example string // a value, for messages about DN attributes
	get     func(u *store.User) string
	all     func(u *store.User) []string
}

// any reports whether f holds for a value of a in u; a user without a value
// gives f the empty string once.
func (a *attribute) any(u *store.User, f func(string) bool) bool {
	if a.all == nil {
		return f(a.get(u))
	}
	for _, v := range a.all(u) {
		if f(v) {
			return true
		}
	}
	return false
}

// whole says, in a message, why a substring or ordering cannot apply to a.
func (a *attribute) whole() string {
	if a.kind == kindBool {
		return "is TRUE or FALSE"
	}
	return "holds distinguished names, which Active Directory compares whole"
}

const groupExample = "CN=Finance,OU=Groups,DC=litwareinc,DC=com"

// objectClasses are the object classes of every user.
var objectClasses = []string{"top", "person", "organizationalPerson", "user"}

// attributes are the attributes a filter may name.
var attributes = []attribute{
	{name: "title", get: func(u *store.User) string { return u.Title }},
	{name: "department", get: func(u *store.User) string { return u.Department }},
	{name: "l", get: func(u *store.User) string { return u.City }},
	{name: "company", get: func(u *store.User) string { return u.Company }},
	{name: "mail", get: func(u *store.User) string { return u.Mail }},
	{name: "givenName", get: func(u *store.User) string { return u.GivenName }},
	{name: "sn", get: func(u *store.User) string { return u.Surname }},
	{name: "telephoneNumber", get: func(u *store.User) string { return u.TelephoneNumber }},
	{name: "memberOf", kind: kindDN, example: groupExample, all: func(u *store.User) []string { return u.MemberOf }},
	{name: "displayName", get: func(u *store.User) string { return u.DisplayName }},
	{name: "cn", get: rdnValue},
	{name: "name", get: rdnValue},
	{name: "sAMAccountName", get: func(u *store.User) string { return u.SamAccountName }},
	{name: "userPrincipalName", get: func(u *store.User) string { return u.UserPrincipalName }},
	{name: "distinguishedName", kind: kindDN, example: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",
		get: func(u *store.User) string { return u.DistinguishedName }},
	{name: "msRTCSIP-PrimaryUserAddress", get: func(u *store.User) string { return u.SipAddress }},
	{name: "msRTCSIP-Line", get: func(u *store.User) string { return u.LineURI }},
	{name: "msRTCSIP-PrimaryHomeServer", get: func(u *store.User) string { return u.RegistrarPool }},
	{name: "msRTCSIP-UserEnabled", kind: kindBool, get: func(u *store.User) string {
		if u.Enabled {
			return "TRUE"
		}
		return "FALSE"
	}},
	{name: "objectClass", all: func(*store.User) []string { return objectClasses }},
	{name: "objectCategory", kind: kindCategory, example: "person",
		get: func(*store.User) string { return "person" }},
}

// rdnValue is the value of the first RDN of the user's DN, unescaped: the
// cn and name of the account ("Ken Myer" for CN=Ken Myer,OU=...).
func rdnValue(u *store.User) string {
	dn := u.DistinguishedName
	eq := strings.IndexByte(dn, '=')
	if eq < 0 {
		return ""
	}
	var b []byte
	for i := eq + 1; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c == ',':
			return strings.TrimSpace(string(b))
		case c == '\\' && i+2 < len(dn) && unhex(dn[i+1]) >= 0 && unhex(dn[i+2]) >= 0:
			b = append(b, byte(unhex(dn[i+1])<<4|unhex(dn[i+2])))
			i += 2
		case c == '\\' && i+1 < len(dn):
			b = append(b, dn[i+1])
			i++
		default:
			b = append(b, c)
		}
	}
	return strings.TrimSpace(string(b))
}
