package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/store"
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

// generateRole is the builtin whose role may add generated users: generating
// is a bulk import of synthetic users.
const generateRole = "import_users"

// runGenerate runs pinsh generate N: N synthetic users (see store/sample).
func (a *app) runGenerate(cfg *config) int {
	clock := clockFor(cfg)
	ctx, stop := interruptible(context.Background(), a.demoCleanup())
	defer stop()
	db, err := a.openDatabase(ctx, cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return openFailureStatus(ctx)
	}
	defer db.close()
	// Open now, so that a busy, foreign or newer database is reported as
	// such, before anything else.
	if _, err := db.conn.write(); err != nil {
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return exitDatabase
	}
	if err := authorizeActing(cfg, db, clock); err != nil {
		fmt.Fprintln(a.stderr, "pinsh generate:", err)
		return exitDatabase
	}
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
	err = sample.Generate(ctx, db.conn, store.Op{Operator: cfg.as, ActedBy: cfg.actedBy, Now: clock.Now()}, cfg.count, nil)
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
