package importfmt

import (
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

func TestJSONLines(t *testing.T) {
	kenJSON := `{"sip_address":"sip:kenmyer@litwareinc.com","display_name":"Ken Myer","user_principal_name":"kenmyer@litwareinc.com",` +
		`"sam_account_name":"kenmyer","domain":"litwareinc","distinguished_name":"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",` +
		`"enabled":true,"registrar_pool":"pool01.litwareinc.com","line_uri":"tel:+14255550100;ext=100","enterprise_voice_enabled":false,` +
		`"site":"Redmond","pin_policy":"desk","objectClass":["user"],"Guid":"x"}`
	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{"our names", kenJSON + "\n", []want{{line: 1, user: ken}}},
		{"no final newline, CRLF, blank lines", "\r\n\n" + kenJSON + "\r\n  \t\n" + kenJSON,
			[]want{{line: 3, user: ken}, {line: 5, user: ken}}},
		{"directory names", `{"msRTCSIP-PrimaryUserAddress":"sip:a@b.c","userPrincipalName":"a@b.c","sAMAccountName":"a","displayName":"A","distinguishedName":"CN=A","telephoneNumber":"+1 425 555 0100","msRTCSIP-UserEnabled":"FALSE"}`,
			[]want{{line: 1, user: store.User{SipAddress: "sip:a@b.c", UserPrincipalName: "a@b.c", SamAccountName: "a",
				DisplayName: "A", DistinguishedName: "CN=A", TelephoneNumber: "+1 425 555 0100"}}}},
		{"directory attributes", `{"sip_address":"sip:a@b.c","title":"Manager","Department":"Finance","l":"Dublin","company":"Litware","mail":"a@b.c","givenName":"Ann","sn":"Lee","telephone_number":"+1","memberOf":["CN=G1,DC=b","CN=G2\\;x,DC=b"]}` + "\n" +
			`{"sip_address":"sip:d@b.c","member_of":"CN=G1,DC=b;CN=G2,DC=b"}` + "\n" + `{"sip_address":"sip:e@b.c","member_of":[]}`,
			[]want{{line: 1, user: store.User{SipAddress: "sip:a@b.c", Enabled: true, Title: "Manager", Department: "Finance", City: "Dublin",
				Company: "Litware", Mail: "a@b.c", GivenName: "Ann", Surname: "Lee", TelephoneNumber: "+1", MemberOf: []string{"CN=G1,DC=b", `CN=G2\;x,DC=b`}}},
				{line: 2, user: store.User{SipAddress: "sip:d@b.c", Enabled: true, MemberOf: []string{"CN=G1,DC=b", "CN=G2,DC=b"}}},
				{line: 3, user: store.User{SipAddress: "sip:e@b.c", Enabled: true}}}},
		{"wrong types for attributes", `{"title":["Manager"]}` + "\n" + `{"memberOf":["CN=G1,DC=b",7]}` + "\n" + `{"memberOf":{"dn":"CN=G1"}}` + "\n" + `{"memberOf":true}` + "\n" + `{"memberOf":[null]}`,
			[]want{{line: 1, err: `title must be a string, not an array`},
				{line: 2, err: `memberOf must be an array of strings (group DNs), not one holding a number`},
				{line: 3, err: `memberOf must be a string or an array of strings (group DNs), not an object`},
				{line: 4, err: `memberOf must be a string or an array of strings (group DNs), not a boolean`},
				{line: 5, err: `memberOf must be an array of strings (group DNs), not one holding null`}}},
		{"two spellings of an attribute", `{"sn":"Lee","surname":"Lee"}`,
			[]want{{line: 1, err: `keys "sn" and "surname" both give surname; keep one`}}},
		{"PowerShell names", `{"Identity":"CN=A,OU=X","SipAddress":"sip:a@b.c","Enabled":false,"EnterpriseVoiceEnabled":true,"LineURI":null}`,
			[]want{{line: 1, user: store.User{SipAddress: "sip:a@b.c", DistinguishedName: "CN=A,OU=X", EnterpriseVoiceEnabled: true}}}},
		{"booleans as strings", `{"enabled":"no","enterprise_voice_enabled":"Yes"}`,
			[]want{{line: 1, user: store.User{EnterpriseVoiceEnabled: true}}}},
		{"null means absent", `{"enabled":null,"display_name":null}`,
			[]want{{line: 1, user: store.User{Enabled: true}}}},
		{"two spellings of one key", `{"display_name":"","DisplayName":"B","displayName":"C"}`,
			[]want{{line: 1, err: `keys "display_name" and "DisplayName" both give display_name; keep one`}}},
		{"a duplicate key", `{"sip_address":"sip:a@b.c","display_name":"A","display_name":"B"}` + "\n" + `{"sip_address":"sip:d@b.c","display_name":"D"}`,
			[]want{{line: 1, err: `key "display_name" appears twice; keep one`},
				{line: 2, user: store.User{SipAddress: "sip:d@b.c", DisplayName: "D", Enabled: true}}}},
		{"a duplicate key with the same value", `{"site":"Redmond","site":"Redmond"}`,
			[]want{{line: 1, err: `key "site" appears twice; keep one`}}},
		{"a duplicate key with null", `{"enabled":null,"Enabled":false}`,
			[]want{{line: 1, err: `keys "enabled" and "Enabled" both give enabled; keep one`}}},
		{"names of different rank", `{"SipAddress":"sip:a@b.c","msRTCSIP-PrimaryUserAddress":"sip:x@b.c","line_uri":"tel:+1","msRTCSIP-Line":"tel:+2"}`,
			[]want{{line: 1, user: store.User{SipAddress: "sip:a@b.c", LineURI: "tel:+1", Enabled: true}}}},
		{"escapes", `{"display_name":"Zo\u00eb \"Z\" Ng\ud83c\udfa7"}`,
			[]want{{line: 1, user: store.User{DisplayName: `Zoë "Z" Ng🎧`, Enabled: true}}}},
		{"empty object", "{}", []want{{line: 1, user: store.User{Enabled: true}}}},
		{"unknown key", `{"sip_address":"sip:a@b.c","display_nam":"A"}` + "\n" + `{"sip_address":"sip:d@b.c","extra":{"nested":[1]}}`,
			[]want{{line: 1, err: `unknown key "display_nam"; did you mean display_name?`},
				{line: 2, err: `unknown key "extra"; import refuses to guess: the recognised names are sip_address,`}}},
		{"a PIN key", `{"sip_address":"sip:a@b.c","pin":"12345"}` + "\n" + `{"sip_address":"sip:a@b.c","PIN":12345}`,
			[]want{{line: 1, err: `key "pin": pinsh does not import PINs: import the users, then set their PINs with set_pin (generated) or read_pin()`},
				{line: 2, err: `key "PIN": pinsh does not import PINs`}}},

		{"bad JSON", "{\"sip_address\":\"sip:a@b.c\",}\n" + kenJSON,
			[]want{{line: 1, err: "bad JSON: invalid character '}' looking for beginning of object key string"}, {line: 2, user: ken}}},
		{"cut short", `{"sip_address":"sip:a@b.c"` + "\n" + `{"display_name":`,
			[]want{
				{line: 1, err: "bad JSON: the object is cut short; write each object whole on one line"},
				{line: 2, err: "bad JSON: the object is cut short"},
			}},
		{"bad value syntax", `{"display_name":tru}`, []want{{line: 1, err: "bad JSON: invalid character '}' in literal true"}}},
		{"not an object", "[1,2]\n\"x\"\n42\nnull\n",
			[]want{
				{line: 1, err: "expected a JSON object, {...}, on each line"},
				{line: 2, err: "expected a JSON object"},
				{line: 3, err: "expected a JSON object"},
				{line: 4, err: "expected a JSON object"},
			}},
		{"bad first token", "}\n", []want{{line: 1, err: "bad JSON: invalid character '}'"}}},
		{"two objects on a line", `{} {}`, []want{{line: 1, err: "bad JSON: more after the object; write one object per line"}}},
		{"garbage after the object", `{"site":"x"} x`, []want{{line: 1, err: "bad JSON: more after the object"}}},
		{"number for a string", `{"display_name":42}`, []want{{line: 1, err: "display_name must be a string, not a number"}}},
		{"boolean for a string", `{"line_uri":true}`, []want{{line: 1, err: "line_uri must be a string, not a boolean"}}},
		{"object for a string", `{"site":{"name":"x"}}`, []want{{line: 1, err: "site must be a string, not an object"}}},
		{"array for a string", `{"pin_policy":["x"]}`, []want{{line: 1, err: "pin_policy must be a string, not an array"}}},
		{"number for a boolean", `{"enabled":1}`, []want{{line: 1, err: "enabled must be true or false, not a number"}}},
		{"array for a boolean", `{"Enabled":[]}`, []want{{line: 1, err: "Enabled must be true or false, not an array"}}},
		{"bad boolean string", `{"enabled":"sometimes"}`, []want{{line: 1, err: `enabled: "sometimes" is not a boolean`}}},
		{"SIP address without @", `{"sip_address":"kenmyer"}`,
			[]want{{line: 1, err: `sip_address: "kenmyer" is not a SIP address`}}},
		{"line too long", `{"display_name":"` + strings.Repeat("x", MaxRecordBytes) + "\"}\n{}\n",
			[]want{{line: 1, err: "the line is longer than 1048576 bytes"}, {line: 2, user: store.User{Enabled: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRows(t, parse(t, tt.input, JSONLines), tt.want)
		})
	}
}
