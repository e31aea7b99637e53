package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pinsh/pinsh/internal/procbench"
)

// benchNames are the benchmarks, in the order they run.
var benchNames = []string{"startup", "verify_pin", "count", "count-map", "lock", "lock-map", "unlock", "set_pin", "import", "compute", "gcpolicy", "memory"}

// The pipelines, as a user types them.
const (
	closure    = `where(func(p) { return p.is_pin_set && !p.is_locked_out })`
	fieldMap   = `where({is_pin_set: true, is_locked_out: false})`
	pinInfo    = `get_users() | pin_info | `
	sqlWhere   = ` WHERE is_pin_set=1 AND is_locked_out=0`
	sqlLock    = `UPDATE users SET is_locked_out=1` + sqlWhere + `; SELECT changes();`
	sqlCount   = `SELECT count(*) FROM users` + sqlWhere + `;`
	sqlUnlock  = `UPDATE users SET is_locked_out=0 WHERE is_locked_out=1; SELECT changes();`
	unlockCode = pinInfo + `where({is_locked_out: true}) | unlock_pin`
)

// syntheticPIN is the PIN of every user pinsh generate gives one
// (store/sample.SyntheticPIN).
const syntheticPIN = "86429"

// bench holds what the benchmarks share.
type bench struct {
	o        *options
	ctx      context.Context
	logf     func(string, ...any)
	out      io.Writer
	progress io.Writer

	pinsh, tengo, hello, sqlite string   // programs
	env                         []string // pinsh's environment: its files under the work directory
	dirs                        map[int]string
	legend                      []string // what each row's name stands for
	narrow, wide                string   // sqlite3 databases of the big directory
	lockedDir                   string   // the big directory after the lock pipeline
	narrowLocked, wideLocked    string
	usersCSV                    string // the big directory's users, exported by pinsh
	withPIN, withoutPIN         string // a user with a set, unlocked PIN, and one without
}

func (b *bench) path(elem ...string) string {
	return filepath.Join(append([]string{b.o.work}, elem...)...)
}

func (b *bench) say(format string, a ...any) {
	fmt.Fprintf(b.progress, "pinsh-bench: "+format+"\n", a...)
}

// build builds pinsh, plain Tengo's command line and a hello-world program
// into the work directory.
func (b *bench) build() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	bin := b.path("bin")
	b.pinsh, b.tengo, b.hello = filepath.Join(bin, "pinsh"), filepath.Join(bin, "tengo"), filepath.Join(bin, "hello")
	b.say("building pinsh, tengo and hello into %s", bin)
	if b.o.pinsh != "" {
		b.pinsh = b.o.pinsh
	} else if err := goBuild(root, b.pinsh, "./cmd/pinsh"); err != nil {
		return err
	}
	// Plain Tengo: the command of the Tengo module pinsh depends on, at the
	// version in go.mod.
	if err := goBuild(root, b.tengo, "github.com/d5/tengo/v2/cmd/tengo"); err != nil {
		return err
	}
	hdir := b.path("hello")
	if err := os.MkdirAll(hdir, 0o700); err != nil {
		return err
	}
	for name, text := range map[string]string{
		"go.mod":  "module hello\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	} {
		if err := os.WriteFile(filepath.Join(hdir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	if err := goBuild(hdir, b.hello, "."); err != nil {
		return err
	}
	b.env = []string{
		"XDG_CONFIG_HOME=" + b.path("config"),
		"XDG_STATE_HOME=" + b.path("state"),
		"XDG_DATA_HOME=" + b.path("data"),
	}
	return nil
}

// moduleRoot is the directory of the main module (this repository).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run pinsh-bench inside the pinsh repository (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// goBuild builds pkg as the README installs pinsh: with CGO_ENABLED=0, a
// statically linked program (see the README's Start-up paragraph).
func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
	}
	return nil
}

// runAll prepares what the selected benchmarks need and runs them.
func (b *bench) runAll() error {
	if err := b.prepare(); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"startup", b.startup},
		{"verify_pin", b.verifyPIN},
		{"count", func() error { return b.count("count", closure) }},
		{"count-map", func() error { return b.count("count-map", fieldMap) }},
		{"lock", func() error { return b.lock("lock", closure) }},
		{"lock-map", func() error { return b.lock("lock-map", fieldMap) }},
		{"unlock", b.unlock},
		{"set_pin", b.setPIN},
		{"import", b.importCSV},
		{"compute", b.compute},
		{"gcpolicy", b.gcPolicy},
		{"memory", b.memory},
	}
	started := false
	for _, st := range steps {
		if !b.o.wants(st.name) {
			continue
		}
		if !started {
			fmt.Fprintf(b.out, "\n| benchmark | pinsh cpu s | pinsh wall s | against | its cpu s | its wall s | cpu ratio | wall ratio |\n|---|---|---|---|---|---|---|---|\n")
			started = true
		}
		b.say("%s", st.name)
		if err := st.fn(); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
	}
	if len(b.legend) > 0 {
		fmt.Fprintf(b.out, "\n%s\n", strings.Join(b.legend, "\n"))
	}
	return nil
}

// explain adds a line to the legend printed under the table.
func (b *bench) explain(format string, a ...any) {
	b.legend = append(b.legend, "- "+fmt.Sprintf(format, a...))
}

// cell makes text safe in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// prepare makes the directories (pinsh generate), the CSV export and the
// sqlite3 databases, unless the work directory has them from an earlier run.
func (b *bench) prepare() error {
	b.dirs = map[int]string{}
	need := map[int]bool{b.o.big: true, b.o.sizes[0]: true}
	if b.o.wants("memory") {
		for _, n := range b.o.sizes {
			need[n] = true
		}
	}
	for n := range need {
		p := b.path("dirs", "users-"+sizeName(n)+".db")
		if err := b.generate(p, n); err != nil {
			return err
		}
		b.dirs[n] = p
	}
	big := b.dirs[b.o.big]
	var err error
	if b.withPIN, err = b.firstIdentity(big, `{is_pin_set: true, is_locked_out: false}`); err != nil {
		return err
	}
	if b.withoutPIN, err = b.firstIdentity(big, `{is_pin_set: false}`); err != nil {
		return err
	}
	b.lockedDir = b.path("dirs", "users-"+sizeName(b.o.big)+"-locked.db")
	if err := b.derive(b.lockedDir, big, func(tmp string) error {
		_, err := b.pinshOnce(tmp, pinInfo+closure+" | lock_pin")
		return err
	}); err != nil {
		return err
	}
	b.usersCSV = b.path("dirs", "users-"+sizeName(b.o.big)+".csv")
	pinsCSV := b.path("dirs", "pins-"+sizeName(b.o.big)+".csv")
	for csv, code := range map[string]string{b.usersCSV: `get_users()`, pinsCSV: `get_users() | pin_info`} {
		if err := b.derive(csv, "", func(tmp string) error {
			_, err := b.pinshOnce(big, fmt.Sprintf("%s | export_csv(%q)", code, tmp))
			return err
		}); err != nil {
			return err
		}
	}
	if b.sqlite == "" {
		return nil
	}
	b.narrow = b.path("dirs", "narrow-"+sizeName(b.o.big)+".sqlite")
	b.wide = b.path("dirs", "wide-"+sizeName(b.o.big)+".sqlite")
	b.narrowLocked = b.path("dirs", "narrow-"+sizeName(b.o.big)+"-locked.sqlite")
	b.wideLocked = b.path("dirs", "wide-"+sizeName(b.o.big)+"-locked.sqlite")
	userCols, err := csvHeader(b.usersCSV)
	if err != nil {
		return err
	}
	pinCols, err := csvHeader(pinsCSV)
	if err != nil {
		return err
	}
	for db, sql := range map[string]string{
		b.narrow: narrowSQL(pinsCSV),
		b.wide:   wideSQL(b.usersCSV, pinsCSV, userCols, pinCols),
	} {
		if err := b.derive(db, "", func(tmp string) error { return b.sqliteOnce(tmp, sql) }); err != nil {
			return err
		}
	}
	for locked, from := range map[string]string{b.narrowLocked: b.narrow, b.wideLocked: b.wide} {
		if err := b.derive(locked, from, func(tmp string) error { return b.sqliteOnce(tmp, sqlLock) }); err != nil {
			return err
		}
	}
	return nil
}

// generate makes the directory of n users at path with pinsh generate.
func (b *bench) generate(path string, n int) error {
	return b.derive(path, "", func(tmp string) error {
		b.say("pinsh generate %s (once; kept in %s)", thousands(n), filepath.Dir(path))
		cmd := exec.CommandContext(b.ctx, b.pinsh, "--db", tmp, "generate", fmt.Sprint(n))
		cmd.Env = append(os.Environ(), b.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("pinsh generate %d: %v\n%s", n, err, out)
		}
		return nil
	})
}

// derive makes the file path unless it exists (and -fresh is not given):
// it copies from (if not empty) to a temporary name, has make finish it,
// and renames it to path, so that an interrupted run leaves no half-made
// file behind for the next one to trust.
func (b *bench) derive(path, from string, make func(tmp string) error) error {
	if _, err := os.Stat(path); err == nil && !b.o.fresh {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if from != "" {
		if err := copyFile(tmp, from); err != nil {
			return err
		}
	}
	if err := make(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// copyFile copies from to a new private file to (pinsh refuses a database
// that other users may read).
func copyFile(to, from string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	os.Remove(to)
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// pinshCmd is pinsh running code on the database db.
func (b *bench) pinshCmd(name, db, code string) procbench.Command {
	return procbench.Command{Name: name, Path: b.pinsh, Args: []string{"--db", db, "-c", code}, Env: b.env}
}

// pinshOnce runs code on db once, untimed, and returns its output.
func (b *bench) pinshOnce(db, code string) ([]byte, error) {
	s, err := procbench.Run(b.ctx, b.pinshCmd("pinsh", db, code), 0)
	return s.Stdout, err
}

func (b *bench) sqliteCmd(name, db, sql string) procbench.Command {
	return procbench.Command{Name: name, Path: b.sqlite, Args: []string{db}, Stdin: []byte(sql)}
}

func (b *bench) sqliteOnce(db, sql string) error {
	_, err := procbench.Run(b.ctx, b.sqliteCmd("sqlite3", db, sql), 0)
	return err
}

func (b *bench) sqliteVersion() string {
	out, err := exec.Command(b.sqlite, "-version").Output()
	if f := strings.Fields(string(out)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "(version unknown)"
}

// firstIdentity returns the identity of the first user of db whose PIN
// state matches the field map.
func (b *bench) firstIdentity(db, fields string) (string, error) {
	out, err := b.pinshOnce(db, pinInfo+"where("+fields+") | first(1) | select(\"identity\")")
	if err != nil {
		return "", err
	}
	var rec struct{ Identity string }
	if err := json.Unmarshal(bytes.TrimSpace(out), &rec); err != nil || rec.Identity == "" {
		return "", fmt.Errorf("no user matching %s in %s (pinsh printed %q)", fields, db, out)
	}
	return rec.Identity, nil
}

// fresh returns a Before function that gives each run its own copy of the
// database pristine at work path run, and, for pinsh, has pinsh write to
// the copy once untimed: the first write to a file pinsh has not seen
// checks the whole file (boltstore), which a user's own database, written
// by their previous run, does not pay again.
func (b *bench) fresh(pristine, run string, isPinsh bool) func() error {
	return func() error {
		if err := copyFile(run, pristine); err != nil {
			return err
		}
		if !isPinsh {
			return nil
		}
		// Unlocking a user without a PIN changes nothing but is a write
		// (its refusal is audited); it exits 1 for the user it skipped.
		cmd := exec.CommandContext(b.ctx, b.pinsh, "--db", run, "-c", fmt.Sprintf("unlock_pin(%q)", b.withoutPIN))
		cmd.Env = append(os.Environ(), b.env...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 1) {
			return fmt.Errorf("priming %s: %v\n%s", run, err, out)
		}
		return nil
	}
}

// alternate runs the commands alternately as the options say.
func (b *bench) alternate(sampleAnon time.Duration, cmds ...procbench.Command) ([][]procbench.Sample, error) {
	return procbench.Alternate(b.ctx, procbench.Config{Runs: b.o.runs, Warmup: b.o.warmup, SampleAnon: sampleAnon, Logf: b.logf}, cmds...)
}

// row prints pinsh's figures against another command's (nil: none).
func (b *bench) row(name string, p []procbench.Sample, against string, other []procbench.Sample) {
	pc, pw := cpuWall(p)
	if other == nil {
		fmt.Fprintf(b.out, "| %s | %s | %s | — | | | | |\n", cell(name), pc.Text(3), pw.Text(3))
		return
	}
	oc, ow := cpuWall(other)
	_, _, rc := procbench.Compare(p, other, procbench.CPU)
	_, _, rw := procbench.Compare(p, other, procbench.Wall)
	fmt.Fprintf(b.out, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(name), pc.Text(3), pw.Text(3), cell(against), oc.Text(3), ow.Text(3), rc.Text(2), rw.Text(2))
}

func (b *bench) startup() error {
	small := b.dirs[b.o.sizes[0]]
	res, err := b.alternate(0, b.pinshCmd("pinsh", small, "1"), procbench.Command{Name: "hello", Path: b.hello})
	if err != nil {
		return err
	}
	b.explain("start-up: `pinsh --db D -c 1` on a directory of %s users, against a Go program printing hello", thousands(b.o.sizes[0]))
	b.row("start-up", res[0], "hello world", res[1])
	return nil
}

func (b *bench) verifyPIN() error {
	big := b.dirs[b.o.big]
	code := fmt.Sprintf("verify_pin(%q, %q)", b.withPIN, syntheticPIN)
	res, err := b.alternate(0, b.pinshCmd("pinsh", big, code))
	if err != nil {
		return err
	}
	b.explain("verify_pin: `pinsh --db D -c 'verify_pin(USER, PIN)'`, one argon2id hash and its audit entry")
	b.row("verify_pin", res[0], "", nil)
	return nil
}

// sqliteRows runs pinsh against the narrow and wide sqlite3 tables (or
// alone without sqlite3) and prints a row for each comparison; check, when
// not nil, compares what pinsh and sqlite3 printed in the first timed run.
func (b *bench) sqliteRows(name string, p procbench.Command, narrow, wide procbench.Command, check func(pinsh, lite []byte) error) error {
	cmds := []procbench.Command{p}
	if b.sqlite != "" {
		cmds = append(cmds, narrow, wide)
	}
	res, err := b.alternate(0, cmds...)
	if err != nil {
		return err
	}
	if b.sqlite == "" {
		b.row(name, res[0], "", nil)
		return nil
	}
	if check != nil {
		for _, r := range res[1:] {
			if err := check(res[0][0].Stdout, r[0].Stdout); err != nil {
				return err
			}
		}
	}
	b.row(name, res[0], "sqlite3 narrow", res[1])
	b.row(name, res[0], "sqlite3 wide", res[2])
	return nil
}

func (b *bench) count(name, filter string) error {
	code := pinInfo + filter + " | count"
	b.explain("%s: `pinsh --db D -c '%s'`; sqlite3: `%s`", name, code, sqlCount)
	return b.sqliteRows(name,
		b.pinshCmd("pinsh", b.dirs[b.o.big], code),
		b.sqliteCmd("narrow", b.narrow, sqlCount), b.sqliteCmd("wide", b.wide, sqlCount),
		sameCount)
}

// sameCount checks that pinsh and sqlite3 counted the same.
func sameCount(pinsh, lite []byte) error {
	if p, l := strings.TrimSpace(string(pinsh)), strings.TrimSpace(string(lite)); p != l || p == "" {
		return fmt.Errorf("pinsh counted %q, sqlite3 %q: they are not doing the same work", p, l)
	}
	return nil
}

// sameChanges checks that pinsh's summary ({"changed": N, ...}) says it
// changed what sqlite3's changes() says it did.
func sameChanges(pinsh, lite []byte) error {
	var sum struct {
		Changed *int `json:"changed"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(pinsh), &sum); err != nil || sum.Changed == nil {
		return fmt.Errorf("pinsh printed %q, not a summary with changed", pinsh)
	}
	if l := strings.TrimSpace(string(lite)); fmt.Sprint(*sum.Changed) != l {
		return fmt.Errorf("pinsh changed %d users, sqlite3 %q: they are not doing the same work", *sum.Changed, l)
	}
	return nil
}

func (b *bench) lock(name, filter string) error {
	code := pinInfo + filter + " | lock_pin"
	p := b.pinshCmd("pinsh", b.path("run", "lock.db"), code)
	p.Before = b.fresh(b.dirs[b.o.big], p.Args[1], true)
	narrow := b.sqliteCmd("narrow", b.path("run", "narrow.sqlite"), sqlLock)
	narrow.Before = b.fresh(b.narrow, narrow.Args[0], false)
	wide := b.sqliteCmd("wide", b.path("run", "wide.sqlite"), sqlLock)
	wide.Before = b.fresh(b.wide, wide.Args[0], false)
	b.explain("%s: `pinsh --db D -c '%s'`; sqlite3: `%s` (a fresh copy of the database for each run)", name, code, sqlLock)
	return b.sqliteRows(name, p, narrow, wide, sameChanges)
}

func (b *bench) unlock() error {
	p := b.pinshCmd("pinsh", b.path("run", "unlock.db"), unlockCode)
	p.Before = b.fresh(b.lockedDir, p.Args[1], true)
	narrow := b.sqliteCmd("narrow", b.path("run", "narrow.sqlite"), sqlUnlock)
	narrow.Before = b.fresh(b.narrowLocked, narrow.Args[0], false)
	wide := b.sqliteCmd("wide", b.path("run", "wide.sqlite"), sqlUnlock)
	wide.Before = b.fresh(b.wideLocked, wide.Args[0], false)
	b.explain("unlock: `pinsh --db D -c '%s'` after the lock pipeline; sqlite3: `%s` (a fresh copy for each run)", unlockCode, sqlUnlock)
	return b.sqliteRows("unlock", p, narrow, wide, sameChanges)
}

func (b *bench) setPIN() error {
	code := fmt.Sprintf(pinInfo+"where({is_locked_out: false}) | first(%d) | set_pin", b.o.setPins)
	p := b.pinshCmd("pinsh", b.path("run", "setpin.db"), code)
	p.Before = b.fresh(b.dirs[b.o.big], p.Args[1], true)
	res, err := b.alternate(0, p)
	if err != nil {
		return err
	}
	if n := bytes.Count(res[0][0].Stdout, []byte(`"pin":"`)); n < min(b.o.setPins, 1000) {
		return fmt.Errorf("set_pin printed %d generated PINs, want %d", n, b.o.setPins)
	}
	b.explain("set_pin: `pinsh --db D -c '%s'`: a generated PIN and an argon2id hash each (a fresh copy for each run); sqlite3 hashes nothing, so no comparison", code)
	b.row("set_pin", res[0], "", nil)
	return nil
}

func (b *bench) importCSV() error {
	target := b.path("run", "import.db")
	p := procbench.Command{Name: "pinsh", Path: b.pinsh, Args: []string{"--db", target, "import", b.usersCSV}, Env: b.env,
		Before: func() error { return removeAll(target) }}
	cmds := []procbench.Command{p}
	lite := b.path("run", "import.sqlite")
	if b.sqlite != "" {
		cmds = append(cmds, procbench.Command{Name: "sqlite3", Path: b.sqlite, Args: []string{lite, "-cmd", ".mode csv", ".import " + b.usersCSV + " users"},
			Before: func() error { return removeAll(lite) }})
	}
	res, err := b.alternate(0, cmds...)
	if err != nil {
		return err
	}
	name := "import"
	b.explain("import: `pinsh --db NEW import users.csv`, the %s users pinsh exported; sqlite3: `.mode csv` `.import users.csv users` into a new database", thousands(b.o.big))
	if b.sqlite == "" {
		b.row(name, res[0], "", nil)
	} else {
		b.row(name, res[0], "sqlite3 `.import`", res[1])
	}
	return nil
}

// removeAll removes a database and what sits beside it (a key file, a
// journal), so that the run starts from nothing.
func removeAll(db string) error {
	matches, _ := filepath.Glob(db + "*")
	for _, m := range append(matches, db) {
		if err := os.Remove(m); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// gcPolicy runs pinsh under its garbage collector policy
// (cmd/pinsh/gcpolicy.go) against the runtime's default (GOGC=100, which
// leaves the runtime's settings alone), on a pipeline that keeps little
// alive and one that keeps every record.
func (b *bench) gcPolicy() error {
	big := b.dirs[b.o.big]
	b.explain("gcpolicy: pinsh under its GC policy against the same command with GOGC=100 (the runtime's default)")
	for _, tc := range []struct{ name, code string }{
		{"count", pinInfo + closure + " | count"},
		{"collect", "len(get_users() | pin_info | collect)"},
	} {
		p := b.pinshCmd("pinsh", big, tc.code)
		d := b.pinshCmd("GOGC=100", big, tc.code)
		d.Env = append(append([]string(nil), b.env...), "GOGC=100")
		res, err := b.alternate(0, p, d)
		if err != nil {
			return err
		}
		if err := sameCount(res[0][0].Stdout, res[1][0].Stdout); err != nil {
			return err
		}
		b.row("gcpolicy: "+tc.name, res[0], "GOGC=100", res[1])
	}
	return nil
}

// memory prints the peak memory of the lock pipeline at each size.
func (b *bench) memory() error {
	code := pinInfo + closure + " | lock_pin"
	fmt.Fprintf(b.out, "\nPeak memory of `pinsh --db D -c '%s'` (a fresh copy for each run; RssAnon sampled every 2 ms; RSS is the kernel's peak, the database's mapped pages included):\n\n", code)
	fmt.Fprintf(b.out, "| users | peak RssAnon MiB | peak RSS MiB | cpu s |\n|---|---|---|---|\n")
	for _, n := range b.o.sizes {
		p := b.pinshCmd("pinsh", b.path("run", "memory.db"), code)
		p.Before = b.fresh(b.dirs[n], p.Args[1], true)
		res, err := b.alternate(2*time.Millisecond, p)
		if err != nil {
			return err
		}
		anon := procbench.Summarize(procbench.Values(res[0], procbench.PeakAnon))
		rss := procbench.Summarize(procbench.Values(res[0], procbench.MaxRSS))
		cpu := procbench.Summarize(procbench.Values(res[0], procbench.CPU))
		fmt.Fprintf(b.out, "| %s | %s | %s | %s |\n", thousands(n), anon.Text(1), rss.Text(1), cpu.Text(3))
	}
	return nil
}
