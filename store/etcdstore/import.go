package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// importBatch is how many rows one ImportUsers transaction takes: a
// typical row (a SIP address, a logon, a display name) costs 4 writes and
// 2 compares, so 28 rows, their blocks, the ID counter and the audit block
// fit in etcd's 128 operations. Rows with more index entries (a UPN, a DN,
// a tag policy: up to 7 writes) make the transaction too big; the batch is
// then halved (commitRows).
const importBatch = 28

// loadBatch is how many rows one LoadUsers transaction takes: a row with a
// PIN state also writes its hashes (5 writes for a typical row), halved as
// ImportUsers' batches when they do not fit.
const loadBatch = 24

// importRow is a normalized row waiting for its batch.
type importRow struct {
	line  int
	user  store.User
	ix    userIndex
	pin   string          // LoadRow.Pin
	state *store.PinState // nil: no PIN state
}

// ImportUsers adds users in transactions of importBatch rows, each with
// the rows' audit entries. A row repeating a unique value of a user already
// stored (also by another host, read and compared in the row's
// transaction) or of an earlier row of its batch is refused with
// store.ErrDuplicate; rows of earlier batches are stored by then, so a
// repeat of one is refused as "already used".
func (s *Store) ImportUsers(ctx context.Context, op store.Op, rows iter.Seq[store.ImportRow], progress func(imported int)) (store.ImportReport, error) {
	return s.load(ctx, op, "import_users", importBatch, func(yield func(store.LoadRow, error) bool) {
		for r := range rows {
			if !yield(store.LoadRow{Line: r.Line, User: r.User}, r.Err) {
				return
			}
		}
	}, progress)
}

// LoadUsers is ImportUsers for rows with a PIN state, in transactions of
// loadBatch rows. Rows with the same Pin share one hash; a given
// State.Hash is stored as it is. Hashes are written under the key id
// compare, as SetPins does.
func (s *Store) LoadUsers(ctx context.Context, op store.Op, rows iter.Seq[store.LoadRow], progress func(imported int)) (store.ImportReport, error) {
	return s.load(ctx, op, "load_users", loadBatch, func(yield func(store.LoadRow, error) bool) {
		for r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}, progress)
}

func (s *Store) load(ctx context.Context, op store.Op, action string, size int, rows iter.Seq2[store.LoadRow, error], progress func(imported int)) (store.ImportReport, error) {
	var rep store.ImportReport
	if err := s.check(op); err != nil {
		return rep, err
	}
	hashes := map[string][]byte{} // PIN -> its one hash for this call
	batch := make([]importRow, 0, size)
	var last uint64 // the ID counter after the batch before (0: not known)
	var commitRows func(rows []importRow) error
	commitRows = func(rows []importRow) error {
		n, bad, err := s.importBatch(ctx, op, action, rows, hashes, &last)
		if errors.Is(err, errTxnFull) && len(rows) > 1 {
			if err := commitRows(rows[:len(rows)/2]); err != nil {
				return err
			}
			return commitRows(rows[len(rows)/2:])
		}
		if err != nil {
			return err
		}
		rep.Imported += n
		for _, e := range bad {
			rep.AddBad(e)
		}
		if progress != nil {
			progress(rep.Imported)
		}
		return nil
	}
	flush := func() error {
		err := commitRows(batch)
		batch = batch[:0]
		return err
	}
	for r, rerr := range rows {
		if rerr != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: rerr})
			continue
		}
		u, err := store.NormalizeUser(r.User)
		if err != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: err})
			continue
		}
		row := importRow{line: r.Line, user: u, ix: s.indexOf(&u), pin: r.Pin}
		if r.Pin != "" || !zeroState(&r.State) {
			if r.Pin == "" && r.State.IsSet && r.State.Hash == nil {
				rep.AddBad(store.RowError{Line: r.Line, Err: fmt.Errorf("%s: a PIN state marked set needs a PIN or a hash: %w", u.SipAddress, store.ErrInvalid)})
				continue
			}
			st := r.State
			row.state = &st
		}
		batch = append(batch, row)
		if len(batch) == size {
			if err := flush(); err != nil {
				rep.Sort()
				return rep, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			rep.Sort()
			return rep, err
		}
	}
	rep.Sort()
	return rep, nil
}

func zeroState(st *store.PinState) bool {
	return entryOf(st) == pinEntry{} && st.Hash == nil && len(st.History) == 0
}

// importBatch commits the good rows of one batch and returns how many it
// added and the rows it refused. Each row's entry goes in the block of the
// ID it will get: the batch takes the ID counter as *counter says (the
// counter after the batch before; 0: read it first), and starts over,
// reading the counter, should another host have taken IDs meanwhile. It
// leaves the counter after its commit in *counter.
func (s *Store) importBatch(ctx context.Context, op store.Op, action string, rows []importRow, hashes map[string][]byte, counter *uint64) (int, []store.RowError, error) {
	seqKey, auditKey, kk := s.key(keyUserSeq), s.key(keyAuditSeq), s.key(keyKeyID)
	withHash := false
	for _, r := range rows {
		if r.state != nil {
			withHash = withHash || r.pin != "" || r.state.Hash != nil || len(r.state.History) > 0
		}
	}
	if withHash {
		if err := s.hashRows(ctx, rows, hashes); err != nil {
			return 0, nil, err
		}
	}
	checks := make([]func(map[string]*mvccpb.KeyValue) error, len(rows))
	base := []string{seqKey, auditKey}
	if withHash {
		base = append(base, kk)
	}
	for i := range rows {
		var pk string
		pk, checks[i] = s.policyCheck(&rows[i].user)
		base = append(append(base, pk), rows[i].ix.keys()...)
	}
	bad := make([]error, len(rows))
	for range maxRetries {
		added := 0
		keys := slices.Clip(base)
		guess := *counter
		if guess == 0 {
			var err error
			if guess, err = s.readCounter(ctx, keyUserSeq, "users"); err != nil {
				return 0, nil, err
			}
		}
		for b := blockOf(store.UserID(guess + 1)); b <= blockOf(store.UserID(guess+uint64(len(rows)))); b++ {
			keys = append(keys, s.blockKey(b))
		}
		_, err := s.kv.update(ctx, dedupe(slices.Clone(keys)), func(cur map[string]*mvccpb.KeyValue, t *txn) error {
			clear(bad)
			added = 0
			last, err := parseSeq(cur[seqKey])
			if err != nil {
				return err
			}
			if last != guess {
				return errStale
			}
			taken := map[string]int{} // unique key -> line of the batch's row holding it
			w := writes{}
			blocks := map[uint64]pinBlock{}
			var entries []store.AuditEntry
			hashed := false
			for i := range rows {
				r := &rows[i]
				if bad[i] = checks[i](cur); bad[i] != nil {
					continue
				}
				if bad[i] = checkUnique(cur, r.ix, 0); bad[i] != nil {
					continue
				}
				for _, k := range r.ix.unique {
					if line, ok := taken[k.key]; ok {
						bad[i] = &store.FieldError{Field: k.field, Value: k.value, Err: store.ErrDuplicate,
							Reason: fmt.Sprintf("also on line %d", line)}
						break
					}
				}
				if bad[i] != nil {
					continue
				}
				for _, k := range r.ix.unique {
					taken[k.key] = r.line
				}
				last++
				added++
				u := r.user
				u.ID = store.UserID(last)
				if err := w.addUser(s, &u, s.indexOf(&u)); err != nil {
					return err
				}
				blk, err := s.blockFrom(cur, blocks, blockOf(u.ID))
				if err != nil {
					return err
				}
				blk[u.ID] = pinEntry{}.withUser(&u)
				if r.state != nil {
					st := *r.state
					if r.pin != "" {
						st.Hash, st.IsSet, st.Length = hashes[r.pin], true, len(r.pin)
					}
					blk[u.ID] = blk[u.ID].withState(&st)
					if st.Hash != nil || len(st.History) > 0 {
						if err := s.putHashes(t, u.ID, &st); err != nil {
							return err
						}
						hashed = true
					}
				}
				entries = append(entries, store.AuditEntry{Action: action, Target: u.SipAddress, Outcome: "ok"})
			}
			if added == 0 {
				return nil
			}
			w[seqKey] = []byte(strconv.FormatUint(last, 10))
			if err := w.apply(t); err != nil {
				return err
			}
			for _, b := range slices.Sorted(maps.Keys(blocks)) {
				if err := s.putBlock(t, s.blockKey(b), blocks[b]); err != nil {
					return err
				}
			}
			if hashed {
				if _, err := s.keyGuard(cur[kk], t); err != nil {
					return err
				}
			}
			return s.addAudit(cur[auditKey], t, op, entries...)
		})
		if errors.Is(err, errStale) {
			*counter = 0 // another host took IDs: read the counter again
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("etcd directory %s: import users (lines %d-%d): %w", s.name, rows[0].line, rows[len(rows)-1].line, err)
		}
		*counter = guess + uint64(added)
		var refused []store.RowError
		for i, e := range bad {
			if e != nil {
				refused = append(refused, store.RowError{Line: rows[i].line, Err: s.fieldError(ctx, e)})
			}
		}
		return added, refused, nil
	}
	return 0, nil, fmt.Errorf("etcd directory %s: import users (lines %d-%d): other hosts kept adding users meanwhile; try again", s.name, rows[0].line, rows[len(rows)-1].line)
}

// hashRows hashes the PINs of rows not hashed yet in this call (one hash,
// one salt, per distinct PIN: LoadRow's contract), with the directory's
// key.
func (s *Store) hashRows(ctx context.Context, rows []importRow, hashes map[string][]byte) error {
	var key pinhash.Key
	loaded := false
	for _, r := range rows {
		if r.pin == "" || hashes[r.pin] != nil {
			continue
		}
		if !loaded {
			var err error
			if key, _, err = s.hashKey(ctx); err != nil {
				return err
			}
			loaded = true
		}
		h, err := pinhash.Hash(key, s.opts.HashParams, r.pin, nil)
		if err != nil {
			return err
		}
		hashes[r.pin] = h
	}
	return nil
}
