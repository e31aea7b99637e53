package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// Keys under the directory's prefix NAME/ (see the package doc).
const (
	keyMeta     = "meta"
	keyKeyID    = "keyid"
	keyAuditSeq = "seq/audit"
	prefixAudit = "a/"
	prefixRole  = "role/"
	prefixPol   = "pol/"
)

// magic and schema identify a directory written by this package. Schema
// 2 keeps every user's summary in its PIN state block, in a binary layout
// (see block.go); schema 1 kept JSON blocks of the users with a PIN state
// only. Open upgrades a directory of schema 1 (see upgrade).
const (
	magic  = "pinsh directory"
	schema = 2
)

// meta is the value of NAME/meta.
type meta struct {
	Magic   string    `json:"magic"`
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	Creator string    `json:"creator"`
	// Upgrading says an upgrade to Schema has begun and may not have
	// finished: a host opening the directory finishes it.
	Upgrading bool `json:"upgrading,omitempty"`
}

// Options configure Open.
type Options struct {
	// KeyFile is the PIN key file (see store/pinhash); default
	// pinhash.DefaultKeyFile(). Every host of a directory needs the same
	// key: the key id is kept in the cluster, and another key is refused.
	KeyFile string
	// Creator becomes the first CsAdministrator of a new directory;
	// required when the directory does not exist yet.
	Creator string
	// Now gives the creation time of a new directory; default time.Now.
	Now func() time.Time
	// HashParams are the argon2id parameters of new PIN hashes; default
	// pinhash.DefaultParams().
	HashParams pinhash.Params
	// NoCompact leaves the cluster's history alone. By default a Store
	// compacts the cluster (all of it: etcd's history is one) up to 1,000
	// revisions behind its latest commit every 10,000 revisions, since
	// pinsh never reads old revisions. Set it on a cluster shared with
	// programs that do (watches from old revisions), and run the cluster
	// with --auto-compaction-mode and --auto-compaction-retention instead.
	NoCompact bool
}

// Store is pinsh's directory in an etcd cluster: a store.Store (see the
// package doc).
type Store struct {
	kv   *kv
	name string
	opts Options

	keyMu  sync.Mutex
	pinKey *pinhash.Key

	ahead readAhead // the next window of a PIN info scan

	closeOnce sync.Once

	// beforeRemovePolicy, when set (by tests), runs between RemovePolicy's
	// last sweep and its final commit.
	beforeRemovePolicy func()
}

// Open opens the directory NAME on the cluster cli is connected to,
// creating it when it does not exist (the global policy, the standard roles
// with opts.Creator as CsAdministrator, and the first audit entry, in one
// transaction). Two hosts creating one directory at once end with one
// directory: the other host opens the one that won. Open refuses keys
// under NAME that are not a pinsh directory (store.ErrNotPinsh) and a
// directory written by a newer pinsh (store.ErrNewerSchema). The Store
// does not own cli: closing the Store leaves it open.
func Open(ctx context.Context, cli *clientv3.Client, name string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HashParams == (pinhash.Params{}) {
		opts.HashParams = pinhash.DefaultParams()
	}
	if opts.KeyFile == "" {
		kf, err := pinhash.DefaultKeyFile()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrKey, err)
		}
		opts.KeyFile = kf
	}
	s := &Store{kv: newKV(cli, name), name: name, opts: opts}
	if opts.NoCompact {
		s.kv.compactEvery = 0
	}
	for {
		// Read meta and whether any key exists under NAME/ at one revision.
		r, err := cli.Txn(ctx).Then(
			clientv3.OpGet(s.key(keyMeta)),
			clientv3.OpGet(s.kv.prefix, clientv3.WithPrefix(), clientv3.WithLimit(1), clientv3.WithKeysOnly()),
		).Commit()
		if err != nil {
			return nil, fmt.Errorf("open etcd directory %s: %w", name, err)
		}
		if m := r.Responses[0].GetResponseRange().Kvs; len(m) == 1 {
			cur, err := s.checkMeta(m[0].Value)
			if err != nil {
				return nil, err
			}
			if cur.Schema < schema || cur.Upgrading {
				if err := s.upgrade(ctx, m[0], cur); err != nil {
					return nil, err
				}
				continue
			}
			// Best effort: garbage left by killed processes must not
			// keep a host from opening the directory.
			s.kv.sweep(ctx, time.Now())
			return s, nil
		}
		if keys := r.Responses[1].GetResponseRange().Kvs; len(keys) > 0 {
			return nil, fmt.Errorf("open etcd directory %s: %w: keys under %s exist (e.g. %s) but no %s; choose another NAME",
				s.name, store.ErrNotPinsh, s.kv.prefix, keys[0].Key, s.key(keyMeta))
		}
		created, err := s.create(ctx)
		if err != nil {
			return nil, err
		}
		if created {
			return s, nil
		}
		// Another host created it first: read what it wrote.
	}
}

func (s *Store) key(k string) string { return s.kv.prefix + k }

func (s *Store) checkMeta(v []byte) (meta, error) {
	var m meta
	if err := json.Unmarshal(v, &m); err != nil || m.Magic != magic {
		return m, fmt.Errorf("open etcd directory %s: %w: key %s holds something else; choose another NAME", s.name, store.ErrNotPinsh, s.key(keyMeta))
	}
	if m.Schema > schema {
		return m, fmt.Errorf("open etcd directory %s: %w (schema %d; this pinsh reads %d): upgrade pinsh on this host", s.name, store.ErrNewerSchema, m.Schema, schema)
	}
	return m, nil
}

// upgrade brings a directory of schema 1 to schema 2: it marks meta
// "schema 2, upgrading" (from then on a pinsh of schema 1 refuses to open
// the directory), gives every user an entry with its summary in its PIN
// state block, span by span under compare-and-swap (upgradeSpan), and
// clears the mark. A host that finds the mark (an upgrade interrupted, or
// running elsewhere) does the same: each step can be done twice. kv is
// meta as read, m its value.
func (s *Store) upgrade(ctx context.Context, kv *mvccpb.KeyValue, m meta) error {
	fail := func(err error) error {
		return fmt.Errorf("open etcd directory %s: upgrade it from schema %d to %d: %w", s.name, m.Schema, schema, err)
	}
	put := func(kv *mvccpb.KeyValue, m meta) (int64, bool, error) {
		t := &txn{}
		if err := t.unchanged(string(kv.Key), kv.ModRevision); err != nil {
			return 0, false, err
		}
		if err := s.putJSON(t, keyMeta, m); err != nil {
			return 0, false, err
		}
		return s.kv.commit(ctx, t)
	}
	if !m.Upgrading {
		m.Schema, m.Upgrading = schema, true
		rev, ok, err := put(kv, m)
		if err != nil {
			return fail(err)
		}
		if !ok {
			return nil // another host changed meta first: read it again
		}
		kv = &mvccpb.KeyValue{Key: kv.Key, ModRevision: rev}
	}
	end, err := s.readCounter(ctx, keyUserSeq, "users")
	if err != nil {
		return fail(err)
	}
	for lo := uint64(0); lo <= blockOf(store.UserID(end)); lo += maxSpan {
		if err := inSpans(lo, lo+maxSpan-1, func(lo, hi uint64) error { return s.upgradeSpan(ctx, lo, hi) }); err != nil {
			return fail(err)
		}
	}
	m.Upgrading = false
	if _, _, err := put(kv, m); err != nil {
		return fail(err)
	}
	return nil // done, or another host finished first
}

// upgradeSpan rewrites the blocks lo..hi of a directory being upgraded so
// that each has an entry with its summary for each of its users, in the
// binary layout.
func (s *Store) upgradeSpan(ctx context.Context, lo, hi uint64) error {
	_, err := s.kv.rmw(ctx, "upgrade", s.spanGets(lo, hi, true), func(resp *clientv3.TxnResponse, t *txn) error {
		blocks := byKey(&clientv3.TxnResponse{Responses: resp.Responses[:1]})
		users := byKey(&clientv3.TxnResponse{Responses: resp.Responses[2:]})
		for b := lo; b <= hi; b++ {
			bk := s.blockKey(b)
			kv := blocks[bk]
			if kv != nil && binaryBlock(kv) {
				continue // summarized already (by a host of schema 2)
			}
			blk, err := decodeBlock(kv)
			if err != nil {
				return err
			}
			if err := s.summarize(blk, b, users); err != nil {
				return err
			}
			if len(blk) == 0 && kv == nil {
				continue
			}
			if err := t.unchanged(bk, rev(kv)); err != nil {
				return err
			}
			if err := s.putBlock(t, bk, blk); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// create writes a new directory unless its meta exists. It reports false
// when another host created it first.
func (s *Store) create(ctx context.Context) (bool, error) {
	if s.opts.Creator == "" {
		return false, fmt.Errorf("create etcd directory %s: no operator given to become its first CsAdministrator", s.name)
	}
	now := s.opts.Now()
	t := &txn{}
	if err := t.unchanged(s.key(keyMeta), 0); err != nil {
		return false, err
	}
	if err := s.putJSON(t, keyMeta, meta{Magic: magic, Schema: schema, Created: now, Creator: s.opts.Creator}); err != nil {
		return false, err
	}
	if err := s.putJSON(t, prefixPol+store.GlobalPolicy, store.DefaultPolicy(store.GlobalPolicy)); err != nil {
		return false, err
	}
	for _, role := range store.StandardRoles() {
		if role.Identity == store.CsAdministrator {
			role.Members = []string{s.opts.Creator}
		}
		if err := putRole(s, t, role); err != nil {
			return false, err
		}
	}
	op := store.Op{Operator: s.opts.Creator, Now: now}
	if err := s.addAudit(nil, t, op, store.AuditEntry{
		Action: "create_database", Target: s.kv.prefix, Outcome: "ok", Detail: s.opts.Creator + " is CsAdministrator",
	}); err != nil {
		return false, err
	}
	_, ok, err := s.kv.commit(ctx, t)
	if err != nil {
		return false, fmt.Errorf("create etcd directory %s: %w", s.name, err)
	}
	return ok, nil
}

func (s *Store) putJSON(t *txn, k string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.put(s.key(k), b)
}

// Close ends the Store's session (its witness keys). It does not close the
// client. Calls after Close fail with store.ErrClosed.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		defer cancel()
		err = s.kv.close(ctx)
		s.kv.closed.Store(true)
	})
	return err
}

// hashKey returns the PIN key, loading it on first use: the key file must
// exist and match when the directory already has a key id (NAME/keyid);
// otherwise a missing key file is created. It reports whether the id is
// recorded; keyGuard records it in the transaction that writes the first
// hash.
func (s *Store) hashKey(ctx context.Context) (pinhash.Key, bool, error) {
	r, err := s.kv.cli.Get(ctx, s.key(keyKeyID))
	if err != nil {
		return pinhash.Key{}, false, fmt.Errorf("etcd directory %s: read the PIN key id: %w", s.name, err)
	}
	var cur *mvccpb.KeyValue
	if len(r.Kvs) == 1 {
		cur = r.Kvs[0]
	}
	return s.keyFor(cur)
}

// keyFor is hashKey given what was read of NAME/keyid (nil: absent).
func (s *Store) keyFor(cur *mvccpb.KeyValue) (pinhash.Key, bool, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	var want string
	if cur != nil {
		want = string(cur.Value)
	}
	if next, ok := strings.CutPrefix(want, resetMark); ok {
		next, _, _ = strings.Cut(next, " ")
		return pinhash.Key{}, false, fmt.Errorf("%w: the PIN key of etcd directory %s is being reset to key %s (pinsh reset-key), or a reset was interrupted: run pinsh reset-key with that key file again to finish it",
			store.ErrKey, s.name, next)
	}
	if s.pinKey != nil {
		if want != "" && want != s.pinKey.ID().String() {
			return pinhash.Key{}, false, s.otherKey(*s.pinKey, want)
		}
		return *s.pinKey, want != "", nil
	}
	k, err := pinhash.LoadKey(s.opts.KeyFile, want == "")
	if errors.Is(err, pinhash.ErrNoKeyFile) {
		return pinhash.Key{}, false, fmt.Errorf("%w: key file %s is missing, and the PINs of etcd directory %s were hashed with key %s: copy the key file from another host of this directory or name it with --key (PINSH_KEY_FILE)",
			store.ErrKey, s.opts.KeyFile, s.name, want)
	}
	if err != nil {
		return pinhash.Key{}, false, fmt.Errorf("%w: %v", store.ErrKey, err)
	}
	if want != "" && k.ID().String() != want {
		return pinhash.Key{}, false, s.otherKey(k, want)
	}
	s.pinKey = &k
	return k, want != "", nil
}

func (s *Store) otherKey(k pinhash.Key, want string) error {
	return fmt.Errorf("%w: key file %s holds key %s, but the PINs of etcd directory %s are hashed with key %s: every host of a directory needs the same key file; name it with --key (PINSH_KEY_FILE)",
		store.ErrKey, s.opts.KeyFile, k.ID(), s.name, want)
}

// keyGuard makes t, which writes PIN hashes, commit only if the
// directory's key id is still what an update read (cur, nil: absent; the
// update compares its mod revision): it returns the key to hash with,
// and records its id when the directory has none, so two hosts with
// different keys cannot both write the first hash.
func (s *Store) keyGuard(cur *mvccpb.KeyValue, t *txn) (pinhash.Key, error) {
	k, recorded, err := s.keyFor(cur)
	if err != nil || recorded {
		return k, err
	}
	return k, t.put(s.key(keyKeyID), []byte(k.ID().String()))
}

// addAudit adds entries to t, stamped with op, as one key
// NAME/a/LASTSEQ holding them all, and advances NAME/seq/audit; cur is what
// kv.update read of NAME/seq/audit (nil: a new directory). The caller's
// update must have read NAME/seq/audit (auditKeys), so that t compares it.
func (s *Store) addAudit(cur *mvccpb.KeyValue, t *txn, op store.Op, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var seq uint64
	if cur != nil {
		if _, err := fmt.Sscanf(string(cur.Value), "%d", &seq); err != nil {
			return fmt.Errorf("%w: %s holds %q, not an audit sequence number", store.ErrDamaged, cur.Key, cur.Value)
		}
	} else if err := t.unchanged(s.key(keyAuditSeq), 0); err != nil {
		return err
	}
	for i := range entries {
		seq++
		entries[i].Seq = seq
		entries[i].Time = op.Now
		entries[i].Operator = op.Operator
		entries[i].ActedBy = op.ActedBy
	}
	b, err := encodeAudit(entries)
	if err != nil {
		return err
	}
	if err := t.put(s.key(auditKey(seq)), b); err != nil {
		return err
	}
	return t.put(s.key(keyAuditSeq), fmt.Appendf(nil, "%d", seq))
}

// auditKey is the key of the audit block whose last entry is seq: 16 hex
// digits, so that keys sort as numbers.
func auditKey(seq uint64) string { return fmt.Sprintf("%s%016x", prefixAudit, seq) }

// Audit records an event that changes nothing else.
func (s *Store) Audit(ctx context.Context, op store.Op, e store.AuditEntry) error {
	if err := s.check(op); err != nil {
		return err
	}
	if e.Action == "" {
		return fmt.Errorf("audit entry without an action: %w", store.ErrInvalid)
	}
	seqKey := s.key(keyAuditSeq)
	_, err := s.kv.update(ctx, []string{seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		return s.addAudit(cur[seqKey], t, op, e)
	})
	if err != nil {
		return fmt.Errorf("etcd directory %s: audit %s: %w", s.name, e.Action, err)
	}
	return nil
}

func (s *Store) check(op store.Op) error {
	if s.kv.closed.Load() {
		return s.closedErr()
	}
	return op.Check()
}

// readSmall reads every key under prefix (policies, roles: a few keys each)
// in one request; what names them in errors.
func (s *Store) readSmall(ctx context.Context, prefix, what string) ([]*mvccpb.KeyValue, error) {
	if s.kv.closed.Load() {
		return nil, s.closedErr()
	}
	r, err := s.kv.cli.Get(ctx, s.key(prefix), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd directory %s: read %s: %w", s.name, what, err)
	}
	return r.Kvs, nil
}

func (s *Store) closedErr() error {
	return fmt.Errorf("etcd directory %s: %w", s.name, store.ErrClosed)
}

// ScanAudit returns up to limit entries selected by q after afterSeq,
// oldest first. Audit blocks are never rewritten or removed, so the windows
// need not be read at one revision (which a compaction of the cluster
// could remove mid-scan): every block up to the sequence number read first
// is the same at any later revision. It reads the log in key windows of max(limit, 128) entries
// (etcd counts a whole remaining range even for a limited read), and
// examines at most max(64*limit, 65536) entries per call, like the bbolt
// backend.
func (s *Store) ScanAudit(ctx context.Context, q store.AuditQuery, afterSeq uint64, limit int) ([]store.AuditEntry, uint64, error) {
	if s.kv.closed.Load() {
		return nil, 0, s.closedErr()
	}
	if limit <= 0 {
		limit = 1024
	}
	end, err := s.readCounter(ctx, keyAuditSeq, "the audit log")
	if err != nil {
		return nil, 0, err
	}
	budget := max(limit*64, 1<<16)
	window := uint64(max(limit, MaxTxnOps)) // a block holds fewer than MaxTxnOps entries
	var out []store.AuditEntry
	last := afterSeq
	for from := afterSeq + 1; from <= end; from += window {
		to := min(from+window, end+1)
		// Blocks are keyed by their last entry: the block holding from is
		// the first key at or after it.
		w, err := s.kv.cli.Get(ctx, s.key(auditKey(from)), clientv3.WithRange(s.key(auditKey(to))))
		if err != nil {
			return nil, 0, fmt.Errorf("etcd directory %s: read the audit log: %w", s.name, err)
		}
		for _, kv := range w.Kvs {
			block, err := decodeAudit(kv)
			if err != nil {
				return nil, 0, err
			}
			for _, e := range block {
				if e.Seq <= last {
					continue
				}
				last = e.Seq
				budget--
				if q.Match(e) {
					out = append(out, e)
				}
				if len(out) >= limit || budget <= 0 {
					return out, last, nil
				}
			}
		}
	}
	return out, 0, nil
}

var _ store.Store = (*Store)(nil)
