package boltstore

import (
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// ScanRecords returns up to limit users with ID > after with their whole
// PIN state, hashes included, in ID order: see store.Store.
func (s *Store) ScanRecords(ctx context.Context, after store.UserID, limit int) ([]store.UserRecord, store.UserID, error) {
	if limit <= 0 {
		limit = 1024
	}
	out := make([]store.UserRecord, 0, min(limit, 4096))
	var pins, hashes *blockIter
	next, err := s.scan(ctx, store.UserQuery{}, after, limit, func(tx *bolt.Tx, id store.UserID, rec string, _ *store.User) bool {
		r := store.UserRecord{User: decodeUserStr(id, rec)}
		first := pins == nil
		if first {
			pins, hashes = newIter(bucket(tx, bucketPins)), newIter(bucket(tx, bucketHashes))
		}
		k := uidKey(id)
		if v, ok := iterGet(pins, first, k); ok {
			decodePin(v, &r.State)
		}
		if v, ok := iterGet(hashes, first, k); ok {
			r.State.Hash, r.State.History = decodeHashes(v)
		}
		out = append(out, r)
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// CopyAudit appends entries copied from another directory's audit log as
// they are, in one transaction: see store.Store.
func (s *Store) CopyAudit(ctx context.Context, entries []store.AuditEntry) error {
	for i := range entries {
		if entries[i].Action == "" || entries[i].Time.IsZero() {
			return fmt.Errorf("copied audit entry %d (seq %d) has no action or time: %w", i, entries[i].Seq, store.ErrInvalid)
		}
	}
	// The transaction's own log is the copy: no entry is made with op.
	return s.update(ctx, store.Op{}, func(tx *bolt.Tx, w *txw) error {
		w.log.entries = append(w.log.entries, slices.Clone(entries)...)
		return nil
	})
}
