package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/term"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
)

// app is one run of pinsh: its standard streams and environment.
type app struct {
	stdin  *os.File
	stdout *os.File
	stderr *os.File
	getenv func(string) string
	// lookupEnv tells a variable set empty from one not set (PAGER).
	lookupEnv func(string) (string, bool)

	// demo is the --demo directory, watched from the start of the run so
	// that a signal at any moment removes it; nil without --demo.
	demo *demoDir
}

// run runs pinsh with the command line args (without the program name) and
// returns the exit status.
func (a *app) run(args []string) int {
	cfg, err := parseConfig(args, a.getenv, a.stdout)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
	}
	switch cfg.mode {
	case modeHelp:
		return exitOK
	case modeVersion:
		fmt.Fprintln(a.stdout, "pinsh", version())
		return exitOK
	case modeTest:
		return a.runTests(cfg)
	}
	if cfg.translate {
		return a.translate(cfg)
	}
	if code := a.connectDB(cfg); code != exitOK {
		return code
	}
	if cfg.remote != nil {
		defer cfg.remote.Close()
	}
	if err := cfg.resolvePaths(a.getenv); err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
	}
	if cfg.demo {
		a.demo = &demoDir{}
		stop := a.demo.removeOnSignal()
		defer stop()
		defer a.demo.remove()
	}
	if len(cfg.ignoredWithDemo) > 0 {
		fmt.Fprintf(a.stderr, "pinsh: warning: %s ignored: --demo uses a temporary database and key file, never the real ones\n",
			strings.Join(cfg.ignoredWithDemo, " and "))
	}
	switch cfg.mode {
	case modePrompt:
		if isTerminal(a.stdin) {
			return a.repl(cfg)
		}
		// Like sh and python: without a terminal, read the script from
		// standard input.
		cfg.mode = modeStdin
		return a.runScript(cfg)
	case modeImport:
		return a.runImport(cfg)
	case modeGenerate:
		return a.runGenerate(cfg)
	case modeResetKey:
		return a.runResetKey(cfg)
	case modeMigrate:
		return a.runMigrate(cfg)
	}
	return a.runScript(cfg)
}

// version returns the module version pinsh was built from, as `go install`
// records it, or "(devel)" for a build from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}

// clockFor returns the clock of a run: frozen at --now, else the wall clock.
func clockFor(cfg *config) *builtins.Clock {
	if cfg.now.IsZero() {
		return builtins.NewClock()
	}
	return builtins.FrozenClock(cfg.now)
}

// scriptSource reads the script of a -c, -, or FILE run and returns it with
// the name its errors are reported under. A leading "#!" line (a shebang) is
// kept as a comment, so that line numbers stay right.
func (a *app) scriptSource(cfg *config) (name string, src []byte, err error) {
	switch cfg.mode {
	case modeCode:
		return "-c", []byte(cfg.code), nil
	case modeStdin:
		src, err = io.ReadAll(a.stdin)
		if err != nil {
			return "", nil, fmt.Errorf("read the script from standard input: %w", err)
		}
		if cfg.ps { // #! is a comment in PowerShell
			return "stdin", src, nil
		}
		return "stdin", stripShebang(src), nil
	}
	src, err = os.ReadFile(cfg.file)
	if err != nil {
		return "", nil, fmt.Errorf("read script: %w", err)
	}
	if cfg.ps {
		return cfg.file, src, nil
	}
	return cfg.file, stripShebang(src), nil
}

// stripShebang turns a first line starting with "#!" into a // comment.
func stripShebang(src []byte) []byte {
	if bytes.HasPrefix(src, []byte("#!")) {
		src = bytes.Clone(src)
		src[0], src[1] = '/', '/'
	}
	return src
}

// runScript runs a -c, -, or FILE script and returns the exit status.
func (a *app) runScript(cfg *config) int {
	name, src, err := a.scriptSource(cfg)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
	}
	// -c CODE is a one-liner: like the prompt, it prints the value of every
	// expression statement. Script files print only streams.
	return a.evalScript(cfg, name, src, cfg.mode == modeCode, scriptErrors)
}

// evalScript runs src, named name in its errors, on the run's database,
// shows its errors in style, and returns the exit status. Interactive
// prints the value of every expression statement.
func (a *app) evalScript(cfg *config, name string, src []byte, interactive bool, style errorStyle) int {
	clock := clockFor(cfg)
	// Ctrl-C is caught before the database is prepared: a --demo database
	// is seeded first, and its directory must not outlive an interrupt.
	ctx, stop := interruptible(context.Background(), a.demoCleanup())
	defer stop()
	db, err := a.openDatabase(ctx, cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, style.prefix+":", err)
		return openFailureStatus(ctx)
	}
	defer db.close()
	if err := authorizeActing(cfg, db, clock); err != nil {
		fmt.Fprintln(a.stderr, style.prefix+":", err)
		return exitDatabase
	}
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.timeout, fmt.Errorf("timed out after %v (--timeout)", cfg.timeout))
		defer cancel()
	}

	var prompter builtins.Prompter
	var readPin func(string) (string, error)
	if tty := a.controllingTerminal(); tty != nil {
		defer tty.Close()
		// Reads of the terminal end with ctx, so that Ctrl-C and
		// --timeout end a script waiting for an answer.
		prompter = builtins.NewLinePrompter(ctxReader{ctx: ctx, tty: tty}, tty)
		readPin = func(prompt string) (string, error) { return readPinFrom(ctx, tty, prompt) }
	}
	sh := builtins.New(builtins.Config{
		Store: db.conn, Clock: clock, Operator: cfg.as, ActedBy: cfg.actedBy, WhatIf: cfg.whatIf,
		Prompter: releasingPrompter(db.conn, prompter), ReadPin: releasingReadPin(db.conn, readPin),
	})
	format, width, err := a.outputFormat(cfg)
	if err != nil {
		fmt.Fprintln(a.stderr, style.prefix+":", err)
		return exitUsage
	}
	progress := db.conn.progress
	list := withPS(sh.Builtins(shellBuiltins()...))
	sess, err := lang.NewSession(lang.Options{
		Stdout: progress.writer(a.stdout), Stderr: progress.writer(a.stderr),
		Format: format, Width: width, FormatExplicit: cfg.output != "",
		// PowerShell shows the value of every statement, in scripts too.
		Interactive: interactive || cfg.ps,
		Args:        cfg.args,
		Builtins:    list,
		Now:         clock.Now,
	})
	if err != nil {
		fmt.Fprintln(a.stderr, style.prefix+": internal error:", err)
		return exitFailure
	}

	progress.begin()
	err = newEvaluator(sess, list, cfg.ps).eval(ctx, name, src)
	committed := progress.committed()
	progress.done()
	return a.status(err, sh, style, committed)
}

// releasingPrompter returns p (nil stays nil) made to release the database
// before it asks: see dbConn.release.
func releasingPrompter(conn *dbConn, p builtins.Prompter) builtins.Prompter {
	if p == nil {
		return nil
	}
	return releasing{conn: conn, p: p}
}

type releasing struct {
	conn *dbConn
	p    builtins.Prompter
}

func (r releasing) Confirm(operation, target string) (builtins.Answer, error) {
	if err := r.conn.release(); err != nil {
		return builtins.No, fmt.Errorf("confirm: %w", err)
	}
	return r.p.Confirm(operation, target)
}

// releasingReadPin returns read (nil stays nil) made to release the
// database before it waits for the PIN: see dbConn.release.
func releasingReadPin(conn *dbConn, read func(string) (string, error)) func(string) (string, error) {
	if read == nil {
		return nil
	}
	return func(prompt string) (string, error) {
		if err := conn.release(); err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		return read(prompt)
	}
}

// status reports err (the outcome of a script or of one prompt input) on
// standard error in style and returns the exit status it calls for (design
// §2). committed describes the changes counted before an interrupt.
func (a *app) status(err error, sh *builtins.Shell, style errorStyle, committed string) int {
	code := exitStatus(err, sh)
	if err == nil {
		return code
	}
	var ex *exitRequest
	switch {
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(a.stderr, ex.msg)
		}
	default:
		fmt.Fprint(a.stderr, errorText(err, style, committed))
	}
	return code
}

// demoCleanup returns what a second Ctrl-C must do before it ends pinsh
// (see interruptible): remove the --demo directory; nil without --demo.
func (a *app) demoCleanup() func() {
	if a.demo == nil {
		return nil
	}
	return a.demo.removeForSignal
}

// openFailureStatus is the exit status when the database of a run could
// not be prepared: interrupted if Ctrl-C stopped it, otherwise a database
// condition.
func openFailureStatus(ctx context.Context) int {
	if errors.Is(context.Cause(ctx), errInterrupted) {
		return exitInterrupted
	}
	return exitDatabase
}

// exitStatus maps the outcome of a run to the exit status of design §2.
func exitStatus(err error, sh *builtins.Shell) int {
	if err == nil {
		if sh != nil && (sh.ErrorsShown() > 0 || sh.FailuresHidden() > 0) {
			return exitFailure
		}
		return exitOK
	}
	var ex *exitRequest
	if errors.As(err, &ex) {
		return ex.code
	}
	var le *lang.Error
	if errors.As(err, &le) {
		switch le.Kind {
		case lang.CompileError:
			return exitUsage
		case lang.Interrupted:
			return exitInterrupted
		}
	}
	var oe *openError
	if errors.As(err, &oe) {
		return exitDatabase
	}
	for _, dbErr := range []error{store.ErrBusy, store.ErrNotPinsh, store.ErrNewerSchema, store.ErrDamaged, store.ErrKey,
		store.ErrNoSpace, store.ErrFileMode, store.ErrReadOnly} {
		if errors.Is(err, dbErr) {
			return exitDatabase
		}
	}
	return exitFailure
}

// errorStyle is how a run shows its errors.
type errorStyle struct {
	prefix string // of messages without a position: "pinsh", "pinsh import"
	// source shows a script error's position, source line and caret; a
	// command that runs a builtin for the user (pinsh import) shows the
	// message alone, since the user typed no script.
	source bool
	// builtin is the builtin such a command runs; its name is dropped from
	// the start of messages, which the prefix already names.
	builtin string
}

var (
	scriptErrors = errorStyle{prefix: "pinsh", source: true}
	importErrors = errorStyle{prefix: "pinsh import", builtin: "import_users"}
)

// errorText is how an error is shown on standard error. It ends with a
// newline. A script's error shows its position, its source line with every
// literal that may be a PIN masked (see maskPins), and a caret. When the
// run committed changes before it ended (committed names them, as
// progress.committed does), a note says that they stay; a run that
// committed nothing has no such note.
func errorText(err error, style errorStyle, committed string) string {
	var le *lang.Error
	if !errors.As(err, &le) {
		return style.prefix + ": " + cut.Message(err.Error()) + "\n" + stoppedNote(style, "the error", committed)
	}
	switch {
	case le.Kind == lang.Interrupted:
		return style.prefix + ": " + le.Msg + "\n" + stoppedNote(style, "the interrupt", committed)
	case le.Kind == lang.TimedOut:
		return style.prefix + ": " + le.Msg + "\n" + stoppedNote(style, "the timeout", committed)
	case !style.source:
		msg := le.Msg
		if style.builtin != "" {
			msg = strings.TrimPrefix(msg, style.builtin+": ")
		}
		if le.Item != "" {
			msg += " (processing " + le.Item + ")"
		}
		return style.prefix + ": " + cut.Message(msg) + "\n" + stoppedNote(style, "the error", committed)
	}
	// A long message or source line is cut (an identifier of 100 kB); the
	// caret stays under its character, the header keeps the real column.
	shown := *le
	shown.Msg = cut.Message(le.Msg)
	header := shown.Error()
	shown.Line, shown.Pos.Col = cut.Window(maskPins(le.Line), le.Pos.Col)
	detail, ok := strings.CutPrefix(shown.Detail(), shown.Error())
	if !ok {
		detail, header = shown.Detail(), ""
	}
	return header + detail + stoppedNote(style, "the error", committed)
}

// stoppedNote tells the admin, in a line of its own, what a run that ended
// early (interrupted, timed out, or stopped by an error: what) leaves
// behind: a change commits with its audit entry, batch by batch (design
// §4), so what committed before the stop stays. committed names the
// changes; when it is "" nothing was committed and there is no note.
func stoppedNote(style errorStyle, what, committed string) string {
	if committed == "" {
		return ""
	}
	return style.prefix + ": changes committed before " + what + " stay committed (" + committed + "); audit_log() lists them\n"
}

// outputFormat returns the print format and table width of a run: --output,
// or table on a terminal and the script-friendly default otherwise.
func (a *app) outputFormat(cfg *config) (lang.Format, int, error) {
	tty := isTerminal(a.stdout)
	width := 0
	if tty {
		if w, _, err := term.GetSize(int(a.stdout.Fd())); err == nil {
			width = w
		}
	}
	if cfg.output == "" {
		return lang.DefaultFormat(tty), width, nil
	}
	f, err := lang.ParseFormat(cfg.output)
	return f, width, err
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// controllingTerminal opens /dev/tty for Confirm prompts and read_pin when
// standard input is a terminal, and returns nil otherwise: a script run from
// cron, CI or a pipe has no one to ask, and confirm is then an error rather
// than a silent yes.
func (a *app) controllingTerminal() *os.File {
	if !isTerminal(a.stdin) {
		return nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	return tty
}

// actingError refuses an account acting for another operator on a real
// database: exit status 3, like the other conditions of the database that
// stop pinsh before it runs anything (no permission, busy, damaged).
// Usage (2) would say the command line is wrong in itself; it is not: the
// same --as is right for a CsAdministrator, and with --demo and pinsh test.
type actingError struct {
	source, account, path string
	remote                bool // the account is the remote database's user, not the OS account
}

func (e *actingError) Error() string {
	drop := "drop --as"
	if !strings.HasPrefix(e.source, "--as") {
		drop = "unset PINSH_OPERATOR"
	}
	who := "the OS account running pinsh"
	if e.remote {
		who = "the user the database authenticated"
	}
	return fmt.Sprintf("%s: acting for another operator needs the CsAdministrator role, and %s (%s) does not have it in %s; nothing was run. "+
		"To act as yourself, %s; to try another operator's view, use --demo or pinsh test; or ask a CsAdministrator to run add_role_member(\"CsAdministrator\", %q)",
		e.source, e.account, who, e.path, drop, e.account)
}

// authorizeActing lets the account act for the operator --as (or
// PINSH_OPERATOR) names on a real database only if the account is a
// CsAdministrator there; a refusal is audited. It reads the roles before
// anything runs, so a refused run changes nothing but the audit log.
func authorizeActing(cfg *config, db *database, clock *builtins.Clock) error {
	if cfg.demo || cfg.actedBy == "" {
		return nil
	}
	ctx := context.Background()
	if ok, err := hasRole(ctx, db.conn, cfg.actedBy, store.CsAdministrator); ok || err != nil {
		return err
	}
	refused := &actingError{source: cfg.asSource, account: cfg.actedBy, path: db.path, remote: cfg.remote != nil}
	if err := db.conn.Audit(ctx, store.Op{Operator: cfg.actedBy, Now: clock.Now()}, store.AuditEntry{
		Action: "act_as", Target: cfg.as, Outcome: "denied", Detail: "not a CsAdministrator",
	}); err != nil {
		return errors.Join(refused, fmt.Errorf("audit the refusal: %w", err))
	}
	return refused
}
