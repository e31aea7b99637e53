package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/pinhash"
	"github.com/pinsh/pinsh/store/sample"
)

// runImport runs pinsh import FILE: the import_users builtin on the file, so
// that roles, the audit log and the messages are those of the language;
// bad rows are shown with their line numbers and make the exit status 1.
// Errors are reported as pinsh import's own, not as a script's: the user
// typed no script.
func (a *app) runImport(cfg *config) int {
	if _, err := os.Stat(cfg.file); err != nil {
		fmt.Fprintln(a.stderr, "pinsh import:", err)
		return exitUsage
	}
	code := "import_users(" + strconv.Quote(cfg.file) + ")"
	return a.evalScript(cfg, "pinsh import", []byte(code), true, importErrors)
}

// openWritable opens the run's database for writing, so that a busy,
// foreign or newer database is reported as such before anything else, and
// checks --as. On failure it has shown the error after prefix and returns
// a nil database and the exit status.
func (a *app) openWritable(ctx context.Context, cfg *config, clock *builtins.Clock, prefix string) (*database, int) {
	db, err := a.openDatabase(ctx, cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, prefix+":", err)
		return nil, openFailureStatus(ctx)
	}
	if _, err = db.conn.write(); err == nil {
		err = authorizeActing(cfg, db, clock)
	}
	if err != nil {
		fmt.Fprintln(a.stderr, prefix+":", err)
		db.close()
		return nil, exitDatabase
	}
	return db, exitOK
}

// generateRole is the builtin whose role may add generated users: generating
// is a bulk import of synthetic users.
const generateRole = "import_users"

// runGenerate runs pinsh generate N: N synthetic users (see store/sample).
func (a *app) runGenerate(cfg *config) int {
	clock := clockFor(cfg)
	ctx, stop := interruptible(context.Background(), a.demoCleanup())
	defer stop()
	db, code := a.openWritable(ctx, cfg, clock, "pinsh generate")
	if db == nil {
		return code
	}
	defer db.close()
	sh := builtins.New(builtins.Config{Store: db.conn, Clock: clock, Operator: cfg.as, ActedBy: cfg.actedBy})
	// Authorize audits a denial, as the builtins do.
	if err := sh.Authorize(ctx, generateRole); err != nil {
		fmt.Fprintln(a.stderr, "pinsh generate: adding users needs the rights of import_users:", err)
		return exitStatus(err, nil)
	}
	if cfg.whatIf {
		fmt.Fprintf(a.stdout, "What if: would add %s synthetic users to %s\n", thousands(cfg.count), db.where())
		return exitOK
	}
	db.conn.progress.begin()
	err := sample.Generate(ctx, db.conn, store.Op{Operator: cfg.as, ActedBy: cfg.actedBy, Now: clock.Now()}, cfg.count, nil)
	committed := db.conn.progress.committed()
	db.conn.progress.done()
	switch {
	case ctx.Err() != nil:
		msg := "pinsh generate: interrupted; the users of the batches committed so far stay added"
		if committed != "" {
			msg += " (" + committed + ")"
		}
		fmt.Fprintln(a.stderr, msg)
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return exitStatus(err, nil)
	}
	fmt.Fprintf(a.stdout, "added %s synthetic users\n", thousands(cfg.count))
	return exitOK
}

// resetKeyRole is the role that may run pinsh reset-key: clearing every
// PIN is a CsAdministrator's decision.
const resetKeyRole = store.CsAdministrator

// runResetKey runs pinsh reset-key, the recovery from a lost key file: it
// creates a new key file (or takes the one already at the --key path, which
// it never overwrites), then clears every PIN hashed with the lost key and
// records the new key (store.Store.ResetKey), audited. Users then have no
// PIN, and set_pin gives them new ones.
func (a *app) runResetKey(cfg *config) int {
	clock := clockFor(cfg)
	ctx, stop := interruptible(context.Background(), a.demoCleanup())
	defer stop()
	db, code := a.openWritable(ctx, cfg, clock, "pinsh reset-key")
	if db == nil {
		return code
	}
	defer db.close()
	op := store.Op{Operator: cfg.as, ActedBy: cfg.actedBy, Now: clock.Now()}
	if err := requireRole(ctx, db.conn, op, resetKeyRole, "reset_key"); err != nil {
		fmt.Fprintln(a.stderr, "pinsh reset-key:", err)
		return exitFailure
	}
	keyFile := db.conn.opts.KeyFile
	_, statErr := os.Lstat(keyFile)
	if cfg.whatIf {
		n, err := countPins(ctx, db.conn)
		if err != nil {
			fmt.Fprintln(a.stderr, "pinsh reset-key:", err)
			return exitStatus(err, nil)
		}
		how := "create the key file " + keyFile + " with a new key"
		if statErr == nil {
			how = "make the key in " + keyFile + " the PIN key"
		}
		fmt.Fprintf(a.stdout, "What if: would %s and clear the %s PINs set in %s (they can no longer be verified)\n", how, thousands(n), db.where())
		return exitOK
	}
	key, err := pinhash.LoadKey(keyFile, true) // never overwrites: takes a key file already there
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh reset-key:", err)
		return exitDatabase
	}
	cleared, err := db.conn.ResetKey(ctx, op, key)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh reset-key:", err)
		return exitStatus(err, nil)
	}
	made := "new"
	if statErr == nil {
		made = "existing"
	}
	fmt.Fprintf(a.stdout, "PIN key %s (%s key file %s) now hashes the PINs of %s; %s PINs made with the lost key were cleared.\n",
		key.ID(), made, keyFile, db.where(), thousands(cleared))
	fmt.Fprintf(a.stdout, "Next: back up %s apart from the database, then give the users new PINs, e.g.\n", keyFile)
	fmt.Fprintln(a.stdout, `  pinsh -c 'get_users() | pin_info | where({is_pin_set: false}) | set_pin | export_csv("pins.csv")'`)
	return exitOK
}

// requireRole refuses, and audits the refusal of, an operator who is not a
// member of role.
func requireRole(ctx context.Context, s store.Store, op store.Op, role, action string) error {
	if ok, err := hasRole(ctx, s, op.Operator, role); ok || err != nil {
		return err
	}
	refused := fmt.Errorf("operator %s may not run %s: only a %s may", cut.Quote(op.Operator), strings.ReplaceAll(action, "_", "-"), role)
	if err := s.Audit(ctx, op, store.AuditEntry{Action: action, Outcome: "denied", Detail: "not a " + role}); err != nil {
		return errors.Join(refused, fmt.Errorf("audit the refusal: %w", err))
	}
	return refused
}

// hasRole reports whether operator is a member of role (case-insensitive,
// as roles are matched everywhere).
func hasRole(ctx context.Context, s store.Store, operator, role string) (bool, error) {
	roles, err := s.RolesOf(ctx, operator)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if strings.EqualFold(r.Identity, role) {
			return true, nil
		}
	}
	return false, nil
}

// countPins counts the users whose PIN is set.
func countPins(ctx context.Context, s store.Store) (int, error) {
	n := 0
	var after store.UserID
	for {
		infos, next, err := s.ScanPinInfos(ctx, store.UserQuery{}, after, 4096)
		if err != nil {
			return n, err
		}
		for _, p := range infos {
			if p.IsSet {
				n++
			}
		}
		if next == 0 {
			return n, nil
		}
		after = next
	}
}
