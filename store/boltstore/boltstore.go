// Package boltstore is the bbolt backend of store.Store: one database file,
// opened by one process at a time.
//
// # Layout
//
// Buckets (schema version 1):
//
//	meta        magic, schema version, creation time, PIN key id
//	users       block bucket: user ID (8 bytes BE) -> user record
//	pins        block bucket: user ID -> PIN state (no hashes)
//	hashes      block bucket: user ID -> current hash + history
//	ix.addr     block bucket: lower(SIP address without "sip:") and
//	            lower(UPN) -> user ID; one namespace, so that "name@domain"
//	            names one user (a UPN may not equal another user's SIP
//	            address)
//	ix.logon    block bucket: lower(domain\logon) -> user ID
//	ix.dn       block bucket: normalized DN -> user ID
//	ix.name     block bucket: lower(display name) 0x00 user ID -> ""
//	ix.ou       block bucket: OU id (4 bytes) user ID -> ""
//	ous         OU path (root first, see store.OUPathKey) -> OU id
//	policies    lower(identity) -> policy
//	roles       lower(identity) -> role (identity, template, members)
//	audit       first sequence number of a block -> audit entries
//
// Block buckets (blocks.go) pack many small entries into each bbolt value,
// prefix-compressed. A bbolt Put costs about a microsecond plus page
// overhead at commit, so a million users with their four indexes would
// take seconds to write key by key; in blocks a bulk load or a bulk lock
// writes each touched page once and scans decode dense data.
//
// Lookups: every identity form is one index seek; the display-name
// wildcard "Pil*" is a range scan of ix.name, and "* Smith" scans ix.name's
// keys only (about 40 ms for a million names; a reversed-name index would
// cost the import more than it saves). Listing an OU reads the OU ids under
// it from "ous" (a prefix scan) and merges their ix.ou lists, so it costs
// the size of the OU, not of the directory, and still yields users in ID
// order.
//
// PIN state is kept apart from users, and hashes apart from the state, so
// that lock and unlock rewrite about 15 bytes per user. The expiry of a PIN
// is fixed when it is set (now + the effective policy's lifetime); later
// policy changes do not move it.
//
// The audit log has one entry per change, bulk changes included; entries
// are encoded against the previous one in their block, so half a million
// lock_pin entries take a few bytes each.
//
// # Transactions
//
// Every method opens its own transaction and closes it before returning, so
// no transaction is ever open while the caller runs; a writer in the same
// goroutine therefore never waits for a reader to let bbolt grow the file.
// CPU-heavy work (argon2) runs outside write transactions, in parallel.
// Bulk loads (ImportUsers, LoadUsers) commit batches of 65,536 rows, parsing
// the next batch while the current one is written.
//
// # Opening
//
// New files get mode 0600 (a new directory 0700). Open waits
// Options.LockTimeout (2 s) for another process, then fails with
// store.ErrBusy. An existing file is first opened read-only and checked
// (magic, schema version, buckets, first blocks), so that a foreign file,
// a newer schema or a damaged file is refused without being changed; bbolt
// panics and memory faults on damaged pages become store.ErrDamaged, in
// Open and in every later call. Older schemas run the migrations of
// schemaMigrations in the opening write transaction.
//
// # PIN key
//
// PIN hashes are keyed with the key file of Options.KeyFile (see
// store/pinhash). It is read, or created when the database holds no hash
// yet, on the first call that hashes or verifies a PIN; its id is stored in
// meta, and a missing, unreadable, loose (group/other permissions) or
// different key file fails those calls with store.ErrKey and a message
// saying what to do. Everything else works without it.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
)

// Bucket names.
const (
	bucketMeta     = "meta"
	bucketUsers    = "users"
	bucketPins     = "pins"
	bucketHashes   = "hashes"
	bucketAddr     = "ix.addr"
	bucketLogon    = "ix.logon"
	bucketDN       = "ix.dn"
	bucketName     = "ix.name"
	bucketOU       = "ix.ou"
	bucketOUs      = "ous"
	bucketPolicies = "policies"
	bucketRoles    = "roles"
	bucketAudit    = "audit"
)

func allBuckets() []string {
	return []string{bucketMeta, bucketUsers, bucketPins, bucketHashes, bucketAddr, bucketLogon, bucketDN,
		bucketName, bucketOU, bucketOUs, bucketPolicies, bucketRoles, bucketAudit}
}

// Meta keys.
const (
	metaMagic   = "magic"
	metaSchema  = "schema"
	metaCreated = "created"
	metaKeyID   = "keyid"
	magic       = "pinsh database"
)

// SchemaVersion is the schema version this code writes.
const SchemaVersion = 1

// migration upgrades a database from one schema version to the next, inside
// the write transaction that also records the new version.
type migration func(tx *bolt.Tx) error

// schemaMigrations returns the migrations: entry i upgrades version i+1 to
// i+2, so the newest version is 1+len(migrations). Version 1 is the first.
func schemaMigrations() []migration { return nil }

// Options configure Open.
type Options struct {
	// KeyFile is the PIN key file (see store/pinhash); default
	// pinhash.DefaultKeyFile(). It is read, or created when the database
	// holds no PIN hash yet, the first time a PIN is hashed or verified.
	KeyFile string
	// LockTimeout bounds the wait for another process's lock on the file;
	// default 2 s.
	LockTimeout time.Duration
	// Creator becomes the first CsAdministrator of a new database; required
	// when the file does not exist.
	Creator string
	// Now gives the creation time of a new database; default time.Now.
	Now func() time.Time
	// HashParams are the argon2id parameters of new PIN hashes; default
	// pinhash.DefaultParams().
	HashParams pinhash.Params
	// HashWorkers is the number of goroutines hashing PINs in parallel;
	// default GOMAXPROCS.
	HashWorkers int
	// PageSize is the bbolt page size of a new database; default 16 KiB
	// (fewer, larger writes for bulk changes; blocks are 4 KiB).
	PageSize int
}

// Store is a store.Store on a bbolt file.
type Store struct {
	db   *bolt.DB
	path string
	opts Options

	keyMu sync.Mutex
	key   *pinhash.Key
}

var _ store.Store = (*Store)(nil)

// Open opens the pinsh database at path, creating it (mode 0600, its
// directory 0700) when it does not exist. It waits up to opts.LockTimeout
// for another process to release the file, then fails with ErrBusy. It
// refuses, without changing the file, an empty or foreign file
// (ErrNotPinsh), a file written by a newer pinsh (ErrNewerSchema) and a
// damaged file (ErrDamaged). An older schema is migrated.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, schemaMigrations())
}

func open(path string, opts Options, migs []migration) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HashParams == (pinhash.Params{}) {
		opts.HashParams = pinhash.DefaultParams()
	}
	if opts.HashWorkers <= 0 {
		opts.HashWorkers = runtime.GOMAXPROCS(0)
	}
	if opts.PageSize == 0 {
		opts.PageSize = 16 << 10
	}
	if opts.KeyFile == "" {
		kf, err := pinhash.DefaultKeyFile()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrKey, err)
		}
		opts.KeyFile = kf
	}
	target := SchemaVersion + len(migs)
	st, err := os.Stat(path)
	switch {
	case err == nil:
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("open database %s: not a regular file (%w); point --db at a file", path, store.ErrNotPinsh)
		}
		if st.Size() == 0 {
			return nil, fmt.Errorf("open database %s: the file is empty (%w); remove it to create a new database there", path, store.ErrNotPinsh)
		}
		if err := precheck(path, opts, target); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		if opts.Creator == "" {
			return nil, fmt.Errorf("create database %s: no operator given to become its first CsAdministrator", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	default:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := boltOpen(path, opts, false)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, opts: opts}
	if err := s.prepare(target, migs); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// boltOpen opens the file with bbolt and maps its errors to the store's.
// bbolt may panic on a damaged file; that becomes ErrDamaged too.
func boltOpen(path string, opts Options, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damagedErr(path, r)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.LockTimeout,
		ReadOnly:     readOnly,
		PageSize:     opts.PageSize,
		FreelistType: bolt.FreelistMapType,
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open database %s: %w by another pinsh (waited %v); close the other pinsh or wait for it to finish, then try again",
			path, store.ErrBusy, opts.LockTimeout)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("open database %s: %w; check the file's owner and mode (it should be 0600, owned by you)", path, err)
	case !hasBoltMagic(path):
		return nil, notPinshErr(path, "it is not a database file")
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, damagedErr(path, err)
	}
	return nil, fmt.Errorf("open database %s: %w", path, err)
}

// hasBoltMagic reports whether the file starts like a bbolt file (the magic
// of its first meta page), telling a damaged database from a foreign file.
func hasBoltMagic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(hdr[16:]) == 0xED0CDAED
}

func damagedErr(path string, cause any) error {
	return fmt.Errorf("database %s: %w (%v); pinsh did not change it: restore it from a backup, or move it away to start afresh",
		path, store.ErrDamaged, cause)
}

func notPinshErr(path, why string) error {
	return fmt.Errorf("open database %s: %w (%s); the file was not changed: point --db at a pinsh database, or at a new file to create one",
		path, store.ErrNotPinsh, why)
}

// precheck opens an existing file read-only and checks it is a healthy
// pinsh database this code can open, before anything may write to it.
func precheck(path string, opts Options, target int) error {
	db, err := boltOpen(path, opts, true)
	if err != nil {
		return err
	}
	defer db.Close()
	return checkTx(db, path, func(tx *bolt.Tx) error {
		_, err := validate(tx, path, target)
		return err
	}, false)
}

// checkTx runs fn in a transaction, turning panics (bbolt's on damaged
// pages, and corruptError from our decoders) into ErrDamaged.
func checkTx(db *bolt.DB, path string, fn func(tx *bolt.Tx) error, writable bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damagedErr(path, r)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if writable {
		return db.Update(fn)
	}
	return db.View(fn)
}

// validate checks the meta bucket and the buckets of the schema, and reads
// the first and last block of each to catch damage early. It returns the
// schema version (0 for a new, empty bbolt file).
func validate(tx *bolt.Tx, path string, target int) (int, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		empty := true
		tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if empty && tx.Writable() {
			return 0, nil
		}
		return 0, notPinshErr(path, "it has no pinsh meta data")
	}
	if string(meta.Get([]byte(metaMagic))) != magic {
		return 0, notPinshErr(path, "its meta data is not pinsh's")
	}
	v := meta.Get([]byte(metaSchema))
	if len(v) != 4 {
		return 0, damagedErr(path, "no schema version")
	}
	version := int(binary.BigEndian.Uint32(v))
	if version > target {
		return 0, fmt.Errorf("open database %s: %w (schema version %d; this pinsh knows up to %d); the file was not changed: use a newer pinsh",
			path, store.ErrNewerSchema, version, target)
	}
	if version < 1 {
		return 0, damagedErr(path, fmt.Sprintf("schema version %d", version))
	}
	for _, name := range allBuckets() {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return 0, damagedErr(path, "bucket "+name+" is missing")
		}
		c := b.Cursor()
		if k, v := c.First(); k != nil && isBlockBucket(name) {
			var r blockReader
			r.reset(v)
			for r.next() {
			}
			c.Last()
		}
	}
	return version, nil
}

func isBlockBucket(name string) bool {
	switch name {
	case bucketUsers, bucketPins, bucketHashes, bucketAddr, bucketLogon, bucketDN, bucketName, bucketOU:
		return true
	}
	return false
}

// prepare creates the schema of a new database, or migrates an older one.
func (s *Store) prepare(target int, migs []migration) error {
	return checkTx(s.db, s.path, func(tx *bolt.Tx) error {
		version, err := validate(tx, s.path, target)
		if err != nil {
			return err
		}
		if version == 0 {
			return s.initSchema(tx)
		}
		for ; version < target; version++ {
			if err := migs[version-1](tx); err != nil {
				return fmt.Errorf("migrate database %s from schema %d to %d: %w", s.path, version, version+1, err)
			}
			if err := putSchema(tx, version+1); err != nil {
				return err
			}
		}
		return nil
	}, true)
}

func putSchema(tx *bolt.Tx, version int) error {
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], uint32(version))
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaSchema), v[:])
}

// initSchema creates the buckets, the global policy, the standard roles with
// the creator as CsAdministrator, and the first audit entry.
func (s *Store) initSchema(tx *bolt.Tx) error {
	if s.opts.Creator == "" {
		return fmt.Errorf("create database %s: no operator given to become its first CsAdministrator", s.path)
	}
	for _, name := range allBuckets() {
		if _, err := tx.CreateBucket([]byte(name)); err != nil {
			return fmt.Errorf("create database %s: %w", s.path, err)
		}
	}
	now := s.opts.Now()
	meta := tx.Bucket([]byte(bucketMeta))
	if err := meta.Put([]byte(metaMagic), []byte(magic)); err != nil {
		return err
	}
	if err := putSchema(tx, SchemaVersion); err != nil {
		return err
	}
	if err := meta.Put([]byte(metaCreated), appendTime(nil, now)); err != nil {
		return err
	}
	if err := tx.Bucket([]byte(bucketPolicies)).Put([]byte(store.GlobalPolicy), encodePolicy(store.DefaultPolicy(store.GlobalPolicy))); err != nil {
		return err
	}
	roles := tx.Bucket([]byte(bucketRoles))
	for _, r := range store.StandardRoles() {
		var members []string
		if r.Identity == store.CsAdministrator {
			members = []string{s.opts.Creator}
		}
		if err := roles.Put([]byte(store.RoleKey(r.Identity)), encodeRole(r.Identity, "", members)); err != nil {
			return err
		}
	}
	var a arena
	return appendAudit(tx, &a, []store.AuditEntry{{
		Time: now, Operator: s.opts.Creator, Action: "create_database", Target: s.path, Outcome: "ok",
		Detail: s.opts.Creator + " is CsAdministrator",
	}})
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database file. Calls after Close fail with
// store.ErrClosed.
func (s *Store) Close() error { return s.db.Close() }

// txw is the state of one write transaction: an arena for the blocks it
// writes, a writer per block bucket, and the audit entries to append at
// the end.
type txw struct {
	tx      *bolt.Tx
	arena   arena
	log     auditLog
	writers map[string]*blockWriter
}

func (w *txw) blocks(name string) *blockWriter {
	bw := w.writers[name]
	if bw == nil {
		bw = newBlockWriter(bucket(w.tx, name), &w.arena)
		w.writers[name] = bw
	}
	return bw
}

func bucket(tx *bolt.Tx, name string) *bolt.Bucket {
	b := tx.Bucket([]byte(name))
	if b == nil {
		corrupt("bucket %s is missing", name)
	}
	return b
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.mapErr(checkTx(s.db, s.path, fn, false))
}

// update runs fn in a write transaction and appends the audit entries fn
// collected in the same transaction.
func (s *Store) update(ctx context.Context, op store.Op, fn func(tx *bolt.Tx, w *txw) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.mapErr(checkTx(s.db, s.path, func(tx *bolt.Tx) error {
		w := &txw{tx: tx, log: auditLog{op: op}, writers: map[string]*blockWriter{}}
		if err := fn(tx, w); err != nil {
			return err
		}
		return w.log.flush(tx, &w.arena)
	}, true))
}

func (s *Store) mapErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("database %s: %w", s.path, store.ErrClosed)
	}
	return err
}

// hashKey returns the PIN key, loading it on first use: the key file must
// exist and match when the database already holds hashes (its meta records
// the key id); otherwise a missing key file is created.
func (s *Store) hashKey(ctx context.Context) (pinhash.Key, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return *s.key, nil
	}
	var want []byte
	if err := s.view(ctx, func(tx *bolt.Tx) error {
		want = bytes.Clone(bucket(tx, bucketMeta).Get([]byte(metaKeyID)))
		return nil
	}); err != nil {
		return pinhash.Key{}, err
	}
	k, err := pinhash.LoadKey(s.opts.KeyFile, want == nil)
	if errors.Is(err, pinhash.ErrNoKeyFile) {
		return pinhash.Key{}, fmt.Errorf("%w: key file %s is missing, and the PINs of %s were hashed with key %x: restore the key file from its backup or name it with --key (PINSH_KEY_FILE); without it PINs can only be set anew",
			store.ErrKey, s.opts.KeyFile, s.path, want)
	}
	if err != nil {
		return pinhash.Key{}, fmt.Errorf("%w: %v", store.ErrKey, err)
	}
	if id := k.ID(); want != nil && !bytes.Equal(id[:], want) {
		return pinhash.Key{}, fmt.Errorf("%w: key file %s holds key %s, but the PINs of %s were hashed with key %x: name the right key file with --key (PINSH_KEY_FILE)",
			store.ErrKey, s.opts.KeyFile, k.ID(), s.path, want)
	}
	s.key = &k
	return k, nil
}

// recordKeyID stores the key id in meta when the first hash is written.
func recordKeyID(tx *bolt.Tx, k pinhash.Key) error {
	meta := bucket(tx, bucketMeta)
	id := k.ID()
	have := meta.Get([]byte(metaKeyID))
	if have == nil {
		return meta.Put([]byte(metaKeyID), id[:])
	}
	if !bytes.Equal(have, id[:]) {
		return fmt.Errorf("%w: the database's PINs use key %x, not %s", store.ErrKey, have, k.ID())
	}
	return nil
}
