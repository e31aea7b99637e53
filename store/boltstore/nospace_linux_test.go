//go:build linux

package boltstore

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/sample"
	bolt "go.etcd.io/bbolt"
)

// Mounting a tmpfs is Linux's: this test lives in a file of its own so
// that the package's tests still build (and vet) on other systems.

// TestNoSpaceReal fills a small tmpfs (root, or a user namespace, is needed
// to mount one; the test skips without) and checks that a bulk write fails
// with ErrNoSpace, the database stays healthy and readable, and a write
// that fits still works after space is freed.
func TestNoSpaceReal(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	var s *Store
	t.Cleanup(func() {
		if s != nil {
			s.Close()
		}
		syscall.Unmount(dir, 0)
	})
	path := filepath.Join(dir, "pinsh.db")
	opts := testOptions(t, dir)
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(bg, adminOp(), store.User{SipAddress: "kenmyer@litwareinc.com", DisplayName: "Ken Myer"}); err != nil {
		t.Fatal(err)
	}
	err = sample.Generate(bg, s, adminOp(), 200000, nil)
	if err == nil || !strings.Contains(err.Error(), store.ErrNoSpace.Error()) {
		t.Fatalf("generating 200,000 users on a 4 MB file system: %v; want ErrNoSpace", err)
	}
	t.Log(err)
	readAll(t, s)
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check after ENOSPC: %v", err)
		}
		return nil
	})
	db.Close()
	s, err = Open(path, opts)
	if err != nil {
		t.Fatalf("reopen after ENOSPC: %v", err)
	}
	readAll(t, s)
}
