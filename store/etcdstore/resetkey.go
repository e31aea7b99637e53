package etcdstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// resetMark starts the value of NAME/keyid while a ResetKey runs:
// "reset-to NEWID from OLDID".
const resetMark = "reset-to "

// ResetKey makes key the directory's PIN key, for when the key the stored
// PINs were hashed with is lost. A directory of any size does not fit in
// one etcd transaction, so it runs in three steps, each committed with its
// audit entries:
//
//  1. NAME/keyid becomes "reset-to NEWID from OLDID": from then on no host
//     can write or verify a hash (every hash write compares the key id), so
//     no PIN made with the old key can appear behind the sweep;
//  2. the PIN state blocks are swept in spans of blocks, as LockPins
//     does: every set PIN is cleared (an admin lock stays; failure counts
//     and temporary locks go) with a reset_key entry naming its user, and
//     the span's hashes are deleted;
//  3. NAME/keyid becomes key's id, with the reset_key entry of the
//     directory.
//
// A ResetKey interrupted (a process killed, a member lost) leaves the mark,
// and every host refuses PIN work with an error saying so until ResetKey
// runs again, with this key or another, and finishes. It returns how many
// PINs this call cleared, and fails with store.ErrKey when the PINs
// already use key.
func (s *Store) ResetKey(ctx context.Context, op store.Op, key pinhash.Key) (int, error) {
	if err := s.check(op); err != nil {
		return 0, err
	}
	kk, seqKey := s.key(keyKeyID), s.key(keyAuditSeq)
	id := key.ID().String()
	var mark, from string
	_, err := s.kv.update(ctx, []string{kk}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		old := ""
		if cur[kk] != nil {
			old = string(cur[kk].Value)
		}
		if old == id {
			return fmt.Errorf("%w: the PINs of etcd directory %s already use key %s; nothing to reset (reset-key is for a lost key file)", store.ErrKey, s.name, id)
		}
		from = old
		if rest, ok := strings.CutPrefix(old, resetMark); ok {
			_, from, _ = strings.Cut(rest, " from ") // an interrupted reset: take it over
		}
		if from == "" {
			from = "none"
		}
		mark = resetMark + id + " from " + from
		return t.put(kk, []byte(mark))
	})
	if err != nil {
		return 0, fmt.Errorf("etcd directory %s: reset the PIN key: %w", s.name, err)
	}
	end, err := s.readCounter(ctx, keyUserSeq, "users")
	if err != nil {
		return 0, err
	}
	cleared := 0
	for lo := uint64(0); lo <= blockOf(store.UserID(end)); lo += maxSpan {
		err := inSpans(lo, min(lo+maxSpan-1, blockOf(store.UserID(end))), func(lo, hi uint64) error {
			n, err := s.resetSpan(ctx, op, lo, hi)
			cleared += n
			return err
		})
		if err != nil {
			return cleared, fmt.Errorf("etcd directory %s: reset the PIN key: %w; %d PINs were cleared and audited so far: run reset-key again to finish", s.name, err, cleared)
		}
	}
	_, err = s.kv.update(ctx, []string{kk, seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		if cur[kk] == nil || string(cur[kk].Value) != mark {
			return fmt.Errorf("%w: another host changed the PIN key id meanwhile (to %q): check the audit log", store.ErrKey, valueOf(cur[kk]))
		}
		if err := t.put(kk, []byte(id)); err != nil {
			return err
		}
		return s.addAudit(cur[seqKey], t, op, store.AuditEntry{Action: "reset_key", Target: s.kv.prefix, Outcome: "ok",
			Detail: fmt.Sprintf("new PIN key %s replaces key %s; %d PINs cleared", id, from, cleared)})
	})
	if err != nil {
		return cleared, fmt.Errorf("etcd directory %s: reset the PIN key: %w", s.name, err)
	}
	s.keyMu.Lock()
	s.pinKey = &key
	s.keyMu.Unlock()
	return cleared, nil
}

func valueOf(kv *mvccpb.KeyValue) string {
	if kv == nil {
		return ""
	}
	return string(kv.Value)
}

// resetSpan clears the set PINs of blocks lo..hi and deletes their
// hashes, in one transaction; it returns how many PINs it cleared.
func (s *Store) resetSpan(ctx context.Context, op store.Op, lo, hi uint64) (int, error) {
	n := 0
	_, err := s.spanRMW(ctx, "reset_key", lo, hi, nil, func(resp *clientv3.TxnResponse, users map[string]*mvccpb.KeyValue, t *txn) error {
		n = 0
		blocks := resp.Responses[0].GetResponseRange().Kvs
		if len(blocks) == 0 {
			return nil
		}
		seq := first(resp, 1)
		if err := t.unchanged(s.key(keyAuditSeq), rev(seq)); err != nil {
			return err
		}
		var entries []store.AuditEntry
		for _, bkv := range blocks {
			blk, err := decodeBlock(bkv)
			if err != nil {
				return err
			}
			if err := s.summarize(blk, blockOf(firstUserOf(bkv.Key)), users); err != nil {
				return err
			}
			changed := false
			for _, id := range slices.Sorted(maps.Keys(blk)) {
				e := blk[id]
				if !e.IsSet {
					continue
				}
				next := store.PinState{LastChange: op.Now}
				if e.LockedBy == store.LockedByAdmin {
					next.LockedBy = store.LockedByAdmin
				}
				blk[id], changed = e.withState(&next), true
				n++
				entries = append(entries, store.AuditEntry{Action: "reset_key", Target: e.sipAddress, Outcome: "ok", Detail: "PIN cleared: its key was lost"})
			}
			if !changed {
				continue
			}
			if err := t.unchanged(string(bkv.Key), bkv.ModRevision); err != nil {
				return err
			}
			if err := s.putBlock(t, string(bkv.Key), blk); err != nil {
				return err
			}
		}
		// No host writes hashes while the key id holds the mark: delete
		// every hash of the span in one operation.
		if err := t.write(s.hashesKey(firstUser(lo)), 0, clientv3.OpDelete(s.hashesKey(firstUser(lo)), clientv3.WithRange(s.hashesKey(firstUser(hi+1))))); err != nil {
			return err
		}
		return s.addAudit(seq, t, op, entries...)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
