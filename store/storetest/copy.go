package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinsh/pinsh/store"
)

// testCopy copies a directory from a to b as pinsh migrate does: the
// users with their whole PIN state read by ScanRecords in small chunks and
// loaded with LoadUsers, and the audit log with CopyAudit (more entries
// than one bulk transaction of any backend takes); the copy must read back
// equal.
func testCopy(t *testing.T, a, b store.Store) {
	history := 2
	if _, err := a.SetPolicy(ctx, op(T0()), store.GlobalPolicy, store.PolicyChanges{PinHistoryCount: &history}); err != nil {
		t.Fatal(err)
	}
	var ids []store.UserID
	for i := range 150 {
		u := create(t, a, litware(fmt.Sprintf("copy%03d", i), fmt.Sprintf("Copy %03d", i)))
		ids = append(ids, u.ID)
	}
	var reqs []store.SetPinRequest
	for _, id := range ids[:100] {
		reqs = append(reqs, store.SetPinRequest{ID: id, Pin: "48151"})
	}
	for _, pin := range []string{"27194", "39105"} { // PINs before: a history
		if _, err := a.SetPins(ctx, op(T0()), []store.SetPinRequest{{ID: ids[0], Pin: pin}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.SetPins(ctx, op(T0()), reqs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LockPins(ctx, op(T0()), ids[10:20]); err != nil {
		t.Fatal(err)
	}
	if v, err := a.VerifyPin(ctx, op(T0()), ids[30], "11111"); err != nil || v.Reason != "wrong_pin" {
		t.Fatalf("VerifyPin = %+v, %v", v, err)
	}

	var recs []store.UserRecord
	var after store.UserID
	for {
		chunk, next, err := a.ScanRecords(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, chunk...)
		if next == 0 {
			break
		}
		after = next
	}
	if len(recs) != len(ids) {
		t.Fatalf("ScanRecords returned %d users, want %d", len(recs), len(ids))
	}
	infos, err := a.PinInfos(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		p, st := infos[i], r.State
		if r.User.ID != ids[i] || p.IsSet != st.IsSet || p.LockedBy != st.LockedBy || p.GlobalFailures != st.GlobalFailures ||
			p.LocalFailures != st.LocalFailures || !p.LastChange.Equal(st.LastChange) || st.IsSet != (st.Hash != nil) {
			t.Errorf("record %d = %+v; its PinInfo is %+v", i, r, p)
		}
	}
	if len(recs[0].State.History) == 0 || len(recs[1].State.History) != 0 || recs[30].State.GlobalFailures != 1 || recs[15].State.LockedBy != store.LockedByAdmin {
		t.Errorf("records 0, 1, 15, 30: %+v", []store.PinState{recs[0].State, recs[1].State, recs[15].State, recs[30].State})
	}

	rep, err := b.LoadUsers(ctx, op(T0()), func(yield func(store.LoadRow) bool) {
		for i, r := range recs {
			if !yield(store.LoadRow{Line: i + 1, User: r.User, State: r.State}) {
				return
			}
		}
	}, nil)
	if err != nil || rep.Imported != len(recs) || rep.BadCount != 0 {
		t.Fatalf("LoadUsers of the records = %+v, %v", rep, err)
	}
	copied, _, err := b.ScanRecords(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) != len(recs) {
		t.Fatalf("the copy has %d users, want %d", len(copied), len(recs))
	}
	for i := range recs {
		w, g := recs[i], copied[i]
		w.User.ID, g.User.ID = 0, 0
		if !w.User.Equal(g.User) || !samePinState(w.State, g.State) {
			t.Errorf("copy of record %d:\n got %+v\nwant %+v", i, g, w)
		}
	}

	// The audit log: a's entries, then more than a thousand made up ones
	// with times of their own, going back.
	entries := scanAudit(t, a, store.AuditQuery{}, 100000)
	for i := range 1200 {
		entries = append(entries, store.AuditEntry{Time: T0().Add(-time.Duration(i) * time.Second), Operator: "op" + fmt.Sprint(i%3),
			ActedBy: []string{"", "root"}[i%2], Action: "verify_pin", Target: fmt.Sprintf("sip:u%d@litwareinc.com", i), Outcome: "wrong_pin", Detail: fmt.Sprint(i)})
	}
	base := scanAudit(t, b, store.AuditQuery{}, 100000)
	if err := b.CopyAudit(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got := scanAudit(t, b, store.AuditQuery{}, 100000)
	if len(got) != len(base)+len(entries) {
		t.Fatalf("after CopyAudit of %d entries the log has %d, want %d", len(entries), len(got), len(base)+len(entries))
	}
	for i, e := range got[len(base):] {
		w := entries[i]
		if e.Seq != got[len(base)-1].Seq+uint64(i)+1 || !e.Time.Equal(w.Time) || e.Operator != w.Operator || e.ActedBy != w.ActedBy ||
			e.Action != w.Action || e.Target != w.Target || e.Outcome != w.Outcome || e.Detail != w.Detail {
			t.Fatalf("copied entry %d = %+v, want %+v", i, e, w)
		}
	}
	if n := len(scanAudit(t, b, store.AuditQuery{Operator: "op1", Action: "verify_pin"}, 100000)); n != 400 {
		t.Errorf("copied entries by op1: %d, want 400", n)
	}
	if err := b.CopyAudit(ctx, []store.AuditEntry{{Time: T0()}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CopyAudit of an entry without an action: %v, want ErrInvalid", err)
	}
}

// samePinState compares two PIN states, times by Equal.
func samePinState(a, b store.PinState) bool {
	return a.IsSet == b.IsSet && a.LockedBy == b.LockedBy && a.LastChange.Equal(b.LastChange) && a.Expires.Equal(b.Expires) &&
		a.Length == b.Length && slices.Equal(a.Hash, b.Hash) && slices.EqualFunc(a.History, b.History, slices.Equal) &&
		a.LocalFailures == b.LocalFailures && a.GlobalFailures == b.GlobalFailures && a.WindowStart.Equal(b.WindowStart) &&
		a.TempLockUntil.Equal(b.TempLockUntil)
}
