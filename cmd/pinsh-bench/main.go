// Command pinsh-bench measures pinsh as its users run it: whole processes,
// start-up included, on directories made by pinsh generate, next to sqlite3
// doing the same work on the same rows and next to plain Tengo and a
// hello-world Go program. Commands compared run alternately after a warm-up
// (internal/procbench); it prints medians with their range, and ratios taken
// run by run.
//
// Run it from the repository:
//
//	go run ./cmd/pinsh-bench            # the full benchmark (1M users; long)
//	go run ./cmd/pinsh-bench -quick     # small sizes, to try it
//
// It builds pinsh, plain Tengo's command and a hello-world program into its
// work directory (-work), with CGO_ENABLED=0 as the README installs pinsh, generates the directories there once and keeps
// them for later runs (-fresh makes them again). When sqlite3 is on the
// PATH, it builds two sqlite3 databases from pinsh's own CSV export of the
// big directory: the narrow table users(identity TEXT PRIMARY KEY,
// is_pin_set INT, is_locked_out INT), and a wide one with every user and PIN
// field; without sqlite3 it prints pinsh's figures alone.
//
// The figures are for reading, not for deciding: nothing here passes or
// fails on a time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/pinsh/pinsh/internal/procbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "pinsh-bench:", err)
		os.Exit(1)
	}
}

// options are the command line's choices.
type options struct {
	sizes    []int // directory sizes for peak memory
	big      int   // directory size for the timing comparisons
	runs     int
	warmup   int
	setPins  int // users whose PIN set_pin sets
	work     string
	fresh    bool
	only     *regexp.Regexp
	verbose  bool
	compute  computeSizes
	noSQLite bool
	pinsh    string // a pinsh binary to use instead of building one
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("pinsh-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "10k,100k,1M", "directory `SIZES` for the peak memory of the lock pipeline, comma-separated (k and M allowed)")
	big := fs.String("n", "", "directory `SIZE` for the timing comparisons (default: the largest of -sizes)")
	runs := fs.Int("runs", 3, "timed runs of each command")
	warmup := fs.Int("warmup", 1, "untimed runs of each command first")
	setPins := fs.String("setpin", "10k", "`USERS` whose PIN set_pin sets")
	work := fs.String("work", filepath.Join(os.TempDir(), "pinsh-bench"), "work `DIR`: binaries, directories and databases, kept between runs")
	fresh := fs.Bool("fresh", false, "make the directories and databases again")
	only := fs.String("only", "", "run only the benchmarks whose name matches `REGEXP` (names: "+strings.Join(benchNames, ", ")+")")
	verbose := fs.Bool("v", false, "log each run")
	quick := fs.Bool("quick", false, "a quick try: -sizes 1k,10k -setpin 100 -runs 3, smaller compute scripts")
	noSQLite := fs.Bool("nosqlite", false, "leave sqlite3 out even if it is on the PATH")
	pinsh := fs.String("pinsh", "", "use the pinsh `BINARY` instead of building ./cmd/pinsh (to measure another version)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; flags only (see -h)", fs.Arg(0))
	}
	o := &options{runs: *runs, warmup: *warmup, work: *work, fresh: *fresh, verbose: *verbose, noSQLite: *noSQLite, compute: fullCompute}
	if *pinsh != "" {
		abs, err := filepath.Abs(*pinsh)
		if err != nil {
			return nil, fmt.Errorf("-pinsh: %w", err)
		}
		if st, err := os.Stat(abs); err != nil || st.IsDir() {
			return nil, fmt.Errorf("-pinsh %s: not a program (%v)", *pinsh, err)
		}
		o.pinsh = abs
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		if !set["sizes"] {
			*sizes = "1k,10k"
		}
		if !set["setpin"] {
			*setPins = "100"
		}
		o.compute = quickCompute
	}
	var err error
	if o.sizes, err = parseSizes(*sizes); err != nil {
		return nil, fmt.Errorf("-sizes: %w", err)
	}
	o.big = o.sizes[len(o.sizes)-1]
	if *big != "" {
		if o.big, err = parseSize(*big); err != nil {
			return nil, fmt.Errorf("-n: %w", err)
		}
	}
	if o.setPins, err = parseSize(*setPins); err != nil {
		return nil, fmt.Errorf("-setpin: %w", err)
	}
	if o.setPins > o.big {
		return nil, fmt.Errorf("-setpin %d is more than the %d users of the directory (-n)", o.setPins, o.big)
	}
	if o.runs < 1 || o.warmup < 0 {
		return nil, fmt.Errorf("-runs %d -warmup %d: give at least 1 run and no negative warm-up", o.runs, o.warmup)
	}
	if *only != "" {
		if o.only, err = regexp.Compile(*only); err != nil {
			return nil, fmt.Errorf("-only: %w", err)
		}
	}
	return o, nil
}

func (o *options) wants(name string) bool { return o.only == nil || o.only.MatchString(name) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.work, 0o700); err != nil {
		return err
	}
	logf := func(format string, a ...any) {}
	if o.verbose {
		logf = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	b := &bench{o: o, ctx: ctx, logf: logf, out: stdout, progress: stderr}
	if !o.noSQLite {
		if p, err := exec.LookPath("sqlite3"); err == nil {
			b.sqlite = p
		}
	}
	if err := b.build(); err != nil {
		return err
	}
	load0 := loadAverage()
	start := time.Now()
	fmt.Fprintf(stdout, "pinsh-bench: %d cores, %s; load average %s at the start\n", runtime.NumCPU(), runtime.Version(), load0)
	fmt.Fprintf(stdout, "whole processes; %d timed runs of each after %d warm-up, alternated; median (min–max); ratios run by run\n", o.runs, o.warmup)
	if b.sqlite == "" {
		fmt.Fprintln(stdout, "sqlite3: not on the PATH (or -nosqlite): pinsh's figures alone")
	} else {
		fmt.Fprintf(stdout, "sqlite3 %s: narrow = users(identity TEXT PRIMARY KEY, is_pin_set INT, is_locked_out INT); wide = every user and PIN field\n", b.sqliteVersion())
	}
	err = b.runAll()
	fmt.Fprintf(stdout, "\nload average %s at the end; %s in all\n", loadAverage(), time.Since(start).Round(time.Second))
	return err
}

// loadAverage is the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// benchStats is one command's figures in a table row.
func cpuWall(s []procbench.Sample) (cpu, wall procbench.Stats) {
	return procbench.Summarize(procbench.Values(s, procbench.CPU)), procbench.Summarize(procbench.Values(s, procbench.Wall))
}
