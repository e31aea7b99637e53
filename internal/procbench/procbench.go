// Package procbench times whole processes: each command runs as a child
// process, and its CPU time and peak memory are the operating system's
// accounting of the finished child (rusage), not measurements taken inside
// it. Commands compared with one another run alternately (A B A B ...) after
// untimed warm-up runs, so that a change of load on a shared machine falls on
// each of them alike; results are summarised as minimum, median and maximum,
// and ratios are taken run by run (the i-th run of A against the i-th run of
// B, which ran next to it).
//
// It never decides whether a figure is good: callers print the figures.
package procbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Command is one whole process to time.
type Command struct {
	// Name labels the command in messages and tables.
	Name string
	// Path is the program to run (a path, or a name looked up in PATH), and
	// Args its arguments without the program name.
	Path string
	Args []string
	// Env is added to this process's environment; a variable named here
	// overrides the inherited one.
	Env []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// Stdin is the child's standard input; nil means none (/dev/null).
	Stdin []byte
	// Before, when not nil, runs before each run of the command and is not
	// timed: for instance to give each run a fresh copy of a database that
	// the command changes.
	Before func() error
}

// Sample is what one finished run cost.
type Sample struct {
	// User and System are the child's CPU time as the kernel accounted it.
	User, System time.Duration
	// Wall is the time from starting the child to reaping it.
	Wall time.Duration
	// MaxRSS is the kernel's high-water mark of the child's resident
	// memory, in bytes; it counts file pages mapped in (a memory-mapped
	// database) as well as the heap. Zero where the system does not say.
	MaxRSS int64
	// PeakAnon is the largest anonymous resident memory (RssAnon in
	// /proc/PID/status) seen while sampling, in bytes; zero when not
	// sampled (see Config.SampleAnon) or where /proc is missing. Linux
	// keeps no high-water mark of anonymous memory, so this is sampled:
	// a peak shorter than the sampling interval can be missed.
	PeakAnon int64
	// Stdout is what the child wrote to its standard output, so that the
	// caller can check it did the work it was timed for.
	Stdout []byte
}

// CPU is the child's user plus system time.
func (s Sample) CPU() time.Duration { return s.User + s.System }

// Config says how many runs to make.
type Config struct {
	// Runs is the number of timed runs of each command (at least 1).
	Runs int
	// Warmup is the number of untimed runs of each command made first (they
	// bring the program and its files into the page cache).
	Warmup int
	// SampleAnon, when positive, samples each child's RssAnon at this
	// interval to find its peak. The sampling itself takes a little CPU from
	// the machine (not from the child); leave it zero for timing runs on a
	// busy machine if memory is not wanted.
	SampleAnon time.Duration
	// Logf, when not nil, is told of each run as it finishes.
	Logf func(format string, args ...any)
}

// Alternate runs each command cfg.Warmup times untimed, then cfg.Runs rounds
// in which each command runs once, in the order given. It returns the timed
// samples: result[i][r] is command i's run in round r. The first failing run
// stops it, with an error naming the command and the run.
func Alternate(ctx context.Context, cfg Config, cmds ...Command) ([][]Sample, error) {
	if cfg.Runs < 1 {
		return nil, fmt.Errorf("procbench: %d runs asked for; give at least 1", cfg.Runs)
	}
	if len(cmds) == 0 {
		return nil, errors.New("procbench: no command to run")
	}
	for w := 0; w < cfg.Warmup; w++ {
		for _, c := range cmds {
			if _, err := Run(ctx, c, 0); err != nil {
				return nil, fmt.Errorf("warm-up run %d: %w", w+1, err)
			}
		}
	}
	out := make([][]Sample, len(cmds))
	for r := 0; r < cfg.Runs; r++ {
		for i, c := range cmds {
			s, err := Run(ctx, c, cfg.SampleAnon)
			if err != nil {
				return nil, fmt.Errorf("run %d of %d: %w", r+1, cfg.Runs, err)
			}
			if cfg.Logf != nil {
				cfg.Logf("%s: run %d/%d: cpu %s, wall %s", c.Name, r+1, cfg.Runs, s.CPU().Round(time.Millisecond), s.Wall.Round(time.Millisecond))
			}
			out[i] = append(out[i], s)
		}
	}
	return out, nil
}

// maxOutput is how much of a child's standard output or standard error Run
// keeps; the rest is discarded (still read, so the child never blocks).
const maxOutput = 1 << 20

// Run runs c once (its Before first, untimed) and returns what it cost.
// sampleAnon, when positive, is the interval at which the child's RssAnon is
// sampled. A child that fails (non-zero exit, killed) is an error quoting
// the end of its standard error.
func Run(ctx context.Context, c Command, sampleAnon time.Duration) (Sample, error) {
	if c.Before != nil {
		if err := c.Before(); err != nil {
			return Sample{}, fmt.Errorf("%s: preparing the run: %w", c.Name, err)
		}
	}
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	stdout := &capped{max: maxOutput}
	stderr := &capped{max: maxOutput}
	cmd.Stdout = stdout
	cmd.Stderr = stderr

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Sample{}, fmt.Errorf("%s: %w", c.Name, err)
	}
	var peak int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	if sampleAnon > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			peak = sampleRssAnon(cmd.Process.Pid, sampleAnon, done)
		}()
	}
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	wg.Wait()
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w%s", c.Name, err, stderrTail(stderr.Bytes()))
	}
	st := cmd.ProcessState
	return Sample{
		User:     st.UserTime(),
		System:   st.SystemTime(),
		Wall:     wall,
		MaxRSS:   maxRSS(st),
		PeakAnon: peak,
		Stdout:   stdout.Bytes(),
	}, nil
}

// stderrTail quotes the last lines of a failed child's standard error.
func stderrTail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return "; its standard error ends:\n" + string(b)
}

// sampleRssAnon reads /proc/PID/status every interval until done is closed
// and returns the largest RssAnon seen, in bytes. The first read is made at
// once, so that short-lived children are seen at least once.
func sampleRssAnon(pid int, interval time.Duration, done <-chan struct{}) int64 {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	t := time.NewTicker(interval)
	defer t.Stop()
	var peak int64
	for {
		if b, err := os.ReadFile(path); err == nil {
			if v, ok := ParseRssAnon(b); ok && v > peak {
				peak = v
			}
		}
		select {
		case <-done:
			return peak
		case <-t.C:
		}
	}
}

// ParseRssAnon finds the RssAnon line of a /proc/PID/status file
// ("RssAnon:	    1234 kB") and returns its value in bytes. It reports
// false when the line is missing (a process that has exited and not yet been
// reaped has none) or malformed.
func ParseRssAnon(status []byte) (int64, bool) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("RssAnon:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return n << 10, true
	}
	return 0, false
}

// capped is an io.Writer that keeps the first max bytes written to it and
// discards the rest.
type capped struct {
	max int
	buf bytes.Buffer
}

func (w *capped) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *capped) Bytes() []byte { return w.buf.Bytes() }

var _ io.Writer = (*capped)(nil)

// Metric picks one figure out of a sample.
type Metric func(Sample) float64

// The usual metrics: seconds of CPU (user + system), user, system and wall
// time; MiB of peak anonymous and peak resident memory.
var (
	CPU      Metric = func(s Sample) float64 { return s.CPU().Seconds() }
	User     Metric = func(s Sample) float64 { return s.User.Seconds() }
	System   Metric = func(s Sample) float64 { return s.System.Seconds() }
	Wall     Metric = func(s Sample) float64 { return s.Wall.Seconds() }
	PeakAnon Metric = func(s Sample) float64 { return float64(s.PeakAnon) / (1 << 20) }
	MaxRSS   Metric = func(s Sample) float64 { return float64(s.MaxRSS) / (1 << 20) }
)

// Values applies m to each sample.
func Values(samples []Sample, m Metric) []float64 {
	out := make([]float64, len(samples))
	for i, s := range samples {
		out[i] = m(s)
	}
	return out
}

// Stats summarises a set of figures.
type Stats struct {
	N                int
	Min, Median, Max float64
}

// Text formats the stats as "median (min–max)", each with prec digits after
// the point; a single figure is printed alone, and no figures as "-".
func (s Stats) Text(prec int) string {
	switch {
	case s.N == 0:
		return "-"
	case s.N == 1 || s.Min == s.Max:
		return strconv.FormatFloat(s.Median, 'f', prec, 64)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	return f(s.Median) + " (" + f(s.Min) + "–" + f(s.Max) + ")"
}

// Summarize returns the minimum, median and maximum of xs (the median of an
// even count is the mean of the two middle values). Empty xs gives N == 0
// and zeros.
func Summarize(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stats{N: n, Min: s[0], Median: med, Max: s[n-1]}
}

// Ratios divides a by b pair by pair: a[i]/b[i], for runs made next to each
// other. Pairs beyond the shorter slice, and pairs whose b is zero, are left
// out.
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// Compare summarises metric m of samples a against samples b: each one's
// stats and the stats of their run-by-run ratios a/b.
func Compare(a, b []Sample, m Metric) (sa, sb, ratio Stats) {
	va, vb := Values(a, m), Values(b, m)
	return Summarize(va), Summarize(vb), Summarize(Ratios(va, vb))
}
