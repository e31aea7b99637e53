package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/d5/tengo/v2"
	"github.com/pinsh/pinsh/builtins"
	"github.com/pinsh/pinsh/lang"
	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/sample"
)

// Script tests (design §5).
var testEpoch = time.Date(2010, 9, 2, 12, 0, 0, 0, time.UTC)

const (
	// testOperator is the operator of script tests unless --as names one:
	// a fixed name, so that tests give the same results for every user and
	// on CI. PINSH_OPERATOR, set for an admin's daily work, does not change
	// it.
	testOperator = "admin"
	// testTimeout bounds each test file unless --timeout is given, so that a
	// test that never ends cannot hang CI.
	testTimeout = time.Minute
	// failOutputLines is how much of a failed test's output is shown.
	failOutputLines = 40
	// maxScriptDepth bounds run_script calling run_script.
	maxScriptDepth = 8
)

// testResult is the outcome of one test file.
type testResult struct {
	file     string
	failure  string // "" when it passed: "FILE:LINE: message"
	output   string // what the test printed (standard output and error)
	duration time.Duration
}

// runTests runs pinsh test: every *_test.tengo file under the paths, each on
// a fresh sample directory with the clock frozen at testEpoch.
func (a *app) runTests(cfg *config) int {
	files, err := testFiles(cfg.args)
	if err != nil {
		fmt.Fprintln(a.stderr, "pinsh test:", err)
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintf(a.stderr, "pinsh test: no *_test.tengo files in %s\n", strings.Join(cfg.args, ", "))
		return exitUsage
	}
	op := testOperator
	if cfg.asGiven {
		op = cfg.as
	}
	timeout := cfg.timeout
	if timeout == 0 {
		timeout = testTimeout
	}
	ctx, stop := interruptible(context.Background(), nil)
	defer stop()
	var cluster remoteDB
	if cfg.cluster != "" {
		r, err := connectRemote(ctx, cfg.cluster, a.getenv)
		if err != nil {
			fmt.Fprintln(a.stderr, "pinsh test: --cluster:", strings.TrimPrefix(err.Error(), "--db "))
			return exitDatabase
		}
		defer r.Close()
		cluster = r
	}

	start := time.Now()
	var results []testResult
	failed := 0
	for _, f := range files {
		r := runTestFile(ctx, f, op, timeout, cluster)
		if ctx.Err() != nil {
			fmt.Fprintln(a.stderr, "pinsh test: interrupted")
			return exitInterrupted
		}
		results = append(results, r)
		if r.failure == "" {
			fmt.Fprintf(a.stdout, "ok   %s\n", r.file)
			continue
		}
		failed++
		fmt.Fprintf(a.stdout, "FAIL %s\n", r.failure)
		if out := indent(r.output, failOutputLines); out != "" {
			fmt.Fprint(a.stdout, out)
		}
	}
	fmt.Fprintf(a.stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	if cfg.junit != "" {
		if err := writeJUnit(cfg.junit, results, time.Since(start)); err != nil {
			fmt.Fprintln(a.stderr, "pinsh test:", err)
			return exitFailure
		}
	}
	if failed > 0 {
		return exitFailure
	}
	return exitOK
}

// testFiles returns the test files of paths: a directory stands for every
// *_test.tengo file under it (hidden directories skipped), sorted; a file
// stands for itself.
func testFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(d.Name(), "_test.tengo") || strings.HasSuffix(strings.ToLower(d.Name()), "_test.ps1")) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// runTestFile runs one test file on a fresh temporary database seeded with
// the sample directory: a file, or with cluster not nil a new directory
// there, removed afterwards.
func runTestFile(ctx context.Context, file, operator string, timeout time.Duration, cluster remoteDB) testResult {
	start := time.Now()
	r := testResult{file: file}
	var out bytes.Buffer
	err := func() error {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "pinsh-test-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		clock := builtins.FrozenClock(testEpoch)
		path := filepath.Join(dir, "pinsh.db")
		admin := sample.Administrator(operator, testOperator)
		opts := boltstore.Options{KeyFile: filepath.Join(dir, "pin.key"), Creator: admin, Now: clock.Now}
		seedOp := store.Op{Operator: admin, Now: clock.Now()}
		conn := newDBConn(path, opts)
		if cluster != nil {
			scratch, remove, err := cluster.Scratch(ctx)
			if err != nil {
				return err
			}
			defer remove()
			conn = newDBConn(scratch.URL(), opts)
			conn.remote = scratch
			st, err := conn.write()
			if err != nil {
				return err
			}
			if err := sample.Seed(ctx, st, seedOp); err != nil {
				return fmt.Errorf("seed the sample directory in %s: %w", scratch.URL(), err)
			}
		} else if err := seedSample(ctx, path, opts, seedOp); err != nil {
			return err
		}
		defer conn.Close()
		sh := builtins.New(builtins.Config{Store: conn, Clock: clock, Operator: operator})
		runner := &scriptRunner{sh: sh, clock: clock, base: filepath.Dir(file)}
		scratch := filepath.Join(dir, "files")
		if err := os.Mkdir(scratch, 0o700); err != nil {
			return err
		}
		list := withPS(sh.Builtins(slices.Concat(sh.TestBuiltins(), shellBuiltins(),
			[]*lang.Builtin{runner.builtin(), testDirBuiltin(scratch)})...))
		sess, err := lang.NewSession(lang.Options{
			Stdout: &out, Stderr: &out,
			Format:      lang.DefaultFormat(false),
			Interactive: isPS(file),
			Builtins:    list,
			Now:         clock.Now,
		})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeoutCause(ctx, timeout,
			fmt.Errorf("timed out after %v (pinsh test --timeout)", timeout))
		defer cancel()
		if isPS(file) {
			return newEvaluator(sess, list, true).eval(ctx, file, src)
		}
		return sess.Eval(ctx, file, stripShebang(src))
	}()
	r.duration = time.Since(start)
	r.output = out.String()
	var ex *exitRequest
	if err != nil && !(errors.As(err, &ex) && ex.code == 0) {
		r.failure = failureLine(file, err)
	}
	return r
}

// failureLine is "FILE:LINE: message" for a failed test.
func failureLine(file string, err error) string {
	var le *lang.Error
	if errors.As(err, &le) && le.Pos.IsValid() {
		msg := le.Msg
		if le.Item != "" {
			msg += " (processing " + le.Item + ")"
		}
		return fmt.Sprintf("%s:%d: %s", le.Pos.File, le.Pos.Line, msg)
	}
	if errors.As(err, &le) {
		return fmt.Sprintf("%s: %s", file, le.Msg)
	}
	return fmt.Sprintf("%s: %v", file, err)
}

// indent returns the first max lines of s, each indented by four spaces.
func indent(s string, max int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	more := len(lines) - max
	if more > 0 {
		lines = lines[:max]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	if more > 0 {
		fmt.Fprintf(&b, "    ... %d more lines\n", more)
	}
	return b.String()
}

// testDirBuiltin is test_dir, the test builtin that names the test's
// scratch directory, for scripts that write files (export_csv).
func testDirBuiltin(dir string) *lang.Builtin {
	return &lang.Builtin{
		Name: "test_dir",
		Kind: lang.Func,
		Sig:  "test_dir()",
		Doc: `(pinsh test only) The absolute path of an empty directory of the test's
own, removed when the test ends: a place for the files a script under test
writes, such as export_csv("pins.csv") given test_dir() + "/pins.csv".`,
		Call: func(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
			if len(args) != 0 {
				return nil, errors.New("want test_dir()")
			}
			return &tengo.String{Value: dir}, nil
		},
	}
}

// scriptRunner is run_script, the test builtin that runs an example script
// in the test's database and clock.
type scriptRunner struct {
	sh    *builtins.Shell
	clock *builtins.Clock
	base  string // the test file's directory
	depth int
}

func (s *scriptRunner) builtin() *lang.Builtin {
	return &lang.Builtin{
		Name: "run_script",
		Kind: lang.Func,
		Sig:  "run_script(path[, arg...][, {output: FORMAT}])",
		Doc: `(pinsh test only) Run the script at path (absolute, or relative to the
test file's directory) on the test's database and clock, with the args (strings or
numbers) in its args, and return what it printed on standard output, as a
string: in jsonl, as when pinsh's output is not a terminal, or in the
output format given ("table", "json", "jsonl", "csv"). Its per-item errors
go to the test's output, and so do the generated PINs it never showed,
wrote or read, each under its header. If the script fails, or calls exit
with a status other than 0, what it printed goes to the test's output, and
the test fails with the script's error.`,
		Call: s.call,
	}
}

func (s *scriptRunner) call(env *lang.Env, args []tengo.Object) (tengo.Object, error) {
	if len(args) == 0 {
		return nil, errors.New("want run_script(path[, arg...][, {output: FORMAT}])")
	}
	path, ok := args[0].(*tengo.String)
	if !ok {
		return nil, fmt.Errorf("path must be a string, not %s", args[0].TypeName())
	}
	format, explicit := lang.DefaultFormat(false), false
	rest := args[1:]
	if n := len(rest); n > 0 {
		if m, ok := rest[n-1].(*tengo.Map); ok {
			rest = rest[:n-1]
			for k, v := range m.Value {
				sv, ok := v.(*tengo.String)
				if k != "output" || !ok {
					return nil, fmt.Errorf("unknown option %s: %s; the one option is output: \"table\", \"json\", \"jsonl\" or \"csv\"", k, v)
				}
				f, err := lang.ParseFormat(sv.Value)
				if err != nil {
					return nil, err
				}
				format, explicit = f, true
			}
		}
	}
	var scriptArgs []string
	for _, a := range rest {
		switch a := a.(type) {
		case *tengo.String:
			scriptArgs = append(scriptArgs, a.Value)
		case *tengo.Int, *tengo.Float:
			scriptArgs = append(scriptArgs, a.String())
		default:
			return nil, fmt.Errorf("script arguments are strings or numbers, not %s", a.TypeName())
		}
	}
	if s.depth >= maxScriptDepth {
		return nil, fmt.Errorf("scripts nested more than %d deep", maxScriptDepth)
	}
	file := path.Value
	if !filepath.IsAbs(file) {
		file = filepath.Join(s.base, file)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	inner := &scriptRunner{sh: s.sh, clock: s.clock, base: filepath.Dir(file), depth: s.depth + 1}
	sess, err := lang.NewSession(lang.Options{
		Stdout: &out, Stderr: env.Stderr(),
		// PINs left over when the script ends reach the test's output
		// with their headers, even when the script fails and what it
		// printed is not returned.
		Leftovers: env.Stderr(),
		Format:    format,
		Args:      scriptArgs,
		// As pinsh --output: a view writes data only in a format chosen.
		FormatExplicit: explicit,
		Builtins:       withPS(s.sh.Builtins(append(shellBuiltins(), inner.builtin())...)),
		Now:            s.clock.Now,
	})
	if err != nil {
		return nil, err
	}
	err = sess.Eval(env.Context(), file, stripShebang(src))
	var ex *exitRequest
	if err != nil && !(errors.As(err, &ex) && ex.code == 0) {
		// Nothing it printed is returned: keep it in the test's output
		// (a generated PIN it printed exists nowhere else).
		if out.Len() > 0 {
			fmt.Fprintf(env.Stderr(), "run_script: %s printed, before it failed:\n%s", path.Value, out.Bytes())
		}
		// Not wrapped: the test's error is at the run_script call, and
		// names the script's position in its message.
		return nil, errors.New(strings.TrimSpace(err.Error()))
	}
	return &tengo.String{Value: out.String()}, nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
