package etcdstore

import (
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// TestOperator asks for the operator on a cluster of its own (turning on
// authentication changes the whole cluster): the OS account with the
// advisory flag while authentication is off, then the etcd user.
func TestOperator(t *testing.T) {
	c := ownCluster(t, 1)
	connect := func(user, pass string) (*clientv3.Client, clientv3.Config) {
		cfg := clientv3.Config{Endpoints: c.Endpoints, DialTimeout: dialTimeout, Username: user, Password: pass, Logger: zap.NewNop()}
		cli, err := clientv3.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		return cli, cfg
	}
	osAccount := func() string { return "osuser" }
	cli, cfg := connect("", "")
	if op, advisory, err := Operator(ctx, cli, cfg, osAccount); op != "osuser" || !advisory || err != nil {
		t.Fatalf("auth off: %q, %v, %v; want osuser, advisory", op, advisory, err)
	}
	for _, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "alice", "alicepw"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	alice, cfg := connect("alice", "alicepw")
	if op, advisory, err := Operator(ctx, alice, cfg, osAccount); op != "alice" || advisory || err != nil {
		t.Fatalf("auth on, as alice: %q, %v, %v", op, advisory, err)
	}
	anon, cfg := connect("", "")
	if _, _, err := Operator(ctx, anon, cfg, osAccount); err == nil || !strings.Contains(err.Error(), "names no etcd user: set PINSH_ETCD_USER") {
		t.Fatalf("auth on, no user: %v", err)
	}
	// The common name of the client certificate cfg presents (this
	// cluster has no TLS: only the reading of the name is tested here).
	certFile, keyFile := writeCert(t, t.TempDir())
	tlsCfg, err := ClientConfig(nil, func(k string) string {
		return map[string]string{"PINSH_ETCD_CERT": certFile, "PINSH_ETCD_KEY": keyFile}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = tlsCfg.TLS
	if op, advisory, err := Operator(ctx, anon, cfg, osAccount); op != "pinsh test" || advisory || err != nil {
		t.Fatalf("auth on, client certificate: %q, %v, %v", op, advisory, err)
	}
	cfg.TLS = nil
	cfg.Username, cfg.Password = "alice", "wrong"
	if _, _, err := Operator(ctx, anon, cfg, osAccount); err == nil || !strings.Contains(err.Error(), "authenticate as alice") {
		t.Fatalf("auth on, wrong password: %v", err)
	}
}
