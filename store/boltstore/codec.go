package boltstore

import (
	"encoding/binary"
	"time"

	"github.com/pinsh/pinsh/store"
)

// Records are hand-encoded: scans decode millions of them, and gob or JSON
// would cost more than the rest of the scan.

func uidKey(id store.UserID) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return k[:]
}

func appendUID(b []byte, id store.UserID) []byte { return binary.BigEndian.AppendUint64(b, uint64(id)) }

func keyUID(k []byte) store.UserID {
	if len(k) != 8 {
		corrupt("bad user key %x", k)
	}
	return store.UserID(binary.BigEndian.Uint64(k))
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// User record:
//
//	flags(1): 1 enabled, 2 enterprise voice, 4 UPN equals the SIP address,
//	          8 directory attributes follow
//	strings (uvarint length + bytes): sip (with "sip:"), display name,
//	[UPN unless flag 4], sam, domain, DN, registrar pool, line URI, site,
//	PIN policy
//	[flag 8: title, department, city, company, mail, given name, surname,
//	telephone number, then a uvarint count and that many memberOf DNs]
//
// The SIP address and display name come first so that PIN info reads can
// decode just them. A user without directory attributes is written without
// flag 8, byte for byte as before the attributes existed (schema version
// 2), so records of older files read unchanged and synthetic directories
// stay as small.
const (
	userEnabled = 1 << iota
	userVoice
	userUPNIsSIP
	userAttrs
)

// attrStrings returns the string directory attributes of u in record order.
func attrStrings(u *store.User) [8]*string {
	return [...]*string{&u.Title, &u.Department, &u.City, &u.Company, &u.Mail, &u.GivenName, &u.Surname, &u.TelephoneNumber}
}

// hasAttrs reports whether u has a directory attribute to store.
func hasAttrs(u *store.User) bool {
	for _, p := range attrStrings(u) {
		if *p != "" {
			return true
		}
	}
	return len(u.MemberOf) > 0
}

func encodeUser(b []byte, u *store.User) []byte {
	var f byte
	if u.Enabled {
		f |= userEnabled
	}
	if u.EnterpriseVoiceEnabled {
		f |= userVoice
	}
	upnIsSIP := len(u.SipAddress) > 4 && u.UserPrincipalName == u.SipAddress[4:]
	if upnIsSIP {
		f |= userUPNIsSIP
	}
	attrs := hasAttrs(u)
	if attrs {
		f |= userAttrs
	}
	b = append(b, f)
	b = appendStr(b, u.SipAddress)
	b = appendStr(b, u.DisplayName)
	if !upnIsSIP {
		b = appendStr(b, u.UserPrincipalName)
	}
	for _, s := range [...]string{u.SamAccountName, u.Domain, u.DistinguishedName, u.RegistrarPool, u.LineURI, u.Site, u.PinPolicy} {
		b = appendStr(b, s)
	}
	if attrs {
		for _, p := range attrStrings(u) {
			b = appendStr(b, *p)
		}
		b = binary.AppendUvarint(b, uint64(len(u.MemberOf)))
		for _, g := range u.MemberOf {
			b = appendStr(b, g)
		}
	}
	return b
}

// strReader slices length-prefixed strings out of one string holding a
// whole record, so a record costs one allocation however many fields it
// has.
type strReader struct {
	s   string
	pos int
}

func (r *strReader) str() string {
	n, w := uvarintStr(r.s[r.pos:])
	if w <= 0 || n > uint64(len(r.s)-r.pos-w) {
		corrupt("bad string in record at %d", r.pos)
	}
	r.pos += w
	s := r.s[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

func (r *strReader) uvarint() uint64 {
	n, w := uvarintStr(r.s[r.pos:])
	if w <= 0 {
		corrupt("bad number in record at %d", r.pos)
	}
	r.pos += w
	return n
}

func uvarintStr(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

func decodeUser(id store.UserID, v []byte) store.User { return decodeUserStr(id, string(v)) }

// decodeUserStr decodes a user record held in a string; the user's fields
// are substrings of it.
func decodeUserStr(id store.UserID, v string) store.User {
	if len(v) == 0 {
		corrupt("empty user record %d", id)
	}
	r := strReader{s: v, pos: 1}
	f := v[0]
	u := store.User{ID: id, Enabled: f&userEnabled != 0, EnterpriseVoiceEnabled: f&userVoice != 0}
	u.SipAddress = r.str()
	u.DisplayName = r.str()
	if f&userUPNIsSIP != 0 {
		if len(u.SipAddress) < 4 {
			corrupt("bad SIP address in user record %d", id)
		}
		u.UserPrincipalName = u.SipAddress[4:]
	} else {
		u.UserPrincipalName = r.str()
	}
	u.SamAccountName = r.str()
	u.Domain = r.str()
	u.DistinguishedName = r.str()
	u.RegistrarPool = r.str()
	u.LineURI = r.str()
	u.Site = r.str()
	u.PinPolicy = r.str()
	if f&userAttrs != 0 {
		for _, p := range attrStrings(&u) {
			*p = r.str()
		}
		n := r.uvarint()
		if n > uint64(len(v)-r.pos) { // each DN takes a byte at least
			corrupt("bad memberOf count in user record %d", id)
		}
		if n > 0 {
			u.MemberOf = make([]string, n)
			for i := range u.MemberOf {
				u.MemberOf[i] = r.str()
			}
		}
	}
	if r.pos != len(v) {
		corrupt("%d bytes after the end of user record %d", len(v)-r.pos, id)
	}
	return u
}

// decodeSIP returns just the SIP address of a user record.
func decodeSIP(id store.UserID, v []byte) string { return string(userSIP(id, v)) }

// userSIP returns the SIP address of a user record as it lies in it.
func userSIP(id store.UserID, v []byte) []byte {
	n, w := binary.Uvarint(v[min(1, len(v)):])
	if len(v) == 0 || w <= 0 || n > uint64(len(v)-1-w) {
		corrupt("bad user record %d", id)
	}
	return v[1+w : 1+w+int(n)]
}

// decodeUserHead decodes only what PIN info needs: the SIP address, the
// display name and the enabled flag. The two strings share one copy of
// their bytes (they are adjacent in the record), so a PIN info costs one
// allocation for its text.
func decodeUserHead(id store.UserID, v []byte) (sip, display string, enabled bool) {
	field := func(pos int) (start, end int) {
		n, w := binary.Uvarint(v[min(pos, len(v)):])
		if w <= 0 || n > uint64(len(v)-pos-w) {
			corrupt("bad user record %d", id)
		}
		return pos + w, pos + w + int(n)
	}
	if len(v) == 0 {
		corrupt("empty user record %d", id)
	}
	s0, e0 := field(1)
	s1, e1 := field(e0)
	head := string(v[s0:e1])
	return head[:e0-s0], head[s1-s0:], v[0]&userEnabled != 0
}

// PIN state record (no hashes; those live in the hashes bucket so that
// bulk lock and unlock rewrite only these few bytes per user):
//
//	flags(1): 1 set, 2|4 lock source, 8 last change, 16 expires,
//	          32 window start, 64 temporary lock
//	uvarint length, uvarint local failures, uvarint global failures,
//	then each present time as a varint of Unix nanoseconds
const (
	pinSet       = 1
	pinLockShift = 1
	pinLockMask  = 3 << pinLockShift
	pinHasLast   = 8
	pinHasExp    = 16
	pinHasWin    = 32
	pinHasTemp   = 64
)

func encodePin(b []byte, st *store.PinState) []byte {
	f := byte(st.LockedBy) << pinLockShift & pinLockMask
	if st.IsSet {
		f |= pinSet
	}
	times := [...]struct {
		t    time.Time
		flag byte
	}{{st.LastChange, pinHasLast}, {st.Expires, pinHasExp}, {st.WindowStart, pinHasWin}, {st.TempLockUntil, pinHasTemp}}
	for _, t := range times {
		if !t.t.IsZero() {
			f |= t.flag
		}
	}
	b = append(b, f)
	b = binary.AppendUvarint(b, uint64(st.Length))
	b = binary.AppendUvarint(b, uint64(st.LocalFailures))
	b = binary.AppendUvarint(b, uint64(st.GlobalFailures))
	for _, t := range times {
		if !t.t.IsZero() {
			b = binary.AppendVarint(b, t.t.UnixNano())
		}
	}
	return b
}

// decodePin decodes a PIN state record (without hashes) into st.
func decodePin(v []byte, st *store.PinState) {
	if len(v) == 0 {
		corrupt("empty PIN record")
	}
	f := v[0]
	pos := 1
	uv := func() int {
		x, w := binary.Uvarint(v[pos:])
		if w <= 0 || x > 1<<31 {
			corrupt("bad PIN record")
		}
		pos += w
		return int(x)
	}
	tm := func(flag byte) time.Time {
		if f&flag == 0 {
			return time.Time{}
		}
		x, w := binary.Varint(v[pos:])
		if w <= 0 {
			corrupt("bad time in PIN record")
		}
		pos += w
		return time.Unix(0, x).UTC()
	}
	*st = store.PinState{
		IsSet:    f&pinSet != 0,
		LockedBy: store.LockSource(f & pinLockMask >> pinLockShift),
	}
	st.Length = uv()
	st.LocalFailures = uv()
	st.GlobalFailures = uv()
	st.LastChange = tm(pinHasLast)
	st.Expires = tm(pinHasExp)
	st.WindowStart = tm(pinHasWin)
	st.TempLockUntil = tm(pinHasTemp)
	if st.LockedBy > store.LockedBySystem {
		corrupt("bad lock source in PIN record")
	}
}

// Hash record: uvarint count, then count hashes (uvarint length + bytes):
// the current hash (empty when none) and the history, newest first.
func encodeHashes(b []byte, cur []byte, hist [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(1+len(hist)))
	b = binary.AppendUvarint(b, uint64(len(cur)))
	b = append(b, cur...)
	for _, h := range hist {
		b = binary.AppendUvarint(b, uint64(len(h)))
		b = append(b, h...)
	}
	return b
}

// decodeHashes returns copies of the hashes of a hash record.
func decodeHashes(v []byte) (cur []byte, hist [][]byte) {
	n, w := binary.Uvarint(v)
	if w <= 0 || n == 0 || n > 64 {
		corrupt("bad hash record")
	}
	pos := w
	for i := range int(n) {
		l, w := binary.Uvarint(v[pos:])
		if w <= 0 || l > uint64(len(v)-pos-w) {
			corrupt("bad hash record")
		}
		pos += w
		h := append([]byte(nil), v[pos:pos+int(l)]...)
		pos += int(l)
		if i == 0 {
			cur = h
		} else {
			hist = append(hist, h)
		}
	}
	return cur, hist
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, t.UnixNano())
}

// byteReader reads the fields of small records (policies, roles, meta).
type byteReader struct {
	b   []byte
	pos int
}

func (r *byteReader) uvarint() uint64 {
	x, w := binary.Uvarint(r.b[r.pos:])
	if w <= 0 {
		corrupt("bad number in record")
	}
	r.pos += w
	return x
}

func (r *byteReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.pos) {
		corrupt("bad string in record")
	}
	s := string(r.b[r.pos : r.pos+int(n)])
	r.pos += int(n)
	return s
}

func (r *byteReader) byte() byte {
	if r.pos >= len(r.b) {
		corrupt("short record")
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *byteReader) done() bool { return r.pos >= len(r.b) }

// Policy record: identity, then min length, history, lifetime, max logon
// attempts (uvarints), allow-common-patterns (1 byte), description.
func encodePolicy(p store.Policy) []byte {
	b := appendStr(nil, p.Identity)
	for _, n := range [...]int{p.MinPasswordLength, p.PinHistoryCount, p.PinLifetime, p.MaximumLogonAttempts} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	var allow byte
	if p.AllowCommonPatterns {
		allow = 1
	}
	b = append(b, allow)
	return appendStr(b, p.Description)
}

func decodePolicy(v []byte) store.Policy {
	r := byteReader{b: v}
	p := store.Policy{Identity: r.str()}
	p.MinPasswordLength = int(r.uvarint())
	p.PinHistoryCount = int(r.uvarint())
	p.PinLifetime = int(r.uvarint())
	p.MaximumLogonAttempts = int(r.uvarint())
	p.AllowCommonPatterns = r.byte() == 1
	p.Description = r.str()
	return p
}

// Role record: identity, template, uvarint member count, members. The
// builtins are not stored: a standard role's come from the code, a custom
// role's from its template.
func encodeRole(identity, template string, members []string) []byte {
	b := appendStr(nil, identity)
	b = appendStr(b, template)
	b = binary.AppendUvarint(b, uint64(len(members)))
	for _, m := range members {
		b = appendStr(b, m)
	}
	return b
}

func decodeRole(v []byte) (identity, template string, members []string) {
	r := byteReader{b: v}
	identity, template = r.str(), r.str()
	n := r.uvarint()
	if n > uint64(len(v)) {
		corrupt("bad role record")
	}
	for range n {
		members = append(members, r.str())
	}
	return identity, template, members
}
