package importfmt

import (
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Format
		err  string
	}{
		{"users.csv", "anything", CSV, ""},
		{"USERS.CSV", "", CSV, ""},
		{"users.jsonl", "", JSONLines, ""},
		{"users.ndjson", `{"a":1}`, JSONLines, ""},
		{"users.json", "\n  {\"a\":1}", JSONLines, ""},
		{"users.ldif", "", LDIF, ""},
		{"export.LDF", "", LDIF, ""},
		{"users.txt", "\n\n{\"sip_address\":\"a@b.c\"}\n", JSONLines, ""},
		{"users", "version: 1\n\ndn: CN=A\n", LDIF, ""},
		{"users", "# ldifde export\n#\nDN: CN=A\n", LDIF, ""},
		{"users", "\ufeffdn: CN=A\n", LDIF, ""},
		{"users", "\ufeff#TYPE Microsoft.Rtc.Management.ADConnect.Schema.OCSADUser\n\"Identity\"\n", CSV, ""},
		{"users", "sip_address,display_name\r\nsip:a@b.c,A\r\n", CSV, ""},
		{"users", `"SipAddress","DisplayName"`, CSV, ""},
		{"users.dat", "DN,objectClass,msRTCSIP-PrimaryUserAddress\n", CSV, ""},
		{"-", string(utf16Bytes("displayName,mail\r\n", false)), CSV, ""},
		{"-", string(utf16Bytes("dn: CN=A\r\n", true))[:9], LDIF, ""},

		{"users.json", " [\n{\"a\":1}]", 0, "users.json holds a JSON array; pinsh imports JSON Lines, one object per line (convert with: jq -c '.[]' users.json)"},
		{"users.txt", "[{\"a\":1}]", 0, "users.txt holds a JSON array"},
		{"users.txt", "pager,phone\n", 0, "cannot tell the format of users.txt: name it by its format; supported formats are CSV with a header line (.csv), JSON Lines (.jsonl, .ndjson, .json) and LDIF (.ldif, .ldf)"},
		{"users.txt", "", 0, "cannot tell the format of users.txt"},
		{"users.txt", "# just a comment\n", 0, "cannot tell the format"},
		{"users.txt", "\"unclosed,sip_address\n", 0, "cannot tell the format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectFormat(tt.name, []byte(tt.head))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("DetectFormat(%q, %q) = %v, %v; want error %q", tt.name, tt.head, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("DetectFormat(%q, %q) = %v, %v; want %v", tt.name, tt.head, got, err, tt.want)
			}
		})
	}
}
