package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// A block bucket keeps an ordered map of many small entries in few bbolt
// values ("blocks"): each bbolt key is the first key of its block, and the
// value holds up to about blockTarget bytes of entries in key order, each
// key prefix-compressed against the one before:
//
//	uvarint shared | uvarint suffixLen | suffix | uvarint valueLen | value
//
// Why: a bbolt Put costs about a microsecond and a page of overhead at
// commit, so a million users with their indexes (five million keys) would
// take seconds to write. In blocks, the same entries cost a memcpy each,
// bulk loads and bulk updates write each touched page once, and sequential
// scans decode densely packed data (user IDs compress to 1-2 bytes). Point
// reads and small updates stay cheap: one bbolt seek plus a linear decode
// of one block (a few hundred entries at most).
const blockTarget = 4096

// corruptError is the panic value of a block that does not decode; the
// transaction wrappers turn it (and bbolt's own panics) into ErrDamaged.
type corruptError struct{ msg string }

func (e corruptError) Error() string { return e.msg }

func corrupt(format string, args ...any) {
	panic(corruptError{fmt.Sprintf(format, args...)})
}

// blockReader decodes the entries of one block in order. key is rebuilt in
// a buffer owned by the reader (valid until the next call to next); val
// points into the block. Decoders copy out of val only what they return:
// a string sliced from a copy of the whole block would keep the block
// alive as long as any record made from it.
type blockReader struct {
	data []byte
	pos  int
	key  []byte
	val  []byte
}

func (r *blockReader) reset(data []byte) {
	r.data, r.pos, r.key, r.val = data, 0, r.key[:0], nil
}

// next decodes the next entry; it returns false at the end of the block.
func (r *blockReader) next() bool {
	if r.pos >= len(r.data) {
		return false
	}
	shared, n1 := binary.Uvarint(r.data[r.pos:])
	if n1 <= 0 {
		corrupt("bad block entry at %d", r.pos)
	}
	r.pos += n1
	suffix, n2 := binary.Uvarint(r.data[r.pos:])
	if n2 <= 0 || shared > uint64(len(r.key)) || suffix > uint64(len(r.data)-r.pos-n2) {
		corrupt("bad block entry key at %d", r.pos)
	}
	r.pos += n2
	r.key = append(r.key[:shared], r.data[r.pos:r.pos+int(suffix)]...)
	r.pos += int(suffix)
	vlen, n3 := binary.Uvarint(r.data[r.pos:])
	if n3 <= 0 || vlen > uint64(len(r.data)-r.pos-n3) {
		corrupt("bad block entry value at %d", r.pos)
	}
	r.pos += n3
	r.val = r.data[r.pos : r.pos+int(vlen) : r.pos+int(vlen)]
	r.pos += int(vlen)
	return true
}

// blockIter walks the entries of a block bucket in key order, across
// blocks. Keys and values are valid until the next move; values point into
// the database map and are valid only inside the transaction.
type blockIter struct {
	c     *bolt.Cursor
	r     blockReader
	bk    []byte // the bbolt key of the block r reads
	valid bool
}

// enter starts reading the block (k, v).
func (it *blockIter) enter(k, v []byte) {
	it.bk = k
	it.r.reset(v)
}

func newIter(b *bolt.Bucket) *blockIter { return &blockIter{c: b.Cursor()} }

// blockFor positions c on the block that would hold key: the last block
// whose first key is <= key, or the first block when key precedes them
// all. It returns nil when the bucket is empty.
func blockFor(c *bolt.Cursor, key []byte) (k, v []byte) {
	k, v = c.Seek(key)
	switch {
	case k == nil:
		return c.Last()
	case bytes.Equal(k, key):
		return k, v
	}
	if pk, pv := c.Prev(); pk != nil {
		return pk, pv
	}
	return c.First()
}

// seek positions the iterator on the first entry with a key >= key.
func (it *blockIter) seek(key []byte) {
	k, v := blockFor(it.c, key)
	if k == nil {
		it.valid = false
		return
	}
	it.enter(k, v)
	for {
		if !it.nextEntry() {
			return
		}
		if bytes.Compare(it.r.key, key) >= 0 {
			return
		}
	}
}

// first positions the iterator on the first entry.
func (it *blockIter) first() {
	k, v := it.c.First()
	if k == nil {
		it.valid = false
		return
	}
	it.enter(k, v)
	it.nextEntry()
}

// nextEntry moves to the next entry, crossing into the next block when the
// current one is done.
func (it *blockIter) nextEntry() bool {
	for !it.r.next() {
		k, v := it.c.Next()
		if k == nil {
			it.valid = false
			return false
		}
		it.enter(k, v)
	}
	it.valid = true
	return true
}

func (it *blockIter) next() { it.nextEntry() }

func (it *blockIter) key() []byte { return it.r.key }
func (it *blockIter) val() []byte { return it.r.val }

// advanceTo moves forward to the first entry with key >= key, given that the
// iterator is not past it. It decodes forward within the current block and
// seeks when key lies beyond it, so a run of ascending lookups costs about
// one decode per entry passed plus one seek per block.
func (it *blockIter) advanceTo(key []byte) {
	if !it.valid {
		return
	}
	stepped := false
	for bytes.Compare(it.r.key, key) < 0 {
		if it.r.next() {
			continue
		}
		// Dense runs of lookups (IDs of one chunk) continue in the next
		// block: step to it rather than seek from the root, once.
		if stepped {
			it.seek(key)
			return
		}
		stepped = true
		k, v := it.c.Next()
		if k == nil {
			it.valid = false
			return
		}
		it.enter(k, v)
		if !it.r.next() {
			corrupt("empty block %x", k)
		}
	}
}

// getBlock returns the value stored under key in a block bucket.
func getBlock(b *bolt.Bucket, key []byte) ([]byte, bool) {
	it := newIter(b)
	it.seek(key)
	if it.valid && bytes.Equal(it.key(), key) {
		return it.val(), true
	}
	return nil, false
}

// mutation is one change for applyBlocks: put val under key, or delete key.
type mutation struct {
	key []byte
	val []byte
	del bool
}

// arena hands out byte slices for block values. bbolt keeps references to
// values until the transaction commits, so every block written in a
// transaction needs memory of its own; carving them from large chunks
// saves an allocation per block.
type arena struct{ buf []byte }

func (a *arena) copy(b []byte) []byte {
	if len(b) > cap(a.buf)-len(a.buf) {
		// Small transactions get small chunks; bulk ones double up to 1 MiB.
		a.buf = make([]byte, 0, max(len(b), min(1<<20, 2*cap(a.buf)), 16<<10))
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

type kv struct{ key, val []byte }

// keyOff locates a decoded key in blockWriter.keys (k0 < 0: the key is a
// mutation's own).
type keyOff struct{ k0, k1 int }

// blockWriter applies sorted mutations to a block bucket inside a write
// transaction.
type blockWriter struct {
	b       *bolt.Bucket
	arena   *arena
	entries []kv
	offs    []keyOff
	keys    []byte // backing store of decoded keys of the block being merged
	enc     []byte
}

func newBlockWriter(b *bolt.Bucket, a *arena) *blockWriter {
	return &blockWriter{b: b, arena: a}
}

// apply makes the changes of muts, which must be sorted by key with no key
// twice. Deleting a missing key is not an error. It rewrites only the
// blocks that hold changed keys; blocks that outgrow blockTarget split
// evenly, empty blocks are deleted.
func (w *blockWriter) apply(muts []mutation) error {
	for i := 0; i < len(muts); {
		c := w.b.Cursor()
		bk, bv := blockFor(c, muts[i].key)
		var next []byte
		if bk != nil {
			bk = bytes.Clone(bk)
			if nk, _ := c.Next(); nk != nil {
				next = bytes.Clone(nk)
			}
		}
		j := i + 1
		if next == nil {
			j = len(muts)
		} else {
			for j < len(muts) && bytes.Compare(muts[j].key, next) < 0 {
				j++
			}
		}
		if err := w.rewrite(bk, bv, muts[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// rewrite merges muts into the block (bk, bv) (nil: the bucket is empty)
// and writes the result back.
func (w *blockWriter) rewrite(bk, bv []byte, muts []mutation) error {
	if cap(w.entries) < len(muts)+256 {
		w.entries = make([]kv, 0, len(muts)+256)
		w.offs = make([]keyOff, 0, len(muts)+256)
	}
	w.entries, w.offs, w.keys = w.entries[:0], w.offs[:0], w.keys[:0]
	offs := w.offs
	changed := false
	var r blockReader
	r.reset(bv)
	have := r.next()
	// Decoded keys live in w.keys; record offsets first, since appending may
	// move the buffer, and turn them into slices afterwards.
	type off = keyOff
	add := func(k, v []byte, fromBlock bool) {
		if fromBlock {
			n := len(w.keys)
			w.keys = append(w.keys, k...)
			offs = append(offs, off{n, len(w.keys)})
			w.entries = append(w.entries, kv{nil, v})
			return
		}
		offs = append(offs, off{-1, -1})
		w.entries = append(w.entries, kv{k, v})
	}
	m := 0
	// Appends (bulk loads of ascending keys): copy the block, then the
	// mutations, without comparing each pair.
	if allPuts(muts) && bytes.Compare(muts[0].key, lastKeyOf(bv)) > 0 {
		for ; have; have = r.next() {
			add(r.key, r.val, true)
		}
		for _, mu := range muts {
			w.entries = append(w.entries, kv{mu.key, mu.val})
		}
		m, changed = len(muts), true
	}
	for have || m < len(muts) {
		var cmp int
		switch {
		case !have:
			cmp = 1
		case m == len(muts):
			cmp = -1
		default:
			cmp = bytes.Compare(r.key, muts[m].key)
		}
		switch {
		case cmp < 0:
			add(r.key, r.val, true)
			have = r.next()
		case cmp > 0:
			if !muts[m].del {
				add(muts[m].key, muts[m].val, false)
				changed = true
			}
			m++
		default:
			if muts[m].del {
				changed = true
			} else {
				if !bytes.Equal(r.val, muts[m].val) {
					changed = true
				}
				add(muts[m].key, muts[m].val, false)
			}
			m++
			have = r.next()
		}
	}
	w.offs = offs
	if !changed {
		return nil
	}
	// Entries past len(offs) came from the append path and own their keys.
	for i, o := range offs {
		if o.k0 >= 0 {
			w.entries[i].key = w.keys[o.k0:o.k1:o.k1]
		}
	}
	return w.writeBlocks(bk, w.entries)
}

// writeBlocks stores entries as the replacement of block bk (nil: none),
// split into blocks of about equal size near blockTarget.
func (w *blockWriter) writeBlocks(bk []byte, entries []kv) error {
	if len(entries) == 0 {
		if bk != nil {
			return w.b.Delete(bk)
		}
		return nil
	}
	// Size the blocks on the entries as encoded (keys prefix-compressed),
	// and round the number of blocks to the nearest: sized on whole keys,
	// or rounded up, a block filled to blockTarget came out of its next
	// rewrite as two half blocks.
	total := 0
	var prev []byte
	for _, e := range entries {
		shared := commonPrefix(prev, e.key)
		total += uvarintLen(shared) + uvarintLen(len(e.key)-shared) + len(e.key) - shared + uvarintLen(len(e.val)) + len(e.val)
		prev = e.key
	}
	nblocks := max(1, (total+blockTarget/2)/blockTarget)
	goal := total / nblocks
	if bk != nil && !bytes.Equal(bk, entries[0].key) {
		if err := w.b.Delete(bk); err != nil {
			return err
		}
	}
	start := 0
	for start < len(entries) {
		enc := w.enc[:0]
		var prev []byte
		end := start
		for end < len(entries) && (end == start || len(enc) < goal) {
			e := entries[end]
			shared := commonPrefix(prev, e.key)
			enc = binary.AppendUvarint(enc, uint64(shared))
			enc = binary.AppendUvarint(enc, uint64(len(e.key)-shared))
			enc = append(enc, e.key[shared:]...)
			enc = binary.AppendUvarint(enc, uint64(len(e.val)))
			enc = append(enc, e.val...)
			prev = e.key
			end++
		}
		// Keep a tiny tail in the last block rather than writing a block
		// of a few entries.
		if len(entries)-end <= 4 && end < len(entries) {
			for _, e := range entries[end:] {
				shared := commonPrefix(prev, e.key)
				enc = binary.AppendUvarint(enc, uint64(shared))
				enc = binary.AppendUvarint(enc, uint64(len(e.key)-shared))
				enc = append(enc, e.key[shared:]...)
				enc = binary.AppendUvarint(enc, uint64(len(e.val)))
				enc = append(enc, e.val...)
				prev = e.key
			}
			end = len(entries)
		}
		w.enc = enc
		if err := w.b.Put(entries[start].key, w.arena.copy(enc)); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// lastKeyOf returns the last key of a block (nil for none).
func lastKeyOf(block []byte) []byte {
	var r blockReader
	r.reset(block)
	var last []byte
	for r.next() {
		last = r.key
	}
	return last
}

func allPuts(muts []mutation) bool {
	for i := range muts {
		if muts[i].del {
			return false
		}
	}
	return true
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// blockPatcher changes entries of a block bucket visited in ascending key
// order (get, then set) inside a write transaction, and stores the changes
// at flush. A new value as long as the old one is written over it in a
// copy of its block, which is stored whole: a bulk lock flips one flag
// byte per user, so its blocks are copied and patched rather than decoded
// and encoded again, and they keep their size. Any other change (a value
// of another length, a key not stored yet) goes through blockWriter.apply
// after the patched blocks are stored, so it merges into them. Nothing
// else may write to the bucket between the first get and flush.
type blockPatcher struct {
	w       *blockWriter
	it      *blockIter
	started bool
	block   []byte      // the stored block that edits patch
	bkey    []byte      // its bbolt key
	edits   []blockEdit // same-length changes of block
	vals    []byte      // their values
	puts    []kv        // patched blocks, stored at flush
	muts    []mutation  // other changes, applied at flush
	buf     []byte      // keys and values of muts
}

// blockEdit is a new value for the bytes at off of blockPatcher.block;
// the value is vals[v0:v1].
type blockEdit struct{ off, v0, v1 int }

func newBlockPatcher(w *blockWriter) *blockPatcher {
	return &blockPatcher{w: w, it: newIter(w.b)}
}

// get returns the value stored under key, which must sort after every key
// given before; the value is valid until the next get.
func (p *blockPatcher) get(key []byte) ([]byte, bool) {
	if !p.started {
		p.started = true
		p.it.seek(key)
	} else {
		p.it.advanceTo(key)
	}
	if p.it.valid && bytes.Equal(p.it.key(), key) {
		return p.it.val(), true
	}
	return nil, false
}

// set makes val the value of key, the key of the last get (found says
// whether it found it). val is copied.
func (p *blockPatcher) set(key, val []byte, found bool) {
	if !found || len(val) != len(p.it.val()) {
		if cap(p.buf)-len(p.buf) < len(key)+len(val) {
			p.buf = make([]byte, 0, max(len(key)+len(val), 1<<16))
		}
		n := len(p.buf)
		p.buf = append(append(p.buf, key...), val...)
		k := p.buf[n : n+len(key) : n+len(key)]
		p.muts = append(p.muts, mutation{key: k, val: p.buf[n+len(key) : len(p.buf) : len(p.buf)]})
		return
	}
	if b := p.it.r.data; len(p.block) == 0 || &p.block[0] != &b[0] {
		p.finishBlock()
		p.block, p.bkey = b, p.it.bk
	}
	v0 := len(p.vals)
	p.vals = append(p.vals, val...)
	p.edits = append(p.edits, blockEdit{off: p.it.r.pos - len(val), v0: v0, v1: len(p.vals)})
}

// finishBlock makes the patched copy of block.
func (p *blockPatcher) finishBlock() {
	if len(p.edits) == 0 {
		return
	}
	b := p.w.arena.copy(p.block)
	for _, e := range p.edits {
		copy(b[e.off:], p.vals[e.v0:e.v1])
	}
	p.puts = append(p.puts, kv{key: bytes.Clone(p.bkey), val: b})
	p.edits, p.vals = p.edits[:0], p.vals[:0]
}

// flush stores the changes.
func (p *blockPatcher) flush() error {
	p.finishBlock()
	for _, x := range p.puts {
		if err := p.w.b.Put(x.key, x.val); err != nil {
			return err
		}
	}
	return p.w.apply(p.muts)
}
