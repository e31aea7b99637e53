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
