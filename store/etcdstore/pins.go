package etcdstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/pinrule"
)

// Keys of the PIN state (see the package doc).
const (
	prefixPin = "p/"
	// usersPerBlock is how many users' PIN state one key p/BLOCK holds:
	// the users whose ID / usersPerBlock is BLOCK.
	usersPerBlock = 16
	// maxSpan bounds the blocks one bulk PIN transaction reads and
	// compares: with the audit counter it stays within etcd's 128
	// compares, and its users' audit entries and blocks within the
	// request size (a span that does not fit is halved).
	maxSpan = 112
	// setBatch is how many requests one SetPins transaction commits: each
	// reads and compares its user, block and hashes.
	setBatch = 32
)

func blockOf(id store.UserID) uint64 { return uint64(id) / usersPerBlock }

func (s *Store) blockKey(b uint64) string { return s.key(fmt.Sprintf("%s%016x", prefixPin, b)) }

func (s *Store) hashesKey(id store.UserID) string { return s.key(prefixHash + idHex(id)) }

// firstUser is the first user ID of block b.
func firstUser(b uint64) store.UserID { return store.UserID(b * usersPerBlock) }

// pinEntry is one user's entry in a block: its PIN state (store.PinState
// without the hashes, which live under h/ID: a bulk lock rewrites little)
// and a summary of its record, the fields of store.PinInfo, so that a scan
// of PIN info and a bulk lock read the blocks alone, not the users.
type pinEntry struct {
	IsSet          bool             `json:"set,omitempty"`
	LockedBy       store.LockSource `json:"lock,omitempty"`
	LastChange     time.Time        `json:"changed,omitzero"`
	Expires        time.Time        `json:"expires,omitzero"`
	Length         int              `json:"len,omitempty"`
	LocalFailures  int              `json:"local,omitempty"`
	GlobalFailures int              `json:"global,omitempty"`
	WindowStart    time.Time        `json:"window,omitzero"`
	TempLockUntil  time.Time        `json:"temp,omitzero"`

	// The summary: set in every entry of a block in the binary layout
	// (schema 2), never in the JSON blocks of schema 1.
	summary     bool
	sipAddress  string
	displayName string
	enabled     bool
}

// entryOf returns the entry of a user with state st and no summary.
func entryOf(st *store.PinState) pinEntry {
	return pinEntry{IsSet: st.IsSet, LockedBy: st.LockedBy, LastChange: st.LastChange, Expires: st.Expires, Length: st.Length,
		LocalFailures: st.LocalFailures, GlobalFailures: st.GlobalFailures, WindowStart: st.WindowStart, TempLockUntil: st.TempLockUntil}
}

// withState returns e with the PIN state st, keeping its summary.
func (e pinEntry) withState(st *store.PinState) pinEntry {
	n := entryOf(st)
	n.summary, n.sipAddress, n.displayName, n.enabled = e.summary, e.sipAddress, e.displayName, e.enabled
	return n
}

// withUser returns e with the summary of u.
func (e pinEntry) withUser(u *store.User) pinEntry {
	e.summary, e.sipAddress, e.displayName, e.enabled = true, u.SipAddress, u.DisplayName, u.Enabled
	return e
}

func (e pinEntry) state() store.PinState {
	return store.PinState{IsSet: e.IsSet, LockedBy: e.LockedBy, LastChange: e.LastChange, Expires: e.Expires, Length: e.Length,
		LocalFailures: e.LocalFailures, GlobalFailures: e.GlobalFailures, WindowStart: e.WindowStart, TempLockUntil: e.TempLockUntil}
}

// same reports whether e and o hold the same state and summary (times by
// Equal).
func (e pinEntry) same(o pinEntry) bool {
	return e.IsSet == o.IsSet && e.LockedBy == o.LockedBy && e.LastChange.Equal(o.LastChange) && e.Expires.Equal(o.Expires) &&
		e.Length == o.Length && e.LocalFailures == o.LocalFailures && e.GlobalFailures == o.GlobalFailures &&
		e.WindowStart.Equal(o.WindowStart) && e.TempLockUntil.Equal(o.TempLockUntil) &&
		e.summary == o.summary && e.sipAddress == o.sipAddress && e.displayName == o.displayName && e.enabled == o.enabled
}

// pinBlock is the value of p/BLOCK: an entry for each existing user whose
// ID / usersPerBlock is BLOCK (schema 2; in schema 1, only for those of
// them that have a PIN state). A user without an entry has the zero
// state; in a block of the binary layout it does not exist. An entry
// exists only for an existing user: it is created with a compare of the
// user's record (CreateUser, ImportUsers, LoadUsers, SetPins) and removed
// with the user.
type pinBlock map[store.UserID]pinEntry

func decodeBlock(kv *mvccpb.KeyValue) (pinBlock, error) {
	b := pinBlock{}
	if kv == nil {
		return b, nil
	}
	if binaryBlock(kv) {
		err := eachEntry(kv.Value, firstUserOf(kv.Key), func(id store.UserID, e *pinEntry) { b[id] = *e })
		if err != nil {
			return nil, fmt.Errorf("%w: PIN state block %s: %v", store.ErrDamaged, kv.Key, err)
		}
		return b, nil
	}
	if err := json.Unmarshal(kv.Value, &b); err != nil {
		return nil, fmt.Errorf("%w: PIN state block %s: %v", store.ErrDamaged, kv.Key, err)
	}
	return b, nil
}

// firstUserOf returns the first user ID of the block whose key is key (its
// last 16 hex digits); a damaged key gives 0, and eachEntry's IDs are then
// wrong but never another block's.
func firstUserOf(key []byte) store.UserID {
	if len(key) < 16 {
		return 0
	}
	b, err := strconv.ParseUint(string(key[len(key)-16:]), 16, 64)
	if err != nil {
		return 0
	}
	return firstUser(b)
}

// blockFrom returns block b as read in cur (absent: empty), decoding it
// once into blocks, where a change of several of its users collects.
func (s *Store) blockFrom(cur map[string]*mvccpb.KeyValue, blocks map[uint64]pinBlock, b uint64) (pinBlock, error) {
	if blk, ok := blocks[b]; ok {
		return blk, nil
	}
	blk, err := decodeBlock(cur[s.blockKey(b)])
	if err != nil {
		return nil, err
	}
	blocks[b] = blk
	return blk, nil
}

// putBlock writes the block under key in t, or deletes it when it holds
// no entry. A block all of whose entries have their summaries is written
// in the binary layout; one read in the JSON layout of schema 1 and not
// summarized (a host of the old layout wrote it after the upgrade) is
// written as it was read, in JSON, so that nothing claims a summary it
// lacks: the scans then read its users.
func (s *Store) putBlock(t *txn, key string, blk pinBlock) error {
	if len(blk) == 0 {
		return t.del(key)
	}
	for _, e := range blk {
		if !e.summary {
			v, err := json.Marshal(blk)
			if err != nil {
				return err
			}
			return t.put(key, v)
		}
	}
	v, err := encodeBlock(blk)
	if err != nil {
		return fmt.Errorf("PIN state block %s: %w", key, err)
	}
	return t.put(key, v)
}

// pinHashes is the value of h/ID: the current PIN's hash and the earlier
// ones, newest first.
type pinHashes struct {
	Hash    []byte   `json:"hash,omitempty"`
	History [][]byte `json:"history,omitempty"`
}

func decodeHashes(kv *mvccpb.KeyValue) (pinHashes, error) {
	var h pinHashes
	if kv == nil {
		return h, nil
	}
	if err := json.Unmarshal(kv.Value, &h); err != nil {
		return h, fmt.Errorf("%w: PIN hashes %s: %v", store.ErrDamaged, kv.Key, err)
	}
	return h, nil
}

// putHashes writes the hashes of st for user id in t (deletes them when
// there are none).
func (s *Store) putHashes(t *txn, id store.UserID, st *store.PinState) error {
	if st.Hash == nil && len(st.History) == 0 {
		return t.del(s.hashesKey(id))
	}
	v, err := json.Marshal(pinHashes{Hash: st.Hash, History: st.History})
	if err != nil {
		return err
	}
	return t.put(s.hashesKey(id), v)
}

func pinInfo(u *store.User, e pinEntry) store.PinInfo {
	e = e.withUser(u)
	return e.info(u.ID)
}

// info is the PIN info of user id from its entry, which has its summary.
func (e *pinEntry) info(id store.UserID) store.PinInfo {
	return store.PinInfo{ID: id, Identity: e.sipAddress, DisplayName: e.displayName, Enabled: e.enabled,
		IsSet: e.IsSet, LockedBy: e.LockedBy, LastChange: e.LastChange, Expires: e.Expires,
		LocalFailures: e.LocalFailures, GlobalFailures: e.GlobalFailures, TempLockUntil: e.TempLockUntil}
}

// first returns the first key of the i-th response of a read (nil: none).
func first(resp *clientv3.TxnResponse, i int) *mvccpb.KeyValue {
	if kvs := resp.Responses[i].GetResponseRange().Kvs; len(kvs) > 0 {
		return kvs[0]
	}
	return nil
}

// rev is the mod revision of kv (0: absent).
func rev(kv *mvccpb.KeyValue) int64 {
	if kv == nil {
		return 0
	}
	return kv.ModRevision
}

// byKey indexes the keys of ranges read.
func byKey(rs ...*clientv3.TxnResponse) map[string]*mvccpb.KeyValue {
	m := map[string]*mvccpb.KeyValue{}
	for _, r := range rs {
		for _, resp := range r.Responses {
			for _, kv := range resp.GetResponseRange().Kvs {
				m[string(kv.Key)] = kv
			}
		}
	}
	return m
}

// PinInfos reads the PIN state of users, 60 users (and their blocks) per
// read.
func (s *Store) PinInfos(ctx context.Context, ids []store.UserID) ([]store.PinInfo, error) {
	if s.kv.closed.Load() {
		return nil, s.closedErr()
	}
	const chunk = 60
	out := make([]store.PinInfo, len(ids))
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		var gets []clientv3.Op
		asked := map[string]bool{}
		for _, id := range part {
			for _, k := range []string{s.userKey(id), s.blockKey(blockOf(id))} {
				if !asked[k] {
					asked[k] = true
					gets = append(gets, clientv3.OpGet(k))
				}
			}
		}
		r, err := s.kv.read(ctx, gets)
		if err != nil {
			return nil, fmt.Errorf("etcd directory %s: read PIN state: %w", s.name, err)
		}
		got := byKey(r)
		blocks := map[uint64]pinBlock{}
		for i, id := range part {
			out[start+i].ID = id
			ukv := got[s.userKey(id)]
			if ukv == nil {
				continue
			}
			u, err := decodeUser(ukv)
			if err != nil {
				return nil, err
			}
			blk, err := s.blockFrom(got, blocks, blockOf(id))
			if err != nil {
				return nil, err
			}
			out[start+i] = pinInfo(&u, blk[id])
		}
	}
	return out, nil
}

// ScanPinInfos is ScanUsers joined with PinInfos: each window of users is
// read with its PIN state blocks at one revision.
func (s *Store) ScanPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	return s.AppendPinInfos(ctx, nil, q, after, limit)
}

// AppendPinInfos is ScanPinInfos appending to dst (store.PinInfoAppender).
// Without an OU or a Filter, which need the users' records, it reads the
// PIN state blocks alone (see scanBlocks).
func (s *Store) AppendPinInfos(ctx context.Context, dst []store.PinInfo, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	if q.OU == "" && q.Filter == nil {
		return s.scanBlocks(ctx, dst, q.Pin, after, limit)
	}
	next, err := s.scan(ctx, q, after, limit, true, func(u *store.User, e pinEntry) {
		dst = append(dst, pinInfo(u, e))
	})
	if err != nil {
		return nil, 0, err
	}
	return dst, next, nil
}

// scanBlocks is ScanPinInfos selecting by pq alone: it reads windows of
// PIN state blocks, never the users' records, since every user's entry
// carries the fields of its store.PinInfo. The windows and the budget are
// scan's. A window holding a block of schema 1's JSON layout (whose
// entries lack the summaries) is read by scan instead, with its users.
func (s *Store) scanBlocks(ctx context.Context, dst []store.PinInfo, pq store.PinQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	if s.kv.closed.Load() {
		return nil, 0, s.closedErr()
	}
	if limit <= 0 {
		limit = 1024
	}
	budget := uint64(max(limit*64, 1<<16))
	window := uint64(max(limit, MaxTxnOps))
	kept := 0
	for from := uint64(after) + 1; ; from += window {
		to := from + window
		resp, err := s.readWindow(ctx, store.UserID(from), store.UserID(to))
		if err != nil {
			return nil, 0, fmt.Errorf("etcd directory %s: read PIN state: %w", s.name, err)
		}
		end, err := parseSeq(first(resp, 0))
		if err != nil {
			return nil, 0, err
		}
		if from > end {
			return dst, 0, nil
		}
		to = min(to, end+1)
		r := resp.Responses[1].GetResponseRange()
		if slices.ContainsFunc(r.Kvs, func(kv *mvccpb.KeyValue) bool { return !binaryBlock(kv) }) {
			next, err := s.scan(ctx, store.UserQuery{Pin: pq}, store.UserID(from-1), limit-kept, true, func(u *store.User, e pinEntry) {
				dst = append(dst, pinInfo(u, e))
			})
			if err != nil {
				return nil, 0, err
			}
			return dst, next, nil
		}
		var last store.UserID
		for _, kv := range r.Kvs {
			err := eachEntry(kv.Value, firstUserOf(kv.Key), func(id store.UserID, e *pinEntry) {
				if id < store.UserID(from) || id >= store.UserID(to) || kept >= limit {
					return
				}
				p := e.info(id)
				last = id
				if pq.Match(&p) {
					dst = append(dst, p)
					kept++
				}
			})
			if err != nil {
				return nil, 0, fmt.Errorf("%w: PIN state block %s: %v", store.ErrDamaged, kv.Key, err)
			}
			if kept >= limit {
				if last == store.UserID(end) {
					return dst, 0, nil
				}
				s.startReadAhead(last+1, last+1+store.UserID(window))
				return dst, last, nil
			}
		}
		if to-uint64(after)-1 >= budget && to <= end {
			s.startReadAhead(store.UserID(to), store.UserID(to+window))
			return dst, store.UserID(to - 1), nil
		}
	}
}

// LockPins locks PINs as an admin (see changePins).
func (s *Store) LockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	return s.changePins(ctx, op, ids, "lock_pin", pinrule.AdminLock)
}

// UnlockPins lifts locks and resets the failure counters (see changePins).
func (s *Store) UnlockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	return s.changePins(ctx, op, ids, "unlock_pin", func(st *store.PinState) error {
		return pinrule.AdminUnlock(st, op.Now)
	})
}

// changePins applies change to the PIN state of users in ID order, in
// transactions of spans of at most maxSpan blocks (up to 1,792 users): each
// reads its span's blocks and users as two ranges at one revision, and
// commits the changed blocks and one audit block of the changed users'
// entries if neither the blocks of its users nor the audit counter moved
// (else it reads again). A span too big for one request is halved. change
// returns a reason to skip a user. An error after the first transaction
// says how many PINs were already changed.
func (s *Store) changePins(ctx context.Context, op store.Op, ids []store.UserID, action string, change func(*store.PinState) error) ([]store.ItemResult, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	res := make([]store.ItemResult, len(ids))
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpID(ids[a], ids[b]) })
	todo := order[:0]
	for n, i := range order {
		res[i].ID = ids[i]
		if n > 0 && ids[i] == ids[order[n-1]] {
			res[i].Outcome, res[i].Err = store.Failed, fmt.Errorf("user %d listed twice: %w", ids[i], store.ErrDuplicate)
			continue
		}
		todo = append(todo, i)
	}
	// The spans, each the items of up to maxSpan blocks.
	type span struct {
		items  []int
		lo, hi uint64
	}
	var spans []span
	for start := 0; start < len(todo); {
		lo := blockOf(ids[todo[start]])
		end := start
		for end < len(todo) && blockOf(ids[todo[end]])-lo < maxSpan {
			end++
		}
		spans = append(spans, span{todo[start:end], lo, blockOf(ids[todo[end-1]])})
		start = end
	}
	changed := 0
	var c spanChain
	for i, sp := range spans {
		if i+1 < len(spans) {
			c.readAhead(ctx, s, spans[i+1].lo, spans[i+1].hi)
		}
		err := inSpans(sp.lo, sp.hi, func(lo, hi uint64) error {
			n, err := s.changeSpan(ctx, op, action, ids, within(ids, sp.items, lo, hi), lo, hi, res, change, &c)
			changed += n
			return err
		})
		if err != nil && changed > 0 {
			return nil, fmt.Errorf("etcd directory %s: %s: %w; earlier transactions had changed and audited %d PINs of the %d users (see the audit log)",
				s.name, action, err, changed, len(ids))
		}
		if err != nil {
			return nil, fmt.Errorf("etcd directory %s: %s: %w", s.name, action, err)
		}
	}
	return res, nil
}

// spanChain carries a bulk change from one span to the next: while a
// span's transaction is read and committed, the next span's blocks are
// read (readAhead), and the audit counter that its commit left (seq) is
// known without reading it again. So a span costs one round trip, its
// commit, unless another host changed its blocks or the counter
// meanwhile: its compares then fail, and it reads again.
type spanChain struct {
	ahead  chan *clientv3.TxnResponse // the next span's read (nil: none; a nil read: failed)
	lo, hi uint64                     // the blocks it reads
	seq    *mvccpb.KeyValue           // the audit counter as the last commit left it
}

// readAhead starts reading blocks lo..hi and the audit counter.
func (c *spanChain) readAhead(ctx context.Context, s *Store, lo, hi uint64) {
	ch := make(chan *clientv3.TxnResponse, 1)
	c.ahead, c.lo, c.hi = ch, lo, hi
	go func() {
		r, err := s.kv.cli.Txn(ctx).Then(s.spanGets(lo, hi, false)...).Commit()
		if err != nil {
			r = nil // read again in the span's own rmw
		}
		ch <- r
	}()
}

// first returns the read of blocks lo..hi made ahead, if any covers them
// (a span halved reads the whole span's once), else nil.
func (c *spanChain) first(lo, hi uint64) *clientv3.TxnResponse {
	if c == nil || c.ahead == nil || lo < c.lo || hi > c.hi {
		return nil
	}
	r := <-c.ahead
	c.ahead <- r // for the other half of a halved span
	return r
}

// counter returns the audit counter: as read, or as this chain's last
// commit left it when that is newer than the read.
func (c *spanChain) counter(read *mvccpb.KeyValue) *mvccpb.KeyValue {
	if c != nil && c.seq != nil && rev(read) < c.seq.ModRevision {
		return c.seq
	}
	return read
}

func cmpID(a, b store.UserID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// within returns the items (indexes into ids, in ID order) whose users
// are in blocks lo..hi.
func within(ids []store.UserID, items []int, lo, hi uint64) []int {
	i := slices.IndexFunc(items, func(i int) bool { return blockOf(ids[i]) >= lo })
	if i < 0 {
		return nil
	}
	j := slices.IndexFunc(items[i:], func(i int) bool { return blockOf(ids[i]) > hi })
	if j < 0 {
		return items[i:]
	}
	return items[i : i+j]
}

// inSpans runs fn on blocks lo..hi, halving the span while fn's
// transaction does not fit in one etcd request.
func inSpans(lo, hi uint64, fn func(lo, hi uint64) error) error {
	err := fn(lo, hi)
	if errors.Is(err, errTxnFull) && lo < hi {
		mid := lo + (hi-lo)/2
		if err := inSpans(lo, mid, fn); err != nil {
			return err
		}
		return inSpans(mid+1, hi, fn)
	}
	return err
}

// spanGets reads blocks lo..hi and the audit counter (responses 0 and 1)
// and, withUsers, the blocks' users (response 2).
func (s *Store) spanGets(lo, hi uint64, withUsers bool) []clientv3.Op {
	gets := []clientv3.Op{
		clientv3.OpGet(s.blockKey(lo), clientv3.WithRange(s.blockKey(hi+1))),
		clientv3.OpGet(s.key(keyAuditSeq)),
	}
	if withUsers {
		gets = append(gets, clientv3.OpGet(s.userKey(firstUser(lo)), clientv3.WithRange(s.userKey(firstUser(hi+1)))))
	}
	return gets
}

// errNeedUsers says a span holds a block of schema 1's JSON layout, which
// lacks the users' summaries: the span is read again with its users.
var errNeedUsers = errors.New("a PIN state block lacks its users' summaries")

// spanRMW runs fn as a read-modify-write of blocks lo..hi (see spanGets):
// first on the blocks alone, and again with the users when fn says it needs
// them (errNeedUsers; then users is not nil).
func (s *Store) spanRMW(ctx context.Context, action string, lo, hi uint64, ahead *clientv3.TxnResponse,
	fn func(resp *clientv3.TxnResponse, users map[string]*mvccpb.KeyValue, t *txn) error) (int64, error) {
	withUsers := false
	for {
		var first func() (*clientv3.TxnResponse, bool, error)
		if ahead != nil && !withUsers {
			first = func() (*clientv3.TxnResponse, bool, error) { return ahead, false, nil }
		}
		rev, err := s.kv.rmwFirst(ctx, action, first, s.spanGets(lo, hi, withUsers), func(resp *clientv3.TxnResponse, t *txn) error {
			var users map[string]*mvccpb.KeyValue
			if withUsers {
				users = byKey(&clientv3.TxnResponse{Responses: resp.Responses[2:]})
			} else {
				for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
					if !binaryBlock(kv) {
						return errNeedUsers
					}
				}
			}
			return fn(resp, users, t)
		})
		if errors.Is(err, errNeedUsers) && !withUsers {
			withUsers = true
			continue
		}
		return rev, err
	}
}

// summarize gives every entry of block b the summary of its user, read in
// users (the users of the block's span), and makes an entry for each user
// of the block that has none, so that the block can be written in the
// binary layout; an entry whose user is gone is dropped. users nil: the
// block was read in the binary layout and is whole already.
func (s *Store) summarize(blk pinBlock, b uint64, users map[string]*mvccpb.KeyValue) error {
	if users == nil {
		return nil
	}
	for id := firstUser(b); id < firstUser(b+1); id++ {
		ukv := users[s.userKey(id)]
		if ukv == nil {
			delete(blk, id)
			continue
		}
		u, err := decodeUser(ukv)
		if err != nil {
			return err
		}
		blk[id] = blk[id].withUser(&u)
	}
	return nil
}

// changeSpan commits the change of items, whose users are in blocks
// lo..hi, in one transaction, and returns how many PINs it changed. It
// reads the blocks alone (their entries name the users), or takes the read
// chain c made ahead, and leaves the audit counter it commits in c.
func (s *Store) changeSpan(ctx context.Context, op store.Op, action string, ids []store.UserID, items []int, lo, hi uint64,
	res []store.ItemResult, change func(*store.PinState) error, c *spanChain) (int, error) {
	if len(items) == 0 {
		return 0, nil
	}
	n := 0
	var next []byte // the audit counter's value after the commit
	rev, err := s.spanRMW(ctx, action, lo, hi, c.first(lo, hi), func(resp *clientv3.TxnResponse, users map[string]*mvccpb.KeyValue, t *txn) error {
		n = 0
		got := byKey(&clientv3.TxnResponse{Responses: resp.Responses[:1]})
		seq := c.counter(first(resp, 1))
		if err := t.unchanged(s.key(keyAuditSeq), rev(seq)); err != nil {
			return err
		}
		blocks := map[uint64]pinBlock{}
		var touched []uint64
		var entries []store.AuditEntry
		for _, i := range items {
			id := ids[i]
			r := &res[i]
			*r = store.ItemResult{ID: id}
			b := blockOf(id)
			_, seen := blocks[b]
			blk, err := s.blockFrom(got, blocks, b)
			if err != nil {
				return err
			}
			if !seen {
				// Compared even if none of its users changes: a skip
				// (no PIN, not locked) holds only while the block does.
				if err := t.unchanged(s.blockKey(b), rev(got[s.blockKey(b)])); err != nil {
					return err
				}
				if err := s.summarize(blk, b, users); err != nil {
					return err
				}
			}
			e, ok := blk[id]
			if !ok {
				r.Outcome, r.Err = store.Failed, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
				continue
			}
			r.Identity = e.sipAddress
			st := e.state()
			if err := change(&st); err != nil {
				r.Outcome, r.Err = store.Skipped, fmt.Errorf("%s: %w", e.sipAddress, err)
				continue
			}
			if !slices.Contains(touched, b) {
				touched = append(touched, b)
			}
			blk[id] = e.withState(&st)
			r.Outcome = store.Changed
			n++
			entries = append(entries, store.AuditEntry{Action: action, Target: e.sipAddress, Outcome: "ok"})
		}
		for _, b := range touched {
			if err := s.putBlock(t, s.blockKey(b), blocks[b]); err != nil {
				return err
			}
		}
		next = nil
		if err := s.addAudit(seq, t, op, entries...); err != nil || len(entries) == 0 {
			return err
		}
		last, err := parseSeq(seq)
		next = strconv.AppendUint(nil, last+uint64(len(entries)), 10) // as addAudit wrote it
		return err
	})
	if err != nil {
		return 0, err
	}
	if next != nil && c != nil {
		c.seq = &mvccpb.KeyValue{Key: []byte(s.key(keyAuditSeq)), Value: next, ModRevision: rev}
	}
	return n, nil
}

// VerifyPin makes one PIN logon attempt: it reads the user, its PIN state
// block and hashes, the policies, the key id and the audit counter at one
// revision, decides with pinrule.Attempt (comparing the PIN with the hash
// only when the state allows an attempt), and commits the new state with
// the audit entry if neither the user, its block nor the audit counter
// moved; otherwise it decides again on what it reads then, reusing the
// comparison while the hash is the same. Two hosts failing the same user
// at once thus both count: the limits of facts §6 hold across hosts.
// Lockout windows use op.Now, never etcd leases.
func (s *Store) VerifyPin(ctx context.Context, op store.Op, id store.UserID, pin string) (store.VerifyResult, error) {
	if err := s.check(op); err != nil {
		return store.VerifyResult{}, err
	}
	uk, bk, hk, seqKey := s.userKey(id), s.blockKey(blockOf(id)), s.hashesKey(id), s.key(keyAuditSeq)
	reads := func(opts ...clientv3.OpOption) []clientv3.Op {
		return []clientv3.Op{clientv3.OpGet(uk, opts...), clientv3.OpGet(bk, opts...), clientv3.OpGet(hk, opts...), clientv3.OpGet(seqKey, opts...),
			clientv3.OpGet(s.key(keyKeyID), opts...), clientv3.OpGet(s.key(prefixPol), append(opts, clientv3.WithPrefix())...)}
	}
	var out store.VerifyResult
	var checked []byte // the hash the comparison was made with
	var match bool
	// Every attempt commits (its audit entry at least), comparing the
	// user, block and audit counter: the first read may be serializable.
	_, err := s.kv.rmwFrom(ctx, "verify_pin", reads(clientv3.WithSerializable()), reads(), func(resp *clientv3.TxnResponse, t *txn) error {
		ukv, bkv, hkv, seq, kkv := first(resp, 0), first(resp, 1), first(resp, 2), first(resp, 3), first(resp, 4)
		for _, c := range []struct {
			key string
			kv  *mvccpb.KeyValue
		}{{uk, ukv}, {bk, bkv}, {seqKey, seq}} {
			if err := t.unchanged(c.key, rev(c.kv)); err != nil {
				return err
			}
		}
		if ukv == nil {
			out = store.VerifyResult{Reason: string(pinrule.NoSuchUser)}
			return s.addAudit(seq, t, op, store.AuditEntry{Action: "verify_pin", Outcome: out.Reason, Detail: fmt.Sprintf("no user with id %d", id)})
		}
		u, err := decodeUser(ukv)
		if err != nil {
			return err
		}
		pols, err := policiesFrom(s, resp.Responses[5].GetResponseRange().Kvs)
		if err != nil {
			return err
		}
		blk, err := decodeBlock(bkv)
		if err != nil {
			return err
		}
		hs, err := decodeHashes(hkv)
		if err != nil {
			return err
		}
		var verr error
		next, reason := pinrule.Attempt(blk[id].state(), effective(pols, &u), u.Enabled, op.Now, func() bool {
			if checked != nil && bytes.Equal(checked, hs.Hash) {
				return match
			}
			key, _, err := s.keyFor(kkv)
			if err != nil {
				verr = err
				return false
			}
			if match, verr = pinhash.Verify(key, hs.Hash, pin); verr == nil {
				checked = hs.Hash
			}
			return match
		})
		if verr != nil {
			return fmt.Errorf("verify PIN of %s: %w", u.SipAddress, verr)
		}
		if e := blk[id].withUser(&u).withState(&next); !e.same(blk[id]) {
			blk[id] = e
			if err := s.putBlock(t, s.blockKey(blockOf(id)), blk); err != nil {
				return err
			}
		}
		out = store.VerifyResult{OK: reason == pinrule.OK, Reason: string(reason)}
		return s.addAudit(seq, t, op, store.AuditEntry{Action: "verify_pin", Target: u.SipAddress, Outcome: out.Reason})
	})
	if err != nil {
		return store.VerifyResult{}, fmt.Errorf("etcd directory %s: verify PIN of user %d: %w", s.name, id, err)
	}
	return out, nil
}

// policiesFrom decodes the policies read under pol/, by key.
func policiesFrom(s *Store, kvs []*mvccpb.KeyValue) (map[string]store.Policy, error) {
	pols := map[string]store.Policy{}
	for _, kv := range kvs {
		p, err := policyFrom(kv)
		if err != nil {
			return nil, err
		}
		pols[string(kv.Key)[len(s.key(prefixPol)):]] = p
	}
	return pols, nil
}

func effective(pols map[string]store.Policy, u *store.User) store.Policy {
	return store.EffectivePolicy(*u, func(key string) (store.Policy, bool) {
		p, ok := pols[key]
		return p, ok
	})
}

func lockedErr(identity string) error {
	return fmt.Errorf("%s: %w; unlock it first (unlock_pin), then set a new one", identity, store.ErrLocked)
}

// SetPins sets PINs, setBatch requests per transaction (see setBatch).
// An error after the first transaction says how many were already set.
func (s *Store) SetPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest) ([]store.SetPinResult, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	res := make([]store.SetPinResult, len(reqs))
	for start := 0; start < len(reqs); start += setBatch {
		part := reqs[start:min(start+setBatch, len(reqs))]
		if err := s.setPins(ctx, op, part, res[start:start+len(part)]); err != nil {
			if start > 0 {
				return nil, fmt.Errorf("etcd directory %s: set PINs: %w; the first %d of the %d requests were already done and audited (see the audit log)",
					s.name, err, start, len(reqs))
			}
			return nil, fmt.Errorf("etcd directory %s: set PINs: %w", s.name, err)
		}
	}
	return res, nil
}

// setJob is one SetPins request on its way: what was read, and the PIN
// and hash made for it outside any transaction.
type setJob struct {
	user    store.User
	policy  store.Policy
	against []byte // the current hash the history was checked against
	pin     string
	hash    []byte
	err     error // refused before the commit
}

// setPins sets the PINs of one batch: it reads the users, their state and
// the policies; validates or generates each PIN, checks the history and
// hashes, in parallel, outside any transaction; then commits under
// compare-and-swap, deciding each request again on the state read then (a
// PIN locked or changed meanwhile is refused, never overwritten).
func (s *Store) setPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest, res []store.SetPinResult) error {
	kk, seqKey := s.key(keyKeyID), s.key(keyAuditSeq)
	keys := []string{seqKey, kk}
	for _, r := range reqs {
		keys = append(keys, s.userKey(r.ID), s.blockKey(blockOf(r.ID)), s.hashesKey(r.ID))
	}
	keys = dedupe(keys)
	gets := []clientv3.Op{clientv3.OpGet(s.key(prefixPol), clientv3.WithPrefix())}
	for _, k := range keys {
		gets = append(gets, clientv3.OpGet(k))
	}
	r, err := s.kv.read(ctx, gets)
	if err != nil {
		return err
	}
	pols, err := policiesFrom(s, r.Responses[0].GetResponseRange().Kvs)
	if err != nil {
		return err
	}
	got := byKey(&clientv3.TxnResponse{Responses: r.Responses[1:]})
	jobs := make([]setJob, len(reqs))
	var key pinhash.Key
	keyLoaded := false
	for i, req := range reqs {
		j := &jobs[i]
		ukv := got[s.userKey(req.ID)]
		if ukv == nil {
			j.err = fmt.Errorf("user %d: %w", req.ID, store.ErrNotFound)
			continue
		}
		if j.user, err = decodeUser(ukv); err != nil {
			return err
		}
		j.policy = effective(pols, &j.user)
		blk, err := decodeBlock(got[s.blockKey(blockOf(req.ID))])
		if err != nil {
			return err
		}
		if blk[req.ID].LockedBy != store.NotLocked {
			j.err = lockedErr(j.user.SipAddress)
			continue
		}
		if req.Pin == "" {
			j.pin, j.err = pinrule.Generate(j.policy, j.user.LineURI)
		} else {
			j.pin, j.err = req.Pin, pinrule.Validate(req.Pin, j.policy, j.user.LineURI)
		}
		if j.err == nil && !keyLoaded {
			if key, _, err = s.keyFor(got[kk]); err != nil {
				return err
			}
			keyLoaded = true
		}
	}
	s.hashJobs(ctx, key, reqs, jobs, got)
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.kv.update(ctx, keys, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		blocks := map[uint64]pinBlock{}
		states := map[store.UserID]*store.PinState{}
		var order []store.UserID
		users := map[store.UserID]*store.User{}
		var entries []store.AuditEntry
		for i, req := range reqs {
			j := &jobs[i]
			res[i] = store.SetPinResult{ItemResult: store.ItemResult{ID: req.ID, Identity: j.user.SipAddress}, DisplayName: j.user.DisplayName}
			err := j.err
			var st *store.PinState
			if err == nil {
				var perr error
				if st, perr = s.pinState(cur, blocks, states, req.ID); perr != nil {
					return perr
				}
				if st == nil {
					err = fmt.Errorf("user %d: %w", req.ID, store.ErrNotFound)
				}
			}
			switch {
			case err != nil:
			case st.LockedBy != store.NotLocked:
				err = lockedErr(j.user.SipAddress)
			case req.EnforceHistory && j.policy.PinHistoryCount > 0 && !bytes.Equal(st.Hash, j.against):
				err = fmt.Errorf("%s: the PIN was changed by another host while this one was checked against its history; try again", j.user.SipAddress)
			}
			if err != nil {
				res[i].Outcome, res[i].Err = store.Failed, err
				if j.user.SipAddress != "" {
					entries = append(entries, store.AuditEntry{Action: "set_pin", Target: j.user.SipAddress, Outcome: "failed", Detail: err.Error()})
				}
				continue
			}
			st.IsSet, st.Length, st.LastChange = true, len(j.pin), op.Now
			st.Expires = time.Time{}
			if j.policy.PinLifetime > 0 {
				st.Expires = op.Now.AddDate(0, 0, j.policy.PinLifetime)
			}
			// A new PIN starts a fresh local count; the global count stays
			// until an admin unlock (facts §6).
			st.LocalFailures, st.WindowStart, st.TempLockUntil = 0, time.Time{}, time.Time{}
			var history [][]byte
			if keep := j.policy.PinHistoryCount - 1; keep > 0 {
				if st.Hash != nil {
					history = append(history, st.Hash)
				}
				history = append(history, st.History...)
				history = history[:min(len(history), keep)]
			}
			st.Hash, st.History = j.hash, history
			if !slices.Contains(order, req.ID) {
				order = append(order, req.ID)
				// The summary from the record as the commit compares it,
				// not as the first read found it.
				u, err := decodeUser(cur[s.userKey(req.ID)])
				if err != nil {
					return err
				}
				users[req.ID] = &u
			}
			res[i].Outcome = store.Changed
			detail := ""
			if req.Pin == "" {
				res[i].Pin, detail = j.pin, "generated"
			}
			entries = append(entries, store.AuditEntry{Action: "set_pin", Target: j.user.SipAddress, Outcome: "ok", Detail: detail})
		}
		if len(order) > 0 {
			if _, err := s.keyGuard(cur[kk], t); err != nil {
				return err
			}
		}
		var written []uint64
		for _, id := range order {
			st := states[id]
			if err := s.putHashes(t, id, st); err != nil {
				return err
			}
			b := blockOf(id)
			blocks[b][id] = blocks[b][id].withUser(users[id]).withState(st)
			if !slices.Contains(written, b) {
				written = append(written, b)
			}
		}
		for _, b := range written {
			if err := s.putBlock(t, s.blockKey(b), blocks[b]); err != nil {
				return err
			}
		}
		return s.addAudit(cur[seqKey], t, op, entries...)
	})
	if err != nil {
		for i := range res {
			res[i].Pin = "" // never committed: the PIN must not leave
		}
	}
	return err
}

// pinState returns the PIN state (with hashes) of user id as read in cur,
// decoding its block into blocks and keeping it in states, so that several
// requests for one user apply in turn. It returns nil when the user does
// not exist.
func (s *Store) pinState(cur map[string]*mvccpb.KeyValue, blocks map[uint64]pinBlock, states map[store.UserID]*store.PinState, id store.UserID) (*store.PinState, error) {
	if st, ok := states[id]; ok {
		return st, nil
	}
	if cur[s.userKey(id)] == nil {
		return nil, nil
	}
	blk, err := s.blockFrom(cur, blocks, blockOf(id))
	if err != nil {
		return nil, err
	}
	hs, err := decodeHashes(cur[s.hashesKey(id)])
	if err != nil {
		return nil, err
	}
	st := blk[id].state()
	st.Hash, st.History = hs.Hash, hs.History
	states[id] = &st
	return &st, nil
}

// hashJobs checks the history (when asked) and hashes the PIN of each job
// not refused yet, on GOMAXPROCS goroutines.
func (s *Store) hashJobs(ctx context.Context, key pinhash.Key, reqs []store.SetPinRequest, jobs []setJob, got map[string]*mvccpb.KeyValue) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Go(func() {
			for i := range work {
				j := &jobs[i]
				hs, err := decodeHashes(got[s.hashesKey(reqs[i].ID)])
				if err != nil {
					j.err = err
					continue
				}
				j.against = hs.Hash
				if reqs[i].EnforceHistory && j.policy.PinHistoryCount > 0 {
					reused, err := pinhash.Reused(key, hs.Hash, hs.History, j.policy.PinHistoryCount, j.pin)
					if err != nil || reused {
						j.err = err
						if reused {
							j.err = pinrule.ReusedError(j.policy)
						}
						continue
					}
				}
				j.hash, j.err = pinhash.Hash(key, s.opts.HashParams, j.pin, nil)
			}
		})
	}
	for i := range jobs {
		if jobs[i].err == nil && ctx.Err() == nil {
			work <- i
		}
	}
	close(work)
	wg.Wait()
}
