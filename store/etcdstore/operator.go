package etcdstore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// AdvisoryWarning is what pinsh tells an admin whose cluster runs without
// authentication (see Operator).
const AdvisoryWarning = "etcd authentication is off on this cluster: anyone who can reach it can write pinsh's keys, so pinsh's roles are advisory; turn on etcd authentication and give each admin an etcd user (see the README)"

// Operator returns who acts on a directory of the cluster cli, configured
// by cfg (see ClientConfig):
//
//   - with etcd authentication on, the etcd user pinsh authenticates as:
//     cfg.Username once the cluster accepts its password, or the common
//     name of the client certificate (etcd's certificate authentication);
//     no user at all is an error saying what to set;
//   - with authentication off, osAccount() (the OS account running pinsh),
//     and advisory true: the cluster cannot tell who writes, so roles only
//     guard against mistakes (say AdvisoryWarning).
func Operator(ctx context.Context, cli *clientv3.Client, cfg clientv3.Config, osAccount func() string) (operator string, advisory bool, err error) {
	st, err := cli.AuthStatus(ctx)
	if err != nil {
		return "", false, fmt.Errorf("etcd: ask the cluster whether authentication is on: %w", err)
	}
	if !st.Enabled {
		return osAccount(), true, nil
	}
	if cfg.Username != "" {
		if _, err := cli.Authenticate(ctx, cfg.Username, cfg.Password); err != nil {
			return "", false, fmt.Errorf("etcd: authenticate as %s: %w; check PINSH_ETCD_USER and PINSH_ETCD_PASSWORD (or ETCDCTL_USER, ETCDCTL_PASSWORD)", cfg.Username, err)
		}
		return cfg.Username, false, nil
	}
	if cfg.TLS != nil && len(cfg.TLS.Certificates) == 1 && len(cfg.TLS.Certificates[0].Certificate) > 0 {
		cert, err := x509.ParseCertificate(cfg.TLS.Certificates[0].Certificate[0])
		if err != nil {
			return "", false, fmt.Errorf("etcd: read the client certificate: %w", err)
		}
		if cert.Subject.CommonName != "" {
			return cert.Subject.CommonName, false, nil
		}
	}
	return "", false, errors.New("etcd authentication is on, but pinsh names no etcd user: set PINSH_ETCD_USER (or ETCDCTL_USER) and the password, or a client certificate whose common name is the user (PINSH_ETCD_CERT, PINSH_ETCD_KEY)")
}
