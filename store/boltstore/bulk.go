package boltstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// importBatch is the number of rows per write transaction of a bulk load.
// Large batches amortize the rewrite of index blocks that random-order
// input touches; 64Ki rows hold about 30 MB while they wait.
const importBatch = 1 << 16

// loadRow is one row of a bulk load, normalized by the reading stage.
type loadRow struct {
	line  int
	user  store.User
	pin   string
	state *store.PinState // nil: no PIN state
	keys  userKeys
}

type loadBatch struct {
	rows []loadRow
}

// ImportUsers adds users in bulk.
func (s *Store) ImportUsers(ctx context.Context, op store.Op, rows iter.Seq[store.ImportRow], progress func(int)) (store.ImportReport, error) {
	return s.load(ctx, op, "import_users", func(yield func(*store.LoadRow, error) bool) {
		var lr store.LoadRow
		for r := range rows {
			lr.Line, lr.User = r.Line, r.User
			if !yield(&lr, r.Err) {
				return
			}
		}
	}, progress)
}

// LoadUsers adds users with PIN states in bulk.
func (s *Store) LoadUsers(ctx context.Context, op store.Op, rows iter.Seq[store.LoadRow], progress func(int)) (store.ImportReport, error) {
	return s.load(ctx, op, "load_users", func(yield func(*store.LoadRow, error) bool) {
		for r := range rows {
			if !yield(&r, nil) {
				return
			}
		}
	}, progress)
}

// load runs a bulk load as a two-stage pipeline: this goroutine pulls rows
// (the parser runs here), normalizes them and computes their index keys; a
// writer goroutine sorts each batch's keys, checks them against the
// database and commits the batch. The work is split so that both stages
// take about as long for a CSV import. The stages overlap, so on two cores parsing hides most of the
// writing.
func (s *Store) load(ctx context.Context, op store.Op, action string, rows iter.Seq2[*store.LoadRow, error], progress func(int)) (store.ImportReport, error) {
	var rep store.ImportReport
	if err := op.Check(); err != nil {
		return rep, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *loadBatch, 1)
	var (
		wg       sync.WaitGroup
		writeErr error
		imported int
		badW     store.ImportReport
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		lw := &loadWriter{s: s, op: op, action: action, hashes: map[string][]byte{}}
		for b := range batches {
			if writeErr != nil {
				continue // drain
			}
			n, bad, err := lw.write(ctx, b)
			for _, e := range bad {
				badW.AddBad(e)
			}
			if err != nil {
				writeErr = err
				cancel(err)
				continue
			}
			imported += n
			if progress != nil {
				progress(imported)
			}
		}
	}()

	cur := &loadBatch{rows: make([]loadRow, 0, importBatch)}
	n := 0
	for r, rerr := range rows {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			break
		}
		if rerr != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: rerr})
			continue
		}
		// Normalize in place in the batch: users are big, copies add up.
		cur.rows = append(cur.rows, loadRow{line: r.Line, user: r.User, pin: r.Pin})
		lr := &cur.rows[len(cur.rows)-1]
		if err := lr.user.Normalize(); err != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: err})
			cur.rows = cur.rows[:len(cur.rows)-1]
			continue
		}
		if r.Pin != "" || !zeroState(&r.State) {
			if r.Pin == "" && r.State.IsSet && r.State.Hash == nil {
				rep.AddBad(store.RowError{Line: r.Line, Err: fmt.Errorf("%s: a PIN state marked set needs a PIN or a hash: %w", lr.user.SipAddress, store.ErrInvalid)})
				cur.rows = cur.rows[:len(cur.rows)-1]
				continue
			}
			st := r.State
			lr.state = &st
		}
		lr.keys = keysOf(&lr.user)
		if len(cur.rows) == importBatch {
			batches <- cur
			cur = &loadBatch{rows: make([]loadRow, 0, importBatch)}
		}
	}
	if len(cur.rows) > 0 {
		batches <- cur
	}
	close(batches)
	wg.Wait()
	badW.Imported = imported
	rep.Merge(badW)
	if writeErr != nil {
		return rep, writeErr
	}
	if err := context.Cause(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// loadWriter is the writing stage of a bulk load.
type loadWriter struct {
	s      *Store
	op     store.Op
	action string
	hashes map[string][]byte // PIN -> its one shared hash (LoadRow.Pin)
	key    *pinhash.Key
	// given: a row carried its own hashes (a copied directory), which
	// must be made with the database's key, as hashes made here are.
	given bool
}

// ent is one index key of a row of a batch.
type ent struct {
	key []byte
	row int32
}

func sortEnts(e []ent) {
	slices.SortFunc(e, func(a, b ent) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.row, b.row)
	})
}

// write commits one batch and returns the number of users added and the
// rows refused.
func (lw *loadWriter) write(ctx context.Context, b *loadBatch) (int, []store.RowError, error) {
	rows := b.rows
	if err := lw.hashPins(ctx, rows); err != nil {
		return 0, nil, err
	}
	// Outside the transaction: gather and sort the index keys.
	addr := make([]ent, 0, len(rows)+len(rows)/8)
	logon := make([]ent, 0, len(rows))
	dn := make([]ent, 0, len(rows))
	name := make([]ent, 0, len(rows))
	for i := range rows {
		k := &rows[i].keys
		for _, a := range k.addr {
			addr = append(addr, ent{a, int32(i)})
		}
		logon = append(logon, ent{k.logon, int32(i)})
		if k.dn != nil {
			dn = append(dn, ent{k.dn, int32(i)})
		}
		if len(k.name) > 0 {
			name = append(name, ent{k.name, int32(i)})
		}
	}
	for _, e := range [][]ent{addr, logon, dn, name} {
		sortEnts(e)
	}
	bad := make([]error, len(rows))
	var refused []store.RowError
	added := 0
	err := lw.s.update(ctx, lw.op, func(tx *bolt.Tx, w *txw) error {
		for _, name := range []string{bucketUsers, bucketPins, bucketHashes, bucketAddr, bucketLogon, bucketDN, bucketName, bucketOU} {
			bucket(tx, name).FillPercent = 1.0
		}
		clear(bad)
		refused, added = refused[:0], 0
		// Rows that clash with users already stored.
		fields := [...]struct {
			index string
			ents  []ent
		}{{bucketAddr, addr}, {bucketLogon, logon}, {bucketDN, dn}}
		for _, f := range fields {
			dbClashes(tx, f.index, f.ents, rows, bad)
		}
		policies := map[string]bool{}
		for i := range rows {
			if p := rows[i].user.PinPolicy; p != "" && bad[i] == nil {
				key := store.TagPolicyKey(p)
				ok, seen := policies[key]
				if !seen {
					ok = bucket(tx, bucketPolicies).Get([]byte(key)) != nil
					policies[key] = ok
				}
				if !ok {
					bad[i] = checkPolicyGranted(tx, &rows[i].user)
				}
			}
		}
		// Rows that clash with each other: the first good row keeps a key.
		batchClashes(rows, bad, addr, logon, dn)

		users := bucket(tx, bucketUsers)
		seq := users.Sequence()
		uids := make([]store.UserID, len(rows))
		for i := range rows {
			if bad[i] != nil {
				refused = append(refused, store.RowError{Line: rows[i].line, Err: bad[i]})
				continue
			}
			seq++
			uids[i] = store.UserID(seq)
			added++
		}
		if err := users.SetSequence(seq); err != nil {
			return err
		}
		if added == 0 {
			return nil
		}
		if err := lw.writeRows(tx, w, rows, uids); err != nil {
			return err
		}
		for _, f := range []struct {
			index string
			ents  []ent
			uniq  bool
		}{{bucketAddr, addr, true}, {bucketLogon, logon, true}, {bucketDN, dn, true}, {bucketName, name, false}} {
			ms := make([]mutation, 0, len(f.ents))
			buf := make([]byte, 0, len(f.ents)*4)
			if !f.uniq {
				n := 0
				for _, e := range f.ents {
					n += len(e.key) + 9
				}
				buf = make([]byte, 0, n)
			}
			for _, e := range f.ents {
				id := uids[e.row]
				if id == 0 {
					continue
				}
				n := len(buf)
				if f.uniq {
					buf = binary.AppendUvarint(buf, uint64(id))
					ms = append(ms, mutation{key: e.key, val: buf[n:len(buf):len(buf)]})
				} else {
					buf = append(append(buf, e.key...), 0)
					buf = appendUID(buf, id)
					ms = append(ms, mutation{key: buf[n:len(buf):len(buf)]})
				}
			}
			if err := w.blocks(f.index).apply(ms); err != nil {
				return err
			}
		}
		if err := lw.writeOUs(tx, w, rows, uids); err != nil {
			return err
		}
		for i := range rows {
			if uids[i] != 0 {
				w.log.add(lw.action, rows[i].user.SipAddress, "ok", "")
			}
		}
		if lw.key != nil && (len(lw.hashes) > 0 || lw.given) {
			return recordKeyID(tx, *lw.key)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return added, refused, nil
}

// writeRows stores the user records and PIN states of the good rows.
func (lw *loadWriter) writeRows(tx *bolt.Tx, w *txw, rows []loadRow, uids []store.UserID) error {
	var um, pm, hm []mutation
	buf := make([]byte, 0, len(rows)*160)
	for i := range rows {
		id := uids[i]
		if id == 0 {
			continue
		}
		r := &rows[i]
		// Each record is carved from buf; a full buf is replaced, never
		// grown in place, since earlier records point into it.
		if cap(buf)-len(buf) < 1024 {
			buf = make([]byte, 0, max(cap(buf), 1<<16))
		}
		n := len(buf)
		buf = encodeUser(buf, &r.user)
		k := uidKey(id)
		um = append(um, mutation{key: k, val: buf[n:len(buf):len(buf)]})
		if r.state == nil {
			continue
		}
		st := *r.state
		if r.pin != "" {
			st.IsSet, st.Length, st.Hash = true, len(r.pin), lw.hashes[r.pin]
		}
		n = len(buf)
		buf = encodePin(buf, &st)
		pm = append(pm, mutation{key: k, val: buf[n:len(buf):len(buf)]})
		if st.Hash != nil || len(st.History) > 0 {
			hm = append(hm, mutation{key: k, val: encodeHashes(nil, st.Hash, st.History)})
		}
	}
	for _, x := range []struct {
		name string
		ms   []mutation
	}{{bucketUsers, um}, {bucketPins, pm}, {bucketHashes, hm}} {
		if err := w.blocks(x.name).apply(x.ms); err != nil {
			return err
		}
	}
	return nil
}

// writeOUs adds the good rows to the ix.ou lists of their OUs.
func (lw *loadWriter) writeOUs(tx *bolt.Tx, w *txw, rows []loadRow, uids []store.UserID) error {
	ids := map[string]uint32{}
	ms := make([]mutation, 0, len(rows))
	buf := make([]byte, 0, 12*len(rows))
	for i := range rows {
		p := rows[i].keys.ouPath
		if uids[i] == 0 || len(p) == 0 {
			continue
		}
		ou, ok := ids[string(p)]
		if !ok {
			var err error
			if ou, err = ouID(tx, string(p), true); err != nil {
				return err
			}
			ids[string(p)] = ou
		}
		n := len(buf)
		buf = binary.BigEndian.AppendUint32(buf, ou)
		buf = appendUID(buf, uids[i])
		ms = append(ms, mutation{key: buf[n:len(buf):len(buf)]})
	}
	slices.SortFunc(ms, func(a, b mutation) int { return bytes.Compare(a.key, b.key) })
	return w.blocks(bucketOU).apply(ms)
}

// dbClashes marks rows whose key in a unique index belongs to a stored
// user. ents are sorted; a merge walk costs one pass over the part of the
// index they span, and nothing when they all sort after it (appends).
func dbClashes(tx *bolt.Tx, index string, ents []ent, rows []loadRow, bad []error) {
	if len(ents) == 0 {
		return
	}
	b := bucket(tx, index)
	if last := lastKey(b); last == nil || bytes.Compare(ents[0].key, last) > 0 {
		return
	}
	it := newIter(b)
	for n, e := range ents {
		k := e.key
		if n == 0 {
			it.seek(k)
		} else {
			it.advanceTo(k)
		}
		if !it.valid {
			return
		}
		if !bytes.Equal(it.key(), k) || bad[e.row] != nil {
			continue
		}
		other := valUID(it.val())
		u := &rows[e.row].user
		who := fmt.Sprintf("user %d", other)
		if ou, ok := loadUser(tx, other); ok {
			who = ou.SipAddress
		}
		field, value := clashField(index, u, e.key)
		bad[e.row] = &store.FieldError{Field: field, Value: value, Err: store.ErrDuplicate, Reason: "already used by " + who}
	}
}

// clashField names the field of u that produced key in index.
func clashField(index string, u *store.User, key []byte) (field, value string) {
	switch index {
	case bucketAddr:
		if string(key) == u.SipAddress[len("sip:"):] {
			return "sip_address", u.SipAddress
		}
		return "user_principal_name", u.UserPrincipalName
	case bucketLogon:
		return "sam_account_name", u.Domain + `\` + u.SamAccountName
	}
	return "distinguished_name", u.DistinguishedName
}

// lastKey returns the greatest key of a block bucket (nil when empty).
func lastKey(b *bolt.Bucket) []byte {
	_, v := b.Cursor().Last()
	return lastKeyOf(v)
}

// batchClashes marks rows that repeat a unique key of an earlier good row
// of the batch. Only rows sharing a key with another row are looked at, in
// line order, so that a row refused for another reason never blocks a
// later one.
func batchClashes(rows []loadRow, bad []error, indexes ...[]ent) {
	involved := map[int32]bool{}
	for _, ents := range indexes {
		for i := 1; i < len(ents); i++ {
			if bytes.Equal(ents[i].key, ents[i-1].key) {
				involved[ents[i].row] = true
				involved[ents[i-1].row] = true
			}
		}
	}
	if len(involved) == 0 {
		return
	}
	order := make([]int32, 0, len(involved))
	for r := range involved {
		order = append(order, r)
	}
	slices.Sort(order)
	type owner struct{ line int }
	taken := map[string]owner{}
	for _, r := range order {
		if bad[r] != nil {
			continue
		}
		u := &rows[r].user
		k := &rows[r].keys
		type ik struct {
			index string
			key   []byte
		}
		var keys []ik
		for _, a := range k.addr {
			keys = append(keys, ik{bucketAddr, a})
		}
		keys = append(keys, ik{bucketLogon, k.logon})
		if k.dn != nil {
			keys = append(keys, ik{bucketDN, k.dn})
		}
		for _, x := range keys {
			if o, ok := taken[x.index+"\x00"+string(x.key)]; ok {
				field, value := clashField(x.index, u, x.key)
				bad[r] = &store.FieldError{Field: field, Value: value, Err: store.ErrDuplicate,
					Reason: fmt.Sprintf("also on line %d", o.line)}
				break
			}
		}
		if bad[r] == nil {
			for _, x := range keys {
				taken[x.index+"\x00"+string(x.key)] = owner{rows[r].line}
			}
		}
	}
}

// hashPins hashes, in parallel and outside any transaction, the distinct
// PINs of the batch that have no hash yet. A batch with hashes of its own
// (LoadRow.State.Hash) needs the key too: its id is recorded with them.
func (lw *loadWriter) hashPins(ctx context.Context, rows []loadRow) error {
	var todo []string
	for i := range rows {
		if p := rows[i].pin; p != "" {
			if _, ok := lw.hashes[p]; !ok {
				lw.hashes[p] = nil
				todo = append(todo, p)
			}
		}
		if st := rows[i].state; st != nil && (st.Hash != nil || len(st.History) > 0) {
			lw.given = true
		}
	}
	if len(todo) == 0 && !lw.given {
		return nil
	}
	if lw.key == nil {
		k, err := lw.s.hashKey(ctx)
		if err != nil {
			return err
		}
		lw.key = &k
	}
	if len(todo) == 0 {
		return nil
	}
	sums, err := parallelHash(ctx, *lw.key, lw.s.opts.HashParams, lw.s.opts.HashWorkers, todo)
	if err != nil {
		return err
	}
	for i, p := range todo {
		lw.hashes[p] = sums[i]
	}
	return nil
}

// parallelHash hashes pins with workers goroutines.
func parallelHash(ctx context.Context, k pinhash.Key, p pinhash.Params, workers int, pins []string) ([][]byte, error) {
	out := make([][]byte, len(pins))
	errs := make([]error, len(pins))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range min(workers, len(pins)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(pins) || ctx.Err() != nil {
					return
				}
				out[j], errs[j] = pinhash.Hash(k, p, pins[j], nil)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("hash PIN: %w", err)
		}
	}
	return out, nil
}

func zeroState(st *store.PinState) bool {
	return !st.IsSet && st.LockedBy == store.NotLocked && st.LastChange.IsZero() && st.Expires.IsZero() &&
		st.Length == 0 && st.Hash == nil && len(st.History) == 0 && st.LocalFailures == 0 &&
		st.GlobalFailures == 0 && st.WindowStart.IsZero() && st.TempLockUntil.IsZero()
}
