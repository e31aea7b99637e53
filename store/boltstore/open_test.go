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
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/argon2"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
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
	s, err := Open(path, testOptions(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
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
	editMeta(t, path, func(tx *bolt.Tx) error { return putSchema(tx, SchemaVersion+1) })
	wantOpenErr(t, path, opts, store.ErrNewerSchema, "use a newer pinsh", fmt.Sprint(SchemaVersion+1))
}

func TestMigrationHook(t *testing.T) {
	path, opts := newDB(t)
	calls := 0
	migs := []migration{func(tx *bolt.Tx) error {
		calls++
		_, err := tx.CreateBucket([]byte("v2"))
		return err
	}}
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
		if v := binary.BigEndian.Uint32(tx.Bucket([]byte(bucketMeta)).Get([]byte(metaSchema))); v != 2 || tx.Bucket([]byte("v2")) == nil {
			t.Errorf("after migration: schema %d", v)
		}
		return nil
	})
	db.Close()
	// This code knows version 1 only.
	wantOpenErr(t, path, opts, store.ErrNewerSchema)

	// A failing migration leaves the file as it was.
	path2, _ := newDB(t)
	before, _ := os.ReadFile(path2)
	_, err := open(path2, opts, []migration{func(tx *bolt.Tx) error { return errors.New("boom") }})
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("failing migration: %v", err)
	}
	if s, err := Open(path2, opts); err != nil {
		t.Errorf("after a failed migration: %v", err)
	} else {
		s.Close()
	}
	_ = before
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
