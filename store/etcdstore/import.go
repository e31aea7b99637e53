package etcdstore

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/pinsh/pinsh/store"
)

// importBatch is how many rows one ImportUsers transaction adds: each
// costs at most 7 writes (record, two addresses, logon, DN, display name,
// tag)
// and 4 compares (its unique keys), so 16 rows, the ID counter, the audit
// block and their tag policies stay within etcd's 128 of each.
const importBatch = 16

// importRow is a normalized row waiting for its batch.
type importRow struct {
	line int
	user store.User
	ix   userIndex
}

// ImportUsers adds users in transactions of importBatch rows, each with
// the rows' audit entries. A row repeating a unique value of a user already
// stored (also by another host, read and compared in the row's
// transaction) or of an earlier row of its batch is refused with
// store.ErrDuplicate; rows of earlier batches are stored by then, so a
// repeat of one is refused as "already used".
func (s *Store) ImportUsers(ctx context.Context, op store.Op, rows iter.Seq[store.ImportRow], progress func(imported int)) (store.ImportReport, error) {
	var rep store.ImportReport
	if err := s.check(op); err != nil {
		return rep, err
	}
	batch := make([]importRow, 0, importBatch)
	flush := func() error {
		n, bad, err := s.importBatch(ctx, op, batch)
		batch = batch[:0]
		if err != nil {
			return err
		}
		rep.Imported += n
		for _, e := range bad {
			rep.AddBad(e)
		}
		if progress != nil {
			progress(rep.Imported)
		}
		return nil
	}
	for r := range rows {
		if r.Err != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: r.Err})
			continue
		}
		u, err := store.NormalizeUser(r.User)
		if err != nil {
			rep.AddBad(store.RowError{Line: r.Line, Err: err})
			continue
		}
		batch = append(batch, importRow{line: r.Line, user: u, ix: s.indexOf(&u)})
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				rep.Sort()
				return rep, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			rep.Sort()
			return rep, err
		}
	}
	rep.Sort()
	return rep, nil
}

// importBatch commits the good rows of one batch and returns how many it
// added and the rows it refused.
func (s *Store) importBatch(ctx context.Context, op store.Op, rows []importRow) (int, []store.RowError, error) {
	seqKey, auditKey := s.key(keyUserSeq), s.key(keyAuditSeq)
	keys := []string{seqKey, auditKey}
	checks := make([]func(map[string]*mvccpb.KeyValue) error, len(rows))
	for i := range rows {
		var pk string
		pk, checks[i] = s.policyCheck(&rows[i].user)
		keys = append(append(keys, pk), rows[i].ix.keys()...)
	}
	bad := make([]error, len(rows))
	added := 0
	_, err := s.kv.update(ctx, dedupe(keys), func(cur map[string]*mvccpb.KeyValue, t *txn) error {
		clear(bad)
		added = 0
		last, err := parseSeq(cur[seqKey])
		if err != nil {
			return err
		}
		taken := map[string]int{} // unique key -> line of the batch's row holding it
		w := writes{}
		var entries []store.AuditEntry
		for i := range rows {
			r := &rows[i]
			if bad[i] = checks[i](cur); bad[i] != nil {
				continue
			}
			if bad[i] = checkUnique(cur, r.ix, 0); bad[i] != nil {
				continue
			}
			for _, k := range r.ix.unique {
				if line, ok := taken[k.key]; ok {
					bad[i] = &store.FieldError{Field: k.field, Value: k.value, Err: store.ErrDuplicate,
						Reason: fmt.Sprintf("also on line %d", line)}
					break
				}
			}
			if bad[i] != nil {
				continue
			}
			for _, k := range r.ix.unique {
				taken[k.key] = r.line
			}
			last++
			added++
			u := r.user
			u.ID = store.UserID(last)
			if err := w.addUser(s, &u, s.indexOf(&u)); err != nil {
				return err
			}
			entries = append(entries, store.AuditEntry{Action: "import_users", Target: u.SipAddress, Outcome: "ok"})
		}
		if added == 0 {
			return nil
		}
		w[seqKey] = []byte(strconv.FormatUint(last, 10))
		if err := w.apply(t); err != nil {
			return err
		}
		return s.addAudit(cur[auditKey], t, op, entries...)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("etcd directory %s: import users (lines %d-%d): %w", s.name, rows[0].line, rows[len(rows)-1].line, err)
	}
	var refused []store.RowError
	for i, e := range bad {
		if e != nil {
			refused = append(refused, store.RowError{Line: rows[i].line, Err: s.fieldError(ctx, e)})
		}
	}
	return added, refused, nil
}
