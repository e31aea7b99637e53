package etcdstore

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
)

// TestSweepWitnesses leaves witnesses as processes killed with commits in
// flight do, one stamped two hours ago and one just now: a host opening
// the directory deletes the old one only. A sweep two hours later also
// takes another live session's idle witness, whose next commit still
// goes through, once.
func TestSweepWitnesses(t *testing.T) {
	name := etcdtest.Prefix(t)
	cli := etcdtest.Client(t)
	a := openTest(t, cli, name, testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	if err := a.Audit(ctx, op, store.AuditEntry{Action: "x"}); err != nil {
		t.Fatal(err)
	}
	old, fresh := name+"/w/dead/0", name+"/w/dead/1"
	for k, at := range map[string]time.Time{old: time.Now().Add(-2 * time.Hour), fresh: time.Now()} {
		if _, err := cli.Put(ctx, k, "0123@"+strconv.FormatInt(at.Unix(), 10)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Put(ctx, name+"/w/older/0", "unstamped"); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.Creator = ""
	b := openTest(t, etcdtest.Client(t), name, opts)
	exists := func(k string) bool {
		r, err := cli.Get(ctx, k, clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return r.Count == 1
	}
	own := a.kv.witnessKey(0)
	if exists(old) || exists(name+"/w/older/0") || !exists(fresh) || !exists(own) {
		t.Fatalf("after Open's sweep: old %v, unstamped %v, fresh %v, a's own %v; want only fresh and a's own left",
			exists(old), exists(name+"/w/older/0"), exists(fresh), exists(own))
	}
	n, err := b.kv.sweep(ctx, time.Now().Add(2*time.Hour))
	if err != nil || n != 2 || exists(fresh) || exists(own) {
		t.Fatalf("a sweep 2 hours later deleted %d (%v); fresh left %v, a's idle witness left %v", n, err, exists(fresh), exists(own))
	}
	if err := a.Audit(ctx, op, store.AuditEntry{Action: "y"}); err != nil {
		t.Fatalf("a commit on a swept slot: %v", err)
	}
	if es := allAudit(t, a, store.AuditQuery{Action: "y"}, 10); len(es) != 1 {
		t.Fatalf("%d entries of the commit on a swept slot, want 1", len(es))
	}
}

// TestCompaction commits past the compaction interval (lowered for the
// test): the Store compacts the cluster's history behind its commits, and
// a Store opened with NoCompact does not.
func TestCompaction(t *testing.T) {
	for _, no := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoCompact=%v", no), func(t *testing.T) {
			opts := testOptions(t)
			opts.NoCompact = no
			s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), opts)
			if !no {
				s.kv.compactEvery = 20
				s.kv.compactAt.Store(0) // the creation set it 10,000 on
			}
			op := store.Op{Operator: "admin", Now: t0}
			first, err := s.kv.cli.Get(ctx, s.key(keyMeta))
			if err != nil {
				t.Fatal(err)
			}
			for i := range compactKeep/10 + 50 {
				// Ten revisions per audit call of another client keep
				// the interval short.
				for range 9 {
					if _, err := s.kv.cli.Put(ctx, s.key("filler"), "x"); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Audit(ctx, op, store.AuditEntry{Action: "tick", Target: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			s.kv.bg.Wait()
			_, err = s.kv.cli.Get(ctx, s.key(keyMeta), clientv3.WithRev(first.Header.Revision))
			compacted := errors.Is(err, rpctypes.ErrCompacted)
			if compacted == no || (!compacted && err != nil) {
				t.Fatalf("read at the revision before the commits: %v; want compacted %v (%d compactions)", err, !no, s.kv.compactions.Load())
			}
			if es := allAudit(t, s, store.AuditQuery{Action: "tick"}, 100); len(es) != compactKeep/10+50 {
				t.Fatalf("%d audit entries after compactions", len(es))
			}
		})
	}
}
