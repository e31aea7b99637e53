package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
)

// promptFile is the name prompt inputs have in error messages.
const promptFile = "<prompt>"

// repl is the interactive prompt.
type repl struct {
	a    *app
	cfg  *config
	db   *database
	rl   *readline.Instance
	sess *lang.Session
	ev   evaluator // Tengo, or PowerShell with --ps
	sh   *builtins.Shell
	// builtins are the session's builtins, for completion.
	builtins []*lang.Builtin
	hist     *history  // nil: no history file
	term     io.Writer // where the prompt, the banner and questions are shown

	tw     *termWidth // the width of the terminal term is; nil when it is not one
	colour bool       // errors and warnings are shown in colour (see colourOn)

	prompt string // the prompt; see continuation for that of a continued entry

	// pendingQuestion collects what builtins.LinePrompter writes of a
	// Confirm question until promptReader asks for the answer.
	pendingQuestion strings.Builder

	mu          sync.Mutex
	cancel      context.CancelFunc // of the input being run, or nil
	sigs        chan os.Signal     // SIGINT, while the prompt runs; nil after
	interrupted bool               // a SIGINT has cancelled the input being run
	paging      bool               // a pager has the screen (see openPager)
}

// repl runs the interactive prompt until Ctrl-D or exit(), and returns the
// exit status.
func (a *app) repl(cfg *config) int {
	clock := clockFor(cfg)
	// Until the prompt watches SIGINT itself, Ctrl-C stops the start-up
	// (the seeding of a --demo database) and removes the demo directory.
	ctx, stopStartup := interruptible(context.Background(), a.demoCleanup())
	defer stopStartup()
	db, err := a.openDatabase(ctx, cfg, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return openFailureStatus(ctx)
	}
	defer db.close()
	// Open the file once now, so that a busy, foreign or damaged database
	// is reported before the prompt, and a new one is created.
	if _, err := db.conn.read(); err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	if err := authorizeActing(cfg, db, clock); err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitDatabase
	}
	db.conn.Close()

	r, err := newREPL(a, cfg, db, clock)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh:", err)
		return exitFailure
	}
	search := &searchCancel{}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:                 r.prompt,
		HistoryLimit:           historyLimit,
		DisableAutoSaveHistory: true, // entries are saved whole, and never a PIN
		HistorySearchFold:      true,
		AutoComplete:           &completer{r: r},
		Painter:                lineBreakPainter{},
		Stdin:                  readline.NewCancelableStdin(&keyReader{r: readline.Stdin}),
		FuncFilterInputRune:    search.filter,
		Listener:               search,
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n",
		Stdout:                 r.term,
		Stderr:                 a.stderr,
		FuncGetWidth:           r.getWidth,
		FuncOnWidthChanged:     r.onWidthChanged,
	})
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh: start the prompt:", err)
		return exitFailure
	}
	defer rl.Close()
	r.rl = rl
	if r.tw != nil {
		defer r.tw.watch()()
	}
	r.loadHistory()

	r.sigs = make(chan os.Signal, 1)
	signal.Notify(r.sigs, os.Interrupt)
	stopStartup()
	defer func() {
		r.mu.Lock()
		signal.Stop(r.sigs)
		close(r.sigs)
		r.sigs = nil
		r.mu.Unlock()
	}()
	go func() {
		for sig := range r.sigs {
			r.onSignal(sig)
		}
	}()

	fmt.Fprintf(r.term, "pinsh %s: database %s, operator %s. help lists the builtins; Ctrl-D exits.\n",
		version(), db.where(), operatorText(cfg))
	for {
		entry, err := r.readEntry()
		switch {
		case errors.Is(err, io.EOF):
			return exitOK
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case err != nil:
			fmt.Fprintln(a.stderr, "pinsh: read input:", err)
			return exitFailure
		}
		if strings.TrimSpace(entry) == "" {
			continue
		}
		r.remember(entry)
		if code, quit := r.eval(promptCommand(entry)); quit {
			return code
		}
	}
}

// newREPL returns the prompt's state: its session and builtins on db, its
// prompts and history file. Its readline instance is set by the caller.
func newREPL(a *app, cfg *config, db *database, clock *builtins.Clock) (*repl, error) {
	term := a.stdout
	if !isTerminal(a.stdout) && isTerminal(a.stderr) {
		term = a.stderr // results go to a file or a pipe; the dialogue stays on the terminal
	}
	r := &repl{a: a, cfg: cfg, db: db, term: term}
	if isTerminal(term) {
		r.tw = newTermWidth(term)
	}
	r.prompt = prompts(cfg, db)
	if p := historyPath(a.getenv); p != "" {
		r.hist = &history{path: p}
	}
	r.sh = builtins.New(builtins.Config{
		Store: db.conn, Clock: clock, Operator: cfg.as, ActedBy: cfg.actedBy, WhatIf: cfg.whatIf,
		// The database is released while the admin thinks: another pinsh
		// may use it meanwhile.
		Prompter: releasingPrompter(db.conn, builtins.NewLinePrompter(&promptReader{r: r}, &r.pendingQuestion)),
		ReadPin:  releasingReadPin(db.conn, r.readPin),
		Pager:    r.pagerHook(),
	})
	r.builtins = r.sh.Builtins(shellBuiltins()...)
	format, width, err := a.outputFormat(cfg)
	if err != nil {
		return nil, err
	}
	r.colour = colourOn(a)
	var termWidth func() int
	if width > 0 && r.tw != nil { // tables are fitted to the terminal as it is now
		termWidth = r.tw.get
	}
	var stderr io.Writer = a.stderr
	if r.colour {
		stderr = colourWriter{w: a.stderr, sgr: sgrError}
	}
	list := withPS(r.builtins)
	r.sess, err = lang.NewSession(lang.Options{
		Stdout: db.conn.progress.writer(a.stdout), Stderr: db.conn.progress.writer(stderr),
		Format: format, Width: width, TermWidth: termWidth, FormatExplicit: cfg.output != "",
		Interactive: true,
		Builtins:    list,
		Now:         clock.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("internal error: %w", err)
	}
	r.ev = newEvaluator(r.sess, list, cfg.ps)
	return r, nil
}

// pagerHook returns the prompt's builtins.Config.Pager: a pager on the
// terminal that shows the results, none when results go to a file or a
// pipe.
func (r *repl) pagerHook() func() (io.WriteCloser, error) {
	if !isTerminal(r.a.stdout) || r.a.lookupEnv == nil {
		return nil
	}
	return r.openPager
}

// prompts returns the prompt, showing the operator and the database.
func prompts(cfg *config, db *database) string {
	prompt := psPrefix(cfg) + operatorText(cfg) + "@" + db.label
	if cfg.whatIf {
		prompt += " whatif"
	}
	return prompt + "> "
}

// continuation returns the prompt of the next line of entry, which does not
// parse yet: what is still open in it (brackets, a string, a trailing |),
// innermost last, then "...> ", as wide as prompt when it fits:
// "     ({...> " after "get_users() | where(func(u) {".
func continuation(prompt, entry string) string {
	toks, open := lex(entry)
	var b strings.Builder
	for _, i := range open {
		b.WriteString(toks[i].text)
	}
	if n := len(toks); n > 0 {
		switch last := toks[n-1]; {
		case last.kind == tOpenString:
			b.WriteByte(last.quote)
		case last.is("|"):
			b.WriteByte('|')
		}
	}
	s := b.String() + "...> "
	return strings.Repeat(" ", max(len([]rune(prompt))-len([]rune(s)), 0)) + s
}

// getWidth is readline's FuncGetWidth: the terminal's width as the tables
// see it, or as readline reads it when the prompt is not on a terminal.
func (r *repl) getWidth() int {
	if r.tw == nil {
		return readline.GetScreenWidth()
	}
	return r.tw.get()
}

// onWidthChanged is readline's FuncOnWidthChanged: the prompt's SIGWINCH
// watcher calls f after reading the new width (termWidth.watch).
func (r *repl) onWidthChanged(f func()) {
	if r.tw == nil {
		readline.DefaultOnWidthChanged(f)
		return
	}
	r.tw.notify(f)
}

// where describes the database for the banner.
func (d *database) where() string {
	if d.demo != nil {
		return "demo (a temporary copy of the sample directory)"
	}
	return d.path
}

// readEntry reads one entry: a line, continued on further lines while what
// was typed does not yet parse (an open brace, a trailing |). Ctrl-C
// discards the entry (readline.ErrInterrupt); Ctrl-D on an empty first line
// returns io.EOF, and on a continuation line discards the entry.
func (r *repl) readEntry() (string, error) {
	var lines []string
	r.rl.SetPrompt(r.prompt)
	for {
		line, err := r.rl.Readline()
		if errors.Is(err, io.EOF) && len(lines) > 0 {
			return "", readline.ErrInterrupt
		}
		if err != nil {
			return "", err
		}
		lines = append(lines, fromBuffer(line))
		entry := strings.Join(lines, "\n")
		if !r.ev.incomplete(entry) {
			return entry, nil
		}
		r.rl.SetPrompt(continuation(r.prompt, entry))
	}
}

// A multi-line entry recalled from the history is edited in readline's
// buffer, which models what it draws as one logical line: it counts the
// rows it takes from the widths of its runes (wrapping at the terminal's
// width) and moves the cursor back with \b, row by row. A newline in the
// buffer breaks that model: the terminal starts a row readline does not
// count, so each redraw clears too few rows (stale rows stay above the
// entry) and its cursor moves land on the wrong row (a partial copy per
// key). So the buffer never holds a newline: a line break of an entry is
// lineBreak there, one cell wide, shown as lineBreakGlyph, and turned back
// into a newline when readline returns the line.
const (
	lineBreak      = '\uE00A' // a private-use character, which nobody types
	lineBreakGlyph = '↵'
)

// toBuffer returns entry as readline's buffer holds it.
func toBuffer(entry string) string { return strings.ReplaceAll(entry, "\n", string(lineBreak)) }

// fromBuffer returns the entry a line of readline's buffer holds.
func fromBuffer(line string) string { return strings.ReplaceAll(line, string(lineBreak), "\n") }

// lineBreakPainter shows the line breaks of a recalled multi-line entry.
type lineBreakPainter struct{}

// Paint implements readline.Painter; it keeps every rune's width.
func (lineBreakPainter) Paint(line []rune, _ int) []rune {
	out := line
	for i, c := range line {
		if c == lineBreak {
			if &out[0] == &line[0] {
				out = slices.Clone(line)
			}
			out[i] = lineBreakGlyph
		}
	}
	return out
}

// loadHistory fills readline's history from the history file.
func (r *repl) loadHistory() {
	if r.hist == nil {
		return
	}
	entries, err := r.hist.load()
	if err != nil {
		fmt.Fprintln(r.a.stderr, "pinsh:", err)
	}
	for _, e := range entries {
		r.rl.SaveHistory(toBuffer(e))
	}
}

// remember adds entry to the history (the file and the list Up recalls),
// unless it starts with a space or may hold a PIN.
func (r *repl) remember(entry string) {
	if historyIgnored(entry) || mayHoldPin(entry) {
		return
	}
	r.rl.SaveHistory(toBuffer(entry))
	if r.hist != nil {
		if err := r.hist.add(entry); err != nil {
			fmt.Fprintln(r.a.stderr, "pinsh:", err)
			r.hist = nil // say it once
		}
	}
}

// The prompt's commands, compiled when the prompt first needs them rather
// than at the start of every pinsh process.
var (
	helpLine = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*help(?:\s+([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z]+)?))?\s*$`)
	})
	exitLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*(?:exit|quit)\s*$`) })
)

// promptCommand turns the prompt's commands into calls: "help" and
// "help NAME" into help(), "exit" and "quit" into exit(). Any other entry is
// returned as it is.
func promptCommand(entry string) string {
	if exitLine().MatchString(entry) {
		return "exit()"
	}
	m := helpLine().FindStringSubmatch(entry)
	switch {
	case m == nil:
		return entry
	case m[1] == "":
		return "help()"
	}
	return "help(" + strconv.Quote(m[1]) + ")"
}

// eval runs one entry. quit is true when the entry called exit().
func (r *repl) eval(src string) (code int, quit bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if r.cfg.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, r.cfg.timeout, fmt.Errorf("timed out after %v (--timeout)", r.cfg.timeout))
		defer stop()
	}
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	if r.tw != nil {
		r.tw.refresh() // a resize since the last input, should its SIGWINCH still be on its way
	}
	r.db.conn.progress.begin()
	err := r.evalEntry(ctx, src)
	r.mu.Lock()
	r.cancel = nil
	if r.interrupted {
		// Catch Ctrl-C again: the next one is for the next input.
		r.interrupted = false
		if r.sigs != nil {
			signal.Notify(r.sigs, os.Interrupt)
		}
	}
	r.mu.Unlock()
	committed := r.db.conn.progress.committed()
	r.db.conn.progress.done()
	// An idle prompt holds no lock on the database.
	if cerr := r.db.conn.Close(); cerr != nil {
		fmt.Fprintln(r.a.stderr, "pinsh: close the database:", cerr)
	}
	if err == nil {
		return exitOK, false
	}
	var ex *exitRequest
	if errors.As(err, &ex) {
		return r.a.status(err, nil, scriptErrors, ""), true
	}
	if errors.Is(err, builtins.ErrPagerQuit) {
		// Quitting a pager early is how one leaves it: a stop worth a
		// word only when it left changes behind.
		if committed == "" {
			return exitOK, false
		}
		fmt.Fprint(r.a.stderr, r.paint(scriptErrors.prefix+": "+builtins.ErrPagerQuit.Error()+"; the pipeline stopped there\n"+
			stoppedNote(scriptErrors, "the pager was quit", committed)))
		return exitFailure, false
	}
	fmt.Fprint(r.a.stderr, r.paint(errorText(err, scriptErrors, committed)))
	return exitFailure, false
}

// Colours of messages at the prompt (SGR parameters).
const (
	sgrError   = "31" // red: errors
	sgrWarning = "33" // yellow: warnings, such as what an interrupt left
)

// colourOn reports whether the prompt shows errors and warnings in colour:
// only when standard error is a terminal that is not "dumb", and never
// when NO_COLOR is set to anything (no-color.org).
func colourOn(a *app) bool {
	return isTerminal(a.stderr) && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}

// paint colours the lines of an error's text: the note on what an
// interrupted or timed-out input left behind as a warning, the rest as an
// error. Without colour it returns text as it is.
func (r *repl) paint(text string) string {
	if !r.colour {
		return text
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		sgr := sgrError
		if strings.Contains(line, "changes committed before") {
			sgr = sgrWarning
		}
		body, nl := strings.CutSuffix(line, "\n")
		b.WriteString("\x1b[" + sgr + "m" + body + "\x1b[0m")
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// colourWriter writes everything in one colour: per-item errors of the
// builtins at the prompt.
type colourWriter struct {
	w   io.Writer
	sgr string
}

func (c colourWriter) Write(p []byte) (int, error) {
	body, nl := bytes.CutSuffix(p, []byte("\n"))
	out := make([]byte, 0, len(p)+12)
	out = append(out, "\x1b["+c.sgr+"m"...)
	out = append(out, body...)
	out = append(out, "\x1b[0m"...)
	if nl {
		out = append(out, '\n')
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// running reports whether an input is being run.
func (r *repl) running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cancel != nil
}

// interrupt aborts the input being run, if any (Ctrl-C while it runs).
func (r *repl) interrupt() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

// onSignal handles a SIGINT. At the idle prompt there is nothing to stop
// (readline reads Ctrl-C as a key there). The first SIGINT while an input
// runs cancels it, and SIGINT is no longer caught until the input ends, so
// that a second Ctrl-C ends pinsh when the input cannot stop at once; with
// --demo the second one is caught just long enough to remove the demo
// directory.
func (r *repl) onSignal(sig os.Signal) {
	r.mu.Lock()
	switch {
	case r.cancel == nil:
		r.mu.Unlock()
	case !r.interrupted:
		r.interrupted = true
		r.cancel()
		if r.db.demo == nil && !r.paging {
			signal.Stop(r.sigs)
		}
		r.mu.Unlock()
	case r.paging:
		// The pager has the keyboard, and Ctrl-C is its key too: pinsh
		// ends only once the admin is back (setPaging).
		r.mu.Unlock()
	default:
		sigs := r.sigs
		r.mu.Unlock()
		// A second Ctrl-C with --demo: remove the directory, and
		// let no open fail meanwhile with another status.
		r.db.demo.removeForSignal()
		die(sigs, sig)
	}
}

// readPin reads a PIN at the terminal without echo (read_pin).
func (r *repl) readPin(prompt string) (string, error) {
	if r.isPaging() {
		return "", fmt.Errorf("read PIN: %w", errPaging)
	}
	b, err := r.rl.ReadPassword(prompt)
	if errors.Is(err, readline.ErrInterrupt) {
		r.interrupt()
		return "", errors.New("read PIN: interrupted")
	}
	if err != nil {
		return "", fmt.Errorf("read PIN: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// promptReader gives builtins.LinePrompter one answer per Read, read with
// readline: the lines of the question written so far are printed, and its
// last line becomes readline's prompt. So the Confirm prompt has line
// editing, and Ctrl-C at it aborts the whole input.
type promptReader struct {
	r *repl
}

func (p *promptReader) Read(b []byte) (int, error) {
	r := p.r
	if r.isPaging() {
		r.pendingQuestion.Reset()
		return 0, errPaging
	}
	question := r.pendingQuestion.String()
	r.pendingQuestion.Reset()
	head, last := "", question
	if i := strings.LastIndexByte(question, '\n'); i >= 0 {
		head, last = question[:i+1], question[i+1:]
	}
	io.WriteString(r.term, head)
	r.rl.SetPrompt(last)
	line, err := r.rl.Readline()
	if r.tw != nil {
		r.tw.refresh() // the admin may have resized the terminal meanwhile
	}
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		r.interrupt()
		return 0, errors.New("interrupted")
	case err != nil:
		return 0, err
	}
	return copy(b, line+"\n"), nil
}

// operatorText names the operator for the banner: "hd1", or "alice as hd1"
// when the OS account alice acts for hd1.
func operatorText(cfg *config) string {
	if cfg.actedBy != "" {
		return cfg.actedBy + " as " + cfg.as
	}
	return cfg.as
}
