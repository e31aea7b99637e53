package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// Policies returns every policy: global first, then by identity.
func (s *Store) Policies(ctx context.Context) ([]store.Policy, error) {
	var out []store.Policy
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for k, p := range loadPolicies(tx) {
			if k != store.GlobalPolicy {
				out = append(out, p)
			}
		}
		slices.SortFunc(out, func(a, b store.Policy) int {
			return strings.Compare(strings.ToLower(a.Identity), strings.ToLower(b.Identity))
		})
		out = slices.Insert(out, 0, getPolicy(tx, store.GlobalPolicy))
		return nil
	})
	return out, err
}

func getPolicy(tx *bolt.Tx, key string) store.Policy {
	if v := bucket(tx, bucketPolicies).Get([]byte(key)); v != nil {
		return decodePolicy(v)
	}
	if key == store.GlobalPolicy {
		corrupt("the global policy is missing")
	}
	return store.Policy{}
}

func noPolicy(identity string) error {
	return fmt.Errorf("policy %s: %w; list policies with get_pin_policy()", identity, store.ErrNotFound)
}

// Policy returns one policy.
func (s *Store) Policy(ctx context.Context, identity string) (store.Policy, error) {
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return store.Policy{}, err
	}
	var p store.Policy
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if p = getPolicy(tx, key); p.Identity == "" {
			return noPolicy(canon)
		}
		return nil
	})
	return p, err
}

// NewPolicy creates a site or tag policy.
func (s *Store) NewPolicy(ctx context.Context, op store.Op, identity string, c store.PolicyChanges) (store.Policy, error) {
	if err := op.Check(); err != nil {
		return store.Policy{}, err
	}
	p, key, err := store.NewPolicyFrom(identity, c)
	if err != nil {
		return store.Policy{}, err
	}
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		b := bucket(tx, bucketPolicies)
		if v := b.Get([]byte(key)); v != nil {
			return fmt.Errorf("policy %s: %w; change it with set_pin_policy", decodePolicy(v).Identity, store.ErrDuplicate)
		}
		w.log.add("new_pin_policy", p.Identity, "ok", store.DescribePolicy(p))
		return b.Put([]byte(key), encodePolicy(p))
	})
	if err != nil {
		return store.Policy{}, err
	}
	return p, nil
}

// SetPolicy changes a policy.
func (s *Store) SetPolicy(ctx context.Context, op store.Op, identity string, c store.PolicyChanges) (store.Policy, error) {
	if err := op.Check(); err != nil {
		return store.Policy{}, err
	}
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return store.Policy{}, err
	}
	var p store.Policy
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		old := getPolicy(tx, key)
		if old.Identity == "" {
			return noPolicy(canon)
		}
		if p, err = c.Apply(old); err != nil {
			return err
		}
		w.log.add("set_pin_policy", p.Identity, "ok", store.DescribePolicy(p))
		return bucket(tx, bucketPolicies).Put([]byte(key), encodePolicy(p))
	})
	if err != nil {
		return store.Policy{}, err
	}
	return p, nil
}

// RemovePolicy resets the global policy or removes a site or tag policy; a
// tag policy's users are ungranted in the same transaction (a scan of the
// users: removing a policy is rare, granting it must stay cheap).
func (s *Store) RemovePolicy(ctx context.Context, op store.Op, identity string) error {
	if err := op.Check(); err != nil {
		return err
	}
	canon, key, err := store.ParsePolicyIdentity(identity)
	if err != nil {
		return err
	}
	return s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		b := bucket(tx, bucketPolicies)
		if canon == store.GlobalPolicy {
			w.log.add("remove_pin_policy", canon, "ok", "reset to defaults")
			return b.Put([]byte(key), encodePolicy(store.DefaultPolicy(store.GlobalPolicy)))
		}
		old := getPolicy(tx, key)
		if old.Identity == "" {
			return noPolicy(canon)
		}
		if err := b.Delete([]byte(key)); err != nil {
			return err
		}
		detail := ""
		if strings.HasPrefix(key, "tag:") {
			var ms []mutation
			it := newIter(bucket(tx, bucketUsers))
			for it.first(); it.valid; it.next() {
				u := decodeUser(keyUID(it.key()), it.val())
				if u.PinPolicy == "" || store.TagPolicyKey(u.PinPolicy) != key {
					continue
				}
				u.PinPolicy = ""
				ms = append(ms, mutation{key: uidKey(u.ID), val: encodeUser(nil, &u)})
			}
			if err := w.blocks(bucketUsers).apply(ms); err != nil {
				return err
			}
			detail = fmt.Sprintf("ungranted from %d users", len(ms))
		}
		w.log.add("remove_pin_policy", old.Identity, "ok", detail)
		return nil
	})
}

// GrantPolicy grants a tag policy to users ("" unassigns).
func (s *Store) GrantPolicy(ctx context.Context, op store.Op, ids []store.UserID, name string) ([]store.ItemResult, error) {
	r, err := s.grantPolicy(ctx, op, ids, name, false)
	return r.all, err
}

// GrantPolicyLean is GrantPolicy reporting leanly (store.LeanChanger).
func (s *Store) GrantPolicyLean(ctx context.Context, op store.Op, ids []store.UserID, name string) (store.Changes, error) {
	r, err := s.grantPolicy(ctx, op, ids, name, true)
	return r.lean, err
}

func (s *Store) grantPolicy(ctx context.Context, op store.Op, ids []store.UserID, name string, lean bool) (*itemResults, error) {
	if err := op.Check(); err != nil {
		return &itemResults{}, err
	}
	res := newResults(len(ids), lean)
	err := s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		tag, detail := "", "unassigned"
		if strings.TrimSpace(name) != "" {
			p := getPolicy(tx, store.TagPolicyKey(name))
			if p.Identity == "" {
				return noPolicy("tag:" + strings.TrimPrefix(strings.TrimSpace(name), "tag:"))
			}
			tag, detail = strings.TrimPrefix(p.Identity, "tag:"), p.Identity
		}
		var ms []mutation
		users := newIter(bucket(tx, bucketUsers))
		var prev store.UserID
		for n, i := range sortedOrder(ids) {
			id := ids[i]
			uv, ok := iterGet(users, n == 0, uidKey(id))
			if !ok || (n > 0 && id == prev) {
				res.other(i, store.ItemResult{ID: id, Outcome: store.Failed, Err: fmt.Errorf("user %d: %w", id, store.ErrNotFound)})
				continue
			}
			prev = id
			u := decodeUser(id, uv)
			if strings.EqualFold(u.PinPolicy, tag) {
				res.other(i, store.ItemResult{ID: id, Identity: u.SipAddress, Outcome: store.Skipped,
					Err: fmt.Errorf("%s already has policy %q: %w", u.SipAddress, detail, store.ErrDuplicate)})
				continue
			}
			u.PinPolicy = tag
			ms = append(ms, mutation{key: uidKey(id), val: encodeUser(nil, &u)})
			res.changed(i, id, userSIP(id, uv))
			w.log.add("grant_pin_policy", u.SipAddress, "ok", detail)
		}
		return w.blocks(bucketUsers).apply(ms)
	})
	if err != nil {
		return &itemResults{}, err
	}
	return res.done(), nil
}

// EffectivePolicy returns the policy that applies to a user.
func (s *Store) EffectivePolicy(ctx context.Context, id store.UserID) (store.Policy, error) {
	var p store.Policy
	err := s.view(ctx, func(tx *bolt.Tx) error {
		u, ok := loadUser(tx, id)
		if !ok {
			return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
		}
		p = effective(loadPolicies(tx), &u)
		return nil
	})
	return p, err
}
