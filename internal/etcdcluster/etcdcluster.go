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
//
// Start embeds the members in the calling process. StartProcs runs each
// member as a process of its own (the caller's program run again, see
// MemberMain), so that a test can kill one with SIGKILL, as the loss of a
// machine would, and start it again.
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

// members is the number of members the options ask for.
func (o Options) members() (int, error) {
	n := o.Members
	if n == 0 {
		n = 3
	}
	if n < 1 {
		return 0, fmt.Errorf("etcd cluster: %d members: need at least one", n)
	}
	return n, nil
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
	n, err := opts.members()
	if err != nil {
		return nil, err
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
	for _, m := range memberList(dir, lay, existing, opts.NoFsync) {
		e, err := embed.StartEtcd(m.config())
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("etcd cluster: start member %s (its log: %s): %w", m.Name, m.Log, err)
		}
		c.members = append(c.members, e)
		c.killed = append(c.killed, false)
		c.Endpoints = append(c.Endpoints, loopURL(m.Client))
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

// member is what one member needs to start. It is plain data, so that a
// member process (StartProcs) receives it from its parent.
type member struct {
	Name     string `json:"name"`
	Dir      string `json:"dir"` // its data
	Log      string `json:"log"`
	Client   int    `json:"client_port"`
	Peer     int    `json:"peer_port"`
	Initial  string `json:"initial_cluster"` // name=peer URL, for every member
	Existing bool   `json:"existing"`        // restart a member with data in Dir
	NoFsync  bool   `json:"no_fsync"`
}

// memberList describes the members of a cluster in dir on the ports of lay.
func memberList(dir string, lay layout, existing, noFsync bool) []member {
	var initial []string
	for i, p := range lay.Peer {
		initial = append(initial, fmt.Sprintf("%s=%s", memberName(i), loopURL(p)))
	}
	ms := make([]member, len(lay.Client))
	for i := range ms {
		name := memberName(i)
		ms[i] = member{Name: name, Dir: filepath.Join(dir, name), Log: filepath.Join(dir, name+".log"),
			Client: lay.Client[i], Peer: lay.Peer[i], Initial: strings.Join(initial, ","), Existing: existing, NoFsync: noFsync}
	}
	return ms
}

// config is m's embedded etcd configuration.
func (m member) config() *embed.Config {
	cfg := embed.NewConfig()
	cfg.Name = m.Name
	cfg.Dir = m.Dir
	cfg.ListenClientUrls = []url.URL{mustURL(m.Client)}
	cfg.AdvertiseClientUrls = cfg.ListenClientUrls
	cfg.ListenPeerUrls = []url.URL{mustURL(m.Peer)}
	cfg.AdvertisePeerUrls = cfg.ListenPeerUrls
	cfg.InitialCluster = m.Initial
	cfg.InitialClusterToken = "pinsh-etcd-dev"
	cfg.ClusterState = embed.ClusterStateFlagNew
	if m.Existing {
		cfg.ClusterState = embed.ClusterStateFlagExisting
	}
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{m.Log}
	cfg.UnsafeNoFsync = m.NoFsync
	return cfg
}

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
