package etcdstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pinsh test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	certFile, keyFile := writeCert(t, dir)
	eps := []string{"h1:2379", "h2:2379"}
	for _, tc := range []struct {
		name      string
		env       map[string]string
		endpoints []string
		user      string
		pass      string
		tls       bool
		err       string
	}{
		{name: "plain", endpoints: []string{"http://h1:2379", "http://h2:2379"}},
		{name: "user:pass", env: map[string]string{"PINSH_ETCD_USER": "pinsh:s3cret"},
			endpoints: []string{"http://h1:2379", "http://h2:2379"}, user: "pinsh", pass: "s3cret"},
		{name: "etcdctl names", env: map[string]string{"ETCDCTL_USER": "root", "ETCDCTL_PASSWORD": "pw"},
			endpoints: []string{"http://h1:2379", "http://h2:2379"}, user: "root", pass: "pw"},
		{name: "pinsh name wins", env: map[string]string{"PINSH_ETCD_USER": "a:1", "ETCDCTL_USER": "b:2"},
			endpoints: []string{"http://h1:2379", "http://h2:2379"}, user: "a", pass: "1"},
		{name: "empty user", env: map[string]string{"ETCDCTL_USER": ":pw"}, err: "ETCDCTL_USER names no user"},
		{name: "cert without key", env: map[string]string{"PINSH_ETCD_CERT": garbage},
			err: "PINSH_ETCD_CERT is set but not PINSH_ETCD_KEY"},
		{name: "key without cert", env: map[string]string{"ETCDCTL_KEY": garbage},
			err: "ETCDCTL_KEY is set but not PINSH_ETCD_CERT"},
		{name: "missing CA", env: map[string]string{"ETCDCTL_CACERT": missing}, err: "ETCDCTL_CACERT: open " + missing},
		{name: "bad CA", env: map[string]string{"PINSH_ETCD_CACERT": garbage}, err: "PINSH_ETCD_CACERT: " + garbage + " holds no PEM certificate"},
		{name: "bad pair", env: map[string]string{"PINSH_ETCD_CERT": garbage, "ETCDCTL_KEY": garbage},
			err: "PINSH_ETCD_CERT and ETCDCTL_KEY: tls: failed to find any PEM data"},
		{name: "TLS", env: map[string]string{"ETCDCTL_CACERT": certFile, "PINSH_ETCD_CERT": certFile, "PINSH_ETCD_KEY": keyFile},
			endpoints: []string{"https://h1:2379", "https://h2:2379"}, tls: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ClientConfig(eps, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.tls && (cfg.TLS == nil || cfg.TLS.RootCAs == nil || len(cfg.TLS.Certificates) != 1) {
				t.Errorf("TLS config %+v, want a CA pool and one client certificate", cfg.TLS)
			}
			if !slices.Equal(cfg.Endpoints, tc.endpoints) || cfg.Username != tc.user || cfg.Password != tc.pass {
				t.Errorf("got %v %q %q, want %v %q %q", cfg.Endpoints, cfg.Username, cfg.Password, tc.endpoints, tc.user, tc.pass)
			}
		})
	}
}
