package importfmt

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
)

// field is a store.User field an import column can fill.
type field uint8

const (
	fNone field = iota
	fSip
	fDisplay
	fUPN
	fSam
	fDomain
	fDN
	fEnabled
	fPool
	fLine
	fVoice
	fSite
	fPolicy
	nFields
)

// kind says how a column's value becomes a field value.
type kind uint8

const (
	kString   kind = iota
	kBool          // true/false, yes/no, 1/0
	kIdentity      // a SIP address, or a distinguished name if it starts with CN=
	kPhone         // telephoneNumber: tel:+DIGITS if it is a plain number
)

// column is what one recognised name maps to. A higher prio wins when
// several names fill one field.
type column struct {
	name  string // as written in the file, for messages
	field field
	kind  kind
	prio  int8
}

const knownNames = "sip_address, display_name, user_principal_name, sam_account_name, domain, distinguished_name, " +
	"enabled, registrar_pool, line_uri, enterprise_voice_enabled, site, pin_policy, identity, " +
	"or the csvde/ldifde names msRTCSIP-PrimaryUserAddress, userPrincipalName, sAMAccountName, displayName, " +
	"distinguishedName, dn, telephoneNumber, msRTCSIP-Line, msRTCSIP-UserEnabled, msRTCSIP-PrimaryHomeServer"

// lookup returns the column that the name of a CSV header, JSON key or LDIF
// attribute maps to; ok is false for a name that is ignored.
func lookup(name string) (c column, ok bool) {
	c.name = cut.Text(name) // for messages: a name with 1 MB of "_" still matches
	switch normalize(name) {
	case "sipaddress":
		c.field, c.prio = fSip, 3
	case "msrtcsipprimaryuseraddress":
		c.field, c.prio = fSip, 2
	case "identity":
		c.field, c.kind, c.prio = fSip, kIdentity, 1
	case "displayname":
		c.field, c.prio = fDisplay, 3
	case "userprincipalname":
		c.field, c.prio = fUPN, 3
	case "samaccountname":
		c.field, c.prio = fSam, 3
	case "domain":
		c.field, c.prio = fDomain, 3
	case "distinguishedname", "dn":
		c.field, c.prio = fDN, 3
	case "enabled":
		c.field, c.kind, c.prio = fEnabled, kBool, 3
	case "msrtcsipuserenabled":
		c.field, c.kind, c.prio = fEnabled, kBool, 2
	case "registrarpool":
		c.field, c.prio = fPool, 3
	case "msrtcsipprimaryhomeserver":
		c.field, c.prio = fPool, 2
	case "lineuri":
		c.field, c.prio = fLine, 3
	case "msrtcsipline":
		c.field, c.prio = fLine, 2
	case "telephonenumber":
		c.field, c.kind, c.prio = fLine, kPhone, 1
	case "enterprisevoiceenabled":
		c.field, c.kind, c.prio = fVoice, kBool, 3
	case "site":
		c.field, c.prio = fSite, 3
	case "pinpolicy":
		c.field, c.prio = fPolicy, 3
	default:
		return c, false
	}
	return c, true
}

// normalize lower-cases name and drops '_', '-', '.', ' ' and an LDIF
// attribute option (";binary").
func normalize(name string) string {
	name, _, _ = strings.Cut(name, ";")
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ' || c == '\t':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// builder assembles one store.User from the values of a record.
type builder struct {
	u    store.User
	prio [nFields]int8
	name [nFields]string // the column that set each field, for messages
	// validUTF8 is set when the whole record is known to be valid UTF-8.
	validUTF8 bool
}

func (b *builder) reset() { *b = builder{} }

// set applies value, from a column c, to the user.
func (b *builder) set(c *column, value string) error {
	value = trimBlank(value)
	if value == "" {
		return nil
	}
	if !b.validUTF8 && !utf8.ValidString(value) {
		return fmt.Errorf("%s is not valid UTF-8 text; save the file as UTF-8", c.name)
	}
	f := c.field
	switch c.kind {
	case kBool:
		v, ok := parseBool(value)
		if !ok {
			return fmt.Errorf("%s: %s is not a boolean; use true/false, yes/no or 1/0", c.name, cut.Quote(value))
		}
		b.setBool(c, v)
		return nil
	case kIdentity:
		if len(value) >= 3 && strings.EqualFold(value[:3], "cn=") {
			f = fDN
		}
	case kPhone:
		if value = telURI(value); value == "" {
			return nil
		}
	}
	if c.prio > b.prio[f] {
		b.prio[f], b.name[f] = c.prio, c.name
		*b.str(f) = value
	}
	return nil
}

// setBool applies a boolean value from column c.
func (b *builder) setBool(c *column, v bool) {
	if c.prio <= b.prio[c.field] {
		return
	}
	b.prio[c.field], b.name[c.field] = c.prio, c.name
	if c.field == fEnabled {
		b.u.Enabled = v
	} else {
		b.u.EnterpriseVoiceEnabled = v
	}
}

func (b *builder) str(f field) *string {
	switch f {
	case fSip:
		return &b.u.SipAddress
	case fDisplay:
		return &b.u.DisplayName
	case fUPN:
		return &b.u.UserPrincipalName
	case fSam:
		return &b.u.SamAccountName
	case fDomain:
		return &b.u.Domain
	case fDN:
		return &b.u.DistinguishedName
	case fPool:
		return &b.u.RegistrarPool
	case fLine:
		return &b.u.LineURI
	case fSite:
		return &b.u.Site
	case fPolicy:
		return &b.u.PinPolicy
	}
	panic(fmt.Sprintf("importfmt: field %d is not a string", f))
}

// trimBlank trims spaces and tabs (strings.Trim is slower for this: it builds
// its character set on every call).
func trimBlank(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// finish applies defaults and the checks that need the whole record.
func (b *builder) finish() (store.User, error) {
	if b.prio[fEnabled] == 0 {
		b.u.Enabled = true
	}
	if s := b.u.SipAddress; s != "" && !isSIPAddress(s) {
		return store.User{}, fmt.Errorf("%s: %s is not a SIP address; write it as user@domain, with or without sip:", b.name[fSip], cut.Quote(s))
	}
	return b.u, nil
}

// isSIPAddress reports whether s, after an optional "sip:", is user@domain
// with both parts non-empty, a single '@' and no spaces or control
// characters.
func isSIPAddress(s string) bool {
	if len(s) >= 4 && strings.EqualFold(s[:4], "sip:") {
		s = s[4:]
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func parseBool(s string) (v, ok bool) {
	switch {
	case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
		return true, true
	case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
		return false, true
	}
	return false, false
}

// telURI returns "tel:+DIGITS" for a plain telephone number: an optional
// '+', at least one digit, and the visual separators space, '-', '.', '(' and
// ')'. A value that already is a tel: URI is returned as it is; anything
// else yields "".
func telURI(s string) string {
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		return s
	}
	digits := make([]byte, 0, len(s)+5)
	digits = append(digits, "tel:+"...)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0:
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return ""
		}
	}
	if len(digits) == len("tel:+") {
		return ""
	}
	return string(digits)
}
