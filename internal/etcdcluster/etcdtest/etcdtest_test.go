package etcdtest

import (
	"context"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestMain(m *testing.M) { Main(m) }

// TestCluster checks that the cluster Main started has three members, all
// reachable, and that a write through one member is read through another.
func TestCluster(t *testing.T) {
	ctx := context.Background()
	eps := Endpoints()
	if len(eps) != 3 {
		t.Fatalf("endpoints %v, want 3", eps)
	}
	cli := Client(t)
	members, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(members.Members) != 3 {
		t.Fatalf("%d members, want 3", len(members.Members))
	}
	p := Prefix(t)
	for i, ep := range eps {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st, err := c.Status(ctx, ep)
		if err != nil {
			t.Fatalf("member %d at %s: %v", i, ep, err)
		}
		if st.Leader == 0 {
			t.Errorf("member %d at %s knows no leader", i, ep)
		}
	}
	if _, err := cli.Put(ctx, p+"/k", "v"); err != nil {
		t.Fatal(err)
	}
	other, err := clientv3.New(clientv3.Config{Endpoints: eps[2:]})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	r, err := other.Get(ctx, p+"/k")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
		t.Fatalf("read back %v through %s, want v", r.Kvs, eps[2])
	}
}

func TestPrefix(t *testing.T) {
	a, b := Prefix(t), Prefix(t)
	if a == b {
		t.Fatalf("two prefixes of one test are both %q", a)
	}
	if !strings.Contains(a, "TestPrefix") {
		t.Errorf("prefix %q does not name the test", a)
	}
	t.Run("a/b c", func(t *testing.T) {
		if p := Prefix(t); strings.ContainsAny(p, "/ ") {
			t.Errorf("prefix %q holds '/' or ' '", p)
		}
	})
}
