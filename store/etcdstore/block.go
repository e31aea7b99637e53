package etcdstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/pinsh/pinsh/store"
)

// The binary layout of a PIN state block (schema 2), chosen over schema
// 1's JSON because a scan decodes a block per 16 users and a bulk lock
// rewrites one per 16 locks: byte blockFormat, then the entries in ID
// order, each
//
//	offset   byte: the user's ID minus the block's first ID (0..15)
//	flags    byte: entryEnabled, entrySet, and which times follow
//	lock     byte: store.LockSource
//	len, local, global       uvarints
//	changed, expires, window, temp   varint Unix nanoseconds, each only if flagged
//	sip, name                uvarint length + bytes
//
// A JSON block starts with '{', so the two layouts never mistake each
// other; JSON blocks are read (a directory of schema 1, until Open has
// upgraded it) but never written.
const blockFormat = 0xb2

const (
	entryEnabled = 1 << iota
	entrySet
	entryChanged
	entryExpires
	entryWindow
	entryTemp
)

// binaryBlock reports whether kv holds a block in the binary layout.
func binaryBlock(kv *mvccpb.KeyValue) bool { return len(kv.Value) > 0 && kv.Value[0] == blockFormat }

// encodeBlock encodes blk in the binary layout.
func encodeBlock(blk pinBlock) ([]byte, error) {
	ids := slices.Sorted(maps.Keys(blk))
	b := make([]byte, 1, 1+len(ids)*64)
	b[0] = blockFormat
	first := firstUser(blockOf(ids[0]))
	for _, id := range ids {
		e := blk[id]
		if !e.summary {
			return nil, fmt.Errorf("user %d has no summary", id)
		}
		if blockOf(id) != blockOf(first) {
			return nil, fmt.Errorf("users %d and %d are in different blocks", first, id)
		}
		var flags byte
		times := []struct {
			flag byte
			t    time.Time
		}{{entryChanged, e.LastChange}, {entryExpires, e.Expires}, {entryWindow, e.WindowStart}, {entryTemp, e.TempLockUntil}}
		for _, t := range times {
			if !t.t.IsZero() {
				flags |= t.flag
			}
		}
		if e.enabled {
			flags |= entryEnabled
		}
		if e.IsSet {
			flags |= entrySet
		}
		b = append(b, byte(id-first), flags, byte(e.LockedBy))
		b = binary.AppendUvarint(b, uint64(e.Length))
		b = binary.AppendUvarint(b, uint64(e.LocalFailures))
		b = binary.AppendUvarint(b, uint64(e.GlobalFailures))
		for _, t := range times {
			if !t.t.IsZero() {
				b = binary.AppendVarint(b, t.t.UnixNano())
			}
		}
		for _, str := range []string{e.sipAddress, e.displayName} {
			b = binary.AppendUvarint(b, uint64(len(str)))
			b = append(b, str...)
		}
	}
	return b, nil
}

var errShortBlock = errors.New("block ends inside an entry")

// eachEntry calls fn with each entry of the binary block v, in ID order;
// first is the block's first user ID. e is reused between calls.
func eachEntry(v []byte, first store.UserID, fn func(id store.UserID, e *pinEntry)) error {
	if len(v) == 0 || v[0] != blockFormat {
		return errors.New("not a block in the binary layout")
	}
	p := v[1:]
	uvarint := func() (uint64, error) {
		x, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errShortBlock
		}
		p = p[n:]
		return x, nil
	}
	var e pinEntry
	for len(p) > 0 {
		if len(p) < 3 {
			return errShortBlock
		}
		off, flags, lock := p[0], p[1], p[2]
		p = p[3:]
		if off >= usersPerBlock {
			return fmt.Errorf("entry offset %d beyond the block's %d users", off, usersPerBlock)
		}
		e = pinEntry{summary: true, IsSet: flags&entrySet != 0, enabled: flags&entryEnabled != 0, LockedBy: store.LockSource(lock)}
		for _, n := range []*int{&e.Length, &e.LocalFailures, &e.GlobalFailures} {
			x, err := uvarint()
			if err != nil {
				return err
			}
			*n = int(x)
		}
		for _, t := range []struct {
			flag byte
			t    *time.Time
		}{{entryChanged, &e.LastChange}, {entryExpires, &e.Expires}, {entryWindow, &e.WindowStart}, {entryTemp, &e.TempLockUntil}} {
			if flags&t.flag == 0 {
				continue
			}
			x, n := binary.Varint(p)
			if n <= 0 {
				return errShortBlock
			}
			p = p[n:]
			*t.t = time.Unix(0, x).UTC()
		}
		for _, str := range []*string{&e.sipAddress, &e.displayName} {
			n, err := uvarint()
			if err != nil {
				return err
			}
			if uint64(len(p)) < n {
				return errShortBlock
			}
			*str = string(p[:n])
			p = p[n:]
		}
		fn(first+store.UserID(off), &e)
	}
	return nil
}
