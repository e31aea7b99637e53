package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/sample"
)

// database is the database of one run of pinsh.
type database struct {
	conn  *dbConn
	path  string // the database file
	label string // how the prompt names it: the file name, or "demo"
	dir   string // --demo: the temporary directory to remove at the end

	stopSignals func() // --demo: stops removeOnSignal; nil otherwise
}

// openDatabase prepares the database of a run. For --demo it creates a
// temporary database and key file seeded with the sample directory; the real
// database is never touched. Otherwise the database is opened only when a
// builtin first needs it (see dbConn).
func (a *app) openDatabase(cfg *config, clock *builtins.Clock) (*database, error) {
	var shown io.Writer // nil: progress is counted, not shown
	if isTerminal(a.stderr) {
		shown = a.stderr
	}
	if !cfg.demo {
		opts := boltstore.Options{KeyFile: cfg.keyPath, Creator: cfg.as, Now: clock.Now}
		conn := newDBConn(cfg.dbPath, opts)
		conn.progress = newProgress(shown)
		return &database{conn: conn, path: cfg.dbPath, label: filepath.Base(cfg.dbPath)}, nil
	}
	dir, err := os.MkdirTemp("", "pinsh-demo-")
	if err != nil {
		return nil, fmt.Errorf("--demo: create a temporary directory: %w", err)
	}
	path := filepath.Join(dir, "pinsh.db")
	opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: cfg.as, Now: clock.Now}
	if err := seedSample(path, opts, store.Op{Operator: cfg.as, Now: clock.Now()}); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("--demo: %w", err)
	}
	conn := newDBConn(path, opts)
	conn.progress = newProgress(shown)
	d := &database{conn: conn, path: path, label: "demo", dir: dir}
	d.stopSignals = d.removeOnSignal()
	return d, nil
}

// removeOnSignal removes the --demo directory when SIGTERM or SIGHUP would
// end pinsh (a closed terminal, kill), and then lets the signal end it as
// it would have; on SIGINT and at exit, close removes it. A signal that
// was ignored when pinsh started (nohup) stays ignored. It returns the
// function that stops watching.
func (d *database) removeOnSignal() (stop func()) {
	var watch []os.Signal
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			watch = append(watch, sig)
		}
	}
	if len(watch) == 0 {
		return func() {}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, watch...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			d.removeDir()
			die(sigs, sig)
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}

// onKill returns what must happen before a second Ctrl-C ends pinsh
// (see interruptible): removing the --demo directory; nil when there is
// nothing to do.
func (d *database) onKill() func() {
	if d.dir == "" {
		return nil
	}
	return d.removeDir
}

// removeDir removes the --demo directory, if any. The database file may
// still be open: on Unix an open file can be removed, and pinsh is about
// to end.
func (d *database) removeDir() {
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

// seedSample creates the database at path and fills it with the sample
// directory of design §6 as it is at op.Now.
func seedSample(path string, opts boltstore.Options, op store.Op) error {
	st, err := boltstore.Open(path, opts)
	if err != nil {
		return err
	}
	if err := sample.Seed(context.Background(), st, op); err != nil {
		st.Close()
		return fmt.Errorf("seed the sample directory: %w", err)
	}
	return st.Close()
}

// close closes the database and removes a --demo directory.
func (d *database) close() {
	if d.stopSignals != nil {
		d.stopSignals()
	}
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
type dbConn struct {
	path     string
	opts     boltstore.Options
	progress *progress // counts committed changes; nil: not shown

	mu sync.Mutex
	st *boltstore.Store
}

var _ store.Store = (*dbConn)(nil)

func newDBConn(path string, opts boltstore.Options) *dbConn {
	return &dbConn{path: path, opts: opts}
}

// open returns the open store, opening the file if needed. It fails with an
// *openError.
func (c *dbConn) open() (store.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		st, err := boltstore.Open(c.path, c.opts)
		if err != nil {
			return nil, &openError{err}
		}
		c.st = st
	}
	return c.st, nil
}

// tryOpen is open with a lock timeout of wait instead of the usual one, for
// work that had better give up than keep the admin waiting (completion).
func (c *dbConn) tryOpen(wait time.Duration) (store.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		opts := c.opts
		opts.LockTimeout = wait
		st, err := boltstore.Open(c.path, opts)
		if err != nil {
			return nil, &openError{err}
		}
		c.st = st
	}
	return c.st, nil
}

// Close closes the file if it is open. The dbConn stays usable: the next
// call opens the file again.
func (c *dbConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return nil
	}
	err := c.st.Close()
	c.st = nil
	return err
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
	st, err := c.open()
	if err != nil {
		return store.User{}, err
	}
	return st.CreateUser(ctx, op, u)
}

func (c *dbConn) UpdateUser(ctx context.Context, op store.Op, u store.User) (store.User, error) {
	st, err := c.open()
	if err != nil {
		return store.User{}, err
	}
	return st.UpdateUser(ctx, op, u)
}

func (c *dbConn) RemoveUsers(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res, err := st.RemoveUsers(ctx, op, ids)
	c.progress.add("remove_user", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) Users(ctx context.Context, ids []store.UserID) ([]store.User, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.Users(ctx, ids)
}

func (c *dbConn) FindUsers(ctx context.Context, identity string) ([]store.User, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.FindUsers(ctx, identity)
}

func (c *dbConn) ScanUsers(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.User, store.UserID, error) {
	st, err := c.open()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanUsers(ctx, q, after, limit)
}

func (c *dbConn) ScanPinInfos(ctx context.Context, q store.UserQuery, after store.UserID, limit int) ([]store.PinInfo, store.UserID, error) {
	st, err := c.open()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanPinInfos(ctx, q, after, limit)
}

func (c *dbConn) ImportUsers(ctx context.Context, op store.Op, rows iter.Seq[store.ImportRow], progress func(int)) (store.ImportReport, error) {
	st, err := c.open()
	if err != nil {
		return store.ImportReport{}, err
	}
	return st.ImportUsers(ctx, op, rows, func(n int) {
		c.progress.set("import", n)
		if progress != nil {
			progress(n)
		}
	})
}

func (c *dbConn) LoadUsers(ctx context.Context, op store.Op, rows iter.Seq[store.LoadRow], progress func(int)) (store.ImportReport, error) {
	st, err := c.open()
	if err != nil {
		return store.ImportReport{}, err
	}
	return st.LoadUsers(ctx, op, rows, func(n int) {
		c.progress.set("generate", n)
		if progress != nil {
			progress(n)
		}
	})
}

func (c *dbConn) PinInfos(ctx context.Context, ids []store.UserID) ([]store.PinInfo, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.PinInfos(ctx, ids)
}

func (c *dbConn) SetPins(ctx context.Context, op store.Op, reqs []store.SetPinRequest) ([]store.SetPinResult, error) {
	st, err := c.open()
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
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res, err := st.LockPins(ctx, op, ids)
	c.progress.add("lock_pin", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) UnlockPins(ctx context.Context, op store.Op, ids []store.UserID) ([]store.ItemResult, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res, err := st.UnlockPins(ctx, op, ids)
	c.progress.add("unlock_pin", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) VerifyPin(ctx context.Context, op store.Op, id store.UserID, pin string) (store.VerifyResult, error) {
	st, err := c.open()
	if err != nil {
		return store.VerifyResult{}, err
	}
	return st.VerifyPin(ctx, op, id, pin)
}

func (c *dbConn) Policies(ctx context.Context) ([]store.Policy, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.Policies(ctx)
}

func (c *dbConn) Policy(ctx context.Context, identity string) (store.Policy, error) {
	st, err := c.open()
	if err != nil {
		return store.Policy{}, err
	}
	return st.Policy(ctx, identity)
}

func (c *dbConn) NewPolicy(ctx context.Context, op store.Op, identity string, changes store.PolicyChanges) (store.Policy, error) {
	st, err := c.open()
	if err != nil {
		return store.Policy{}, err
	}
	return st.NewPolicy(ctx, op, identity, changes)
}

func (c *dbConn) SetPolicy(ctx context.Context, op store.Op, identity string, changes store.PolicyChanges) (store.Policy, error) {
	st, err := c.open()
	if err != nil {
		return store.Policy{}, err
	}
	return st.SetPolicy(ctx, op, identity, changes)
}

func (c *dbConn) RemovePolicy(ctx context.Context, op store.Op, identity string) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	return st.RemovePolicy(ctx, op, identity)
}

func (c *dbConn) GrantPolicy(ctx context.Context, op store.Op, ids []store.UserID, name string) ([]store.ItemResult, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	res, err := st.GrantPolicy(ctx, op, ids, name)
	c.progress.add("grant_pin_policy", len(res), changedItems(res))
	return res, err
}

func (c *dbConn) EffectivePolicy(ctx context.Context, id store.UserID) (store.Policy, error) {
	st, err := c.open()
	if err != nil {
		return store.Policy{}, err
	}
	return st.EffectivePolicy(ctx, id)
}

func (c *dbConn) Roles(ctx context.Context) ([]store.Role, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.Roles(ctx)
}

func (c *dbConn) NewRole(ctx context.Context, op store.Op, identity, template string) (store.Role, error) {
	st, err := c.open()
	if err != nil {
		return store.Role{}, err
	}
	return st.NewRole(ctx, op, identity, template)
}

func (c *dbConn) RemoveRole(ctx context.Context, op store.Op, identity string) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	return st.RemoveRole(ctx, op, identity)
}

func (c *dbConn) AddRoleMember(ctx context.Context, op store.Op, role, member string) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	return st.AddRoleMember(ctx, op, role, member)
}

func (c *dbConn) RemoveRoleMember(ctx context.Context, op store.Op, role, member string) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	return st.RemoveRoleMember(ctx, op, role, member)
}

func (c *dbConn) RolesOf(ctx context.Context, operator string) ([]store.Role, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	return st.RolesOf(ctx, operator)
}

func (c *dbConn) Audit(ctx context.Context, op store.Op, e store.AuditEntry) error {
	st, err := c.open()
	if err != nil {
		return err
	}
	return st.Audit(ctx, op, e)
}

func (c *dbConn) ScanAudit(ctx context.Context, q store.AuditQuery, afterSeq uint64, limit int) ([]store.AuditEntry, uint64, error) {
	st, err := c.open()
	if err != nil {
		return nil, 0, err
	}
	return st.ScanAudit(ctx, q, afterSeq, limit)
}
