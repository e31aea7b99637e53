// Command pinsh-etcd-dev runs a local etcd cluster for trying pinsh's etcd
// backend: three embedded etcd members on loopback, on free ports, with
// their data in a directory. Once the cluster is ready it prints the
// members' client endpoints and the etcd:// URL to give pinsh --db, then
// runs until interrupted (Ctrl-C or SIGTERM), and stops the members cleanly.
//
// Usage:
//
//	pinsh-etcd-dev [--dir DIR] [--members N] [--name NAME] [--no-fsync]
//
// Without --dir the data lives in a new temporary directory, removed on
// exit. With --dir it stays, and running the command again on the same
// directory restarts the same cluster (on the same ports) with its data.
//
// It is a development and CI tool, not a way to run production etcd: the
// members share one machine, listen without TLS or authentication, and
// anyone on the machine can connect to them.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pinsh/pinsh/internal/etcdcluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pinsh-etcd-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "keep the members' data and logs in `DIR` (default: a temporary directory removed on exit)")
	members := fs.Int("members", 3, "number of etcd `members`")
	name := fs.String("name", "pinsh", "the directory `NAME` (key prefix) of the printed etcd:// URL")
	noFsync := fs.Bool("no-fsync", false, "members never fsync (as the tests and pinsh-etcdbench run them): faster, and a crash of the machine loses data")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pinsh-etcd-dev: unexpected argument %q (it takes only flags; see -h)\n", fs.Arg(0))
		return 2
	}
	if *members < 1 {
		fmt.Fprintf(stderr, "pinsh-etcd-dev: --members %d: need at least 1 (3 tolerates the loss of one)\n", *members)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "pinsh-etcd-dev-")
		if err != nil {
			fmt.Fprintln(stderr, "pinsh-etcd-dev:", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		d = tmp
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := etcdcluster.Start(startCtx, d, etcdcluster.Options{Members: *members, NoFsync: *noFsync})
	if err != nil {
		fmt.Fprintln(stderr, "pinsh-etcd-dev:", err)
		return 1
	}
	defer c.Close()
	hosts := make([]string, len(c.Endpoints))
	for i, ep := range c.Endpoints {
		hosts[i] = strings.TrimPrefix(ep, "http://")
	}
	fmt.Fprintf(stdout, "endpoints: %s\n", strings.Join(c.Endpoints, ","))
	fmt.Fprintf(stdout, "data:      %s\n", d)
	fmt.Fprintf(stdout, "url:       etcd://%s/%s\n", strings.Join(hosts, ","), *name)
	fmt.Fprintln(stdout, "ready; Ctrl-C stops the cluster")
	select {
	case <-ctx.Done():
		fmt.Fprintln(stderr, "pinsh-etcd-dev: stopping")
		return 0
	case err := <-c.Err():
		fmt.Fprintln(stderr, "pinsh-etcd-dev:", err)
		return 1
	}
}
