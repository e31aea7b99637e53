package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// startDev runs the command with args until it prints "ready", and returns
// its endpoints and a function that stops it with SIGTERM and returns its
// exit status.
func startDev(t *testing.T, args ...string) (endpoints []string, url string, stop func() int) {
	t.Helper()
	r, w := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		code := run(args, w, &stderr)
		w.Close()
		done <- code
	}()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "endpoints: "); ok {
			endpoints = strings.Split(v, ",")
		}
		if v, ok := strings.CutPrefix(line, "url:"); ok {
			url = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "ready") {
			go io.Copy(io.Discard, r)
			return endpoints, url, func() int {
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				return <-done
			}
		}
	}
	t.Fatalf("pinsh-etcd-dev exited with %d before it was ready: %s", <-done, stderr.String())
	return nil, "", nil
}

func client(t *testing.T, endpoints []string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestRestartKeepsData starts a cluster in a directory, writes a key, stops
// the cluster with SIGTERM, starts it again on the same directory and reads
// the key back.
func TestRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eps, url, stop := startDev(t, "--dir", dir, "--name", "trial")
	if len(eps) != 3 {
		t.Fatalf("endpoints %v, want 3", eps)
	}
	want := "etcd://" + strings.Join([]string{
		strings.TrimPrefix(eps[0], "http://"),
		strings.TrimPrefix(eps[1], "http://"),
		strings.TrimPrefix(eps[2], "http://"),
	}, ",") + "/trial"
	if url != want {
		t.Errorf("url %q, want %q", url, want)
	}
	if _, err := client(t, eps).Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}

	eps2, _, stop := startDev(t, "--dir", dir)
	if strings.Join(eps2, ",") != strings.Join(eps, ",") {
		t.Errorf("restart on %v, want the same endpoints %v", eps2, eps)
	}
	r, err := client(t, eps2).Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != "v" {
		t.Errorf("after restart, k is %v, want v", r.Kvs)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
}

func TestBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--members", "0"}, "--members 0: need at least 1"},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
	} {
		var stderr strings.Builder
		if code := run(tc.args, io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit status %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, stderr.String(), tc.want)
		}
	}
}

// TestDirWithForeignData refuses a directory holding member data it did
// not start (no layout file): etcd would find members on other ports.
func TestDirWithForeignData(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/m1", 0o700); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := run([]string{"--dir", dir}, io.Discard, &stderr); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "holds member data but no pinsh-etcd-dev.json") {
		t.Errorf("stderr %q", stderr.String())
	}
}
