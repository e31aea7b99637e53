// Package etcdcluster starts a local etcd cluster of embedded members
// (go.etcd.io/etcd/server/v3/embed) on loopback, for trials, tests and CI.
// It is used by cmd/pinsh-etcd-dev and by the tests of the etcd backend
// (through etcdtest); the pinsh binary never imports it, so it does not carry
// the etcd server.
//
// The members listen on free loopback ports chosen when the cluster starts
// and keep their data in one directory, a subdirectory per member. A
// directory that already holds a cluster started by this package is
// restarted on the same ports (they are recorded in the directory), so its
// data survives a restart.
package etcdcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.etcd.io/etcd/server/v3/embed"
)

// Options configure a cluster. The zero value starts three members with
// fsync on.
type Options struct {
	// Members is the number of members; 0 means 3.
	Members int
	// NoFsync turns off fsync in the members: for tests, whose data is
	// thrown away, on a loaded machine. Never for data that should survive
	// a crash.
	NoFsync bool
}

// Cluster is a running local cluster.
type Cluster struct {
	// Endpoints are the members' client URLs ("http://127.0.0.1:PORT"), in
	// member order.
	Endpoints []string
	dir       string
	members   []*embed.Etcd
	killed    []bool // by Kill, already closed
	closeOnce sync.Once
}

// layout is what a cluster directory records about its members, so that a
// restart uses the same ports (etcd's membership remembers the peer URLs).
type layout struct {
	Client []int `json:"client_ports"`
	Peer   []int `json:"peer_ports"`
}

const layoutFile = "pinsh-etcd-dev.json"

// Start starts a cluster whose data lives in dir (created if missing) and
// returns once every member is ready: it has joined the cluster and the
// cluster has a leader. ctx bounds the start; on failure, the members that
// started are stopped again.
func Start(ctx context.Context, dir string, opts Options) (*Cluster, error) {
	n := opts.Members
	if n == 0 {
		n = 3
	}
	if n < 1 {
		return nil, fmt.Errorf("etcd cluster: %d members: need at least one", n)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd cluster: %w", err)
	}
	lay, existing, err := readLayout(dir, n)
	if err != nil {
		return nil, err
	}
	if !existing {
		if lay, err = freeLayout(n); err != nil {
			return nil, err
		}
		if err := writeLayout(dir, lay); err != nil {
			return nil, err
		}
	}
	c := &Cluster{dir: dir}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("%s=%s", memberName(i), loopURL(lay.Peer[i])))
	}
	for i := range n {
		cfg := embed.NewConfig()
		cfg.Name = memberName(i)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenClientUrls = []url.URL{mustURL(lay.Client[i])}
		cfg.AdvertiseClientUrls = cfg.ListenClientUrls
		cfg.ListenPeerUrls = []url.URL{mustURL(lay.Peer[i])}
		cfg.AdvertisePeerUrls = cfg.ListenPeerUrls
		cfg.InitialCluster = strings.Join(initial, ",")
		cfg.InitialClusterToken = "pinsh-etcd-dev"
		cfg.ClusterState = embed.ClusterStateFlagNew
		if existing {
			cfg.ClusterState = embed.ClusterStateFlagExisting
		}
		cfg.LogLevel = "warn"
		cfg.LogOutputs = []string{filepath.Join(dir, cfg.Name+".log")}
		cfg.UnsafeNoFsync = opts.NoFsync
		e, err := embed.StartEtcd(cfg)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("etcd cluster: start member %s (its log: %s): %w", cfg.Name, cfg.LogOutputs[0], err)
		}
		c.members = append(c.members, e)
		c.killed = append(c.killed, false)
		c.Endpoints = append(c.Endpoints, cfg.ListenClientUrls[0].String())
	}
	for i, e := range c.members {
		select {
		case <-e.Server.ReadyNotify():
		case err := <-e.Err():
			c.Close()
			return nil, fmt.Errorf("etcd cluster: member %s failed: %w", memberName(i), err)
		case <-ctx.Done():
			c.Close()
			return nil, fmt.Errorf("etcd cluster: waiting for member %s to be ready (its log: %s): %w",
				memberName(i), filepath.Join(dir, memberName(i)+".log"), ctx.Err())
		}
	}
	return c, nil
}

// Dir is the directory holding the members' data and logs.
func (c *Cluster) Dir() string { return c.dir }

// Err returns a channel that receives the first fatal error of any member.
func (c *Cluster) Err() <-chan error {
	ch := make(chan error, len(c.members))
	for i, e := range c.members {
		go func() {
			if err, ok := <-e.Err(); ok && err != nil {
				ch <- fmt.Errorf("etcd member %s: %w", memberName(i), err)
			}
		}()
	}
	return ch
}

// Close stops every member (in parallel: each takes a few seconds) and
// waits until they have stopped. The data stays in Dir.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for i, e := range c.members {
			if !c.killed[i] {
				wg.Go(e.Close)
			}
		}
		wg.Wait()
	})
}

func memberName(i int) string { return fmt.Sprintf("m%d", i+1) }

func loopURL(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }

func mustURL(port int) url.URL {
	u, err := url.Parse(loopURL(port))
	if err != nil {
		panic(err) // a loopback URL with a numeric port always parses
	}
	return *u
}

// readLayout reads the ports of a cluster started earlier in dir. A
// directory without a layout file must hold no member data: etcd would
// otherwise find members that do not match the new ports.
func readLayout(dir string, n int) (layout, bool, error) {
	var lay layout
	b, err := os.ReadFile(filepath.Join(dir, layoutFile))
	if errors.Is(err, os.ErrNotExist) {
		for i := range n {
			if _, err := os.Stat(filepath.Join(dir, memberName(i))); err == nil {
				return lay, false, fmt.Errorf("etcd cluster: %s holds member data but no %s: remove the directory or choose another", dir, layoutFile)
			}
		}
		return lay, false, nil
	}
	if err != nil {
		return lay, false, fmt.Errorf("etcd cluster: %w", err)
	}
	if err := json.Unmarshal(b, &lay); err != nil {
		return lay, false, fmt.Errorf("etcd cluster: %s: %w", filepath.Join(dir, layoutFile), err)
	}
	if len(lay.Client) != n || len(lay.Peer) != n {
		return lay, false, fmt.Errorf("etcd cluster: %s was started with %d members, not %d", dir, len(lay.Client), n)
	}
	return lay, true, nil
}

func writeLayout(dir string, lay layout) error {
	b, err := json.MarshalIndent(lay, "", "  ")
	if err != nil {
		return fmt.Errorf("etcd cluster: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, layoutFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("etcd cluster: %w", err)
	}
	return nil
}

// freeLayout picks 2n distinct free loopback ports: it holds a listener on
// each until all are chosen, so none is picked twice. Another process may
// still take a port before the member binds it; Start then fails with
// "address already in use" and the caller may retry.
func freeLayout(n int) (layout, error) {
	var lay layout
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range 2 * n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return lay, fmt.Errorf("etcd cluster: find a free port: %w", err)
		}
		ls = append(ls, l)
	}
	for i, l := range ls {
		port := l.Addr().(*net.TCPAddr).Port
		if i < n {
			lay.Client = append(lay.Client, port)
		} else {
			lay.Peer = append(lay.Peer, port)
		}
	}
	return lay, nil
}

// Kill stops member i the closest an embedded member comes to SIGKILL:
// raft stops at once, without handing over leadership or finishing
// requests, and then its listeners close. The member stays down; Close
// still stops the others. Kill is not safe to call concurrently with Close
// or another Kill.
func (c *Cluster) Kill(i int) {
	if c.killed[i] {
		return
	}
	c.killed[i] = true
	e := c.members[i]
	e.Server.HardStop()
	e.Close()
}

// Leader returns the index of the member that currently leads, or -1 when
// no member knows a leader.
func (c *Cluster) Leader() int {
	for i, e := range c.members {
		if c.killed[i] {
			continue
		}
		if e.Server.Leader() == e.Server.MemberID() {
			return i
		}
	}
	return -1
}
