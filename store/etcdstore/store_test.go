package etcdstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

var t0 = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

func testOptions(t testing.TB) Options {
	return Options{
		KeyFile:    filepath.Join(t.TempDir(), "pin.key"),
		Creator:    "admin",
		Now:        func() time.Time { return t0 },
		HashParams: pinhash.TestParams(),
	}
}

func openTest(t *testing.T, cli *clientv3.Client, name string, opts Options) *Store {
	t.Helper()
	s, err := Open(ctx, cli, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func allAudit(t *testing.T, s *Store, q store.AuditQuery, limit int) []store.AuditEntry {
	t.Helper()
	var all []store.AuditEntry
	var after uint64
	for {
		es, next, err := s.ScanAudit(ctx, q, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
		if next == 0 {
			return all
		}
		after = next
	}
}

// TestOpenCreates creates a directory from two hosts at once: one creates
// it, both open it, and it has one creation entry, the global policy and
// the standard roles with the creator as CsAdministrator.
func TestOpenCreates(t *testing.T) {
	name := etcdtest.Prefix(t)
	cli := etcdtest.Client(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, etcdtest.Client(t), name, testOptions(t)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	es := allAudit(t, stores[0], store.AuditQuery{}, 10)
	if len(es) != 1 || es[0].Action != "create_database" || es[0].Seq != 1 || es[0].Operator != "admin" || !es[0].Time.Equal(t0) {
		t.Fatalf("audit after creation: %+v, want one create_database entry", es)
	}
	r, err := cli.Get(ctx, name+"/role/csadministrator")
	if err != nil || len(r.Kvs) != 1 || !strings.Contains(string(r.Kvs[0].Value), `"members":["admin"]`) {
		t.Fatalf("CsAdministrator: %v %v", r.Kvs, err)
	}
	r, err = cli.Get(ctx, name+"/role/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != int64(len(store.StandardRoles())) {
		t.Fatalf("%d roles, want %d (%v)", r.Count, len(store.StandardRoles()), err)
	}
	r, err = cli.Get(ctx, name+"/pol/global")
	if err != nil || len(r.Kvs) != 1 {
		t.Fatalf("global policy: %v %v", r.Kvs, err)
	}
	// An existing directory opens without a creator.
	opts := testOptions(t)
	opts.Creator = ""
	openTest(t, cli, name, opts)
}

func TestOpenRefuses(t *testing.T) {
	cli := etcdtest.Client(t)
	for _, tc := range []struct {
		name    string
		keys    map[string]string
		creator string
		err     error
		msg     string
	}{
		{name: "no creator", msg: "no operator given to become its first CsAdministrator"},
		{name: "foreign keys", keys: map[string]string{"x": "1"}, creator: "admin", err: store.ErrNotPinsh, msg: "keys under"},
		{name: "foreign meta", keys: map[string]string{"meta": `{"magic":"other"}`}, err: store.ErrNotPinsh, msg: "holds something else"},
		{name: "newer", keys: map[string]string{"meta": `{"magic":"pinsh directory","schema":99}`}, err: store.ErrNewerSchema, msg: "schema 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := etcdtest.Prefix(t)
			for k, v := range tc.keys {
				if _, err := cli.Put(ctx, name+"/"+k, v); err != nil {
					t.Fatal(err)
				}
			}
			opts := testOptions(t)
			opts.Creator = tc.creator
			s, err := Open(ctx, cli, name, opts)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if tc.err != nil && !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), name) {
				t.Fatalf("error %v, want %v naming %s and saying %q", err, tc.err, name, tc.msg)
			}
		})
	}
}

// TestAudit appends entries from two hosts at once and pages through them
// with several limits: the sequence is dense, in order, and filters work.
func TestAudit(t *testing.T) {
	name := etcdtest.Prefix(t)
	a := openTest(t, etcdtest.Client(t), name, testOptions(t))
	b := openTest(t, etcdtest.Client(t), name, testOptions(t))
	const each = 60
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range each {
				op := store.Op{Operator: fmt.Sprintf("host%d", i), Now: t0.Add(time.Duration(j) * time.Minute)}
				if err := s.Audit(ctx, op, store.AuditEntry{Action: "denied", Target: fmt.Sprint(j), Outcome: "denied"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// A block of several entries (as a bulk change writes), so that pages
	// start inside a block.
	const block = 5
	seqKey := a.key(keyAuditSeq)
	if _, err := a.kv.update(ctx, []string{seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		es := make([]store.AuditEntry, block)
		for i := range es {
			es[i] = store.AuditEntry{Action: "lock_pin", Target: fmt.Sprint(i), Outcome: "ok"}
		}
		return a.addAudit(cur[seqKey], t, store.Op{Operator: "bulk", Now: t0}, es...)
	}); err != nil {
		t.Fatal(err)
	}
	total := 2*each + 1 + block
	for _, limit := range []int{1, 2, 7, 1000} {
		es := allAudit(t, b, store.AuditQuery{}, limit)
		if len(es) != total {
			t.Fatalf("limit %d: %d entries, want %d", limit, len(es), total)
		}
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Fatalf("limit %d: entry %d has seq %d", limit, i, e.Seq)
			}
		}
	}
	if es := allAudit(t, a, store.AuditQuery{Operator: "HOST1", Target: "7"}, 5); len(es) != 1 || es[0].Operator != "host1" {
		t.Fatalf("filtered: %+v", es)
	}
	// A compaction between pages does not break a scan.
	first, next, err := a.ScanAudit(ctx, store.AuditQuery{}, 0, 3)
	if err != nil || len(first) != 3 || next != 3 {
		t.Fatalf("first page: %d entries, next %d, %v", len(first), next, err)
	}
	latest, err := a.kv.cli.Get(ctx, seqKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.kv.cli.Compact(ctx, latest.Header.Revision); err != nil {
		t.Fatal(err)
	}
	rest, _, err := a.ScanAudit(ctx, store.AuditQuery{}, next, total)
	if err != nil || len(rest) != total-3 || rest[0].Seq != 4 {
		t.Fatalf("after a compaction: %d entries, %v", len(rest), err)
	}
	if es := allAudit(t, a, store.AuditQuery{Action: "lock_pin"}, 2); len(es) != block || es[0].Operator != "bulk" {
		t.Fatalf("the block's entries: %+v", es)
	}
	if es, next, err := a.ScanAudit(ctx, store.AuditQuery{}, uint64(total), 10); err != nil || len(es) != 0 || next != 0 {
		t.Fatalf("after the end: %v %d %v", es, next, err)
	}
	if err := a.Audit(ctx, store.Op{Operator: "x", Now: t0}, store.AuditEntry{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("entry without action: %v", err)
	}
	if err := a.Audit(ctx, store.Op{Now: t0}, store.AuditEntry{Action: "x"}); err == nil || !strings.Contains(err.Error(), "no operator") {
		t.Fatalf("op without operator: %v", err)
	}
	a.Close()
	if err := a.Audit(ctx, store.Op{Operator: "x", Now: t0}, store.AuditEntry{Action: "x"}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if _, _, err := a.ScanAudit(ctx, store.AuditQuery{}, 0, 1); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("scan after Close: %v", err)
	}
}

// commitHash commits a transaction that stands for writing a PIN hash made
// with s's key, guarded by the key id.
func commitHash(s *Store) error {
	kk := s.key(keyKeyID)
	_, err := s.kv.update(ctx, []string{kk}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		if _, err := s.keyGuard(cur[kk], t); err != nil {
			return err
		}
		return t.put(s.key("hash-"+s.kv.session), []byte("h"))
	})
	return err
}

// TestKeyID checks that the key id kept in the cluster refuses a host with
// another key file, also when two hosts with different keys write the
// first hash at once.
func TestKeyID(t *testing.T) {
	cli := etcdtest.Client(t)
	for range 3 {
		name := etcdtest.Prefix(t)
		a := openTest(t, cli, name, testOptions(t))
		b := openTest(t, cli, name, testOptions(t)) // its own key file: another key
		var wg sync.WaitGroup
		var errA, errB error
		wg.Go(func() { errA = commitHash(a) })
		wg.Go(func() { errB = commitHash(b) })
		wg.Wait()
		if (errA == nil) == (errB == nil) {
			t.Fatalf("two keys: errors %v and %v, want exactly one", errA, errB)
		}
		loser := b
		if errA != nil {
			loser = a
		}
		// The loser either loaded its own new key before the winner
		// recorded one, or found the id recorded and no key file.
		if err := commitHash(loser); !errors.Is(err, store.ErrKey) ||
			!strings.Contains(err.Error(), "every host of a directory needs the same key file") && !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("host with another key: %v", err)
		}
		same := testOptions(t)
		same.KeyFile = a.opts.KeyFile
		if loser == a {
			same.KeyFile = b.opts.KeyFile
		}
		if err := commitHash(openTest(t, cli, name, same)); err != nil {
			t.Fatalf("host with the same key: %v", err)
		}
		other := testOptions(t)
		if _, err := pinhash.LoadKey(other.KeyFile, true); err != nil {
			t.Fatal(err)
		}
		if err := commitHash(openTest(t, cli, name, other)); !errors.Is(err, store.ErrKey) || !strings.Contains(err.Error(), "every host of a directory needs the same key file") {
			t.Fatalf("host with another key file: %v", err)
		}
		missing := testOptions(t)
		if err := commitHash(openTest(t, cli, name, missing)); !errors.Is(err, store.ErrKey) || !strings.Contains(err.Error(), "is missing") {
			// a new key file is only created while the directory has no key id
			t.Fatalf("host without a key file: %v", err)
		}
	}
}
