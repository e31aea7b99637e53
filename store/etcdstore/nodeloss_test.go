package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pinsh/pinsh/internal/etcdcluster"
	"github.com/pinsh/pinsh/store"
)

// TestLeaderKilled kills the leader of a cluster of its own while eight
// writers run read-modify-writes: every update either succeeds once or
// fails saying it was not committed, and each counter ends at exactly its
// writer's successes, none lost and none repeated.
func TestLeaderKilled(t *testing.T) {
	c := ownCluster(t, 3)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: dialTimeout, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	k := newKV(cli, "nodeloss")

	const writers, each = 8, 40
	var done, afterKill atomic.Int64
	var killed atomic.Bool
	halfway := make(chan struct{})
	var once sync.Once
	succeeded := make([]int, writers)
	var mu sync.Mutex
	var failures []error
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("%scounter%d", k.prefix, w)
			for range each {
				// Each update has its own bound, as a pipeline's would.
				uctx, cancel := context.WithTimeout(ctx, time.Minute)
				err := incrementCtx(uctx, k, key)
				cancel()
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				} else {
					succeeded[w]++
					if killed.Load() {
						afterKill.Add(1)
					}
				}
				if done.Add(1) >= writers*each/4 {
					once.Do(func() { close(halfway) })
				}
			}
		})
	}
	<-halfway
	leader := c.Leader()
	if leader < 0 {
		t.Fatal("no leader while writers commit")
	}
	c.Kill(leader)
	killed.Store(true)
	wg.Wait()

	for _, err := range failures {
		if !errors.Is(err, errNotCommitted) {
			t.Errorf("an update failed without saying whether it committed: %v", err)
		}
	}
	total := 0
	for w := range writers {
		r, err := cli.Get(ctx, fmt.Sprintf("%scounter%d", k.prefix, w))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if len(r.Kvs) == 1 {
			got, _ = strconv.Atoi(string(r.Kvs[0].Value))
		}
		if got != succeeded[w] {
			t.Errorf("writer %d: counter %d after %d successful increments", w, got, succeeded[w])
		}
		total += succeeded[w]
	}
	t.Logf("leader m%d killed; %d of %d updates succeeded (%d after the kill), %d failed (%s); %d unknown outcomes resolved",
		leader+1, total, writers*each, afterKill.Load(), len(failures), firstLine(failures), k.resolved.Load())
	if afterKill.Load() == 0 {
		t.Error("no update succeeded after the leader was killed: the two members left did not take over")
	}
}

// TestBulkLockNodeLoss kills the leader of a cluster of its own while the
// commit of the second of LockPins' three transactions (4,000 users) is in
// flight. The call completes after the election, or fails with an error
// saying how many PINs it had changed; afterwards every locked PIN has
// exactly one lock_pin audit entry, no entry names a PIN left unlocked,
// and none is locked twice.
func TestBulkLockNodeLoss(t *testing.T) {
	c := ownCluster(t, 3)
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: dialTimeout, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	s := openTest(t, cli, "nodeloss", testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	const n = 4000
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			if !yield(store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("n%04d@litwareinc.com", i), Enabled: true},
				Pin: "48151", State: store.PinState{LastChange: t0}}) {
				return
			}
		}
	}
	if rep, err := s.LoadUsers(ctx, op, rows, nil); err != nil || rep.Imported != n {
		t.Fatalf("LoadUsers = %+v, %v", rep, err)
	}
	us, _, err := s.ScanUsers(ctx, store.UserQuery{}, 0, n)
	if err != nil || len(us) != n {
		t.Fatalf("ScanUsers = %d users, %v", len(us), err)
	}
	ids := make([]store.UserID, n)
	for i, u := range us {
		ids[i] = u.ID
	}

	commits, leader := 0, -1
	s.kv.send = func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		if commits++; commits != 2 {
			return commit()
		}
		if leader = c.Leader(); leader < 0 {
			return nil, errors.New("no leader before the kill (test setup)")
		}
		type reply struct {
			resp *clientv3.TxnResponse
			err  error
		}
		sent := make(chan reply, 1)
		go func() {
			resp, err := commit()
			sent <- reply{resp, err}
		}()
		c.Kill(leader)
		r := <-sent
		return r.resp, r.err
	}
	lockOp := store.Op{Operator: "admin", Now: t0.Add(time.Hour)}
	res, lockErr := s.LockPins(ctx, lockOp, ids)
	s.kv.send = nil
	if leader < 0 {
		t.Fatalf("the kill did not happen: %d commits", commits)
	}
	if lockErr != nil {
		if !strings.Contains(lockErr.Error(), "lock_pin") || !strings.Contains(lockErr.Error(), "this transaction changed nothing") && !strings.Contains(lockErr.Error(), "earlier transactions had changed and audited") {
			t.Errorf("LockPins failed without a clear error: %v", lockErr)
		}
	} else {
		for _, r := range res {
			if r.Outcome != store.Changed {
				t.Fatalf("LockPins completed with %+v", r)
			}
		}
	}

	ps, err := s.PinInfos(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]int{}
	for _, e := range allAudit(t, s, store.AuditQuery{Action: "lock_pin"}, 1000) {
		entries[e.Target]++
	}
	locked := 0
	for _, p := range ps {
		want := 0
		if p.LockedBy == store.LockedByAdmin {
			locked, want = locked+1, 1
		}
		if entries[p.Identity] != want {
			t.Errorf("%s: locked %v with %d lock_pin entries", p.Identity, p.LockedBy == store.LockedByAdmin, entries[p.Identity])
		}
	}
	if len(entries) != locked {
		t.Errorf("%d users have lock_pin entries, %d are locked", len(entries), locked)
	}
	if lockErr == nil && locked != n {
		t.Errorf("LockPins completed but %d of %d PINs are locked", locked, n)
	}
	t.Logf("leader m%d killed during commit 2 of LockPins(%d users): error %v; %d locked, %d unknown outcomes resolved", leader+1, n, lockErr, locked, s.kv.resolved.Load())
}

// ownCluster starts a cluster of members for one test, which changes it
// (kills a member, turns on authentication), and stops it when the test
// ends.
func ownCluster(t *testing.T, members int) *etcdcluster.Cluster {
	t.Helper()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := etcdcluster.Start(startCtx, t.TempDir(), etcdcluster.Options{Members: members, NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func firstLine(errs []error) string {
	if len(errs) == 0 {
		return "none"
	}
	s, _, _ := strings.Cut(errs[0].Error(), "\n")
	return s
}
