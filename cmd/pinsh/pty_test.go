package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"golang.org/x/sys/unix"

	"github.com/pinsh/pinsh/store/boltstore"
)

// The prompt, driven through a pseudo-terminal as an admin types at it.

const (
	keyUp     = "\x1b[A"
	keyTab    = "\t"
	keyCtrlC  = "\x03"
	keyCtrlD  = "\x04"
	keyEnter  = "\r"
	ptyExpect = time.Minute // generous: it only bounds a failure, and CI machines are slow and shared
)

// ptyPinsh is a pinsh process on a pseudo-terminal.
type ptyPinsh struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	done chan error // the process's exit

	mu   sync.Mutex
	out  bytes.Buffer   // everything written to the terminal
	seen int            // offset in the cleaned output up to the last match
	vt   vt10x.Terminal // what a terminal shows of out (see screen_test.go)
}

// pinshEnv returns the environment of a pinsh run in dir: its own HOME and
// XDG directories. The operator is the OS account running the test
// (me): PINSH_OPERATOR would make it act for another operator, which only
// a CsAdministrator may.
func pinshEnv(dir string) []string {
	env := []string{
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"TERM=xterm",
		"PATH=" + os.Getenv("PATH"),
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// pinshCmd returns a command that runs this test binary as pinsh (see
// TestMain).
func pinshCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"pinsh"}, args...), Env: env}
	return cmd
}

// startPty starts pinsh with args on a 120x40 terminal.
func startPty(t *testing.T, env []string, args ...string) *ptyPinsh {
	t.Helper()
	return startPtySize(t, 120, 40, env, args...)
}

// startPtySize starts pinsh with args on a terminal of cols x rows.
func startPtySize(t *testing.T, cols, rows int, env []string, args ...string) *ptyPinsh {
	t.Helper()
	if testing.Short() {
		t.Skip("pty tests start processes; skipped with -short")
	}
	p := &ptyPinsh{t: t, cmd: pinshCmd(t, env, args...), done: make(chan error, 1),
		vt: vt10x.New(vt10x.WithSize(cols, rows))}
	tty, err := pty.StartWithSize(p.cmd, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	if err != nil {
		t.Fatal(err)
	}
	p.tty = tty
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.vt.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		tty.Close()
	})
	return p
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)

// screen returns the output with terminal control sequences and carriage
// returns removed.
func (p *ptyPinsh) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ansi.ReplaceAllString(p.out.String(), "")
}

// send types keys.
func (p *ptyPinsh) send(keys string) {
	p.t.Helper()
	if _, err := io.WriteString(p.tty, keys); err != nil {
		p.t.Fatalf("type %q: %v", keys, err)
	}
}

// expect waits until the output after the previous match matches re, and
// returns the match.
func (p *ptyPinsh) expect(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(ptyExpect)
	for {
		s := p.screen()
		if loc := rx.FindStringIndex(s[p.seen:]); loc != nil {
			m := s[p.seen+loc[0] : p.seen+loc[1]]
			p.seen += loc[1]
			return m
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q in the output after %v; the output since the last match:\n%s", re, ptyExpect, s[p.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for pinsh to exit and returns its exit status.
func (p *ptyPinsh) wait() int {
	p.t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			p.t.Fatal(err)
		}
		return 0
	case <-time.After(ptyExpect):
		p.t.Fatalf("pinsh did not exit; output:\n%s", p.screen())
	}
	return -1
}

// me is the OS account running the tests, as a regular expression: the
// operator of every pinsh they start.
var me = regexp.QuoteMeta(boltstore.Operator())

var demoPrompt = me + `@demo> `

func TestPromptMultiLineEntry(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--demo")
	p.expect(`database demo`)
	p.expect(demoPrompt)
	p.send("get_users() | pin_info |" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("  where(func(p) {" + keyEnter)
	p.expect(`\(\{\.\.\.> `) // what is still open
	p.send("    return p.is_pin_set" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("  }) | count" + keyEnter)
	p.expect(`\n6\n`)
	p.expect(demoPrompt)

	// The whole entry comes back from the history as one, and runs again.
	p.send(keyUp)
	p.expect(`return p.is_pin_set`)
	p.send(keyEnter)
	p.expect(`\n6\n`)
	p.expect(demoPrompt)

	// Ctrl-C in the middle of an entry discards it.
	p.send("get_users() | where(func(u) {" + keyEnter)
	p.expect(`\.\.\.> `)
	p.send("return" + keyCtrlC)
	p.expect(`\^C`)
	p.expect(demoPrompt)
	p.send("1 + 1" + keyEnter)
	p.expect(`\n2\n`)
	p.expect(demoPrompt)

	// help and help NAME.
	p.send("help" + keyEnter)
	p.expect(`lock_pin`)
	p.expect(demoPrompt)
	p.send("help lock_pin" + keyEnter)
	p.expect(`Lock-CsClientPin`)
	p.expect(demoPrompt)

	// Ctrl-D on an empty line exits with status 0.
	p.send(keyCtrlD)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after Ctrl-D, want 0", code)
	}

	data, err := os.ReadFile(filepath.Join(dir, "state", "pinsh", "history"))
	if err != nil {
		t.Fatal(err)
	}
	want := `get_users() | pin_info |\n  where(func(p) {\n    return p.is_pin_set\n  }) | count` + "\n"
	if !strings.Contains(string(data), want) {
		t.Errorf("history file:\n%s\nwant the multi-line entry as one line:\n%s", data, want)
	}
}

func TestPromptCompletion(t *testing.T) {
	p := startPty(t, pinshEnv(t.TempDir()), "--demo")
	p.expect(demoPrompt)

	// A field of a variable holding a record.
	p.send(`k := pin_info("kenmyer@litwareinc.com")` + keyEnter)
	p.expect(demoPrompt)
	p.send("k.is_lo" + keyTab)
	p.expect(`k\.is_locked_out`)
	p.send(keyEnter)
	p.expect(`\nfalse\n`)
	p.expect(demoPrompt)

	// A field of the records flowing into a where function.
	p.send(`get_users() | pin_info | where(func(p) { return p.locked_` + keyTab)
	p.expect(`p\.locked_by`)
	p.send(` == "system" }) | count` + keyEnter)
	p.expect(`\n1\n`)
	p.expect(demoPrompt)

	// An identity inside the string argument of lock_pin.
	p.send(`lock_pin("kenm` + keyTab)
	p.expect(`lock_pin\("kenmyer@litwareinc\.com"`)
	p.send(`, {whatif: true})` + keyEnter)
	p.expect(`What if: Performing the operation "lock_pin" on target "sip:kenmyer@litwareinc.com"`)
	p.expect(demoPrompt)

	// A builtin name.
	p.send("unlock_p" + keyTab)
	p.expect(`unlock_pin`)
	p.send(`("tonysmith@litwareinc.com")` + keyEnter)
	p.expect(`changed: 1`)
	p.expect(demoPrompt)

	// exit() leaves the prompt with its status.
	p.send(`exit(3)` + keyEnter)
	if code := p.wait(); code != 3 {
		t.Errorf("exit status %d after exit(3), want 3", code)
	}
}

func TestPromptConfirm(t *testing.T) {
	p := startPty(t, pinshEnv(t.TempDir()), "--demo")
	p.expect(demoPrompt)

	p.send(`lock_pin("Ken Myer", {confirm: true})` + keyEnter)
	p.expect(`Confirm\nAre you sure you want to perform this action\?\n` +
		`Performing the operation "lock_pin" on target "sip:kenmyer@litwareinc.com"\.\n` +
		`\[Y\] Yes  \[A\] Yes to All  \[N\] No  \[L\] No to All  \[\?\] Help \(default is "Y"\): `)
	p.send("?" + keyEnter)
	p.expect(`L - Skip this operation and all subsequent operations`)
	p.expect(`\(default is "Y"\): `)
	p.send("n" + keyEnter)
	p.expect(`changed: 0.*skipped: 1`)
	p.expect(demoPrompt)
	p.send(`pin_info("kenmyer@litwareinc.com").is_locked_out` + keyEnter)
	p.expect(`\nfalse\n`)
	p.expect(demoPrompt)

	// Yes to All answers for the rest of the call.
	p.send(`get_users("* Smith") | pin_info | unlock_pin({confirm: true})` + keyEnter)
	p.expect(`\(default is "Y"\): `)
	p.send("a" + keyEnter)
	p.expect(`changed: 2`)
	p.expect(demoPrompt)

	// Ctrl-C at the question aborts the input; nothing changes.
	p.send(`lock_pin("Ken Myer", {confirm: true})` + keyEnter)
	p.expect(`\(default is "Y"\): `)
	p.send(keyCtrlC)
	p.expect(`interrupted`)
	p.expect(demoPrompt)
	p.send(`pin_info("kenmyer@litwareinc.com").is_locked_out` + keyEnter)
	p.expect(`\nfalse\n`)
	p.expect(demoPrompt)
	p.send("quit" + keyEnter)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d after quit, want 0", code)
	}
}

// TestPromptInterrupt interrupts a long mutation over generated users: the
// prompt comes back, and every change that was made has its audit entry.
func TestPromptInterrupt(t *testing.T) {
	dir := t.TempDir()
	env := pinshEnv(dir)
	db := filepath.Join(dir, "big.db")
	if out, err := pinshCmd(t, env, "--db", db, "generate", "100000").CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	p := startPty(t, env, "--db", db)
	prompt := me + `@big\.db> `
	p.expect(prompt)
	p.send(`before := get_users() | pin_info | where({locked_by: "admin"}) | count` + keyEnter)
	p.expect(prompt)
	p.send(`lockable := get_users() | pin_info | where({is_pin_set: true, is_locked_out: false}) | count` + keyEnter)
	p.expect(prompt)
	// The first batch (65,536 targets) commits, which writes the file; the
	// predicate then spins until Ctrl-C stops it, however fast or slow the
	// machine. Reads do not write the file, so its first change after the
	// input is sent is that commit.
	before := fileState(t, db)
	p.send(`n := 0; get_users() | where(func(u) { n++; if n > 65536 { for {} }; return true }) | lock_pin({force: true})` + keyEnter)
	waitForFileChange(t, db, before)
	p.send(keyCtrlC)
	p.expect(`pinsh: interrupted`)
	// The admin is told that what committed stays, how much, and where to
	// look.
	p.expect(`pinsh: changes committed before the interrupt stay committed \(lock_pin: [1-9][0-9,]*\); audit_log\(\) lists them`)
	p.expect(prompt)

	p.send(`locked := (get_users() | pin_info | where({locked_by: "admin"}) | count) - before` + keyEnter)
	p.expect(prompt)
	p.send(`audited := audit_log() | where({action: "lock_pin", outcome: "ok"}) | count` + keyEnter)
	p.expect(prompt)
	p.send(`[locked > 0, locked < lockable, locked == audited]` + keyEnter)
	p.expect(`\[true, true, true\]`)
	p.expect(prompt)
	p.send(keyCtrlD)
	p.wait()
}

// fileState is what changes when a file is written: its size and
// modification time.
func fileState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}

// waitForFileChange waits until the file at path is no longer in state
// before (see fileState).
func waitForFileChange(t *testing.T, path, before string) {
	t.Helper()
	deadline := time.Now().Add(ptyExpect)
	for fileState(t, path) == before {
		if time.Now().After(deadline) {
			t.Fatalf("%s has not changed within %v", path, ptyExpect)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPromptIdleDoesNotBlock: a pinsh idle at the prompt lets another pinsh
// use the database, and sees its changes.
func TestPromptIdleDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	env := pinshEnv(dir)
	db := filepath.Join(dir, "shared.db")
	p := startPty(t, env, "--db", db)
	prompt := me + `@shared\.db> `
	p.expect(prompt)
	p.send(`get_users() | count` + keyEnter)
	p.expect(`\n0\n`)
	p.expect(prompt)

	// Were the file held, the second pinsh would wait 2 s for it and then
	// fail as busy (exit 3): its success shows the prompt holds nothing.
	out, err := pinshCmd(t, env, "--db", db, "-c",
		`new_user({sip_address: "sip:anna@fabrikam.com", display_name: "Anna Lee"})`).CombinedOutput()
	if err != nil {
		t.Fatalf("a second pinsh while the first is idle: %v\n%s", err, out)
	}
	p.send(`get_users() | count` + keyEnter)
	p.expect(`\n1\n`)
	p.expect(prompt)
	p.send(keyCtrlD)
	p.wait()
}

// TestPromptHistoryPrivate: the history file is 0600, keeps what was typed
// across sessions, and never a PIN passed to set_pin or verify_pin.
func TestPromptHistoryPrivate(t *testing.T) {
	dir := t.TempDir()
	env := pinshEnv(dir)
	p := startPty(t, env, "--demo")
	p.expect(demoPrompt)
	p.send(`set_pin("aidan@litwareinc.com", "58213")` + keyEnter)
	p.expect(demoPrompt)
	p.send(`verify_pin("aidan@litwareinc.com", "58213").ok` + keyEnter)
	p.expect(`\ntrue\n`)
	p.expect(demoPrompt)
	// A PIN passed on indirectly (review finding 1): the entries holding
	// it are kept out; the others are kept.
	for _, entry := range []string{
		`p := "48151"`, `verify_pin("sip:aidan@litwareinc.com", p)`,
		`pins := {a: "93817"}`,
		`vp := verify_pin`, `vp("sip:aidan@litwareinc.com", "937162")`,
		`f := func(u, x) { return set_pin(u, x) }`, `f("sip:aidan@litwareinc.com", "731946")`,
		// What the rule cannot see, kept out by a leading space; a number
		// is never a PIN, so first(1000) is kept (issue 11 §4, issue 8 §6).
		` msg := "new PIN 640289 for real5"`, `get_users() | first(1000) | count`,
	} {
		p.send(entry + keyEnter)
		p.expect(demoPrompt)
	}
	p.send(`get_users("Aidan*") | count` + keyEnter)
	p.expect(`\n1\n`)
	p.expect(demoPrompt)
	p.send(keyCtrlD)
	p.wait()

	path := filepath.Join(dir, "state", "pinsh", "history")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	for _, pin := range []string{"58213", "48151", "93817", "937162", "731946", "640289"} {
		if strings.Contains(string(data), pin) {
			t.Errorf("the history holds the PIN %s:\n%s", pin, data)
		}
	}
	for _, kept := range []string{`verify_pin("sip:aidan@litwareinc.com", p)`, `vp := verify_pin`, `f := func(u, x)`, `first(1000)`} {
		if !strings.Contains(string(data), kept) {
			t.Errorf("the history lacks %s:\n%s", kept, data)
		}
	}
	if !strings.Contains(string(data), `get_users("Aidan*") | count`) {
		t.Errorf("the history lacks the last entry:\n%s", data)
	}

	// The next session recalls it.
	p = startPty(t, env, "--demo")
	p.expect(demoPrompt)
	p.send(keyUp)
	p.expect(`Aidan\*`)
	p.send(keyEnter)
	p.expect(`\n1\n`)
	p.expect(demoPrompt)
	p.send(keyCtrlD)
	p.wait()
}

// TestPromptBusyAtStart: a database another pinsh holds is reported before
// the prompt, with status 3.
func TestPromptBusyAtStart(t *testing.T) {
	dir := t.TempDir()
	env := pinshEnv(dir)
	db := filepath.Join(dir, "held.db")
	if out, err := pinshCmd(t, env, "--db", db, "-c", "1").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The per-item error shows when the holder has the database open.
	holder := startPty(t, env, "--db", db, "-c",
		`lock_pin("nobody@example.com"); for { n := get_users() | count }`)
	holder.expect(`nobody@example.com: no such user`)
	p := startPty(t, env, "--db", db)
	p.expect(`database is in use by another pinsh`)
	if code := p.wait(); code != exitDatabase {
		t.Errorf("exit status %d, want %d", code, exitDatabase)
	}
	holder.send(keyCtrlC)
	if code := holder.wait(); code != exitInterrupted {
		t.Errorf("the script interrupted by Ctrl-C: exit status %d, want %d\n%s", code, exitInterrupted, holder.screen())
	}
}

// TestPromptReadPin: read_pin reads a PIN without echo, so it is neither on
// the screen nor in the history.
func TestPromptReadPin(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--demo")
	p.expect(demoPrompt)
	p.send(`set_pin("aidan@litwareinc.com", read_pin("New PIN: ")).identity` + keyEnter)
	p.expect(`\nNew PIN: `) // the prompt itself, not the entry's echo
	p.send("58213" + keyEnter)
	p.expect(`\nsip:aidan@litwareinc.com\n`)
	p.expect(demoPrompt)
	p.send(`verify_pin("aidan@litwareinc.com", read_pin()).ok` + keyEnter)
	p.expect(`\nPIN: `)
	p.send("58213" + keyEnter)
	p.expect(`\ntrue\n`)
	p.expect(demoPrompt)
	p.send(keyCtrlD)
	p.wait()
	if strings.Contains(p.screen(), "58213") {
		t.Errorf("the PIN was echoed:\n%s", p.screen())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "state", "pinsh", "history"))
	if !strings.Contains(string(data), `read_pin("New PIN: ")`) || strings.Contains(string(data), "58213") {
		t.Errorf("history:\n%s", data)
	}
}

// TestScriptAtTerminal: a script run from a terminal asks its Confirm
// questions and reads PINs there; Ctrl-C ends it with status 130.
func TestScriptAtTerminal(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--demo", "-c",
		`lock_pin("Ken Myer", {confirm: true}); set_pin("aidan@litwareinc.com", read_pin("PIN for Aidan: ")).identity`)
	p.expect(`Performing the operation "lock_pin" on target "sip:kenmyer@litwareinc.com"`)
	p.expect(`\(default is "Y"\): `)
	p.send("y" + keyEnter)
	p.expect(`changed: 1`) // a table: the output is a terminal
	p.expect(`PIN for Aidan: `)
	p.send("58213" + keyEnter)
	p.expect(`\nsip:aidan@litwareinc.com\n`)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d\n%s", code, p.screen())
	}
	if strings.Contains(p.screen(), "58213") {
		t.Errorf("the PIN was echoed:\n%s", p.screen())
	}

	p = startPty(t, pinshEnv(dir), "--demo", "-c", `lock_pin("nobody@example.com"); for {}`)
	p.expect(`no such user`)
	p.send(keyCtrlC)
	p.expect(`pinsh: interrupted`)
	if code := p.wait(); code != exitInterrupted {
		t.Errorf("exit status %d after Ctrl-C, want %d", code, exitInterrupted)
	}
}

// TestProgressAtTerminal: generate shows its progress on standard error
// when it is a terminal, and erases it at the end.
func TestProgressAtTerminal(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--db", filepath.Join(dir, "big.db"), "generate", "250000")
	p.expect(`generate: [0-9,]+ done \([0-9]+s\)`)
	p.expect(`added 250,000 synthetic users`)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d\n%s", code, p.screen())
	}
}

// echoOn reports whether the terminal echoes what is typed.
func (p *ptyPinsh) echoOn() bool {
	p.t.Helper()
	rc, err := p.tty.SyscallConn()
	if err != nil {
		p.t.Fatal(err)
	}
	var tio *unix.Termios
	var ioErr error
	if err := rc.Control(func(fd uintptr) { tio, ioErr = unix.IoctlGetTermios(int(fd), ioctlGetTermios) }); err != nil {
		p.t.Fatal(err)
	}
	if ioErr != nil {
		p.t.Fatal(ioErr)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestWaitReleasesDatabase: while pinsh waits for an answer at a Confirm
// question or read_pin, at the prompt or in a script, another pinsh can use
// the database.
func TestWaitReleasesDatabase(t *testing.T) {
	dir := t.TempDir()
	env := pinshEnv(dir)
	db := filepath.Join(dir, "shared.db")
	if out, err := pinshCmd(t, env, "--db", db, "-c",
		`new_user({sip_address: "sip:anna@fabrikam.com", display_name: "Anna Lee"}); set_pin("anna@fabrikam.com", "729164").identity`).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	other := func(what string) {
		t.Helper()
		// A held file would make it fail as busy after 2 s (exit 3).
		out, err := pinshCmd(t, env, "--db", db, "-c", `get_users() | count`).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("a second pinsh while the first waits at %s: %v\n%s", what, err, out)
		}
	}

	p := startPty(t, env, "--db", db)
	prompt := me + `@shared\.db> `
	p.expect(prompt)
	p.send(`get_users() | lock_pin({confirm: true})` + keyEnter)
	p.expect(`\(default is "Y"\): `)
	other("a Confirm question at the prompt")
	p.send("n" + keyEnter)
	p.expect(`skipped: 1`)
	p.expect(prompt)
	p.send(`get_users() | each(func(u) { verify_pin(u, read_pin()) })` + keyEnter)
	p.expect(`PIN: `)
	other("read_pin at the prompt")
	p.send("729164" + keyEnter)
	p.expect(prompt)
	p.send(keyCtrlD)
	p.wait()

	p = startPty(t, env, "--db", db, "-c",
		`get_users() | lock_pin({confirm: true}); get_users() | each(func(u) { verify_pin(u, read_pin()) })`)
	p.expect(`\(default is "Y"\): `)
	other("a Confirm question in a script")
	p.send("n" + keyEnter)
	p.expect(`PIN: `)
	other("read_pin in a script")
	p.send("729164" + keyEnter)
	if code := p.wait(); code != 0 {
		t.Errorf("exit status %d\n%s", code, p.screen())
	}
}

// TestScriptWaitInterrupted: Ctrl-C and --timeout end a script that waits
// at a Confirm question or read_pin, without Enter; echo is back on after
// read_pin.
func TestScriptWaitInterrupted(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		wait   string // what the script shows while it waits
		ctrlC  bool
		status int
		msg    string
	}{
		{"Ctrl-C at Confirm", []string{"-c", `lock_pin("Ken Myer", {confirm: true})`},
			`\(default is "Y"\): `, true, exitInterrupted, `pinsh: interrupted`},
		{"Ctrl-C at read_pin", []string{"-c", `verify_pin("kenmyer@litwareinc.com", read_pin())`},
			`PIN: `, true, exitInterrupted, `pinsh: interrupted`},
		{"timeout at Confirm", []string{"--timeout", "1s", "-c", `lock_pin("Ken Myer", {confirm: true})`},
			`\(default is "Y"\): `, false, exitFailure, `pinsh: timed out after 1s`},
		{"timeout at read_pin", []string{"--timeout", "1s", "-c", `verify_pin("kenmyer@litwareinc.com", read_pin())`},
			`PIN: `, false, exitFailure, `pinsh: timed out after 1s`},
		// Changes committed before the question are named, exactly.
		{"Ctrl-C at Confirm after changes", []string{"-c", `new_pin_policy("tag:Night"); new_admin_role("HelpDeskEast", "CsHelpDesk"); ` +
			`add_role_member("HelpDeskEast", "bob"); new_user({sip_address: "sip:zoe@litwareinc.com"}); lock_pin("Ken Myer", {confirm: true})`},
			`\(default is "Y"\): `, true, exitInterrupted,
			`pinsh: interrupted\r?\npinsh: changes committed before the interrupt stay committed ` +
				`\(add_role_member: 1, new_admin_role: 1, new_pin_policy: 1, new_user: 1\); audit_log\(\) lists them`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startPty(t, pinshEnv(dir), append([]string{"--demo"}, tt.args...)...)
			p.expect(tt.wait)
			if tt.ctrlC {
				// Echo is off and Ctrl-C caught before the prompt shows;
				// a Ctrl-C before the read begins cancels it as well.
				p.send(keyCtrlC)
			}
			p.expect(tt.msg)
			if code := p.wait(); code != tt.status {
				t.Errorf("exit status %d, want %d\n%s", code, tt.status, p.screen())
			}
			if !strings.Contains(tt.msg, "committed") && strings.Contains(p.screen(), "committed") {
				t.Errorf("a run that committed nothing speaks of commits:\n%s", p.screen())
			}
			if !p.echoOn() {
				t.Error("echo is left off")
			}
		})
	}
}

// TestPromptReadPinHidden: a PIN typed at read_pin is never printed, even
// when the value is shown (review finding 4).
func TestPromptReadPinHidden(t *testing.T) {
	dir := t.TempDir()
	p := startPty(t, pinshEnv(dir), "--demo")
	p.expect(demoPrompt)
	p.send(`read_pin()` + keyEnter)
	p.expect(`\nPIN: `)
	p.send("482916" + keyEnter)
	p.expect(`<PIN hidden>`)
	p.expect(demoPrompt)
	p.send(`p := read_pin()` + keyEnter)
	p.expect(`\nPIN: `)
	p.send("482917" + keyEnter)
	p.expect(demoPrompt)
	p.send(`p` + keyEnter)
	p.expect(`<PIN hidden>`)
	p.expect(demoPrompt)
	p.send(`set_pin("aidan@litwareinc.com", p).identity` + keyEnter)
	p.expect(`sip:aidan@litwareinc.com`)
	p.expect(demoPrompt)
	p.send(`verify_pin("aidan@litwareinc.com", p).ok` + keyEnter)
	p.expect(`\ntrue\n`)
	p.expect(demoPrompt)
	p.send(keyCtrlD)
	p.wait()

	q := startPty(t, pinshEnv(dir), "--demo", "-c", `read_pin()`)
	q.expect(`PIN: `)
	q.send("482918" + keyEnter)
	q.expect(`<PIN hidden>`)
	q.wait()
	for _, s := range []string{p.screen(), q.screen()} {
		if strings.Contains(s, "48291") {
			t.Errorf("a typed PIN is on the screen:\n%s", s)
		}
	}
}
