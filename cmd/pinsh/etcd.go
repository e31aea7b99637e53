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
// when it starts: an unreachable cluster is an error after it, naming the
// endpoints, rather than a hang.
const etcdReachTimeout = 5 * time.Second

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
	operator, advisory, err := etcdstore.Operator(ctx, cli, cfg, boltstore.Operator)
	if err != nil {
		cli.Close()
		if ctx.Err() != nil || isUnavailable(err) {
			return nil, unreachable(endpoints, err)
		}
		return nil, err
	}
	return &etcdDB{cli: cli, endpoints: endpoints, name: name, operator: operator, advisory: advisory, own: true}, nil
}

// unreachable says that no member of the cluster answered.
func unreachable(endpoints []string, err error) error {
	return fmt.Errorf("no member of the etcd cluster at %s answered within %v (%v): check that the members run and that this host can reach them (a firewall, the ports, TLS settings in PINSH_ETCD_CACERT/CERT/KEY)",
		strings.Join(endpoints, ", "), etcdReachTimeout, err)
}

// isUnavailable reports whether err says the cluster could not be reached,
// as opposed to refusing the request.
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rpctypes.ErrTimeout) {
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
