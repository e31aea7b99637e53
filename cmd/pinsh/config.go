package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pinsh/pinsh/internal/cut"
	"github.com/pinsh/pinsh/store/boltstore"
)

// Exit statuses (design §2).
const (
	exitOK          = 0
	exitFailure     = 1 // a runtime error, or a per-item error that was shown
	exitUsage       = 2 // usage or compile (syntax) error
	exitDatabase    = 3 // the database could not be opened or written, or --as was refused
	exitInterrupted = 130
)

// mode is what one run of pinsh does.
type mode int

const (
	modePrompt   mode = iota // interactive prompt
	modeFile                 // run FILE.tengo
	modeCode                 // run -c CODE
	modeStdin                // run the script on standard input
	modeTest                 // pinsh test [PATH...]
	modeImport               // pinsh import FILE
	modeGenerate             // pinsh generate N
	modeResetKey             // pinsh reset-key
	modeMigrate              // pinsh migrate --from SRC --to DST
	modeHelp
	modeVersion
)

// config is one run's setup, from the command line and the environment.
type config struct {
	mode    mode
	dbPath  string
	keyPath string
	demo    bool
	// as is the operator: until resolveOperator, what --as or
	// PINSH_OPERATOR asked for ("" neither); after it, who acts.
	as       string
	asGiven  bool   // --as was on the command line (pinsh test ignores PINSH_OPERATOR)
	asSource string // how an operator was asked for, for messages: `--as "x"`, or `PINSH_OPERATOR="x" (environment)`
	// account is who runs pinsh as the database backend knows it: on a
	// file database the OS account (boltstore.Operator); on a remote one,
	// whom it authenticated (remoteDB.Account).
	account string
	// actedBy is the account when it acts for another operator (as): it
	// must be a CsAdministrator (see app.authorizeActing), and the audit
	// log records both.
	actedBy   string
	dbDefault bool // the database path is the default one, not --db or PINSH_DB
	// remote is the connection to the database when --db is a URL
	// (etcd://...), made before the operator is known; nil for a file.
	remote    remoteDB
	now       time.Time // zero: the wall clock
	whatIf    bool
	output    string // "" (choose by terminal), table, json, jsonl, csv
	timeout   time.Duration
	code      string   // -c
	file      string   // script, import file
	args      []string // script arguments, test paths
	count     int      // generate N
	junit     string   // test --junit FILE
	cluster   string   // test --cluster URL: run the tests on that remote database
	ps        bool     // the script or prompt is PowerShell (--ps, or FILE.ps1)
	translate bool     // --translate: print the Tengo form of the PowerShell script
	// migrate --from, --to, --merge
	migrateFrom, migrateTo string
	migrateMerge           bool

	// ignoredWithDemo lists the flags --demo makes pointless (--db, --key),
	// for a warning.
	ignoredWithDemo []string
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

const usageText = `pinsh is an admin shell for dial-in PINs.

Usage:
  pinsh [flags]                      interactive prompt (no terminal: the script on standard input)
  pinsh [flags] FILE.tengo [ARG...]  run a script; ARGs are in the global args
  pinsh [flags] -c CODE              run CODE
  pinsh [flags] -                    run the script read from standard input
  pinsh [flags] FILE.ps1 [ARG...]    run a PowerShell script (--ps: -c, - and the prompt too)
  pinsh --ps --translate FILE.ps1    print the Tengo form of a PowerShell script
  pinsh [flags] test [--junit FILE] [--cluster URL] [PATH...]
                                     run *_test.tengo and *_test.ps1 files (default: scripts/),
                                     each on a fresh sample directory: a temporary
                                     file, or a new directory of the cluster at URL
                                     (env PINSH_TEST_CLUSTER)
  pinsh [flags] import FILE          import users (CSV, JSON Lines, LDIF)
  pinsh [flags] generate N           add N synthetic users
  pinsh [flags] reset-key            after a lost key file: a new key, every PIN cleared
  pinsh [flags] migrate --from SRC --to DST [--merge]
                                     copy a whole directory (users, PIN hashes, policies,
                                     roles, audit log) between files and etcd:// URLs,
                                     then verify the copy

Exit status: 0 success; 1 a runtime error or a per-item error shown;
2 usage or syntax error; 3 the database could not be opened or written
(busy, damaged, no permission, disk full, --as refused) or its key file
is wrong; 130 interrupted.

The operator is the OS account running pinsh; --as acts for another
(with --demo and pinsh test, anyone; on a real database, only a
CsAdministrator may, and the audit log records both).

At the prompt: help lists the builtins, help NAME shows one; Tab completes;
Ctrl-C discards the line or aborts a running input; Ctrl-D exits.

Flags:
`

// parseConfig reads the command line args (without the program name) and
// the environment through getenv; --help is written to out. It fails with a
// *usageError.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("pinsh", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.dbPath, "db", getenv("PINSH_DB"), "database `PATH` (env PINSH_DB; default $XDG_DATA_HOME/pinsh/pinsh.db)")
	fs.StringVar(&c.keyPath, "key", getenv("PINSH_KEY_FILE"), "PIN hashing key `FILE`, kept apart from the database (env PINSH_KEY_FILE; default $XDG_CONFIG_HOME/pinsh/pin.key)")
	fs.BoolVar(&c.demo, "demo", false, "use a fresh temporary database seeded with the sample directory")
	fs.StringVar(&c.as, "as", getenv("PINSH_OPERATOR"), "act as operator `NAME` for roles and the audit log: free with --demo and pinsh test; on a real database only for a CsAdministrator, audited as both (env PINSH_OPERATOR, which pinsh test ignores; default: the OS account)")
	nowFlag := fs.String("now", getenv("PINSH_NOW"), "freeze the clock at an RFC 3339 `TIME` (env PINSH_NOW)")
	fs.BoolVar(&c.whatIf, "whatif", false, "every mutating builtin only says what it would do")
	fs.StringVar(&c.output, "output", "", "output `FORMAT`: table, json, jsonl, csv (default: table on a terminal, jsonl otherwise)")
	fs.DurationVar(&c.timeout, "timeout", 0, "abort the script after `DURATION` (e.g. 30s, 5m; without it, no time limit)")
	fs.StringVar(&c.code, "c", "", "run `CODE`")
	fs.BoolVar(&c.ps, "ps", false, "the prompt, -c CODE or the script is PowerShell (a FILE.ps1 is without --ps)")
	fs.BoolVar(&c.translate, "translate", false, "with --ps: print the Tengo form of the PowerShell script instead of running it")
	help := fs.Bool("help", false, "show this help")
	fs.BoolVar(help, "h", false, "show this help")
	version := fs.Bool("version", false, "show the version")

	if err := fs.Parse(args); err != nil {
		return nil, &usageError{cut.Message(err.Error()) + "\nrun 'pinsh --help' for usage"}
	}
	switch {
	case *help:
		fmt.Fprint(out, usageText)
		fs.SetOutput(out)
		fs.PrintDefaults()
		c.mode = modeHelp
		return c, nil
	case *version:
		c.mode = modeVersion
		return c, nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	c.asGiven = given["as"]
	switch {
	case c.asGiven:
		c.asSource = "--as " + cut.Quote(c.as)
	case c.as != "":
		c.asSource = "PINSH_OPERATOR=" + cut.Quote(c.as) + " (environment)"
	}
	if c.demo {
		for _, name := range []string{"db", "key"} {
			if given[name] {
				c.ignoredWithDemo = append(c.ignoredWithDemo, "--"+name)
			}
		}
	}
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			source := "--now " + cut.Quote(*nowFlag)
			if !given["now"] {
				source = "PINSH_NOW=" + cut.Quote(*nowFlag) + " (environment)"
			}
			return nil, &usageError{source + ": not an RFC 3339 time (e.g. 2010-09-02T12:00:00Z)"}
		}
		c.now = t.UTC()
	}
	switch c.output {
	case "", "table", "json", "jsonl", "csv":
	default:
		return nil, &usageError{fmt.Sprintf("--output %s: use table, json, jsonl or csv", cut.Quote(c.output))}
	}
	if c.timeout < 0 || given["timeout"] && c.timeout == 0 {
		return nil, &usageError{fmt.Sprintf("--timeout %v: give a positive duration such as 30s or 5m; leave --timeout out for no time limit", c.timeout)}
	}

	rest := fs.Args()
	if given["c"] { // -c '' is a script too: an empty one
		if len(rest) > 0 {
			return nil, &usageError{fmt.Sprintf("-c takes the whole script; unexpected %s", cut.Quote(rest[0]))}
		}
		c.mode = modeCode
		return c, c.checkTranslate()
	}
	if len(rest) == 0 {
		c.mode = modePrompt
		return c, c.checkTranslate()
	}
	switch rest[0] {
	case "-":
		c.mode, c.args = modeStdin, rest[1:]
	case "test":
		tfs := flag.NewFlagSet("pinsh test", flag.ContinueOnError)
		tfs.SetOutput(io.Discard)
		tfs.StringVar(&c.junit, "junit", "", "write JUnit XML to `FILE`")
		tfs.StringVar(&c.cluster, "cluster", getenv("PINSH_TEST_CLUSTER"), "run each test on a new directory of the database at `URL` (etcd://...), removed afterwards")
		if err := tfs.Parse(rest[1:]); err != nil {
			return nil, &usageError{fmt.Sprintf("test: %v\nusage: pinsh test [--junit FILE] [--cluster URL] [PATH...]", err)}
		}
		if c.cluster != "" && remoteScheme(c.cluster) == "" {
			return nil, &usageError{fmt.Sprintf("test --cluster %s: want a database URL such as etcd://HOST:PORT,.../NAME", cut.Quote(c.cluster))}
		}
		c.mode, c.args = modeTest, tfs.Args()
		if len(c.args) == 0 {
			c.args = []string{"scripts"}
		}
	case "import":
		if len(rest) != 2 {
			return nil, &usageError{"usage: pinsh import FILE  (CSV with a header, JSON Lines, or LDIF)"}
		}
		c.mode, c.file = modeImport, rest[1]
	case "generate":
		if len(rest) != 2 {
			return nil, &usageError{"usage: pinsh generate N  (N synthetic users to add)"}
		}
		n, err := parseCount(rest[1])
		if err != nil {
			return nil, &usageError{fmt.Sprintf("generate %s: %v", cut.Quote(rest[1]), err)}
		}
		c.mode, c.count = modeGenerate, n
	case "migrate":
		mfs := flag.NewFlagSet("pinsh migrate", flag.ContinueOnError)
		mfs.SetOutput(io.Discard)
		mfs.StringVar(&c.migrateFrom, "from", "", "the database to copy: a file or a URL")
		mfs.StringVar(&c.migrateTo, "to", "", "the database to copy it to")
		mfs.BoolVar(&c.migrateMerge, "merge", false, "copy into a directory that is not empty")
		const usage = "usage: pinsh [--key FILE] [--whatif] migrate --from FILE|URL --to FILE|URL [--merge]"
		if err := mfs.Parse(rest[1:]); err != nil {
			return nil, &usageError{fmt.Sprintf("migrate: %v\n%s", err, usage)}
		}
		switch {
		case mfs.NArg() > 0:
			return nil, &usageError{fmt.Sprintf("migrate: unexpected %s\n%s", cut.Quote(mfs.Arg(0)), usage)}
		case c.migrateFrom == "" || c.migrateTo == "":
			return nil, &usageError{"migrate: give both --from and --to\n" + usage}
		case c.migrateFrom == c.migrateTo:
			return nil, &usageError{fmt.Sprintf("migrate: --from and --to both name %s", cut.Quote(c.migrateFrom))}
		case given["db"] || given["as"] || c.demo:
			return nil, &usageError{"migrate: --db, --as and --demo have no meaning here: --from and --to name the databases, and each is used by the account running pinsh there\n" + usage}
		}
		c.mode = modeMigrate
	case "reset-key":
		if len(rest) != 1 {
			return nil, &usageError{"usage: pinsh [--key FILE] [--whatif] reset-key  (takes no arguments)"}
		}
		c.mode = modeResetKey
	default:
		c.mode, c.file, c.args = modeFile, rest[0], rest[1:]
		c.ps = c.ps || isPS(c.file)
	}
	return c, c.checkTranslate()
}

// checkTranslate refuses --translate where there is no PowerShell script
// to translate.
func (c *config) checkTranslate() error {
	if !c.translate {
		return nil
	}
	if !c.ps {
		return &usageError{"--translate translates PowerShell: give --ps, or a FILE.ps1"}
	}
	switch c.mode {
	case modeCode, modeFile, modeStdin:
		return nil
	}
	return &usageError{"--translate needs a script: pinsh --ps --translate FILE.ps1, -c CODE or -"}
}

// parseCount reads a whole number of users, 1 or more.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.New("want a whole number of users, 1 or more")
	}
	return n, nil
}

// resolveOperator decides who acts, given the account running pinsh.
// With --demo the operator is whoever --as names (default the account): the
// database is a throw-away sample. On a real database it is the account;
// --as or PINSH_OPERATOR naming someone else makes the account act for
// them, which app.authorizeActing allows only to a CsAdministrator.
func (c *config) resolveOperator(account string) {
	c.account = account
	switch {
	case c.as == "":
		c.as = account
	case c.demo:
	case strings.EqualFold(strings.TrimSpace(c.as), account):
		c.as = account
	default:
		c.actedBy = account
	}
}

// resolvePaths fills in the operator (see resolveOperator) and, unless
// --demo makes them temporary, the default database and key paths (XDG
// base directories). A remote database (c.remote) has no default path but
// needs the key file all the same.
func (c *config) resolvePaths(getenv func(string) string) error {
	account := boltstore.Operator()
	if c.remote != nil {
		account, _ = c.remote.Account()
	}
	c.resolveOperator(account)
	if c.demo {
		return nil
	}
	home := getenv("HOME")
	xdg := func(env, fallback string) (string, error) {
		if d := getenv(env); d != "" && filepath.IsAbs(d) {
			return d, nil
		}
		if home == "" {
			return "", fmt.Errorf("neither %s nor HOME is set; use --db and --key to name the files", env)
		}
		return filepath.Join(home, fallback), nil
	}
	if c.dbPath == "" {
		d, err := xdg("XDG_DATA_HOME", ".local/share")
		if err != nil {
			return err
		}
		c.dbPath, c.dbDefault = filepath.Join(d, "pinsh", "pinsh.db"), true
	}
	if c.keyPath == "" {
		d, err := xdg("XDG_CONFIG_HOME", ".config")
		if err != nil {
			return err
		}
		c.keyPath = filepath.Join(d, "pinsh", "pin.key")
	}
	return nil
}

// historyPath is where the prompt keeps its history.
func historyPath(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "pinsh", "history")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "pinsh", "history")
	}
	return ""
}
