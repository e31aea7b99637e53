package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

// database is the database of one run of pinsh.
type database struct {
	conn  *dbConn
	path  string   // the database file
	label string   // how the prompt names it: the file name, or "demo"
	demo  *demoDir // --demo: the temporary directory to remove at the end; nil otherwise
}

// openDatabase prepares the database of a run. For --demo it creates a
// temporary database and key file seeded with the sample directory; the real
// database is never touched. Otherwise the database is opened only when a
// builtin first needs it (see dbConn). Cancelling ctx (Ctrl-C) stops the
// seeding of a --demo database; the directory is then removed.
func (a *app) openDatabase(ctx context.Context, cfg *config, clock *builtins.Clock) (*database, error) {
	var shown io.Writer // nil: progress is counted, not shown
	if isTerminal(a.stderr) {
		shown = a.stderr
	}
	if cfg.remote != nil {
		opts := boltstore.Options{KeyFile: cfg.keyPath, Creator: cfg.account, Now: clock.Now}
		conn := newDBConn(cfg.remote.URL(), opts)
		conn.remote = cfg.remote
		conn.progress = newProgress(shown)
		conn.created = func(url string) {
			fmt.Fprintf(a.stderr, "pinsh: created a new directory %s; %s is its CsAdministrator\n", url, cfg.account)
		}
		return &database{conn: conn, path: cfg.remote.URL(), label: cfg.remote.URL()}, nil
	}
	if !cfg.demo {
		// The account creating a database is its first CsAdministrator,
		// whoever it acts for. The default path's directories are made; a
		// --db path's directory must exist, so that a mistyped path is an
		// error rather than a new empty database.
		opts := boltstore.Options{KeyFile: cfg.keyPath, Creator: cfg.account, Now: clock.Now, CreateDir: cfg.dbDefault}
		conn := newDBConn(cfg.dbPath, opts)
		conn.progress = newProgress(shown)
		conn.cache = newCheckCache(a.getenv)
		conn.created = func(path string) {
			fmt.Fprintf(a.stderr, "pinsh: created a new database %s; %s is its CsAdministrator\n", path, cfg.account)
		}
		return &database{conn: conn, path: cfg.dbPath, label: filepath.Base(cfg.dbPath)}, nil
	}
	demo := a.demo
	if demo == nil { // a caller that watches no signals (tests)
		demo = &demoDir{}
	}
	var path string
	var opts boltstore.Options
	_, err := demo.prepare(func(dir string) error {
		path = filepath.Join(dir, "pinsh.db")
		admin := sample.Administrator(cfg.as, cfg.account)
		opts = boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: admin, Now: clock.Now}
		return seedSample(ctx, path, opts, store.Op{Operator: admin, Now: clock.Now()})
	})
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return nil, fmt.Errorf("--demo: %w", err)
	}
	conn := newDBConn(path, opts)
	conn.progress = newProgress(shown)
	conn.demo = demo
	return &database{conn: conn, path: path, label: "demo", demo: demo}, nil
}

// removeDir removes the --demo directory, if any.
func (d *database) removeDir() {
	if d.demo != nil {
		d.demo.remove()
	}
}

// seedSample creates the database at path and fills it with the sample
// directory of design §6 as it is at op.Now.
func seedSample(ctx context.Context, path string, opts boltstore.Options, op store.Op) error {
	st, err := boltstore.Open(path, opts)
	if err != nil {
		return err
	}
	if err := sample.Seed(ctx, st, op); err != nil {
		st.Close()
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	return st.Close()
}

// close closes the database and removes a --demo directory.
func (d *database) close() {
	d.conn.progress.done()
	d.conn.Close()
	d.removeDir()
}

// openError is a failure to open the database file: exit status 3.
type openError struct{ err error }

func (e *openError) Error() string { return e.err.Error() }
func (e *openError) Unwrap() error { return e.err }

// dbConn is a store.Store that opens the database file on first use and
// keeps it open until Close. The prompt closes it after every input: bbolt
// holds its file lock for as long as the file is open, so this is what lets
// another pinsh use the database while this one waits at the prompt. Streams
// and records outlive a Close: reads resume by key, and the next use opens
// the file again.
//
// Reads open the file read-only: they write nothing, work on a read-only
// file and on a full disk, and share the file with other readers. The
// first write of a session reopens it for writing (streams resume by key,
// as after any Close).
type dbConn struct {
	path     string
	opts     boltstore.Options
	progress *progress // counts committed changes; nil: not shown
	demo     *demoDir  // --demo: the directory the file lives in; nil otherwise
	// created is told when opening the file created a new database.
	created func(path string)
	cache   *checkCache // keeps checked between runs; nil: none
	// cacheRead is set once checked has been read from cache, when the
	// file is first opened: a run that never opens it (pinsh -c 1) does
	// not read the cache.
	cacheRead bool

	// remote, when not nil, is the database instead of the file path:
	// opened into rst on first use, and closed (its session, not the
	// connection) by Close, as the file is.
	remote remoteDB
	rst    store.Store

	mu       sync.Mutex
	st       *boltstore.Store
	writable bool                // st was opened for writing
	checked  boltstore.FileStamp // the file as last checked whole (see boltstore.Options.Checked)
}

var _ store.Store = (*dbConn)(nil)

func newDBConn(path string, opts boltstore.Options) *dbConn {
	return &dbConn{path: path, opts: opts}
}

// read returns the store opened at least for reading. It fails with an
// *openError.
func (c *dbConn) read() (store.Store, error) { return c.open(false, 0) }

// write returns the store opened for writing. It fails with an
// *openError.
func (c *dbConn) write() (store.Store, error) { return c.open(true, 0) }

// open returns the open store, opening the file if needed, for writing when
// write is set (a store open only for reading is reopened); wait is the
// lock timeout (0: the usual one). It fails with an *openError.
func (c *dbConn) open(write bool, wait time.Duration) (store.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote != nil {
		return c.openRemote()
	}
	if c.st != nil && (c.writable || !write) {
		return c.st, nil
	}
	c.closeLocked()
	if !c.cacheRead {
		c.checked, c.cacheRead = c.cache.get(c.path), true
	}
	opts := c.opts
	opts.Checked = c.checked
	if wait > 0 {
		opts.LockTimeout = wait
	}
	// A file that does not exist yet is created, by a read too: a new
	// database has its creator as CsAdministrator and nothing else.
	_, statErr := os.Stat(c.path)
	opts.ReadOnly = !write && statErr == nil
	err := c.openStore(opts)
	if errors.Is(err, store.ErrReadOnly) && opts.ReadOnly {
		// An older schema: migrating it writes.
		opts.ReadOnly = false
		err = c.openStore(opts)
	}
	if err != nil {
		return nil, err
	}
	c.writable = !opts.ReadOnly
	if c.st.Created() && c.created != nil {
		c.created(c.path)
	}
	return c.st, nil
}

// openRemote returns the remote store, opening it if needed; c.mu is held.
// A remote database has no read-only mode and no lock to wait for.
func (c *dbConn) openRemote() (store.Store, error) {
	if c.rst == nil {
		st, created, err := c.remote.Open(context.Background(), c.opts)
		if err != nil {
			return nil, &openError{err}
		}
		c.rst = st
		if created && c.created != nil {
			c.created(c.remote.URL())
		}
	}
	return c.rst, nil
}

// tryOpen opens the store for reading with a lock timeout of wait instead
// of the usual one, for work that had better give up than keep the admin
// waiting (completion).
func (c *dbConn) tryOpen(wait time.Duration) (store.Store, error) {
	return c.open(false, wait)
}

// openStore opens the file into c.st; c.mu is held. A --demo file is
// opened only while its directory is there: once a signal handler has
// removed it, opening would make a new database and leave it behind.
func (c *dbConn) openStore(opts boltstore.Options) error {
	open := func() error {
		st, err := boltstore.Open(c.path, opts)
		if err != nil {
			return &openError{err}
		}
		c.st = st
		return nil
	}
	if c.demo != nil {
		return c.demo.whileThere(open)
	}
	return open()
}

// Close closes the file if it is open. The dbConn stays usable: the next
// call opens the file again.
func (c *dbConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *dbConn) closeLocked() error {
	if c.rst != nil {
		err := c.rst.Close()
		c.rst = nil
		return err
	}
	if c.st == nil {
		return nil
	}
	err := c.st.Close()
	if stamp := c.st.Checked(); stamp != (boltstore.FileStamp{}) && stamp.String() != c.checked.String() {
		c.checked = stamp
		c.cache.put(c.path, stamp)
	}
	c.st = nil
	return err
}

// Every change a run commits passes through dbConn, which counts it in
// c.progress under the action audit_log() records it as (import and
// generate excepted: they count rows): that count is what an interrupted
// or stopped run reports as committed (see stoppedNote). What is not a
// change is not counted: reads, audit-only entries (Audit: a denial), PIN
// verifications (VerifyPin: a check, whose audit entry records the
// attempt), and copying history (CopyAudit: pinsh migrate).

// counted returns a function that counts one change of action when its
// err says the change was committed, and returns its v and err: wrapped
// around a store call, counted[store.User](c, "new_user")(st.CreateUser(...)).
func counted[T any](c *dbConn, action string) func(T, error) (T, error) {
	return func(v T, err error) (T, error) {
		return v, c.countedErr(action, err)
	}
}

// countedErr counts one change of action when err is nil, and returns err.
func (c *dbConn) countedErr(action string, err error) error {
	if err == nil {
		c.progress.add(action, 1, 1)
	}
	return err
}

// load runs a bulk load of action (import, generate), counting the rows
// committed as the store reports them and passing them on to progress.
func (c *dbConn) load(action string, progress func(int), run func(func(int)) (store.ImportReport, error)) (store.ImportReport, error) {
	rep, err := run(func(n int) {
		c.progress.set(action, n)
		if progress != nil {
			progress(n)
		}
	})
	if err == nil {
		// Every row is committed: the count is the report's, whether or
		// not the store reported the last batch.
		c.progress.set(action, rep.Imported)
	}
	return rep, err
}

// changedItems counts the items of a batch that were changed and committed.
func changedItems(res []store.ItemResult) int {
	n := 0
	for _, r := range res {
		if r.Outcome == store.Changed {
			n++
		}
	}
	return n
}

// release closes the file and erases the progress line before pinsh waits
// for a human (a Confirm question, read_pin): no transaction is open
// between two store calls, so closing here lets another pinsh use the
// database while this one waits, and the next store call opens it again.
func (c *dbConn) release() error {
	c.progress.clear()
	if err := c.Close(); err != nil {
		return fmt.Errorf("close the database %s before waiting for an answer: %w", c.path, err)
	}
	return nil
}

func (c *dbConn) CreateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	st, err := c.write()
	if err != nil {
		return store.User{}, err
	}
	return counted[store.User](c, "new_user")(st.CreateUser(ctx, op, u))
}

func (c *dbConn) UpdateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	st, err := c.write()
	if err != nil {
		return store.User{}, err
	}
	return counted[store.User](c, "update_user")(st.UpdateUser(ctx, op, u))
}

func (c *dbConn) RemoveUsers(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	st, err := c.write()
	if err != nil {
		return nil, err
	}
	res, err := st.RemoveUsers(ctx, op, ids)
	c.progress.add("remove_user", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) Users(ctx context.Context, ids []store.UserID) ([]store.User, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.Users(ctx, ids)
}

func (c *dbConn) FindUsers(ctx context.Context, identity string) ([]store.User, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.FindUsers(ctx, identity)
}

func (c *dbConn) ScanUsers(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.User, store.UserID, error) {
	st, err := c.read()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanUsers(ctx, q, after, limit)
}

func (c *dbConn) ScanPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	st, err := c.read()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanPinInfos(ctx, q, after, limit)
}

// AppendPinInfos is ScanPinInfos into dst (store.PinInfoAppender): a scan
// of get_users() | pin_info reuses one slice.
func (c *dbConn) AppendPinInfos(ctx context.Context, dst []store.PinInfo, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	st, err := c.read()
	if err != nil {
		return dst, 0, err
	}
	return store.AppendPinInfos(ctx, st, dst, q, after, limit)
}

// CountPinInfos counts what ScanPinInfos would return (store.PinCounter),
// for get_users() | pin_info | where(...) | count.
func (c *dbConn) CountPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) (int, store.UserID, error) {
	st, err := c.read()
	if err != nil {
		return 0, 0, err
	}
	return store.CountPinInfos(ctx, st, q, after, limit)
}

func (c *dbConn) ImportUsers(ctx context.Context, op store.Op, rows iter.Seq[store.ImportRow], progress func(int)) (store.ImportReport, error) {
	st, err := c.write()
	if err != nil {
		return store.ImportReport{}, err
	}
	return c.load("import", progress, func(progress func(int)) (store.ImportReport, error) {
		return st.ImportUsers(ctx, op, rows, progress)
	})
}

func (c *dbConn) LoadUsers(ctx context.Context, op store.Op, rows iter.Seq[store.LoadRow], progress func(int)) (store.ImportReport, error) {
	st, err := c.write()
	if err != nil {
		return store.ImportReport{}, err
	}
	return c.load("generate", progress, func(progress func(int)) (store.ImportReport, error) {
		return st.LoadUsers(ctx, op, rows, progress)
	})
}

func (c *dbConn) PinInfos(ctx context.Context, ids []store.UserID) ([]store.PinInfo, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.PinInfos(ctx, ids)
}

func (c *dbConn) SetPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest) ([]store.SetPinResult, error) {
	st, err := c.write()
	if err != nil {
		return nil, err
	}
	res, err := st.SetPins(ctx, op, reqs)
	changed := 0
	for _, r := range res {
		if r.Outcome == store.Changed {
			changed++
		}
	}
	c.progress.add("set_pin", len(res), changed)
	return res, err
}

func (c *dbConn) LockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	st, err := c.write()
	if err != nil {
		return nil, err
	}
	res, err := st.LockPins(ctx, op, ids)
	c.progress.add("lock_pin", len(res), changedItems(res))
	return res, err
}

// dbConn passes the lean bulk changes on to a store that has them, so
// that a bulk lock_pin of a million users builds no result per user.
var _ store.LeanChanger = (*dbConn)(nil)

func (c *dbConn) LockPinsLean(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	return c.leanChange("lock_pin", func(l store.LeanChanger) (store.Changes, error) { return l.LockPinsLean(ctx, op, ids) },
		func(st store.Store) ([]store.ItemResult, error) { return st.LockPins(ctx, op, ids) })
}

func (c *dbConn) UnlockPinsLean(ctx context.Context, op store.Op, ids []store.UserID) (store.Changes, error) {
	return c.leanChange("unlock_pin", func(l store.LeanChanger) (store.Changes, error) { return l.UnlockPinsLean(ctx, op, ids) },
		func(st store.Store) ([]store.ItemResult, error) { return st.UnlockPins(ctx, op, ids) })
}

func (c *dbConn) GrantPolicyLean(ctx context.Context, op store.Op, ids []store.UserID, name string) (store.Changes, error) {
	return c.leanChange("grant_pin_policy", func(l store.LeanChanger) (store.Changes, error) { return l.GrantPolicyLean(ctx, op, ids, name) },
		func(st store.Store) ([]store.ItemResult, error) { return st.GrantPolicy(ctx, op, ids, name) })
}

// leanChange runs a batched change of action on the store opened for
// writing, with lean when the store is a store.LeanChanger and full
// otherwise, and counts what it committed.
func (c *dbConn) leanChange(action string, lean func(store.LeanChanger) (store.Changes, error), full func(store.Store) ([]store.ItemResult, error)) (store.Changes, error) {
	st, err := c.write()
	if err != nil {
		return store.Changes{}, err
	}
	var ch store.Changes
	if l, ok := st.(store.LeanChanger); ok {
		ch, err = lean(l)
	} else {
		ch, err = store.Lean(full(st))
	}
	c.progress.add(action, ch.Changed+len(ch.Others), ch.Changed)
	return ch, err
}

func (c *dbConn) ResetKey(ctx context.Context, op store.Op, key pinhash.Key) (int, error) {
	st, err := c.write()
	if err != nil {
		return 0, err
	}
	cleared, err := st.ResetKey(ctx, op, key)
	if err == nil {
		// The cleared PINs and the key itself, as audit_log() lists them.
		c.progress.add("reset_key", cleared+1, cleared+1)
	}
	return cleared, err
}

func (c *dbConn) UnlockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	st, err := c.write()
	if err != nil {
		return nil, err
	}
	res, err := st.UnlockPins(ctx, op, ids)
	c.progress.add("unlock_pin", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) VerifyPin(ctx context.Context, op store.Op, id store.UserID, pin string) (store.VerifyResult, error) {
	st, err := c.write()
	if err != nil {
		return store.VerifyResult{}, err
	}
	return st.VerifyPin(ctx, op, id, pin)
}

func (c *dbConn) Policies(ctx context.Context) ([]store.Policy, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.Policies(ctx)
}

func (c *dbConn) Policy(ctx context.Context, identity string) (store.Policy, error) {
	st, err := c.read()
	if err != nil {
		return store.Policy{}, err
	}
	return st.Policy(ctx, identity)
}

func (c *dbConn) NewPolicy(ctx context.Context, op store.Op, identity string, changes store.PolicyChanges) (store.Policy, error) {
	st, err := c.write()
	if err != nil {
		return store.Policy{}, err
	}
	return counted[store.Policy](c, "new_pin_policy")(st.NewPolicy(ctx, op, identity, changes))
}

func (c *dbConn) SetPolicy(ctx context.Context, op store.Op, identity string, changes store.PolicyChanges) (store.Policy, error) {
	st, err := c.write()
	if err != nil {
		return store.Policy{}, err
	}
	return counted[store.Policy](c, "set_pin_policy")(st.SetPolicy(ctx, op, identity, changes))
}

func (c *dbConn) RemovePolicy(ctx context.Context, op store.Op, identity string) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return c.countedErr("remove_pin_policy", st.RemovePolicy(ctx, op, identity))
}

func (c *dbConn) GrantPolicy(ctx context.Context, op store.Op, ids []store.UserID, name string) ([]store.ItemResult, error) {
	st, err := c.write()
	if err != nil {
		return nil, err
	}
	res, err := st.GrantPolicy(ctx, op, ids, name)
	c.progress.add("grant_pin_policy", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) EffectivePolicy(ctx context.Context, id store.UserID) (store.Policy, error) {
	st, err := c.read()
	if err != nil {
		return store.Policy{}, err
	}
	return st.EffectivePolicy(ctx, id)
}

func (c *dbConn) Roles(ctx context.Context) ([]store.Role, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.Roles(ctx)
}

func (c *dbConn) NewRole(ctx context.Context, op store.Op, identity, template string) (store.Role, error) {
	st, err := c.write()
	if err != nil {
		return store.Role{}, err
	}
	return counted[store.Role](c, "new_admin_role")(st.NewRole(ctx, op, identity, template))
}

func (c *dbConn) RemoveRole(ctx context.Context, op store.Op, identity string) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return c.countedErr("remove_admin_role", st.RemoveRole(ctx, op, identity))
}

func (c *dbConn) AddRoleMember(ctx context.Context, op store.Op, role, member string) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return c.countedErr("add_role_member", st.AddRoleMember(ctx, op, role, member))
}

func (c *dbConn) RemoveRoleMember(ctx context.Context, op store.Op, role, member string) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return c.countedErr("remove_role_member", st.RemoveRoleMember(ctx, op, role, member))
}

func (c *dbConn) RolesOf(ctx context.Context, operator string) ([]store.Role, error) {
	st, err := c.read()
	if err != nil {
		return nil, err
	}
	return st.RolesOf(ctx, operator)
}

func (c *dbConn) Audit(ctx context.Context, op store.Op, e store.AuditEntry) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return st.Audit(ctx, op, e)
}

func (c *dbConn) ScanAudit(ctx context.Context, q store.AuditQuery, afterSeq uint64, limit int) ([]store.AuditEntry, uint64, error) {
	st, err := c.read()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanAudit(ctx, q, afterSeq, limit)
}

func (c *dbConn) ScanRecords(ctx context.Context, after store.UserID, limit int) ([]store.UserRecord, store.UserID, error) {
	st, err := c.read()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanRecords(ctx, after, limit)
}

func (c *dbConn) CopyAudit(ctx context.Context, entries []store.AuditEntry) error {
	st, err := c.write()
	if err != nil {
		return err
	}
	return st.CopyAudit(ctx, entries)
}
