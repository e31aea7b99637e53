package etcde2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/pinsh/pinsh/internal/etcdcluster"
)

// TestNodeLoss kills the leader of a cluster of its own (the closest an
// embedded member comes to SIGKILL) as a pinsh process starts to lock a
// few thousand PINs with the seed's Example 2 pipeline. The pipeline must
// complete after the election or fail with a clear error; either way,
// every PIN it locked has exactly one lock_pin audit entry, and no PIN was
// locked twice.
func TestNodeLoss(t *testing.T) {
	skipShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := etcdcluster.Start(ctx, t.TempDir(), etcdcluster.Options{NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var hosts []string
	for _, ep := range c.Endpoints {
		hosts = append(hosts, strings.TrimPrefix(ep, "http://"))
	}
	db := "etcd://" + strings.Join(hosts, ",") + "/nodeloss"
	home := t.TempDir()
	pinsh := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pinsh"), args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "PINSH_DB="+db, "PINSH_OPERATOR=")
		return cmd
	}
	run := func(args ...string) []byte {
		t.Helper()
		var stderr bytes.Buffer
		cmd := pinsh(args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pinsh %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	run("generate", "12000")
	lockedBefore := identities(t, run("-c", `get_users() | pin_info | where({is_locked_out: true}) | select("identity")`), "identity")
	toLock := identities(t, run("-c", `get_users() | pin_info | where({is_pin_set: true, is_locked_out: false}) | select("identity")`), "identity")
	if len(toLock) < 4000 {
		t.Fatalf("only %d PINs to lock", len(toLock))
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints, DialTimeout: time.Minute, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	auditSeq := func() int {
		r, err := cli.Get(ctx, "nodeloss/seq/audit")
		if err != nil || len(r.Kvs) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(string(r.Kvs[0].Value))
		return n
	}
	start := auditSeq()
	// Kill the leader as the pipeline starts: the bulk lock commits in a
	// few large transactions that take a fraction of a second, so waiting
	// for the first of them would find the others done too. Its reads and
	// commits then meet the election, and then a cluster of two.
	var stdout, stderr bytes.Buffer
	lock := pinsh("-c", `get_users() | pin_info | where(func(p) { return p.is_pin_set }) | lock_pin`)
	lock.Stdout, lock.Stderr = &stdout, &stderr
	if err := lock.Start(); err != nil {
		t.Fatal(err)
	}
	killed := c.Leader()
	if killed < 0 {
		t.Fatal("no leader")
	}
	c.Kill(killed)
	atKill := auditSeq() - start
	err = lock.Wait()
	t.Logf("killed member %d with %d audit entries committed; pinsh: %v\nstdout: %s", killed, atKill, err, stdout.Bytes())

	// What is locked now, against the audit log.
	lockedAfter := identities(t, run("-c", `get_users() | pin_info | where({is_locked_out: true}) | select("identity")`), "identity")
	entries := identities(t, run("-c", `audit_log({action: "lock_pin"}) | where({outcome: "ok"}) | select("target")`), "target")
	seen := map[string]int{}
	for _, e := range entries {
		seen[e]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s has %d lock_pin entries: locked twice", id, n)
		}
	}
	before := map[string]bool{}
	for _, id := range lockedBefore {
		before[id] = true
	}
	newly := 0
	for _, id := range lockedAfter {
		if before[id] {
			continue
		}
		newly++
		if seen[id] != 1 {
			t.Errorf("%s is locked but has %d lock_pin entries", id, seen[id])
		}
		delete(seen, id)
	}
	for id := range seen {
		t.Errorf("%s has a lock_pin entry but is not locked", id)
	}
	// The pipeline completed when it printed its summary; then it locked
	// every PIN that was not locked, and says so.
	var sum struct{ Changed, Skipped, Failed int }
	if json.Unmarshal(stdout.Bytes(), &sum) == nil {
		if newly != len(toLock) || sum.Changed != newly || sum.Failed != 0 || sum.Skipped != len(lockedBefore) {
			t.Errorf("the pipeline completed (%+v) but %d of %d PINs were locked", sum, newly, len(toLock))
		}
	} else if !strings.Contains(stderr.String(), "lock_pin") {
		t.Errorf("the pipeline failed without saying what it was doing: %s", stderr.Bytes())
	}
	t.Logf("%d PINs locked, each with one audit entry", newly)
}

// identities reads the field of JSON Lines output.
func identities(t *testing.T, out []byte, field string) []string {
	t.Helper()
	var ids []string
	for line := range bytes.Lines(out) {
		var m map[string]string
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ids = append(ids, m[field])
	}
	return ids
}
