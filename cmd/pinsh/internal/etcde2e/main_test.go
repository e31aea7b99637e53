package etcde2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pinsh/pinsh/internal/etcdcluster"
	"github.com/pinsh/pinsh/internal/etcdcluster/etcdtest"
	"github.com/pinsh/pinsh/store/boltstore"
)

// binDir holds the pinsh binary built with -tags etcd, once for the
// package.
var binDir string

func TestMain(m *testing.M) {
	// The members of TestNodeLoss's cluster are this binary, run again.
	etcdcluster.MemberMain()
	// go test -short (the landing check) skips the package's tests: they
	// build pinsh and start a cluster, about two minutes on a loaded
	// machine. CI runs them in full.
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "pinsh-etcde2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-tags", "etcd", "-o", filepath.Join(dir, "pinsh"), "github.com/pinsh/pinsh/cmd/pinsh")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build -tags etcd ./cmd/pinsh: %v\n%s", err, out)
			return 1
		}
		binDir = dir
		return etcdtest.Run(m)
	}())
}

// dbURL is the etcd:// URL of a directory of the package's cluster.
func dbURL(name string) string {
	var hosts []string
	for _, ep := range etcdtest.Endpoints() {
		hosts = append(hosts, strings.TrimPrefix(ep, "http://"))
	}
	return "etcd://" + strings.Join(hosts, ",") + "/" + name
}

// TestScript runs testdata/script with the etcd build of pinsh: each
// script has a directory of its own on the cluster, in $DB and PINSH_DB
// (so that pinsh with no --db uses it), and $CLUSTER names the cluster for
// pinsh test --cluster.
func TestScript(t *testing.T) {
	skipShort(t)
	scripts, err := filepath.Abs("../../../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("ME", boltstore.Operator())
			env.Setenv("SCRIPTS", scripts)
			// Directory names: the script's, made unique.
			n := names.Add(1)
			script := strings.TrimSuffix(filepath.Base(env.WorkDir), filepath.Ext(env.WorkDir))
			db := dbURL(fmt.Sprintf("s%d-%s", n, script))
			env.Setenv("DB", db)
			env.Setenv("PINSH_DB", db)
			env.Setenv("CLUSTER", dbURL(fmt.Sprintf("c%d-%s", n, script)))
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// etcdkeys URL prints how many keys of the cluster start
			// with the URL's directory name (NAME, NAME/..., NAME-...).
			"etcdkeys": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: etcdkeys URL")
				}
				_, name, _ := strings.Cut(strings.TrimPrefix(args[0], "etcd://"), "/")
				cli, err := clientv3.New(clientv3.Config{Endpoints: etcdtest.Endpoints(), DialTimeout: time.Minute, Logger: zap.NewNop()})
				ts.Check(err)
				defer cli.Close()
				r, err := cli.Get(context.Background(), name, clientv3.WithPrefix(), clientv3.WithCountOnly())
				ts.Check(err)
				fmt.Fprintln(ts.Stdout(), r.Count)
			},
		},
	})
}

var names atomic.Int64

// skipShort skips a test of this package under go test -short, where
// TestMain built no pinsh and started no cluster.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the etcd build's end-to-end tests need a cluster and a build: not with -short")
	}
}
