package etcdcluster

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestMain lets StartProcs run this test binary as a member.
func TestMain(m *testing.M) {
	MemberMain()
	os.Exit(m.Run())
}

// startProcs starts a cluster of n member processes for one test.
func startProcs(t *testing.T, ctx context.Context, n int) *Procs {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartProcs(ctx, t.TempDir(), Options{Members: n, NoFsync: true}, exe, "-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func testClient(t *testing.T, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: time.Minute, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestProcs kills the leader of three member processes with SIGKILL: the
// two left elect another and take writes; the killed member, started
// again, rejoins and has them.
func TestProcs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startProcs(t, ctx, 3)
	cli := testClient(t, p.Endpoints...)
	if _, err := cli.Put(ctx, "k", "before"); err != nil {
		t.Fatal(err)
	}
	leader, err := p.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(leader); err != nil {
		t.Fatal(err)
	}
	if p.Running(leader) {
		t.Errorf("member %d runs after Kill", leader)
	}
	if err := p.Kill(leader); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Kill of a killed member: %v, want not running", err)
	}
	// A write during the election may fail; the condition waited on is a
	// write that succeeds.
	for {
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := cli.Put(wctx, "k", "after")
		wcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no write after the leader's loss: %v", err)
		}
	}
	next, err := p.Leader(ctx)
	if err != nil || next == leader {
		t.Fatalf("leader after the kill: %d, %v (killed %d)", next, err, leader)
	}
	if err := p.Restart(ctx, leader); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(ctx, leader); err == nil || !strings.Contains(err.Error(), "is running") {
		t.Errorf("Restart of a running member: %v, want is running", err)
	}
	r, err := testClient(t, p.Endpoints[leader]).Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "after" {
		t.Errorf("the restarted member reads %v, want after", r.Kvs)
	}
}

// TestProcsPortTaken hands StartProcs a port another process holds: it
// tries again on new ports.
func TestProcsPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	tries := 0
	pickLayout = func(n int) (layout, error) {
		tries++
		lay, err := freeLayout(n)
		if tries == 1 {
			lay.Client[0] = taken
		}
		return lay, err
	}
	defer func() { pickLayout = freeLayout }()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := startProcs(t, ctx, 1)
	if tries != 2 || p.Endpoints[0] == loopURL(taken) {
		t.Errorf("%d tries, endpoints %v (port %d taken)", tries, p.Endpoints, taken)
	}
}

func TestStartProcsErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		members int
		command []string
		want    string
	}{
		{"no members", -1, []string{goBin}, "need at least one"},
		{"no command", 1, nil, "no command"},
		{"not a member", 1, []string{goBin, "version"}, "exited before it was ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := StartProcs(ctx, t.TempDir(), Options{Members: tc.members}, tc.command...)
			if err == nil {
				p.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}

func TestServeMemberBadSpec(t *testing.T) {
	var stderr strings.Builder
	if code := serveMember("{", strings.NewReader(""), &strings.Builder{}, &stderr); code != 2 || !strings.Contains(stderr.String(), memberEnv) {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
}
