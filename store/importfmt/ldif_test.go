package importfmt

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
)

// ldifdeExport is shaped like `ldifde -f users.ldf -r "(msRTCSIP-UserEnabled=*)"`
// output: CRLF line ends, a blank line before each record, changetype: add,
// long values folded at 79 characters, non-ASCII values in base64.
var ldifdeExport = strings.ReplaceAll(`
dn: CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com
changetype: add
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Ken Myer
sn: Myer
title: Manager
telephoneNumber: +1 (425) 555-0100
givenName: Ken
distinguishedName: CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com
memberOf: CN=Finance,OU=Groups,DC=litwareinc,DC=com
memberOf: CN=Managers,OU=Groups,DC=litwareinc,DC=com
displayName: Ken Myer
department: Finance
company: Litware, Inc.
l: Redmond
mail: kenmyer@litwareinc.com
distinguishedName: CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com
sAMAccountName: kenmyer
userPrincipalName: kenmyer@litwareinc.com
msRTCSIP-PrimaryUserAddress: sip:kenmyer@litwareinc.com
msRTCSIP-Line: tel:+14255550100;ext=100
msRTCSIP-UserEnabled: TRUE
msRTCSIP-OptionFlags: 385
msRTCSIP-PrimaryHomeServer: 
 CN=Lc Services,CN=Microsoft,CN=1:1,CN=Pools,CN=RTC Service,CN=Microsoft,CN=Sy
 stem,DC=litwareinc,DC=com

dn:: Q049Wm/DqyBOZyxPVT1SZWRtb25kLERDPWxpdHdhcmVpbmMsREM9Y29t
changetype: add
displayName:: Wm/DqyBOZw==
sAMAccountName: zoe
msRTCSIP-PrimaryUserAddress: sip:zoe@litwareinc.com
msRTCSIP-UserEnabled: FALSE
`, "\n", "\r\n")

const zoeDN = "CN=Zoë Ng,OU=Redmond,DC=litwareinc,DC=com"

func TestLDIF(t *testing.T) {
	kenLDIF := store.User{
		SipAddress:        "sip:kenmyer@litwareinc.com",
		DisplayName:       "Ken Myer",
		UserPrincipalName: "kenmyer@litwareinc.com",
		SamAccountName:    "kenmyer",
		DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",
		Enabled:           true,
		RegistrarPool:     "CN=Lc Services,CN=Microsoft,CN=1:1,CN=Pools,CN=RTC Service,CN=Microsoft,CN=System,DC=litwareinc,DC=com",
		LineURI:           "tel:+14255550100;ext=100",
		Title:             "Manager",
		Department:        "Finance",
		City:              "Redmond",
		Company:           "Litware, Inc.",
		Mail:              "kenmyer@litwareinc.com",
		GivenName:         "Ken",
		Surname:           "Myer",
		TelephoneNumber:   "+1 (425) 555-0100",
		MemberOf:          []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com", "CN=Managers,OU=Groups,DC=litwareinc,DC=com"},
	}
	zoe := store.User{SipAddress: "sip:zoe@litwareinc.com", DisplayName: "Zoë Ng", SamAccountName: "zoe", DistinguishedName: zoeDN}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{"ldifde export", ldifdeExport, []want{{line: 2, user: kenLDIF}, {line: 32, user: zoe}}},
		{"LF, version, comments, no final newline", "version: 1\n# exported by hand\n#  folded\n  comment\n\n\n" +
			"# Ken\ndn: CN=Ken\nsip_address: sip:k@l.m\n\n\n\ndn: CN=Zoe\n# a comment inside\ndisplay_name: Zo\n e\nsite:   Redmond",
			[]want{
				{line: 8, user: store.User{DistinguishedName: "CN=Ken", SipAddress: "sip:k@l.m", Enabled: true}},
				{line: 13, user: store.User{DistinguishedName: "CN=Zoe", DisplayName: "Zoe", Site: "Redmond", Enabled: true}},
			}},
		{"version line right before the first record", "version: 1\ndn: CN=A\ndisplayName: A\n",
			[]want{{line: 2, user: store.User{DistinguishedName: "CN=A", DisplayName: "A", Enabled: true}}}},
		{"version only read first", "dn: CN=A\n\nversion: 1\n",
			[]want{
				{line: 1, user: store.User{DistinguishedName: "CN=A", Enabled: true}},
				{line: 3, err: `line 3: the record starts with "version", not dn:; every record starts with its dn: line`},
			}},
		{"only version and comments", "version: 1\n\n# nothing\n", nil},
		{"empty", "", nil},
		{"base64 with options and folding", "dn:: " + b64("CN=Ann") + "\ndisplayName;lang-en:: " + b64("Ann ")[:4] + "\n " + b64("Ann ")[4:] + "\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=Ann", DisplayName: "Ann", Enabled: true}}}},
		{"URL value of an ignored attribute", "dn: CN=A\njpegPhoto:< file:///tmp/a.jpg\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=A", Enabled: true}}}},
		{"a single-valued attribute repeated with another value", "dn: CN=A\ndisplayName: One\ndisplayName: Two\n\ndn: CN=B\n",
			[]want{{line: 1, err: `line 3: displayName "Two" differs from displayName "One" on line 2; a user has one display_name: keep one`},
				{line: 5, user: store.User{DistinguishedName: "CN=B", Enabled: true}}}},
		{"two spellings with other values", "dn: CN=A\nsip_address: sip:a@b.c\nobjectClass: user\nSipAddress: sip:b@b.c\n",
			[]want{{line: 1, err: `line 4: SipAddress "sip:b@b.c" differs from sip_address "sip:a@b.c" on line 2; a user has one sip_address: keep one`}}},
		{"a repeated value, base64 or not", "dn: CN=A\ndisplayName: One\ndisplayName:: " + b64("One") + "\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=A", DisplayName: "One", Enabled: true}}}},
		{"multi-valued attributes repeat, a single-valued one may not", "dn: CN=A\nobjectClass: top\nobjectClass: user\nproxyAddresses: SIP:a@b.c\nproxyAddresses: smtp:a@b.c\nmsRTCSIP-UserEnabled: TRUE\nmsRTCSIP-UserEnabled: FALSE\n",
			[]want{{line: 1, err: `line 7: msRTCSIP-UserEnabled "FALSE" differs from msRTCSIP-UserEnabled "TRUE" on line 6; a user has one enabled: keep one`}}},
		{"dn and distinguishedName of different values", "dn: CN=A\ndistinguishedName: CN=B\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=B", Enabled: true}}}},

		{"record without dn", "displayName: A\n\ndn: CN=B\n",
			[]want{
				{line: 1, err: `line 1: the record starts with "displayName", not dn:`},
				{line: 3, user: store.User{DistinguishedName: "CN=B", Enabled: true}},
			}},
		{"changetype modify", "dn: CN=A\nchangetype: modify\nreplace: displayName\ndisplayName: B\n-\n\ndn: CN=C\nchangetype: ADD\n",
			[]want{
				{line: 1, err: `line 2: changetype "modify" is not supported; import add records, as ldifde -f exports them`},
				{line: 7, user: store.User{DistinguishedName: "CN=C", Enabled: true}},
			}},
		{"bad base64", "dn: CN=A\ndisplayName:: ***\n\ndn: CN=B\n",
			[]want{
				{line: 1, err: "line 2: displayName: the base64 value after :: does not decode: illegal base64 data at input byte 0"},
				{line: 4, user: store.User{DistinguishedName: "CN=B", Enabled: true}},
			}},
		{"bad base64 dn", "dn:: ***\n", []want{{line: 1, err: "line 1: dn: the base64 value after :: does not decode"}}},
		{"line without a colon", "dn: CN=A\nsn Myer\n", []want{{line: 1, err: `line 2: expected attribute: value, found "sn Myer"`}}},
		{"line starting with a colon", ":x\n", []want{{line: 1, err: `line 1: expected attribute: value, found ":x"`}}},
		{"URL value of a known attribute", "dn: CN=A\ndisplayName:< file:///etc/passwd\n",
			[]want{{line: 1, err: "line 2: displayName: values read from a URL (attribute:< URL) are not supported"}}},
		{"URL dn", "dn:< file:///x\n", []want{{line: 1, err: "line 1: dn: values read from a URL"}}},
		{"continuation with nothing before", " CN=A\ndn: CN=A\n\ndn: CN=B\n",
			[]want{
				{line: 1, err: "line 1 starts with a space, so it continues a line, but there is none before it"},
				{line: 4, user: store.User{DistinguishedName: "CN=B", Enabled: true}},
			}},
		{"unknown attributes are ignored", "dn: CN=A\nextensionAttribute7: x\nst: WA\nmsExchHomeServerName: y\nmember: CN=B\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=A", Enabled: true}}}},
		{"memberOf takes a group per line, escapes kept", "dn: CN=A\nmemberOf: CN=Finance,OU=Groups,DC=x\nmember_of: CN=Smith\\, Jones\\; Partners,DC=x\nmemberOf::  " + b64("CN=Zoë's,DC=x") + "\n",
			[]want{{line: 1, user: store.User{DistinguishedName: "CN=A", Enabled: true,
				MemberOf: []string{"CN=Finance,OU=Groups,DC=x", `CN=Smith\, Jones\; Partners,DC=x`, "CN=Zoë's,DC=x"}}}}},
		{"attributes given twice with other values", "dn: CN=A\nl: Redmond\ncity: Dublin\n",
			[]want{{line: 1, err: `line 3: city "Dublin" differs from l "Redmond" on line 2; a user has one city: keep one`}}},
		{"a misspelt attribute is refused", "dn: CN=A\ndisplayNam: Ann\n\ndn: CN=B\nmsRTCSIP-PrimaryUserAdress: sip:b@x.y\n\ndn: CN=C\n",
			[]want{
				{line: 1, err: `line 2: unknown attribute "displayNam"; did you mean display_name?`},
				{line: 4, err: `line 5: unknown attribute "msRTCSIP-PrimaryUserAdress"; did you mean msRTCSIP-PrimaryUserAddress?`},
				{line: 7, user: store.User{DistinguishedName: "CN=C", Enabled: true}},
			}},
		{"a PIN attribute is refused", "dn: CN=A\npin: 12345\n",
			[]want{{line: 1, err: `line 2: attribute "pin": pinsh does not import PINs`}}},
		{"a misspelt attribute read from a URL", "dn: CN=A\ndisplayNam:< file:///x\n",
			[]want{{line: 1, err: `line 2: unknown attribute "displayNam"`}}},
		{"bad boolean", "dn: CN=A\nmsRTCSIP-UserEnabled: maybe\n",
			[]want{{line: 1, err: `line 2: msRTCSIP-UserEnabled: "maybe" is not a boolean`}}},
		{"SIP address without @", "dn: CN=A\nmsRTCSIP-PrimaryUserAddress: sip:a\n",
			[]want{{line: 1, err: `msRTCSIP-PrimaryUserAddress: "sip:a" is not a SIP address`}}},
		{"not UTF-8", "dn: CN=A\ndisplayName:: " + b64("Jos\xe9") + "\n",
			[]want{{line: 1, err: "line 2: displayName is not valid UTF-8 text"}}},
		{"line too long", "dn: CN=A\ndescription: " + strings.Repeat("x", MaxRecordBytes) + "\nsn: x\n\ndn: CN=B\n",
			[]want{
				{line: 1, err: "line 2 is longer than 1048576 bytes"},
				{line: 5, user: store.User{DistinguishedName: "CN=B", Enabled: true}},
			}},
		{"record too long", "dn: CN=A\n" + strings.Repeat("description: "+strings.Repeat("x", 1000)+"\n", MaxRecordBytes/1000) + "\ndn: CN=B\n",
			[]want{
				{line: 1, err: "the record is longer than 1048576 bytes"},
				{line: MaxRecordBytes/1000 + 3, user: store.User{DistinguishedName: "CN=B", Enabled: true}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRows(t, parse(t, tt.input, LDIF), tt.want)
		})
	}
}

func TestLDIFUTF16(t *testing.T) {
	var rows []Row
	for r := range Rows(bytes.NewReader(utf16Bytes(ldifdeExport, false)), LDIF) {
		rows = append(rows, r)
	}
	if len(rows) != 2 || rows[1].Err != nil || rows[1].User.DistinguishedName != zoeDN {
		t.Fatalf("rows %+v", rows)
	}
}

// FuzzLDIF checks that the LDIF parser never panics and that line numbers
// only go forward.
func FuzzLDIF(f *testing.F) {
	for _, s := range []string{
		ldifdeExport,
		"version: 1\ndn: CN=A\n x\n\n",
		" \n#\n \ndn:: ***\n",
		"dn: x\nchangetype: modify\n-\n",
		"dn:< u\nx:< y\n:\n",
		"\xff\xfedn\x00:\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		last := 0
		for r := range Rows(bytes.NewReader(data), LDIF) {
			if r.Line <= last {
				t.Fatalf("row on line %d after line %d", r.Line, last)
			}
			last = r.Line
			checkFuzzRow(t, r)
		}
	})
}

// FuzzJSONLines checks that the JSON Lines parser never panics.
func FuzzJSONLines(f *testing.F) {
	for _, s := range []string{`{"sip_address":"a@b","enabled":"yes"}`, "{}\n[]\n", `{"a":{"b":[1,{}]}}`, "{\"enabled\":1e999}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		last := 0
		for r := range Rows(bytes.NewReader(data), JSONLines) {
			if r.Line <= last {
				t.Fatalf("row on line %d after line %d", r.Line, last)
			}
			last = r.Line
			checkFuzzRow(t, r)
		}
	})
}
