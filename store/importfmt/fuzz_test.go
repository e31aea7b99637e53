package importfmt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

// Fuzz targets of the import parsers: FuzzCSV, FuzzJSONLines and FuzzLDIF
// (with their tests) and FuzzDetectFormat here. Their seeds run in go test
// ./...; to fuzz longer: go test -fuzz FuzzCSV -fuzztime 3m ./store/importfmt

// importSeeds are files of each format, good and broken, under any name.
var importSeeds = []string{
	"sip_address,display_name,sam_account_name,domain\nsip:anna@fabrikam.com,Anna Lee,anna,fabrikam\nnot-an-address,Bad,bad,fabrikam\n",
	"#TYPE Microsoft.Rtc.Management.ADConnect.Schema.OCSADUser\n\"SipAddress\",\"DisplayName\",\"Enabled\"\n\"sip:ken@x.com\",\"Ken \"\"K\"\" Myer\",\"True\"\n",
	"msRTCSIP-PrimaryUserAddress,telephoneNumber,enabled\r\nsip:a@x.com,+1 (425) 555-0100,yes\r\nsip:b@x.com,555-CALL,maybe\r\n",
	"sip_address\n\"unclosed,quote\n",
	"sip_address,display_name\nsip:a@x.com\nsip:b@x.com,B,extra\n",
	"{\"sip_address\": \"sip:carl@fabrikam.com\", \"display_name\": \"Carl Dorn\", \"enabled\": true}\n{\"sip_address\": 5}\n{bad json\n",
	"{\"SipAddress\":\"sip:a@x.com\",\"EnterpriseVoiceEnabled\":\"no\",\"LineURI\":\"tel:+14255550100;ext=100\"}\n[1,2]\n",
	"version: 1\n\n# comment\ndn: CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com\nchangetype: add\nmsRTCSIP-PrimaryUserAddress: sip:kenmyer@litwareinc.com\ndisplayName: Ken Myer\n\ndn: CN=Bad\nchangetype: delete\n",
	"dn:: Q049S2VuLERDPXg=\ndisplayName:: S2VuIE15ZXI=\n msRTCSIP-PrimaryUserAddress: continued\nmsRTCSIP-PrimaryUserAddress: sip:k@x.com\n",
	"\xef\xbb\xbfsip_address\nsip:bom@x.com\n",
	"\xff\xfes\x00i\x00p\x00_\x00a\x00d\x00d\x00r\x00e\x00s\x00s\x00\n\x00",
	"\xfe\xff\x00{\x00}",
	"",
	"\n\n\n",
	"sip_address\n\xff\xfe\xfd\n",
	// directory attributes, memberOf's ';' and '\' escapes included
	"msRTCSIP-PrimaryUserAddress,title,department,l,sn,memberOf\nsip:a@x.com,Manager,Finance,Dublin,Lee,\"CN=G\\;1,DC=x;;CN=G2,DC=x\\\"\n",
	"{\"sip_address\":\"sip:a@x.com\",\"memberOf\":[\"CN=G1,DC=x\",\"CN=G2\\\\;x\"],\"givenName\":\"Ann\",\"telephone_number\":\"+1\"}\n{\"memberOf\":[1]}\n",
	"dn: CN=A\nmemberOf: CN=G1,DC=x\nmemberOf:: Q049RzIsREM9eA==\nl: Redmond\ncity: Dublin\n\ndn: CN=B\nmember: CN=C\n",
}

// checkFuzzRow fails the fuzz targets of the parsers (FuzzCSV, FuzzLDIF,
// FuzzJSONLines) on a bad row that carries a user, or whose message is so
// long that it must echo input no one cut.
func checkFuzzRow(t *testing.T, r Row) {
	t.Helper()
	if r.Err == nil {
		return
	}
	if !r.User.Equal(store.User{}) {
		t.Fatalf("line %d: a bad row with a user: %+v", r.Line, r)
	}
	if msg := r.Err.Error(); len(msg) > 2048 {
		t.Fatalf("line %d: a message of %d bytes: %.200s...", r.Line, len(msg), msg)
	}
}

// FuzzDetectFormat tells the format of any name and head: no panic, a
// format or an error that names the supported ones; the format found then
// parses the head without a panic.
func FuzzDetectFormat(f *testing.F) {
	for _, s := range importSeeds {
		for _, name := range []string{"users.csv", "users.jsonl", "users.ldf", "users.txt", "USERS.JSON", "noext"} {
			f.Add(name, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, name string, head []byte) {
		fm, err := DetectFormat(name, head)
		if err != nil {
			if !strings.Contains(err.Error(), "format") && !strings.Contains(err.Error(), "JSON array") {
				t.Fatalf("DetectFormat(%q): %v", name, err)
			}
			return
		}
		if fm != CSV && fm != JSONLines && fm != LDIF {
			t.Fatalf("DetectFormat(%q) = %v", name, fm)
		}
		for range Rows(bytes.NewReader(head), fm) {
		}
	})
}
