package builtins

import (
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
)

// TestRecordFieldOrder checks the lazy records' field functions against
// their schemas: every field of a full record has the value of its name.
func TestRecordFieldOrder(t *testing.T) {
	u := userRecord(store.User{ID: 7, SipAddress: "sip:a@x.com", DisplayName: "A", UserPrincipalName: "a@x.com",
		SamAccountName: "a", Domain: "x", DistinguishedName: "CN=A,DC=x", Enabled: true, RegistrarPool: "pool",
		LineURI: "tel:+1", EnterpriseVoiceEnabled: true, Site: "S", PinPolicy: "P",
		Title: "T", Department: "D", City: "C", Company: "Co", Mail: "m@x.com", GivenName: "G", Surname: "Sn",
		TelephoneNumber: "+1 425", MemberOf: []string{"CN=G1,DC=x", "CN=G2,DC=x"}})
	want := map[string]string{
		"identity": `"sip:a@x.com"`, "sip_address": `"sip:a@x.com"`, "display_name": `"A"`, "user_principal_name": `"a@x.com"`,
		"sam_account_name": `"a"`, "domain": `"x"`, "distinguished_name": `"CN=A,DC=x"`, "enabled": "true",
		"registrar_pool": `"pool"`, "line_uri": `"tel:+1"`, "enterprise_voice_enabled": "true", "site": `"S"`, "pin_policy": `"P"`,
		"title": `"T"`, "department": `"D"`, "city": `"C"`, "company": `"Co"`, "mail": `"m@x.com"`, "given_name": `"G"`,
		"surname": `"Sn"`, "telephone_number": `"+1 425"`, "member_of": `["CN=G1,DC=x", "CN=G2,DC=x"]`,
	}
	for _, f := range userSchema.Fields() {
		if got := u.Get(f).String(); got != want[f] {
			t.Errorf("user.%s = %s, want %s", f, got, want[f])
		}
	}
	now := time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)
	p := pinInfoRecord(store.PinInfo{ID: 7, Identity: "sip:a@x.com", DisplayName: "A", IsSet: true,
		LockedBy: store.LockedBySystem, LastChange: now.Add(-time.Hour), Expires: now.Add(-time.Minute),
		GlobalFailures: 3, TempLockUntil: now.Add(time.Hour)}, now)
	wantPin := map[string]string{
		"identity": `"sip:a@x.com"`, "display_name": `"A"`, "is_pin_set": "true", "is_locked_out": "true",
		"locked_by": `"system"`, "is_pin_expired": "true", "last_pin_change_time": "2010-09-02T11:00:00Z",
		"pin_expiration_time": "2010-09-02T11:59:00Z", "failed_attempts": "3", "temporarily_locked_until": "2010-09-02T13:00:00Z",
	}
	for _, f := range pinInfoSchema.Fields() {
		if got := p.Get(f).String(); got != wantPin[f] {
			t.Errorf("pin_info.%s = %s, want %s", f, got, wantPin[f])
		}
	}
	if ref, ok := refOf(p.Payload()); !ok || ref.id != 7 || ref.identity != "sip:a@x.com" {
		t.Errorf("payload %v", p.Payload())
	}
}
