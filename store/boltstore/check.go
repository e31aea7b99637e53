package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// checkFile reads the whole database in tx and fails with a corruptError
// panic (or returns bbolt's first complaint) at the first damage it finds:
//
//   - bbolt's consistency check: every page reachable once, of the right
//     type, within the file, not also free, keys in order;
//   - every block of every block bucket: entries decode, keys strictly
//     ascend within and across blocks, each block is stored under its first
//     key, and every value decodes as its bucket's record (users, PIN
//     state, hashes, index entries);
//   - every policy, role and audit block decodes;
//   - every PIN state and hash is kept under the ID of a user. pinsh
//     writes them only for a user it has read in the same transaction and
//     removes them with the user, so one without a user is damage; and a
//     count of PIN states (CountPinInfos) relies on there being none,
//     counting them without looking their users up.
//
// There are no checksums in a bbolt page, so a flipped bit inside a string
// that still decodes goes unseen; everything that would make a read fail,
// or a write build on a broken page, is found. It costs a full read of the
// file: see the note on Store.checked.
func checkFile(tx *bolt.Tx) error {
	var first error
	for err := range tx.Check() { // drain: Check's goroutine writes until done
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	var users idSet // the IDs of the users bucket, read before pins and hashes
	for _, name := range allBuckets() {
		b := tx.Bucket([]byte(name))
		if b == nil {
			corrupt("bucket %s is missing", name)
		}
		switch {
		case isBlockBucket(name):
			checkBlocks(b, name, &users)
		case name == bucketPolicies:
			b.ForEach(func(_, v []byte) error { decodePolicy(v); return nil })
		case name == bucketRoles:
			b.ForEach(func(_, v []byte) error { decodeRole(v); return nil })
		case name == bucketAudit:
			b.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					corrupt("bad audit key %x", k)
				}
				walkAuditBlock(binary.BigEndian.Uint64(k), v, false, func(*store.AuditEntry) bool { return true })
				return nil
			})
		}
	}
	return nil
}

// idSet is a set of user IDs: a bitmap, as IDs are handed out in sequence
// from 1, and a map for any beyond a bitmap of 8 MiB.
type idSet struct {
	bits []uint64
	big  map[store.UserID]bool
}

const idSetBitmapMax = 1 << 26

func (s *idSet) add(id store.UserID) {
	if id >= idSetBitmapMax {
		if s.big == nil {
			s.big = map[store.UserID]bool{}
		}
		s.big[id] = true
		return
	}
	w := int(id / 64)
	if w >= len(s.bits) {
		s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
	}
	s.bits[w] |= 1 << (id % 64)
}

func (s *idSet) has(id store.UserID) bool {
	if id >= idSetBitmapMax {
		return s.big[id]
	}
	w := int(id / 64)
	return w < len(s.bits) && s.bits[w]&(1<<(id%64)) != 0
}

// view returns b as a string without copying it: the check decodes a
// million user records only to see that they decode, and drops what it
// decoded before b's transaction ends.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// checkBlocks decodes every entry of the block bucket b and its value. It
// adds the IDs of the users bucket to users, and finds the user of every
// entry of pins and hashes there.
func checkBlocks(b *bolt.Bucket, name string, users *idSet) {
	var r blockReader
	var prev []byte
	var pin store.PinState
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r.reset(v)
		if !r.next() {
			corrupt("%s: empty block %x", name, k)
		}
		if !bytes.Equal(r.key, k) {
			corrupt("%s: block %x starts with key %x", name, k, r.key)
		}
		for ok := true; ok; ok = r.next() {
			if prev != nil && bytes.Compare(r.key, prev) <= 0 {
				corrupt("%s: key %x after %x", name, r.key, prev)
			}
			prev = append(prev[:0], r.key...)
			switch name {
			case bucketUsers:
				id := keyUID(r.key)
				decodeUserStr(id, view(r.val))
				users.add(id)
			case bucketPins, bucketHashes:
				if id := keyUID(r.key); !users.has(id) {
					corrupt("%s: an entry of user %d, who has no user record", name, id)
				}
				if name == bucketPins {
					decodePin(r.val, &pin)
				} else {
					decodeHashes(r.val)
				}
			case bucketAddr, bucketLogon, bucketDN:
				if _, n := binary.Uvarint(r.val); n <= 0 || n != len(r.val) {
					corrupt("%s: bad index value %x", name, r.val)
				}
			case bucketName, bucketOU:
				if len(r.val) != 0 || len(r.key) < 8 {
					corrupt("%s: bad index entry %x", name, r.key)
				}
			}
		}
	}
}

// beforeWrite is called before every write transaction. It refuses to
// write to a file found damaged, and before the first write of a Store it
// checks the whole file (checkFile) unless it is new or unchanged since
// its last check (Options.Checked): damage anywhere is found before a
// change is built on it, not by the next command. At a million users the
// check reads about 440 MB of mapped file in about 0.26 s (README, Files
// pinsh keeps).
func (s *Store) beforeWrite() error {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.damage != nil {
		return s.damage
	}
	if s.checked {
		return nil
	}
	if fi, err := os.Stat(s.path); err == nil && s.opts.Checked.matches(stampOf(fi)) {
		s.checked = true
		return nil
	}
	if err := checkTx(s.db, s.path, checkFile, false); err != nil {
		if !errors.Is(err, store.ErrDamaged) {
			err = damagedErr(s.path, err) // bbolt's consistency check
		}
		s.damage = err
		return err
	}
	s.checked = true
	return nil
}

// noteDamage records damage a transaction ran into: later writes are
// refused.
func (s *Store) noteDamage(err error) {
	if !errors.Is(err, store.ErrDamaged) {
		return
	}
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	if s.damage == nil {
		s.damage = err
	}
}

// Checked returns the stamp of the file as it was when this Store last
// knew it whole and healthy (checked, or written by this Store after a
// check), for Options.Checked of a later Open; the zero FileStamp when it
// never checked it. It is taken at Close, while the lock is still held.
func (s *Store) Checked() FileStamp {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	return s.stamp
}

// Created reports whether Open created the database file.
func (s *Store) Created() bool { return s.created }
