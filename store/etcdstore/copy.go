package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
)

// copyBlock is how many copied audit entries one key a/SEQ holds: as many
// as a bulk change's block, so that ScanAudit's windows stay small.
const copyBlock = 100

// ScanRecords returns up to limit users with ID > after with their whole
// PIN state, hashes included, in ID order (see store.Store). The users and
// their blocks are read at one revision, their hashes (h/ID, one range over
// the chunk's IDs) just after.
func (s *Store) ScanRecords(ctx context.Context, after store.UserID, limit int) ([]store.UserRecord, store.UserID, error) {
	var out []store.UserRecord
	next, err := s.scan(ctx, store.UserQuery{}, after, limit, true, func(u *store.User, e pinEntry) {
		out = append(out, store.UserRecord{User: *u, State: e.state()})
	})
	if err != nil || len(out) == 0 {
		return out, next, err
	}
	at := make(map[string]int, len(out))
	for i := range out {
		at[s.hashesKey(out[i].User.ID)] = i
	}
	w, err := s.kv.read(ctx, []clientv3.Op{clientv3.OpGet(s.hashesKey(out[0].User.ID), clientv3.WithRange(s.hashesKey(out[len(out)-1].User.ID+1)))})
	if err != nil {
		return nil, 0, fmt.Errorf("etcd directory %s: read PIN hashes: %w", s.name, err)
	}
	for _, kv := range w.Responses[0].GetResponseRange().Kvs {
		i, ok := at[string(kv.Key)]
		if !ok {
			continue // a removed user's, or one added since the users were read
		}
		h, err := decodeHashes(kv)
		if err != nil {
			return nil, 0, err
		}
		out[i].State.Hash, out[i].State.History = h.Hash, h.History
	}
	return out, next, nil
}

// CopyAudit appends entries copied from another directory's audit log as
// they are (see store.Store): copyBlock entries a key, as many keys as fit
// in a transaction, each transaction comparing and advancing seq/audit.
func (s *Store) CopyAudit(ctx context.Context, entries []store.AuditEntry) error {
	if s.kv.closed.Load() {
		return s.closedErr()
	}
	for i := range entries {
		if entries[i].Action == "" || entries[i].Time.IsZero() {
			return fmt.Errorf("copied audit entry %d (seq %d) has no action or time: %w", i, entries[i].Seq, store.ErrInvalid)
		}
	}
	seqKey := s.key(keyAuditSeq)
	for len(entries) > 0 {
		done := 0
		_, err := s.kv.update(ctx, []string{seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
			seq, err := parseSeq(cur[seqKey])
			if err != nil {
				return err
			}
			done = 0
			for done < len(entries) {
				block := slices.Clone(entries[done:min(done+copyBlock, len(entries))])
				for i := range block {
					block[i].Seq = seq + uint64(i) + 1
				}
				b, err := json.Marshal(block)
				if err != nil {
					return err
				}
				key := s.key(auditKey(block[len(block)-1].Seq))
				// Keep room for the write of seq/audit.
				if !t.room(0, 2, len(key)+len(b)+len(seqKey)+20) {
					break
				}
				if err := t.put(key, b); err != nil {
					return err
				}
				seq += uint64(len(block))
				done += len(block)
			}
			if done == 0 {
				return fmt.Errorf("copied audit entries from seq %d: %d of them do not fit in one etcd request: %w", entries[0].Seq, min(copyBlock, len(entries)), errTxnFull)
			}
			return t.put(seqKey, fmt.Appendf(nil, "%d", seq))
		})
		if err != nil {
			return fmt.Errorf("etcd directory %s: copy the audit log: %w", s.name, err)
		}
		entries = entries[done:]
	}
	return nil
}
