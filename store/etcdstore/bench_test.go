package etcdstore

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
)

// BenchmarkLockLayout measures the bulk lock of the PIN state of 20,000
// users on the package's 3-member loopback cluster, with the state laid out
// one key per user or packed many users to a key, to choose the layout of
// PIN state (see the package doc). Each transaction reads a window of
// keys, compares their mod revisions and rewrites them (127 keys per
// transaction: etcd's 128 operations less the witness), as a lock
// pipeline would; workers run that many transactions at once.
//
//	go test ./store/etcdstore -run '^$' -bench LockLayout -benchtime 1x
func BenchmarkLockLayout(b *testing.B) {
	const users = 20000
	const state = 24 // bytes of PIN state per user, about the bbolt backend's
	for _, perKey := range []int{1, 16, 64} {
		for _, workers := range []int{1, 4} {
			b.Run(fmt.Sprintf("users_per_key=%d/workers=%d", perKey, workers), func(b *testing.B) {
				cli := etcdtest.Client(b)
				k := newKV(cli, etcdtest.Prefix(b))
				keys := (users + perKey - 1) / perKey
				val := make([]byte, perKey*state)
				for i := 0; i < keys; i += MaxTxnOps - 1 {
					t := &txn{}
					for j := i; j < min(i+MaxTxnOps-1, keys); j++ {
						if err := t.put(fmt.Sprintf("%sp/%08x", k.prefix, j), val); err != nil {
							b.Fatal(err)
						}
					}
					if _, _, err := k.commit(ctx, t); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for range b.N {
					windows := make(chan int)
					var wg sync.WaitGroup
					var mu sync.Mutex
					var firstErr error
					for range workers {
						wg.Go(func() {
							for from := range windows {
								if err := lockWindow(k, from, min(from+MaxTxnOps-1, keys)); err != nil {
									mu.Lock()
									firstErr = err
									mu.Unlock()
								}
							}
						})
					}
					for from := 0; from < keys; from += MaxTxnOps - 1 {
						windows <- from
					}
					close(windows)
					wg.Wait()
					if firstErr != nil {
						b.Fatal(firstErr)
					}
				}
				b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
			})
		}
	}
}

// lockWindow rewrites keys [from, to) under compare-and-swap, as a bulk
// lock does.
func lockWindow(k *kv, from, to int) error {
	r, err := k.cli.Get(ctx, fmt.Sprintf("%sp/%08x", k.prefix, from), clientv3.WithRange(fmt.Sprintf("%sp/%08x", k.prefix, to)))
	if err != nil {
		return err
	}
	t := &txn{}
	for _, kv := range r.Kvs {
		if err := t.unchanged(string(kv.Key), kv.ModRevision); err != nil {
			return err
		}
		v := append([]byte(nil), kv.Value...)
		v[0]++ // the lock
		if err := t.put(string(kv.Key), v); err != nil {
			return err
		}
	}
	_, ok, err := k.commit(ctx, t)
	if err == nil && !ok {
		err = fmt.Errorf("window %d: changed concurrently", from)
	}
	return err
}

// BenchmarkVerifyContention runs single-user read-modify-writes (a
// verify's failure counter) from 8 workers at once on users drawn at random
// from 1,000, with
// the PIN state one key per user or packed 16 or 64 users to a key, and
// reports the compare-and-swap retries per verify: what packing costs
// concurrent verifies of neighbours.
//
//	go test ./store/etcdstore -run '^$' -bench VerifyContention -benchtime 2000x
func BenchmarkVerifyContention(b *testing.B) {
	const users, workers = 1000, 8
	for _, perKey := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("users_per_key=%d", perKey), func(b *testing.B) {
			k := newKV(etcdtest.Client(b), etcdtest.Prefix(b))
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						user := rand.IntN(users)
						if err := increment(k, fmt.Sprintf("%sp/%08x", k.prefix, user/perKey)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(k.conflicts.Load())/float64(b.N), "retries/verify")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
		})
	}
}

// BenchmarkVerifyTwoHosts runs VerifyPin from two Stores with a client
// each (two hosts), one writer each, on users of different PIN state
// blocks: their only common key is the audit counter, which every change
// compares. It reports the compare-and-swap retries per verify (the hot
// spot of a dense audit sequence) and the verifies per second.
//
//	go test ./store/etcdstore -run '^$' -bench VerifyTwoHosts -benchtime 400x -count 3
func BenchmarkVerifyTwoHosts(b *testing.B) {
	for _, reread := range []bool{true, false} {
		b.Run(fmt.Sprintf("reread=%v", reread), func(b *testing.B) { verifyTwoHosts(b, reread) })
	}
}

func verifyTwoHosts(b *testing.B, reread bool) {
	name := etcdtest.Prefix(b)
	opts := testOptions(b)
	a := openBench(b, name, opts)
	opts.Creator = ""
	c := openBench(b, name, opts)
	op := store.Op{Operator: "admin", Now: t0}
	const users = 64
	rows := func(yield func(store.LoadRow) bool) {
		for i := range users * usersPerBlock {
			if !yield(store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("v%04d@litwareinc.com", i), Enabled: true},
				Pin: "48151", State: store.PinState{LastChange: t0}}) {
				return
			}
		}
	}
	if _, err := a.LoadUsers(ctx, op, rows, nil); err != nil {
		b.Fatal(err)
	}
	a.kv.noReread, c.kv.noReread = !reread, !reread
	a.kv.conflicts.Store(0)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for h, s := range []*Store{a, c} {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				// Users h, h+2, ... of every 16th ID: two hosts never share a block.
				id := store.UserID((int(n)%(users/2)*2+h)*usersPerBlock + 1)
				if v, err := s.VerifyPin(ctx, op, id, "48151"); err != nil || !v.OK {
					b.Errorf("verify %d: %+v %v", id, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(a.kv.conflicts.Load()+c.kv.conflicts.Load())/float64(b.N), "retries/verify")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

func openBench(b *testing.B, name string, opts Options) *Store {
	s, err := Open(ctx, etcdtest.Client(b), name, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkStoreLock locks and unlocks the PINs of 10,000 users with one
// LockPins call each time (the seed's Example 2 pipeline ends in one such
// call per chunk), on the package's 3-member loopback cluster; only the
// lock is timed. The users are loaded once, with LoadUsers.
//
//	go test ./store/etcdstore -run '^$' -bench StoreLock -benchtime 3x
func BenchmarkStoreLock(b *testing.B) {
	s := openBench(b, etcdtest.Prefix(b), testOptions(b))
	ids := loadBench(b, s, 10000)
	op := store.Op{Operator: "admin", Now: t0}
	b.ResetTimer()
	for range b.N {
		res, err := s.LockPins(ctx, op, ids)
		if err != nil || res[len(res)-1].Outcome != store.Changed {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := s.UnlockPins(ctx, op, ids); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkStoreVerify makes VerifyPin round trips for one user after
// another from one goroutine (cheap test hashing parameters, so the figure
// is the store's round trip, not argon2's cost).
//
//	go test ./store/etcdstore -run '^$' -bench StoreVerify -benchtime 300x
func BenchmarkStoreVerify(b *testing.B) {
	s := openBench(b, etcdtest.Prefix(b), testOptions(b))
	ids := loadBench(b, s, 64)
	op := store.Op{Operator: "admin", Now: t0}
	b.ResetTimer()
	for i := range b.N {
		if v, err := s.VerifyPin(ctx, op, ids[i%len(ids)], "48151"); err != nil || !v.OK {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/verify")
}

// loadBench loads n users with the PIN 48151 into s and returns their IDs.
func loadBench(b *testing.B, s *Store, n int) []store.UserID {
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			if !yield(store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("b%05d@litwareinc.com", i), Enabled: true},
				Pin: "48151", State: store.PinState{LastChange: t0}}) {
				return
			}
		}
	}
	if rep, err := s.LoadUsers(ctx, store.Op{Operator: "admin", Now: t0}, rows, nil); err != nil || rep.Imported != n {
		b.Fatal(rep, err)
	}
	ids := make([]store.UserID, n)
	for i := range ids {
		ids[i] = store.UserID(i + 1)
	}
	return ids
}
