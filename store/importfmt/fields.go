package importfmt

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/internal/suggest"
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
	fTitle
	fDepartment
	fCity
	fCompany
	fMail
	fGivenName
	fSurname
	fPhone
	fMemberOf
	nFields
)

// kind says how a column's value becomes a field value.
type kind uint8

const (
	kString   kind = iota
	kBool          // true/false, yes/no, 1/0
	kIdentity      // a SIP address, or a distinguished name if it starts with CN=
	kGroups        // memberOf: group DNs, one per LDIF line or JSON array element, or joined with ';'
)

// column is what one recognised name maps to. A higher prio wins when
// several names fill one field, the documented order of precedence
// (sip_address over msRTCSIP-PrimaryUserAddress over identity). Two names
// with the same field and prio are spellings of one name (sip_address,
// SipAddress): import cannot tell which value is meant, so it refuses them
// (see duplicate).
type column struct {
	name  string // as written in the file, for messages
	field field
	kind  kind
	prio  int8
}

// knownNames lists the recognised names in the message about an unknown
// one: pinsh's own in full, the directory's by example (a message names up
// to three unknown columns, and must stay short).
const knownNames = "sip_address, display_name, user_principal_name, sam_account_name, domain, distinguished_name, " +
	"enabled, registrar_pool, line_uri, enterprise_voice_enabled, site, pin_policy, identity, " +
	"title, department, city, company, mail, given_name, surname, telephone_number, member_of, " +
	"or their csvde/ldifde and PowerShell names (msRTCSIP-PrimaryUserAddress, displayName, dn, msRTCSIP-Line, " +
	"l, sn, memberOf, ...: go doc ./store/importfmt)"

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
	case "distinguishedname":
		c.field, c.prio = fDN, 3
	case "dn":
		c.field, c.prio = fDN, 2
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
	case "enterprisevoiceenabled":
		c.field, c.kind, c.prio = fVoice, kBool, 3
	case "site":
		c.field, c.prio = fSite, 3
	case "pinpolicy":
		c.field, c.prio = fPolicy, 3
	case "title":
		c.field, c.prio = fTitle, 3
	case "department":
		c.field, c.prio = fDepartment, 3
	case "city", "l":
		c.field, c.prio = fCity, 3
	case "company":
		c.field, c.prio = fCompany, 3
	case "mail", "windowsemailaddress":
		c.field, c.prio = fMail, 3
	case "givenname", "firstname":
		c.field, c.prio = fGivenName, 3
	case "surname", "sn", "lastname":
		c.field, c.prio = fSurname, 3
	case "telephonenumber":
		c.field, c.prio = fPhone, 3
	case "memberof":
		c.field, c.kind, c.prio = fMemberOf, kGroups, 3
	default:
		return c, false
	}
	return c, true
}

// fieldNames names each field as pinsh does, for messages.
var fieldNames = [nFields]string{
	fSip: "sip_address", fDisplay: "display_name", fUPN: "user_principal_name", fSam: "sam_account_name",
	fDomain: "domain", fDN: "distinguished_name", fEnabled: "enabled", fPool: "registrar_pool",
	fLine: "line_uri", fVoice: "enterprise_voice_enabled", fSite: "site", fPolicy: "pin_policy",
	fTitle: "title", fDepartment: "department", fCity: "city", fCompany: "company", fMail: "mail",
	fGivenName: "given_name", fSurname: "surname", fPhone: "telephone_number", fMemberOf: "member_of",
}

// sameField reports whether columns a and b are two spellings of one name:
// the same field at the same rank, so neither takes precedence.
func sameField(a, b *column) bool {
	return a.field != fNone && a.field == b.field && a.prio == b.prio
}

// duplicate says that the names first and again (CSV columns, JSON keys,
// "column" or "key" in what) both give one field.
func duplicate(what string, first, again *column) error {
	if first.name == again.name {
		return fmt.Errorf("%s %s appears twice; keep one", what, cut.Quote(first.name))
	}
	return fmt.Errorf("%ss %s and %s both give %s; keep one", what, cut.Quote(first.name), cut.Quote(again.name), fieldNames[first.field])
}

// knownList is every recognised name, pinsh's own first, for suggestions.
var knownList = []string{
	"sip_address", "display_name", "user_principal_name", "sam_account_name", "domain", "distinguished_name",
	"enabled", "registrar_pool", "line_uri", "enterprise_voice_enabled", "site", "pin_policy", "identity",
	"title", "department", "city", "company", "mail", "given_name", "surname", "telephone_number", "member_of",
	"msRTCSIP-PrimaryUserAddress", "userPrincipalName", "sAMAccountName", "displayName", "distinguishedName", "dn",
	"msRTCSIP-Line", "msRTCSIP-UserEnabled", "msRTCSIP-PrimaryHomeServer",
	"l", "givenName", "sn", "telephoneNumber", "memberOf", "FirstName", "LastName", "WindowsEmailAddress",
}

// IgnoredNames are the Active Directory attributes (as csvde and ldifde
// export them) and Get-CsUser properties (as PowerShell's Export-Csv and
// ConvertTo-Json write them) that import deliberately ignores: they
// describe the account in the directory but hold nothing pinsh keeps. Any
// other name that import does not recognise is refused in CSV and JSON
// Lines, and refused in LDIF when it is a slip away from a recognised name.
var IgnoredNames = []string{
	// Active Directory (csvde, ldifde)
	"objectClass", "objectCategory", "objectGUID", "objectSid", "cn", "name", "initials",
	"proxyAddresses", "description", "physicalDeliveryOfficeName",
	"member", "manager", "whenCreated", "whenChanged", "uSNCreated", "uSNChanged", "instanceType",
	"userAccountControl", "accountExpires", "pwdLastSet", "lastLogon", "lastLogonTimestamp", "logonCount",
	"badPwdCount", "badPasswordTime", "primaryGroupID", "sAMAccountType", "dSCorePropagationData", "codePage",
	"countryCode", "msRTCSIP-OptionFlags", "msRTCSIP-InternetAccessEnabled", "msRTCSIP-FederationEnabled",
	"msRTCSIP-ArchivingEnabled", "msRTCSIP-UserPolicies", "msRTCSIP-DeploymentLocator",
	"msRTCSIP-UserRoutingGroupId", "msRTCSIP-OriginatorSid", "msRTCSIP-LineServer",
	// Get-CsUser
	"Sid", "Guid", "Id", "HomeServer", "TargetRegistrarPool",
	"TargetServerIfMoving", "VoicePolicy", "ConferencingPolicy", "ClientPolicy", "DialPlan", "ExternalAccessPolicy",
	"LocationPolicy", "HostingProvider", "AudioVideoDisabled", "IPPBXSoftPhoneRoutingEnabled",
	"RemoteCallControlTelephonyEnabled", "PrivateLine", "LineServerURI", "HostedVoiceMail", "ExUmEnabled",
}

// normalizedNames returns IgnoredNames as a set and knownList, normalized.
// It is made on the first unrecognised name (resolve), not when pinsh
// starts: most runs import nothing.
func normalizedNames() (ignored map[string]bool, known []string) {
	ignored = map[string]bool{}
	for _, n := range IgnoredNames {
		ignored[normalize(n)] = true
	}
	for _, n := range knownList {
		known = append(known, normalize(n))
	}
	return ignored, known
}

var normalized = sync.OnceValues(normalizedNames)

// errNoPINs is the refusal of a PIN column, key or attribute.
var errNoPINs = errors.New("pinsh does not import PINs")

// resolve looks name up as lookup does, and says whether import refuses it:
// a PIN always; a name neither recognised nor in IgnoredNames when strict
// (CSV, JSON Lines) or when it is one or two typing slips away from a
// recognised name (LDIF, whose exports carry many attributes pinsh has no
// use for). what ("column", "key", "attribute") names it in the error.
// use is true for a recognised name.
func resolve(what, name string, strict bool) (c column, use bool, err error) {
	if c, ok := lookup(name); ok {
		return c, true, nil
	}
	n := normalize(name)
	ignored, _ := normalized()
	switch {
	case strings.HasPrefix(n, "pin") || strings.HasSuffix(n, "pin"):
		return c, false, fmt.Errorf("%s %s: %w: import the users, then set their PINs with set_pin (generated) or read_pin()",
			what, cut.Quote(name), errNoPINs)
	case ignored[n] || !strict && !nearKnown(n):
		return c, false, nil
	}
	return c, false, fmt.Errorf("unknown %s %s; %s", what, cut.Quote(name), hint(name))
}

// nearKnown reports whether the normalized name n, of six letters or more,
// is at most two slips away from a recognised name of six letters or more
// (shorter names are too close to real directory attributes: cn, sn, l).
func nearKnown(n string) bool {
	if len(n) < 6 {
		return false
	}
	_, known := normalized()
	for _, k := range known {
		if len(k) >= 6 && suggest.EditDistance(n, k, 2) >= 0 {
			return true
		}
	}
	return false
}

// suggestions returns the recognised names closest to name, one per
// spelling (display_name, not also displayName).
func suggestions(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range suggest.Suggest(name, knownList) {
		if n := normalize(s); !seen[n] {
			seen[n] = true
			out = append(out, s)
		}
	}
	return out
}

// hint ends the message about an unknown name.
func hint(name string) string {
	if s := suggestions(name); len(s) > 0 {
		return "did you mean " + suggest.OrList(s) + "?"
	}
	return "import refuses to guess: the recognised names are " + knownNames +
		"; the Active Directory attributes import ignores are listed in the README"
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
	// keys holds the JSON keys of the object so far (see given).
	keys []column
	// validUTF8 is set when the whole record is known to be valid UTF-8.
	validUTF8 bool
}

func (b *builder) reset() {
	keys := b.keys[:0]
	*b = builder{keys: keys}
}

// given notes that the record names column c (a JSON key), and fails if an
// earlier key gives the same field (see sameField).
func (b *builder) given(c *column) error {
	for i := range b.keys {
		if sameField(&b.keys[i], c) {
			return duplicate("key", &b.keys[i], c)
		}
	}
	b.keys = append(b.keys, *c)
	return nil
}

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
	case kGroups:
		b.addGroups(value)
		return nil
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
	case fTitle:
		return &b.u.Title
	case fDepartment:
		return &b.u.Department
	case fCity:
		return &b.u.City
	case fCompany:
		return &b.u.Company
	case fMail:
		return &b.u.Mail
	case fGivenName:
		return &b.u.GivenName
	case fSurname:
		return &b.u.Surname
	case fPhone:
		return &b.u.TelephoneNumber
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

// addGroups adds the group DNs of value to the user's MemberOf: one DN, or
// several joined with ';' as csvde writes a multi-valued attribute (a DN
// holds a ';' only escaped, "\;"). Empty parts are skipped; the store
// checks that each is a DN and none repeats.
func (b *builder) addGroups(value string) {
	start := 0
	for i := 0; i <= len(value); i++ {
		switch {
		case i+1 < len(value) && value[i] == '\\':
			i++ // an escaped character, ';' included
		case i == len(value) || value[i] == ';':
			if g := trimBlank(value[start:i]); g != "" {
				b.u.MemberOf = append(b.u.MemberOf, g)
			}
			start = i + 1
		}
	}
}
