//go:build etcd

package main

// This file compiles the etcd backend into pinsh (go build -tags etcd):
// see remoteBackends for why it is not there by default.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pinsh/pinsh/store"
	"github.com/pinsh/pinsh/store/boltstore"
	"github.com/pinsh/pinsh/store/etcdstore"
)

func init() { remoteBackends["etcd"].connect = connectEtcd }

// etcdReachTimeout bounds how long pinsh waits for the cluster to answer
// when it starts: an unreachable cluster, or one without a leader for that
// long, is an error after it, naming the endpoints, rather than a hang.
// Within it, pinsh asks again: a member lost makes the others elect a new
// leader, which took 1-3 s on a loaded machine.
const etcdReachTimeout = 10 * time.Second

// etcdAskTimeout bounds one question to the cluster at start-up, so that a
// member that does not answer leaves time to ask another.
const etcdAskTimeout = 2 * time.Second

// etcdDB is a connection to one directory of an etcd cluster.
type etcdDB struct {
	cli       *clientv3.Client
	endpoints []string
	name      string
	operator  string
	advisory  bool
	own       bool // Close closes cli (a scratch directory shares it)
}

func connectEtcd(ctx context.Context, url string, getenv func(string) string) (remoteDB, error) {
	endpoints, name, err := etcdstore.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	cfg, err := etcdstore.ClientConfig(endpoints, getenv)
	if err != nil {
		return nil, err
	}
	cfg.DialTimeout = etcdReachTimeout
	ctx, cancel := context.WithTimeout(ctx, etcdReachTimeout)
	defer cancel()
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, unreachable(endpoints, err)
	}
	var operator string
	var advisory bool
	for {
		actx, cancel := context.WithTimeout(ctx, etcdAskTimeout)
		operator, advisory, err = etcdstore.Operator(actx, cli, cfg, boltstore.Operator)
		cancel()
		if err == nil || !isUnavailable(err) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		cli.Close()
		if isUnavailable(err) {
			return nil, unreachable(endpoints, err)
		}
		return nil, err
	}
	return &etcdDB{cli: cli, endpoints: endpoints, name: name, operator: operator, advisory: advisory, own: true}, nil
}

// unreachable says that the cluster did not answer, or had no leader.
func unreachable(endpoints []string, err error) error {
	if errors.Is(err, rpctypes.ErrNoLeader) {
		return fmt.Errorf("the etcd cluster at %s had no leader for %v (%v): a majority of its members is down or cannot reach the others; check the members",
			strings.Join(endpoints, ", "), etcdReachTimeout, err)
	}
	return fmt.Errorf("no member of the etcd cluster at %s answered within %v (%v): check that the members run and that this host can reach them (a firewall, the ports, TLS settings in PINSH_ETCD_CACERT/CERT/KEY)",
		strings.Join(endpoints, ", "), etcdReachTimeout, err)
}

// isUnavailable reports whether err says the cluster could not be reached
// or has no leader, as opposed to refusing the request.
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrTimeout) || errors.Is(err, rpctypes.ErrNoLeader) ||
		errors.Is(err, rpctypes.ErrLeaderChanged) || errors.Is(err, rpctypes.ErrTimeoutDueToLeaderFail) {
		return true
	}
	s, ok := status.FromError(errors.Unwrap(err))
	if !ok {
		s, ok = status.FromError(err)
	}
	return ok && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded)
}

func (d *etcdDB) Account() (string, string) {
	if d.advisory {
		return d.operator, etcdstore.AdvisoryWarning
	}
	return d.operator, ""
}

func (d *etcdDB) URL() string {
	return etcdstore.Scheme + strings.Join(d.endpoints, ",") + "/" + d.name
}

func (d *etcdDB) Open(ctx context.Context, opts boltstore.Options) (store.Store, bool, error) {
	// Whether the directory is new only decides a message: another host
	// creating it meanwhile makes both say so, which is harmless.
	meta, err := d.cli.Get(ctx, d.name+"/meta", clientv3.WithCountOnly())
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", d.URL(), err)
	}
	if meta.Count == 0 && opts.Creator == "" {
		return nil, false, fmt.Errorf("%s: %w: there is no pinsh directory %s on this cluster", d.URL(), store.ErrNotFound, d.name)
	}
	st, err := etcdstore.Open(ctx, d.cli, d.name, etcdstore.Options{KeyFile: opts.KeyFile, Creator: opts.Creator, Now: opts.Now})
	if err != nil {
		return nil, false, err
	}
	return st, meta.Count == 0, nil
}

func (d *etcdDB) Scratch(ctx context.Context) (remoteDB, func() error, error) {
	tag := make([]byte, 6)
	rand.Read(tag)
	sub := *d
	sub.name = fmt.Sprintf("%s-test-%x", d.name, tag)
	sub.own = false
	remove := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), etcdReachTimeout)
		defer cancel()
		_, err := d.cli.Delete(ctx, sub.name+"/", clientv3.WithPrefix())
		return err
	}
	return &sub, remove, nil
}

func (d *etcdDB) Close() error {
	if !d.own {
		return nil
	}
	return d.cli.Close()
}
