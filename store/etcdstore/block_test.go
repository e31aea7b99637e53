package etcdstore

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
)

// TestBlockRoundTrip encodes blocks in the binary layout and decodes them
// again: every field, every time, and users at both ends of a block.
func TestBlockRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 89, time.UTC)
	full := pinEntry{IsSet: true, LockedBy: store.LockedBySystem, LastChange: at, Expires: at.Add(time.Hour), Length: 6,
		LocalFailures: 3, GlobalFailures: 300, WindowStart: at.Add(-time.Minute), TempLockUntil: at.Add(time.Minute)}
	u := store.User{SipAddress: "sip:ken@litwareinc.com", DisplayName: "Ken Myer ✓", Enabled: true}
	for _, tc := range []struct {
		name string
		blk  pinBlock
	}{
		{"one user, no state", pinBlock{33: pinEntry{}.withUser(&u)}},
		{"every field", pinBlock{32: full.withUser(&u), 47: pinEntry{LockedBy: store.LockedByAdmin}.withUser(&store.User{SipAddress: "sip:x@y"})}},
		{"empty strings", pinBlock{0: pinEntry{summary: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := encodeBlock(tc.blk)
			if err != nil {
				t.Fatal(err)
			}
			var id store.UserID
			for id = range tc.blk {
			}
			kv := &mvccpb.KeyValue{Key: fmt.Appendf(nil, "d/p/%016x", blockOf(id)), Value: v}
			got, err := decodeBlock(kv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.blk) {
				t.Errorf("decoded %+v,\nwant %+v", got, tc.blk)
			}
		})
	}
}

// TestBlockDamaged reads blocks that are cut short or malformed, and
// encodes blocks no caller may write: each is an error naming the fault.
func TestBlockDamaged(t *testing.T) {
	good, err := encodeBlock(pinBlock{17: pinEntry{IsSet: true, LastChange: t0}.withUser(&store.User{SipAddress: "sip:a@b", DisplayName: "A"})})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		v    []byte
		want string
	}{
		{"cut in the header", good[:3], "ends inside an entry"},
		{"cut in the counts", good[:4], "ends inside an entry"},
		{"cut in a time", good[:8], "ends inside an entry"},
		{"cut in a string", good[:len(good)-1], "ends inside an entry"},
		{"offset beyond the block", []byte{blockFormat, 16, 0, 0, 0, 0, 0}, "beyond the block"},
		{"JSON that is not a block", []byte("{not json"), "PIN state block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeBlock(&mvccpb.KeyValue{Key: []byte("d/p/0000000000000001"), Value: tc.v})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), store.ErrDamaged.Error()) {
				t.Errorf("decode: %v, want ErrDamaged saying %q", err, tc.want)
			}
		})
	}
	if err := eachEntry([]byte("{}"), 0, func(store.UserID, *pinEntry) {}); err == nil {
		t.Error("eachEntry read a JSON block")
	}
	if _, err := encodeBlock(pinBlock{1: {}}); err == nil || !strings.Contains(err.Error(), "no summary") {
		t.Errorf("encode without a summary: %v", err)
	}
	two := pinBlock{1: pinEntry{summary: true}, 17: pinEntry{summary: true}}
	if _, err := encodeBlock(two); err == nil || !strings.Contains(err.Error(), "different blocks") {
		t.Errorf("encode across blocks: %v", err)
	}
	if id := firstUserOf([]byte("short")); id != 0 {
		t.Errorf("firstUserOf a short key: %d", id)
	}
	if id := firstUserOf([]byte("d/p/zzzzzzzzzzzzzzzz")); id != 0 {
		t.Errorf("firstUserOf a key without hex digits: %d", id)
	}
}

// TestUpgradeSchema1 turns a directory into what schema 1 wrote (meta
// schema 1, JSON blocks for the users with a PIN state only), opens it,
// and finds it upgraded: every user in a binary block with its summary,
// meta at schema 2, and the scans, locks and user changes as before.
func TestUpgradeSchema1(t *testing.T) {
	name := etcdtest.Prefix(t)
	cli := etcdtest.Client(t)
	s := openTest(t, cli, name, testOptions(t))
	ids := loadUsers(t, s, 40)
	if _, err := s.LockPins(ctx, store.Op{Operator: "admin", Now: t0}, ids[:3]); err != nil {
		t.Fatal(err)
	}
	want, _, err := s.ScanPinInfos(ctx, store.UserQuery{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	downgrade(t, cli, name)

	old := openTest(t, cli, name, testOptions(t))
	r, err := cli.Get(ctx, old.key(keyMeta))
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := json.Unmarshal(r.Kvs[0].Value, &m); err != nil || m.Schema != schema || m.Upgrading {
		t.Fatalf("meta after the upgrade: %s (%v)", r.Kvs[0].Value, err)
	}
	r, err = cli.Get(ctx, old.key(prefixPin), clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range r.Kvs {
		if !binaryBlock(kv) {
			t.Errorf("block %s still in JSON after the upgrade", kv.Key)
		}
	}
	got, _, err := old.ScanPinInfos(ctx, store.UserQuery{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PIN info after the upgrade:\n%+v\nwant\n%+v", got, want)
	}
}

// TestJSONBlockFallback writes a block in schema 1's JSON layout into an
// upgraded directory, as a pinsh of schema 1 still running during the
// upgrade would: the scan reads that window with its users, a lock of two
// of its PINs reads
// the span's users, and the lock writes the block back whole in the binary
// layout.
func TestJSONBlockFallback(t *testing.T) {
	name := etcdtest.Prefix(t)
	cli := etcdtest.Client(t)
	s := openTest(t, cli, name, testOptions(t))
	ids := loadUsers(t, s, 20)
	want, _, err := s.ScanPinInfos(ctx, store.UserQuery{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	bk := s.blockKey(blockOf(ids[0]))
	toJSON(t, cli, bk)
	got, _, err := s.ScanPinInfos(ctx, store.UserQuery{}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PIN info with a JSON block:\n%+v\nwant\n%+v", got, want)
	}
	res, err := s.LockPins(ctx, store.Op{Operator: "admin", Now: t0}, []store.UserID{ids[0], ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != store.Changed || r.Identity == "" {
			t.Errorf("lock with a JSON block: %+v", r)
		}
	}
	r, err := cli.Get(ctx, bk)
	if err != nil {
		t.Fatal(err)
	}
	if !binaryBlock(r.Kvs[0]) {
		t.Errorf("block %s still in JSON after a lock", bk)
	}
}

// loadUsers imports n users, every other one with a PIN set, and returns
// their IDs.
func loadUsers(t *testing.T, s *Store, n int) []store.UserID {
	t.Helper()
	rows := func(yield func(store.LoadRow) bool) {
		for i := range n {
			r := store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("sip:u%03d@litwareinc.com", i), DisplayName: fmt.Sprintf("User %03d", i), Enabled: i%3 != 0}}
			if i%2 == 0 {
				r.Pin = "583920"
			}
			if !yield(r) {
				return
			}
		}
	}
	if _, err := s.LoadUsers(ctx, store.Op{Operator: "admin", Now: t0}, rows, nil); err != nil {
		t.Fatal(err)
	}
	us, _, err := s.ScanUsers(ctx, store.UserQuery{}, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]store.UserID, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

// downgrade makes directory name what schema 1 wrote.
func downgrade(t *testing.T, cli *clientv3.Client, name string) {
	t.Helper()
	r, err := cli.Get(ctx, name+"/"+keyMeta)
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := json.Unmarshal(r.Kvs[0].Value, &m); err != nil {
		t.Fatal(err)
	}
	m.Schema = 1
	b, _ := json.Marshal(m)
	if _, err := cli.Put(ctx, name+"/"+keyMeta, string(b)); err != nil {
		t.Fatal(err)
	}
	r, err = cli.Get(ctx, name+"/"+prefixPin, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range r.Kvs {
		toJSON(t, cli, string(kv.Key))
	}
}

// toJSON rewrites the block under key in schema 1's JSON layout: the
// entries of users with a PIN state, without summaries.
func toJSON(t *testing.T, cli *clientv3.Client, key string) {
	t.Helper()
	r, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := decodeBlock(r.Kvs[0])
	if err != nil {
		t.Fatal(err)
	}
	old := pinBlock{}
	for id, e := range blk {
		if st := e.state(); !zeroState(&st) {
			old[id] = entryOf(&st)
		}
	}
	if len(old) == 0 {
		if _, err := cli.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, _ := json.Marshal(old)
	if _, err := cli.Put(ctx, key, string(b)); err != nil {
		t.Fatal(err)
	}
}

// TestAuditBlockForms encodes a change's entries as an auditBlock and
// decodes them, with actions and outcomes that change and repeat (an empty
// outcome after another included); reads schema 1's JSON array; and fails
// on damaged blocks of both forms.
func TestAuditBlockForms(t *testing.T) {
	entries := []store.AuditEntry{
		{Seq: 7, Time: t0, Operator: "admin", ActedBy: "bob", Action: "lock_pin", Target: "sip:a@b", Outcome: "ok"},
		{Seq: 8, Time: t0, Operator: "admin", ActedBy: "bob", Action: "lock_pin", Target: "sip:c@b", Outcome: "ok"},
		{Seq: 9, Time: t0, Operator: "admin", ActedBy: "bob", Action: "lock_pin", Target: "sip:d@b", Outcome: ""},
		{Seq: 10, Time: t0, Operator: "admin", ActedBy: "bob", Action: "set_pin", Target: "", Outcome: "failed", Detail: "why"},
	}
	v, err := encodeAudit(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeAudit(&mvccpb.KeyValue{Key: []byte("d/a/1"), Value: v})
	if err != nil || !reflect.DeepEqual(got, entries) {
		t.Errorf("decoded %+v (%v),\nwant %+v", got, err, entries)
	}
	old, _ := json.Marshal(entries)
	got, err = decodeAudit(&mvccpb.KeyValue{Key: []byte("d/a/1"), Value: old})
	if err != nil || len(got) != len(entries) || got[3].Detail != "why" {
		t.Errorf("decoded schema 1's array: %+v (%v)", got, err)
	}
	for _, bad := range []string{"[{", "{", ""} {
		if _, err := decodeAudit(&mvccpb.KeyValue{Key: []byte("d/a/1"), Value: []byte(bad)}); err == nil || !strings.Contains(err.Error(), store.ErrDamaged.Error()) {
			t.Errorf("decode %q: %v, want ErrDamaged", bad, err)
		}
	}
}

// TestScanReadAheadSeesOwnWrites scans in chunks with a lock between two
// chunks: the window read ahead of the second chunk predates the lock, and
// the second chunk shows the lock all the same.
func TestScanReadAheadSeesOwnWrites(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	ids := loadUsers(t, s, 300)
	first, next, err := s.ScanPinInfos(ctx, store.UserQuery{}, 0, 130)
	if err != nil || len(first) != 130 || next == 0 {
		t.Fatalf("first chunk: %d infos, next %d, %v", len(first), next, err)
	}
	target := ids[140] // even: it has a PIN
	if res, err := s.LockPins(ctx, store.Op{Operator: "admin", Now: t0}, []store.UserID{target}); err != nil || res[0].Outcome != store.Changed {
		t.Fatalf("lock: %+v, %v", res, err)
	}
	second, _, err := s.ScanPinInfos(ctx, store.UserQuery{}, next, 130)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range second {
		if p.ID == target {
			if p.LockedBy != store.LockedByAdmin {
				t.Errorf("user %d after its lock: %+v, want locked by an admin", target, p)
			}
			return
		}
	}
	t.Errorf("user %d not in the second chunk %+v", target, second)
}

// TestImportHalvesFullBatch imports a batch of rows with every index entry
// (UPN, logon, DN, display name, tag policy: 7 writes a row), more than one
// transaction holds: the batch is halved until it fits, and every row is
// imported once.
func TestImportHalvesFullBatch(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	if _, err := s.NewPolicy(ctx, op, "tag:vip", store.PolicyChanges{}); err != nil {
		t.Fatal(err)
	}
	rows := func(yield func(store.ImportRow) bool) {
		for i := range importBatch {
			u := store.User{SipAddress: fmt.Sprintf("sip:f%03d@litwareinc.com", i), UserPrincipalName: fmt.Sprintf("f%03d@corp.litwareinc.com", i),
				SamAccountName: fmt.Sprintf("f%03d", i), Domain: "LITWARE", DistinguishedName: fmt.Sprintf("CN=F %03d,OU=Sales,DC=litwareinc,DC=com", i),
				DisplayName: fmt.Sprintf("F %03d", i), PinPolicy: "vip", Enabled: true}
			if !yield(store.ImportRow{Line: i + 2, User: u}) {
				return
			}
		}
	}
	rep, err := s.ImportUsers(ctx, op, rows, nil)
	if err != nil || rep.Imported != importBatch {
		t.Fatalf("import: %+v, %v; want %d imported", rep, err, importBatch)
	}
	infos, _, err := s.ScanPinInfos(ctx, store.UserQuery{}, 0, 1000)
	if err != nil || len(infos) != importBatch {
		t.Fatalf("scan after the import: %d users, %v", len(infos), err)
	}
}
