package etcdstore

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
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
