package boltstore

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// userKeys are the index keys of one user.
type userKeys struct {
	addr   [][]byte // lower SIP address without "sip:", then lower UPN when it differs
	logon  []byte
	dn     []byte // nil without a DN
	name   []byte // empty without a display name
	ouPath []byte // empty without a DN (or with a one-part DN)
}

func keysOf(u *store.User) userKeys {
	// All keys of the user come from one buffer: bulk loads compute them
	// for a million users.
	addr := u.SipAddress[len("sip:"):] // canonical: already lower-case
	upnDiffers := !strings.EqualFold(u.UserPrincipalName, addr)
	n := len(addr) + len(u.Domain) + 1 + len(u.SamAccountName) + len(u.DisplayName) + 2*len(u.DistinguishedName) + 4
	if upnDiffers {
		n += len(u.UserPrincipalName)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, addr...)
	var k userKeys
	k.addr = [][]byte{buf[:len(buf):len(buf)]}
	if upnDiffers {
		s := len(buf)
		buf = store.AppendFold(buf, u.UserPrincipalName)
		k.addr = append(k.addr, buf[s:len(buf):len(buf)])
	}
	s := len(buf)
	buf = store.AppendFold(buf, u.Domain)
	buf = append(buf, '\\')
	buf = store.AppendFold(buf, u.SamAccountName)
	k.logon = buf[s:len(buf):len(buf)]
	s = len(buf)
	buf = store.AppendFold(buf, u.DisplayName) // NormalizeUser trimmed it
	k.name = buf[s:len(buf):len(buf)]
	if u.DistinguishedName != "" {
		// NormalizeUser has checked that the DN parses.
		s = len(buf)
		var keyEnd int
		buf, keyEnd, _ = store.AppendDNForms(buf, u.DistinguishedName)
		k.dn, k.ouPath = buf[s:keyEnd:keyEnd], buf[keyEnd:len(buf):len(buf)]
	}
	return k
}

func nameKey(name []byte, id store.UserID) []byte {
	return appendUID(append(append(make([]byte, 0, len(name)+9), name...), 0), id)
}

func ouKey(ou uint32, id store.UserID) []byte {
	return appendUID(binary.BigEndian.AppendUint32(nil, ou), id)
}

func uvarintVal(id store.UserID) []byte { return binary.AppendUvarint(nil, uint64(id)) }

func valUID(v []byte) store.UserID {
	x, n := binary.Uvarint(v)
	if n <= 0 {
		corrupt("bad index value %x", v)
	}
	return store.UserID(x)
}

// lookupUID returns the user ID stored under key in a unique index.
func lookupUID(tx *bolt.Tx, index string, key []byte) store.UserID {
	if v, ok := getBlock(bucket(tx, index), key); ok {
		return valUID(v)
	}
	return 0
}

func loadUser(tx *bolt.Tx, id store.UserID) (store.User, bool) {
	v, ok := getBlock(bucket(tx, bucketUsers), uidKey(id))
	if !ok {
		return store.User{}, false
	}
	return decodeUser(id, v), true
}

// checkUnique returns a *store.FieldError when a unique key of u belongs to
// another user than self.
func checkUnique(tx *bolt.Tx, u *store.User, k userKeys, self store.UserID) error {
	taken := func(field, value, index string, key []byte) error {
		other := lookupUID(tx, index, key)
		if other == 0 || other == self {
			return nil
		}
		who := fmt.Sprintf("user %d", other)
		if ou, ok := loadUser(tx, other); ok {
			who = ou.SipAddress
		}
		return &store.FieldError{Field: field, Value: value, Err: store.ErrDuplicate,
			Reason: "already used by " + who + "; choose another value or change that user first"}
	}
	if err := taken("sip_address", u.SipAddress, bucketAddr, k.addr[0]); err != nil {
		return err
	}
	if len(k.addr) > 1 {
		if err := taken("user_principal_name", u.UserPrincipalName, bucketAddr, k.addr[1]); err != nil {
			return err
		}
	}
	if err := taken("sam_account_name", u.Domain+`\`+u.SamAccountName, bucketLogon, k.logon); err != nil {
		return err
	}
	if k.dn != nil {
		if err := taken("distinguished_name", u.DistinguishedName, bucketDN, k.dn); err != nil {
			return err
		}
	}
	return nil
}

// checkPolicyGranted fails when u names a tag policy that does not exist.
func checkPolicyGranted(tx *bolt.Tx, u *store.User) error {
	if u.PinPolicy == "" {
		return nil
	}
	if bucket(tx, bucketPolicies).Get([]byte(store.TagPolicyKey(u.PinPolicy))) == nil {
		return &store.FieldError{Field: "pin_policy", Value: u.PinPolicy, Err: store.ErrNotFound,
			Reason: "no such policy tag:" + u.PinPolicy + "; create it with new_pin_policy first"}
	}
	return nil
}

// ouID returns the id of the OU path, creating it when create is set (0:
// none).
func ouID(tx *bolt.Tx, path string, create bool) (uint32, error) {
	b := bucket(tx, bucketOUs)
	if v := b.Get([]byte(path)); v != nil {
		return uint32(valUID(v)), nil
	}
	if !create {
		return 0, nil
	}
	n, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, fmt.Errorf("too many OUs")
	}
	return uint32(n), b.Put([]byte(path), binary.AppendUvarint(nil, n))
}

// muts collects mutations per block bucket; flush sorts and applies them.
type muts map[string][]mutation

func (m muts) put(bucket string, key, val []byte) {
	m[bucket] = append(m[bucket], mutation{key: key, val: val})
}

func (m muts) del(bucket string, key []byte) {
	m[bucket] = append(m[bucket], mutation{key: key, del: true})
}

func (m muts) flush(w *txw) error {
	for name, ms := range m {
		if strictlyAscending(ms) {
			// Strictly ascending already (the bulk paths): nothing to sort
			// or merge.
			if err := w.blocks(name).apply(ms); err != nil {
				return err
			}
			continue
		}
		slices.SortStableFunc(ms, func(a, b mutation) int { return bytes.Compare(a.key, b.key) })
		// Keep the last change of a key: a delete followed by a put of the
		// same key (an update that keeps it) must end as the put.
		out := ms[:0]
		for i, x := range ms {
			if i+1 < len(ms) && bytes.Equal(x.key, ms[i+1].key) {
				continue
			}
			out = append(out, x)
		}
		if err := w.blocks(name).apply(out); err != nil {
			return err
		}
	}
	return nil
}

func strictlyAscending(ms []mutation) bool {
	for i := 1; i < len(ms); i++ {
		if bytes.Compare(ms[i-1].key, ms[i].key) >= 0 {
			return false
		}
	}
	return true
}

// addIndexes records the index entries of user id.
func addIndexes(tx *bolt.Tx, m muts, id store.UserID, k userKeys) error {
	v := uvarintVal(id)
	for _, a := range k.addr {
		m.put(bucketAddr, a, v)
	}
	m.put(bucketLogon, k.logon, v)
	if k.dn != nil {
		m.put(bucketDN, k.dn, v)
	}
	if len(k.name) > 0 {
		m.put(bucketName, nameKey(k.name, id), nil)
	}
	if len(k.ouPath) > 0 {
		ou, err := ouID(tx, string(k.ouPath), true)
		if err != nil {
			return err
		}
		m.put(bucketOU, ouKey(ou, id), nil)
	}
	return nil
}

// delIndexes removes the index entries of user id.
func delIndexes(tx *bolt.Tx, m muts, id store.UserID, k userKeys) error {
	for _, a := range k.addr {
		m.del(bucketAddr, a)
	}
	m.del(bucketLogon, k.logon)
	if k.dn != nil {
		m.del(bucketDN, k.dn)
	}
	if len(k.name) > 0 {
		m.del(bucketName, nameKey(k.name, id))
	}
	if len(k.ouPath) > 0 {
		if ou, _ := ouID(tx, string(k.ouPath), false); ou != 0 {
			m.del(bucketOU, ouKey(ou, id))
		}
	}
	return nil
}

// CreateUser adds a user.
func (s *Store) CreateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	if err := op.Check(); err != nil {
		return store.User{}, err
	}
	u, err := store.NormalizeUser(u)
	if err != nil {
		return store.User{}, err
	}
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		if err := checkPolicyGranted(tx, &u); err != nil {
			return err
		}
		k := keysOf(&u)
		if err := checkUnique(tx, &u, k, 0); err != nil {
			return err
		}
		seq, err := bucket(tx, bucketUsers).NextSequence()
		if err != nil {
			return err
		}
		u.ID = store.UserID(seq)
		m := muts{}
		m.put(bucketUsers, uidKey(u.ID), encodeUser(nil, &u))
		if err := addIndexes(tx, m, u.ID, k); err != nil {
			return err
		}
		w.log.add("new_user", u.SipAddress, "ok", "")
		return m.flush(w)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// UpdateUser replaces a user's fields.
func (s *Store) UpdateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	if err := op.Check(); err != nil {
		return store.User{}, err
	}
	id := u.ID
	u, err := store.NormalizeUser(u)
	if err != nil {
		return store.User{}, err
	}
	err = s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		old, ok := loadUser(tx, id)
		if !ok {
			return fmt.Errorf("update user %d (%s): %w", id, u.SipAddress, store.ErrNotFound)
		}
		if err := checkPolicyGranted(tx, &u); err != nil {
			return err
		}
		k := keysOf(&u)
		if err := checkUnique(tx, &u, k, id); err != nil {
			return err
		}
		m := muts{}
		if err := delIndexes(tx, m, id, keysOf(&old)); err != nil {
			return err
		}
		if err := addIndexes(tx, m, id, k); err != nil {
			return err
		}
		m.put(bucketUsers, uidKey(id), encodeUser(nil, &u))
		w.log.add("update_user", u.SipAddress, "ok", strings.Join(store.ChangedFields(old, u), ", "))
		return m.flush(w)
	})
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// sortedOrder returns the positions of ids in ascending ID order.
func sortedOrder(ids []store.UserID) []int {
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSorted(ids) {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	}
	return order
}

// RemoveUsers removes users with their PIN state.
func (s *Store) RemoveUsers(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	res := make([]store.ItemResult, len(ids))
	err := s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		m := muts{}
		users := newIter(bucket(tx, bucketUsers))
		seen := map[store.UserID]bool{}
		for n, i := range sortedOrder(ids) {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			id := ids[i]
			res[i] = store.ItemResult{ID: id}
			u, ok := iterUser(users, n == 0, id)
			if !ok || seen[id] {
				res[i].Outcome, res[i].Err = store.Failed, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
				continue
			}
			seen[id] = true
			res[i].Identity = u.SipAddress
			key := uidKey(id)
			m.del(bucketUsers, key)
			m.del(bucketPins, key)
			m.del(bucketHashes, key)
			if err := delIndexes(tx, m, id, keysOf(&u)); err != nil {
				return err
			}
			w.log.add("remove_user", u.SipAddress, "ok", "")
		}
		return m.flush(w)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// iterUser reads user id with an iterator used for ascending lookups; first
// says it is the first lookup (the iterator is not positioned yet).
func iterUser(it *blockIter, first bool, id store.UserID) (store.User, bool) {
	if _, ok := iterGet(it, first, uidKey(id)); ok {
		return decodeUser(id, it.val()), true
	}
	return store.User{}, false
}

// iterGet returns the value of key, for ascending runs of lookups.
func iterGet(it *blockIter, first bool, key []byte) ([]byte, bool) {
	if first {
		it.seek(key)
	} else {
		it.advanceTo(key)
	}
	if it.valid && bytes.Equal(it.key(), key) {
		return it.val(), true
	}
	return nil, false
}

// Users reads users by ID.
func (s *Store) Users(ctx context.Context, ids []store.UserID) ([]store.User, error) {
	out := make([]store.User, len(ids))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		it := newIter(bucket(tx, bucketUsers))
		for n, i := range sortedOrder(ids) {
			if u, ok := iterUser(it, n == 0, ids[i]); ok {
				out[i] = u
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindUsers resolves an identity.
func (s *Store) FindUsers(ctx context.Context, identity string) ([]store.User, error) {
	id, err := store.ParseIdentity(identity)
	if err != nil {
		return nil, err
	}
	var out []store.User
	err = s.view(ctx, func(tx *bolt.Tx) error {
		ids := findIDs(tx, id)
		if len(ids) == 0 && (id.Kind == store.AddressIdentity || id.Kind == store.LogonIdentity || id.Kind == store.DNIdentity) {
			// A display name may look like another form ("Sales@HQ").
			ids = findIDs(tx, store.Identity{Kind: store.DisplayIdentity, Key: store.NameKey(identity)})
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		it := newIter(bucket(tx, bucketUsers))
		for n, uid := range ids {
			u, ok := iterUser(it, n == 0, uid)
			if !ok {
				corrupt("index names missing user %d", uid)
			}
			if id.Kind == store.SIPIdentity && u.SipAddress != "sip:"+id.Key {
				continue // the address is this user's UPN, not its SIP address
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func findIDs(tx *bolt.Tx, id store.Identity) []store.UserID {
	one := func(index string) []store.UserID {
		if uid := lookupUID(tx, index, []byte(id.Key)); uid != 0 {
			return []store.UserID{uid}
		}
		return nil
	}
	switch id.Kind {
	case store.SIPIdentity, store.AddressIdentity:
		return one(bucketAddr)
	case store.LogonIdentity:
		return one(bucketLogon)
	case store.DNIdentity:
		return one(bucketDN)
	}
	prefix := id.Key + "\x00"
	if id.Kind == store.WildcardIdentity {
		prefix = store.WildcardPrefix(id.Key)
	}
	var ids []store.UserID
	it := newIter(bucket(tx, bucketName))
	for it.seek([]byte(prefix)); it.valid && bytes.HasPrefix(it.key(), []byte(prefix)); it.next() {
		k := it.key()
		if len(k) < 9 || k[len(k)-9] != 0 {
			corrupt("bad display name index key %q", k)
		}
		if id.Kind == store.WildcardIdentity && !store.MatchWildcard(id.Key, string(k[:len(k)-9])) {
			continue
		}
		ids = append(ids, keyUID(k[len(k)-8:]))
	}
	return ids
}

// ScanUsers returns a chunk of users in ID order.
func (s *Store) ScanUsers(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.User, store.UserID, error) {
	if limit <= 0 {
		limit = 1024
	}
	out := make([]store.User, 0, min(limit, 4096))
	next, err := s.scan(ctx, q, after, limit, scanBudget(limit), false, true, func(id store.UserID, rec []byte, u *store.User, _ *store.PinInfo) {
		if u == nil {
			v := decodeUser(id, rec)
			u = &v
		}
		out = append(out, *u)
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}

// ScanPinInfos returns a chunk of PIN infos of the users selected by q, in
// ID order: ScanUsers and PinInfos in one pass, without building users.
func (s *Store) ScanPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	if limit <= 0 {
		limit = 1024
	}
	return s.AppendPinInfos(ctx, make([]store.PinInfo, 0, min(limit, 4096)), q, after, limit)
}

// AppendPinInfos is ScanPinInfos appending to dst (store.PinInfoAppender).
func (s *Store) AppendPinInfos(ctx context.Context, dst []store.PinInfo, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	if limit <= 0 {
		limit = 1024
	}
	next, err := s.scan(ctx, q, after, limit, scanBudget(limit), true, true, func(id store.UserID, rec []byte, _ *store.User, p *store.PinInfo) {
		p.Identity, p.DisplayName, p.Enabled = decodeUserHead(id, rec)
		dst = append(dst, *p)
	})
	if err != nil {
		return dst, 0, err
	}
	return dst, next, nil
}

// CountPinInfos counts a chunk of the PIN infos of the users selected by
// q (store.PinCounter): it makes none, and when only users with PIN state
// can match it walks the PIN states alone: every PIN state belongs to a
// user (checkFile finds one that does not), so it looks no user up.
func (s *Store) CountPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) (int, store.UserID, error) {
	if limit <= 0 {
		limit = 1 << 16
	}
	n := 0
	next, err := s.scan(ctx, q, after, limit, limit, false, false, func(store.UserID, []byte, *store.User, *store.PinInfo) { n++ })
	if err != nil {
		return 0, 0, err
	}
	return n, next, nil
}

// scanBudget is how many users a scan for limit users examines at most in
// one read transaction, so that a selective query does not hold one
// transaction over the whole directory.
func scanBudget(limit int) int { return max(limit*64, 1<<16) }

// pinInfoOf sets the PIN fields of p from a PIN state record (nil: none).
func pinInfoOf(p *store.PinInfo, v []byte) {
	var st store.PinState
	if v != nil {
		decodePin(v, &st)
	}
	p.IsSet, p.LockedBy, p.LastChange, p.Expires = st.IsSet, st.LockedBy, st.LastChange, st.Expires
	p.LocalFailures, p.GlobalFailures, p.TempLockUntil = st.LocalFailures, st.GlobalFailures, st.TempLockUntil
}

// scan visits, in one read transaction, up to limit users selected by q
// with ID > after, in ID order, passing each user record (valid during the
// call), the decoded user when q.Filter needed it, and, when withPins or
// q.Pin asks for it, a PinInfo with the user's PIN state (ID and PIN
// fields only; the visitor may complete and keep it). It returns the
// resume point (0: done). At most budget users are examined per call
// (scanBudget).
//
// A q.Pin that a user without PIN state cannot match (is_pin_set: true,
// is_locked_out: true, ...) is answered by walking the PIN states and
// reading the users that match: the users without a PIN are never read.
// needRec says that the visitor reads the user record; when it does not
// and q.Filter needs no user either (a count), that walk reads no user:
// every PIN state belongs to a user (checkFile), and the visitor gets
// a nil record.
func (s *Store) scan(ctx context.Context, q store.UserQuery, after store.UserID, limit, budget int, withPins, needRec bool,
	visit func(id store.UserID, rec []byte, u *store.User, p *store.PinInfo)) (store.UserID, error) {
	var ouPath string
	if q.OU != "" {
		p, err := store.OUPathKey(q.OU)
		if err != nil {
			return 0, &store.FieldError{Field: "ou", Value: q.OU, Err: store.ErrInvalid, Reason: err.Error()}
		}
		ouPath = p
	}
	pinQuery := !q.Pin.IsZero()
	withPins = withPins || pinQuery
	var next store.UserID
	kept := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var pins *blockIter
		if withPins {
			pins = newIter(bucket(tx, bucketPins))
		}
		var info store.PinInfo
		first := true // pins is not positioned yet
		// keep judges one user; ready says info already holds its PIN
		// state, else it is looked up here when needed.
		keep := func(id store.UserID, rec []byte, ready bool) bool {
			budget--
			if withPins && !ready {
				v, _ := iterGet(pins, first, uidKey(id))
				first = false
				info = store.PinInfo{ID: id}
				pinInfoOf(&info, v)
			}
			if !pinQuery || q.Pin.Match(&info) {
				var u *store.User
				if q.Filter != nil {
					v := decodeUser(id, rec)
					u = &v
				}
				if u == nil || q.Filter(*u) {
					kept++
					visit(id, rec, u, &info)
				}
			}
			if kept >= limit || budget <= 0 {
				next = id
				return false
			}
			return true
		}
		if q.OU == "" && pinQuery && !q.Pin.Match(&store.PinInfo{}) {
			// Only users with PIN state can match: walk it, and read
			// the users it selects.
			users := newIter(bucket(tx, bucketUsers))
			n := 0
			for pins.seek(uidKey(after + 1)); pins.valid; pins.next() {
				id := keyUID(pins.key())
				info = store.PinInfo{ID: id}
				pinInfoOf(&info, pins.val())
				if !q.Pin.Match(&info) {
					if budget--; budget <= 0 {
						next = id
						return nil
					}
					continue
				}
				if !needRec && q.Filter == nil {
					if !keep(id, nil, true) {
						return nil
					}
					continue
				}
				rec, ok := iterGet(users, n == 0, uidKey(id))
				n++
				if !ok {
					// PIN state without a user: damage that
					// checkFile finds; the users walk would not
					// see it either.
					budget--
					continue
				}
				if !keep(id, rec, true) {
					return nil
				}
			}
			return nil
		}
		if q.OU == "" {
			it := newIter(bucket(tx, bucketUsers))
			for it.seek(uidKey(after + 1)); it.valid; it.next() {
				if !keep(keyUID(it.key()), it.val(), false) {
					break
				}
			}
			return nil
		}
		m := newOUMerge(tx, ouPath, after)
		users := newIter(bucket(tx, bucketUsers))
		for n := 0; ; n++ {
			id, ok := m.next()
			if !ok {
				return nil
			}
			rec, ok := iterGet(users, n == 0, uidKey(id))
			if !ok {
				corrupt("OU index names missing user %d", id)
			}
			if !keep(id, rec, false) {
				return nil
			}
		}
	})
	return next, err
}

// ouMerge yields, in ID order, the users of every OU under a path: a k-way
// merge of the OUs' ix.ou lists.
type ouMerge struct {
	heads ouHeap
}

type ouHead struct {
	it     *blockIter
	prefix [4]byte
	id     store.UserID
}

type ouHeap []*ouHead

func (h ouHeap) Len() int           { return len(h) }
func (h ouHeap) Less(i, j int) bool { return h[i].id < h[j].id }
func (h ouHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ouHeap) Push(x any)        { *h = append(*h, x.(*ouHead)) }
func (h *ouHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newOUMerge(tx *bolt.Tx, path string, after store.UserID) *ouMerge {
	m := &ouMerge{}
	c := bucket(tx, bucketOUs).Cursor()
	for k, v := c.Seek([]byte(path)); k != nil && strings.HasPrefix(string(k), path); k, v = c.Next() {
		if !store.UnderOU(string(k), path) {
			continue
		}
		h := &ouHead{it: newIter(bucket(tx, bucketOU))}
		binary.BigEndian.PutUint32(h.prefix[:], uint32(valUID(v)))
		h.it.seek(appendUID(h.prefix[:], after+1))
		if h.load() {
			m.heads = append(m.heads, h)
		}
	}
	heap.Init(&m.heads)
	return m
}

// load reads the head's current user ID; false when its OU is exhausted.
func (h *ouHead) load() bool {
	if !h.it.valid || !bytes.HasPrefix(h.it.key(), h.prefix[:]) {
		return false
	}
	h.id = keyUID(h.it.key()[4:])
	return true
}

func (m *ouMerge) next() (store.UserID, bool) {
	if len(m.heads) == 0 {
		return 0, false
	}
	h := m.heads[0]
	id := h.id
	h.it.next()
	if h.load() {
		heap.Fix(&m.heads, 0)
	} else {
		heap.Pop(&m.heads)
	}
	return id, true
}
