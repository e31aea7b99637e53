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
// New files get mode 0600; their directory must exist unless
// Options.CreateDir (then it is made 0700). A file other users may read or
// write is refused (store.ErrFileMode). Open waits Options.LockTimeout
// (2 s) for another process, then fails with store.ErrBusy. An existing
// file is first opened read-only and checked (magic, schema version,
// buckets, first and last blocks), so that a foreign file, a newer schema
// or a damaged file is refused without being changed; bbolt panics and
// memory faults on damaged pages become store.ErrDamaged, in Open and in
// every later call. Opening a file of the current schema writes nothing;
// Options.ReadOnly opens it without write access at all (a 0400 file, and
// readers share the lock). Older schemas run the migrations of
// schemaMigrations in a write transaction.
//
// # Damage and full disks
//
// Before its first write a Store checks the whole file (check.go: bbolt's
// consistency check and a decode of every block and record), unless the
// file is new or unchanged since a check (Options.Checked); damage found
// then, or by any transaction, makes every later write fail with
// store.ErrDamaged, so that nothing is built on a broken page. A write that
// fails for want of space (ENOSPC, EDQUOT, EFBIG) is rolled back by bbolt
// and fails with store.ErrNoSpace; reads go on working.
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
	"syscall"
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

// minReadSchema is the oldest schema version this code reads as it is: a
// ReadOnly Open of a file at least this new reads it without migrating
// (which would write). Raise it with a migration that changes how
// existing data is laid out.
const minReadSchema = 1

// SchemaVersion is the first schema version; this code writes version
// SchemaVersion + len(schemaMigrations()).
const SchemaVersion = 1

// migration upgrades a database from one schema version to the next, inside
// the write transaction that also records the new version.
type migration func(tx *bolt.Tx) error

// schemaMigrations returns the migrations: entry i upgrades version i+1 to
// i+2, so the newest version is 1+len(migrations). Version 1 is the first.
func schemaMigrations() []migration {
	return []migration{
		// 1 -> 2: audit entries may name the account that acted for the
		// operator (audActedBy). Version 1 entries are valid as they are;
		// the version keeps an older pinsh from misreading newer entries.
		func(*bolt.Tx) error { return nil },
		// 2 -> 3: user records may carry directory attributes (title,
		// department, ..., memberOf; codec.go's flag userAttrs). Older
		// records read as they are; the version keeps an older pinsh,
		// which would drop the attributes when it rewrites a user, from
		// opening the file.
		func(*bolt.Tx) error { return nil },
	}
}

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
	// ReadOnly opens an existing file for reading only: nothing is written
	// to it, it may be a read-only file (mode 0400), other read-only opens
	// share it, and every write fails with store.ErrReadOnly. The file must
	// exist. An older schema is read as it is, not migrated, unless it is
	// older than minReadSchema (then Open fails with store.ErrReadOnly).
	ReadOnly bool
	// CreateDir lets Open create the missing directories of a new database
	// (mode 0700). Without it a new database's directory must exist, so
	// that a mistyped path is an error rather than a new empty database.
	CreateDir bool
	// Checked is what Store.Checked returned when this file was last open:
	// if the file has not changed since, the whole-file check before the
	// first write (see Store.update) is not repeated.
	Checked FileStamp
}

// FileStamp tells whether a file changed: its inode, size and
// modification time. The zero FileStamp matches no file.
type FileStamp struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func stampOf(fi fs.FileInfo) FileStamp {
	st := FileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st
}

// String encodes the stamp, for keeping it between processes (see
// ParseFileStamp); the zero FileStamp is "".
func (a FileStamp) String() string {
	if a.mtime.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d %d %d", a.ino, a.size, a.mtime.UnixNano())
}

// ParseFileStamp reads a FileStamp written by String.
func ParseFileStamp(text string) (FileStamp, error) {
	var ino uint64
	var size, ns int64
	if _, err := fmt.Sscanf(text, "%d %d %d", &ino, &size, &ns); err != nil {
		return FileStamp{}, fmt.Errorf("file stamp %q: %w", text, err)
	}
	return FileStamp{ino: ino, size: size, mtime: time.Unix(0, ns)}, nil
}

func (a FileStamp) matches(b FileStamp) bool {
	return !a.mtime.IsZero() && a.ino == b.ino && a.size == b.size && a.mtime.Equal(b.mtime)
}

// Store is a store.Store on a bbolt file.
type Store struct {
	db   *bolt.DB
	path string
	opts Options

	keyMu sync.Mutex
	key   *pinhash.Key

	created bool // Open created the file

	checkMu sync.Mutex
	checked bool      // the whole file was checked, or is new
	damage  error     // damage found; writes are refused with it
	stamp   FileStamp // the file as last checked or written (see Checked)
}

var _ store.Store = (*Store)(nil)

// Open opens the pinsh database at path, creating it (mode 0600) when it
// does not exist; its directory must exist unless opts.CreateDir. It waits
// up to opts.LockTimeout for another process to release the file, then
// fails with ErrBusy. It refuses, without changing the file, an empty or
// foreign file (ErrNotPinsh), a file written by a newer pinsh
// (ErrNewerSchema), a damaged file (ErrDamaged) and a file other users may
// read or write (ErrFileMode). An older schema is migrated. Opening an
// existing file of the current schema writes nothing: the first write
// transaction comes with the first change.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, schemaMigrations())
}

// DefaultLockTimeout is how long Open waits for another process's lock on
// the file when Options.LockTimeout is zero.
const DefaultLockTimeout = 2 * time.Second

func open(path string, opts Options, migs []migration) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
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
	version := 0
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("open database %s: not a regular file (%w); point --db at a file", path, store.ErrNotPinsh)
		}
		if fi.Size() == 0 {
			return nil, fmt.Errorf("open database %s: the file is empty (%w); remove it to create a new database there", path, store.ErrNotPinsh)
		}
		if version, err = precheck(path, opts, target); err != nil {
			return nil, err
		}
		if err := checkMode(path, fi); err != nil {
			return nil, err
		}
		if version < minReadSchema && opts.ReadOnly {
			return nil, fmt.Errorf("open database %s: schema version %d needs migrating to %d, which writes: %w",
				path, version, target, store.ErrReadOnly)
		}
	case errors.Is(err, fs.ErrNotExist) && !opts.ReadOnly:
		if opts.Creator == "" {
			return nil, fmt.Errorf("create database %s: no operator given to become its first CsAdministrator", path)
		}
		dir := filepath.Dir(path)
		if opts.CreateDir {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("create database %s: directory %s does not exist; check the path, or create the directory first (mkdir -m 700 %s)",
				path, dir, dir)
		}
	default:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := boltOpen(path, opts, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, opts: opts, created: version == 0}
	if version == 0 || version < target && !opts.ReadOnly {
		if version > 0 {
			if err := s.beforeWrite(); err != nil { // never migrate a damaged file
				db.Close()
				return nil, err
			}
		}
		if err := s.mapErr(s.prepare(target, migs)); err != nil {
			db.Close()
			return nil, err
		}
		s.checked = version == 0 // a new file has nothing to check
	}
	return s, nil
}

// checkMode refuses a database file that other users may read or write.
// Whoever can read it has the directory, the audit trail and the PIN
// hashes (useless without the key file, but the rest is not); whoever can
// write it can change anything, roles and audit log included. Group
// permissions are allowed: a group is how several accounts are meant to
// share a file (see the README's security model). The key file, which
// only the account that sets and checks PINs needs, must be private to
// its owner (store/pinhash).
func checkMode(path string, fi fs.FileInfo) error {
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return fmt.Errorf("open database %s: %w (mode %04o: every user of this machine may %s it); the file was not changed: chmod o-rwx %s (0600 or 0660 with a group of admins)",
			path, store.ErrFileMode, perm, modeWhat(perm), path)
	}
	return nil
}

func modeWhat(perm fs.FileMode) string {
	switch {
	case perm&0o006 == 0o006:
		return "read and write"
	case perm&0o002 != 0:
		return "write"
	case perm&0o004 != 0:
		return "read"
	}
	return "open"
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
	case errors.Is(err, fs.ErrPermission) && !readOnly:
		return nil, fmt.Errorf("open database %s for writing: %w (%w); reads still work: check the file's owner and mode (0600, owned by the account that changes it)",
			path, store.ErrReadOnly, err)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("open database %s: %w; check the file's owner and mode (it should be 0600, owned by you)", path, err)
	case !hasBoltMagic(path):
		return nil, notPinshErr(path, "it is not a database file")
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A bbolt file that bbolt cannot open (bad meta pages, or cut short:
	// "file size too small") is damaged.
	return nil, damagedErr(path, err)
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
func precheck(path string, opts Options, target int) (version int, err error) {
	db, err := boltOpen(path, opts, true)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	err = checkTx(db, path, func(tx *bolt.Tx) error {
		version, err = validate(tx, path, target)
		return err
	}, false)
	return version, err
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
			return s.initSchema(tx, target)
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
func (s *Store) initSchema(tx *bolt.Tx, version int) error {
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
	if err := putSchema(tx, version); err != nil {
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
	return appendAudit(tx, []store.AuditEntry{{
		Time: now, Operator: s.opts.Creator, Action: "create_database", Target: s.path, Outcome: "ok",
		Detail: s.opts.Creator + " is CsAdministrator",
	}})
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database file. Calls after Close fail with
// store.ErrClosed.
func (s *Store) Close() error {
	s.checkMu.Lock()
	if s.checked && s.damage == nil && !s.opts.ReadOnly {
		if fi, err := os.Stat(s.path); err == nil {
			s.stamp = stampOf(fi)
		}
	}
	s.checkMu.Unlock()
	return s.db.Close()
}

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
	err := s.mapErr(checkTx(s.db, s.path, fn, false))
	s.noteDamage(err)
	return err
}

// update runs fn in a write transaction and appends the audit entries fn
// collected in the same transaction.
func (s *Store) update(ctx context.Context, op store.Op, fn func(tx *bolt.Tx, w *txw) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("database %s: %w; open it without ReadOnly to change it", s.path, store.ErrReadOnly)
	}
	if err := s.mapErr(s.beforeWrite()); err != nil {
		return err
	}
	err := s.mapErr(checkTx(s.db, s.path, func(tx *bolt.Tx) error {
		w := &txw{tx: tx, log: auditLog{op: op, tx: tx}, writers: map[string]*blockWriter{}}
		if err := fn(tx, w); err != nil {
			return err
		}
		if err := w.log.flush(); err != nil {
			return err
		}
		if testHookBeforeCommit != nil {
			return testHookBeforeCommit()
		}
		return nil
	}, true))
	s.noteDamage(err)
	return err
}

// testHookBeforeCommit, when set by a test, is called at the end of every
// write transaction; its error rolls the transaction back as a failed
// commit would.
var testHookBeforeCommit func() error

func (s *Store) mapErr(err error) error {
	switch {
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("database %s: %w", s.path, store.ErrClosed)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		return fmt.Errorf("database %s: %w (%v): this change was not made, and changes committed before it stay; reads still work: free space on the file system of %s (df -h %s), then run it again",
			s.path, store.ErrNoSpace, err, s.path, filepath.Dir(s.path))
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
		return pinhash.Key{}, fmt.Errorf("%w: key file %s is missing, and the PINs of %s were hashed with key %x: restore the key file from its backup or name it with --key (PINSH_KEY_FILE); if it is lost for good, pinsh reset-key makes a new key and clears every PIN, to be set anew",
			store.ErrKey, s.opts.KeyFile, s.path, want)
	}
	if err != nil {
		return pinhash.Key{}, fmt.Errorf("%w: %v", store.ErrKey, err)
	}
	if id := k.ID(); want != nil && !bytes.Equal(id[:], want) {
		return pinhash.Key{}, fmt.Errorf("%w: key file %s holds key %s, but the PINs of %s were hashed with key %x: name the right key file with --key (PINSH_KEY_FILE); if that key is lost for good, pinsh reset-key makes this one the key and clears every PIN, to be set anew",
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
