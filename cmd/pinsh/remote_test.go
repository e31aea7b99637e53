package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEtcdOnlyWithTag checks what each build of pinsh links: the default
// build no etcd client (its package initialisation alone costs every run
// about 12 ms), the build with -tags etcd the client but never the server.
func TestEtcdOnlyWithTag(t *testing.T) {
	for _, tc := range []struct {
		tags       []string
		wantClient bool
	}{
		{nil, false},
		{[]string{"-tags", "etcd"}, true},
	} {
		args := append(append([]string{"list", "-deps"}, tc.tags...), "github.com/pinsh/pinsh/cmd/pinsh")
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		client := false
		for dep := range strings.Lines(string(out)) {
			dep = strings.TrimSpace(dep)
			switch {
			case dep == "go.etcd.io/etcd/client/v3":
				client = true
			case strings.HasPrefix(dep, "go.etcd.io/etcd/server/"), strings.HasPrefix(dep, "github.com/pinsh/pinsh/internal/etcdcluster"):
				t.Errorf("go %s lists %s: pinsh must never carry the etcd server", strings.Join(args, " "), dep)
			}
		}
		if client != tc.wantClient {
			t.Errorf("go %s: links the etcd client = %v, want %v", strings.Join(args, " "), client, tc.wantClient)
		}
	}
}

func TestRemoteScheme(t *testing.T) {
	for _, tc := range []struct{ db, want string }{
		{"etcd://h:1/x", "etcd"},
		{"ETCD://h:1/x", "ETCD"},
		{"data/pinsh.db", ""},
		{"/srv/pinsh.db", ""},
		{"./a://b", ""},
		{"://x", ""},
		{"c:\\x", ""},
		{"zk://h/x", "zk"},
	} {
		if got := remoteScheme(tc.db); got != tc.want {
			t.Errorf("remoteScheme(%q) = %q, want %q", tc.db, got, tc.want)
		}
	}
}
