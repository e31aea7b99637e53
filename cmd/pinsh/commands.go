package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/sample"
)

// runImport runs pinsh import FILE: the import_users builtin on the file, so
// that roles, the audit log and the messages are those of the language;
// bad rows are shown with their line numbers and make the exit status 1.
func (a *app) runImport(cfg *config) int {
	if _, err := os.Stat(cfg.file); err != nil {
		fmt.Fprintln(a.stderr, "pinsh import:", err)
		return exitUsage
	}
	cfg.mode, cfg.code = modeCode, "import_users("+strconv.Quote(cfg.file)+")"
	return a.runScript(cfg)
}

// generateRole is the builtin whose role may add generated users: generating
// is a bulk import of synthetic users.
const generateRole = "import_users"

// runGenerate runs pinsh generate N: N synthetic users (see store/sample).
func (a *app) runGenerate(cfg *config) int {
	clock := clockFor(cfg)
	db, err := a.openDatabase(cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	defer db.close()
	st, err := db.conn.open()
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	ctx, stop := interruptible(context.Background())
	defer stop()
	if err := mayRun(ctx, st, cfg.as, generateRole); err != nil {
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return exitFailure
	}
	if cfg.whatIf {
		fmt.Fprintf(a.stdout, "What if: would add %s synthetic users to %s\n", thousands(cfg.count), db.where())
		return exitOK
	}
	db.conn.progress.begin()
	err = sample.Generate(ctx, db.conn, store.Op{Operator: cfg.as, Now: clock.Now()}, cfg.count, nil)
	db.conn.progress.done()
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(a.stderr, "pinsh generate: interrupted; the users of the batches committed so far were added")
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return exitFailure
	}
	fmt.Fprintf(a.stdout, "added %s synthetic users\n", thousands(cfg.count))
	return exitOK
}

// mayRun checks that operator is in a role that may run builtin.
func mayRun(ctx context.Context, st store.Store, operator, builtin string) error {
	roles, err := st.RolesOf(ctx, operator)
	if err != nil {
		return fmt.Errorf("check the roles of %q: %w", operator, err)
	}
	for _, r := range roles {
		if r.Allows(builtin) {
			return nil
		}
	}
	return errors.New("operator " + strconv.Quote(operator) + " is in no role that may add users " +
		"(CsAdministrator or CsUserAdministrator); ask a CsAdministrator: add_role_member(\"CsUserAdministrator\", " +
		strconv.Quote(operator) + ")")
}
