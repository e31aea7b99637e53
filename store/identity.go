package store

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// NormalizeSIP returns the canonical form of a SIP address: "sip:" followed
// by the lower-case address. The "sip:" prefix of s is optional (any case).
// It fails with ErrInvalid when s is not an address (local@domain, no
// spaces or control characters).
func NormalizeSIP(s string) (string, error) {
	a := strings.TrimSpace(s)
	if strings.HasPrefix(a, "sip:") && !hasUpperOrNonASCII(a) && validAddress(a[len("sip:"):]) {
		return a, nil // already canonical: no allocation (bulk imports)
	}
	if hasPrefixFold(a, "sip:") {
		a = a[len("sip:"):]
	}
	if !validAddress(a) {
		return "", fieldErr("sip_address", s, ErrInvalid, "not a SIP address; write it as name@domain or sip:name@domain")
	}
	return "sip:" + strings.ToLower(a), nil
}

func hasUpperOrNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c >= 'A' && c <= 'Z') {
			return true
		}
	}
	return false
}

// validAddress reports whether a is local@domain with both parts non-empty,
// one '@', and no white space or control characters.
func validAddress(a string) bool {
	at := strings.IndexByte(a, '@')
	if at <= 0 || at == len(a)-1 || strings.IndexByte(a[at+1:], '@') >= 0 {
		return false
	}
	for _, r := range a {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// MaxFieldLength bounds every string field of a user, in bytes (Active
// Directory's own limits are lower: 256 characters for a display name).
const MaxFieldLength = 2048

// NormalizeUser validates u and fills in what can be derived, the way
// CreateUser stores users:
//   - SipAddress is required and made canonical (NormalizeSIP);
//   - UserPrincipalName defaults to the SIP address without "sip:";
//   - SamAccountName defaults to the address's local part, Domain to the
//     first label of its domain (litwareinc.com -> litwareinc);
//   - PinPolicy may be given as "tag:NAME" and is stored as NAME;
//   - all fields are trimmed and at most MaxFieldLength bytes; control
//     characters (and invalid UTF-8) are rejected everywhere,
//     '*' in display names (it is the lookup wildcard), '\' and '@' in
//     logon names and domains; LineURI must start with "tel:";
//     DistinguishedName, when given, must parse as a DN;
//   - the directory attributes (Title ... TelephoneNumber) are kept as
//     given, trimmed; each MemberOf entry must parse as a DN, and no group
//     may be listed twice; an empty MemberOf is stored as nil.
//
// Errors are *FieldError values wrapping ErrInvalid.
func NormalizeUser(u User) (User, error) {
	err := u.Normalize()
	return u, err
}

// Normalize is NormalizeUser in place (bulk loads avoid copying users).
// On error u may be partly normalized.
func (u *User) Normalize() error {
	for _, f := range []struct {
		name string
		p    *string
	}{
		{"sip_address", &u.SipAddress}, {"display_name", &u.DisplayName},
		{"user_principal_name", &u.UserPrincipalName}, {"sam_account_name", &u.SamAccountName},
		{"domain", &u.Domain}, {"distinguished_name", &u.DistinguishedName},
		{"registrar_pool", &u.RegistrarPool}, {"line_uri", &u.LineURI},
		{"site", &u.Site}, {"pin_policy", &u.PinPolicy},
		{"title", &u.Title}, {"department", &u.Department}, {"city", &u.City}, {"company", &u.Company},
		{"mail", &u.Mail}, {"given_name", &u.GivenName}, {"surname", &u.Surname},
		{"telephone_number", &u.TelephoneNumber},
	} {
		v := strings.TrimSpace(*f.p)
		if badText(v) {
			return fieldErr(f.name, *f.p, ErrInvalid, "contains a control character or invalid UTF-8")
		}
		if len(v) > MaxFieldLength {
			return fieldErr(f.name, v[:32]+"...", ErrInvalid, "is longer than %d bytes", MaxFieldLength)
		}
		*f.p = v
	}
	if u.SipAddress == "" {
		return fieldErr("sip_address", "", ErrInvalid, "a SIP address is required")
	}
	sip, err := NormalizeSIP(u.SipAddress)
	if err != nil {
		return err
	}
	u.SipAddress = sip
	addr := sip[len("sip:"):]
	at := strings.IndexByte(addr, '@')
	if u.UserPrincipalName == "" {
		u.UserPrincipalName = addr
	} else if !validAddress(u.UserPrincipalName) {
		return fieldErr("user_principal_name", u.UserPrincipalName, ErrInvalid, "not a user principal name; write it as name@domain")
	}
	if u.SamAccountName == "" {
		u.SamAccountName = addr[:at]
	}
	if u.Domain == "" {
		d := addr[at+1:]
		if i := strings.IndexByte(d, '.'); i > 0 {
			d = d[:i]
		}
		u.Domain = d
	}
	for _, f := range []struct{ name, v string }{{"sam_account_name", u.SamAccountName}, {"domain", u.Domain}} {
		if strings.ContainsAny(f.v, `\@`) {
			return fieldErr(f.name, f.v, ErrInvalid, `may not contain '\' or '@'`)
		}
	}
	if strings.Contains(u.DisplayName, "*") {
		return fieldErr("display_name", u.DisplayName, ErrInvalid, "may not contain '*' (the wildcard of display-name lookups)")
	}
	if u.DistinguishedName != "" {
		if err := checkDN(u.DistinguishedName); err != nil {
			return fieldErr("distinguished_name", u.DistinguishedName, ErrInvalid, "%v", err)
		}
	}
	if u.LineURI != "" && (!hasPrefixFold(u.LineURI, "tel:") || len(u.LineURI) == len("tel:")) {
		return fieldErr("line_uri", u.LineURI, ErrInvalid, "a line URI starts with tel:, e.g. tel:+14255550100;ext=100")
	}
	if hasPrefixFold(u.PinPolicy, "tag:") {
		u.PinPolicy = u.PinPolicy[len("tag:"):]
	}
	return u.normalizeMemberOf()
}

// normalizeMemberOf trims the group DNs of u.MemberOf and checks them: each
// must parse as a DN, and no group may be listed twice (compared as DNKey
// does), which would say the same thing twice or hide a typing slip.
func (u *User) normalizeMemberOf() error {
	if len(u.MemberOf) == 0 {
		u.MemberOf = nil // no groups is one value, whether read or built
		return nil
	}
	keys := make(map[string]bool, len(u.MemberOf))
	for i, g := range u.MemberOf {
		v := strings.TrimSpace(g)
		switch {
		case badText(v):
			return fieldErr("member_of", g, ErrInvalid, "contains a control character or invalid UTF-8")
		case len(v) > MaxFieldLength:
			return fieldErr("member_of", v[:32]+"...", ErrInvalid, "is longer than %d bytes", MaxFieldLength)
		}
		k, err := DNKey(v)
		if err != nil {
			return fieldErr("member_of", g, ErrInvalid, "a group is named by its distinguished name, e.g. CN=Finance,OU=Groups,DC=litwareinc,DC=com")
		}
		if keys[k] {
			return fieldErr("member_of", v, ErrInvalid, "lists the same group twice; keep one")
		}
		keys[k] = true
		u.MemberOf[i] = v
	}
	return nil
}

// badText reports whether s holds a control character or invalid UTF-8.
// A byte loop: bulk imports check ten fields of a million users.
func badText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f {
			return true
		}
		if c >= 0x80 {
			if !utf8.ValidString(s[i:]) {
				return true
			}
			for _, r := range s[i:] {
				if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// IdentityKind is the form of a user identity (facts §1).
type IdentityKind uint8

const (
	SIPIdentity      IdentityKind = iota // sip:name@domain
	AddressIdentity                      // name@domain: a UPN or a SIP address without "sip:"
	LogonIdentity                        // domain\logon
	DNIdentity                           // CN=...,OU=...,DC=...
	DisplayIdentity                      // Ken Myer
	WildcardIdentity                     // * Smith, Pil*
)

// Identity is a parsed user identity. Key is the normalized lookup key of
// the form (see AddressKey, LogonKey, DNKey, NameKey); for a wildcard it is
// the folded pattern.
type Identity struct {
	Kind IdentityKind
	Key  string
}

// ParseIdentity classifies s: "sip:" prefix -> SIP; a leading "TYPE=" that
// parses as a DN -> DN; a '\' -> domain\logon; an '@' without spaces ->
// address; a '*' -> display-name wildcard; anything else -> display name.
// It fails with ErrInvalid for an empty identity, a bad SIP address or a
// logon name without its domain.
func ParseIdentity(s string) (Identity, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return Identity{}, fieldErr("identity", s, ErrInvalid, "an identity is required")
	case hasPrefixFold(t, "sip:"):
		sip, err := NormalizeSIP(t)
		if err != nil {
			return Identity{}, err
		}
		return Identity{SIPIdentity, sip[len("sip:"):]}, nil
	case looksLikeDN(t):
		if k, err := DNKey(t); err == nil {
			return Identity{DNIdentity, k}, nil
		}
	}
	if i := strings.IndexByte(t, '\\'); i >= 0 {
		dom, sam := strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
		if dom == "" || sam == "" {
			return Identity{}, fieldErr("identity", s, ErrInvalid, `write a logon name as domain\logon`)
		}
		return Identity{LogonIdentity, LogonKey(dom, sam)}, nil
	}
	if strings.IndexByte(t, '@') >= 0 && !strings.ContainsAny(t, " \t*") {
		return Identity{AddressIdentity, AddressKey(t)}, nil
	}
	if strings.IndexByte(t, '*') >= 0 {
		return Identity{WildcardIdentity, NameKey(t)}, nil
	}
	return Identity{DisplayIdentity, NameKey(t)}, nil
}

// AddressKey is the lookup key of a SIP address (without "sip:") or UPN.
func AddressKey(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// LogonKey is the lookup key of domain\logon.
func LogonKey(domain, sam string) string {
	b := make([]byte, 0, len(domain)+1+len(sam))
	b = AppendFold(b, domain)
	b = append(b, '\\')
	return string(AppendFold(b, sam))
}

// AppendFold appends s lower-cased to b: byte by byte for ASCII, through
// strings.ToLower otherwise. Index keys are built with it so that a key
// costs one allocation however many parts it has.
func AppendFold(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return append(b[:len(b)-i], strings.ToLower(s)...)
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// NameKey is the lookup key of a display name (and the folded form a
// wildcard pattern is matched against).
func NameKey(display string) string { return strings.ToLower(strings.TrimSpace(display)) }

func looksLikeDN(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	typ := strings.TrimSpace(s[:eq])
	if typ == "" {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ParseDN splits a distinguished name into its RDNs ("type=value", split on
// commas not escaped with '\'), each trimmed, with the type and value
// trimmed around '=' and lower-cased. It fails when an RDN has no '=' or an
// empty type, or when dn is empty.
func ParseDN(dn string) ([]string, error) {
	var rdns []string
	err := rdnSpans(dn, func(a, eq, b int) { rdns = append(rdns, string(appendRDN(nil, dn, a, eq, b))) })
	if err != nil {
		return nil, err
	}
	return rdns, nil
}

// DNKey is the lookup key of a distinguished name: its normalized RDNs
// joined with ','.
func DNKey(dn string) (string, error) {
	k, _, err := DNForms(dn)
	return k, err
}

var errNotDN = errors.New("not a distinguished name: each part must be TYPE=value, e.g. CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com")

// rdnSpans calls fn with the bounds of each RDN of dn (split on commas not
// escaped with '\'), trimmed, and the offset of its '='. It fails when an
// RDN has no '=' or an empty type.
func rdnSpans(dn string, fn func(start, eq, end int)) error {
	start := 0
	for i := 0; i <= len(dn); i++ {
		if i < len(dn) {
			if dn[i] == '\\' && i+1 < len(dn) {
				i++
				continue
			}
			if dn[i] != ',' {
				continue
			}
		}
		a, b := start, i
		for a < b && isSpace(dn[a]) {
			a++
		}
		for b > a && isSpace(dn[b-1]) {
			b--
		}
		eq := strings.IndexByte(dn[a:b], '=')
		if eq <= 0 {
			return errNotDN
		}
		t := a + eq
		for t > a && isSpace(dn[t-1]) {
			t--
		}
		if t == a {
			return errNotDN
		}
		if fn != nil {
			fn(a, a+eq, b)
		}
		start = i + 1
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func checkDN(dn string) error { return rdnSpans(dn, nil) }

// appendRDN appends the normalized form of the RDN dn[start:end] whose '='
// is at eq: type and value trimmed, lower-cased, joined by '='.
func appendRDN(b []byte, dn string, start, eq, end int) []byte {
	b = AppendFold(b, strings.TrimRight(dn[start:eq], " \t"))
	b = append(b, '=')
	return AppendFold(b, strings.TrimLeft(dn[eq+1:end], " \t"))
}

// DNForms returns the DNKey of dn and the
// ParentOUPath of the object it names.
func DNForms(dn string) (key, parent string, err error) {
	buf, keyLen, err := AppendDNForms(make([]byte, 0, 2*len(dn)+8), dn)
	if err != nil {
		return "", "", err
	}
	s := string(buf)
	return s[:keyLen], s[keyLen:], nil
}

// AppendDNForms appends to buf the DNKey of dn followed by the ParentOUPath
// of the object it names: the key is out[len(buf):keyEnd], the path
// out[keyEnd:].
func AppendDNForms(buf []byte, dn string) (out []byte, keyEnd int, err error) {
	var spans [16][3]int
	sp := spans[:0]
	if err := rdnSpans(dn, func(a, eq, b int) { sp = append(sp, [3]int{a, eq, b}) }); err != nil {
		return buf, 0, err
	}
	for i, r := range sp {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendRDN(buf, dn, r[0], r[1], r[2])
	}
	keyEnd = len(buf)
	for i := len(sp) - 1; i >= 1; i-- {
		buf = appendRDN(buf, dn, sp[i][0], sp[i][1], sp[i][2])
		if i > 1 {
			buf = append(buf, 0)
		}
	}
	return buf, keyEnd, nil
}

// OUPathKey is the key of a DN as a container path: its normalized RDNs in
// reverse order (root first) joined with 0x00, so that every container
// under it has it as a prefix followed by 0x00. The OU of a user is the
// OUPathKey of its DN without the first RDN (ParentOUPath).
func OUPathKey(dn string) (string, error) {
	rdns, err := ParseDN(dn)
	if err != nil {
		return "", err
	}
	return reversedPath(rdns), nil
}

// ParentOUPath returns the OUPathKey of the container holding the object dn,
// or "" when dn has a single RDN.
func ParentOUPath(dn string) (string, error) {
	_, p, err := DNForms(dn)
	return p, err
}

func reversedPath(rdns []string) string {
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		b.WriteString(rdns[i])
		if i > 0 {
			b.WriteByte(0)
		}
	}
	return b.String()
}

// UnderOU reports whether the container path key path (OUPathKey) lies
// under ou (also an OUPathKey), or is ou itself.
func UnderOU(path, ou string) bool {
	return strings.HasPrefix(path, ou) && (len(path) == len(ou) || path[len(ou)] == 0)
}

// MatchWildcard reports whether name matches pattern, where '*' in the
// pattern matches any run of characters (also none). Both are compared as
// given; fold them with NameKey first for case-insensitive matching.
func MatchWildcard(pattern, name string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice, never exponential.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// WildcardPrefix returns the literal part of pattern before its first '*'.
func WildcardPrefix(pattern string) string {
	if i := strings.IndexByte(pattern, '*'); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
