package etcdstore

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The environment variables ClientConfig reads, each first under its
// PINSH_ETCD_ name and then under etcdctl's ETCDCTL_ name, so that a host
// already set up for etcdctl needs nothing more.
var envNames = []struct{ pinsh, etcdctl string }{
	{"PINSH_ETCD_CACERT", "ETCDCTL_CACERT"},     // CA bundle that signed the members' certificates
	{"PINSH_ETCD_CERT", "ETCDCTL_CERT"},         // client certificate (etcd's client-cert auth)
	{"PINSH_ETCD_KEY", "ETCDCTL_KEY"},           // its private key
	{"PINSH_ETCD_USER", "ETCDCTL_USER"},         // USER or USER:PASSWORD (etcd's password auth)
	{"PINSH_ETCD_PASSWORD", "ETCDCTL_PASSWORD"}, // the password, when USER has none
}

// dialTimeout bounds the connection to the cluster.
const dialTimeout = 10 * time.Second

// ClientConfig returns the client configuration for endpoints (HOST:PORT,
// see ParseURL), with TLS and credentials from the environment, read with
// getenv (os.Getenv when nil): PINSH_ETCD_CACERT, PINSH_ETCD_CERT,
// PINSH_ETCD_KEY, PINSH_ETCD_USER and PINSH_ETCD_PASSWORD, each falling back
// to etcdctl's name for it (ETCDCTL_CACERT, ...). With a CA, a certificate
// or a key the endpoints are dialled over TLS (https), else in plain text.
// A certificate without its key (or the reverse) is an error, as is a file
// that cannot be read.
func ClientConfig(endpoints []string, getenv func(string) string) (clientv3.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	val := make(map[string]string)
	from := make(map[string]string)
	for _, n := range envNames {
		for _, name := range []string{n.pinsh, n.etcdctl} {
			if v := getenv(name); v != "" {
				val[n.pinsh], from[n.pinsh] = v, name
				break
			}
		}
	}
	// The client's own log (retries, reconnects) would reach the admin's
	// terminal; errors reach the caller instead.
	cfg := clientv3.Config{DialTimeout: dialTimeout, Logger: zap.NewNop()}
	ca, cert, key := val["PINSH_ETCD_CACERT"], val["PINSH_ETCD_CERT"], val["PINSH_ETCD_KEY"]
	if (cert == "") != (key == "") {
		have, miss := from["PINSH_ETCD_CERT"], "PINSH_ETCD_KEY (or ETCDCTL_KEY)"
		if cert == "" {
			have, miss = from["PINSH_ETCD_KEY"], "PINSH_ETCD_CERT (or ETCDCTL_CERT)"
		}
		return cfg, fmt.Errorf("etcd client: %s is set but not %s: a client certificate needs both", have, miss)
	}
	scheme := "http://"
	if ca != "" || cert != "" {
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return cfg, fmt.Errorf("etcd client: %s: %w", from["PINSH_ETCD_CACERT"], err)
			}
			tlsCfg.RootCAs = x509.NewCertPool()
			if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
				return cfg, fmt.Errorf("etcd client: %s: %s holds no PEM certificate", from["PINSH_ETCD_CACERT"], ca)
			}
		}
		if cert != "" {
			pair, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return cfg, fmt.Errorf("etcd client: %s and %s: %w", from["PINSH_ETCD_CERT"], from["PINSH_ETCD_KEY"], err)
			}
			tlsCfg.Certificates = []tls.Certificate{pair}
		}
		cfg.TLS = tlsCfg
		scheme = "https://"
	}
	for _, ep := range endpoints {
		cfg.Endpoints = append(cfg.Endpoints, scheme+ep)
	}
	if u := val["PINSH_ETCD_USER"]; u != "" {
		user, pass, ok := strings.Cut(u, ":")
		if !ok {
			pass = val["PINSH_ETCD_PASSWORD"]
		}
		if user == "" {
			return cfg, fmt.Errorf("etcd client: %s names no user: want USER or USER:PASSWORD", from["PINSH_ETCD_USER"])
		}
		cfg.Username, cfg.Password = user, pass
	}
	return cfg, nil
}
