// Package etcdtest runs the tests of one package against a local etcd
// cluster of three embedded members, started by the tests themselves: no
// test needs (or skips for lack of) a server elsewhere, and CI needs only
// loopback. A package starts its cluster in TestMain:
//
//	func TestMain(m *testing.M) { etcdtest.Main(m) }
//
// and each test takes its own key prefix (Prefix), so tests share the
// cluster without seeing each other's keys.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pinsh/pinsh/internal/etcdcluster"
)

var (
	cluster  *etcdcluster.Cluster
	prefixes atomic.Int64
)

// startTimeout bounds the cluster's start. Three members became ready in
// 1.4–3 s on a loaded 2-core machine; the bound only turns a hang into an
// error.
const startTimeout = 2 * time.Minute

// Main starts the cluster, runs the package's tests, stops the cluster and
// exits with the tests' status. A cluster that does not start fails the
// package (exit status 1) and keeps its directory, with the members' logs.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain with work of its own to do after the tests:
// it returns the tests' status instead of exiting.
func Run(m *testing.M) int {
	c, dir, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest:", err)
		if dir != "" {
			fmt.Fprintln(os.Stderr, "etcdtest: the members' data and logs are kept in", dir)
		}
		return 1
	}
	cluster = c
	code := m.Run()
	c.Close()
	os.RemoveAll(dir)
	return code
}

// start starts a cluster in a new temporary directory. A free port taken by
// another process between choosing and binding it makes etcd fail with
// "address already in use": start then tries again with new ports, in a new
// directory, a few times.
func start() (*etcdcluster.Cluster, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		dir, err := os.MkdirTemp("", "pinsh-etcdtest-")
		if err != nil {
			return nil, "", err
		}
		c, err := etcdcluster.Start(ctx, dir, etcdcluster.Options{NoFsync: true})
		if err == nil {
			return c, dir, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			return nil, dir, err
		}
		os.RemoveAll(dir)
	}
}

// Endpoints returns the client URLs of the package's cluster. It panics
// when called outside a package whose TestMain calls Main.
func Endpoints() []string {
	if cluster == nil {
		panic("etcdtest: no cluster: the package's TestMain must call etcdtest.Main")
	}
	return cluster.Endpoints
}

// Client returns a client of the package's cluster, closed when the test
// ends.
func Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: Endpoints(), DialTimeout: startTimeout, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Prefix returns a key prefix of the test's own: a name made of letters,
// digits, '.', '_' and '-' (so it can be the NAME of an etcd:// URL), unique
// within the package's run, naming the test for whoever reads the keys.
func Prefix(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, t.Name())
	return fmt.Sprintf("t%d-%s", prefixes.Add(1), name)
}
