package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
)

// TestCheckCache: the stamp of a file pinsh checked and wrote is kept for
// the next run, one line per file, newest first, and only for real paths;
// a run on a file changed since then gets a stamp that does not match it.
func TestCheckCache(t *testing.T) {
	dir := t.TempDir()
	cache := newCheckCache(env("XDG_STATE_HOME", filepath.Join(dir, "state")))
	if cache.get(filepath.Join(dir, "none.db")).String() != "" {
		t.Error("a stamp for a file never seen")
	}
	path := filepath.Join(dir, "pinsh.db")
	opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: "admin"}
	op := store.Op{Operator: "admin", Now: testEpoch}
	ctx := context.Background()
	write := func() {
		c := newDBConn(path, opts)
		c.cache = cache
		c.checked = cache.get(path)
		if _, err := c.CreateUser(ctx, op, store.User{SipAddress: "sip:" + filepath.Base(t.TempDir()) + "@x.com"}); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	write() // creates the file: nothing to check, stamped at Close
	first := cache.get(path)
	if first.String() == "" {
		t.Fatalf("no stamp kept after a write; cache file: %v", readFile(cache.path))
	}
	write()
	if second := cache.get(path); second.String() == "" || second.String() == first.String() {
		t.Errorf("stamp after a second write %q, first %q; want a new one", second, first)
	}
	if fi, err := os.Stat(cache.path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v; want mode 0600", fi, err)
	}
	for i := range maxCheckedFiles + 3 {
		cache.put(filepath.Join(dir, "other", strings.Repeat("x", i+1)+".db"), cache.get(path))
	}
	if n := strings.Count(readFile(cache.path), "\n"); n != maxCheckedFiles {
		t.Errorf("%d files kept, want %d", n, maxCheckedFiles)
	}
	if newCheckCache(env()) != nil {
		t.Error("a cache without HOME or XDG_STATE_HOME")
	}
	var none *checkCache
	none.put(path, first) // a nil cache keeps nothing, and does not fail
	if none.get(path).String() != "" {
		t.Error("a nil cache returned a stamp")
	}
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
