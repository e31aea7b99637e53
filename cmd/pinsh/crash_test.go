package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
)

// The crash test: pinsh is SIGKILLed at random moments during bulk and
// one-by-one lock_pin, unlock_pin, set_pin and import on a generated
// database. After every kill the file must pass bbolt's consistency check,
// open in pinsh, and hold every change together with its audit entry: the
// PIN states before and after the run are compared, and each user whose
// lock, PIN or existence changed must have exactly one "ok" audit entry of
// the builtin that makes that change, and each such entry its change.
//
// The short form runs in go test ./...; the long form, for the figures in
// the README:
//
//	go test ./cmd/pinsh -run TestCrash -crash.kills 1000 -v
var (
	crashKills   = flag.Int("crash.kills", 50, "crash test: how many runs of pinsh to SIGKILL")
	crashUsers   = flag.Int("crash.users", 1000, "crash test: users in the generated database")
	crashVerbose = flag.Bool("crash.v", false, "crash test: log every run")
	crashSeed    = flag.Uint64("crash.seed", 0, "crash test: random seed (0: from the clock; the seed is printed)")
)

// crashOp is one kind of run the crash test kills.
type crashOp struct {
	name   string
	action string // the audited builtin whose changes it makes
	args   func(c *crashRun) []string
	// expect is how many changes a run that completes makes, given the
	// state before it.
	expect func(c *crashRun) int
	// lines is how many lines of standard output a run that completes
	// prints: kills wait for a random number of them.
	lines func(expect int) int
	// perItem: a line is printed after each change commits; otherwise the
	// one line is printed after all of them.
	perItem bool
	exit    int // the exit status of a run that completes
}

// Scripts select their targets from the current state, so that every run
// has work to do; the one-by-one forms commit once per user and print a
// line after each commit.
const (
	lockable   = `get_users() | pin_info | where(func(p) { return p.is_pin_set && !p.is_locked_out })`
	unlockable = `get_users() | pin_info | where(func(p) { return p.is_locked_out })`
	settable   = `get_users() | pin_info | where(func(p) { return !p.is_locked_out })`
	oneByOne   = `fmt := import("fmt"); for p in %s | first(%d) | collect { r := %s(p.identity); fmt.println(r) }`
)

// crashPins bounds the PINs set per run: each costs one argon2id hash;
// set_pin commits 256 at a time, so a bulk run commits twice.
const crashPins = 300

// crashImported is how many users an import run adds.
const crashImported = 200

func one(int) int    { return 1 }
func each(n int) int { return n }

var crashOps = []crashOp{
	{name: "lock_pin bulk", action: "lock_pin", lines: one,
		args:   func(c *crashRun) []string { return []string{"-c", lockable + " | lock_pin"} },
		expect: func(c *crashRun) int { return c.count(func(p pinRecord) bool { return p.set && !p.locked }) }},
	{name: "lock_pin one by one", action: "lock_pin", lines: each, perItem: true,
		args: func(c *crashRun) []string {
			return []string{"-c", fmt.Sprintf(oneByOne, lockable, c.users/4, "lock_pin")}
		},
		expect: func(c *crashRun) int {
			return min(c.users/4, c.count(func(p pinRecord) bool { return p.set && !p.locked }))
		}},
	{name: "unlock_pin bulk", action: "unlock_pin", lines: one,
		args:   func(c *crashRun) []string { return []string{"-c", unlockable + " | unlock_pin"} },
		expect: func(c *crashRun) int { return c.count(func(p pinRecord) bool { return p.locked }) }},
	{name: "unlock_pin one by one", action: "unlock_pin", lines: each, perItem: true,
		args: func(c *crashRun) []string {
			return []string{"-c", fmt.Sprintf(oneByOne, unlockable, c.users/4, "unlock_pin")}
		},
		expect: func(c *crashRun) int { return min(c.users/4, c.count(func(p pinRecord) bool { return p.locked })) }},
	{name: "set_pin bulk", action: "set_pin", lines: each, perItem: true,
		args: func(c *crashRun) []string {
			return []string{"-c", fmt.Sprintf("%s | first(%d) | set_pin", settable, crashPins)}
		},
		expect: func(c *crashRun) int { return min(crashPins, c.count(func(p pinRecord) bool { return !p.locked })) }},
	{name: "set_pin one by one", action: "set_pin", lines: each, perItem: true,
		args: func(c *crashRun) []string {
			return []string{"-c", fmt.Sprintf(oneByOne, settable, crashPins/6, "set_pin")}
		},
		expect: func(c *crashRun) int { return min(crashPins/6, c.count(func(p pinRecord) bool { return !p.locked })) }},
	{name: "import", action: "import_users", lines: one, exit: 1, // the file has bad rows
		args:   func(c *crashRun) []string { return []string{"import", c.importFile()} },
		expect: func(*crashRun) int { return crashImported }},
}

// count returns how many users' PIN states before this run satisfy f.
func (c *crashRun) count(f func(pinRecord) bool) int {
	n := 0
	for _, p := range c.pins {
		if f(p) {
			n++
		}
	}
	return n
}

// crashRun is the state of a crash test.
type crashRun struct {
	t        *testing.T
	rng      *rand.Rand
	dir      string
	db, key  string
	env      []string
	users    int
	round    int
	lastSeq  uint64               // the last audit entry checked
	pins     map[string]pinRecord // identity -> PIN state after the last run
	estimate map[string]time.Duration
}

// pinRecord is what the comparison looks at in a user's PIN state.
type pinRecord struct {
	set, locked bool
	lastChange  time.Time
}

// crashOutcome sums up the runs of one op: how the kills fell.
type crashOutcome struct {
	runs, killed                 int
	none, partial, all, finished int // killed with no, some, all changes committed; exited first
	changes                      int
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts hundreds of processes; skipped with -short")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash test: seed %d (rerun with -crash.seed %d), %d users, %d kills", seed, seed, *crashUsers, *crashKills)
	dir := t.TempDir()
	c := &crashRun{
		t: t, rng: rand.New(rand.NewPCG(seed, seed>>1)), dir: dir, users: *crashUsers,
		db: filepath.Join(dir, "crash.db"), key: filepath.Join(dir, "crash.key"),
		estimate: map[string]time.Duration{},
	}
	c.env = []string{"HOME=" + dir, "XDG_STATE_HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		"PINSH_DB=" + c.db, "PINSH_KEY_FILE=" + c.key}
	if out, err := pinshCmd(t, c.env, "generate", strconv.Itoa(c.users)).CombinedOutput(); err != nil {
		t.Fatalf("pinsh generate: %v\n%s", err, out)
	}
	c.pins, c.lastSeq = c.snapshot(nil)
	start := time.Now()
	stats := map[string]*crashOutcome{}
	kills := 0
	for c.round = 1; kills < *crashKills; c.round++ {
		// An op with nothing to do (no locked PIN to unlock) is drawn again.
		op := crashOps[c.rng.IntN(len(crashOps))]
		for op.expect(c) == 0 {
			op = crashOps[c.rng.IntN(len(crashOps))]
		}
		st := stats[op.name]
		if st == nil {
			st = &crashOutcome{}
			stats[op.name] = st
		}
		st.runs++
		expect := op.expect(c)
		killed, how := c.runAndKill(op, expect)
		c.checkFile()
		changed := c.checkChanges(op, how)
		st.changes += changed
		switch {
		case op.perItem && how.seen > changed:
			t.Errorf("%d results printed, but only %d changes committed", how.seen, changed)
		case !op.perItem && how.seen > 0 && changed != expect:
			t.Errorf("the result was printed, but only %d of %d changes committed", changed, expect)
		}
		switch {
		case !killed:
			st.finished++
			if changed != expect || how.exit != op.exit {
				t.Errorf("a run that completed made %d changes (want %d) and exited %d (want %d)", changed, expect, how.exit, op.exit)
			}
		case changed == 0:
			st.none++
		case changed < expect:
			st.partial++
		default:
			st.all++
		}
		if *crashVerbose {
			t.Logf("round %d: %s: %s, %d of %d changes", c.round, op.name, how, changed, expect)
		}
		if killed {
			kills++
			st.killed++
		}
		if t.Failed() {
			t.Fatalf("round %d (%s, %s): seed %d", c.round, op.name, how, seed)
		}
	}
	elapsed := time.Since(start)
	var b strings.Builder
	fmt.Fprintf(&b, "crash test: %d kills in %d runs, %s, seed %d\n", kills, c.round-1, elapsed.Round(time.Second), seed)
	fmt.Fprintf(&b, "%-22s %5s %6s %5s %8s %4s %9s %8s\n", "op", "runs", "killed", "none", "partial", "all", "finished", "changes")
	for _, op := range crashOps {
		if st := stats[op.name]; st != nil {
			fmt.Fprintf(&b, "%-22s %5d %6d %5d %8d %4d %9d %8d\n", op.name, st.runs, st.killed, st.none, st.partial, st.all, st.finished, st.changes)
		}
	}
	t.Log(b.String())
}

// killPlan says when a run was killed.
type killPlan struct {
	mode   string
	lines  int // "lines": after this many lines of output
	writes int // "write": after this many writes to the file
	delay  time.Duration
	seen   int // lines of output read
	exit   int // the exit status, when not killed
}

func (k killPlan) String() string {
	switch k.mode {
	case "lines":
		return fmt.Sprintf("killed after %d lines", k.lines)
	case "open":
		return fmt.Sprintf("killed %v after the database was opened", k.delay)
	case "write":
		return fmt.Sprintf("killed at write %d to the file", k.writes)
	}
	return k.mode
}

// runAndKill starts op and SIGKILLs it at a moment chosen by waiting on a
// condition: a random number of lines of its output (each printed after a
// commit), the database file being opened plus a random part of the run's
// usual duration, or the first write to the file (a commit in progress).
// It reports whether the process was killed (false: it exited first).
func (c *crashRun) runAndKill(op crashOp, expect int) (bool, killPlan) {
	t := c.t
	args := append([]string{"--output", "jsonl", "--now", c.now().Format(time.RFC3339Nano)}, op.args(c)...)
	cmd := pinshCmd(t, c.env, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	before, err := os.Stat(c.db)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan struct{}, 1<<16)
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- struct{}{}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(exited)
	}()

	var plan killPlan
	switch r := c.rng.IntN(3); r {
	case 0:
		plan = killPlan{mode: "lines", lines: 1 + c.rng.IntN(op.lines(expect))}
	case 1:
		est := c.estimate[op.name]
		if est == 0 {
			est = 200 * time.Millisecond
		}
		plan = killPlan{mode: "open", delay: time.Duration(c.rng.Int64N(int64(est) + 1))}
	default:
		plan = killPlan{mode: "write", writes: 1 + c.rng.IntN(3)}
	}
	seen := 0
	wait := func(cond func() bool) bool { // false: the process exited first
		for !cond() {
			select {
			case <-exited:
				return false
			case <-lines:
				seen++
			case <-time.After(200 * time.Microsecond):
			}
		}
		return true
	}
	alive := true
	switch plan.mode {
	case "lines":
		alive = wait(func() bool { return seen >= plan.lines })
	case "open":
		alive = wait(func() bool { return hasOpen(cmd.Process.Pid, c.db) })
		if alive {
			deadline := time.Now().Add(plan.delay)
			alive = wait(func() bool { return !time.Now().Before(deadline) })
		}
	case "write":
		writes, last := 0, before
		alive = wait(func() bool {
			st, err := os.Stat(c.db)
			if err == nil && (st.Size() != last.Size() || !st.ModTime().Equal(last.ModTime())) {
				writes, last = writes+1, st
			}
			return writes >= plan.writes
		})
	}
	killed := false
	if alive {
		killed = cmd.Process.Signal(syscall.SIGKILL) == nil
	}
	<-exited
	if !killed {
		// Learn how long a whole run of op takes, for "open" kills.
		c.estimate[op.name] = time.Since(started)
	} else if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !st.Signaled() {
		killed = false // it had exited by itself just before the signal
	}
	for len(lines) > 0 {
		<-lines
		seen++
	}
	plan.seen = seen
	if !killed {
		plan.exit = cmd.ProcessState.ExitCode()
	}
	return killed, plan
}

// hasOpen reports whether process pid has the file path open.
func hasOpen(pid int, path string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == path {
			return true
		}
	}
	return false
}

// now is the frozen clock of the current round: each round its own minute,
// so that a PIN set in this round is told by its last change time.
func (c *crashRun) now() time.Time {
	return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.round) * time.Minute)
}

// importFile writes this round's import file: new users, a few bad rows
// and a duplicate of an existing user.
func (c *crashRun) importFile() string {
	path := filepath.Join(c.dir, "import.csv")
	var b strings.Builder
	b.WriteString("sip_address,display_name,sam_account_name,domain\n")
	for i := range crashImported {
		fmt.Fprintf(&b, "sip:crash%d.%d@contoso.com,Crash %d %d,crash%d_%d,contoso\n", c.round, i, c.round, i, c.round, i)
		if i%50 == 0 {
			b.WriteString("not-an-address,Bad,bad,contoso\n")
		}
	}
	b.WriteString("sip:user0000001@contoso.com,Duplicate,dup,contoso\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// checkFile runs bbolt's consistency check on the database and opens it
// with pinsh.
func (c *crashRun) checkFile() {
	t := c.t
	db, err := bolt.Open(c.db, 0o600, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("bbolt open after the kill: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err := pinshCmd(t, c.env, "-c", "audit_log() | count").CombinedOutput()
	if err != nil {
		t.Fatalf("pinsh cannot use the database after the kill: %v\n%s", err, out)
	}
}

// snapshot reads every user's PIN state and the audit entries after
// c.lastSeq (none when c.pins is nil: the first snapshot).
func (c *crashRun) snapshot(entries *[]store.AuditEntry) (map[string]pinRecord, uint64) {
	t := c.t
	ctx := context.Background()
	st, err := boltstore.Open(c.db, boltstore.Options{KeyFile: c.key, LockTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("open the database after the kill: %v", err)
	}
	defer st.Close()
	pins := map[string]pinRecord{}
	for after := store.UserID(0); ; {
		infos, next, err := st.ScanPinInfos(ctx, store.UserQuery{}, after, 4096)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range infos {
			pins[p.Identity] = pinRecord{set: p.IsSet, locked: p.IsLockedOut(), lastChange: p.LastChange}
		}
		if next == 0 {
			break
		}
		after = next
	}
	last := c.lastSeq
	for after := c.lastSeq; ; {
		es, next, err := st.ScanAudit(ctx, store.AuditQuery{}, after, 4096)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Seq != last+1 && last != 0 {
				t.Errorf("audit entry %d follows entry %d", e.Seq, last)
			}
			last = e.Seq
			if entries != nil {
				*entries = append(*entries, e)
			}
		}
		if next == 0 {
			break
		}
		after = next
	}
	return pins, last
}

// checkChanges compares the state after the run with the state before and
// with the audit entries the run committed, and returns how many changes
// it committed.
func (c *crashRun) checkChanges(op crashOp, how killPlan) int {
	t := c.t
	var entries []store.AuditEntry
	pins, last := c.snapshot(&entries)
	// What changed, by the builtin that changes it.
	changed := map[string][]string{}
	for id, after := range pins {
		before, existed := c.pins[id]
		switch {
		case !existed:
			changed["import_users"] = append(changed["import_users"], id)
			continue
		case !before.locked && after.locked:
			changed["lock_pin"] = append(changed["lock_pin"], id)
		case before.locked && !after.locked:
			changed["unlock_pin"] = append(changed["unlock_pin"], id)
		}
		if !after.lastChange.Equal(before.lastChange) {
			changed["set_pin"] = append(changed["set_pin"], id)
			if !after.lastChange.Equal(c.now()) {
				t.Errorf("%s: last PIN change %v, not this run's %v", id, after.lastChange, c.now())
			}
		}
	}
	for id := range c.pins {
		if _, ok := pins[id]; !ok {
			t.Errorf("%s: the user is gone", id)
		}
	}
	// What the audit log says was changed.
	audited := map[string][]string{}
	for _, e := range entries {
		if e.Outcome != "ok" {
			t.Errorf("audit entry %d: outcome %q of %s %s: this test makes no refused changes", e.Seq, e.Outcome, e.Action, e.Target)
			continue
		}
		if !e.Time.Equal(c.now()) {
			t.Errorf("audit entry %d of %s %s: time %v, not this run's %v", e.Seq, e.Action, e.Target, e.Time, c.now())
		}
		audited[e.Action] = append(audited[e.Action], e.Target)
	}
	n := 0
	for action := range mergeKeys(changed, audited) {
		ch, au := changed[action], audited[action]
		slices.Sort(ch)
		slices.Sort(au)
		if action != op.action && len(ch)+len(au) > 0 {
			t.Errorf("a %s run: %d %s changes and %d %s audit entries", op.name, len(ch), action, len(au), action)
		}
		for _, id := range missing(ch, au) {
			t.Errorf("%s: changed by %s without its audit entry (%s)", id, action, how)
		}
		for _, id := range missing(au, ch) {
			t.Errorf("%s: audit entry of %s without its change (%s)", id, action, how)
		}
		if len(au) != len(slices.Compact(slices.Clone(au))) {
			t.Errorf("%s: a target audited twice in one run (%s)", action, how)
		}
		n += len(ch)
	}
	c.pins, c.lastSeq = pins, last
	return n
}

// mergeKeys returns the keys of a and b.
func mergeKeys(a, b map[string][]string) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// missing returns the elements of sorted a that sorted b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}
