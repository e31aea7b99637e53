package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

func testBolt(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "b.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestBlocksModel applies random batches of puts and deletes and checks
// every read path against a map.
func TestBlocksModel(t *testing.T) {
	db := testBolt(t)
	model := map[string]string{}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return fmt.Sprintf("k%05d", rng.IntN(20000)) }
	for round := range 60 {
		var ms []mutation
		seen := map[string]bool{}
		n := 1 + rng.IntN(400)
		if round%10 == 0 {
			n = 3000
		}
		for range n {
			k := key()
			if seen[k] {
				continue
			}
			seen[k] = true
			if rng.IntN(4) == 0 {
				ms = append(ms, mutation{key: []byte(k), del: true})
				delete(model, k)
			} else {
				v := bytes.Repeat([]byte{byte(rng.IntN(256))}, rng.IntN(40))
				ms = append(ms, mutation{key: []byte(k), val: v})
				model[k] = string(v)
			}
		}
		slices.SortFunc(ms, func(a, b mutation) int { return bytes.Compare(a.key, b.key) })
		if err := db.Update(func(tx *bolt.Tx) error {
			var a arena
			return newBlockWriter(tx.Bucket([]byte("b")), &a).apply(ms)
		}); err != nil {
			t.Fatal(err)
		}
		checkModel(t, db, model, rng)
	}
}

// TestBlockPatcherModel changes random ascending keys through a
// blockPatcher: values of the same length (patched in place), of another
// length, and keys not stored yet (both applied by the block writer), and
// checks every read path against a map.
func TestBlockPatcherModel(t *testing.T) {
	db := testBolt(t)
	model := map[string]string{}
	rng := rand.New(rand.NewPCG(3, 4))
	var ms []mutation
	for i := 0; i < 20000; i += 2 {
		k, v := fmt.Sprintf("k%05d", i), fmt.Sprintf("v%d", rng.IntN(1000))
		ms = append(ms, mutation{key: []byte(k), val: []byte(v)})
		model[k] = v
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		var a arena
		return newBlockWriter(tx.Bucket([]byte("b")), &a).apply(ms)
	}); err != nil {
		t.Fatal(err)
	}
	for round := range 40 {
		var patched, other int
		if err := db.Update(func(tx *bolt.Tx) error {
			var a arena
			p := newBlockPatcher(newBlockWriter(tx.Bucket([]byte("b")), &a))
			for i := rng.IntN(50); i < 20000; i += 1 + rng.IntN(1+round*round) {
				k := fmt.Sprintf("k%05d", i)
				old, found := p.get([]byte(k))
				if mv, ok := model[k]; found != ok || string(old) != mv {
					t.Fatalf("get %s = %q %v; want %q %v", k, old, found, mv, ok)
				}
				if rng.IntN(3) == 0 {
					continue // read, not changed
				}
				v := fmt.Sprintf("v%d", rng.IntN(1000))
				if found && len(v) == len(old) {
					patched++
				} else {
					other++
				}
				p.set([]byte(k), []byte(v), found)
				model[k] = v
			}
			return p.flush()
		}); err != nil {
			t.Fatal(err)
		}
		if patched == 0 || other == 0 {
			t.Fatalf("round %d: %d values patched, %d otherwise; want both", round, patched, other)
		}
		checkModel(t, db, model, rng)
	}
}

func checkModel(t *testing.T, db *bolt.DB, model map[string]string, rng *rand.Rand) {
	t.Helper()
	keys := make([]string, 0, len(model))
	for k := range model {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		// Full iteration.
		it := newIter(b)
		i := 0
		for it.first(); it.valid; it.next() {
			if i >= len(keys) || string(it.key()) != keys[i] || string(it.val()) != model[keys[i]] {
				t.Fatalf("entry %d = %q; want %q", i, it.key(), keys[min(i, len(keys)-1)])
			}
			i++
		}
		if i != len(keys) {
			t.Fatalf("iterated %d entries, want %d", i, len(keys))
		}
		// Blocks stay near the target size and their keys are their first keys.
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var r blockReader
			r.reset(v)
			if !r.next() || !bytes.Equal(r.key, k) {
				t.Fatalf("block %q does not start with its key", k)
			}
			if len(v) > 2*blockTarget {
				t.Fatalf("block %q has %d bytes", k, len(v))
			}
		}
		// Point reads, seeks and ascending advances.
		for range 300 {
			k := fmt.Sprintf("k%05d", rng.IntN(20000))
			v, ok := getBlock(b, []byte(k))
			mv, mok := model[k]
			if ok != mok || string(v) != mv {
				t.Fatalf("get %s = %q %v; want %q %v", k, v, ok, mv, mok)
			}
			it.seek([]byte(k))
			j, _ := slices.BinarySearch(keys, k)
			if (j < len(keys)) != it.valid || (it.valid && string(it.key()) != keys[j]) {
				t.Fatalf("seek %s landed on %q, want index %d", k, it.key(), j)
			}
		}
		it.seek([]byte("k"))
		for step := 0; it.valid; step++ {
			k := fmt.Sprintf("k%05d", step*37)
			it.advanceTo([]byte(k))
			j, _ := slices.BinarySearch(keys, k)
			if (j < len(keys)) != it.valid || (it.valid && string(it.key()) != keys[j]) {
				t.Fatalf("advanceTo %s landed on %q", k, it.key())
			}
		}
		return nil
	})
}

func TestBlocksEmptyAndPrepend(t *testing.T) {
	db := testBolt(t)
	apply := func(ms ...mutation) {
		t.Helper()
		if err := db.Update(func(tx *bolt.Tx) error {
			var a arena
			return newBlockWriter(tx.Bucket([]byte("b")), &a).apply(ms)
		}); err != nil {
			t.Fatal(err)
		}
	}
	apply(mutation{key: []byte("m"), del: true}) // delete on an empty bucket
	apply(mutation{key: []byte("m"), val: []byte("1")})
	apply(mutation{key: []byte("a"), val: []byte("0")}) // before the first block: block re-keyed
	apply(mutation{key: []byte("m"), del: true}, mutation{key: []byte("z"), val: []byte("2")})
	db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		var got []string
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			got = append(got, string(k))
		}
		if len(got) != 1 || got[0] != "a" {
			t.Errorf("block keys %q; want [a]", got)
		}
		if v, ok := getBlock(b, []byte("z")); !ok || string(v) != "2" {
			t.Errorf("z = %q %v", v, ok)
		}
		if _, ok := getBlock(b, []byte("m")); ok {
			t.Error("m not deleted")
		}
		return nil
	})
	apply(mutation{key: []byte("a"), del: true}, mutation{key: []byte("z"), del: true})
	db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket([]byte("b")).Cursor().First(); k != nil {
			t.Errorf("empty block %q left", k)
		}
		return nil
	})
}

func TestCorruptBlockPanics(t *testing.T) {
	for _, data := range [][]byte{{0x80}, {5, 1, 'a'}, {0, 5, 'a'}, {0, 1, 'a', 9}} {
		func() {
			defer func() {
				if _, ok := recover().(corruptError); !ok {
					t.Errorf("block %x did not panic with corruptError", data)
				}
			}()
			var r blockReader
			r.reset(data)
			for r.next() {
			}
		}()
	}
}

// TestRewriteKeepsBlocks: changing a value in a full block rewrites it as
// one block; sized on whole keys, or rounded up, it came out as two half
// blocks, so every bulk update doubled the blocks it touched.
func TestRewriteKeepsBlocks(t *testing.T) {
	db := testBolt(t)
	var ms []mutation
	for i := range 20000 {
		ms = append(ms, mutation{key: uidKey(store.UserID(i + 1)), val: []byte("0123456789")})
	}
	blocks := func() int {
		n := 0
		db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("b")).Stats().KeyN; return nil })
		return n
	}
	update := func(ms []mutation) {
		t.Helper()
		if err := db.Update(func(tx *bolt.Tx) error {
			var a arena
			return newBlockWriter(tx.Bucket([]byte("b")), &a).apply(ms)
		}); err != nil {
			t.Fatal(err)
		}
	}
	update(ms)
	before := blocks()
	for i := 0; i < len(ms); i += 7 {
		ms[i].val = []byte("9876543210")
	}
	update(ms)
	if after := blocks(); after != before {
		t.Errorf("%d blocks after rewriting every block, want %d", after, before)
	}
	for _, x := range []int{0, 1, 127, 128, 16383, 16384, 1 << 21, 1<<28 + 5} {
		if got, want := uvarintLen(x), len(binary.AppendUvarint(nil, uint64(x))); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", x, got, want)
		}
	}
}
