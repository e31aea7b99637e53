package boltstore

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/sample"
)

// testdata/schema2-sample.db is the sample directory (sample.Seed at
// 2010-09-02T12:00:00Z, operator admin) as pinsh wrote it at schema
// version 2, before user records could carry directory attributes;
// schema2-sample.key is its PIN key. Such a file must still open, read and
// verify PINs, and take attributes once migrated.
func copySchema2(t *testing.T) (path string, opts Options) {
	t.Helper()
	dir := t.TempDir()
	opts = testOptions(t, dir)
	opts.HashParams = sample.DemoHashParams()
	path = filepath.Join(dir, "pinsh.db")
	for src, dst := range map[string]string{"schema2-sample.db": path, "schema2-sample.key": opts.KeyFile} {
		b, err := os.ReadFile(filepath.Join("testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path, opts
}

func schemaOf(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint32
	db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(tx.Bucket([]byte(bucketMeta)).Get([]byte(metaSchema)))
		return nil
	})
	return int(v)
}

// ken is Ken Myer as the schema 2 file holds him.
var schema2Ken = store.User{ID: 1, SipAddress: "sip:kenmyer@litwareinc.com", DisplayName: "Ken Myer",
	UserPrincipalName: "kenmyer@litwareinc.com", SamAccountName: "kenmyer", Domain: "litwareinc",
	DistinguishedName: "CN=Ken Myer,OU=Redmond,DC=litwareinc,DC=com", Enabled: true,
	RegistrarPool: "pool01.litwareinc.com", LineURI: "tel:+14255550101;ext=101", EnterpriseVoiceEnabled: true,
	Site: "Redmond", PinPolicy: "Expire30"}

func TestSchema2File(t *testing.T) {
	path, opts := copySchema2(t)
	if v := schemaOf(t, path); v != 2 {
		t.Fatalf("fixture is at schema %d, want 2", v)
	}
	before, _ := os.ReadFile(path)
	ro := opts
	ro.ReadOnly = true
	s, err := Open(path, ro)
	if err != nil {
		t.Fatalf("read-only open of a schema 2 file: %v", err)
	}
	us, next, err := s.ScanUsers(bg, store.UserQuery{}, 0, 100)
	if err != nil || next != 0 || len(us) != 7 {
		t.Fatalf("ScanUsers of a schema 2 file = %d users, %d, %v", len(us), next, err)
	}
	if !us[0].Equal(schema2Ken) {
		t.Errorf("Ken from a schema 2 file:\n got %+v\nwant %+v", us[0], schema2Ken)
	}
	s.Close()
	unchanged(t, path, before)

	s, err = Open(path, opts)
	if err != nil {
		t.Fatalf("open a schema 2 file: %v", err)
	}
	if r, err := s.VerifyPin(bg, adminOp(), 1, sample.KenPIN); err != nil || !r.OK {
		t.Errorf("Ken's PIN in a migrated file: %+v, %v", r, err)
	}
	ken := schema2Ken
	ken.Title, ken.Department, ken.City, ken.Company = "Manager", "Finance", "Redmond", "Litware, Inc."
	ken.Mail, ken.GivenName, ken.Surname, ken.TelephoneNumber = "kenmyer@litwareinc.com", "Ken", "Myer", "+1 (425) 555-0101"
	ken.MemberOf = []string{"CN=Finance,OU=Groups,DC=litwareinc,DC=com"}
	if _, err := s.UpdateUser(bg, adminOp(), ken); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v, want := schemaOf(t, path), SchemaVersion+len(schemaMigrations()); v != want {
		t.Errorf("after opening: schema %d, want %d", v, want)
	}
	s, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.db.View(checkFile); err != nil {
		t.Errorf("check of the migrated file: %v", err)
	}
	us, _, err = s.ScanUsers(bg, store.UserQuery{}, 0, 100)
	if err != nil || len(us) != 7 || !us[0].Equal(ken) || us[1].DisplayName != "Pilar Ackerman" || us[1].Title != "" {
		t.Errorf("users after the update: %+v, %v", us, err)
	}
}
