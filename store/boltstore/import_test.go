package boltstore

import (
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/importfmt"
)

// importFile imports a file the way `pinsh import FILE` does.
func importFile(t *testing.T, s store.Store, name, content string) store.ImportReport {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, err := importfmt.DetectFormat(name, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.ImportUsers(bg, adminOp(), storeRows(importfmt.Rows(f, format)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// storeRows converts importfmt rows to store rows.
func storeRows(rows iter.Seq[importfmt.Row]) iter.Seq[store.ImportRow] {
	return func(yield func(store.ImportRow) bool) {
		for r := range rows {
			if !yield(store.ImportRow(r)) {
				return
			}
		}
	}
}

func TestImportFormats(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		imported      int
		bad           map[int]string // line -> part of the reason
	}{
		{"users.csv", `msRTCSIP-PrimaryUserAddress,userPrincipalName,sAMAccountName,displayName,distinguishedName,telephoneNumber
sip:kenmyer@litwareinc.com,kenmyer@litwareinc.com,kenmyer,Ken Myer,"CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com",+14255550101
sip:pilar@litwareinc.com,pilar@litwareinc.com,pilar,Pilar Ackerman,"CN=Pilar Ackerman,OU=Redmond,DC=litwareinc,DC=com",+14255550102
sip:short@litwareinc.com,only three,columns
sip:kenmyer@litwareinc.com,ken2@litwareinc.com,ken2,Ken Two,"CN=Ken Two,OU=Redmond,DC=litwareinc,DC=com",+14255550103
not-an-address,x@litwareinc.com,x,X,"CN=X,DC=litwareinc,DC=com",
sip:aidan@litwareinc.com,aidan@litwareinc.com,aidan,Aidan Delaney,"CN=Aidan Delaney,OU=Redmond,DC=litwareinc,DC=com",
sip:dup@litwareinc.com,dup@litwareinc.com,pilar,Dup,"CN=Dup,DC=litwareinc,DC=com",
`, 3, map[int]string{4: "", 5: "sip_address", 6: "", 8: "line 3"}},
		{"users.jsonl", `{"sip_address":"sip:kenmyer@litwareinc.com","display_name":"Ken Myer","enabled":true}
{"sip_address":"sip:pilar@litwareinc.com","display_name":"Pilar Ackerman"}
{"sip_address": 
{"sip_address":"sip:kenmyer@litwareinc.com","display_name":"Again"}

{"sip_address":"sip:aidan@litwareinc.com","enabled":"maybe"}
{"sip_address":"sip:lisa@litwareinc.com","distinguished_name":"Lisa"}
`, 2, map[int]string{3: "", 4: "sip_address \"sip:kenmyer@litwareinc.com\": also on line 1", 6: "", 7: "distinguished_name"}},
		{"users.ldif", `dn: CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com
changetype: add
msRTCSIP-PrimaryUserAddress: sip:kenmyer@litwareinc.com
displayName: Ken Myer
sAMAccountName: kenmyer

dn: CN=Pilar Ackerman,OU=Redmond,DC=litwareinc,DC=com
msRTCSIP-PrimaryUserAddress: sip:pilar@litwareinc.com
displayName:: UGlsYXIgQWNrZXJtYW4=

dn: CN=Broken,OU=Redmond,DC=litwareinc,DC=com
msRTCSIP-PrimaryUserAddress: sip:broken@litwareinc.com
displayName:: !!!not base64

dn: CN=Ken Again,OU=Redmond,DC=litwareinc,DC=com
msRTCSIP-PrimaryUserAddress: sip:kenagain@litwareinc.com
sAMAccountName: KENMYER

dn: CN=Nobody,OU=Redmond,DC=litwareinc,DC=com
displayName: Nobody
`, 2, map[int]string{11: "", 15: "sam_account_name", 19: "sip_address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			defer s.Close()
			rep := importFile(t, s, tc.name, tc.content)
			var lines, want []int
			for _, b := range rep.Bad {
				lines = append(lines, b.Line)
				if w := tc.bad[b.Line]; !strings.Contains(b.Err.Error(), w) {
					t.Errorf("line %d: %v; want it to say %q", b.Line, b.Err, w)
				}
			}
			for l := range tc.bad {
				want = append(want, l)
			}
			slices.Sort(want)
			if rep.Imported != tc.imported || !slices.Equal(lines, want) {
				t.Errorf("imported %d (want %d), bad lines %v (want %v): %v", rep.Imported, tc.imported, lines, want, rep.Bad)
			}
			if us, _ := s.FindUsers(bg, "Pilar Ackerman"); len(us) != 1 {
				t.Errorf("Pilar not imported: %v", us)
			}
		})
	}
}
