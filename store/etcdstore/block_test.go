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
