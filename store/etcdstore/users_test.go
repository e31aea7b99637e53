package etcdstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/storetest"
)

// TestContract runs the contract suite against the cluster, each subtest
// in a directory of its own.
func TestContract(t *testing.T) {
	cli := etcdtest.Client(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		opts := testOptions(t)
		opts.Creator = storetest.Creator
		return openTest(t, cli, etcdtest.Prefix(t), opts)
	})
}

// TestPinQueryContract runs the contract of queries by PIN state against
// the cluster.
func TestPinQueryContract(t *testing.T) {
	storetest.RunPinQuery(t, func(t *testing.T) store.Store {
		opts := testOptions(t)
		opts.Creator = storetest.Creator
		return openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), opts)
	})
}

// TestHosts runs the contract tests of two instances on one directory:
// two Stores with a client each, as two admin hosts. A lost reply is
// injected in the transaction layer: the commit is sent (or not) and the
// store sees the error of a connection reset.
func TestHosts(t *testing.T) {
	storetest.RunHosts(t, storetest.Hosts{
		Open: func(t *testing.T) store.Store {
			opts := testOptions(t)
			opts.Creator = storetest.Creator
			return openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), opts)
		},
		Again: func(t *testing.T, s store.Store) store.Store {
			first := s.(*Store)
			opts := first.opts
			opts.Creator = ""
			return openTest(t, etcdtest.Client(t), first.name, opts)
		},
		LoseReply: func(t *testing.T, s store.Store, committed bool) bool {
			loseReply(s.(*Store).kv, committed)
			return true
		},
	})
}

// loseReply makes the next commit of k ambiguous: sent (committed) or
// not, and answered with the error of a connection reset.
func loseReply(k *kv, committed bool) {
	var once sync.Once
	k.send = func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		lost := false
		once.Do(func() { lost = true })
		if !lost {
			return commit()
		}
		if committed {
			if _, err := commit(); err != nil {
				return nil, err
			}
		}
		return nil, status.Error(codes.Unavailable, "connection reset (injected)")
	}
}

// TestCreateUserRace creates users with the same SIP address (and with the
// same logon) from two hosts at once, many times: exactly one of each pair
// wins, the other fails with ErrDuplicate naming the winner, and the
// directory holds one user per address with one audit entry.
func TestCreateUserRace(t *testing.T) {
	name := etcdtest.Prefix(t)
	a := openTest(t, etcdtest.Client(t), name, testOptions(t))
	b := openTest(t, etcdtest.Client(t), name, testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	const rounds = 10
	for i := range rounds {
		u := store.User{SipAddress: fmt.Sprintf("race%02d@litwareinc.com", i)}
		v := u
		if i%2 == 1 { // same logon, different addresses
			v.SipAddress = fmt.Sprintf("other%02d@litwareinc.com", i)
			u.SamAccountName, v.SamAccountName = "same"+fmt.Sprint(i), "same"+fmt.Sprint(i)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, s := range []*Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[j] = s.CreateUser(ctx, op, []store.User{u, v}[j])
			}()
		}
		wg.Wait()
		var dup *store.FieldError
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.As(err, &dup) || !errors.Is(err, store.ErrDuplicate):
				t.Fatalf("round %d: %v", i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d hosts created the user (errors %v); want 1", i, wins, errs)
		}
		if !strings.Contains(dup.Error(), "already used by sip:") {
			t.Errorf("round %d: error does not name the winner: %v", i, dup)
		}
	}
	us, next, err := a.ScanUsers(ctx, store.UserQuery{}, 0, 1000)
	if err != nil || next != 0 || len(us) != rounds {
		t.Fatalf("ScanUsers = %d users, next %d, %v; want %d", len(us), next, err, rounds)
	}
	if es := allAudit(t, a, store.AuditQuery{Action: "new_user"}, 100); len(es) != rounds {
		t.Errorf("%d new_user audit entries; want %d", len(es), rounds)
	}
}

// TestUserAudit checks each user change commits its audit entry, and that
// RemoveUsers spans several transactions of removeBatch users.
func TestUserAudit(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	const n = 2*removeBatch + 3
	var ids []store.UserID
	for i := range n {
		u, err := s.CreateUser(ctx, op, store.User{SipAddress: fmt.Sprintf("u%02d@litwareinc.com", i), DisplayName: fmt.Sprintf("U %02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	u, err := s.Users(ctx, ids[:1])
	if err != nil {
		t.Fatal(err)
	}
	u[0].DisplayName, u[0].Enabled = "Renamed", true
	if _, err := s.UpdateUser(ctx, op, u[0]); err != nil {
		t.Fatal(err)
	}
	es := allAudit(t, s, store.AuditQuery{Action: "update_user"}, 10)
	if len(es) != 1 || es[0].Detail != "display_name, enabled" || es[0].Target != "sip:u00@litwareinc.com" {
		t.Errorf("update_user audit = %+v", es)
	}
	res, err := s.RemoveUsers(ctx, op, append(ids, ids[0]))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:n] {
		if r.Outcome != store.Changed || r.Identity != fmt.Sprintf("sip:u%02d@litwareinc.com", i) {
			t.Errorf("RemoveUsers[%d] = %+v", i, r)
		}
	}
	if r := res[n]; r.Outcome != store.Failed || !errors.Is(r.Err, store.ErrNotFound) {
		t.Errorf("second removal of one user = %+v", r)
	}
	if es := allAudit(t, s, store.AuditQuery{Action: "remove_user"}, 100); len(es) != n {
		t.Errorf("%d remove_user entries; want %d", len(es), n)
	}
	if us := findAll(t, s, "*"); len(us) != 0 {
		t.Errorf("users left: %v", us)
	}
}

// TestRemoveUsersPartial refuses the second transaction of a removal: the
// error says the first batch was changed and audited (the refused commit's
// own "this transaction changed nothing" is not the whole truth), and the directory
// holds exactly what the error says.
func TestRemoveUsersPartial(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	const n = removeBatch + 1
	var ids []store.UserID
	for i := range n {
		u, err := s.CreateUser(ctx, op, store.User{SipAddress: fmt.Sprintf("p%02d@litwareinc.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	commits := 0
	s.kv.send = func(commit func() (*clientv3.TxnResponse, error)) (*clientv3.TxnResponse, error) {
		if commits++; commits == 2 {
			return nil, status.Error(codes.PermissionDenied, "permission denied (injected)")
		}
		return commit()
	}
	_, err := s.RemoveUsers(ctx, op, ids)
	s.kv.send = nil
	want := fmt.Sprintf("earlier transactions had changed and audited the first %d of the %d users", removeBatch, n)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("RemoveUsers with its second commit refused: %v; want an error saying %q", err, want)
	}
	if es := allAudit(t, s, store.AuditQuery{Action: "remove_user"}, 100); len(es) != removeBatch {
		t.Errorf("%d remove_user entries; want %d", len(es), removeBatch)
	}
	us, err := s.Users(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range us {
		if kept := u.ID != 0; kept != (i == n-1) {
			t.Errorf("user %d kept = %v; want only the last of the %d kept", ids[i], kept, n)
		}
	}
}

func findAll(t *testing.T, s *Store, identity string) []store.User {
	t.Helper()
	us, err := s.FindUsers(ctx, identity)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestScanSparseIDs scans a directory whose IDs jump by 200,000 (as after
// a mass removal): each call spans a bounded window of IDs, returning an
// empty chunk with a resume point, and the scan still ends with every
// user in ID order.
func TestScanSparseIDs(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	first, err := s.CreateUser(ctx, op, store.User{SipAddress: "first@litwareinc.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.kv.cli.Put(ctx, s.key(keyUserSeq), "200000"); err != nil {
		t.Fatal(err)
	}
	last, err := s.CreateUser(ctx, op, store.User{SipAddress: "last@litwareinc.com"})
	if err != nil || last.ID != 200001 {
		t.Fatalf("CreateUser = %+v, %v; want ID 200001", last, err)
	}
	var got []store.UserID
	var after store.UserID
	calls, empty := 0, 0
	for ; calls < 100; calls++ {
		us, next, err := s.ScanUsers(ctx, store.UserQuery{}, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(us) == 0 {
			empty++
		}
		for _, u := range us {
			got = append(got, u.ID)
		}
		if next == 0 {
			break
		}
		if next <= after {
			t.Fatalf("scan does not advance: after %d, next %d", after, next)
		}
		after = next
	}
	if !slices.Equal(got, []store.UserID{first.ID, last.ID}) || empty == 0 {
		t.Errorf("scanned %v in %d calls (%d empty); want [%d 200001] and bounded calls", got, calls+1, empty, first.ID)
	}
}

// TestImportRace imports the same rows from two hosts at once: every row
// is imported by exactly one of them and refused as a duplicate by the
// other, so the directory holds each user once.
func TestImportRace(t *testing.T) {
	name := etcdtest.Prefix(t)
	hosts := []*Store{openTest(t, etcdtest.Client(t), name, testOptions(t)), openTest(t, etcdtest.Client(t), name, testOptions(t))}
	op := store.Op{Operator: "admin", Now: t0}
	const n = 3*importBatch + 5
	rows := func(yield func(store.ImportRow) bool) {
		for i := range n {
			if !yield(store.ImportRow{Line: i + 2, User: store.User{SipAddress: fmt.Sprintf("imp%03d@litwareinc.com", i)}}) {
				return
			}
		}
	}
	reps := make([]store.ImportReport, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = s.ImportUsers(ctx, op, rows, nil)
		}()
	}
	wg.Wait()
	for i := range hosts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, b := range reps[i].Bad {
			if !errors.Is(b.Err, store.ErrDuplicate) || !strings.Contains(b.Err.Error(), "already used by sip:imp") {
				t.Errorf("host %d line %d: %v", i, b.Line, b.Err)
			}
		}
	}
	if got := reps[0].Imported + reps[1].Imported; got != n || reps[0].BadCount+reps[1].BadCount != n {
		t.Errorf("imported %d+%d, refused %d+%d; want %d of each in all", reps[0].Imported, reps[1].Imported, reps[0].BadCount, reps[1].BadCount, n)
	}
	us, next, err := hosts[0].ScanUsers(ctx, store.UserQuery{}, 0, 1000)
	if err != nil || next != 0 || len(us) != n {
		t.Errorf("ScanUsers = %d users, %v; want %d", len(us), err, n)
	}
	if es := allAudit(t, hosts[1], store.AuditQuery{Action: "import_users"}, 1000); len(es) != n {
		t.Errorf("%d import_users entries; want %d", len(es), n)
	}
}
