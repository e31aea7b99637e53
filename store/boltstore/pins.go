package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/pinrule"
)

// PinInfos reads PIN states.
func (s *Store) PinInfos(ctx context.Context, ids []store.UserID) ([]store.PinInfo, error) {
	out := make([]store.PinInfo, len(ids))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		users := newIter(bucket(tx, bucketUsers))
		pins := newIter(bucket(tx, bucketPins))
		var st store.PinState
		for n, i := range sortedOrder(ids) {
			id := ids[i]
			p := &out[i]
			p.ID = id
			key := uidKey(id)
			if _, ok := iterGet(users, n == 0, key); !ok {
				continue
			}
			p.Identity, p.DisplayName, p.Enabled = decodeUserHead(id, users.val())
			if v, ok := iterGet(pins, n == 0, key); ok {
				decodePin(v, &st)
				p.IsSet, p.LockedBy, p.LastChange, p.Expires = st.IsSet, st.LockedBy, st.LastChange, st.Expires
				p.LocalFailures, p.GlobalFailures, p.TempLockUntil = st.LocalFailures, st.GlobalFailures, st.TempLockUntil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadPolicies returns every stored policy by key.
func loadPolicies(tx *bolt.Tx) map[string]store.Policy {
	m := map[string]store.Policy{}
	bucket(tx, bucketPolicies).ForEach(func(k, v []byte) error {
		m[string(k)] = decodePolicy(v)
		return nil
	})
	return m
}

func effective(pols map[string]store.Policy, u *store.User) store.Policy {
	return store.EffectivePolicy(*u, func(k string) (store.Policy, bool) { p, ok := pols[k]; return p, ok })
}

// readPin returns the PIN state (with hashes) of user id.
func readPin(tx *bolt.Tx, id store.UserID) (st store.PinState, raw []byte) {
	k := uidKey(id)
	if v, ok := getBlock(bucket(tx, bucketPins), k); ok {
		decodePin(v, &st)
		raw = bytes.Clone(v)
	}
	if v, ok := getBlock(bucket(tx, bucketHashes), k); ok {
		st.Hash, st.History = decodeHashes(v)
	}
	return st, raw
}

// writePin stores st (and its hashes when withHashes) for user id.
func writePin(m muts, id store.UserID, st *store.PinState, withHashes bool) {
	k := uidKey(id)
	m.put(bucketPins, k, encodePin(nil, st))
	if withHashes {
		m.put(bucketHashes, k, encodeHashes(nil, st.Hash, st.History))
	}
}

func lockedErr(identity string) error {
	return fmt.Errorf("%s: %w; unlock it first (unlock_pin), then set a new one", identity, store.ErrLocked)
}

// SetPins sets PINs: validation and hashing happen outside any transaction,
// in parallel; one write transaction then re-checks each user and commits.
func (s *Store) SetPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest) ([]store.SetPinResult, error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	res := make([]store.SetPinResult, len(reqs))
	type job struct {
		user   store.User
		policy store.Policy
		st     store.PinState
		pin    string
		hash   []byte
		err    error // refused before writing
	}
	jobs := make([]job, len(reqs))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		pols := loadPolicies(tx)
		for i, r := range reqs {
			j := &jobs[i]
			u, ok := loadUser(tx, r.ID)
			if !ok {
				j.err = fmt.Errorf("user %d: %w", r.ID, store.ErrNotFound)
				continue
			}
			j.user, j.policy = u, effective(pols, &u)
			j.st, _ = readPin(tx, r.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		j := &jobs[i]
		if j.err != nil {
			continue
		}
		if j.st.LockedBy != store.NotLocked {
			j.err = lockedErr(j.user.SipAddress)
			continue
		}
		if r.Pin == "" {
			j.pin, j.err = pinrule.Generate(j.policy, j.user.LineURI)
		} else {
			j.pin, j.err = r.Pin, pinrule.Validate(r.Pin, j.policy, j.user.LineURI)
		}
	}
	var key pinhash.Key
	if needKey := func() bool {
		for i := range jobs {
			if jobs[i].err == nil {
				return true
			}
		}
		return false
	}(); needKey {
		if key, err = s.hashKey(ctx); err != nil {
			return nil, err
		}
	}
	// Hash (and check history) on HashWorkers goroutines.
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range min(s.opts.HashWorkers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := &jobs[i]
				if j.err != nil {
					continue
				}
				if reqs[i].EnforceHistory && j.policy.PinHistoryCount > 0 {
					if reused, err := pinhash.Reused(key, j.st.Hash, j.st.History, j.policy.PinHistoryCount, j.pin); err != nil {
						j.err = err
						continue
					} else if reused {
						j.err = pinrule.ReusedError(j.policy)
						continue
					}
				}
				j.hash, j.err = pinhash.Hash(key, s.opts.HashParams, j.pin, nil)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		m := muts{}
		wrote := false
		for i, r := range reqs {
			j := &jobs[i]
			res[i] = store.SetPinResult{ItemResult: store.ItemResult{ID: r.ID, Identity: j.user.SipAddress},
				DisplayName: j.user.DisplayName}
			if j.err == nil {
				// Re-check: the user may have been removed or the PIN locked
				// since the read.
				u, ok := loadUser(tx, r.ID)
				cur, _ := readPin(tx, r.ID)
				switch {
				case !ok:
					j.err = fmt.Errorf("user %d: %w", r.ID, store.ErrNotFound)
				case cur.LockedBy != store.NotLocked:
					j.err = lockedErr(u.SipAddress)
				default:
					st := cur
					st.IsSet, st.Length, st.LastChange = true, len(j.pin), op.Now
					st.Expires = time.Time{}
					if j.policy.PinLifetime > 0 {
						st.Expires = op.Now.AddDate(0, 0, j.policy.PinLifetime)
					}
					// A new PIN starts a fresh local count; the global
					// count stays until an admin unlock (facts §6).
					st.LocalFailures, st.WindowStart, st.TempLockUntil = 0, time.Time{}, time.Time{}
					st.History = nil
					if keep := j.policy.PinHistoryCount - 1; keep > 0 {
						if cur.Hash != nil {
							st.History = append(st.History, cur.Hash)
						}
						st.History = append(st.History, cur.History...)
						st.History = st.History[:min(len(st.History), keep)]
					}
					st.Hash = j.hash
					writePin(m, r.ID, &st, true)
					wrote = true
				}
			}
			if j.err != nil {
				res[i].Outcome, res[i].Err = store.Failed, j.err
				if j.user.SipAddress != "" {
					w.log.add("set_pin", j.user.SipAddress, "failed", j.err.Error())
				}
				continue
			}
			res[i].Outcome = store.Changed
			if r.Pin == "" {
				res[i].Pin = j.pin
				w.log.add("set_pin", j.user.SipAddress, "ok", "generated")
			} else {
				w.log.add("set_pin", j.user.SipAddress, "ok", "")
			}
		}
		if wrote {
			if err := recordKeyID(tx, key); err != nil {
				return err
			}
		}
		return m.flush(w)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// LockPins locks PINs as an admin.
func (s *Store) LockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	r, err := s.changePins(ctx, op, ids, "lock_pin", lockPin, false)
	return r.all, err
}

// LockPinsLean is LockPins reporting leanly (store.LeanChanger).
func (s *Store) LockPinsLean(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	r, err := s.changePins(ctx, op, ids, "lock_pin", lockPin, true)
	return r.lean, err
}

func lockPin(_ store.Op, st *store.PinState) error { return pinrule.AdminLock(st) }

// UnlockPins lifts locks and resets the failure counters.
func (s *Store) UnlockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	r, err := s.changePins(ctx, op, ids, "unlock_pin", unlockPin, false)
	return r.all, err
}

// UnlockPinsLean is UnlockPins reporting leanly (store.LeanChanger).
func (s *Store) UnlockPinsLean(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	r, err := s.changePins(ctx, op, ids, "unlock_pin", unlockPin, true)
	return r.lean, err
}

func unlockPin(op store.Op, st *store.PinState) error { return pinrule.AdminUnlock(st, op.Now) }

// itemResults gathers the results of a batched change: every result in
// ids order (all), or, lean, a count of the changed items and the others.
type itemResults struct {
	all  []store.ItemResult
	lean store.Changes
	at   []int // lean: the index in ids of each of lean.Others
	full bool
}

func newResults(n int, lean bool) *itemResults {
	if lean {
		return &itemResults{}
	}
	return &itemResults{all: make([]store.ItemResult, n), full: true}
}

// changed records that ids[i] changed; identity is asked for only when
// the result is kept.
func (r *itemResults) changed(i int, id store.UserID, identity []byte) {
	if r.full {
		r.all[i] = store.ItemResult{ID: id, Identity: string(identity), Outcome: store.Changed}
		return
	}
	r.lean.Changed++
}

// other records the result of ids[i], which did not change.
func (r *itemResults) other(i int, res store.ItemResult) {
	if r.full {
		r.all[i] = res
		return
	}
	r.lean.Others = append(r.lean.Others, res)
	r.at = append(r.at, i)
}

// done puts the other results in ids order: they were found in ID order.
func (r *itemResults) done() *itemResults {
	if !r.full && !slices.IsSorted(r.at) {
		order := make([]int, len(r.at))
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(r.at[a], r.at[b]) })
		others := make([]store.ItemResult, len(order))
		for k, o := range order {
			others[k] = r.lean.Others[o]
		}
		r.lean.Others = others
	}
	return r
}

// changePins applies change to the PIN state of each user in one write
// transaction: a merge walk over the users and pins blocks in ID order,
// then one write of each touched block (patched in place when the states
// keep their size, see blockPatcher). change returns a reason to skip.
// Each change's audit entry is encoded with its target as it lies in the
// user record.
func (s *Store) changePins(ctx context.Context, op store.Op, ids []store.UserID, action string,
	change func(store.Op, *store.PinState) error, lean bool) (*itemResults, error) {
	if err := op.Check(); err != nil {
		return &itemResults{}, err
	}
	res := newResults(len(ids), lean)
	err := s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		users := newIter(bucket(tx, bucketUsers))
		pins := newBlockPatcher(w.blocks(bucketPins))
		w.log.reserve(len(ids))
		var enc []byte
		var st store.PinState
		var prev store.UserID
		for n, i := range sortedOrder(ids) {
			if n%8192 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			id := ids[i]
			key := uidKey(id)
			uv, ok := iterGet(users, n == 0, key)
			if !ok || (n > 0 && id == prev) {
				r := store.ItemResult{ID: id, Outcome: store.Failed, Err: fmt.Errorf("user %d: %w", id, store.ErrNotFound)}
				if ok {
					r.Err = fmt.Errorf("user %d listed twice: %w", id, store.ErrDuplicate)
				}
				res.other(i, r)
				continue
			}
			prev = id
			sip := userSIP(id, uv)
			st = store.PinState{}
			pv, havePin := pins.get(key)
			if havePin {
				decodePin(pv, &st)
			}
			if err := change(op, &st); err != nil {
				identity := string(sip)
				res.other(i, store.ItemResult{ID: id, Identity: identity, Outcome: store.Skipped, Err: fmt.Errorf("%s: %w", identity, err)})
				continue
			}
			enc = encodePin(enc[:0], &st)
			pins.set(key, enc, havePin)
			res.changed(i, id, sip)
			w.log.addTarget(action, sip, "ok", "")
		}
		return pins.flush()
	})
	if err != nil {
		return &itemResults{}, err
	}
	return res.done(), nil
}

// VerifyPin makes one PIN logon attempt.
func (s *Store) VerifyPin(ctx context.Context, op store.Op, id store.UserID, pin string) (store.VerifyResult, error) {
	if err := op.Check(); err != nil {
		return store.VerifyResult{}, err
	}
	for attempt := 0; ; attempt++ {
		var (
			u      store.User
			found  bool
			pol    store.Policy
			st     store.PinState
			raw    []byte
			hashed []byte
		)
		err := s.view(ctx, func(tx *bolt.Tx) error {
			if u, found = loadUser(tx, id); found {
				pol = effective(loadPolicies(tx), &u)
				st, raw = readPin(tx, id)
				hashed = st.Hash
			}
			return nil
		})
		if err != nil {
			return store.VerifyResult{}, err
		}
		if !found {
			err := s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
				w.log.add("verify_pin", "", string(pinrule.NoSuchUser), fmt.Sprintf("no user with id %d", id))
				return nil
			})
			return store.VerifyResult{Reason: string(pinrule.NoSuchUser)}, err
		}
		// The comparison (argon2) runs here, outside any transaction, and
		// only when the state allows an attempt.
		var match, checked bool
		var verr error
		check := func() bool {
			checked = true
			key, err := s.hashKey(ctx)
			if err != nil {
				verr = err
				return false
			}
			match, verr = pinhash.Verify(key, hashed, pin)
			return match
		}
		next, reason := pinrule.Attempt(st, pol, u.Enabled, op.Now, check)
		if verr != nil {
			return store.VerifyResult{}, fmt.Errorf("verify PIN of %s: %w", u.SipAddress, verr)
		}
		retry := false
		err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
			cur, curRaw := readPin(tx, id)
			if !bytes.Equal(curRaw, raw) || !bytes.Equal(cur.Hash, hashed) {
				// Another attempt or change got in between: decide again on
				// the current state, reusing the comparison if the hash is
				// the same and it was made; else start over.
				sameHash := bytes.Equal(cur.Hash, hashed)
				next, reason = pinrule.Attempt(cur, pol, u.Enabled, op.Now, func() bool {
					if !sameHash || !checked {
						retry = true
					}
					return match
				})
				if retry {
					if attempt >= 3 {
						return fmt.Errorf("verify PIN of %s: the PIN state kept changing; try again", u.SipAddress)
					}
					return nil
				}
			}
			m := muts{}
			if enc := encodePin(nil, &next); !bytes.Equal(enc, encodePin(nil, &cur)) {
				m.put(bucketPins, uidKey(id), enc)
			}
			w.log.add("verify_pin", u.SipAddress, string(reason), "")
			return m.flush(w)
		})
		if err != nil {
			return store.VerifyResult{}, err
		}
		if !retry {
			return store.VerifyResult{OK: reason == pinrule.OK, Reason: string(reason)}, nil
		}
	}
}
