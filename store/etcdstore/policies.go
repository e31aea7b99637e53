package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/pinsh/pinsh/store"
)

func (s *Store) policyKey(key string) string { return s.key(prefixPol + key) }

func policyFrom(kv *mvccpb.KeyValue) (store.Policy, error) {
	var p store.Policy
	if err := json.Unmarshal(kv.Value, &p); err != nil || p.Identity == "" {
		return store.Policy{}, fmt.Errorf("%w: policy %s: %q", store.ErrDamaged, kv.Key, kv.Value)
	}
	return p, nil
}

// Policies returns every policy: global first, then by identity.
func (s *Store) Policies(ctx context.Context) ([]store.Policy, error) {
	kvs, err := s.readSmall(ctx, prefixPol, "policies")
	if err != nil {
		return nil, err
	}
	var global *store.Policy
	var out []store.Policy
	for _, kv := range kvs {
		p, err := policyFrom(kv)
		if err != nil {
			return nil, err
		}
		if string(kv.Key) == s.policyKey(store.GlobalPolicy) {
			global = &p
			continue
		}
		out = append(out, p)
	}
	if global == nil {
		return nil, fmt.Errorf("%w: the global policy is missing", store.ErrDamaged)
	}
	slices.SortFunc(out, func(a, b store.Policy) int {
		return strings.Compare(strings.ToLower(a.Identity), strings.ToLower(b.Identity))
	})
	return slices.Insert(out, 0, *global), nil
}

func noPolicy(identity string) error {
	return fmt.Errorf("policy %s: %w; list policies with get_pin_policy()", identity, store.ErrNotFound)
}

// Policy returns one policy.
func (s *Store) Policy(ctx context.Context, identity string) (store.Policy, error) {
	if s.kv.closed.Load() {
		return store.Policy{}, s.closedErr()
	}
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return store.Policy{}, err
	}
	r, err := s.kv.cli.Get(ctx, s.policyKey(key))
	if err != nil {
		return store.Policy{}, fmt.Errorf("etcd directory %s: read policy %s: %w", s.name, canon, err)
	}
	if len(r.Kvs) == 0 {
		return store.Policy{}, noPolicy(canon)
	}
	return policyFrom(r.Kvs[0])
}

// changePolicy is a read-modify-write of one policy with its audit entry:
// fn gets the stored policy (ok false when there is none) and returns the
// policy to store and the audit entry.
func (s *Store) changePolicy(ctx context.Context, op store.Op, key string, fn func(old store.Policy, ok bool) (store.Policy, store.AuditEntry, error)) (store.Policy, error) {
	pk, seqKey := s.policyKey(key), s.key(keyAuditSeq)
	var p store.Policy
	_, err := s.kv.update(ctx, []string{pk, seqKey}, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		var old store.Policy
		if kv := cur[pk]; kv != nil {
			var err error
			if old, err = policyFrom(kv); err != nil {
				return err
			}
		}
		var e store.AuditEntry
		var err error
		if p, e, err = fn(old, cur[pk] != nil); err != nil {
			return err
		}
		if err := s.putJSON(t, prefixPol+key, p); err != nil {
			return err
		}
		return s.addAudit(cur[seqKey], t, op, e)
	})
	if err != nil {
		return store.Policy{}, err
	}
	return p, nil
}

// NewPolicy creates a site or tag policy.
func (s *Store) NewPolicy(ctx context.Context, op store.Op, identity string, c store.PolicyChanges) (store.Policy, error) {
	if err := s.check(op); err != nil {
		return store.Policy{}, err
	}
	p, key, err := store.NewPolicyFrom(identity, c)
	if err != nil {
		return store.Policy{}, err
	}
	return s.changePolicy(ctx, op, key, func(old store.Policy, ok bool) (store.Policy, store.AuditEntry, error) {
		if ok {
			return p, store.AuditEntry{}, fmt.Errorf("policy %s: %w; change it with set_pin_policy", old.Identity, store.ErrDuplicate)
		}
		return p, store.AuditEntry{Action: "new_pin_policy", Target: p.Identity, Outcome: "ok", Detail: store.DescribePolicy(p)}, nil
	})
}

// SetPolicy changes a policy.
func (s *Store) SetPolicy(ctx context.Context, op store.Op, identity string, c store.PolicyChanges) (store.Policy, error) {
	if err := s.check(op); err != nil {
		return store.Policy{}, err
	}
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return store.Policy{}, err
	}
	return s.changePolicy(ctx, op, key, func(old store.Policy, ok bool) (store.Policy, store.AuditEntry, error) {
		if !ok {
			return old, store.AuditEntry{}, noPolicy(canon)
		}
		p, err := c.Apply(old)
		if err != nil {
			return p, store.AuditEntry{}, err
		}
		return p, store.AuditEntry{Action: "set_pin_policy", Target: p.Identity, Outcome: "ok", Detail: store.DescribePolicy(p)}, nil
	})
}

// grantBatch is how many users one GrantPolicy transaction changes: one
// compare and up to three writes each (record, old and new tag index
// entries), besides the policy and the audit block.
const grantBatch = 40

// GrantPolicy grants the tag policy name to users ("" unassigns), in
// transactions of grantBatch users. Every transaction reads and compares
// the policy with the users, so a policy removed meanwhile (by another
// host) is never left granted: the next transaction fails with
// store.ErrNotFound, and the users of the transactions before it keep the
// grant they committed.
func (s *Store) GrantPolicy(ctx context.Context, op store.Op, ids []store.UserID, name string) ([]store.ItemResult, error) {
	var pk, want string
	if strings.TrimSpace(name) != "" {
		pk, want = s.policyKey(store.TagPolicyKey(name)), "tag:"+strings.TrimPrefix(strings.TrimSpace(name), "tag:")
	}
	var extra func([]store.UserID) []string
	if pk != "" {
		extra = func([]store.UserID) []string { return []string{pk} }
	}
	return s.changeUsers(ctx, op, "grant policy", ids, grantBatch, extra, func(cur map[string]*mvccpb.KeyValue) (userChange, func(*txn) error, error) {
		tag, detail := "", "unassigned"
		if pk != "" {
			if cur[pk] == nil {
				return nil, nil, noPolicy(want)
			}
			p, err := policyFrom(cur[pk])
			if err != nil {
				return nil, nil, err
			}
			tag, detail = strings.TrimPrefix(p.Identity, "tag:"), p.Identity
		}
		return func(u store.User, kv *mvccpb.KeyValue, t *txn, r *store.ItemResult) (*store.AuditEntry, error) {
			if strings.EqualFold(u.PinPolicy, tag) {
				r.Outcome, r.Err = store.Skipped, fmt.Errorf("%s already has policy %q: %w", u.SipAddress, detail, store.ErrDuplicate)
				return nil, nil
			}
			return &store.AuditEntry{Action: "grant_pin_policy", Target: u.SipAddress, Outcome: "ok", Detail: detail}, s.retag(t, u, tag)
		}, nil, nil
	})
}

// retag writes user u with the tag policy tag ("" none) in t, moving its
// tag index entry.
func (s *Store) retag(t *txn, u store.User, tag string) error {
	w := writes{}
	if u.PinPolicy != "" {
		w[s.tagKey(store.TagPolicyKey(u.PinPolicy), u.ID)] = nil
	}
	u.PinPolicy = tag
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	w[s.userKey(u.ID)] = b
	if tag != "" {
		w[s.tagKey(store.TagPolicyKey(tag), u.ID)] = []byte{}
	}
	return w.apply(t)
}

// sweepBatch is how many holders of a tag policy one RemovePolicy
// transaction ungrants.
const sweepBatch = 50

// RemovePolicy resets the global policy to its defaults, or removes a
// site or tag policy. A tag policy is first ungranted from its holders
// (found by the tag index x/t/), sweepBatch users per transaction, each
// user with a remove_pin_policy audit entry; then one transaction removes
// the policy only if no user holds it (a compare over the tag index's
// whole range), so a grant by another host meanwhile sends it back to
// sweeping, and no user is left with a removed policy.
func (s *Store) RemovePolicy(ctx context.Context, op store.Op, identity string) error {
	if err := s.check(op); err != nil {
		return err
	}
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return err
	}
	if canon == store.GlobalPolicy {
		_, err := s.changePolicy(ctx, op, key, func(store.Policy, bool) (store.Policy, store.AuditEntry, error) {
			return store.DefaultPolicy(store.GlobalPolicy), store.AuditEntry{Action: "remove_pin_policy", Target: canon, Outcome: "ok", Detail: "reset to defaults"}, nil
		})
		return err
	}
	pk, seqKey := s.policyKey(key), s.key(keyAuditSeq)
	holders := s.key(prefixTag + key + "\x00")
	ungranted := 0
	for range maxRetries {
		n, err := s.ungrantSome(ctx, op, canon, pk, holders)
		if err != nil {
			return err
		}
		ungranted += n
		if n > 0 {
			continue
		}
		r, err := s.kv.read(ctx, []clientv3.Op{clientv3.OpGet(pk), clientv3.OpGet(seqKey)})
		if err != nil {
			return fmt.Errorf("etcd directory %s: remove policy %s: %w", s.name, canon, err)
		}
		pkv, skv := r.Responses[0].GetResponseRange().Kvs, r.Responses[1].GetResponseRange().Kvs
		if len(pkv) == 0 {
			return noPolicy(canon)
		}
		old, err := policyFrom(pkv[0])
		if err != nil {
			return err
		}
		t := &txn{}
		if err := t.unchanged(pk, modRev(pkv)); err != nil {
			return err
		}
		if err := t.unchanged(seqKey, modRev(skv)); err != nil {
			return err
		}
		// No key under holders: etcd compares an empty range as one absent
		// key. Today the audit counter's compare already fails when anyone
		// granted meanwhile (every change advances it); this compare keeps
		// the removal right should the audit counter go (see the package
		// doc), and TestRemovePolicyRace cannot tell the two apart.
		t.cmps = append(t.cmps, clientv3.Compare(clientv3.CreateRevision(holders), "=", 0).WithPrefix())
		if err := t.del(pk); err != nil {
			return err
		}
		detail := ""
		if strings.HasPrefix(key, "tag:") {
			detail = fmt.Sprintf("ungranted from %d users", ungranted)
		}
		var cur *mvccpb.KeyValue
		if len(skv) > 0 {
			cur = skv[0]
		}
		if err := s.addAudit(cur, t, op, store.AuditEntry{Action: "remove_pin_policy", Target: old.Identity, Outcome: "ok", Detail: detail}); err != nil {
			return err
		}
		if s.beforeRemovePolicy != nil {
			s.beforeRemovePolicy()
		}
		_, ok, err := s.kv.commit(ctx, t)
		if errors.Is(err, errNotCommitted) {
			continue
		}
		if err != nil {
			return fmt.Errorf("etcd directory %s: remove policy %s: %w", s.name, canon, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("etcd directory %s: remove policy %s: granted or changed by others more than %d times while it ran; try again", s.name, canon, maxRetries)
}

// ungrantSome ungrants the tag policy (key pk) from up to sweepBatch of
// its holders (tag index entries under holders) and returns how many.
func (s *Store) ungrantSome(ctx context.Context, op store.Op, canon, pk, holders string) (int, error) {
	r, err := s.kv.cli.Get(ctx, holders, clientv3.WithPrefix(), clientv3.WithLimit(sweepBatch), clientv3.WithKeysOnly())
	if err != nil {
		return 0, fmt.Errorf("etcd directory %s: remove policy %s: read its holders: %w", s.name, canon, err)
	}
	var ids []store.UserID
	for _, kv := range r.Kvs {
		n, err := strconv.ParseUint(string(kv.Key[len(holders):]), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: bad tag index key %q", store.ErrDamaged, kv.Key)
		}
		ids = append(ids, store.UserID(n))
	}
	n := 0
	_, err = s.changeUsers(ctx, op, "remove policy "+canon, ids, sweepBatch, func([]store.UserID) []string { return []string{pk} }, func(map[string]*mvccpb.KeyValue) (userChange, func(*txn) error, error) {
		n = 0
		return func(u store.User, _ *mvccpb.KeyValue, t *txn, r *store.ItemResult) (*store.AuditEntry, error) {
			if u.PinPolicy == "" || s.policyKey(store.TagPolicyKey(u.PinPolicy)) != pk {
				// The index entry outlived the grant (damage): drop it, or
				// the final compare would never pass.
				r.Outcome = store.Skipped
				return nil, t.del(holders + idHex(u.ID))
			}
			n++
			return &store.AuditEntry{Action: "remove_pin_policy", Target: u.SipAddress, Outcome: "ok", Detail: "ungranted " + canon}, s.retag(t, u, "")
		}, nil, nil
	})
	return n, err
}

// EffectivePolicy returns the policy that applies to a user, reading the
// user and the policies at one revision.
func (s *Store) EffectivePolicy(ctx context.Context, id store.UserID) (store.Policy, error) {
	if s.kv.closed.Load() {
		return store.Policy{}, s.closedErr()
	}
	r, err := s.kv.read(ctx, []clientv3.Op{clientv3.OpGet(s.userKey(id)), clientv3.OpGet(s.key(prefixPol), clientv3.WithPrefix())})
	if err != nil {
		return store.Policy{}, fmt.Errorf("etcd directory %s: read the policy of user %d: %w", s.name, id, err)
	}
	kvs := r.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return store.Policy{}, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
	}
	u, err := decodeUser(kvs[0])
	if err != nil {
		return store.Policy{}, err
	}
	pols, err := policiesFrom(s, r.Responses[1].GetResponseRange().Kvs)
	if err != nil {
		return store.Policy{}, err
	}
	return effective(pols, &u), nil
}
