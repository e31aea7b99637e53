// Package ldapfilter parses LDAP search filters (RFC 4515), as Get-CsUser
// -LdapFilter takes them, and matches them against users' directory
// attributes the way Active Directory does.
//
// Syntax: (attr=value) equality, (attr=*) presence, (attr=Sm*) and
// (attr=*ana*er) substrings, (attr>=value) and (attr<=value) ordering,
// (&(...)(...)) and, (|(...)(...)) or, (!(...)) not. In a value, \XX (two
// hex digits) is the byte XX: \2a is a literal '*', \28 '(', \29 ')', \5c
// '\', \00 NUL. As in the Microsoft examples, the outermost parentheses may
// be left out ("Department=Finance", "&(Department=Finance)(Title=Manager)"),
// and blanks between the parts of an and, or or not are ignored.
//
// Attributes are named as Active Directory spells them, in any case: title,
// department, l (the city), company, mail, givenName, sn, telephoneNumber,
// memberOf, displayName, cn, name, sAMAccountName, userPrincipalName,
// distinguishedName, msRTCSIP-PrimaryUserAddress, msRTCSIP-Line,
// msRTCSIP-PrimaryHomeServer, msRTCSIP-UserEnabled, objectClass and
// objectCategory (every user is objectClass top, person,
// organizationalPerson and user, and objectCategory person). Any other name
// is refused, with the closest attribute, rather than matching nothing.
//
// Matching follows Active Directory: strings compare ignoring case and
// leading, trailing and repeated blanks; ordering compares them the same
// way; a user without a value for an attribute matches no equality,
// substring, ordering or presence item on it (and so matches its
// negation). memberOf, distinguishedName and objectCategory hold
// distinguished names, compared whole (spacing around ',' and '=' and case
// ignored): a value that is not a DN, a substring or an ordering on them is
// refused, as is anything but TRUE or FALSE for msRTCSIP-UserEnabled.
// Approximate (~=) and extensible (:=) matches, attribute options (;binary)
// and an empty and or or ("(&)") are refused too.
package ldapfilter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/internal/suggest"
	"github.com/pinsh/pinsh/store"
)

// MaxLength bounds the text of a filter, and MaxDepth the nesting of its
// and, or and not parts: a filter is typed by an admin, and recursion on a
// hostile one must not exhaust the stack.
const (
	MaxLength = 64 << 10
	MaxDepth  = 64
)

// Filter is a parsed filter. It is immutable, and safe to use from several
// goroutines.
type Filter struct {
	root node
	text string
}

// Error is a filter that cannot be parsed. Pos is the byte offset in the
// filter where the problem is.
type Error struct {
	Pos int
	Msg string
	col int
}

// Error returns "at column N: MSG" (N counts characters from 1).
func (e *Error) Error() string { return fmt.Sprintf("at column %d: %s", e.col, e.Msg) }

// Parse parses text (see the package doc) into a Filter.
func Parse(text string) (*Filter, error) {
	p := &parser{s: text}
	if len(text) > MaxLength {
		return nil, p.errAt(0, "the filter is %d bytes long; the most is %d", len(text), MaxLength)
	}
	if !utf8.ValidString(text) {
		return nil, p.errAt(0, "the filter is not valid UTF-8 text")
	}
	p.blanks()
	if p.pos == len(p.s) {
		return nil, p.errAt(0, "the filter is empty; write one such as (department=Finance)")
	}
	var n node
	var err error
	switch p.s[p.pos] {
	case '(':
		n, err = p.filter(0)
	case '&', '|', '!':
		n, err = p.comp(0) // the Microsoft form, without the outer parentheses
	default:
		p.bare = true // "Department=Finance": the value runs to the end
		n, err = p.item()
	}
	if err != nil {
		return nil, err
	}
	p.blanks()
	if p.pos < len(p.s) {
		return nil, p.errAt(p.pos, "%s after the end of the filter; join filters with (&...) or (|...)", cut.Quote(p.s[p.pos:]))
	}
	return &Filter{root: n, text: text}, nil
}

// Match reports whether u matches f.
func (f *Filter) Match(u *store.User) bool { return f.root.match(u) }

// String returns f in RFC 4515 form: fully parenthesised, attributes as
// Active Directory spells them, values escaped where they must be.
func (f *Filter) String() string {
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

// node is one part of a filter.
type node struct {
	op    op
	kids  []node     // and, or: the parts; not: the one part
	attr  *attribute // items
	value string     // equality and ordering: the value, prepared (see prep); for DN attributes its DNKey
	raw   string     // the value as given (unescaped), for String
	subs  substrings
}

type op uint8

const (
	opAnd op = iota
	opOr
	opNot
	opEqual
	opGreater // >=
	opLess    // <=
	opPresent
	opSubstr
)

// substrings is a substring assertion, its parts prepared (see prep) and,
// in raw, as given.
type substrings struct {
	initial, final string
	any            []string
	raw            []string // initial, any..., final as given, "" where absent
}

func (n *node) match(u *store.User) bool {
	switch n.op {
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].match(u) {
				return false
			}
		}
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].match(u) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].match(u)
	}
	return n.attr.any(u, n.matchValue)
}

// matchValue reports whether v, one value of the item's attribute, matches
// the item.
func (n *node) matchValue(v string) bool {
	if v == "" {
		return false // no value: only the negation of an item matches
	}
	switch n.op {
	case opPresent:
		return true
	case opEqual:
		switch n.attr.kind {
		case kindDN:
			k, err := store.DNKey(v)
			return err == nil && k == n.value
		case kindCategory:
			return n.value == "person" || strings.HasPrefix(n.value, "cn=person,")
		}
		return prep(v) == n.value
	case opGreater:
		return prep(v) >= n.value
	case opLess:
		return prep(v) <= n.value
	}
	return n.subs.match(prep(v))
}

func (s *substrings) match(v string) bool {
	if len(v) < len(s.initial)+len(s.final) || !strings.HasPrefix(v, s.initial) || !strings.HasSuffix(v, s.final) {
		return false
	}
	v = v[len(s.initial) : len(v)-len(s.final)]
	for _, a := range s.any {
		i := strings.Index(v, a)
		if i < 0 {
			return false
		}
		v = v[i+len(a):]
	}
	return true
}

// prep prepares a string value for comparison as Active Directory's
// case-ignoring string matching does: lower case, leading and trailing
// blanks dropped, runs of blanks made one space.
func prep(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

// prepPart prepares one part of a substring assertion: as prep, but a
// blank at either end is kept (as one space), since it joins the part to
// the text around it.
func prepPart(s string) string {
	p := prep(s)
	if p == "" {
		if strings.TrimLeft(s, " \t") != s {
			return " "
		}
		return ""
	}
	if s[0] == ' ' || s[0] == '\t' {
		p = " " + p
	}
	if c := s[len(s)-1]; c == ' ' || c == '\t' {
		p += " "
	}
	return p
}

// parser reads a filter; pos is the next byte.
type parser struct {
	s    string
	pos  int
	bare bool // the filter is one item without parentheses
}

func (p *parser) errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), col: utf8.RuneCountInString(p.s[:pos]) + 1}
}

// blanks skips spaces, tabs and line ends between the parts of a filter.
func (p *parser) blanks() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

// filter reads "(" comp ")".
func (p *parser) filter(depth int) (node, error) {
	if depth > MaxDepth {
		return node{}, p.errAt(p.pos, "the filter nests more than %d deep", MaxDepth)
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return node{}, p.expected("(")
	}
	open := p.pos
	p.pos++
	p.blanks()
	n, err := p.comp(depth)
	if err != nil {
		return node{}, err
	}
	if p.pos >= len(p.s) {
		return node{}, p.errAt(open, "this ( is never closed; add a )")
	}
	if p.s[p.pos] != ')' {
		return node{}, p.expected(")")
	}
	p.pos++
	return n, nil
}

// expected is the error for a missing character want at pos.
func (p *parser) expected(want string) *Error {
	if p.pos >= len(p.s) {
		return p.errAt(p.pos, "the filter ends where %s was expected", want)
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return p.errAt(p.pos, "expected %s, found %s", want, cut.Quote(string(r)))
}

// comp reads what is between a filter's parentheses: an and, an or, a not
// or an item.
func (p *parser) comp(depth int) (node, error) {
	if p.pos >= len(p.s) {
		return node{}, p.errAt(p.pos, "the filter ends where an attribute, &, | or ! was expected")
	}
	start := p.pos
	switch c := p.s[p.pos]; c {
	case '&', '|':
		p.pos++
		n := node{op: opAnd}
		if c == '|' {
			n.op = opOr
		}
		for {
			p.blanks()
			if p.pos >= len(p.s) || p.s[p.pos] != '(' {
				break
			}
			kid, err := p.filter(depth + 1)
			if err != nil {
				return node{}, err
			}
			n.kids = append(n.kids, kid)
		}
		if len(n.kids) == 0 {
			what := "and (&) with nothing to and would select every user"
			if c == '|' {
				what = "or (|) with nothing to or would select no user"
			}
			if p.pos < len(p.s) && p.s[p.pos] != ')' {
				return node{}, p.expected("(")
			}
			return node{}, p.errAt(start, "an %s; put each condition in parentheses after it: %c(title=Manager)(l=Redmond)", what, c)
		}
		return n, nil
	case '!':
		p.pos++
		p.blanks()
		if p.pos >= len(p.s) || p.s[p.pos] != '(' {
			return node{}, p.errAt(p.pos, "! takes one filter in parentheses: !(title=Manager)")
		}
		kid, err := p.filter(depth + 1)
		if err != nil {
			return node{}, err
		}
		p.blanks()
		if p.pos < len(p.s) && p.s[p.pos] == '(' {
			return node{}, p.errAt(p.pos, "! takes one filter; to negate several, write !(&(...)(...)) or !(|(...)(...))")
		}
		return node{op: opNot, kids: []node{kid}}, nil
	case '(':
		return node{}, p.errAt(p.pos, "a filter in parentheses must follow &, | or !; to join filters write (&(...)(...)) or (|(...)(...))")
	}
	return p.item()
}

// item reads attr op value.
func (p *parser) item() (node, error) {
	start := p.pos
	for p.pos < len(p.s) && isAttrChar(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	if p.pos >= len(p.s) {
		if name == "" {
			return node{}, p.errAt(p.pos, "the filter ends where an attribute was expected")
		}
		return node{}, p.errAt(p.pos, "the filter ends after %s; write a comparison such as (%s=value)", cut.Quote(name), cut.Text(name))
	}
	c := p.s[p.pos]
	switch {
	case name == "" && c == ')':
		return node{}, p.errAt(p.pos, "empty parentheses; write a condition such as (department=Finance)")
	case name == "":
		r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
		return node{}, p.errAt(p.pos, "expected an attribute name, found %s", cut.Quote(string(r)))
	case c == ';':
		return node{}, p.errAt(p.pos, "attribute options (%s;...) are not supported; write the attribute alone", cut.Text(name))
	case c == ' ' || c == '\t':
		return node{}, p.errAt(p.pos, "a blank after the attribute name %s; write (%s=value), without blanks around the =", cut.Quote(name), cut.Text(name))
	case c == ':':
		return node{}, p.errAt(start, "extensible matching (%s:...:=value) is not supported; compare with =, >= or <=", cut.Text(name))
	}
	opPos := p.pos
	var o op
	switch {
	case strings.HasPrefix(p.s[p.pos:], "~="):
		return node{}, p.errAt(opPos, "approximate matching (~=) is not supported; use = (it ignores case) or a substring such as (sn=Sm*)")
	case strings.HasPrefix(p.s[p.pos:], ">="):
		o, p.pos = opGreater, p.pos+2
	case strings.HasPrefix(p.s[p.pos:], "<="):
		o, p.pos = opLess, p.pos+2
	case c == '=':
		o, p.pos = opEqual, p.pos+1
	case c == '>' || c == '<':
		return node{}, p.errAt(opPos, "%c alone is not an LDAP comparison; write %c= (LDAP has no strict %c)", c, c, c)
	default:
		r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
		return node{}, p.errAt(p.pos, "expected =, >= or <= after the attribute %s, found %s", cut.Quote(name), cut.Quote(string(r)))
	}
	a, err := lookup(name)
	if err != nil {
		return node{}, p.errAt(start, "%v", err)
	}
	valPos := p.pos
	parts, err := p.value(o == opEqual)
	if err != nil {
		return node{}, err
	}
	n := node{op: o, attr: a}
	switch {
	case len(parts) == 2 && parts[0] == "" && parts[1] == "":
		n.op = opPresent
		return n, nil
	case len(parts) > 1:
		n.op = opSubstr
		if a.kind == kindDN || a.kind == kindCategory || a.kind == kindBool {
			return node{}, p.errAt(valPos, "%s %s; * matches only the whole value here (%s=*: has one)", a.name, a.whole(), a.name)
		}
		n.subs.raw = parts
		n.subs.initial = prepPart(parts[0])
		n.subs.final = prepPart(parts[len(parts)-1])
		for _, s := range parts[1 : len(parts)-1] {
			if s == "" {
				continue // ** is one *
			}
			n.subs.any = append(n.subs.any, prepPart(s))
		}
		return n, nil
	}
	n.raw = parts[0]
	switch a.kind {
	case kindDN, kindCategory:
		if o != opEqual {
			return node{}, p.errAt(opPos, "%s %s; compare it with = only", a.name, a.whole())
		}
		k, err := store.DNKey(n.raw)
		switch {
		case a.kind == kindCategory && isWord(n.raw):
			k = strings.ToLower(strings.TrimSpace(n.raw)) // a class name: AD's shorthand for its category
		case err != nil:
			return node{}, p.errAt(valPos, "%s takes a distinguished name such as %s, not %s", a.name, a.example, cut.Quote(n.raw))
		}
		n.value = k
		return n, nil
	case kindBool:
		switch v := strings.TrimSpace(n.raw); {
		case o != opEqual:
			return node{}, p.errAt(opPos, "%s is TRUE or FALSE; compare it with = only", a.name)
		case strings.EqualFold(v, "TRUE"), strings.EqualFold(v, "FALSE"):
			n.value = strings.ToLower(v)
			return n, nil
		}
		return node{}, p.errAt(valPos, "%s is TRUE or FALSE, not %s", a.name, cut.Quote(n.raw))
	}
	n.value = prep(n.raw)
	return n, nil
}

// isAttrChar reports whether c may be part of an attribute description:
// letters, digits and '-' (RFC 4512), '.' for numeric OIDs; and '_', which
// no attribute has, so that given_name is refused with its suggestion.
func isAttrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
}

// isWord reports whether s, blanks aside, is a name made of attribute
// characters (an object class such as person or computer).
func isWord(s string) bool {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if !isAttrChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// value reads an assertion value up to the ')' that ends the item, decoding
// \XX escapes. With stars, an unescaped '*' splits it into substring parts
// (so "*" alone is two empty parts: presence); otherwise a '*' is refused.
func (p *parser) value(stars bool) ([]string, error) {
	var parts []string
	var b []byte
	for {
		end := p.pos >= len(p.s)
		if end && !p.bare {
			return nil, p.errAt(p.pos, "the filter ends inside a value; close the item with )")
		}
		var c byte
		if !end {
			c = p.s[p.pos]
		}
		switch {
		case end || c == ')':
			parts = append(parts, string(b))
			for _, s := range parts {
				if !utf8.ValidString(s) {
					return nil, p.errAt(p.pos, "the value's \\XX escapes make text that is not valid UTF-8")
				}
			}
			return parts, nil
		case c == '(':
			return nil, p.errAt(p.pos, "( inside a value; write it as \\28 (and ) as \\29), or close the item before it")
		case c == '*':
			if !stars {
				return nil, p.errAt(p.pos, "* in a >= or <= value; write a literal * as \\2a")
			}
			parts = append(parts, string(b))
			b = b[:0]
			p.pos++
		case c == '\\':
			if p.pos+2 >= len(p.s) || unhex(p.s[p.pos+1]) < 0 || unhex(p.s[p.pos+2]) < 0 {
				return nil, p.errAt(p.pos, "\\ starts an escape of two hex digits: \\2a for *, \\28 for (, \\29 for ), \\5c for \\")
			}
			b = append(b, byte(unhex(p.s[p.pos+1])<<4|unhex(p.s[p.pos+2])))
			p.pos += 3
		case c == 0:
			return nil, p.errAt(p.pos, "a NUL character in a value; write it as \\00")
		default:
			b = append(b, c)
			p.pos++
		}
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// write writes n in RFC 4515 form.
func (n *node) write(b *strings.Builder) {
	b.WriteByte('(')
	switch n.op {
	case opAnd, opOr, opNot:
		b.WriteByte("&|!"[n.op])
		for i := range n.kids {
			n.kids[i].write(b)
		}
	case opPresent:
		b.WriteString(n.attr.name + "=*")
	case opSubstr:
		b.WriteString(n.attr.name + "=")
		for i, s := range n.subs.raw {
			if i > 0 {
				b.WriteByte('*')
			}
			escape(b, s)
		}
	default:
		b.WriteString(n.attr.name)
		b.WriteString([...]string{opEqual: "=", opGreater: ">=", opLess: "<="}[n.op])
		escape(b, n.raw)
	}
	b.WriteByte(')')
}

// escape writes v with the characters RFC 4515 requires escaped as \XX.
func escape(b *strings.Builder, v string) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '*', '(', ')', '\\', 0:
			fmt.Fprintf(b, "\\%02x", c)
		default:
			b.WriteByte(c)
		}
	}
}

// Names returns the attributes a filter may name, as Active Directory
// spells them, for help text and completion.
func Names() []string {
	out := make([]string, len(attributes))
	for i := range attributes {
		out[i] = attributes[i].name
	}
	return out
}

// lookup returns the attribute name names, case-insensitively, or an error
// naming it with the closest attributes.
func lookup(name string) (*attribute, error) {
	for i := range attributes {
		if strings.EqualFold(attributes[i].name, name) {
			return &attributes[i], nil
		}
	}
	if a, ok := aliases[strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(name))]; ok {
		if a == "" {
			return nil, fmt.Errorf("%s is a pinsh field, not a directory attribute: ldap_filter selects on Active Directory attributes; select on %s with get_users' filter option", cut.Quote(name), cut.Text(name))
		}
		return nil, fmt.Errorf("unknown attribute %s; Active Directory calls it %s", cut.Quote(name), a)
	}
	return nil, fmt.Errorf("unknown attribute %s; %s", cut.Quote(name), suggest.Hint(name, Names(), "the attributes are"))
}

// aliases maps names that are not Active Directory attributes, lower-cased
// without '_' and '-', to the attribute meant ("" for a pinsh field no
// attribute holds), so that the refusal can say which to write.
var aliases = map[string]string{
	"city": "l", "locality": "l", "surname": "sn", "lastname": "sn", "firstname": "givenName",
	"telephone": "telephoneNumber", "phone": "telephoneNumber", "officephone": "telephoneNumber",
	"email": "mail", "emailaddress": "mail", "windowsemailaddress": "mail",
	"group": "memberOf", "groups": "memberOf",
	"sipaddress": "msRTCSIP-PrimaryUserAddress", "identity": "msRTCSIP-PrimaryUserAddress",
	"lineuri": "msRTCSIP-Line", "registrarpool": "msRTCSIP-PrimaryHomeServer",
	"enabled": "msRTCSIP-UserEnabled", "samaccount": "sAMAccountName", "upn": "userPrincipalName", "dn": "distinguishedName",
	"site": "", "pinpolicy": "", "enterprisevoiceenabled": "", "domain": "",
}
