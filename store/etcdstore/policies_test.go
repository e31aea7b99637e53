package etcdstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store"
)

// TestPolicies creates and changes policies once each. (storetest's
// Policies covers them in full once the Store is complete.)
func TestPolicies(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	one, five, ten := 1, 5, 10
	if _, err := s.NewPolicy(ctx, op, "tag:Zeta", store.PolicyChanges{PinLifetime: &ten, PinHistoryCount: &one}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewPolicy(ctx, op, "site:Alpha", store.PolicyChanges{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"new global", store.ErrDuplicate, func() error { _, err := s.NewPolicy(ctx, op, "global", store.PolicyChanges{}); return err }},
		{"new twice", store.ErrDuplicate, func() error { _, err := s.NewPolicy(ctx, op, "zeta", store.PolicyChanges{}); return err }},
		{"set missing", store.ErrNotFound, func() error { _, err := s.SetPolicy(ctx, op, "tag:nope", store.PolicyChanges{}); return err }},
		{"get missing", store.ErrNotFound, func() error { _, err := s.Policy(ctx, "site:nope"); return err }},
		{"out of range", store.ErrPolicyRange, func() error {
			bad := 99
			_, err := s.SetPolicy(ctx, op, "global", store.PolicyChanges{MinPasswordLength: &bad})
			return err
		}},
	} {
		if err := tc.call(); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	ps, err := s.Policies(ctx)
	if err != nil || len(ps) != 3 || ps[0].Identity != "global" || ps[1].Identity != "site:Alpha" || ps[2].Identity != "tag:Zeta" || ps[2].PinLifetime != 10 {
		t.Fatalf("Policies = %+v, %v", ps, err)
	}
	p, err := s.SetPolicy(ctx, op, "Zeta", store.PolicyChanges{MinPasswordLength: &five})
	if err != nil || p.PinLifetime != 10 || p.MinPasswordLength != 5 {
		t.Fatalf("SetPolicy = %+v, %v", p, err)
	}
	es := allAudit(t, s, store.AuditQuery{Target: "tag:zeta"}, 10)
	if len(es) != 2 || es[0].Action != "new_pin_policy" || es[1].Action != "set_pin_policy" || es[1].Detail != store.DescribePolicy(p) {
		t.Fatalf("audit of tag:Zeta: %+v", es)
	}
}

// TestPolicyNoLostUpdate changes two fields of the global policy from two
// hosts at once, many times: each change keeps the other's.
func TestPolicyNoLostUpdate(t *testing.T) {
	name := etcdtest.Prefix(t)
	a := openTest(t, etcdtest.Client(t), name, testOptions(t))
	b := openTest(t, etcdtest.Client(t), name, testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	for i := range 10 {
		minLen, attempts := 4+i, 10+i
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := a.SetPolicy(ctx, op, "global", store.PolicyChanges{MinPasswordLength: &minLen}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := b.SetPolicy(ctx, op, "global", store.PolicyChanges{MaximumLogonAttempts: &attempts}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		p, err := a.Policy(ctx, "global")
		if err != nil || p.MinPasswordLength != minLen || p.MaximumLogonAttempts != attempts {
			t.Fatalf("round %d: global %+v (%v), want min length %d and attempts %d", i, p, err, minLen, attempts)
		}
	}
}

// TestGrantAndEffectivePolicy grants, regrants and unassigns a tag policy
// across batches, and reads the effective policy: tag, else site, else
// global.
func TestGrantAndEffectivePolicy(t *testing.T) {
	s := openTest(t, etcdtest.Client(t), etcdtest.Prefix(t), testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	four := 4
	if _, err := s.NewPolicy(ctx, op, "tag:Short", store.PolicyChanges{MinPasswordLength: &four}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewPolicy(ctx, op, "site:Redmond", store.PolicyChanges{}); err != nil {
		t.Fatal(err)
	}
	var ids []store.UserID
	for i := range grantBatch + 3 {
		u, err := s.CreateUser(ctx, op, store.User{SipAddress: fmt.Sprintf("g%03d@litwareinc.com", i), Site: "Redmond"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	eff := func(id store.UserID) string {
		if p, err := s.EffectivePolicy(ctx, id); err == nil {
			return p.Identity
		} else {
			return err.Error()
		}
	}
	if got := eff(ids[0]); got != "site:Redmond" {
		t.Errorf("effective before grant = %s", got)
	}
	res, err := s.GrantPolicy(ctx, op, append(ids, 99999, ids[0]), "short")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:len(ids)] {
		if r.Outcome != store.Changed {
			t.Errorf("grant %d: %+v", i, r)
		}
	}
	for _, r := range res[len(ids):] {
		if r.Outcome != store.Failed || !errors.Is(r.Err, store.ErrNotFound) {
			t.Errorf("grant to a missing or repeated user: %+v", r)
		}
	}
	if got := eff(ids[len(ids)-1]); got != "tag:Short" {
		t.Errorf("effective after grant = %s", got)
	}
	res, err = s.GrantPolicy(ctx, op, ids[:1], "tag:SHORT")
	if err != nil || res[0].Outcome != store.Skipped || !errors.Is(res[0].Err, store.ErrDuplicate) {
		t.Errorf("regrant = %+v, %v", res, err)
	}
	if _, err := s.GrantPolicy(ctx, op, ids[:1], "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("grant of a missing policy: %v", err)
	}
	if res, err := s.GrantPolicy(ctx, op, ids[:1], ""); err != nil || res[0].Outcome != store.Changed || eff(ids[0]) != "site:Redmond" {
		t.Errorf("unassign = %+v, %v", res, err)
	}
	u, err := s.CreateUser(ctx, op, store.User{SipAddress: "nosite@litwareinc.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := eff(u.ID); got != "global" {
		t.Errorf("effective without site = %s", got)
	}
	if _, err := s.EffectivePolicy(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("effective policy of a missing user: %v", err)
	}
	es := allAudit(t, s, store.AuditQuery{Action: "grant_pin_policy"}, 1000)
	if len(es) != len(ids)+1 || es[0].Detail != "tag:Short" || es[len(es)-1].Detail != "unassigned" {
		t.Errorf("%d grant_pin_policy entries (want %d): first %+v", len(es), len(ids)+1, es[0])
	}
}

// TestRemovePolicyRace removes a tag policy held by more users than one
// transaction ungrants, while another host keeps granting it: at the end
// the policy is gone and no user holds it (nor its tag index entry), and
// every ungrant has its audit entry.
func TestRemovePolicyRace(t *testing.T) {
	name := etcdtest.Prefix(t)
	a := openTest(t, etcdtest.Client(t), name, testOptions(t))
	b := openTest(t, etcdtest.Client(t), name, testOptions(t))
	op := store.Op{Operator: "admin", Now: t0}
	if _, err := a.NewPolicy(ctx, op, "tag:T", store.PolicyChanges{}); err != nil {
		t.Fatal(err)
	}
	var ids []store.UserID
	for i := range 3*sweepBatch + 10 {
		u := store.User{SipAddress: fmt.Sprintf("r%03d@litwareinc.com", i)}
		if i < 2*sweepBatch+5 {
			u.PinPolicy = "T"
		}
		got, err := a.CreateUser(ctx, op, u)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	rest := ids[2*sweepBatch+5:]
	done := make(chan error, 1)
	go func() {
		// Grant the rest one by one until the policy is gone.
		for i := 0; ; i++ {
			_, err := b.GrantPolicy(ctx, op, rest[i%len(rest):i%len(rest)+1], "t")
			if errors.Is(err, store.ErrNotFound) {
				done <- nil
				return
			}
			if err != nil {
				done <- err
				return
			}
		}
	}()
	// Also grant it once exactly between the last sweep and the removal:
	// the removal must see it and sweep again.
	late := 0
	a.beforeRemovePolicy = func() {
		if late++; late == 1 {
			if res, err := b.GrantPolicy(ctx, op, rest[:1], "t"); err != nil || res[0].Err != nil && !errors.Is(res[0].Err, store.ErrDuplicate) {
				t.Errorf("late grant: %+v, %v", res, err)
			}
		}
	}
	if err := a.RemovePolicy(ctx, op, "tag:t"); err != nil {
		t.Fatal(err)
	}
	if late < 2 {
		t.Errorf("removal committed at its first attempt after a late grant (%d attempts)", late)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	us, err := a.Users(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.PinPolicy != "" {
			t.Errorf("%s still holds %q", u.SipAddress, u.PinPolicy)
		}
	}
	r, err := a.kv.cli.Get(ctx, a.key(prefixTag), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || r.Count != 0 {
		t.Errorf("tag index entries left: %d, %v", r.Count, err)
	}
	if _, err := a.Policy(ctx, "tag:t"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("policy after removal: %v", err)
	}
	es := allAudit(t, a, store.AuditQuery{Action: "remove_pin_policy"}, 1000)
	last := es[len(es)-1]
	if want := fmt.Sprintf("ungranted from %d users", len(es)-1); last.Target != "tag:T" || last.Detail != want || len(es)-1 < 2*sweepBatch+5 {
		t.Errorf("last entry %+v; want %q after %d ungrants", last, want, len(es)-1)
	}
}
