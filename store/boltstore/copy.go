package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// ScanRecords returns up to limit users with ID > after with their whole
// PIN state, hashes included, in ID order: see store.Store. The users are
// read by scan, their PIN states and hashes in a second read transaction.
func (s *Store) ScanRecords(ctx context.Context, after store.UserID, limit int) ([]store.UserRecord, store.UserID, error) {
	if limit <= 0 {
		limit = 1024
	}
	out := make([]store.UserRecord, 0, min(limit, 4096))
	next, err := s.scan(ctx, store.UserQuery{}, after, limit, scanBudget(limit), false, true, func(id store.UserID, rec []byte, _ *store.User, _ *store.PinInfo) {
		out = append(out, store.UserRecord{User: decodeUser(id, rec)})
	})
	if err != nil || len(out) == 0 {
		return out, next, err
	}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		pins, hashes := newIter(bucket(tx, bucketPins)), newIter(bucket(tx, bucketHashes))
		for i := range out {
			r := &out[i]
			k := uidKey(r.User.ID)
			if v, ok := iterGet(pins, i == 0, k); ok {
				decodePin(v, &r.State)
			}
			if v, ok := iterGet(hashes, i == 0, k); ok {
				r.State.Hash, r.State.History = decodeHashes(v)
			}
		}
		return nil
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
	// The transaction's log takes the entries as they are: no entry is
	// made with op.
	return s.update(ctx, store.Op{}, func(tx *bolt.Tx, w *txw) error {
		for _, e := range entries {
			addAudit(&w.log, e, e.Target)
		}
		return nil
	})
}
