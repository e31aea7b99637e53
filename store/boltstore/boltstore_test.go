package boltstore

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/storetest"
)

// testOptions are the options of test stores: cheap hashing, a key file in
// the test's directory.
func testOptions(t testing.TB, dir string) Options {
	return Options{
		KeyFile:    filepath.Join(dir, "pin.key"),
		Creator:    storetest.Creator,
		Now:        storetest.T0,
		HashParams: pinhash.TestParams(),
	}
}

func openTest(t testing.TB) *Store {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "pinsh.db"), testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

func TestPinQueryContract(t *testing.T) {
	storetest.RunPinQuery(t, func(t *testing.T) store.Store { return openTest(t) })
}

// TestHosts runs the contract tests of two instances on one database. The
// bbolt file is locked by the process that opened it, so the second
// instance is the same *Store used from other goroutines; a local commit
// cannot lose its reply, so the ambiguous commit is a commit that fails.
func TestHosts(t *testing.T) {
	storetest.RunHosts(t, storetest.Hosts{
		Open:  func(t *testing.T) store.Store { return openTest(t) },
		Again: func(t *testing.T, s store.Store) store.Store { return s },
		LoseReply: func(t *testing.T, s store.Store, committed bool) bool {
			if committed {
				return false
			}
			testHookBeforeCommit = func() error {
				testHookBeforeCommit = nil
				return errors.New("commit failed (injected)")
			}
			t.Cleanup(func() { testHookBeforeCommit = nil })
			return true
		},
	})
}
