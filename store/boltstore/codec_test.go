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
		if got != u {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, u)
		}
		sip, disp, en := decodeUserHead(u.ID, string(encodeUser(nil, &u)))
		if sip != u.SipAddress || disp != u.DisplayName || en != u.Enabled {
			t.Errorf("head = %q %q %v", sip, disp, en)
		}
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
