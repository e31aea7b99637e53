package boltstore

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
)

func TestUserCodec(t *testing.T) {
	for _, u := range []store.User{
		{ID: 7, SipAddress: "sip:ken@x.com", UserPrincipalName: "ken@x.com", DisplayName: "Ken", Enabled: true},
		{ID: 8, SipAddress: "sip:a@b", UserPrincipalName: "A@corp.b", SamAccountName: "a", Domain: "corp",
			DistinguishedName: "CN=A,DC=b", RegistrarPool: "pool", LineURI: "tel:+1;ext=1", Site: "S",
			PinPolicy: "P", EnterpriseVoiceEnabled: true},
	} {
		got := decodeUser(u.ID, encodeUser(nil, &u))
		if !got.Equal(u) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, u)
		}
		sip, disp, en := decodeUserHead(u.ID, encodeUser(nil, &u))
		if sip != u.SipAddress || disp != u.DisplayName || en != u.Enabled {
			t.Errorf("head = %q %q %v", sip, disp, en)
		}
	}
}

// schema2KenRecord is Ken Myer's record as schema version 2 wrote it,
// before records could carry directory attributes.
const schema2KenRecord = "\a\x1asip:kenmyer@litwareinc.com\bKen Myer\akenmyer\nlitwareinc+CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com" +
	"\x15pool01.litwareinc.com\x18tel:+14255550101;ext=101\aRedmond\bExpire30"

func TestUserCodecAttributes(t *testing.T) {
	// A record without attributes reads, and one is written, as before.
	if got := decodeUser(1, []byte(schema2KenRecord)); !got.Equal(schema2Ken) {
		t.Errorf("schema 2 record:\n got %+v\nwant %+v", got, schema2Ken)
	}
	if got := string(encodeUser(nil, &schema2Ken)); got != schema2KenRecord {
		t.Errorf("a user without attributes encodes as %q; want the schema 2 record", got)
	}
	full := schema2Ken
	full.Title, full.Department, full.City, full.Company = "Manager", "Finance", "Dublin", "Litware, Inc."
	full.Mail, full.GivenName, full.Surname, full.TelephoneNumber = "ken@litwareinc.com", "Ken", "Myer", "+1 (425) 555-0101"
	full.MemberOf = []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com", "CN=All Staff,OU=Groups,DC=litwareinc,DC=com"}
	for _, u := range []store.User{
		full,
		{ID: 2, SipAddress: "sip:a@b", UserPrincipalName: "a@b", Surname: "Smith"},
		{ID: 3, SipAddress: "sip:a@b", MemberOf: []string{"CN=G,DC=b"}},
		{ID: 4, SipAddress: "sip:a@b", TelephoneNumber: "+1 425 555 0100", Enabled: true},
	} {
		rec := encodeUser(nil, &u)
		if got := decodeUser(u.ID, rec); !got.Equal(u) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, u)
		}
		if sip, disp, en := decodeUserHead(u.ID, rec); sip != u.SipAddress || disp != u.DisplayName || en != u.Enabled {
			t.Errorf("head = %q %q %v", sip, disp, en)
		}
		if sip := decodeSIP(u.ID, rec); sip != u.SipAddress {
			t.Errorf("decodeSIP = %q", sip)
		}
	}
	// Damage is found, not read as fewer groups or fewer fields.
	rec := encodeUser(nil, &full)
	noGroups := encodeUser(nil, &store.User{SipAddress: "sip:a@b", Title: "t"}) // ends in a group count of 0
	for name, bad := range map[string][]byte{
		"trailing bytes":     append(append([]byte(nil), rec...), 0),
		"trailing on old":    append([]byte(schema2KenRecord), 'x'),
		"cut group":          rec[:len(rec)-3],
		"huge group count":   append(noGroups[:len(noGroups)-1:len(noGroups)-1], 0xff, 0xff, 0x03),
		"attributes missing": append([]byte{userAttrs}, encodeUser(nil, &store.User{SipAddress: "sip:a@b"})[1:]...),
	} {
		func() {
			defer func() {
				if _, ok := recover().(corruptError); !ok {
					t.Errorf("%s: decoded without a corruptError", name)
				}
			}()
			decodeUser(9, bad)
		}()
	}
}

func TestPinCodec(t *testing.T) {
	t0 := time.Date(2010, 9, 2, 12, 0, 0, 123, time.UTC)
	for _, st := range []store.PinState{
		{},
		{IsSet: true, Length: 5, LastChange: t0},
		{IsSet: true, LockedBy: store.LockedBySystem, Length: 24, LastChange: t0, Expires: t0.Add(time.Hour),
			LocalFailures: 3, GlobalFailures: 5000, WindowStart: t0.Add(-time.Minute), TempLockUntil: t0.Add(time.Hour)},
		{LockedBy: store.LockedByAdmin, LastChange: t0},
	} {
		var got store.PinState
		decodePin(encodePin(nil, &st), &got)
		if !reflect.DeepEqual(got, st) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, st)
		}
	}
	cur, hist := decodeHashes(encodeHashes(nil, []byte("h1"), [][]byte{[]byte("h0"), []byte("h-1")}))
	if string(cur) != "h1" || len(hist) != 2 || string(hist[1]) != "h-1" {
		t.Errorf("hashes = %q %q", cur, hist)
	}
	if cur, hist := decodeHashes(encodeHashes(nil, nil, nil)); len(cur) != 0 || hist != nil {
		t.Errorf("empty hashes = %q %q", cur, hist)
	}
}

func TestPolicyRoleCodec(t *testing.T) {
	p := store.Policy{Identity: "tag:x", MinPasswordLength: 6, PinHistoryCount: 2, PinLifetime: 30,
		AllowCommonPatterns: true, MaximumLogonAttempts: 3, Description: "d"}
	if got := decodePolicy(encodePolicy(p)); got != p {
		t.Errorf("policy round trip %+v", got)
	}
	id, tmpl, members := decodeRole(encodeRole("R", "CsHelpDesk", []string{"a", "b"}))
	if id != "R" || tmpl != "CsHelpDesk" || !reflect.DeepEqual(members, []string{"a", "b"}) {
		t.Errorf("role round trip %q %q %q", id, tmpl, members)
	}
}

func TestAuditCodec(t *testing.T) {
	t0 := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	entries := []store.AuditEntry{
		{Time: t0, Operator: "admin", Action: "lock_pin", Target: "sip:user0000001@contoso.com", Outcome: "ok"},
		{Time: t0, Operator: "admin", Action: "lock_pin", Target: "sip:user0000002@contoso.com", Outcome: "ok"},
		{Time: t0.Add(-time.Second), Operator: "bob", Action: "set_pin", Target: "", Outcome: "failed", Detail: "too short"},
		{Time: t0.Add(time.Hour), Operator: "bob", Action: "set_pin", Target: "sip:a@b", Outcome: "failed"},
	}
	var b []byte
	var prev store.AuditEntry
	for i := range entries {
		entries[i].Seq = uint64(10 + i)
		b = appendAuditEntry(b, &prev, &entries[i])
		prev = entries[i]
	}
	var got []store.AuditEntry
	decodeAuditBlock(10, b, func(e *store.AuditEntry) bool { got = append(got, *e); return true })
	if !reflect.DeepEqual(got, entries) {
		t.Errorf("audit round trip:\n got %+v\nwant %+v", got, entries)
	}
	// The check's walk, which makes no strings, finds what decoding finds:
	// every cut of the block, and every byte changed, fails both or
	// neither.
	fails := func(text bool, v []byte) (failed bool) {
		defer func() { failed = recover() != nil }()
		n := 0
		walkAuditBlock(10, v, text, func(e *store.AuditEntry) bool { n++; return true })
		return false
	}
	for i := range len(b) {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x81
		for _, v := range [][]byte{b[:i], bad} {
			if fails(true, v) != fails(false, v) {
				t.Errorf("%x: decoding fails %v, the check's walk %v", v, fails(true, v), fails(false, v))
			}
		}
	}
	// A bulk change costs a few bytes per entry.
	b, prev = nil, store.AuditEntry{}
	for i := range 1000 {
		e := store.AuditEntry{Time: t0, Operator: "admin", Action: "lock_pin", Target: fmt.Sprintf("sip:user%07d@contoso.com", i), Outcome: "ok"}
		b = appendAuditEntry(b, &prev, &e)
		prev = e
	}
	if per := float64(len(b)) / 1000; per > 8 {
		t.Errorf("%.1f bytes per bulk entry", per)
	}
}
