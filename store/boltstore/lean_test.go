package boltstore

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/storetest"
)

// TestLeanChanges: the lean bulk changes make the same changes, with the
// same audit entries (encoded into their blocks as they are made, across
// many blocks and transactions), as the full methods, and report the
// changed items as a count and every other item as the full method does,
// in the order of the ids.
func TestLeanChanges(t *testing.T) {
	ctx := context.Background()
	op := store.Op{Operator: storetest.Creator, Now: storetest.T0()}
	const n = 3000
	load := func() (*Store, []store.UserID) {
		s := openTest(t)
		t.Cleanup(func() { s.Close() })
		rows := func(yield func(store.LoadRow) bool) {
			for i := range n {
				r := store.LoadRow{Line: i + 1, User: store.User{SipAddress: fmt.Sprintf("lean%04d@litwareinc.com", i), Enabled: true}}
				if i%3 != 0 {
					r.Pin = "48151"
					if i%7 == 0 {
						r.State.LockedBy = store.LockedBySystem
					}
				}
				if !yield(r) {
					return
				}
			}
		}
		if rep, err := s.LoadUsers(ctx, op, rows, nil); err != nil || rep.Imported != n {
			t.Fatalf("LoadUsers = %+v, %v", rep, err)
		}
		if _, err := s.NewPolicy(ctx, op, "tag:Lean", store.PolicyChanges{}); err != nil {
			t.Fatal(err)
		}
		us, _, err := s.ScanUsers(ctx, store.UserQuery{}, 0, n)
		if err != nil || len(us) != n {
			t.Fatalf("ScanUsers: %d, %v", len(us), err)
		}
		ids := make([]store.UserID, 0, n+3)
		for i := len(us) - 1; i >= 0; i-- { // not in ID order: results come back in this order
			ids = append(ids, us[i].ID)
		}
		return s, append(ids, 999999, us[5].ID, us[1].ID) // a missing user, and two named twice
	}
	full, ids := load()
	lean, _ := load()
	steps := []struct {
		name string
		full func(ids []store.UserID) ([]store.ItemResult, error)
		lean func(ids []store.UserID) (store.Changes, error)
	}{
		{"lock", func(ids []store.UserID) ([]store.ItemResult, error) { return full.LockPins(ctx, op, ids) },
			func(ids []store.UserID) (store.Changes, error) { return lean.LockPinsLean(ctx, op, ids) }},
		{"lock again", func(ids []store.UserID) ([]store.ItemResult, error) { return full.LockPins(ctx, op, ids[:100]) },
			func(ids []store.UserID) (store.Changes, error) { return lean.LockPinsLean(ctx, op, ids[:100]) }},
		{"unlock", func(ids []store.UserID) ([]store.ItemResult, error) { return full.UnlockPins(ctx, op, ids) },
			func(ids []store.UserID) (store.Changes, error) { return lean.UnlockPinsLean(ctx, op, ids) }},
		{"grant", func(ids []store.UserID) ([]store.ItemResult, error) { return full.GrantPolicy(ctx, op, ids, "Lean") },
			func(ids []store.UserID) (store.Changes, error) { return lean.GrantPolicyLean(ctx, op, ids, "Lean") }},
		{"grant again", func(ids []store.UserID) ([]store.ItemResult, error) {
			return full.GrantPolicy(ctx, op, ids[:50], "Lean")
		},
			func(ids []store.UserID) (store.Changes, error) {
				return lean.GrantPolicyLean(ctx, op, ids[:50], "Lean")
			}},
	}
	for _, step := range steps {
		res, err := step.full(ids)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := store.Lean(res, nil)
		got, err := step.lean(ids)
		if err != nil {
			t.Fatal(err)
		}
		if got.Changed != want.Changed || len(got.Others) != len(want.Others) {
			t.Fatalf("%s: lean changed %d, others %d; full %d, %d", step.name, got.Changed, len(got.Others), want.Changed, len(want.Others))
		}
		for i := range got.Others {
			g, w := got.Others[i], want.Others[i]
			if g.ID != w.ID || g.Identity != w.Identity || g.Outcome != w.Outcome || fmt.Sprint(g.Err) != fmt.Sprint(w.Err) {
				t.Errorf("%s: other %d = %+v, want %+v", step.name, i, g, w)
			}
		}
		if want.Changed == 0 && step.name != "lock again" && step.name != "grant again" {
			t.Errorf("%s changed nothing: the step proves little", step.name)
		}
	}
	audit := func(s *Store) []store.AuditEntry {
		var all []store.AuditEntry
		for after := uint64(0); ; {
			es, next, err := s.ScanAudit(ctx, store.AuditQuery{}, after, 1000)
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
	fa, la := audit(full), audit(lean)
	same := func(a, b store.AuditEntry) bool {
		a.Target, b.Target = "", "" // the databases' paths in create_database
		return a == b
	}
	if len(fa) < 2*n || !slices.EqualFunc(fa[1:], la[1:], same) || !same(fa[0], la[0]) {
		for i := range min(len(fa), len(la)) {
			if !same(fa[i], la[i]) || fa[i].Seq != la[i].Seq {
				t.Errorf("audit entry %d: %+v, want %+v", i, la[i], fa[i])
				break
			}
		}
		t.Errorf("audit logs differ: %d entries, %d", len(fa), len(la))
	}
	fp, _ := full.PinInfos(ctx, ids[:n])
	lp, _ := lean.PinInfos(ctx, ids[:n])
	fu, _ := full.Users(ctx, ids[:n])
	lu, _ := lean.Users(ctx, ids[:n])
	if !slices.Equal(fp, lp) || !slices.EqualFunc(fu, lu, store.User.Equal) {
		t.Errorf("the directories differ")
	}
}
