package etcdstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// etcd's limits on one transaction (see the package doc).
const (
	// MaxTxnOps is etcd's default --max-txn-ops: at most this many
	// compares, and this many operations, in one transaction. The layer
	// keeps one of each for its witness (see kv.commit).
	MaxTxnOps = 128
	// maxTxnBytes bounds the estimated size of one transaction request,
	// well under etcd's default --max-request-bytes (1.5 MiB), leaving room
	// for the protocol's own framing.
	maxTxnBytes = 1 << 20
	// opOverhead is a generous estimate of the bytes one compare or
	// operation adds besides its key and value.
	opOverhead = 32
)

var (
	// errTxnFull says an operation does not fit in the transaction: the
	// caller commits what it has and goes on in a new one.
	errTxnFull = errors.New("etcd transaction full")
	// errTwice says a key was written twice in one transaction, which etcd
	// refuses; it is a bug of the caller.
	errTwice = errors.New("key written twice in one etcd transaction")
)

// txn collects the compares and writes of one etcd transaction and keeps
// them within etcd's limits: at most MaxTxnOps-1 of each (the commit adds
// the witness), no key written twice, at most maxTxnBytes in all.
type txn struct {
	cmps  []clientv3.Cmp
	ops   []clientv3.Op
	wrote map[string]bool
	size  int
}

// room reports whether the transaction can take cmps more compares and ops
// more writes of size bytes (keys and values).
func (t *txn) room(cmps, ops, size int) bool {
	return len(t.cmps)+cmps <= MaxTxnOps-1 && len(t.ops)+ops <= MaxTxnOps-1 &&
		t.size+size+(cmps+ops)*opOverhead <= maxTxnBytes
}

// unchanged adds the compare "key's mod revision is still rev" (0: the key
// still does not exist).
func (t *txn) unchanged(key string, rev int64) error {
	if !t.room(1, 0, len(key)) {
		return errTxnFull
	}
	t.cmps = append(t.cmps, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	t.size += len(key) + opOverhead
	return nil
}

// put adds a write of key.
func (t *txn) put(key string, val []byte) error {
	return t.write(key, len(val), clientv3.OpPut(key, string(val)))
}

// del adds a delete of key.
func (t *txn) del(key string) error { return t.write(key, 0, clientv3.OpDelete(key)) }

func (t *txn) write(key string, n int, op clientv3.Op) error {
	if t.wrote[key] {
		return fmt.Errorf("%w: %q", errTwice, key)
	}
	if !t.room(0, 1, len(key)+n) {
		return errTxnFull
	}
	if t.wrote == nil {
		t.wrote = make(map[string]bool)
	}
	t.wrote[key] = true
	t.ops = append(t.ops, op)
	t.size += len(key) + n + opOverhead
	return nil
}

// empty reports whether the transaction writes nothing.
func (t *txn) empty() bool { return len(t.ops) == 0 }

// kv is the transaction layer over one etcd client and one directory
// prefix. It commits txns with a witness, so that a commit whose outcome is
// unknown (a member killed, a connection reset, a timeout) is resolved
// rather than repeated or dropped:
//
// Every transaction also compares and writes a witness key of this kv's own,
// P/w/SESSION/SLOT, setting it to a new transaction id. SESSION is random
// per kv; SLOT is one of the slots in use by concurrent commits of this kv,
// so no two transactions in flight share a witness. When the outcome is
// unknown, resolve runs "if the witness holds the id then nothing else
// overwrite it" until that itself has a known outcome: if the witness held
// the id, the transaction committed; otherwise the overwrite changed the
// witness's mod revision, so the transaction, should it still be in
// flight, can no longer commit. Either way the outcome is then known for
// good. Close deletes the session's witnesses.
type kv struct {
	cli     *clientv3.Client
	prefix  string // "NAME/"
	session string

	mu    sync.Mutex
	free  []int         // witness slots not in use
	revs  map[int]int64 // mod revision of each slot's witness (0: none yet)
	slots int

	// compactEvery is the revisions between compactions (0: never); see
	// maybeCompact.
	compactEvery int64
	compactAt    atomic.Int64 // revision at which the next compaction is due (0: not known yet)
	compacting   atomic.Bool
	compactions  atomic.Int64
	bg           sync.WaitGroup // compactions running

	// noReread, set by benchmarks, makes a failed compare read again in
	// a request of its own (see rmw), to measure what rereading in the
	// commit's request saves.
	noReread bool

	// gen counts the commits begun, so that a read made ahead (see
	// readAhead) is not used after this kv changed anything.
	gen atomic.Int64

	closed    atomic.Bool  // set by Store.Close
	resolved  atomic.Int64 // commits whose unknown outcome resolve settled
	conflicts atomic.Int64 // commits refused because a compared key had changed

	// send, when not nil, sends a commit in place of calling it directly:
	// tests inject unknown outcomes with it (send the commit and report an
	// error, report an error without sending it, or send it late).
	send func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error)
}

func newKV(cli *clientv3.Client, name string) *kv {
	var b [8]byte
	rand.Read(b[:])
	return &kv{cli: cli, prefix: name + "/", session: hex.EncodeToString(b[:]), revs: make(map[int]int64), compactEvery: compactEvery}
}

func (k *kv) witnessKey(slot int) string { return fmt.Sprintf("%sw/%s/%d", k.prefix, k.session, slot) }

func (k *kv) takeSlot() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n := len(k.free); n > 0 {
		s := k.free[n-1]
		k.free = k.free[:n-1]
		return s
	}
	k.slots++
	return k.slots - 1
}

func (k *kv) releaseSlot(slot int, rev int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.revs[slot] = rev
	k.free = append(k.free, slot)
}

func (k *kv) slotRev(slot int) int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.revs[slot]
}

// commit commits t. It returns the revision of the commit and true, or
// false when a compare failed (nothing was written: the caller reads again
// and retries). An error means nothing was written either; a commit whose
// outcome was unknown has been resolved (see kv) before commit returns.
func (k *kv) commit(ctx context.Context, t *txn) (int64, bool, error) {
	rev, ok, _, err := k.commitOr(ctx, t, nil)
	return rev, ok, err
}

// commitOr is commit, reading with reread (gets) when a compare fails, in
// the same request: again holds what they read, at the revision of the
// failed commit, so that a read-modify-write tries again without another
// round trip.
func (k *kv) commitOr(ctx context.Context, t *txn, reread []clientv3.Op) (rev int64, ok bool, again *clientv3.TxnResponse, err error) {
	k.gen.Add(1)
	slot := k.takeSlot()
	wkey := k.witnessKey(slot)
	wrev := k.slotRev(slot)
	id := newTxnID()
	cmps := append(t.cmps[:len(t.cmps):len(t.cmps)], clientv3.Compare(clientv3.ModRevision(wkey), "=", wrev))
	ops := append(t.ops[:len(t.ops):len(t.ops)], clientv3.OpPut(wkey, id))
	tx := k.cli.Txn(ctx).If(cmps...).Then(ops...).Else(append([]clientv3.Op{clientv3.OpGet(wkey)}, reread...)...)
	var resp *clientv3.TxnResponse
	if k.send != nil {
		resp, err = k.send(tx.Commit)
	} else {
		resp, err = tx.Commit()
	}
	switch {
	case err == nil && resp.Succeeded:
		k.releaseSlot(slot, resp.Header.Revision)
		k.maybeCompact(resp.Header.Revision)
		return resp.Header.Revision, true, nil, nil
	case err == nil:
		k.conflicts.Add(1)
		// A compare failed. Learn the witness's revision in case it was
		// the witness's compare (a fence by an earlier resolve).
		rev := wrev
		if r := resp.Responses[0].GetResponseRange(); r != nil {
			rev = modRev(r.Kvs)
		}
		k.releaseSlot(slot, rev)
		if len(reread) > 0 {
			again = &clientv3.TxnResponse{Header: resp.Header, Responses: resp.Responses[1:]}
		}
		return 0, false, again, nil
	case definite(err):
		k.releaseSlot(slot, wrev)
		return 0, false, nil, fmt.Errorf("etcd transaction: %w", err)
	}
	k.resolved.Add(1)
	committed, rev, rerr := k.resolve(ctx, wkey, id)
	if rerr != nil {
		// The slot's state is unknown: never reuse it.
		return 0, false, nil, fmt.Errorf("etcd transaction: outcome unknown after %v: %w", err, rerr)
	}
	k.releaseSlot(slot, rev)
	if committed {
		return rev, true, nil, nil
	}
	return 0, false, nil, fmt.Errorf("%w (%w); this transaction changed nothing", errNotCommitted, err)
}

// errNotCommitted says a transaction whose outcome was unknown turned out
// not to have committed, and never will: it may be tried again.
var errNotCommitted = errors.New("etcd transaction not committed")

// resolveTimeout bounds each attempt of resolve; resolveAttempts bounds
// the attempts. Elections after a member's loss take a few seconds.
const (
	resolveTimeout  = 10 * time.Second
	resolveAttempts = 6
)

// resolve finds out whether the transaction that wrote id into wkey
// committed, and makes sure it never will if it has not: it returns
// whether it committed and the witness's mod revision afterwards.
func (k *kv) resolve(ctx context.Context, wkey, id string) (committed bool, rev int64, err error) {
	ctx = context.WithoutCancel(ctx) // the caller gave up waiting; the answer is still needed
	for range resolveAttempts {
		c, cancel := context.WithTimeout(ctx, resolveTimeout)
		var resp *clientv3.TxnResponse
		resp, err = k.cli.Txn(c).
			If(clientv3.Compare(clientv3.Value(wkey), "=", id)).
			Then(clientv3.OpGet(wkey)).
			Else(clientv3.OpPut(wkey, "fenced:"+id)).
			Commit()
		cancel()
		if err != nil {
			if definite(err) {
				return false, 0, err
			}
			continue
		}
		if resp.Succeeded {
			return true, modRev(resp.Responses[0].GetResponseRange().Kvs), nil
		}
		return false, resp.Header.Revision, nil
	}
	return false, 0, err
}

// definite reports whether err means the server refused the request, so
// that it certainly did not commit. Anything else (unavailable, deadline,
// canceled, connection reset) may have committed.
func definite(err error) bool {
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps), errors.Is(err, rpctypes.ErrDuplicateKey),
		errors.Is(err, rpctypes.ErrRequestTooLarge), errors.Is(err, rpctypes.ErrNoSpace),
		errors.Is(err, rpctypes.ErrPermissionDenied), errors.Is(err, rpctypes.ErrUserEmpty),
		errors.Is(err, rpctypes.ErrAuthNotEnabled), errors.Is(err, rpctypes.ErrInvalidAuthToken):
		return true
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.InvalidArgument, codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition,
			codes.ResourceExhausted, codes.OutOfRange, codes.Unimplemented:
			return true
		}
	}
	return false
}

func modRev(kvs []*mvccpb.KeyValue) int64 {
	if len(kvs) == 0 {
		return 0
	}
	return kvs[0].ModRevision
}

// newTxnID returns a new transaction id: random, and stamped with the
// host's clock (Unix seconds) so that sweep can tell old witnesses.
func newTxnID() string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s@%d", hex.EncodeToString(b[:]), time.Now().Unix())
}

// witnessTTL is how old, by the sweeping host's clock, another session's
// witness must be before sweep deletes it: far beyond the longest resolve
// (resolveAttempts × resolveTimeout) plus any sane clock skew between
// hosts, so that no witness a resolve may still read is swept. The clock
// only ages this bookkeeping; no PIN decision reads it.
const witnessTTL = time.Hour

// witnessTime returns when the witness value v was written (false: not
// stamped).
func witnessTime(v string) (time.Time, bool) {
	_, sec, ok := strings.Cut(v, "@")
	if !ok {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// sweep deletes the witnesses of other sessions written before now minus
// witnessTTL: those a process killed with commits in flight left behind
// (Close deletes a session's own). Each is deleted only if it is still
// what was read (a compare of its mod revision), so a witness reused
// meanwhile stays. A live session's idle witness may go too: its next
// commit on that slot fails its compare, learns the witness is gone, and
// commits on the retry. It returns how many witnesses it deleted. The
// witnesses of a directory are few (each session's peak of concurrent
// commits), so one read takes them all.
func (k *kv) sweep(ctx context.Context, now time.Time) (int, error) {
	r, err := k.cli.Get(ctx, k.prefix+"w/", clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("etcd directory %s: read the commit witnesses: %w", strings.TrimSuffix(k.prefix, "/"), err)
	}
	own := k.prefix + "w/" + k.session + "/"
	var old []*mvccpb.KeyValue
	for _, kv := range r.Kvs {
		if strings.HasPrefix(string(kv.Key), own) {
			continue
		}
		if at, ok := witnessTime(string(kv.Value)); ok && at.After(now.Add(-witnessTTL)) {
			continue
		}
		old = append(old, kv)
	}
	deleted := 0
	for len(old) > 0 {
		t := &txn{}
		n := 0
		for _, kv := range old {
			if !t.room(1, 1, 2*len(kv.Key)) {
				break
			}
			t.unchanged(string(kv.Key), kv.ModRevision)
			t.del(string(kv.Key))
			n++
		}
		// No witness of its own: deleting garbage twice is harmless.
		resp, err := k.cli.Txn(ctx).If(t.cmps...).Then(t.ops...).Commit()
		if err != nil {
			return deleted, fmt.Errorf("etcd directory %s: delete old commit witnesses: %w", strings.TrimSuffix(k.prefix, "/"), err)
		}
		if resp.Succeeded {
			deleted += n
		}
		old = old[n:]
	}
	return deleted, nil
}

// Compaction: etcd keeps every old revision until someone compacts; a
// Store compacts the cluster's history up to compactKeep revisions behind
// its latest commit each time its commits have moved compactEvery
// revisions on (Options.NoCompact turns this off).
const (
	compactEvery = 10000
	compactKeep  = 1000
)

// maybeCompact starts a compaction after a commit at rev when one is due
// and none of this kv's runs; it does not wait for it (close does).
func (k *kv) maybeCompact(rev int64) {
	if k.compactEvery <= 0 {
		return
	}
	next := k.compactAt.Load()
	if next == 0 {
		k.compactAt.CompareAndSwap(0, rev+k.compactEvery)
		return
	}
	if rev < next || rev-compactKeep <= 0 || !k.compacting.CompareAndSwap(false, true) {
		return
	}
	k.compactAt.Store(rev + k.compactEvery)
	k.bg.Go(func() {
		defer k.compacting.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		defer cancel()
		// Another host may have compacted further already
		// (ErrCompacted): either way the history is bounded.
		if _, err := k.cli.Compact(ctx, rev-compactKeep); err == nil {
			k.compactions.Add(1)
		}
	})
}

// maxRetries bounds the read-compute-compare loop of update: every failed
// compare means another writer committed, so only a key changed this often
// while one update runs exhausts it.
const maxRetries = 1000

// maxLost bounds the commits of one update that may be lost (see
// errNotCommitted) before it gives up.
const maxLost = 3

// update is a read-modify-write of keys under compare-and-swap: it reads
// keys at one revision, calls fn with what it read (a missing key is nil)
// and a new txn, and commits fn's writes if none of keys changed since the
// read; otherwise it reads again and calls fn again. fn must be a pure
// function of what it reads (it may run several times) and must not
// commit. It returns fn's error, or the commit's revision.
func (k *kv) update(ctx context.Context, keys []string, fn func(cur map[string]*mvccpb.KeyValue, t *txn) error) (int64, error) {
	if len(keys) > MaxTxnOps-1 {
		return 0, fmt.Errorf("update of %d keys: %w", len(keys), errTxnFull)
	}
	gets := make([]clientv3.Op, len(keys))
	for i, key := range keys {
		gets[i] = clientv3.OpGet(key)
	}
	return k.rmw(ctx, keys[0], gets, func(resp *clientv3.TxnResponse, t *txn) error {
		cur := make(map[string]*mvccpb.KeyValue, len(keys))
		for i, key := range keys {
			kvs := resp.Responses[i].GetResponseRange().Kvs
			if len(kvs) > 0 {
				cur[key] = kvs[0]
			}
			if err := t.unchanged(key, modRev(kvs)); err != nil {
				return err
			}
		}
		return fn(cur, t)
	})
}

// rmw is the read-modify-write loop under update, for reads that are not
// single keys (ranges): it reads with gets at one revision, calls fn with
// the response and a new txn, and commits fn's writes; fn adds the
// compares (txn.unchanged) that make its writes right, and a failed
// compare starts over with a new read. what names the change in errors.
// fn must be a pure function of what it reads and must not commit.
func (k *kv) rmw(ctx context.Context, what string, gets []clientv3.Op, fn func(resp *clientv3.TxnResponse, t *txn) error) (int64, error) {
	return k.rmwFirst(ctx, what, nil, gets, fn)
}

// rmwFrom is rmw making its first read with firstGets, the same reads as
// gets but for their options: serializable ones, served by the member the
// request reaches without asking the leader, may be stale, so they suit
// only an fn that commits whatever it decides (its compares then catch a
// stale read, and the failed commit rereads with gets, linearizably). When
// fn decides on such a read without committing (an error, or no write),
// it is read again with gets and decided again, so that a process always
// sees its own last change.
func (k *kv) rmwFrom(ctx context.Context, what string, firstGets, gets []clientv3.Op, fn func(resp *clientv3.TxnResponse, t *txn) error) (int64, error) {
	first := func() (*clientv3.TxnResponse, bool, error) {
		r, err := k.read(ctx, firstGets)
		return r, true, err
	}
	return k.rmwFirst(ctx, what, first, gets, fn)
}

// rmwFirst is rmw taking its first read from first (nil: reading gets),
// which says whether the read may be stale (see rmwFrom).
func (k *kv) rmwFirst(ctx context.Context, what string, first func() (*clientv3.TxnResponse, bool, error), gets []clientv3.Op,
	fn func(resp *clientv3.TxnResponse, t *txn) error) (int64, error) {
	lost := 0 // commits that did not reach etcd
	var resp *clientv3.TxnResponse
	stale := false // resp may be stale
	for range maxRetries {
		if resp == nil {
			var err error
			if first != nil {
				resp, stale, err = first()
				first = nil
			} else {
				stale = false
				resp, err = k.read(ctx, gets)
			}
			if err != nil {
				return 0, err
			}
		}
		t := &txn{}
		err := fn(resp, t)
		if stale && (err != nil || t.empty()) {
			resp = nil
			continue
		}
		stale = false
		if err != nil {
			return 0, err
		}
		if t.empty() {
			return resp.Header.Revision, nil
		}
		// A failed compare rereads in the commit's own request.
		reread := gets
		if len(gets) >= MaxTxnOps || k.noReread {
			reread = nil
		}
		rev, ok, again, err := k.commitOr(ctx, t, reread)
		resp = again
		if errors.Is(err, errNotCommitted) && lost < maxLost {
			lost++ // e.g. the leader was lost: after an election, it may go through
			continue
		}
		if err != nil || ok {
			return rev, err
		}
	}
	return 0, fmt.Errorf("etcd update of %q: more than %d concurrent changes while it ran; try again", what, maxRetries)
}

// readAttempts bounds the attempts of read; between them it waits
// readBackoff, doubled each time (up to 1 s): long enough, in all, for the
// members left to elect a leader after one is lost.
const (
	readAttempts = 10
	readBackoff  = 50 * time.Millisecond
)

// read reads at one revision with ops (gets), trying again while the
// cluster is unavailable (no leader, leader changed, member stopped): a
// read changes nothing, so trying again is safe. The error of a read that
// never succeeds says this transaction changed nothing (errNotCommitted).
func (k *kv) read(ctx context.Context, gets []clientv3.Op) (*clientv3.TxnResponse, error) {
	wait := readBackoff
	for attempt := 1; ; attempt++ {
		resp, err := k.cli.Txn(ctx).Then(gets...).Commit()
		if err == nil {
			return resp, nil
		}
		if definite(err) || ctx.Err() != nil || attempt == readAttempts {
			return nil, fmt.Errorf("%w: etcd read failed (%w); this transaction changed nothing", errNotCommitted, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: etcd read failed (%w); this transaction changed nothing", errNotCommitted, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// close waits for a compaction running and deletes the witnesses of
// this kv's session.
func (k *kv) close(ctx context.Context) error {
	k.bg.Wait()
	_, err := k.cli.Delete(ctx, k.prefix+"w/"+k.session+"/", clientv3.WithPrefix())
	return err
}
