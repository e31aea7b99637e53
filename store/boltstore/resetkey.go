package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// ResetKey makes key the database's PIN key, for when the key the stored
// PINs were hashed with is lost: in one transaction it drops every PIN hash
// and earlier hash, leaves each user that had a PIN without one (an admin
// lock stays; failure counts and temporary locks go, as they were about the
// old PIN), records key's id, and audits a reset_key entry per cleared PIN
// and one for the database. It does not write the key file: the caller
// creates it first (pinsh reset-key), so that a crash in between leaves a
// key file no PIN uses yet rather than PINs no key file can verify.
func (s *Store) ResetKey(ctx context.Context, op store.Op, key pinhash.Key) (cleared int, err error) {
	if err := op.Check(); err != nil {
		return 0, err
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	id := key.ID()
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		cleared = 0
		meta := bucket(tx, bucketMeta)
		old := meta.Get([]byte(metaKeyID))
		if bytes.Equal(old, id[:]) {
			return fmt.Errorf("%w: the PINs of %s already use key %s; nothing to reset (reset-key is for a lost key file)", store.ErrKey, s.path, key.ID())
		}
		users := newIter(bucket(tx, bucketUsers))
		pins := newIter(bucket(tx, bucketPins))
		var pm, hm []mutation
		var st store.PinState
		first := true
		for pins.first(); pins.valid; pins.next() {
			if cleared%8192 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			st = store.PinState{}
			decodePin(pins.val(), &st)
			if !st.IsSet {
				continue
			}
			k := bytes.Clone(pins.key())
			next := store.PinState{LastChange: op.Now}
			if st.LockedBy == store.LockedByAdmin {
				next.LockedBy = store.LockedByAdmin
			}
			pm = append(pm, mutation{key: k, val: encodePin(nil, &next)})
			target := fmt.Sprintf("user %d", keyUID(k))
			if uv, ok := iterGet(users, first, k); ok {
				target = decodeSIP(keyUID(k), uv)
			}
			first = false
			w.log.add("reset_key", target, "ok", "PIN cleared: its key was lost")
			cleared++
		}
		hashes := newIter(bucket(tx, bucketHashes))
		for hashes.first(); hashes.valid; hashes.next() {
			hm = append(hm, mutation{key: bytes.Clone(hashes.key()), del: true})
		}
		if err := w.blocks(bucketPins).apply(pm); err != nil {
			return err
		}
		if err := w.blocks(bucketHashes).apply(hm); err != nil {
			return err
		}
		if err := meta.Put([]byte(metaKeyID), bytes.Clone(id[:])); err != nil {
			return err
		}
		from := "none"
		if old != nil {
			from = fmt.Sprintf("%x", old)
		}
		w.log.add("reset_key", s.path, "ok", fmt.Sprintf("new PIN key %s replaces key %s; %d PINs cleared", key.ID(), from, cleared))
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.key = &key
	return cleared, nil
}
