// Command pinsh-etcdbench measures pinsh on etcd against pinsh on a bbolt
// file (issue 12): whole pinsh processes (built with -tags etcd, so both
// sides run the same binary), timed alternately by internal/procbench,
// over a directory of 100,000 users of whom 40,000 have a PIN set. It
// starts its own cluster of three etcd members on loopback: by default in
// a process of its own (cmd/pinsh-etcd-dev), so that neither the members
// nor the benchmark share a process with the pinsh being measured;
// -embedded runs them inside the benchmark's process, as the tests do;
// -endpoints uses a cluster already running.
//
//	go run ./cmd/pinsh-etcdbench [-runs 5] [-users 100000] [-fsync] [-embedded | -endpoints H:P,H:P,H:P]
//
// It prints, per operation, the median (min–max) wall time and CPU time
// (user + system, of the pinsh process alone) of each side and their
// ratio, and the goals of the issue next to them; it decides nothing. The
// members run on the same cores as pinsh whichever way they are started.
// Run it on a quiet machine and say the load (uptime) with the figures.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pinsh/pinsh/internal/etcdcluster"
	"github.com/pinsh/pinsh/internal/procbench"
)

func main() {
	runs := flag.Int("runs", 5, "timed runs of each command")
	users := flag.Int("users", 100000, "users in the directory; 40% of them get a PIN")
	fsync := flag.Bool("fsync", false, "let the etcd members fsync (the tests' cluster does not)")
	embedded := flag.Bool("embedded", false, "run the members inside this process (as the tests do) instead of a pinsh-etcd-dev process")
	endpoints := flag.String("endpoints", "", "use the running cluster with these client endpoints (`H:P,H:P,...`) instead of starting one")
	flag.Parse()
	if err := run(*runs, *users, *fsync, *embedded, *endpoints); err != nil {
		fmt.Fprintln(os.Stderr, "pinsh-etcdbench:", err)
		os.Exit(1)
	}
}

func run(runs, users int, fsync, embedded bool, endpoints string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pinsh-etcdbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pinsh")
	if out, err := exec.Command("go", "build", "-tags", "etcd", "-o", bin, "github.com/pinsh/pinsh/cmd/pinsh").CombinedOutput(); err != nil {
		return fmt.Errorf("go build -tags etcd ./cmd/pinsh: %v\n%s", err, out)
	}
	eps, where, stop, err := cluster(ctx, dir, fsync, embedded, endpoints)
	if err != nil {
		return err
	}
	defer stop()
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: time.Minute, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	var hosts []string
	for _, ep := range eps {
		hosts = append(hosts, strings.TrimPrefix(ep, "http://"))
	}
	etcdURL := func(name string) string { return "etcd://" + strings.Join(hosts, ",") + "/" + name }
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	env := []string{"HOME=" + home, "PINSH_OPERATOR="}
	csvFile := filepath.Join(dir, "users.csv")
	if err := writeUsers(csvFile, users); err != nil {
		return err
	}
	pinsh := func(name, db string, args ...string) procbench.Command {
		return procbench.Command{Name: name, Path: bin, Args: append([]string{"--db", db}, args...), Env: env, Dir: dir}
	}
	do := func(db string, args ...string) error {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Env, cmd.Dir = append(os.Environ(), env...), dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("pinsh --db %s %s: %v\n%s", db, strings.Join(args, " "), err, out)
		}
		return nil
	}
	cfg := procbench.Config{Runs: runs, Warmup: 1, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }}
	fmt.Printf("pinsh-etcdbench: %d users (%d with a PIN), etcd members on loopback %s (fsync %v), %d runs alternated after 1 warm-up\n",
		users, users*2/5, where, fsync, runs)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("load before: %s", load)

	// 1. import: bbolt into a new file each run; etcd into one directory,
	// new users each run (deleting 100,000 users' keys at once times out
	// on the cluster, so it grows by 100,000 users a run).
	boltImport, etcdCSV := filepath.Join(dir, "import.db"), filepath.Join(dir, "etcd-users.csv")
	importCfg := cfg
	importCfg.Runs, importCfg.Warmup = max(runs/2, 1), 0
	round := 0
	s, err := procbench.Alternate(ctx, importCfg,
		withBefore(pinsh("bbolt", boltImport, "import", csvFile), func() error {
			if err := os.Remove(boltImport); err != nil && !os.IsNotExist(err) {
				return err
			}
			return nil
		}),
		withBefore(pinsh("etcd", etcdURL("import"), "import", etcdCSV), func() error {
			round++
			return writeUsersAs(etcdCSV, users, fmt.Sprintf("r%d-", round))
		}))
	if err != nil {
		return err
	}
	report(fmt.Sprintf("import %d users (CSV)", users), s, float64(users), "users/s", "")

	// The directory of the other figures: users/5 imported without a PIN,
	// and 4*users/5 synthetic users, half of them with a PIN (pinsh
	// generate: one shared hash, some PINs locked by the system or
	// expired), so that 40% have a PIN.
	boltDB, etcdDB := filepath.Join(dir, "p.db"), etcdURL("p")
	fifth := filepath.Join(dir, "fifth.csv")
	if err := writeUsers(fifth, users/5); err != nil {
		return err
	}
	for _, db := range []string{boltDB, etcdDB} {
		if err := do(db, "import", fifth); err != nil {
			return err
		}
		if err := do(db, "generate", fmt.Sprint(users*4/5)); err != nil {
			return err
		}
	}
	unlock := func(db string) func() error {
		return func() error {
			return do(db, "-c", `get_users() | pin_info | where({is_locked_out: true}) | unlock_pin`)
		}
	}
	const example2 = `get_users() | pin_info | where(func(p) { return p.is_pin_set }) | lock_pin`
	s, err = procbench.Alternate(ctx, cfg,
		withBefore(pinsh("bbolt", boltDB, "-c", example2), unlock(boltDB)),
		withBefore(pinsh("etcd", etcdDB, "-c", example2), unlock(etcdDB)))
	if err != nil {
		return err
	}
	locks := changed(s[1][0].Stdout)
	report(fmt.Sprintf("seed Example 2: lock every PIN that is set (%d locks a run)", locks), s, float64(locks), "locks/s", "goal ≥ 20,000 locks/s")

	const count = `get_users() | pin_info | where(func(p) { return p.is_pin_set }) | count`
	s, err = procbench.Alternate(ctx, cfg, pinsh("bbolt", boltDB, "-c", count), pinsh("etcd", etcdDB, "-c", count))
	if err != nil {
		return err
	}
	report(fmt.Sprintf("closure count over %d users", users), s, 0, "", "goal ≤ 1 s")

	// verify_pin: a user without a PIN costs no hash, so the difference
	// between 101 verifies and 1 in one process is 100 round trips.
	const noPin = `(get_users() | pin_info | where({is_pin_set: false}) | first(1) | collect)[0].identity`
	one := fmt.Sprintf(`id := %s; verify_pin(id, "111111").reason`, noPin)
	many := fmt.Sprintf(`id := %s; for i := 0; i < 101; i++ { verify_pin(id, "111111") }; 0`, noPin)
	s1, err := procbench.Alternate(ctx, cfg,
		pinsh("bbolt 1 verify", boltDB, "-c", one), pinsh("etcd 1 verify", etcdDB, "-c", one),
		pinsh("bbolt 101 verifies", boltDB, "-c", many), pinsh("etcd 101 verifies", etcdDB, "-c", many))
	if err != nil {
		return err
	}
	report("one verify_pin (no PIN: no hash), whole process", s1[:2], 0, "", "")
	for i, side := range []string{"bbolt", "etcd"} {
		per := make([]float64, 0, runs)
		for r := range s1[i] {
			per = append(per, (s1[i+2][r].Wall-s1[i][r].Wall).Seconds()/100*1000)
		}
		fmt.Printf("  %-6s verify_pin round trip without the hash, (101 verifies − 1) / 100: %s ms  (goal ≤ 5 ms)\n", side, procbench.Summarize(per).Text(2))
	}
	load, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("load after: %s", load)
	return nil
}

// cluster starts the members (see the package doc), or takes the running
// ones at endpoints, and returns their client endpoints, where they run,
// and a function that stops what it started.
func cluster(ctx context.Context, dir string, fsync, embedded bool, endpoints string) (eps []string, where string, stop func(), err error) {
	switch {
	case endpoints != "":
		for _, ep := range strings.Split(endpoints, ",") {
			if !strings.Contains(ep, "://") {
				ep = "http://" + ep
			}
			eps = append(eps, ep)
		}
		return eps, "(a running cluster; its fsync setting is its own)", func() {}, nil
	case embedded:
		c, err := etcdcluster.Start(ctx, filepath.Join(dir, "etcd"), etcdcluster.Options{NoFsync: !fsync})
		if err != nil {
			return nil, "", nil, err
		}
		return c.Endpoints, "in the benchmark's process", func() { c.Close() }, nil
	}
	bin := filepath.Join(dir, "pinsh-etcd-dev")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/pinsh/pinsh/cmd/pinsh-etcd-dev").CombinedOutput(); err != nil {
		return nil, "", nil, fmt.Errorf("go build ./cmd/pinsh-etcd-dev: %v\n%s", err, out)
	}
	args := []string{"--dir", filepath.Join(dir, "etcd")}
	if !fsync {
		args = append(args, "--no-fsync")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", nil, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "endpoints: "); ok {
			eps = strings.Split(v, ",")
		}
		if strings.HasPrefix(sc.Text(), "ready") && len(eps) > 0 {
			go io.Copy(io.Discard, out)
			return eps, fmt.Sprintf("in a pinsh-etcd-dev process (pid %d)", cmd.Process.Pid), stop, nil
		}
	}
	stop()
	return nil, "", nil, errors.New("pinsh-etcd-dev exited before its cluster was ready (its errors are above)")
}

// changed reads the count of a builtin's summary (JSON: "changed":N).
func changed(out []byte) int {
	m := regexp.MustCompile(`"changed":([0-9]+)`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func withBefore(c procbench.Command, before func() error) procbench.Command {
	c.Before = before
	return c
}

// report prints the wall and CPU time of each side and the ratio
// etcd/bbolt of the wall times; with n > 0 also the rate n/median wall.
func report(what string, s [][]procbench.Sample, n float64, unit, goal string) {
	fmt.Printf("%s:\n", what)
	e, b, ratio := procbench.Compare(s[1], s[0], procbench.Wall)
	ec, bc, _ := procbench.Compare(s[1], s[0], procbench.CPU)
	for _, side := range []struct {
		name    string
		st, cpu procbench.Stats
	}{{"bbolt", b, bc}, {"etcd", e, ec}} {
		line := fmt.Sprintf("  %-6s %s s wall, %s s pinsh CPU", side.name, side.st.Text(3), side.cpu.Text(3))
		if n > 0 && side.st.Median > 0 {
			line += fmt.Sprintf("  = %.0f %s", n/side.st.Median, unit)
		}
		fmt.Println(line)
	}
	fmt.Printf("  etcd/bbolt %s", ratio.Text(2))
	if goal != "" {
		fmt.Printf("  (%s)", goal)
	}
	fmt.Println()
}

// writeUsers writes a CSV of n users.
func writeUsers(path string, n int) error { return writeUsersAs(path, n, "") }

// writeUsersAs writes a CSV of n users whose names start with prefix.
func writeUsersAs(path string, n int, prefix string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"SipAddress", "DisplayName", "Enabled", "Site"})
	for i := range n {
		w.Write([]string{fmt.Sprintf("sip:%scsv%06d@fabrikam.com", prefix, i), fmt.Sprintf("User %06d", i), "true", []string{"Redmond", "Dublin", "Tokyo"}[i%3]})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
