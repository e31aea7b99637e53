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
	return appendAuditTarget(b, prev, e, prev.Target, e.Target)
}

// appendAuditTarget is appendAuditEntry with the targets of prev and e
// given apart, as strings or bytes (their Target fields are not read): a
// bulk change audits the SIP address as it lies in the user record.
func appendAuditTarget[T, U string | []byte](b []byte, prev, e *store.AuditEntry, prevTarget T, target U) []byte {
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
	pre, suf := sharedEnds(prevTarget, target)
	b = binary.AppendUvarint(b, uint64(pre))
	b = binary.AppendUvarint(b, uint64(suf))
	mid := target[pre : len(target)-suf]
	b = binary.AppendUvarint(b, uint64(len(mid)))
	b = append(b, mid...)
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
func sharedEnds[T, U string | []byte](a T, b U) (pre, suf int) {
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
	walkAuditBlock(first, v, true, fn)
}

// walkAuditBlock is decodeAuditBlock; without text it checks the strings
// of each entry but does not make them (fn sees Seq and Time only), for
// the whole-file check, which reads every entry of the log.
func walkAuditBlock(first uint64, v []byte, text bool, fn func(e *store.AuditEntry) bool) {
	r := byteReader{b: v}
	var prev store.AuditEntry
	var tns int64
	prevLen := 0 // of prev's target
	str := func(dst *string) int {
		if text {
			*dst = r.str()
			return len(*dst)
		}
		n := r.uvarint()
		if n > uint64(len(r.b)-r.pos) {
			corrupt("bad string in record")
		}
		r.pos += int(n)
		return int(n)
	}
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
			str(&e.Operator)
		}
		if m&audAction != 0 {
			str(&e.Action)
		}
		pre, suf := r.uvarint(), r.uvarint()
		if pre+suf > uint64(prevLen) {
			corrupt("bad audit entry %d", seq)
		}
		var mid string
		n := str(&mid)
		if text {
			e.Target = prev.Target[:pre] + mid + prev.Target[uint64(len(prev.Target))-suf:]
		}
		prevLen = int(pre) + n + int(suf)
		if m&audOutcome != 0 {
			str(&e.Outcome)
		}
		if m&audDetail != 0 {
			str(&e.Detail)
		}
		if m&audActedBy != 0 {
			str(&e.ActedBy)
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

// auditLog appends the entries of one write transaction to the audit log
// in that transaction. Each entry is encoded into its block as it is
// added, so a bulk change of 65,536 users holds a few bytes per entry
// rather than an AuditEntry of strings; flush writes the blocks.
type auditLog struct {
	op     store.Op
	tx     *bolt.Tx
	opened bool
	seq    uint64 // sequence of the last entry added
	buf    []byte // the blocks being written, one after another
	blocks []auditBlock
	prev   store.AuditEntry // the entry added last; its target is in target
	target []byte
}

// auditBlock is a block of auditLog.buf: its key and where it starts.
type auditBlock struct {
	key   uint64
	start int
}

// reserve makes room for n more entries of a bulk change, at a few bytes
// each, so that the blocks' buffer is not copied again and again as it
// grows.
func (l *auditLog) reserve(n int) {
	l.buf = slices.Grow(l.buf, n*auditEntryGuess)
}

// auditEntryGuess is about what an entry of a bulk change takes (5-6
// bytes for lock_pin of users with numbered addresses), with some room.
const auditEntryGuess = 8

// add records an entry of the log's operator at its time.
func (l *auditLog) add(action, target, outcome, detail string) {
	addAudit(l, l.entry(action, outcome, detail), target)
}

// addTarget is add with the target as bytes, which need live only for the
// call.
func (l *auditLog) addTarget(action string, target []byte, outcome, detail string) {
	addAudit(l, l.entry(action, outcome, detail), target)
}

func (l *auditLog) entry(action, outcome, detail string) store.AuditEntry {
	return store.AuditEntry{Time: l.op.Now, Operator: l.op.Operator, ActedBy: l.op.ActedBy, Action: action, Outcome: outcome, Detail: detail}
}

// addAudit encodes e (its Target given apart) after the entries before it.
// The first entry of a transaction continues the log's last block while
// it is below auditTarget, so auditing one change rewrites at most one
// block.
func addAudit[T string | []byte](l *auditLog, e store.AuditEntry, target T) {
	if !l.opened {
		l.opened = true
		b := bucket(l.tx, bucketAudit)
		l.seq = b.Sequence()
		if lk, lv := b.Cursor().Last(); lk != nil && len(lv) < auditTarget {
			l.blocks = append(l.blocks, auditBlock{key: binary.BigEndian.Uint64(lk)})
			decodeAuditBlock(l.blocks[0].key, lv, func(e *store.AuditEntry) bool { l.prev = *e; return true })
			l.target = append(l.target[:0], l.prev.Target...)
			l.buf = append(l.buf, lv...)
		} else {
			l.blocks = append(l.blocks, auditBlock{key: l.seq + 1})
		}
	}
	l.seq++
	if len(l.buf)-l.blocks[len(l.blocks)-1].start >= auditTarget {
		l.blocks = append(l.blocks, auditBlock{key: l.seq, start: len(l.buf)})
		l.prev, l.target = store.AuditEntry{}, l.target[:0]
	}
	l.buf = appendAuditTarget(l.buf, &l.prev, &e, l.target, target)
	l.prev = e
	l.target = append(l.target[:0], target...)
}

// flush writes the blocks of the entries added, and the log's sequence.
// The blocks are handed to bbolt as they lie in buf, which the log no
// longer changes.
func (l *auditLog) flush() error {
	if !l.opened {
		return nil
	}
	b := bucket(l.tx, bucketAudit)
	// The log only grows at its end: bbolt's default (pages split half
	// full, for inserts in the middle) would leave every audit page half
	// empty, and a bulk change would write twice the pages it needs.
	b.FillPercent = 1
	for i, blk := range l.blocks {
		end := len(l.buf)
		if i+1 < len(l.blocks) {
			end = l.blocks[i+1].start
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], blk.key)
		if err := b.Put(k[:], l.buf[blk.start:end:end]); err != nil {
			return err
		}
	}
	l.opened = false
	return b.SetSequence(l.seq)
}

// appendAudit appends entries to the audit log, assigning their sequence
// numbers.
func appendAudit(tx *bolt.Tx, entries []store.AuditEntry) error {
	l := auditLog{tx: tx}
	for i := range entries {
		e := entries[i]
		addAudit(&l, e, e.Target)
	}
	return l.flush()
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
