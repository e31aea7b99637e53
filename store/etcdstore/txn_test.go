package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
)

var ctx = context.Background()

func testKV(t *testing.T) *kv {
	t.Helper()
	return newKV(etcdtest.Client(t), etcdtest.Prefix(t))
}

// TestTxnLimits fills transactions to etcd's limits: the fullest txn the
// layer builds commits, and what would not fit is refused before sending.
func TestTxnLimits(t *testing.T) {
	k := testKV(t)
	full := &txn{}
	n := 0
	for ; ; n++ {
		err := full.put(fmt.Sprintf("%sk%03d", k.prefix, n), []byte("v"))
		if errors.Is(err, errTxnFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != MaxTxnOps-1 {
		t.Fatalf("a txn took %d writes, want %d (one is left for the witness)", n, MaxTxnOps-1)
	}
	for i := 0; ; i++ {
		if err := full.unchanged(fmt.Sprintf("%sc%03d", k.prefix, i), 0); errors.Is(err, errTxnFull) {
			if i != MaxTxnOps-1 {
				t.Fatalf("a txn took %d compares, want %d", i, MaxTxnOps-1)
			}
			break
		}
	}
	if _, ok, err := k.commit(ctx, full); err != nil || !ok {
		t.Fatalf("commit of a full txn: %v, %v", ok, err)
	}
	r, err := k.cli.Get(ctx, k.prefix+"k", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != int64(n) {
		t.Fatalf("%d keys written, want %d (%v)", r.Count, n, err)
	}

	big := &txn{}
	val := make([]byte, 64<<10)
	i := 0
	for ; big.put(fmt.Sprintf("%sbig%03d", k.prefix, i), val) == nil; i++ {
	}
	if i < 8 || i > 16 {
		t.Fatalf("a txn took %d values of 64 KiB, want 8..16 (1 MiB)", i)
	}
	if _, ok, err := k.commit(ctx, big); err != nil || !ok {
		t.Fatalf("commit of a txn at the size bound: %v, %v", ok, err)
	}

	twice := &txn{}
	if err := twice.put(k.prefix+"a", nil); err != nil {
		t.Fatal(err)
	}
	if err := twice.del(k.prefix + "a"); !errors.Is(err, errTwice) || !strings.Contains(err.Error(), k.prefix+"a") {
		t.Fatalf("second write of a key: %v, want errTwice naming it", err)
	}
}

// increment adds 1 to the decimal counter at key with update.
func increment(k *kv, key string) error { return incrementCtx(ctx, k, key) }

func incrementCtx(ctx context.Context, k *kv, key string) error {
	_, err := k.update(ctx, []string{key}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		n := 0
		if kv := cur[key]; kv != nil {
			var err error
			if n, err = strconv.Atoi(string(kv.Value)); err != nil {
				return err
			}
		}
		return t.put(key, []byte(strconv.Itoa(n+1)))
	})
	return err
}

// TestUpdateNoLostUpdate runs read-modify-writes of one counter from two
// kvs on two clients (two hosts) at once: none is lost.
func TestUpdateNoLostUpdate(t *testing.T) {
	a := testKV(t)
	b := newKV(etcdtest.Client(t), strings.TrimSuffix(a.prefix, "/"))
	key := a.prefix + "counter"
	const each = 50
	var wg sync.WaitGroup
	errs := make(chan error, 4*each)
	for _, k := range []*kv{a, a, b, b} {
		wg.Go(func() {
			for range each {
				if err := increment(k, key); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := a.cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Kvs[0].Value); got != strconv.Itoa(4*each) {
		t.Fatalf("counter %s after %d increments", got, 4*each)
	}
}

var errReset = status.Error(codes.Unavailable, "connection reset (injected)")

// TestUnknownOutcome injects the three ways a commit's outcome can be
// unknown, and checks the change is made exactly once or not at all.
func TestUnknownOutcome(t *testing.T) {
	k := testKV(t)
	key := k.prefix + "counter"
	get := func() string {
		r, err := k.cli.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Kvs) == 0 {
			return ""
		}
		return string(r.Kvs[0].Value)
	}

	// Committed, but the reply was lost: not repeated.
	k.send = func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		if _, err := commit(); err != nil {
			t.Error(err)
		}
		return nil, errReset
	}
	if err := increment(k, key); err != nil {
		t.Fatalf("committed with a lost reply: %v", err)
	}
	if v := get(); v != "1" {
		t.Fatalf("counter %q after one increment whose reply was lost, want 1", v)
	}

	// Never sent, and still in flight: the resolve fences it, so sending
	// it late changes nothing; update then tries again and succeeds.
	var late []func() (*clientv3.TxnResponse, error)
	k.send = func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		if len(late) == 0 {
			late = append(late, commit)
			return nil, errReset
		}
		return commit()
	}
	if err := increment(k, key); err != nil {
		t.Fatalf("increment after a lost request: %v", err)
	}
	if v := get(); v != "2" {
		t.Fatalf("counter %q, want 2", v)
	}
	k.send = nil
	resp, err := late[0]()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Succeeded {
		t.Fatal("a transaction sent after its outcome was resolved as not committed went through")
	}
	if v := get(); v != "2" {
		t.Fatalf("counter %q after the late send, want 2", v)
	}

	// Never committed, every time: update gives up with a clear error.
	k.send = func(func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) { return nil, errReset }
	err = increment(k, key)
	if !errors.Is(err, errNotCommitted) || !strings.Contains(err.Error(), "this transaction changed nothing") {
		t.Fatalf("increment that never reaches etcd: %v, want errNotCommitted", err)
	}
	k.send = nil
	if v := get(); v != "2" {
		t.Fatalf("counter %q, want 2", v)
	}

	// A refusal by the server is definite: no resolve, the error is kept.
	k.send = func(func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		return nil, status.Error(codes.PermissionDenied, "permission denied (injected)")
	}
	if err := increment(k, key); err == nil || errors.Is(err, errNotCommitted) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("refused increment: %v", err)
	}
	k.send = nil

	// Close removes the session's witnesses.
	if err := k.close(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := k.cli.Get(ctx, k.prefix+"w/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 0 {
		t.Fatalf("%d witnesses left after close (%v)", r.Count, err)
	}
}
