package boltstore

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
	"github.com/pinsh/pinsh/store/storetest"
)

var bg = context.Background()

func adminOp() store.Op { return store.Op{Operator: storetest.Creator, Now: storetest.T0()} }

// newDB creates a database with a user who has a PIN and returns its path.
func newDB(t *testing.T) (string, Options) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "pinsh.db")
	opts := testOptions(t, dir)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(bg, adminOp(), store.User{SipAddress: "kenmyer@litwareinc.com", DisplayName: "Ken Myer", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.SetPins(bg, adminOp(), []store.SetPinRequest{{ID: u.ID, Pin: "48151"}}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, opts
}

// unchanged fails the test when the file at path no longer holds want.
func unchanged(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s was modified", path)
	}
}

func wantOpenErr(t *testing.T, path string, opts Options, sentinel error, says ...string) {
	t.Helper()
	before, rerr := os.ReadFile(path)
	s, err := Open(path, opts)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded; want %v", path, sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("Open error = %v; want %v", err, sentinel)
	}
	for _, w := range append(says, path) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if rerr == nil {
		unchanged(t, path, before)
	}
}

func TestNewFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "pinsh")
	path := filepath.Join(dir, "pinsh.db")
	opts := testOptions(t, t.TempDir())
	opts.CreateDir = true
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Created() {
		t.Error("Created() = false for a new file")
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, st.Mode().Perm(), err, want)
		}
	}
	if _, err := os.Stat(s.opts.KeyFile); !os.IsNotExist(err) {
		t.Errorf("key file created before any PIN was hashed: %v", err)
	}
}

func TestOpenNeedsCreator(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.Creator = ""
	path := filepath.Join(t.TempDir(), "pinsh.db")
	if _, err := Open(path, opts); err == nil || !strings.Contains(err.Error(), "CsAdministrator") {
		t.Errorf("Open without a creator: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file created anyway")
	}
}

func TestBusy(t *testing.T) {
	path, opts := newDB(t)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	opts.LockTimeout = 300 * time.Millisecond
	start := time.Now()
	wantOpenErr(t, path, opts, store.ErrBusy, "close the other pinsh")
	// At least the timeout; the upper bound only catches a wait that
	// ignores it (a loaded machine stretches the rest).
	if d := time.Since(start); d < 200*time.Millisecond || d > 30*time.Second {
		t.Errorf("waited %v for the lock; want about 300ms", d)
	}
	// Once the holder closes, the file opens.
	s.Close()
	s2, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	s2.Close()
}

func TestForeignFiles(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("not a database\n", 1000)), 0o600)
	wantOpenErr(t, text, opts, store.ErrNotPinsh, "not a database file")

	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("x"), 0o600)
	wantOpenErr(t, small, opts, store.ErrNotPinsh)

	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	wantOpenErr(t, empty, opts, store.ErrNotPinsh, "empty")

	wantOpenErr(t, dir, opts, store.ErrNotPinsh, "not a regular file")

	// A healthy bbolt file of another program.
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("meta"))
		return b.Put([]byte("magic"), []byte("something else"))
	})
	db.Close()
	wantOpenErr(t, other, opts, store.ErrNotPinsh, "not pinsh's")

	bare := filepath.Join(dir, "bare.db")
	db, _ = bolt.Open(bare, 0o600, nil)
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("things")); return err })
	db.Close()
	wantOpenErr(t, bare, opts, store.ErrNotPinsh, "no pinsh meta data")
}

// editMeta changes a closed database's meta bucket with bbolt directly.
func editMeta(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestNewerSchema(t *testing.T) {
	path, opts := newDB(t)
	newer := SchemaVersion + len(schemaMigrations()) + 1
	editMeta(t, path, func(tx *bolt.Tx) error { return putSchema(tx, newer) })
	wantOpenErr(t, path, opts, store.ErrNewerSchema, "use a newer pinsh", fmt.Sprint(newer))
}

func TestMigrationHook(t *testing.T) {
	path, opts := newDB(t)
	current := SchemaVersion + len(schemaMigrations())
	calls := 0
	migs := append(schemaMigrations(), func(tx *bolt.Tx) error {
		calls++
		_, err := tx.CreateBucket([]byte("next"))
		return err
	})
	for range 2 {
		s, err := open(path, opts, migs)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if calls != 1 {
		t.Errorf("migration ran %d times, want once", calls)
	}
	db, _ := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	db.View(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint32(tx.Bucket([]byte(bucketMeta)).Get([]byte(metaSchema))); int(v) != current+1 || tx.Bucket([]byte("next")) == nil {
			t.Errorf("after migration: schema %d", v)
		}
		return nil
	})
	db.Close()
	// This code knows the current version only.
	wantOpenErr(t, path, opts, store.ErrNewerSchema)

	// A version 1 file (before audit entries named who acted for the
	// operator) opens and is migrated; its audit log reads as before.
	path1, opts1 := newDB(t)
	editMeta(t, path1, func(tx *bolt.Tx) error { return putSchema(tx, 1) })
	// Read-only, it is read as it is: reads never write.
	before1, _ := os.ReadFile(path1)
	ro := opts1
	ro.ReadOnly = true
	s1, err := Open(path1, ro)
	if err != nil {
		t.Fatalf("read-only open of a version 1 file: %v", err)
	}
	if es, _, err := s1.ScanAudit(bg, store.AuditQuery{}, 0, 10); err != nil || len(es) == 0 {
		t.Errorf("audit of a version 1 file: %v %v", es, err)
	}
	s1.Close()
	unchanged(t, path1, before1)
	s1, err = Open(path1, opts1)
	if err != nil {
		t.Fatalf("open a version 1 file: %v", err)
	}
	if es, _, err := s1.ScanAudit(bg, store.AuditQuery{}, 0, 10); err != nil || len(es) == 0 {
		t.Errorf("audit of a migrated file: %v %v", es, err)
	}
	s1.Close()

	// A failing migration leaves the file as it was.
	path2, _ := newDB(t)
	editMeta(t, path2, func(tx *bolt.Tx) error { return putSchema(tx, 1) })
	before, _ := os.ReadFile(path2)
	_, err = open(path2, opts, []migration{func(tx *bolt.Tx) error { return errors.New("boom") }})
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("failing migration: %v", err)
	}
	unchanged(t, path2, before)
	if s, err := Open(path2, opts); err != nil {
		t.Errorf("after a failed migration: %v", err)
	} else {
		s.Close()
	}
}

func TestDamaged(t *testing.T) {
	for _, tc := range []struct {
		name string
		hurt func(t *testing.T, path string, data []byte) []byte
		says string
	}{
		{"meta checksums", func(t *testing.T, path string, data []byte) []byte {
			ps := pageSizeOf(data)
			for _, off := range []int{0, ps} {
				for i := off + 32; i < off+80; i++ {
					data[i] ^= 0x5a
				}
			}
			return data
		}, "damaged"},
		{"data pages", func(t *testing.T, path string, data []byte) []byte {
			for i := 2 * pageSizeOf(data); i < len(data); i++ {
				data[i] = 0xa5
			}
			return data
		}, "damaged"},
		{"missing bucket", func(t *testing.T, path string, data []byte) []byte {
			editMeta(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte(bucketPins)) })
			d, _ := os.ReadFile(path)
			return d
		}, "bucket pins is missing"},
		{"no schema", func(t *testing.T, path string, data []byte) []byte {
			editMeta(t, path, func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucketMeta)).Delete([]byte(metaSchema)) })
			d, _ := os.ReadFile(path)
			return d
		}, "no schema version"},
		{"bad block", func(t *testing.T, path string, data []byte) []byte {
			editMeta(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketUsers)).Put(uidKey(1), []byte{0x80, 0x80})
			})
			d, _ := os.ReadFile(path)
			return d
		}, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opts := newDB(t)
			data, _ := os.ReadFile(path)
			data = tc.hurt(t, path, data)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			wantOpenErr(t, path, opts, store.ErrDamaged, tc.says, "restore it from a backup")
		})
	}
}

func pageSizeOf(data []byte) int {
	// Meta page: 16-byte page header, then magic, version, page size.
	return int(binary.LittleEndian.Uint32(data[16+8:]))
}

func TestClosed(t *testing.T) {
	s := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindUsers(bg, "Ken Myer"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := s.CreateUser(bg, adminOp(), store.User{SipAddress: "a@b"}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
}

func TestKeyFile(t *testing.T) {
	reopen := func(t *testing.T, path string, opts Options) (*Store, store.UserID) {
		t.Helper()
		s, err := Open(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		us, _ := s.FindUsers(bg, "Ken Myer")
		return s, us[0].ID
	}
	wantKeyErr := func(t *testing.T, s *Store, id store.UserID, says string) {
		t.Helper()
		_, err := s.VerifyPin(bg, adminOp(), id, "48151")
		if !errors.Is(err, store.ErrKey) || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), s.opts.KeyFile) {
			t.Errorf("VerifyPin error = %v; want ErrKey saying %q and naming the key file", err, says)
		}
		res, err := s.SetPins(bg, adminOp(), []store.SetPinRequest{{ID: id, Pin: "27194"}})
		if !errors.Is(err, store.ErrKey) {
			t.Errorf("SetPins = %+v, %v; want ErrKey", res, err)
		}
	}
	t.Run("created on first use", func(t *testing.T) {
		path, opts := newDB(t)
		st, err := os.Stat(opts.KeyFile)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", st, err)
		}
		s, id := reopen(t, path, opts)
		if v, err := s.VerifyPin(bg, adminOp(), id, "48151"); err != nil || !v.OK {
			t.Errorf("verify with the key file: %+v %v", v, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		path, opts := newDB(t)
		os.Remove(opts.KeyFile)
		s, id := reopen(t, path, opts)
		wantKeyErr(t, s, id, "restore the key file")
		if _, err := os.Stat(opts.KeyFile); !os.IsNotExist(err) {
			t.Error("a new key was created for a database whose PINs need the old one")
		}
		// Reads that need no key still work.
		if ps, err := s.PinInfos(bg, []store.UserID{id}); err != nil || !ps[0].IsSet {
			t.Errorf("PinInfos without the key: %+v %v", ps, err)
		}
	})
	t.Run("readable by others", func(t *testing.T) {
		path, opts := newDB(t)
		os.Chmod(opts.KeyFile, 0o644)
		s, id := reopen(t, path, opts)
		wantKeyErr(t, s, id, "chmod 600")
	})
	t.Run("unreadable", func(t *testing.T) {
		path, opts := newDB(t)
		blocker := filepath.Join(t.TempDir(), "file")
		os.WriteFile(blocker, nil, 0o600)
		opts.KeyFile = filepath.Join(blocker, "pin.key") // a path through a regular file
		s, id := reopen(t, path, opts)
		_, err := s.VerifyPin(bg, adminOp(), id, "48151")
		if !errors.Is(err, store.ErrKey) || !strings.Contains(err.Error(), opts.KeyFile) {
			t.Errorf("VerifyPin = %v; want ErrKey naming the file", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		path, opts := newDB(t)
		other := filepath.Join(t.TempDir(), "other.key")
		if _, err := pinhash.LoadKey(other, true); err != nil {
			t.Fatal(err)
		}
		opts.KeyFile = other
		s, id := reopen(t, path, opts)
		wantKeyErr(t, s, id, "hashed with key")
	})
	t.Run("damaged", func(t *testing.T) {
		path, opts := newDB(t)
		os.WriteFile(opts.KeyFile, []byte("short"), 0o600)
		s, id := reopen(t, path, opts)
		wantKeyErr(t, s, id, "exactly 32 bytes")
	})
}

// TestStolenDatabase shows that the database file alone does not let anyone
// verify or recover a PIN: with the hash read straight from the file, a
// brute force over every 4-digit PIN finds nothing without the key file
// (no key, or a wrong one), and finds the PIN with it.
func TestStolenDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pinsh.db")
	opts := testOptions(t, dir)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPolicy(bg, adminOp(), "global", store.PolicyChanges{MinPasswordLength: ptrTo(4)})
	u, _ := s.CreateUser(bg, adminOp(), store.User{SipAddress: "kenmyer@litwareinc.com", Enabled: true})
	const pin = "7359"
	if res, err := s.SetPins(bg, adminOp(), []store.SetPinRequest{{ID: u.ID, Pin: pin}}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	s.Close()

	// The thief's view: the file, read with plain bbolt.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	db.View(func(tx *bolt.Tx) error {
		v, ok := getBlock(tx.Bucket([]byte(bucketHashes)), uidKey(u.ID))
		if ok {
			enc, _ = decodeHashes(v)
		}
		return nil
	})
	db.Close()
	d, err := pinhash.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("pin:"+pin)) {
		t.Fatal("PIN in the file")
	}
	search := func(keyed func(guess string) []byte) string {
		for i := range 10000 {
			g := fmt.Sprintf("%04d", i)
			if bytes.Equal(argon2.IDKey(keyed(g), d.Salt, d.Params.Time, d.Params.MemoryKiB, d.Params.Threads, uint32(len(d.Sum))), d.Sum) {
				return g
			}
		}
		return ""
	}
	hmacWith := func(key []byte) func(string) []byte {
		return func(g string) []byte { m := hmac.New(sha256.New, key); m.Write([]byte(g)); return m.Sum(nil) }
	}
	wrong := make([]byte, 32)
	rand.Read(wrong)
	for name, keyed := range map[string]func(string) []byte{
		"no key (plain argon2)": func(g string) []byte { return []byte(g) },
		"empty key":             hmacWith(nil),
		"wrong key":             hmacWith(wrong),
	} {
		if got := search(keyed); got != "" {
			t.Errorf("%s recovered the PIN %q", name, got)
		}
	}
	key, _ := os.ReadFile(opts.KeyFile)
	if got := search(hmacWith(key)); got != pin {
		t.Errorf("with the key file the search found %q, want %q", got, pin)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestCreateNeedsDir: without CreateDir, a database path in a directory
// that does not exist (a mistyped --db) is an error, and nothing is made.
func TestCreateNeedsDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nodir", "x.db")
	_, err := Open(path, testOptions(t, dir))
	if err == nil || !strings.Contains(err.Error(), "directory "+filepath.Join(dir, "nodir")+" does not exist") {
		t.Fatalf("Open in a missing directory: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("directory created anyway: %v", err)
	}
	// A path through a regular file is no directory either.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(filepath.Join(file, "x.db"), testOptions(t, dir)); err == nil {
		t.Error("Open under a regular file succeeded")
	}
}

// readAll runs every kind of read a session does.
func readAll(t *testing.T, s *Store) {
	t.Helper()
	us, err := s.FindUsers(bg, "Ken Myer")
	if err != nil || len(us) != 1 {
		t.Fatalf("FindUsers: %v %v", us, err)
	}
	if _, err := s.PinInfos(bg, []store.UserID{us[0].ID}); err != nil {
		t.Error(err)
	}
	if _, _, err := s.ScanUsers(bg, store.UserQuery{}, 0, 100); err != nil {
		t.Error(err)
	}
	if _, _, err := s.ScanAudit(bg, store.AuditQuery{}, 0, 100); err != nil {
		t.Error(err)
	}
	if _, err := s.RolesOf(bg, storetest.Creator); err != nil {
		t.Error(err)
	}
	if _, err := s.Policies(bg); err != nil {
		t.Error(err)
	}
}

// TestReadsWriteNothing: opening an existing database and reading it
// leaves the file byte for byte as it was, read-write or read-only, and a
// read-only file (mode 0400) can be read.
func TestReadsWriteNothing(t *testing.T) {
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReadOnly=%v", ro), func(t *testing.T) {
			path, opts := newDB(t)
			opts.ReadOnly = ro
			if ro {
				os.Chmod(path, 0o400)
			}
			before, _ := os.ReadFile(path)
			s, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, s)
			if s.Created() {
				t.Error("Created() = true for an existing file")
			}
			if ro {
				us, _ := s.FindUsers(bg, "Ken Myer")
				_, err := s.LockPins(bg, adminOp(), []store.UserID{us[0].ID})
				if !errors.Is(err, store.ErrReadOnly) {
					t.Errorf("LockPins on a read-only store: %v; want ErrReadOnly", err)
				}
			}
			s.Close()
			unchanged(t, path, before)
		})
	}
	// ReadOnly never creates.
	opts := testOptions(t, t.TempDir())
	opts.ReadOnly = true
	path := filepath.Join(t.TempDir(), "new.db")
	if _, err := Open(path, opts); err == nil {
		t.Error("a read-only Open created a database")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file created: %v", err)
	}
}

func TestFileMode(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		says string // "" when the mode is accepted
	}{
		{0o600, ""},
		{0o640, ""},
		{0o660, ""},
		{0o400, ""},
		{0o644, "every user of this machine may read it"},
		{0o602, "may write it"},
		{0o666, "may read and write it"},
	} {
		t.Run(fmt.Sprintf("%04o", tc.mode), func(t *testing.T) {
			path, opts := newDB(t)
			os.Chmod(path, tc.mode)
			opts.ReadOnly = true
			if tc.says != "" {
				wantOpenErr(t, path, opts, store.ErrFileMode, tc.says, "chmod o-rwx")
				return
			}
			s, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
}

func TestTruncated(t *testing.T) {
	path, opts := newDB(t)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:20000], 0o600)
	wantOpenErr(t, path, opts, store.ErrDamaged, "file size too small", "restore it from a backup")
}

// bigDB creates a database of n generated users (several blocks and pages
// per bucket) and returns its path, closed.
func bigDB(t *testing.T, n int) (string, Options) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "pinsh.db")
	opts := testOptions(t, dir)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := sample.Generate(bg, s, adminOp(), n, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, opts
}

// TestDamageFoundBeforeWrite: damage in the middle of the file, which
// Open's quick check does not read, is found before the first write; the
// write and every later one are refused, the file is not changed, and
// reads that do not touch the damage still work.
func TestDamageFoundBeforeWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		hurt func(t *testing.T, path string)
	}{
		{"middle users block", func(t *testing.T, path string) {
			editMeta(t, path, func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(bucketUsers))
				mid := middleKey(t, b)
				v := b.Get(mid)
				return b.Put(mid, bytes.Clone(v[:len(v)/2])) // cut in the middle of an entry
			})
		}},
		{"PIN state without a user", func(t *testing.T, path string) {
			// Counts of PIN states rely on every one having a user
			// (checkFile).
			editMeta(t, path, func(tx *bolt.Tx) error {
				st := store.PinState{IsSet: true}
				return newBlockWriter(tx.Bucket([]byte(bucketPins)), &arena{}).apply([]mutation{
					{key: uidKey(1 << 40), val: encodePin(nil, &st)}})
			})
		}},
		{"middle leaf page", func(t *testing.T, path string) {
			data, _ := os.ReadFile(path)
			ps := pageSizeOf(data)
			db, err := bolt.Open(path, 0o600, nil) // a read-only tx has no freelist for tx.Page
			if err != nil {
				t.Fatal(err)
			}
			var id int
			db.View(func(tx *bolt.Tx) error {
				n := int(tx.Size()) / ps
				types := map[string]int{}
				for id = n / 2; id < n; id++ {
					pi, err := tx.Page(id)
					if err == nil && pi != nil && pi.Type == "leaf" {
						return nil
					}
					if pi != nil {
						types[pi.Type]++
					}
				}
				t.Fatalf("no leaf page in the second half of the file: %v", types)
				return nil
			})
			db.Close()
			binary.LittleEndian.PutUint16(data[id*ps+8:], 0x4000) // no page type
			os.WriteFile(path, data, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opts := bigDB(t, 20000)
			tc.hurt(t, path)
			before, _ := os.ReadFile(path)
			s, err := Open(path, opts)
			if err != nil {
				t.Fatalf("Open: %v (the quick check was meant to miss this damage)", err)
			}
			defer s.Close()
			us, err := s.FindUsers(bg, "sip:user1@example.com")
			if err != nil {
				t.Logf("FindUsers: %v", err)
			}
			for i := range 2 {
				var ids []store.UserID
				for _, u := range us {
					ids = append(ids, u.ID)
				}
				if len(ids) == 0 {
					ids = []store.UserID{1}
				}
				_, err := s.LockPins(bg, adminOp(), ids)
				if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "restore it from a backup") {
					t.Fatalf("write %d to a damaged file: %v; want ErrDamaged", i+1, err)
				}
			}
			if _, err := s.CreateUser(bg, adminOp(), store.User{SipAddress: "new@example.com"}); !errors.Is(err, store.ErrDamaged) {
				t.Errorf("CreateUser on a damaged file: %v", err)
			}
			unchanged(t, path, before)
			if s.Checked() != (FileStamp{}) {
				t.Error("a damaged file got a stamp")
			}
		})
	}
}

func TestIDSet(t *testing.T) {
	var s idSet
	in := []store.UserID{1, 63, 64, 1000, idSetBitmapMax - 1, idSetBitmapMax, 1 << 40}
	for _, id := range in {
		s.add(id)
	}
	for _, id := range in {
		if !s.has(id) {
			t.Errorf("%d added, not found", id)
		}
	}
	for _, id := range []store.UserID{0, 2, 62, 65, 999, 1001, idSetBitmapMax + 1, 1<<40 + 1} {
		if s.has(id) {
			t.Errorf("%d found, not added", id)
		}
	}
}

// middleKey returns the bbolt key of the middle block of b.
func middleKey(t *testing.T, b *bolt.Bucket) []byte {
	t.Helper()
	var keys [][]byte
	b.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
	if len(keys) < 5 {
		t.Fatalf("only %d blocks", len(keys))
	}
	return keys[len(keys)/2]
}

// TestCheckedStamp: the whole-file check runs once per unchanged file: a
// later Open given the stamp of the last one skips it, and a file changed
// since (by anyone) is checked again.
func TestCheckedStamp(t *testing.T) {
	path, opts := bigDB(t, 2000)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(bg, adminOp(), store.User{SipAddress: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stamp := s.Checked()
	if stamp == (FileStamp{}) {
		t.Fatal("no stamp after a checked write")
	}
	// A stamp kept between processes as text is the same stamp.
	if back, err := ParseFileStamp(stamp.String()); err != nil || !back.matches(stamp) {
		t.Errorf("ParseFileStamp(%q) = %v, %v", stamp, back, err)
	}
	if _, err := ParseFileStamp("garbage"); err == nil {
		t.Error("ParseFileStamp of garbage: no error")
	}
	// Damage the file behind pinsh's back, keeping the stamp's fields: the
	// check is skipped (the stamp is a cache, not a proof), which shows
	// the stamp is used.
	fi, _ := os.Stat(path)
	editMeta(t, path, func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		return b.Put(middleKey(t, b), []byte{0x80, 0x80})
	})
	opts.Checked = stamp
	s2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s2.CreateUser(bg, adminOp(), store.User{SipAddress: "b@example.com"})
	s2.Close()
	if fi2, _ := os.Stat(path); fi2.ModTime().Equal(fi.ModTime()) {
		t.Skip("the file system's clock did not move; cannot tell the edit apart")
	}
	if !errors.Is(err, store.ErrDamaged) {
		t.Errorf("write to a file changed since its stamp: %v; want the check to run and find the damage", err)
	}
}

// TestNoSpace: a write that fails for want of space is rolled back and
// says what to do; reads go on working.
func TestNoSpace(t *testing.T) {
	path, opts := newDB(t)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	us, _ := s.FindUsers(bg, "Ken Myer")
	before, _ := os.ReadFile(path)
	testHookBeforeCommit = func() error {
		return &os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	}
	defer func() { testHookBeforeCommit = nil }()
	_, err = s.LockPins(bg, adminOp(), []store.UserID{us[0].ID})
	if !errors.Is(err, store.ErrNoSpace) || !strings.Contains(err.Error(), "free space") || !strings.Contains(err.Error(), "reads still work") {
		t.Fatalf("LockPins on a full disk: %v; want ErrNoSpace with advice", err)
	}
	unchanged(t, path, before)
	readAll(t, s)
	testHookBeforeCommit = nil
	if _, err := s.LockPins(bg, adminOp(), []store.UserID{us[0].ID}); err != nil {
		t.Errorf("LockPins once there is space: %v", err)
	}
}
