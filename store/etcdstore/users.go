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

// Keys of the user directory (see the package doc).
const (
	keyUserSeq  = "seq/user"
	prefixUser  = "u/"
	prefixHash  = "h/"
	prefixAddr  = "x/a/"
	prefixLogon = "x/l/"
	prefixDN    = "x/d/"
	prefixName  = "x/n/"
	prefixTag   = "x/t/"
)

// removeBatch is how many users one RemoveUsers transaction removes: each
// costs at most 8 writes (record, hashes, two addresses, logon, DN, name,
// tag), so 12 stay well within a transaction with the audit block.
const removeBatch = 12

// tagKey is the key of the tag index entry of user id holding the tag
// policy stored under policy key pk.
func (s *Store) tagKey(pk string, id store.UserID) string {
	return s.key(prefixTag + pk + "\x00" + idHex(id))
}

func idHex(id store.UserID) string { return fmt.Sprintf("%016x", uint64(id)) }

func (s *Store) userKey(id store.UserID) string { return s.key(prefixUser + idHex(id)) }

// uniqueKey is one unique index entry of a user: the field it comes from
// (for errors), the value as the user gave it, and the index key.
type uniqueKey struct {
	field, value, key string
}

// userIndex is every index key of one user.
type userIndex struct {
	unique []uniqueKey
	name   string // "" without a display name
	tag    string // "" without a tag policy
	ouPath string // "" without a DN
}

func (s *Store) indexOf(u *store.User) userIndex {
	addr := u.SipAddress[len("sip:"):] // canonical: already lower-case
	ix := userIndex{unique: []uniqueKey{{"sip_address", u.SipAddress, s.key(prefixAddr + addr)}}}
	if !strings.EqualFold(u.UserPrincipalName, addr) {
		ix.unique = append(ix.unique, uniqueKey{"user_principal_name", u.UserPrincipalName,
			s.key(prefixAddr + string(store.AppendFold(nil, u.UserPrincipalName)))})
	}
	logon := string(store.AppendFold(store.AppendFold(nil, u.Domain), `\`+u.SamAccountName))
	ix.unique = append(ix.unique, uniqueKey{"sam_account_name", u.Domain + `\` + u.SamAccountName, s.key(prefixLogon + logon)})
	if u.DistinguishedName != "" {
		// NormalizeUser has checked that the DN parses.
		buf, keyEnd, _ := store.AppendDNForms(nil, u.DistinguishedName)
		ix.unique = append(ix.unique, uniqueKey{"distinguished_name", u.DistinguishedName, s.key(prefixDN + string(buf[:keyEnd]))})
		ix.ouPath = string(buf[keyEnd:])
	}
	if name := store.NameKey(u.DisplayName); name != "" {
		ix.name = s.key(prefixName + name + "\x00" + idHex(u.ID))
	}
	if u.PinPolicy != "" {
		ix.tag = s.tagKey(store.TagPolicyKey(u.PinPolicy), u.ID)
	}
	return ix
}

// keys returns the unique keys of ix.
func (ix userIndex) keys() []string {
	out := make([]string, len(ix.unique))
	for i, k := range ix.unique {
		out[i] = k.key
	}
	return out
}

// dupError says a unique value of a user belongs to user other; the
// caller names that user (by its SIP address) after the transaction.
type dupError struct {
	uniqueKey
	other store.UserID
}

func (e *dupError) Error() string {
	return fmt.Sprintf("%s %q: already used by user %d", e.field, e.value, e.other)
}

// checkUnique fails with a *dupError when a unique key of ix, as read in
// cur, belongs to another user than self.
func checkUnique(cur map[string]*mvccpb.KeyValue, ix userIndex, self store.UserID) error {
	for _, k := range ix.unique {
		kv := cur[k.key]
		if kv == nil {
			continue
		}
		other, err := strconv.ParseUint(string(kv.Value), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: index %s holds %q, not a user ID", store.ErrDamaged, kv.Key, kv.Value)
		}
		if store.UserID(other) != self {
			return &dupError{uniqueKey: k, other: store.UserID(other)}
		}
	}
	return nil
}

// fieldError turns a *dupError from an update into the store's
// *store.FieldError naming the user holding the value.
func (s *Store) fieldError(ctx context.Context, err error) error {
	var d *dupError
	if !errors.As(err, &d) {
		return err
	}
	who := fmt.Sprintf("user %d", d.other)
	if us, rerr := s.Users(ctx, []store.UserID{d.other}); rerr == nil && us[0].ID != 0 {
		who = us[0].SipAddress
	}
	return &store.FieldError{Field: d.field, Value: d.value, Err: store.ErrDuplicate,
		Reason: "already used by " + who + "; choose another value or change that user first"}
}

// policyCheck returns the key of the tag policy u names ("" when none),
// to be read with the user's change, and checks it exists in cur.
func (s *Store) policyCheck(u *store.User) (key string, check func(cur map[string]*mvccpb.KeyValue) error) {
	if u.PinPolicy == "" {
		return "", func(map[string]*mvccpb.KeyValue) error { return nil }
	}
	key = s.policyKey(store.TagPolicyKey(u.PinPolicy))
	return key, func(cur map[string]*mvccpb.KeyValue) error {
		if cur[key] == nil {
			return &store.FieldError{Field: "pin_policy", Value: u.PinPolicy, Err: store.ErrNotFound,
				Reason: "no such policy tag:" + u.PinPolicy + "; create it with new_pin_policy first"}
		}
		return nil
	}
}

// writes collects the writes of one user change, so that a key both
// deleted (an old index entry) and put (the same entry kept) is written
// once: the last change wins.
type writes map[string][]byte // nil: delete

func (w writes) apply(t *txn) error {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var err error
		if v := w[k]; v == nil {
			err = t.del(k)
		} else {
			err = t.put(k, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w writes) addUser(s *Store, u *store.User, ix userIndex) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	w[s.userKey(u.ID)] = b
	id := []byte(strconv.FormatUint(uint64(u.ID), 10))
	for _, k := range ix.unique {
		w[k.key] = id
	}
	for _, k := range []string{ix.name, ix.tag} {
		if k != "" {
			w[k] = []byte{}
		}
	}
	return nil
}

// putUser adds to t the writes w, the record of u with its index entries
// ix, and u's summary in its block, read as bkv (nil: absent), when the
// summary changes.
func (s *Store) putUser(t *txn, w writes, bkv *mvccpb.KeyValue, u *store.User, ix userIndex) error {
	if err := w.addUser(s, u, ix); err != nil {
		return err
	}
	if err := w.apply(t); err != nil {
		return err
	}
	blk, err := decodeBlock(bkv)
	if err != nil {
		return err
	}
	e := blk[u.ID].withUser(u)
	if _, ok := blk[u.ID]; ok && e.same(blk[u.ID]) {
		return nil
	}
	blk[u.ID] = e
	return s.putBlock(t, s.blockKey(blockOf(u.ID)), blk)
}

func (w writes) delUser(s *Store, id store.UserID, ix userIndex) {
	w[s.userKey(id)] = nil
	w[s.key(prefixHash+idHex(id))] = nil
	for _, k := range ix.unique {
		w[k.key] = nil
	}
	for _, k := range []string{ix.name, ix.tag} {
		if k != "" {
			w[k] = nil
		}
	}
}

func decodeUser(kv *mvccpb.KeyValue) (store.User, error) {
	var u store.User
	if err := json.Unmarshal(kv.Value, &u); err != nil || u.ID == 0 || !strings.HasPrefix(u.SipAddress, "sip:") {
		return store.User{}, fmt.Errorf("%w: user record %s: %q", store.ErrDamaged, kv.Key, kv.Value)
	}
	return u, nil
}

func parseSeq(kv *mvccpb.KeyValue) (uint64, error) {
	if kv == nil {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(kv.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s holds %q, not a number", store.ErrDamaged, kv.Key, kv.Value)
	}
	return n, nil
}

// readCounter reads the counter key (0 when absent); what names what is
// being read in errors.
func (s *Store) readCounter(ctx context.Context, key, what string) (uint64, error) {
	r, err := s.kv.cli.Get(ctx, s.key(key))
	if err != nil {
		return 0, fmt.Errorf("etcd directory %s: read %s: %w", s.name, what, err)
	}
	if len(r.Kvs) == 0 {
		return 0, nil
	}
	return parseSeq(r.Kvs[0])
}

// dedupe returns keys without repeats, in their first order.
func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// CreateUser adds a user. Its ID comes from the counter seq/user; its
// unique index keys are read with it and compared at commit, so two hosts
// creating users with one SIP address, UPN, logon or DN at once end with
// one user: the other host reads the key taken and fails with
// store.ErrDuplicate.
func (s *Store) CreateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	if err := s.check(op); err != nil {
		return store.User{}, err
	}
	u, err := store.NormalizeUser(u)
	if err != nil {
		return store.User{}, err
	}
	seqKey, auditKey := s.key(keyUserSeq), s.key(keyAuditSeq)
	ix := s.indexOf(&u)
	pk, policyOK := s.policyCheck(&u)
	for range maxRetries {
		// The new user's entry goes in the block of the next ID: read the
		// counter first, and start over if another host takes the ID.
		guess, err := s.readCounter(ctx, keyUserSeq, "users")
		if err != nil {
			return store.User{}, err
		}
		bk := s.blockKey(blockOf(store.UserID(guess + 1)))
		keys := dedupe(append([]string{seqKey, auditKey, pk, bk}, ix.keys()...))
		_, err = s.kv.update(ctx, keys, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
			if err := policyOK(cur); err != nil {
				return err
			}
			if err := checkUnique(cur, ix, 0); err != nil {
				return err
			}
			last, err := parseSeq(cur[seqKey])
			if err != nil {
				return err
			}
			if last != guess {
				return errStale
			}
			u.ID = store.UserID(last + 1)
			ix := s.indexOf(&u) // the name key holds the ID
			w := writes{seqKey: []byte(strconv.FormatUint(last+1, 10))}
			if err := s.putUser(t, w, cur[bk], &u, ix); err != nil {
				return err
			}
			return s.addAudit(cur[auditKey], t, op, store.AuditEntry{Action: "new_user", Target: u.SipAddress, Outcome: "ok"})
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return store.User{}, fmt.Errorf("etcd directory %s: create user %s: %w", s.name, u.SipAddress, s.fieldError(ctx, err))
		}
		return u, nil
	}
	return store.User{}, fmt.Errorf("etcd directory %s: create user %s: other hosts kept adding users meanwhile; try again", s.name, u.SipAddress)
}

// errStale says the user record changed between the read that chose an
// update's keys and the update: read it again.
var errStale = errors.New("user record changed")

// UpdateUser replaces a user's fields, keeping its PIN state. The old
// record is read first to know its index keys; the update then compares
// the record, and starts over if another host changed it in between.
func (s *Store) UpdateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	if err := s.check(op); err != nil {
		return store.User{}, err
	}
	id := u.ID
	u, err := store.NormalizeUser(u)
	if err != nil {
		return store.User{}, err
	}
	u.ID = id
	uk, auditKey, bk := s.userKey(id), s.key(keyAuditSeq), s.blockKey(blockOf(id))
	ix := s.indexOf(&u)
	pk, policyOK := s.policyCheck(&u)
	for range maxRetries {
		r, err := s.kv.read(ctx, []clientv3.Op{clientv3.OpGet(uk)})
		if err != nil {
			return store.User{}, fmt.Errorf("etcd directory %s: update user %d (%s): %w", s.name, id, u.SipAddress, err)
		}
		kvs := r.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return store.User{}, fmt.Errorf("update user %d (%s): %w", id, u.SipAddress, store.ErrNotFound)
		}
		old, err := decodeUser(kvs[0])
		if err != nil {
			return store.User{}, err
		}
		oldRev, oldIx := kvs[0].ModRevision, s.indexOf(&old)
		keys := dedupe(append(append([]string{uk, auditKey, pk, bk}, ix.keys()...), oldIx.keys()...))
		_, err = s.kv.update(ctx, keys, func(cur map[string]*mvccpb.KeyValue, t *txn) error {
			if kv := cur[uk]; kv == nil || kv.ModRevision != oldRev {
				return errStale
			}
			if err := policyOK(cur); err != nil {
				return err
			}
			if err := checkUnique(cur, ix, id); err != nil {
				return err
			}
			w := writes{}
			w.delUser(s, id, oldIx)
			delete(w, s.key(prefixHash+idHex(id))) // the PIN state stays
			if err := s.putUser(t, w, cur[bk], &u, ix); err != nil {
				return err
			}
			return s.addAudit(cur[auditKey], t, op, store.AuditEntry{Action: "update_user", Target: u.SipAddress,
				Outcome: "ok", Detail: strings.Join(store.ChangedFields(old, u), ", ")})
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return store.User{}, fmt.Errorf("etcd directory %s: update user %s: %w", s.name, u.SipAddress, s.fieldError(ctx, err))
		}
		return u, nil
	}
	return store.User{}, fmt.Errorf("etcd directory %s: update user %s: changed by others more than %d times while it ran; try again", s.name, u.SipAddress, maxRetries)
}

// userChange changes one user of a batch in t (r is its result, with ID
// and Identity set) and returns its audit entry, or nil when it changed
// nothing (r says why).
type userChange func(u store.User, kv *mvccpb.KeyValue, t *txn, r *store.ItemResult) (*store.AuditEntry, error)

// changeUsers runs a change of users in transactions of batch users: each
// reads its users, the keys extra returns for them (extra may be nil) and
// the audit counter; begin checks what it read apart from the users and
// returns the change of each user, and finish (may be nil), which adds the
// writes of the batch as a whole. A missing or repeated user fails with
// store.ErrNotFound. An error after the first transaction says how many
// users were changed.
func (s *Store) changeUsers(ctx context.Context, op store.Op, what string, ids []store.UserID, batch int, extra func([]store.UserID) []string,
	begin func(cur map[string]*mvccpb.KeyValue) (change userChange, finish func(*txn) error, err error)) ([]store.ItemResult, error) {
	if err := s.check(op); err != nil {
		return nil, err
	}
	res := make([]store.ItemResult, len(ids))
	auditKey := s.key(keyAuditSeq)
	seen := map[store.UserID]bool{}
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		keys := []string{auditKey}
		if extra != nil {
			keys = append(keys, extra(part)...)
		}
		for _, id := range part {
			keys = append(keys, s.userKey(id))
		}
		_, err := s.kv.update(ctx, dedupe(keys), func(cur map[string]*mvccpb.KeyValue, t *txn) error {
			change, finish, err := begin(cur)
			if err != nil {
				return err
			}
			var entries []store.AuditEntry
			done := map[store.UserID]bool{}
			for i, id := range part {
				r := &res[start+i]
				*r = store.ItemResult{ID: id}
				kv := cur[s.userKey(id)]
				if kv == nil || seen[id] || done[id] {
					r.Outcome, r.Err = store.Failed, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
					continue
				}
				done[id] = true
				u, err := decodeUser(kv)
				if err != nil {
					return err
				}
				r.Identity = u.SipAddress
				e, err := change(u, kv, t, r)
				if err != nil {
					return err
				}
				if e != nil {
					r.Outcome = store.Changed
					entries = append(entries, *e)
				}
			}
			if finish != nil {
				if err := finish(t); err != nil {
					return err
				}
			}
			return s.addAudit(cur[auditKey], t, op, entries...)
		})
		if err != nil && start > 0 {
			// Earlier transactions committed: say so, since err may say
			// "this transaction changed nothing" of this one only.
			return nil, fmt.Errorf("etcd directory %s: %s: %w; earlier transactions had changed and audited the first %d of the %d users (see the audit log)",
				s.name, what, err, start, len(ids))
		}
		if err != nil {
			return nil, fmt.Errorf("etcd directory %s: %s: %w", s.name, what, err)
		}
		for _, id := range part {
			seen[id] = true
		}
	}
	return res, nil
}

// RemoveUsers removes users with their index entries, PIN state and PIN
// hashes, in transactions of removeBatch users, each with its audit
// entries; the PIN state blocks of the users are read and compared, so a
// concurrent change of a PIN (another host's lock, verify or set_pin)
// either commits before the removal or sees the user gone.
func (s *Store) RemoveUsers(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	blocksOf := func(part []store.UserID) []string {
		var keys []string
		for _, id := range part {
			keys = append(keys, s.blockKey(blockOf(id)))
		}
		return keys
	}
	return s.changeUsers(ctx, op, "remove users", ids, removeBatch, blocksOf, func(cur map[string]*mvccpb.KeyValue) (userChange, func(*txn) error, error) {
		blocks := map[uint64]pinBlock{}
		var touched []uint64
		change := func(u store.User, _ *mvccpb.KeyValue, t *txn, _ *store.ItemResult) (*store.AuditEntry, error) {
			b := blockOf(u.ID)
			blk, err := s.blockFrom(cur, blocks, b)
			if err != nil {
				return nil, err
			}
			if _, ok := blk[u.ID]; ok {
				delete(blk, u.ID)
				if !slices.Contains(touched, b) {
					touched = append(touched, b)
				}
			}
			// The keys of two users never overlap: each is written once.
			w := writes{}
			w.delUser(s, u.ID, s.indexOf(&u))
			return &store.AuditEntry{Action: "remove_user", Target: u.SipAddress, Outcome: "ok"}, w.apply(t)
		}
		finish := func(t *txn) error {
			for _, b := range touched {
				if err := s.putBlock(t, s.blockKey(b), blocks[b]); err != nil {
					return err
				}
			}
			return nil
		}
		return change, finish, nil
	})
}

// Users reads users by ID, MaxTxnOps-1 at a time.
func (s *Store) Users(ctx context.Context, ids []store.UserID) ([]store.User, error) {
	if s.kv.closed.Load() {
		return nil, s.closedErr()
	}
	out := make([]store.User, len(ids))
	for start := 0; start < len(ids); start += MaxTxnOps - 1 {
		batch := ids[start:min(start+MaxTxnOps-1, len(ids))]
		gets := make([]clientv3.Op, len(batch))
		for i, id := range batch {
			gets[i] = clientv3.OpGet(s.userKey(id))
		}
		r, err := s.kv.read(ctx, gets)
		if err != nil {
			return nil, fmt.Errorf("etcd directory %s: read users: %w", s.name, err)
		}
		for i := range batch {
			if kvs := r.Responses[i].GetResponseRange().Kvs; len(kvs) > 0 {
				u, err := decodeUser(kvs[0])
				if err != nil {
					return nil, err
				}
				out[start+i] = u
			}
		}
	}
	return out, nil
}

// rangePage is how many keys one read of an index range returns.
const rangePage = 512

// eachKey calls fn with every key in [from, end), reading rangePage keys
// at a time.
func (s *Store) eachKey(ctx context.Context, from, end string, fn func(key string)) error {
	for {
		r, err := s.kv.cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(rangePage), clientv3.WithKeysOnly())
		if err != nil {
			return fmt.Errorf("etcd directory %s: read index: %w", s.name, err)
		}
		for _, kv := range r.Kvs {
			fn(string(kv.Key))
		}
		if !r.More || len(r.Kvs) == 0 {
			return nil
		}
		from = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
	}
}

// FindUsers resolves an identity through the indexes.
func (s *Store) FindUsers(ctx context.Context, identity string) ([]store.User, error) {
	if s.kv.closed.Load() {
		return nil, s.closedErr()
	}
	id, err := store.ParseIdentity(identity)
	if err != nil {
		return nil, err
	}
	ids, err := s.findIDs(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 && (id.Kind == store.AddressIdentity || id.Kind == store.LogonIdentity || id.Kind == store.DNIdentity) {
		// A display name may look like another form ("Sales@HQ").
		if ids, err = s.findIDs(ctx, store.Identity{Kind: store.DisplayIdentity, Key: store.NameKey(identity)}); err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	us, err := s.Users(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []store.User{}
	for _, u := range us {
		if u.ID == 0 {
			continue // removed since the index was read
		}
		if id.Kind == store.SIPIdentity && u.SipAddress != "sip:"+id.Key {
			continue // the address is this user's UPN, not its SIP address
		}
		out = append(out, u)
	}
	return out, nil
}

// uniqueIndex is the unique index each identity form is looked up in; the
// other forms (display names, wildcards) read the display name index.
var uniqueIndex = map[store.IdentityKind]string{
	store.SIPIdentity: prefixAddr, store.AddressIdentity: prefixAddr,
	store.LogonIdentity: prefixLogon, store.DNIdentity: prefixDN,
}

func (s *Store) findIDs(ctx context.Context, id store.Identity) ([]store.UserID, error) {
	one := func(prefix string) ([]store.UserID, error) {
		r, err := s.kv.cli.Get(ctx, s.key(prefix+id.Key))
		if err != nil {
			return nil, fmt.Errorf("etcd directory %s: read index: %w", s.name, err)
		}
		if len(r.Kvs) == 0 {
			return nil, nil
		}
		n, err := parseSeq(r.Kvs[0])
		return []store.UserID{store.UserID(n)}, err
	}
	if p, ok := uniqueIndex[id.Kind]; ok {
		return one(p)
	}
	prefix := id.Key + "\x00"
	if id.Kind == store.WildcardIdentity {
		prefix = store.WildcardPrefix(id.Key)
	}
	from := s.key(prefixName + prefix)
	var ids []store.UserID
	var bad error
	err := s.eachKey(ctx, from, clientv3.GetPrefixRangeEnd(from), func(key string) {
		k := key[len(s.key(prefixName)):]
		if len(k) < 17 || k[len(k)-17] != 0 {
			bad = fmt.Errorf("%w: bad display name index key %q", store.ErrDamaged, key)
			return
		}
		if id.Kind == store.WildcardIdentity && !store.MatchWildcard(id.Key, k[:len(k)-17]) {
			return
		}
		n, err := strconv.ParseUint(k[len(k)-16:], 16, 64)
		if err != nil {
			bad = fmt.Errorf("%w: bad display name index key %q", store.ErrDamaged, key)
			return
		}
		ids = append(ids, store.UserID(n))
	})
	if err == nil {
		err = bad
	}
	return ids, err
}

// ScanUsers returns up to limit users selected by q with ID > after, in
// ID order (see scan).
func (s *Store) ScanUsers(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.User, store.UserID, error) {
	var out []store.User
	next, err := s.scan(ctx, q, after, limit, false, func(u *store.User, _ pinEntry) { out = append(out, *u) })
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// scan visits up to limit users selected by q with ID > after, in ID
// order (q.Pin judged by store.PinQuery.Match on each user's PIN info),
// with their PIN state when pins is set, and returns the resume
// point (0: done). It reads windows of max(limit, 128) IDs (never a whole
// remaining range: etcd counts a limited range to its end), each with its
// PIN state blocks at one revision, up to the last ID assigned, and spans
// at most max(64*limit, 65536) IDs per call, like the bbolt backend's
// budget. An OU selects by each user's DN (there is no OU index yet).
func (s *Store) scan(ctx context.Context, q store.UserQuery, after store.UserID, limit int, pins bool, visit func(u *store.User, e pinEntry)) (store.UserID, error) {
	if s.kv.closed.Load() {
		return 0, s.closedErr()
	}
	var ouPath string
	if q.OU != "" {
		p, err := store.OUPathKey(q.OU)
		if err != nil {
			return 0, &store.FieldError{Field: "ou", Value: q.OU, Err: store.ErrInvalid, Reason: err.Error()}
		}
		ouPath = p
	}
	if limit <= 0 {
		limit = 1024
	}
	end, err := s.readCounter(ctx, keyUserSeq, "users")
	if err != nil {
		return 0, err
	}
	budget := uint64(max(limit*64, 1<<16))
	window := uint64(max(limit, MaxTxnOps))
	kept := 0
	pins = pins || !q.Pin.IsZero()
	for from := uint64(after) + 1; from <= end; from += window {
		to := min(from+window, end+1)
		gets := []clientv3.Op{clientv3.OpGet(s.userKey(store.UserID(from)), clientv3.WithRange(s.userKey(store.UserID(to))))}
		if pins {
			gets = append(gets, clientv3.OpGet(s.blockKey(blockOf(store.UserID(from))), clientv3.WithRange(s.blockKey(blockOf(store.UserID(to-1))+1))))
		}
		w, err := s.kv.read(ctx, gets)
		if err != nil {
			return 0, fmt.Errorf("etcd directory %s: read users: %w", s.name, err)
		}
		blocks := map[string]*mvccpb.KeyValue{}
		if pins {
			blocks = byKey(&clientv3.TxnResponse{Responses: w.Responses[1:]})
		}
		var blk pinBlock
		blkNo := ^uint64(0)
		for _, kv := range w.Responses[0].GetResponseRange().Kvs {
			u, err := decodeUser(kv)
			if err != nil {
				return 0, err
			}
			if ouPath != "" && !underOU(&u, ouPath) || q.Filter != nil && !q.Filter(u) {
				continue
			}
			var e pinEntry
			if pins {
				if b := blockOf(u.ID); b != blkNo {
					if blk, err = decodeBlock(blocks[s.blockKey(b)]); err != nil {
						return 0, err
					}
					blkNo = b
				}
				e = blk[u.ID]
				if p := pinInfo(&u, e); !q.Pin.Match(&p) {
					continue
				}
			}
			visit(&u, e)
			if kept++; kept >= limit {
				if u.ID == store.UserID(end) {
					return 0, nil
				}
				return u.ID, nil
			}
		}
		if to-uint64(after)-1 >= budget && to <= end {
			return store.UserID(to - 1), nil
		}
	}
	return 0, nil
}

// underOU reports whether u's DN lies under the OU path ou.
func underOU(u *store.User, ou string) bool {
	if u.DistinguishedName == "" {
		return false
	}
	buf, keyEnd, err := store.AppendDNForms(nil, u.DistinguishedName)
	return err == nil && store.UnderOU(string(buf[keyEnd:]), ou)
}
