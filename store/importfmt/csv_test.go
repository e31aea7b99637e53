package importfmt

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pinsh/pinsh/store"
)

const ourHeader = "sip_address,display_name,user_principal_name,sam_account_name,domain,distinguished_name,enabled,registrar_pool,line_uri,enterprise_voice_enabled,site,pin_policy"

const kenCSV = `sip:kenmyer@litwareinc.com,Ken Myer,kenmyer@litwareinc.com,kenmyer,litwareinc,"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",true,pool01.litwareinc.com,tel:+14255550100;ext=100,false,Redmond,desk`

func TestCSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{"our names", ourHeader + "\n" + kenCSV + "\n", []want{{line: 2, user: ken}}},
		{"no final newline", ourHeader + "\n" + kenCSV, []want{{line: 2, user: ken}}},
		{"CRLF", ourHeader + "\r\n" + kenCSV + "\r\n", []want{{line: 2, user: ken}}},
		{"enabled defaults to true", "sip_address\nkenmyer@litwareinc.com\n",
			[]want{{line: 2, user: store.User{SipAddress: "kenmyer@litwareinc.com", Enabled: true}}}},
		{"empty enabled defaults to true", "sip_address,enabled\nsip:a@b.c,\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true}}}},
		{"booleans", "sip_address,enabled,enterprise_voice_enabled\n" +
			"sip:a@b.c,FALSE,Yes\nsip:d@e.f,no,1\nsip:g@h.i,0,true\nsip:j@k.l, True ,NO\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:a@b.c", EnterpriseVoiceEnabled: true}},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", EnterpriseVoiceEnabled: true}},
				{line: 4, user: store.User{SipAddress: "sip:g@h.i", EnterpriseVoiceEnabled: true}},
				{line: 5, user: store.User{SipAddress: "sip:j@k.l", Enabled: true}},
			}},
		{"csvde names", "DN,objectClass,msRTCSIP-PrimaryUserAddress,userPrincipalName,sAMAccountName,displayName,telephoneNumber,msRTCSIP-UserEnabled,msRTCSIP-PrimaryHomeServer,msRTCSIP-OptionFlags,msRTCSIP-Line\n" +
			`"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",user,sip:kenmyer@litwareinc.com,kenmyer@litwareinc.com,kenmyer,Ken Myer,+1 (425) 555-0100,TRUE,"CN=Lc Services,CN=Microsoft,CN=1:1,CN=Pools",385,` + "\n" +
			`"CN=Pilar Ackerman,OU=Redmond,DC=litwareinc,DC=com",user,sip:pilar@litwareinc.com,pilar@litwareinc.com,pilar,Pilar Ackerman,+14255550101,FALSE,,256,tel:+14255550199;ext=199` + "\n",
			[]want{
				{line: 2, user: store.User{
					SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer",
					UserPrincipalName: "kenmyer@litwareinc.com", SamAccountName: "kenmyer",
					DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", Enabled: true,
					RegistrarPool: "CN=Lc Services,CN=Microsoft,CN=1:1,CN=Pools", TelephoneNumber: "+1 (425) 555-0100"}},
				{line: 3, user: store.User{
					SipAddress: "sip:pilar@litwareinc.com", DisplayName: "Pilar Ackerman",
					UserPrincipalName: "pilar@litwareinc.com", SamAccountName: "pilar",
					DistinguishedName: "CN=Pilar Ackerman,OU=Redmond,DC=litwareinc,DC=com",
					LineURI:           "tel:+14255550199;ext=199", TelephoneNumber: "+14255550101"}},
			}},
		{"PowerShell Export-Csv of Get-CsUser", "\ufeff#TYPE Microsoft.Rtc.Management.ADConnect.Schema.OCSADUser\r\n" +
			`"Identity","SipAddress","DisplayName","Enabled","RegistrarPool","LineURI","EnterpriseVoiceEnabled","SamAccountName","UserPrincipalName"` + "\r\n" +
			`"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com","sip:kenmyer@litwareinc.com","Ken Myer","True","pool01.litwareinc.com","tel:+14255550100;ext=100","False","kenmyer","kenmyer@litwareinc.com"` + "\r\n",
			[]want{{line: 3, user: store.User{
				SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer",
				UserPrincipalName: "kenmyer@litwareinc.com", SamAccountName: "kenmyer",
				DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", Enabled: true,
				RegistrarPool: "pool01.litwareinc.com", LineURI: "tel:+14255550100;ext=100"}}}},
		{"identity as SIP address", "identity,display_name\nsip:kenmyer@litwareinc.com,Ken Myer\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer", Enabled: true}}}},
		{"priorities whatever the column order", "identity,msRTCSIP-PrimaryUserAddress,sip_address,msRTCSIP-Line,line_uri\n" +
			"sip:c@x.y,sip:b@x.y,sip:a@x.y,tel:+2,tel:+3\n" +
			"sip:c@x.y,sip:b@x.y,,tel:+2,\n" +
			"sip:c@x.y,,,,\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:a@x.y", LineURI: "tel:+3", Enabled: true}},
				{line: 3, user: store.User{SipAddress: "sip:b@x.y", LineURI: "tel:+2", Enabled: true}},
				{line: 4, user: store.User{SipAddress: "sip:c@x.y", Enabled: true}},
			}},
		{"dn and distinguishedName: distinguishedName wins", "DN,distinguishedName,sip_address\nCN=A,CN=B,sip:a@b.c\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", DistinguishedName: "CN=B", Enabled: true}}}},
		{"explicit DN beats identity", "identity,dn\nCN=A,CN=B\n",
			[]want{{line: 2, user: store.User{DistinguishedName: "CN=B", Enabled: true}}}},
		// A telephone number is kept as written and never becomes the line.
		{"telephone numbers", "telephoneNumber\n+1 425.555-0100\ntel:+14255550100;ext=7\n555-CALL-NOW\n",
			[]want{
				{line: 2, user: store.User{TelephoneNumber: "+1 425.555-0100", Enabled: true}},
				{line: 3, user: store.User{TelephoneNumber: "tel:+14255550100;ext=7", Enabled: true}},
				{line: 4, user: store.User{TelephoneNumber: "555-CALL-NOW", Enabled: true}},
			}},
		{"csvde directory attributes", "DN,objectClass,msRTCSIP-PrimaryUserAddress,title,department,l,company,mail,givenName,sn,telephoneNumber,memberOf\n" +
			`"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",user,sip:kenmyer@litwareinc.com,Manager,Finance,Redmond,"Litware, Inc.",kenmyer@litwareinc.com,Ken,Myer,+1 (425) 555-0101,"CN=Finance,OU=Groups,DC=litwareinc,DC=com;CN=Managers,OU=Groups,DC=litwareinc,DC=com"` + "\n" +
			`"CN=Jeff Hay,OU=Redmond,DC=litwareinc,DC=com",user,sip:jeffhay@litwareinc.com,,,,,,,,,` + "\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:kenmyer@litwareinc.com", DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",
					Enabled: true, Title: "Manager", Department: "Finance", City: "Redmond", Company: "Litware, Inc.", Mail: "kenmyer@litwareinc.com",
					GivenName: "Ken", Surname: "Myer", TelephoneNumber: "+1 (425) 555-0101",
					MemberOf: []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com", "CN=Managers,OU=Groups,DC=litwareinc,DC=com"}}},
				{line: 3, user: store.User{SipAddress: "sip:jeffhay@litwareinc.com", DistinguishedName: "CN=Jeff Hay,OU=Redmond,DC=litwareinc,DC=com", Enabled: true}},
			}},
		{"pinsh's own attribute names, as export_csv writes them", "sip_address,title,department,city,company,mail,given_name,surname,telephone_number,member_of\n" +
			`sip:a@b.c,Supervisor,Finance,Dublin,Litware,a@b.c,Ann,Lee,+353 1 555 0100," CN=G1\;x\,y,DC=b ; ;CN=G2,DC=b;"` + "\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true, Title: "Supervisor", Department: "Finance", City: "Dublin",
				Company: "Litware", Mail: "a@b.c", GivenName: "Ann", Surname: "Lee", TelephoneNumber: "+353 1 555 0100",
				MemberOf: []string{`CN=G1\;x\,y,DC=b`, "CN=G2,DC=b"}}}}},
		{"Get-CsAdUser names", "SipAddress,FirstName,LastName,WindowsEmailAddress,City\nsip:a@b.c,Ann,Lee,a@b.c,Redmond\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true, GivenName: "Ann", Surname: "Lee", Mail: "a@b.c", City: "Redmond"}}}},
		{"a trailing backslash is not an escape", "sip_address,member_of\nsip:a@b.c,CN=x\\\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true, MemberOf: []string{`CN=x\`}}}}},
		{"unknown columns ignored", "proxyAddresses,sip_address,whenCreated\nSMTP:x@y.z,sip:a@b.c,\"20100902,bad\"\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true}}}},
		{"values trimmed, header names too", " sip_address ,\tdisplay_name\n  sip:a@b.c ,\tAnn Lee\t\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", DisplayName: "Ann Lee", Enabled: true}}}},
		{"blank lines skipped, line numbers kept", "\n\nsip_address\n\nsip:a@b.c\n  \n\t\nsip:d@e.f\n\n",
			[]want{
				{line: 5, user: store.User{SipAddress: "sip:a@b.c", Enabled: true}},
				{line: 8, user: store.User{SipAddress: "sip:d@e.f", Enabled: true}},
			}},
		{"quoted fields", "sip_address,display_name\n\"sip:a@b.c\",\"Ann \"\"Nan\"\" Lee\"\n\"sip:d@e.f\",\"\"\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:a@b.c", DisplayName: `Ann "Nan" Lee`, Enabled: true}},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", Enabled: true}},
			}},
		{"multi-line quoted field", "sip_address,display_name,site\nsip:a@b.c,\"Ann\r\n\r\nLee\",\"Red\nmond\"\nsip:d@e.f,Dan,\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:a@b.c", DisplayName: "Ann\n\nLee", Site: "Red\nmond", Enabled: true}},
				{line: 6, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"header only", ourHeader + "\n", nil},
		{"UTF-8 BOM", "\ufeffsip_address\nsip:a@b.c\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true}}}},
		{"#TYPE only on the first line", "sip_address\n#TYPE x\n",
			[]want{{line: 2, err: "sip_address: \"#TYPE x\" is not a SIP address"}}},

		// Bad rows: reported with their line, skipped whole, parsing goes on.
		{"too few fields", "sip_address,display_name\nsip:a@b.c\nsip:d@e.f,Dan\n",
			[]want{
				{line: 2, err: "the record has 1 fields, the header has 2"},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"too many fields", "sip_address,display_name\nsip:a@b.c,Ann,x\n\"sip:d@e.f\",\"Dan\",\n",
			[]want{
				{line: 2, err: "the record has 3 fields, the header has 2"},
				{line: 3, err: "the record has 3 fields, the header has 2"},
			}},
		{"bad boolean", "sip_address,Enabled\nsip:a@b.c,maybe\nsip:d@e.f,yes\n",
			[]want{
				{line: 2, err: `Enabled: "maybe" is not a boolean; use true/false, yes/no or 1/0`},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", Enabled: true}},
			}},
		{"bad csvde boolean", "msRTCSIP-UserEnabled\n2\n",
			[]want{{line: 2, err: `msRTCSIP-UserEnabled: "2" is not a boolean`}}},
		{"SIP address without @", "sip_address,display_name\nkenmyer,Ken\nsip:@b.c,x\nsip:a@,x\na@b@c,x\n\"a @b\",x\nsip:a@b.c,ok\n",
			[]want{
				{line: 2, err: `sip_address: "kenmyer" is not a SIP address; write it as user@domain, with or without sip:`},
				{line: 3, err: `"sip:@b.c" is not a SIP address`},
				{line: 4, err: `"sip:a@" is not a SIP address`},
				{line: 5, err: `"a@b@c" is not a SIP address`},
				{line: 6, err: `"a @b" is not a SIP address`},
				{line: 7, user: store.User{SipAddress: "sip:a@b.c", DisplayName: "ok", Enabled: true}},
			}},
		{"csvde SIP address without @", "msRTCSIP-PrimaryUserAddress\nsip:kenmyer\n",
			[]want{{line: 2, err: `msRTCSIP-PrimaryUserAddress: "sip:kenmyer" is not a SIP address`}}},
		{"not UTF-8", "sip_address,display_name\nsip:a@b.c,Jos\xe9\nsip:d@e.f,ok\n",
			[]want{
				{line: 2, err: "display_name is not valid UTF-8 text; save the file as UTF-8"},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "ok", Enabled: true}},
			}},
		{"bare quote", "sip_address,display_name\nsip:a@b.c,Ann \"Nan\" Lee\nsip:d@e.f,Dan\n",
			[]want{
				{line: 2, err: `field 2 (display_name): a quote inside an unquoted field; enclose the field in quotes and write the quote as ""`},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"text after closing quote", "sip_address,display_name\n\"sip:a@b.c\"x,Ann\nsip:d@e.f,Dan\n",
			[]want{
				{line: 2, err: `field 1 (sip_address): text after the closing quote; write a quote inside a quoted field as ""`},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"bad row after a multi-line field", "sip_address,display_name\nsip:a@b.c,\"A\nB\"x\nsip:d@e.f,Dan\n",
			[]want{
				{line: 2, err: "field 2 (display_name): text after the closing quote"},
				{line: 4, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"quote never closed", "sip_address,display_name\nsip:d@e.f,Dan\nsip:a@b.c,\"Ann\nLee\n",
			[]want{
				{line: 2, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
				{line: 3, err: "field 2 (display_name): the quote opened on line 3 is never closed"},
			}},
		{"record too long", "sip_address,display_name\nsip:a@b.c," + strings.Repeat("x", MaxRecordBytes) + "\nsip:d@e.f,Dan\n",
			[]want{
				{line: 2, err: "record is longer than 1048576 bytes"},
				{line: 3, user: store.User{SipAddress: "sip:d@e.f", DisplayName: "Dan", Enabled: true}},
			}},
		{"record at the size limit", "display_name\n" + strings.Repeat("x", MaxRecordBytes) + "\r\n",
			[]want{{line: 2, user: store.User{DisplayName: strings.Repeat("x", MaxRecordBytes), Enabled: true}}}},
		{"quote open past the size limit ends the import", "sip_address,display_name\nsip:a@b.c,\"Ann\n" +
			strings.Repeat(strings.Repeat("y", 1000)+"\n", MaxRecordBytes/1000) + "sip:d@e.f,Dan\n",
			[]want{{line: 2, err: "field 2 (display_name): the quote opened on line 2 is still open after 1048576 bytes"}}},
		{"quote open into a too long line ends the import", "sip_address,display_name\nsip:a@b.c,\"Ann\n" +
			strings.Repeat("y", MaxRecordBytes+1) + "\nsip:d@e.f,Dan\n",
			[]want{{line: 2, err: "the quote opened on line 2 is still open after"}}},

		// Whole-file errors.
		{"empty file", "", []want{{line: 1, err: "the file is empty: a CSV import needs a header line"}}},
		{"blank file", "\n \n", []want{{line: 1, err: "the file is empty"}}},
		{"header names nothing we know", "pager,phone\nx@y.z,1\n",
			[]want{{line: 1, err: `the header line "pager,phone" names no user field; the first line must name the columns: sip_address, display_name`}}},
		{"no header", "sip:kenmyer@litwareinc.com,Ken Myer\n",
			[]want{{line: 1, err: "names no user field"}}},
		{"a misspelt column refuses the file", "sip_address,display_nam\nsip:a@b.c,Ann\nsip:d@e.f,Dan\n",
			[]want{{line: 1, err: `header: unknown column "display_nam"; did you mean display_name?; nothing was imported: fix or remove the column`}}},
		{"an unknown column", "sip_address,shoe_size\nsip:a@b.c,9\n",
			[]want{{line: 1, err: `header: unknown column "shoe_size"; import refuses to guess: the recognised names are sip_address,`}}},
		{"only misspelt columns", "sip_adress,display_nam\nsip:a@b.c,Ann\n",
			[]want{{line: 1, err: `unknown column "sip_adress"; did you mean sip_address?; unknown column "display_nam"; did you mean display_name?`}}},
		{"a PIN column", "sip_address,PIN\nsip:a@b.c,12345\n",
			[]want{{line: 1, err: `header: column "PIN": pinsh does not import PINs: import the users, then set their PINs with set_pin (generated) or read_pin()`}}},
		{"a PIN column alone", "Pin\n12345\n",
			[]want{{line: 1, err: `column "Pin": pinsh does not import PINs`}}},
		{"many unknown columns", "sip_address,a1,a2,a3,a4,a5\n",
			[]want{{line: 1, err: `unknown column "a3"; import refuses to guess: the recognised names are sip_address, display_name, user_principal_name, sam_account_name, domain, distinguished_name, enabled, registrar_pool, line_uri, enterprise_voice_enabled, site, pin_policy, identity, title, department, city, company, mail, given_name, surname, telephone_number, member_of, or their csvde/ldifde and PowerShell names (msRTCSIP-PrimaryUserAddress, displayName, dn, msRTCSIP-Line, l, sn, memberOf, ...: go doc ./store/importfmt); the Active Directory attributes import ignores are listed in the README; and 2 more unknown columns`}}},
		{"ignored directory columns", "sip_address,objectClass,whenCreated,msRTCSIP-OptionFlags,Guid\nsip:a@b.c,user,x,385,g\n",
			[]want{{line: 2, user: store.User{SipAddress: "sip:a@b.c", Enabled: true}}}},
		// Two columns for one field: import will not choose.
		{"two spellings of one column", "sip_address,SipAddress,display_name\nnew1@litwareinc.com,new2@litwareinc.com,A\n",
			[]want{{line: 1, err: `header: columns "sip_address" and "SipAddress" both give sip_address; keep one; nothing was imported`}}},
		{"the same column twice", "display_name,display_name,sip_address\nA,B,sip:a@b.c\n",
			[]want{{line: 1, err: `header: column "display_name" appears twice; keep one; nothing was imported`}}},
		{"three spellings", "display_name,DisplayName,displayName\n,Second,Third\n",
			[]want{{line: 1, err: `header: columns "display_name" and "DisplayName" both give display_name; keep one; ` +
				`columns "display_name" and "displayName" both give display_name; keep one; nothing was imported`}}},
		{"duplicate booleans", "sip_address,Enabled,enabled\nsip:a@b.c,true,false\n",
			[]want{{line: 1, err: `header: columns "Enabled" and "enabled" both give enabled; keep one`}}},
		{"two identity columns", "Identity,identity\nsip:a@b.c,sip:d@b.c\n",
			[]want{{line: 1, err: `header: columns "Identity" and "identity" both give sip_address; keep one`}}},
		{"duplicate and unknown columns", "sip_address,sip_address,shoe_size\n",
			[]want{{line: 1, err: `header: unknown column "shoe_size"; import refuses to guess: the recognised names are`}}},
		{"duplicate and unknown columns, both named", "sip_address,sip_address,display_nam\n",
			[]want{{line: 1, err: `header: unknown column "display_nam"; did you mean display_name?; column "sip_address" appears twice; keep one; nothing was imported: fix or remove the column`}}},
		// Columns without a name.
		{"a column without a name", "sip_address,display_name,\nsip:a@b.c,A,\n",
			[]want{{line: 1, err: `header: column 3 has no name: name it or remove it; nothing was imported`}}},
		{"columns without a name", "sip_address, ,display_name,,\nsip:a@b.c,,A,,\n",
			[]want{{line: 1, err: `header: columns 2, 4 and 5 have no name: name them or remove them; nothing was imported`}}},
		{"unnamed and unknown columns", "sip_address,,shoe_size\n",
			[]want{{line: 1, err: `header: column 2 has no name: name it or remove it; unknown column "shoe_size"; import refuses to guess`}}},
		{"only unnamed columns", ",,\na,b,c\n",
			[]want{{line: 1, err: `the header line ",," names no user field`}}},
		{"header syntax error", "\n\"sip_address\"x,display_name\nsip:a@b.c,Ann\n",
			[]want{{line: 2, err: "header: field 1: text after the closing quote"}}},
		{"header too long", "display_name," + strings.Repeat("x", MaxRecordBytes) + "\nAnn,x\n",
			[]want{{line: 1, err: "header: record is longer than"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRows(t, parse(t, tt.input, CSV), tt.want)
		})
	}
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	} else {
		b = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

func TestCSVUTF16(t *testing.T) {
	// Long enough to cross utf16Reader's 4 KiB chunks, with a surrogate
	// pair (an emoji) in every record.
	var sb strings.Builder
	sb.WriteString("sip_address,display_name\r\n")
	var wants []want
	for i := range 300 {
		sb.WriteString("sip:a@b.c,Zoë 🎧 Ng\r\n")
		wants = append(wants, want{line: i + 2, user: store.User{SipAddress: "sip:a@b.c", DisplayName: "Zoë 🎧 Ng", Enabled: true}})
	}
	for _, be := range []bool{false, true} {
		var rows []Row
		for r := range Rows(bytes.NewReader(utf16Bytes(sb.String(), be)), CSV) {
			rows = append(rows, r)
		}
		checkRows(t, rows, wants)
	}
}

func TestUTF16Errors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []want
	}{
		{"odd length", append(utf16Bytes("display_name\nAnn\n", false), 'x'),
			[]want{
				{line: 2, user: store.User{DisplayName: "Ann", Enabled: true}},
				{line: 3, err: "read line 3: UTF-16 input ends in the middle of a character"},
			}},
		// Lone surrogates: a high one followed by a letter, a low one alone,
		// and a high one at the very end.
		{"unpaired surrogates", append(append(utf16Bytes("display_name\n", false),
			0x00, 0xD8, 'A', 0, 0x00, 0xDC, '\n', 0, 'B', 0), 0x00, 0xD8),
			[]want{
				{line: 2, user: store.User{DisplayName: "\ufffdA\ufffd", Enabled: true}},
				{line: 3, user: store.User{DisplayName: "B\ufffd", Enabled: true}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []Row
			for r := range Rows(bytes.NewReader(tt.data), CSV) {
				rows = append(rows, r)
			}
			checkRows(t, rows, tt.want)
		})
	}
}

// csvRecords splits data with our parser, for comparing with encoding/csv.
func csvRecords(data []byte) (records [][]string, err error) {
	p := &csvParser{lr: newLineReader(bytes.NewReader(data))}
	for {
		_, fields, err := p.next()
		if err == io.EOF {
			return records, nil
		}
		if err != nil {
			return records, err
		}
		records = append(records, slices.Clone(fields))
	}
}

func stdRecords(data []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// hasBlankLine reports whether data has a line of only spaces and tabs,
// which encoding/csv reads as a record and pinsh skips.
func hasBlankLine(data []byte) bool {
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > 0 && isBlank(line) {
			return true
		}
	}
	return false
}

var csvSeeds = []string{
	ourHeader + "\n" + kenCSV + "\n",
	"a,b\n\"x\ny\",\"\"\"\"\n",
	"a,\"b\r\nc\"\r\n,\r\n",
	"\"unclosed\n",
	"a\"b,c\n",
	"\"a\"b,c\n",
	"\n\n,,,\n\"\",\"\"\n",
	"\ufeff#TYPE x\n\"sip_address\",\"enabled\"\n\"a@b\",\"maybe\"\nx\n",
	"a,b\r",
	"\"a\r\nb\"",
	"sip_address\n\xff\xfe\n",
}

// FuzzCSV checks that the CSV parser never panics, that line numbers only go
// forward, and that, for every input encoding/csv reads without error, it
// reads the same records.
func FuzzCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		last := 0
		for r := range Rows(bytes.NewReader(data), CSV) {
			if r.Line < 1 || r.Line <= last && r.Line != 1 {
				t.Fatalf("row on line %d after line %d", r.Line, last)
			}
			last = r.Line
			checkFuzzRow(t, r)
		}
		want, err := stdRecords(data)
		if err != nil || hasBlankLine(data) {
			return
		}
		got, err := csvRecords(data)
		if err != nil {
			t.Fatalf("encoding/csv reads %q, pinsh fails: %v", data, err)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("records of %q:\n got %q\nwant %q", data, got, want)
		}
	})
}

func TestCSVMatchesEncodingCSV(t *testing.T) {
	for _, s := range csvSeeds {
		want, werr := stdRecords([]byte(s))
		got, gerr := csvRecords([]byte(s))
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%q: encoding/csv error %v, pinsh error %v", s, werr, gerr)
			continue
		}
		if werr == nil && !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%q:\n got %q\nwant %q", s, got, want)
		}
	}
}

func TestFatalErrorUnwraps(t *testing.T) {
	if err := error(fatalError{errDisk}); !errors.Is(err, errDisk) {
		t.Errorf("fatalError hides its cause")
	}
}
