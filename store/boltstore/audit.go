package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
)

// The audit bucket is append-only. Its bbolt keys are the sequence number of
// the first entry of each block (8 bytes, big-endian); entry i of a block
// has sequence key+i. Within a block each entry is encoded against the one
// before it, so a bulk change (half a million lock_pin entries by one
// operator at one time) costs a few bytes per entry:
//
//	mask(1) | [time: varint ns delta] | [operator] | [action] |
//	target: uvarint shared prefix, uvarint shared suffix, middle string |
//	[outcome] | [detail] | [acted by]
//
// where a field in brackets is present only when its mask bit says it
// differs from the previous entry (detail: when not empty; acted by, from
// schema 2: when not empty).
const (
	audTime = 1 << iota
	audOperator
	audAction
	audOutcome
	audDetail
	audActedBy
)

const auditTarget = 4096

func appendAuditEntry(b []byte, prev, e *store.AuditEntry) []byte {
	var m byte
	if !e.Time.Equal(prev.Time) {
		m |= audTime
	}
	if e.Operator != prev.Operator {
		m |= audOperator
	}
	if e.Action != prev.Action {
		m |= audAction
	}
	if e.Outcome != prev.Outcome {
		m |= audOutcome
	}
	if e.Detail != "" {
		m |= audDetail
	}
	if e.ActedBy != "" {
		m |= audActedBy
	}
	b = append(b, m)
	if m&audTime != 0 {
		var pt int64
		if !prev.Time.IsZero() {
			pt = prev.Time.UnixNano()
		}
		b = binary.AppendVarint(b, e.Time.UnixNano()-pt)
	}
	if m&audOperator != 0 {
		b = appendStr(b, e.Operator)
	}
	if m&audAction != 0 {
		b = appendStr(b, e.Action)
	}
	pre, suf := sharedEnds(prev.Target, e.Target)
	b = binary.AppendUvarint(b, uint64(pre))
	b = binary.AppendUvarint(b, uint64(suf))
	b = appendStr(b, e.Target[pre:len(e.Target)-suf])
	if m&audOutcome != 0 {
		b = appendStr(b, e.Outcome)
	}
	if m&audDetail != 0 {
		b = appendStr(b, e.Detail)
	}
	if m&audActedBy != 0 {
		b = appendStr(b, e.ActedBy)
	}
	return b
}

// sharedEnds returns the lengths of the common prefix of a and b and of
// their common suffix in what follows it.
func sharedEnds(a, b string) (pre, suf int) {
	n := min(len(a), len(b))
	for pre < n && a[pre] == b[pre] {
		pre++
	}
	for suf < n-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	return pre, suf
}

// decodeAuditBlock calls fn for each entry of the block whose first entry
// has sequence first, until fn returns false.
func decodeAuditBlock(first uint64, v []byte, fn func(e *store.AuditEntry) bool) {
	r := byteReader{b: v}
	var prev store.AuditEntry
	var tns int64
	for seq := first; !r.done(); seq++ {
		m := r.byte()
		e := store.AuditEntry{Seq: seq, Time: prev.Time, Operator: prev.Operator, Action: prev.Action, Outcome: prev.Outcome}
		if m&audTime != 0 {
			d, w := binary.Varint(r.b[r.pos:])
			if w <= 0 {
				corrupt("bad audit entry %d", seq)
			}
			r.pos += w
			tns += d
			e.Time = time.Unix(0, tns).UTC()
		}
		if m&audOperator != 0 {
			e.Operator = r.str()
		}
		if m&audAction != 0 {
			e.Action = r.str()
		}
		pre, suf := r.uvarint(), r.uvarint()
		if pre+suf > uint64(len(prev.Target)) {
			corrupt("bad audit entry %d", seq)
		}
		e.Target = prev.Target[:pre] + r.str() + prev.Target[uint64(len(prev.Target))-suf:]
		if m&audOutcome != 0 {
			e.Outcome = r.str()
		}
		if m&audDetail != 0 {
			e.Detail = r.str()
		}
		if m&audActedBy != 0 {
			e.ActedBy = r.str()
		}
		if m >= audActedBy<<1 {
			corrupt("bad audit entry %d", seq)
		}
		if !fn(&e) {
			return
		}
		prev = e
	}
}

// auditLog collects the entries of one write transaction; flush appends
// them to the audit bucket in the same transaction.
type auditLog struct {
	op      store.Op
	entries []store.AuditEntry
}

func (l *auditLog) add(action, target, outcome, detail string) {
	l.entries = append(l.entries, store.AuditEntry{
		Time: l.op.Now, Operator: l.op.Operator, ActedBy: l.op.ActedBy, Action: action, Target: target, Outcome: outcome, Detail: detail,
	})
}

// grow makes room for n more entries.
func (l *auditLog) grow(n int) { l.entries = slices.Grow(l.entries, n) }

func (l *auditLog) flush(tx *bolt.Tx, a *arena) error {
	if len(l.entries) == 0 {
		return nil
	}
	err := appendAudit(tx, a, l.entries)
	l.entries = l.entries[:0]
	return err
}

// appendAudit appends entries to the audit log, assigning their sequence
// numbers. It extends the last block while it is below auditTarget, so
// appending one entry rewrites at most one block.
func appendAudit(tx *bolt.Tx, a *arena, entries []store.AuditEntry) error {
	b := bucket(tx, bucketAudit)
	seq := b.Sequence()
	var buf []byte
	var blockKey uint64
	var prev store.AuditEntry
	c := b.Cursor()
	if lk, lv := c.Last(); lk != nil && len(lv) < auditTarget {
		blockKey = binary.BigEndian.Uint64(lk)
		decodeAuditBlock(blockKey, lv, func(e *store.AuditEntry) bool { prev = *e; return true })
		buf = append(buf, lv...)
	} else {
		blockKey = seq + 1
	}
	put := func() error {
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], blockKey)
		return b.Put(k[:], a.copy(buf))
	}
	for i := range entries {
		e := &entries[i]
		seq++
		e.Seq = seq
		if len(buf) >= auditTarget {
			if err := put(); err != nil {
				return err
			}
			buf, blockKey, prev = buf[:0], seq, store.AuditEntry{}
		}
		buf = appendAuditEntry(buf, &prev, e)
		prev = *e
	}
	if err := put(); err != nil {
		return err
	}
	return b.SetSequence(seq)
}

// Audit records an event that changes nothing else.
func (s *Store) Audit(ctx context.Context, op store.Op, e store.AuditEntry) error {
	if err := op.Check(); err != nil {
		return err
	}
	if e.Action == "" {
		return fmt.Errorf("audit entry without an action: %w", store.ErrInvalid)
	}
	return s.update(ctx, op, func(tx *bolt.Tx, w *txw) error {
		w.log.add(e.Action, e.Target, e.Outcome, e.Detail)
		return nil
	})
}

// ScanAudit returns up to limit entries selected by q after afterSeq.
func (s *Store) ScanAudit(ctx context.Context, q store.AuditQuery, afterSeq uint64, limit int) ([]store.AuditEntry, uint64, error) {
	if limit <= 0 {
		limit = 1024
	}
	var out []store.AuditEntry
	var next uint64
	// Bound the entries examined per call so that a selective query does not
	// hold one read transaction over the whole log.
	budget := max(limit*64, 1<<16)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := bucket(tx, bucketAudit).Cursor()
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], afterSeq+1)
		bk, bv := blockFor(c, k[:])
		last := afterSeq
		for ; bk != nil; bk, bv = c.Next() {
			stop := false
			decodeAuditBlock(binary.BigEndian.Uint64(bk), bv, func(e *store.AuditEntry) bool {
				if e.Seq <= afterSeq {
					return true
				}
				last = e.Seq
				budget--
				if q.Match(*e) {
					out = append(out, *e)
				}
				if len(out) >= limit || budget <= 0 {
					stop = true
					return false
				}
				return true
			})
			if stop {
				// More may follow; a later call that finds nothing after
				// last returns next 0.
				next = last
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, next, nil
}
