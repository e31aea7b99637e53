package etcdstore

import (
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in        string
		endpoints []string
		name      string
		err       string
	}{
		{in: "etcd://h1:2379,h2:2379,h3:2379/pinsh", endpoints: []string{"h1:2379", "h2:2379", "h3:2379"}, name: "pinsh"},
		{in: "etcd://127.0.0.1:40001/t1-Test_x.y", endpoints: []string{"127.0.0.1:40001"}, name: "t1-Test_x.y"},
		{in: "etcd://[::1]:2379/a", endpoints: []string{"[::1]:2379"}, name: "a"},
		{in: "/var/lib/pinsh.db", err: "want etcd://HOST:PORT"},
		{in: "etcd://h1:2379", err: "no directory name: add /NAME"},
		{in: "etcd://h1:2379/", err: "no directory name"},
		{in: "etcd://h1:2379/a/b", err: `directory name "a/b" may hold only`},
		{in: "etcd://h1:2379/..", err: `directory name ".." is reserved`},
		{in: "etcd:///pinsh", err: "no hosts"},
		{in: "etcd://h1/pinsh", err: `host "h1": want HOST:PORT`},
		{in: "etcd://h1:2379,,h2:2379/pinsh", err: `host "": want HOST:PORT`},
		{in: "etcd://:2379/pinsh", err: `host ":2379"`},
	} {
		eps, name, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %v, %q, %v; want error %q", tc.in, eps, name, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(eps, tc.endpoints) || name != tc.name {
			t.Errorf("ParseURL(%q) = %v, %q, %v; want %v, %q", tc.in, eps, name, err, tc.endpoints, tc.name)
		}
	}
	if !IsURL("etcd://h:1/a") || IsURL("etcd.db") {
		t.Error("IsURL tells a URL from a path wrongly")
	}
}
