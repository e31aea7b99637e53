package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"golang.org/x/term"
)

// app is one run of pinsh: its standard streams and environment.
type app struct {
	stdin  *os.File
	stdout *os.File
	stderr *os.File
	getenv func(string) string
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
	if err := cfg.resolvePaths(a.getenv); err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
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
		return "stdin", stripShebang(src), nil
	}
	src, err = os.ReadFile(cfg.file)
	if err != nil {
		return "", nil, fmt.Errorf("read script: %w", err)
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
	clock := clockFor(cfg)
	db, err := a.openDatabase(cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	defer db.close()

	var prompter builtins.Prompter
	var readPin func(string) (string, error)
	if tty := a.controllingTerminal(); tty != nil {
		defer tty.Close()
		prompter = builtins.NewLinePrompter(tty, tty)
		readPin = func(prompt string) (string, error) { return readPinFrom(tty, prompt) }
	}
	sh := builtins.New(builtins.Config{
		Store: db.conn, Clock: clock, Operator: cfg.as, WhatIf: cfg.whatIf,
		Prompter: prompter, ReadPin: readPin,
	})
	format, width, err := a.outputFormat(cfg)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitUsage
	}
	sess, err := lang.NewSession(lang.Options{
		Stdout: a.stdout, Stderr: a.stderr,
		Format: format, Width: width,
		// -c CODE is a one-liner: like the prompt, it prints the value of
		// every expression statement. Script files print only streams.
		Interactive: cfg.mode == modeCode,
		Args:        cfg.args,
		Builtins:    sh.Builtins(shellBuiltins()...),
		Now:         clock.Now,
	})
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh: internal error:", err)
		return exitFailure
	}

	ctx, stop := interruptible(context.Background())
	defer stop()
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.timeout, fmt.Errorf("timed out after %v (--timeout)", cfg.timeout))
		defer cancel()
	}
	db.conn.progress.begin()
	err = sess.Eval(ctx, name, src)
	db.conn.progress.done()
	return a.status(err, sh)
}

// interruptible returns a context that Ctrl-C (SIGINT) cancels, with the
// cause "interrupted", and the function that stops listening for it.
func interruptible(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel(errors.New("interrupted"))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// status reports err (the outcome of a script or of one prompt input) on
// standard error and returns the exit status it calls for (design §2).
func (a *app) status(err error, sh *builtins.Shell) int {
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
		fmt.Fprint(a.stderr, errorText(err))
	}
	return code
}

// exitStatus maps the outcome of a run to the exit status of design §2.
func exitStatus(err error, sh *builtins.Shell) int {
	if err == nil {
		if sh != nil && sh.ErrorsShown() > 0 {
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
	for _, dbErr := range []error{store.ErrBusy, store.ErrNotPinsh, store.ErrNewerSchema, store.ErrDamaged, store.ErrKey} {
		if errors.Is(err, dbErr) {
			return exitDatabase
		}
	}
	return exitFailure
}

// errorText is how an error is shown on standard error: with its position,
// source line and caret when it is a script's error. It ends with a newline.
func errorText(err error) string {
	var le *lang.Error
	if errors.As(err, &le) {
		if le.Kind == lang.Interrupted || le.Kind == lang.TimedOut {
			return "pinsh: " + le.Msg + "\n"
		}
		return le.Detail()
	}
	return "pinsh: " + err.Error() + "\n"
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

// readPinFrom reads a PIN from the terminal tty without echo.
func readPinFrom(tty *os.File, prompt string) (string, error) {
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
